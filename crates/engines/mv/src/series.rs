//! Time-stamped meter data and temperature series, and their parsing from CSV text.
//!
//! Timestamps are ISO 8601 / RFC 3339 with a UTC offset (`2024-01-01T00:00:00+08:00`).

use crate::error::{MvError, Result};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An instant with the UTC offset it was reported in.
pub type Instant = DateTime<FixedOffset>;

/// One raw meter reading (interval value or register value) as received.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Timestamp (interval start for interval data, read time for registers).
    pub at: Instant,
    /// Value; `None` when the source row had no value.
    pub value: Option<f64>,
}

/// Energy use over `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UsagePeriod {
    /// Period start.
    pub start: Instant,
    /// Period end (exclusive).
    pub end: Instant,
    /// Energy used in the period; `None` when missing.
    pub value: Option<f64>,
}

impl UsagePeriod {
    /// Length in hours.
    pub fn hours(&self) -> f64 {
        (self.end - self.start).num_seconds() as f64 / 3600.0
    }
}

/// An hourly outdoor temperature reading in degrees Fahrenheit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TemperatureReading {
    /// Timestamp.
    pub at: Instant,
    /// Dry-bulb temperature, °F.
    pub fahrenheit: f64,
}

/// The UTC instant `secs` seconds after the Unix epoch (for callers without chrono).
pub fn instant_from_unix(secs: i64) -> Option<Instant> {
    DateTime::from_timestamp(secs, 0).map(|t| t.fixed_offset())
}

/// Parses an ISO 8601 timestamp with a UTC offset.
pub fn parse_instant(s: &str) -> std::result::Result<Instant, String> {
    let t = s.trim();
    DateTime::parse_from_rfc3339(t)
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M%:z"))
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%:z"))
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z"))
        .map_err(|e| format!("`{t}` is not an ISO 8601 timestamp with a UTC offset ({e})"))
}

fn parse_opt_f64(label: &str, row: usize, column: &str, s: Option<&str>) -> Result<Option<f64>> {
    let t = s.unwrap_or("").trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    let v: f64 = t
        .parse()
        .map_err(|_| MvError::parse(label, row, column, format!("`{t}` is not a number")))?;
    if !v.is_finite() {
        return Err(MvError::parse(label, row, column, "value is not finite"));
    }
    Ok(Some(v))
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn headers(label: &str, rdr: &mut csv::Reader<&[u8]>) -> Result<Vec<String>> {
    rdr.headers()
        .map(|h| h.iter().map(|s| s.trim().to_ascii_lowercase()).collect())
        .map_err(|e| MvError::Header {
            source_label: label.to_string(),
            message: e.to_string(),
        })
}

fn col(label: &str, hdr: &[String], name: &str) -> Result<usize> {
    hdr.iter()
        .position(|h| h == name)
        .ok_or_else(|| MvError::Header {
            source_label: label.to_string(),
            message: format!("missing column `{name}` (found: {})", hdr.join(",")),
        })
}

/// Parses usage CSV text: `start,value` (consecutive intervals; each ends where the next
/// starts, the last lasts as long as the median interval) or `start,end,value` (billing).
pub fn parse_usage_csv(label: &str, text: &str) -> Result<Vec<UsagePeriod>> {
    parse_usage_csv_flagged(label, text).map(|(p, _)| p)
}

/// As [`parse_usage_csv`], also reading an optional `estimated` column (`true/false`,
/// `1/0`, `E`; empty = false) that marks estimated bills (CalTRACK 2.2.3.3).
pub fn parse_usage_csv_flagged(label: &str, text: &str) -> Result<(Vec<UsagePeriod>, Vec<bool>)> {
    let mut rdr = reader(text);
    let hdr = headers(label, &mut rdr)?;
    let i_start = col(label, &hdr, "start")?;
    let i_value = col(label, &hdr, "value")?;
    let i_end = hdr.iter().position(|h| h == "end");
    let i_est = hdr.iter().position(|h| h == "estimated");
    let mut flags = Vec::new();
    let mut rows: Vec<(Instant, Option<Instant>, Option<f64>)> = Vec::new();
    for (idx, rec) in rdr.records().enumerate() {
        let row = idx + 1;
        let rec = rec.map_err(|e| MvError::parse(label, row, "*", e.to_string()))?;
        let start = parse_instant(rec.get(i_start).unwrap_or(""))
            .map_err(|m| MvError::parse(label, row, "start", m))?;
        let end = match i_end {
            Some(i) => Some(
                parse_instant(rec.get(i).unwrap_or(""))
                    .map_err(|m| MvError::parse(label, row, "end", m))?,
            ),
            None => None,
        };
        if let Some(e) = end
            && e <= start
        {
            return Err(MvError::parse(label, row, "end", "end is not after start"));
        }
        let value = parse_opt_f64(label, row, "value", rec.get(i_value))?;
        let est = match i_est
            .and_then(|i| rec.get(i))
            .map(|x| x.trim().to_ascii_lowercase())
        {
            None => false,
            Some(x) => match x.as_str() {
                "" | "false" | "0" | "no" | "a" => false,
                "true" | "1" | "yes" | "e" => true,
                other => {
                    return Err(MvError::parse(
                        label,
                        row,
                        "estimated",
                        format!("`{other}` is not true/false"),
                    ));
                }
            },
        };
        flags.push(est);
        if let Some((prev, _, _)) = rows.last()
            && *prev >= start
        {
            return Err(MvError::parse(
                label,
                row,
                "start",
                "rows must be in strictly increasing time order",
            ));
        }
        rows.push((start, end, value));
    }
    if rows.is_empty() {
        return Ok((Vec::new(), flags));
    }
    let mut steps: Vec<i64> = rows
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).num_seconds())
        .collect();
    steps.sort_unstable();
    let median_step = steps.get(steps.len() / 2).copied().unwrap_or(86_400);
    let n = rows.len();
    let periods = (0..n)
        .map(|i| {
            let (start, end, value) = rows[i];
            let end = end.unwrap_or_else(|| {
                if i + 1 < n {
                    rows[i + 1].0
                } else {
                    start + Duration::seconds(median_step)
                }
            });
            UsagePeriod { start, end, value }
        })
        .collect();
    Ok((periods, flags))
}

/// Parses temperature CSV text with columns `timestamp,temperature_f` (rows with an empty
/// temperature are skipped as missing).
pub fn parse_temperature_csv(label: &str, text: &str) -> Result<Vec<TemperatureReading>> {
    let mut rdr = reader(text);
    let hdr = headers(label, &mut rdr)?;
    let i_t = col(label, &hdr, "timestamp")?;
    let i_v = col(label, &hdr, "temperature_f")?;
    let mut out = Vec::new();
    for (idx, rec) in rdr.records().enumerate() {
        let row = idx + 1;
        let rec = rec.map_err(|e| MvError::parse(label, row, "*", e.to_string()))?;
        let at = parse_instant(rec.get(i_t).unwrap_or(""))
            .map_err(|m| MvError::parse(label, row, "timestamp", m))?;
        if let Some(v) = parse_opt_f64(label, row, "temperature_f", rec.get(i_v))? {
            if !(-80.0..=150.0).contains(&v) {
                return Err(MvError::parse(
                    label,
                    row,
                    "temperature_f",
                    format!("{v} °F is outside −80…150 °F"),
                ));
            }
            out.push(TemperatureReading { at, fahrenheit: v });
        }
    }
    out.sort_by_key(|t| t.at);
    Ok(out)
}

/// Parses meter readings CSV text with columns `timestamp,value` (order and duplicates are
/// kept as received: VEE judges them).
pub fn parse_readings_csv(label: &str, text: &str) -> Result<Vec<Reading>> {
    let mut rdr = reader(text);
    let hdr = headers(label, &mut rdr)?;
    let i_t = col(label, &hdr, "timestamp")?;
    let i_v = col(label, &hdr, "value")?;
    let mut out = Vec::new();
    for (idx, rec) in rdr.records().enumerate() {
        let row = idx + 1;
        let rec = rec.map_err(|e| MvError::parse(label, row, "*", e.to_string()))?;
        let at = parse_instant(rec.get(i_t).unwrap_or(""))
            .map_err(|m| MvError::parse(label, row, "timestamp", m))?;
        let value = parse_opt_f64(label, row, "value", rec.get(i_v))?;
        out.push(Reading { at, value });
    }
    Ok(out)
}

/// Mean temperature of one local day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayTemperature {
    /// Mean of the hourly readings, °F.
    pub mean: f64,
    /// Hourly readings that day.
    pub hours: usize,
}

/// Daily mean temperatures over local days in `offset` (CalTRACK: a day's temperature is
/// the mean of its hourly readings).
pub fn daily_temperatures(
    temps: &[TemperatureReading],
    offset: FixedOffset,
) -> BTreeMap<NaiveDate, DayTemperature> {
    let mut acc: BTreeMap<NaiveDate, (f64, usize)> = BTreeMap::new();
    for t in temps {
        let d = t.at.with_timezone(&offset).date_naive();
        let e = acc.entry(d).or_insert((0.0, 0));
        e.0 += t.fahrenheit;
        e.1 += 1;
    }
    acc.into_iter()
        .map(|(d, (s, n))| {
            (
                d,
                DayTemperature {
                    mean: s / n as f64,
                    hours: n,
                },
            )
        })
        .collect()
}

/// Hourly temperatures keyed by the UTC hour (floor), for hourly models.
pub fn hourly_temperature_index(temps: &[TemperatureReading]) -> BTreeMap<i64, f64> {
    let mut acc: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for t in temps {
        let h = t.at.timestamp().div_euclid(3600);
        let e = acc.entry(h).or_insert((0.0, 0));
        e.0 += t.fahrenheit;
        e.1 += 1;
    }
    acc.into_iter()
        .map(|(h, (s, n))| (h, s / n as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_start_value_and_billing() {
        let u = parse_usage_csv(
            "u.csv",
            "start,value\n2024-01-01T00:00:00+08:00,1\n2024-01-02T00:00:00+08:00,\n",
        )
        .unwrap();
        assert_eq!(u.len(), 2);
        assert_eq!(u[1].value, None);
        assert!((u[1].hours() - 24.0).abs() < 1e-9);
        let b = parse_usage_csv(
            "b.csv",
            "start,end,value\n2024-01-01T00:00:00+08:00,2024-02-01T00:00:00+08:00,100\n",
        )
        .unwrap();
        assert!((b[0].hours() - 31.0 * 24.0).abs() < 1e-9);
    }

    #[test]
    fn usage_error_names_row_and_column() {
        let e = parse_usage_csv(
            "u.csv",
            "start,value\n2024-01-01T00:00:00+08:00,1\n2024-01-02T00:00:00+08:00,abc\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "u.csv: row 2, column `value`: `abc` is not a number"
        );
        let e = parse_usage_csv("u.csv", "start,value\n2024-01-01 00:00,1\n").unwrap_err();
        assert!(e.to_string().starts_with("u.csv: row 1, column `start`"));
    }
}
