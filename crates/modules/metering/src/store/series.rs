//! Reading back: rollup series, stored interval readings and the latest reading time of a
//! meter.

use super::g;
use crate::sql;
use qcity_platform::store::StoreError;
use sea_orm::ConnectionTrait;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub ts: i64,
    pub value: f64,
    pub n: i64,
}

/// Rollup series of one meter (`grain` h, d or m) over `[from, to)`.
pub async fn rollup_series(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
    grain: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Point>, StoreError> {
    sql::all(db, "SELECT bucket, value, n FROM mt_rollups WHERE city_id = ? AND meter_id = ? AND grain = ? AND bucket >= ? AND bucket < ? ORDER BY bucket", vec![city_id.into(), meter_id.into(), grain.into(), from.into(), to.into()])
        .await?
        .iter()
        .map(|r| Ok(Point { ts: g(r, "bucket")?, value: g(r, "value")?, n: g(r, "n")? }))
        .collect()
}

/// Stored interval readings of one meter over `[from, to)`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredReading {
    pub ts: i64,
    pub raw_value: Option<f64>,
    pub value: Option<f64>,
    pub quality: String,
    pub rule_id: Option<String>,
}

pub async fn readings(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<StoredReading>, StoreError> {
    sql::all(db, "SELECT ts, raw_value, value, quality, rule_id FROM mt_readings WHERE city_id = ? AND meter_id = ? AND ts >= ? AND ts < ? ORDER BY ts", vec![city_id.into(), meter_id.into(), from.into(), to.into()])
        .await?
        .iter()
        .map(|r| Ok(StoredReading { ts: g(r, "ts")?, raw_value: g(r, "raw_value")?, value: g(r, "value")?, quality: g(r, "quality")?, rule_id: g(r, "rule_id")? }))
        .collect()
}

/// Latest reading time of a meter.
pub async fn last_ts(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(
        match sql::one(
            db,
            "SELECT MAX(ts) AS t FROM mt_readings WHERE city_id = ? AND meter_id = ?",
            vec![city_id.into(), meter_id.into()],
        )
        .await?
        {
            Some(r) => g::<Option<i64>>(&r, "t")?,
            None => None,
        },
    )
}
