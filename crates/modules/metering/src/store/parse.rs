//! Parsing meter readings as received (JSON body, CSV upload or MQTT payload) into rows to
//! store and rejected rows, within the upload limits.

use crate::domain;
use qcity_platform::upload::{self, Limits, UploadError, UploadErrorKind};
use serde::{Deserialize, Serialize};

/// One reading as received (JSON body, CSV row or MQTT payload).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RawReading {
    pub meter_id: serde_json::Value,
    /// ISO 8601 with offset, local `YYYY-MM-DD HH:MM`, or epoch seconds.
    #[serde(alias = "timestamp")]
    pub ts: serde_json::Value,
    pub value: serde_json::Value,
}

/// A rejected row and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, PartialEq)]
pub struct Reject {
    /// 1-based row (CSV: data row, header excluded).
    pub row: usize,
    pub field: String,
    pub reason: String,
}

/// Outcome of an ingest call.
#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
pub struct IngestReport {
    pub received: usize,
    /// Rows stored (new, corrected or identical re-sends).
    pub accepted: usize,
    /// Rows that changed the stored data (new or corrected values).
    pub changed: u64,
    /// Stored but flagged (negative value, above the high limit): value withheld from rollups.
    pub flagged: usize,
    pub rejected: usize,
    pub rejects: Vec<Reject>,
}

/// A parsed reading ready to store.
#[derive(Debug, Clone, Copy)]
pub struct Parsed {
    pub meter_id: i64,
    pub ts: i64,
    pub raw: f64,
}

fn as_i64(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parsed rows (with their 1-based row number) and the rejected ones.
pub type ParsedRows = (Vec<(usize, Parsed)>, Vec<Reject>);

/// Parses JSON readings; rows that fail are returned as rejects.
pub fn parse_json_rows(rows: &[RawReading]) -> (Vec<(usize, Parsed)>, Vec<Reject>) {
    let mut ok = Vec::with_capacity(rows.len());
    let mut bad = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let row = i + 1;
        let Some(meter_id) = as_i64(&r.meter_id) else {
            bad.push(Reject {
                row,
                field: "meter_id".into(),
                reason: "不是表计编号 / not a meter id".into(),
            });
            continue;
        };
        let ts = match &r.ts {
            serde_json::Value::Number(n) => n.as_i64().ok_or_else(|| "not an integer".to_string()),
            serde_json::Value::String(s) => domain::parse_ts(s),
            _ => Err("缺少时间 / missing timestamp".to_string()),
        };
        let ts = match ts {
            Ok(t) => t,
            Err(e) => {
                bad.push(Reject {
                    row,
                    field: "ts".into(),
                    reason: e,
                });
                continue;
            }
        };
        let value = match &r.value {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match value {
            Some(v) if v.is_finite() => ok.push((
                row,
                Parsed {
                    meter_id,
                    ts,
                    raw: v,
                },
            )),
            _ => bad.push(Reject {
                row,
                field: "value".into(),
                reason: "不是有效数值 / not a finite number".into(),
            }),
        }
    }
    (ok, bad)
}

/// Limits of a meter-reading upload: the configured ones, widened to the bulk ingest's own
/// body size ([`READINGS_MAX_BYTES`]) and the rows such a body holds.
pub fn readings_limits(configured: &Limits) -> Limits {
    configured
        .with_max_bytes(configured.max_bytes.max(READINGS_MAX_BYTES))
        .with_max_rows(configured.max_rows.max(READINGS_MAX_BYTES / 16))
}

/// Largest meter-reading upload (64 MiB ≈ 1.5 million CSV rows).
pub const READINGS_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Parses CSV `meter_id,timestamp,value` (header required; UTF-8, GBK or with a BOM; quoted
/// fields may hold commas) within the default [`readings_limits`].
pub fn parse_csv(bytes: &[u8]) -> Result<ParsedRows, UploadError> {
    parse_csv_within(bytes, &readings_limits(&Limits::default()))
}

/// [`parse_csv`] within `limits`. Rows are numbered by the line they start on, the header
/// excluded (the first data line is row 1; blank lines count).
pub fn parse_csv_within(bytes: &[u8], limits: &Limits) -> Result<ParsedRows, UploadError> {
    // About 25 bytes a row: one allocation for the whole body.
    let mut ok = Vec::with_capacity(bytes.len().min(limits.max_bytes) / 24 + 1);
    let mut bad = Vec::new();
    let mut idx: Option<(usize, usize, usize)> = None;
    upload::csv::for_each_record(bytes, limits, |n, rec| {
        let Some((mi, ti, vi)) = idx else {
            debug_assert_eq!(n, 1);
            let cols: Vec<String> = rec.iter().map(|c| c.trim().to_ascii_lowercase()).collect();
            let find = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
            let (Some(mi), Some(ti), Some(vi)) = (
                find(&["meter_id", "meter", "表计"]),
                find(&["timestamp", "ts", "time", "时间"]),
                find(&["value", "数值", "reading"]),
            ) else {
                return Err(UploadError::new(
                    UploadErrorKind::Invalid,
                    "CSV 表头须含 meter_id,timestamp,value / header must name meter_id, timestamp and value",
                )
                .with_field("header"));
            };
            idx = Some((mi, ti, vi));
            return Ok(());
        };
        let row = rec
            .position()
            .map(|p| p.line() as usize - 1)
            .unwrap_or(n - 1);
        let get = |k: usize| rec.get(k).map(str::trim).unwrap_or("");
        if rec.iter().all(|f| f.trim().is_empty()) {
            return Ok(());
        }
        let (m, t, v) = (get(mi), get(ti), get(vi));
        let Ok(meter_id) = m.parse::<i64>() else {
            bad.push(Reject {
                row,
                field: "meter_id".into(),
                reason: format!("`{m}` 不是表计编号 / not a meter id"),
            });
            return Ok(());
        };
        let ts = match domain::parse_ts(t) {
            Ok(t) => t,
            Err(e) => {
                bad.push(Reject {
                    row,
                    field: "timestamp".into(),
                    reason: e,
                });
                return Ok(());
            }
        };
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => ok.push((
                row,
                Parsed {
                    meter_id,
                    ts,
                    raw: x,
                },
            )),
            _ => bad.push(Reject {
                row,
                field: "value".into(),
                reason: format!("`{v}` 不是有效数值 / not a finite number"),
            }),
        }
        Ok(())
    })?;
    if idx.is_none() {
        return Err(UploadError::new(
            UploadErrorKind::Invalid,
            "CSV 表头须含 meter_id,timestamp,value / header must name meter_id, timestamp and value",
        )
        .with_field("header"));
    }
    Ok((ok, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns in any order, extra columns, CRLF, a BOM, blank lines, short rows and ISO / local /
    /// epoch timestamps: good rows parsed, bad rows rejected naming the (1-based data) row and field.
    #[test]
    fn csv_rows_and_rejects() {
        let body = "\u{feff}Value,extra,Timestamp,meter_id\r\n1.5,x,2025-03-01 00:15,7\r\n\r\n2, ,2025-03-01T00:30:00+08:00,7\r\n3,,1740759300,8\r\nabc,,2025-03-01 00:45,7\r\n4,,2025-02-30 00:00,7\r\n5,,2025-03-01 01:00,x\r\n6,\r\n";
        let (ok, bad) = parse_csv(body.as_bytes()).expect("csv");
        let t = |s: &str| domain::parse_ts(s).expect("ts");
        let got: Vec<(usize, i64, i64, f64)> = ok
            .iter()
            .map(|(r, p)| (*r, p.meter_id, p.ts, p.raw))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 7, t("2025-03-01T00:15:00+08:00"), 1.5),
                (3, 7, t("2025-03-01T00:30:00+08:00"), 2.0),
                (4, 8, 1_740_759_300, 3.0),
            ]
        );
        let bad: Vec<(usize, &str)> = bad.iter().map(|r| (r.row, r.field.as_str())).collect();
        assert_eq!(
            bad,
            vec![
                (5, "value"),
                (6, "timestamp"),
                (7, "meter_id"),
                (8, "meter_id"),
            ]
        );
        assert!(parse_csv(b"a,b\n1,2\n").is_err());
    }

    /// Quoted fields may hold commas and newlines; GBK headers are read.
    #[test]
    fn csv_quoted_fields_and_gbk() {
        let body = "meter_id,note,timestamp,value\n7,\"pump 1, north\",2025-03-01 00:15,1.5\n7,\"two\nlines\",2025-03-01 00:30,2\n";
        let (ok, bad) = parse_csv(body.as_bytes()).expect("csv");
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(
            ok.iter().map(|(r, p)| (*r, p.raw)).collect::<Vec<_>>(),
            vec![(1, 1.5), (2, 2.0)]
        );
        let gbk = encoding_rs::GBK
            .encode("表计,时间,数值\n7,2025-03-01 00:15,3\n")
            .0
            .into_owned();
        let (ok, _) = parse_csv(&gbk).expect("gbk csv");
        assert_eq!(ok.len(), 1);
    }
}
