//! Validated domain types of the metering module: energy types (the unified social credit code is
//! the platform register's, re-exported here),
//! meter-tree levels and local-time buckets (China Standard Time, UTC+8, no DST).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};

/// Seconds east of UTC of the city's local time (北京时间; see [`qcity_platform::time`]).
pub const LOCAL_OFFSET: i64 = qcity_platform::time::OFFSET_SECS as i64;

/// 统一社会信用代码: the platform's register owns the GB 32100 check; metering uses it.
pub use qcity_platform::enterprise::uscc::{Uscc, check_char};

/// Energy types a meter may measure, with their GB/T 2589 factor id and default unit.
pub const ENERGY_TYPES: &[(&str, &str, &str)] = &[
    ("electricity", "electricity_equivalent", "kWh"),
    ("steam", "steam_low_pressure", "kg"),
    ("raw_coal", "raw_coal", "kg"),
    ("natural_gas", "natural_gas", "m3"),
    ("water", "fresh_water", "t"),
    ("compressed_air", "compressed_air", "m3"),
    ("heat", "heat", "MJ"),
    ("diesel", "diesel", "kg"),
];

/// GB/T 2589 factor id of an energy type.
pub fn coal_factor_id(energy_type: &str) -> Option<&'static str> {
    ENERGY_TYPES
        .iter()
        .find(|e| e.0 == energy_type)
        .map(|e| e.1)
}

/// GB 17167-2006 required fitting rates (unit / main sub-unit / main equipment), percent.
pub fn gb17167_required(energy_type: &str) -> (f64, f64, f64) {
    match energy_type {
        "electricity" => (100.0, 100.0, 95.0),
        "raw_coal" | "natural_gas" | "heat" => (100.0, 100.0, 90.0),
        "diesel" => (100.0, 100.0, 95.0),
        "steam" => (100.0, 80.0, 70.0),
        "water" => (100.0, 95.0, 80.0),
        _ => (100.0, 90.0, 80.0),
    }
}

/// Levels of the meter tree, top down.
pub const LEVELS: &[&str] = &["site", "building", "line", "device"];

/// GB 17167 tier of a level: 0 unit (site), 1 sub-unit (building, line), 2 equipment (device).
pub fn tier(level: &str) -> usize {
    match level {
        "site" => 0,
        "building" | "line" => 1,
        _ => 2,
    }
}

pub fn local_offset() -> FixedOffset {
    qcity_platform::time::fixed_offset()
}

/// Start of the local hour containing `ts`.
pub fn hour_bucket(ts: i64) -> i64 {
    ts - ts.rem_euclid(3600)
}

/// Start (epoch s) of the local day containing `ts`.
pub fn day_bucket(ts: i64) -> i64 {
    (ts + LOCAL_OFFSET).div_euclid(86400) * 86400 - LOCAL_OFFSET
}

/// Start (epoch s) of the local month containing `ts`, and of the next month.
pub fn month_bounds(ts: i64) -> (i64, i64) {
    let d = local_date(ts);
    let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).expect("date");
    let next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    }
    .expect("date");
    (date_start(first), date_start(next))
}

/// Local date of `ts`.
pub fn local_date(ts: i64) -> NaiveDate {
    DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .with_timezone(&local_offset())
        .date_naive()
}

/// Epoch seconds of the local midnight starting `d`.
pub fn date_start(d: NaiveDate) -> i64 {
    local_offset()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// Epoch seconds of local midnight of Jan 1 of `year` (a year outside chrono's range is taken
/// as the nearest one inside it, never a panic).
pub fn year_start(year: i32) -> i64 {
    let d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    });
    date_start(d)
}

/// Local time string of `ts` (`2025-03-01 08:15`).
pub fn fmt_local(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .with_timezone(&local_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Parses a timestamp: RFC 3339 with offset, or a local `YYYY-MM-DD HH:MM[:SS]`, or epoch seconds.
pub fn parse_ts(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Ok(n);
    }
    if let Some(n) = parse_ts_fast(t.as_bytes()) {
        return Ok(n);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp());
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(t, f)
            && let Some(d) = local_offset().from_local_datetime(&n).single()
        {
            return Ok(d.timestamp());
        }
    }
    Err(format!(
        "`{t}` 不是有效时间 / is not a timestamp (ISO 8601)"
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The fast path of [`parse_ts`] (CSV backfills parse hundreds of thousands of these) for the
/// exact shapes `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DDTHH:MM:SS` (local time) and
/// `YYYY-MM-DDTHH:MM:SS(Z|±HH:MM)`. Anything else (fractions, leap seconds, other widths) returns
/// `None` and goes to chrono, so it accepts nothing chrono would refuse and gives the same value.
fn parse_ts_fast(t: &[u8]) -> Option<i64> {
    fn num(b: &[u8]) -> Option<i64> {
        b.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    }
    if t.len() < 16 || t[4] != b'-' || t[7] != b'-' || t[13] != b':' {
        return None;
    }
    let sep = t[10];
    let (y, mo, d) = (num(&t[0..4])?, num(&t[5..7])?, num(&t[8..10])?);
    let (h, mi) = (num(&t[11..13])?, num(&t[14..16])?);
    let (sec, rest) = match &t[16..] {
        [] if sep == b' ' => (0, &t[16..]),
        [b':', a, b, rest @ ..] => (num(&[*a, *b])?, rest),
        _ => return None,
    };
    let offset = match rest {
        [] if sep == b' ' || sep == b'T' => LOCAL_OFFSET,
        [b'Z'] if sep == b'T' => 0,
        [sign @ (b'+' | b'-'), a, b, b':', c, e] if sep == b'T' => {
            let (oh, om) = (num(&[*a, *b])?, num(&[*c, *e])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > days_in || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset)
}

pub fn now_ts() -> i64 {
    Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn buckets() {
        let ts = parse_ts("2025-03-01T00:10:00+08:00").unwrap();
        assert_eq!(
            day_bucket(ts),
            parse_ts("2025-03-01T00:00:00+08:00").unwrap()
        );
        let (a, b) = month_bounds(ts);
        assert_eq!(fmt_local(a), "2025-03-01 00:00");
        assert_eq!(fmt_local(b), "2025-04-01 00:00");
        assert_eq!(parse_ts("2025-03-01 00:10").unwrap(), ts);
    }
    /// Chrono's answer (the slow path of `parse_ts`, without the fast path).
    fn chrono_ts(t: &str) -> Option<i64> {
        if let Ok(d) = DateTime::parse_from_rfc3339(t) {
            return Some(d.timestamp());
        }
        ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
            .and_then(|n| local_offset().from_local_datetime(&n).single())
            .map(|d| d.timestamp())
    }
    #[test]
    fn fast_timestamps_agree_with_chrono() {
        let mut n = 0;
        for y in ["1999", "2000", "2024", "2025", "2100", "0000", "9999"] {
            for mo in ["00", "01", "02", "03", "04", "12", "13", "1x"] {
                for d in ["00", "01", "28", "29", "30", "31", "32"] {
                    for hm in ["00:00", "23:59", "24:00", "12:60", "07:15"] {
                        for tail in [
                            "",
                            ":00",
                            ":59",
                            ":60",
                            ":5",
                            ".5",
                            ":00.5",
                            ":00Z",
                            ":00z",
                            ":00+08:00",
                            ":00-05:30",
                            ":00+24:00",
                            ":00+08",
                            "Z",
                            "+08:00",
                        ] {
                            for sep in [" ", "T", "t", "_"] {
                                let s = format!("{y}-{mo}-{d}{sep}{hm}{tail}");
                                let fast = parse_ts_fast(s.as_bytes());
                                if let Some(v) = fast {
                                    n += 1;
                                    assert_eq!(Some(v), chrono_ts(&s), "{s}");
                                }
                                assert_eq!(parse_ts(&s).ok(), chrono_ts(&s), "{s}");
                            }
                        }
                    }
                }
            }
        }
        assert!(n > 1000, "the fast path took {n} of the cases");
    }
}
