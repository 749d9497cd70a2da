//! China time (北京时间): the city's local time, defined once for every module. It is the tz
//! database's Asia/Shanghai — UTC+8, with the daylight saving China kept from 1986 to 1991 — so
//! old dates convert right too; engines that take a fixed offset get [`fixed_offset`].

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// The city's time zone.
pub const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Seconds east of UTC of China time today (no daylight saving since 1991).
pub const OFFSET_SECS: i32 = 8 * 3600;

/// UTC+8 as a fixed offset, for engines that bucket by a fixed local day.
pub fn fixed_offset() -> FixedOffset {
    FixedOffset::east_opt(OFFSET_SECS).expect("UTC+8 is a valid offset")
}

/// A UTC instant in China time.
pub fn local(t: DateTime<Utc>) -> DateTime<chrono_tz::Tz> {
    t.with_timezone(&ZONE)
}

/// Today's date in China.
pub fn today() -> NaiveDate {
    local(Utc::now()).date_naive()
}

/// A wall-clock time in China as UTC; the earlier instant when a clock change repeats it,
/// `None` when a clock change skipped it.
pub fn from_local(n: NaiveDateTime) -> Option<DateTime<Utc>> {
    ZONE.from_local_datetime(&n)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The instant the day `d` begins in China, as UTC.
pub fn start_of_day(d: NaiveDate) -> Option<DateTime<Utc>> {
    from_local(d.and_time(NaiveTime::MIN))
}

/// `YYYY-MM-DD HH:MM:SS` in China time, as the pages show times.
pub fn format_local(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn china_is_utc_plus_8_today() {
        let t = utc("2026-12-31T16:30:00Z");
        assert_eq!(
            local(t).date_naive(),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        assert_eq!(local(t).hour(), 0);
        assert_eq!(
            start_of_day(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
            Some(utc("2026-12-31T16:00:00Z"))
        );
        assert_eq!(format_local(t), "2027-01-01 00:30:00");
        assert_eq!(fixed_offset().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn the_1986_to_1991_daylight_saving_is_kept() {
        // Summer 1990: China kept UTC+9 (夏令时), which a fixed +8 would get wrong by an hour.
        let t = utc("1990-07-01T03:00:00Z");
        assert_eq!(local(t).hour(), 12);
        assert_eq!(local(t).year(), 1990);
        // Spring 1990: clocks went 02:00 → 03:00 on 15 April; 02:30 did not exist.
        let skipped = NaiveDate::from_ymd_opt(1990, 4, 15)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(from_local(skipped), None);
    }
}
