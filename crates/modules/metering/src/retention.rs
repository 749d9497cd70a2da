//! Retention of raw interval readings (原始数据保留期): a per-city setting keeps raw 15-minute
//! data for N days while the hourly, daily and monthly rollups stay forever. The horizon is a
//! local-day boundary, so a day's raw data is either all kept or all purged, and ingest refuses
//! readings older than the horizon (their rollups could no longer be recomputed). A background
//! job purges in small batches, one short transaction each, so ingest is never blocked long.

use crate::domain;
use crate::sql;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Readings deleted per statement (one short transaction each).
pub const PURGE_BATCH: i64 = 5_000;

/// Longest accepted retention (100 years).
pub const MAX_DAYS: i32 = 36_500;

/// The metering settings of a city.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Settings {
    /// Days of raw interval readings to keep (`null` = forever). Rollups are always kept.
    #[serde(default)]
    pub raw_retention_days: Option<i32>,
    /// Parent-vs-children imbalance tolerance as a fraction of the parent's daily use
    /// (`null` = 0.05).
    #[serde(default)]
    pub imbalance_tolerance: Option<f64>,
}

/// The city's settings (defaults when none are stored).
pub async fn settings(db: &impl ConnectionTrait, city_id: i64) -> Result<Settings, StoreError> {
    let r = sql::one(
        db,
        "SELECT raw_retention_days, imbalance_tolerance FROM mt_settings WHERE city_id = ?",
        vec![city_id.into()],
    )
    .await?;
    Ok(match r {
        Some(r) => Settings {
            raw_retention_days: r.try_get("", "raw_retention_days")?,
            imbalance_tolerance: r.try_get("", "imbalance_tolerance")?,
        },
        None => Settings {
            raw_retention_days: None,
            imbalance_tolerance: None,
        },
    })
}

/// Stores the city's settings (validated: 1 ≤ days ≤ 36,500).
pub async fn set_settings(
    db: &impl ConnectionTrait,
    city_id: i64,
    s: &Settings,
) -> Result<Settings, StoreError> {
    if let Some(d) = s.raw_retention_days
        && !(1..=MAX_DAYS).contains(&d)
    {
        return Err(StoreError::invalid(
            "raw_retention_days",
            "保留天数须在 1–36500 之间 / must be between 1 and 36,500 days (or null = forever)",
        ));
    }
    if let Some(t) = s.imbalance_tolerance
        && !(t.is_finite() && (0.0..=1.0).contains(&t))
    {
        return Err(StoreError::invalid(
            "imbalance_tolerance",
            "须在 0–1 之间 / must be a fraction between 0 and 1",
        ));
    }
    sql::exec(
        db,
        "INSERT INTO mt_settings (city_id, raw_retention_days, imbalance_tolerance, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (city_id) DO UPDATE SET raw_retention_days = excluded.raw_retention_days, imbalance_tolerance = excluded.imbalance_tolerance, updated_at = excluded.updated_at",
        vec![
            city_id.into(),
            s.raw_retention_days.into(),
            s.imbalance_tolerance.into(),
            chrono::Utc::now().into(),
        ],
    )
    .await?;
    settings(db, city_id).await
}

/// The last run of the retention job for a city.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LastRun {
    /// Epoch seconds, `None` if it has not run since retention was set.
    pub ran_at: Option<i64>,
    /// Raw readings removed by that run.
    pub deleted: Option<i64>,
}

/// When the retention job last ran for the city and how many readings it removed.
pub async fn last_run(db: &impl ConnectionTrait, city_id: i64) -> Result<LastRun, StoreError> {
    let r = sql::one(
        db,
        "SELECT retention_ran_at, retention_deleted FROM mt_settings WHERE city_id = ?",
        vec![city_id.into()],
    )
    .await?;
    Ok(match r {
        Some(r) => LastRun {
            ran_at: r.try_get("", "retention_ran_at")?,
            deleted: r.try_get("", "retention_deleted")?,
        },
        None => LastRun::default(),
    })
}

/// Records a run of the retention job (the city's settings row exists: only cities with a
/// retention setting are purged).
pub async fn record_run(
    db: &impl ConnectionTrait,
    city_id: i64,
    at: i64,
    deleted: u64,
) -> Result<(), StoreError> {
    sql::exec(
        db,
        "UPDATE mt_settings SET retention_ran_at = ?, retention_deleted = ? WHERE city_id = ?",
        vec![
            at.into(),
            i64::try_from(deleted).unwrap_or(i64::MAX).into(),
            city_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Applies the city's retention at `now` and records the run; returns readings deleted.
pub async fn apply_and_record(
    db: &impl ConnectionTrait,
    city_id: i64,
    now: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    let n = apply(db, city_id, now, batch).await?;
    record_run(db, city_id, now, n).await?;
    Ok(n)
}

/// First instant whose raw readings are kept: local midnight `days` days before today's, or
/// `None` when raw data is kept forever.
pub fn horizon_for(days: Option<i32>, now: i64) -> Option<i64> {
    days.map(|d| domain::day_bucket(now) - i64::from(d) * 86400)
}

/// The city's raw-data horizon at `now`.
pub async fn raw_horizon(
    db: &impl ConnectionTrait,
    city_id: i64,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(horizon_for(
        settings(db, city_id).await?.raw_retention_days,
        now,
    ))
}

/// Deletes at most `batch` raw readings of one meter older than `horizon` (oldest first, through
/// the primary key); returns the number deleted.
async fn purge_meter_batch(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
    horizon: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    Ok(sql::exec(
        db,
        "DELETE FROM mt_readings WHERE city_id = ? AND meter_id = ? AND ts IN (SELECT ts FROM mt_readings WHERE city_id = ? AND meter_id = ? AND ts < ? ORDER BY ts LIMIT ?)",
        vec![
            city_id.into(),
            meter_id.into(),
            city_id.into(),
            meter_id.into(),
            horizon.into(),
            batch.into(),
        ],
    )
    .await?
    .rows_affected())
}

/// Applies the city's retention at `now` in batches of `batch` readings; returns readings
/// deleted. Rollups are not touched.
pub async fn apply(
    db: &impl ConnectionTrait,
    city_id: i64,
    now: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    let Some(h) = raw_horizon(db, city_id, now).await? else {
        return Ok(0);
    };
    let meters = sql::all(
        db,
        "SELECT id FROM mt_meters WHERE city_id = ? ORDER BY id",
        vec![city_id.into()],
    )
    .await?;
    let mut total = 0;
    for r in meters {
        let m: i64 = r.try_get("", "id")?;
        loop {
            let n = purge_meter_batch(db, city_id, m, h, batch.max(1)).await?;
            total += n;
            if n < batch.max(1) as u64 {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    Ok(total)
}

/// Cities with a retention setting.
async fn cities_with_retention(db: &impl ConnectionTrait) -> Result<Vec<i64>, StoreError> {
    sql::all(
        db,
        "SELECT city_id FROM mt_settings WHERE raw_retention_days IS NOT NULL ORDER BY city_id",
        vec![],
    )
    .await?
    .iter()
    .map(|r| r.try_get("", "city_id").map_err(StoreError::from))
    .collect()
}

/// The background job: applies every city's retention now and then every `every`.
pub async fn run(db: DatabaseConnection, every: Duration) {
    loop {
        match cities_with_retention(&db).await {
            Ok(cities) => {
                for c in cities {
                    match apply_and_record(&db, c, domain::now_ts(), PURGE_BATCH).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(
                                city_id = c,
                                deleted = n,
                                "raw meter readings past retention purged"
                            )
                        }
                        Err(e) => {
                            tracing::warn!(city_id = c, error = %e, "metering retention failed")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "metering retention: settings unreadable"),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn horizon_is_a_local_midnight() {
        let now = domain::parse_ts("2025-03-10 15:20").unwrap();
        let h = horizon_for(Some(7), now).unwrap();
        assert_eq!(domain::fmt_local(h), "2025-03-03 00:00");
        assert_eq!(horizon_for(None, now), None);
    }
}
