//! Storing parsed readings (数据采集入库): scope and multiplier checks, quality flags, the
//! retention horizon, the upsert (multi-row INSERT, or COPY through a staging table on
//! PostgreSQL).

use super::{
    IngestReport, Parsed, Reject, RollupPlan, Scope, fresh_rollups, g, insert_rollup_rows,
    latest_ts, recompute_rollup_days,
};
use crate::domain;
use crate::sql;
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// (meter, ts, raw, validated value, quality, rule) of a row to store.
pub(super) type Good = (
    i64,
    i64,
    f64,
    Option<f64>,
    &'static str,
    Option<&'static str>,
);

/// Rows per multi-row INSERT: 4 bound values each (meter, ts, raw, value; the city, receipt
/// time, quality and rule are SQL literals), under SQLite's 32 766 variable limit. Every full
/// chunk has the same SQL text, so the driver's statement cache prepares it once per connection.
pub(super) const CHUNK: usize = 8000;

/// Meters per `IN (…)` list of the set-wise rollup statements.
pub(super) const METER_CHUNK: usize = 500;

/// Stores parsed readings in ONE transaction (committed before returning): checks each row's
/// meter against the scope, applies the multiplier, flags negative and over-limit values,
/// refuses rows older than the city's raw-data retention horizon (their day's raw data may be
/// purged, so the rollups could not be recomputed), upserts on (city, meter, ts) and recomputes
/// the affected hourly/daily/monthly rollups set-wise.
pub async fn ingest(
    db: &DatabaseConnection,
    s: &Scope,
    rows: Vec<(usize, Parsed)>,
    mut rejects: Vec<Reject>,
) -> Result<IngestReport, StoreError> {
    let t_start = std::time::Instant::now();
    let received = rows.len() + rejects.len();
    // Meters of the batch that the caller may write.
    let ids: BTreeSet<i64> = rows.iter().map(|r| r.1.meter_id).collect();
    let mut known: HashMap<i64, (f64, Option<f64>, String)> = HashMap::new();
    for chunk in ids.iter().copied().collect::<Vec<_>>().chunks(METER_CHUNK) {
        let mut v = Vec::new();
        let c = crate::store::unit_clause(s, "m", "unit_id", &mut v);
        let ph = vec!["?"; chunk.len()].join(",");
        v.extend(chunk.iter().map(|i| Value::from(*i)));
        for r in sql::all(db, &format!("SELECT m.id, m.multiplier, m.high_limit, m.status FROM mt_meters m WHERE{c} AND m.id IN ({ph})"), v).await? {
            known.insert(g(&r, "id")?, (g(&r, "multiplier")?, g(&r, "high_limit")?, g(&r, "status")?));
        }
    }
    let now = domain::now_ts();
    let horizon = crate::retention::raw_horizon(db, s.region.city_id, now).await?;
    let mut good: Vec<Good> = Vec::with_capacity(rows.len());
    let mut flagged = 0;
    for (row, p) in rows {
        let Some((mult, high, status)) = known.get(&p.meter_id) else {
            rejects.push(Reject {
                row,
                field: "meter_id".into(),
                reason: format!(
                    "表计 {} 不存在或无权限 / unknown meter {}",
                    p.meter_id, p.meter_id
                ),
            });
            continue;
        };
        if status != "installed" {
            rejects.push(Reject {
                row,
                field: "meter_id".into(),
                reason: format!(
                    "表计 {} 未安装 / meter {} is {status}",
                    p.meter_id, p.meter_id
                ),
            });
            continue;
        }
        if p.ts > now + 86400 {
            rejects.push(Reject {
                row,
                field: "ts".into(),
                reason: "时间晚于当前超过一天 / timestamp more than a day in the future".into(),
            });
            continue;
        }
        if p.ts < 946_684_800 {
            rejects.push(Reject {
                row,
                field: "ts".into(),
                reason: "时间早于2000年 / timestamp before 2000".into(),
            });
            continue;
        }
        if horizon.is_some_and(|h| p.ts < h) {
            rejects.push(Reject {
                row,
                field: "ts".into(),
                reason: "早于原始数据保留期 / older than the raw-data retention period".into(),
            });
            continue;
        }
        let v = p.raw * mult;
        let (value, quality, rule) = if v < 0.0 {
            flagged += 1;
            (None, "suspect", Some("negative"))
        } else if high.is_some_and(|h| v > h) {
            flagged += 1;
            (None, "suspect", Some("high_limit"))
        } else {
            (Some(v), "valid", None)
        };
        good.push((p.meter_id, p.ts, p.raw, value, quality, rule));
    }
    let accepted = good.len();
    // Last value wins within one batch for a repeated (meter, ts): a stable sort keeps arrival
    // order among equal keys, then the last of each run is kept.
    good.sort_by_key(|r| (r.0, r.1));
    let mut keep: Vec<Good> = Vec::with_capacity(good.len());
    for r in good {
        match keep.last_mut() {
            Some(l) if (l.0, l.1) == (r.0, r.1) => *l = r,
            _ => keep.push(r),
        }
    }
    // PostgreSQL, large batches: COPY into the staging table first (outside the transaction;
    // staged rows are not "accepted" until the transaction below commits).
    let staged = if db.get_database_backend() == DbBackend::Postgres && keep.len() >= PG_COPY_MIN {
        Some(stage_pg(db, s.region.city_id, &keep).await?)
    } else {
        None
    };
    let t_prep = t_start.elapsed();
    // SQLite, no staging: the hourly and daily rollups of days that no earlier reading of the
    // meter falls in (a backfill's new days) are aggregated here from the sorted batch instead of
    // re-read and re-sorted through SQL; days that may hold earlier readings are recomputed from
    // `mt_readings` as before.
    let fresh_path = staged.is_none() && db.get_database_backend() == DbBackend::Sqlite;
    let stored = async {
        let t_write = std::time::Instant::now();
        // Days touched per meter: `keep` is sorted by (meter, ts), so one pass that only
        // inserts when the day changes (a backfill touches thousands of days, not 500,000 keys).
        let mut days: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        let mut last = (i64::MIN, i64::MIN);
        for r in &keep {
            let d = domain::day_bucket(r.1);
            if (r.0, d) != last {
                days.entry(r.0).or_default().insert(d);
                last = (r.0, d);
            }
        }
        let txn = db.begin_write().await?;
        let changed;
        let t_rollups;
        if fresh_path {
            let plan = RollupPlan::of(&days);
            // The first statement writes, so the transaction holds SQLite's write lock before it
            // reads the meters' latest readings (no other writer can add one in between).
            plan.clear_hours_days(&txn, s.region.city_id).await?;
            let before = latest_ts(&txn, s.region.city_id, days.keys().copied()).await?;
            changed = write_readings(&txn, s.region.city_id, &keep, now).await?;
            t_rollups = std::time::Instant::now();
            // First local day of each meter with no earlier reading.
            let fresh_from: HashMap<i64, i64> = days
                .keys()
                .map(|m| {
                    let f = before
                        .get(m)
                        .map_or(i64::MIN, |t| domain::day_bucket(*t) + 86400);
                    (*m, f)
                })
                .collect();
            let mut old_days: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
            for (m, ds) in &days {
                let f = fresh_from.get(m).copied().unwrap_or(i64::MAX);
                let old: BTreeSet<i64> = ds.iter().copied().filter(|d| *d < f).collect();
                if !old.is_empty() {
                    old_days.insert(*m, old);
                }
            }
            RollupPlan::of(&old_days)
                .insert_hours_days_sql(&txn, s.region.city_id)
                .await?;
            let (hours, days_agg) = fresh_rollups(&keep, &fresh_from);
            insert_rollup_rows(&txn, s.region.city_id, "h", &hours).await?;
            insert_rollup_rows(&txn, s.region.city_id, "d", &days_agg).await?;
            plan.recompute_months(&txn, s.region.city_id).await?;
        } else {
            changed = match staged {
                Some(batch) => insert_from_stage(&txn, s.region.city_id, batch, now).await?,
                None => write_readings(&txn, s.region.city_id, &keep, now).await?,
            };
            t_rollups = std::time::Instant::now();
            recompute_rollup_days(&txn, s.region.city_id, days).await?;
        }
        let tr = std::time::Instant::now();
        txn.commit().await?;
        tracing::debug!(rows = keep.len(), fresh_path, prep = ?t_prep, write = ?(t_rollups - t_write), rollups = ?(tr - t_rollups), commit = ?tr.elapsed(), "metering ingest timings");
        Ok::<u64, StoreError>(changed)
    }
    .await;
    let changed = match stored {
        Ok(c) => c,
        Err(e) => {
            if let Some(batch) = staged {
                let _ = sql::exec(
                    db,
                    "DELETE FROM mt_readings_stage WHERE city_id = ? AND batch_id = ?",
                    vec![s.region.city_id.into(), batch.into()],
                )
                .await;
            }
            return Err(e);
        }
    };
    rejects.sort_by_key(|r| r.row);
    Ok(IngestReport {
        received,
        accepted,
        changed,
        flagged,
        rejected: rejects.len(),
        rejects,
    })
}

/// Batches from this size on go through COPY on PostgreSQL (below it a multi-row INSERT is as
/// fast and needs no staging round trip).
pub const PG_COPY_MIN: usize = 2000;

/// The `ON CONFLICT` tail of the readings upsert: a re-sent identical value changes nothing; a
/// different value (a correction) or a reading replacing an estimate is stored.
fn upsert_tail(db: &impl ConnectionTrait) -> String {
    format!(
        " ON CONFLICT (city_id, meter_id, ts) DO UPDATE SET raw_value = excluded.raw_value, value = excluded.value, quality = excluded.quality, rule_id = excluded.rule_id, received_at = excluded.received_at WHERE mt_readings.raw_value {} excluded.raw_value OR mt_readings.quality = 'estimated'",
        sql::distinct(db)
    )
}

/// Streams rows into `mt_readings_stage` with `COPY … FROM STDIN` (text format) on a pooled
/// PostgreSQL connection (sqlx's `PgCopyIn` on the pool sea-orm exposes); returns the batch id.
async fn stage_pg(db: &DatabaseConnection, city_id: i64, rows: &[Good]) -> Result<i64, StoreError> {
    use sea_orm::sqlx::postgres::PgPoolCopyExt;
    use std::fmt::Write;
    let err = |e: sea_orm::sqlx::Error| {
        StoreError::from(sea_orm::DbErr::Custom(format!(
            "COPY into mt_readings_stage: {e}"
        )))
    };
    let batch = qcity_platform::ids::new_id();
    let mut copy = db
        .get_postgres_connection_pool()
        .copy_in_raw("COPY mt_readings_stage (city_id, batch_id, meter_id, ts, raw_value, value, quality, rule_id) FROM STDIN")
        .await
        .map_err(err)?;
    let mut buf = String::with_capacity(1 << 20);
    for r in rows {
        let _ = write!(buf, "{city_id}\t{batch}\t{}\t{}\t{}\t", r.0, r.1, r.2);
        match r.3 {
            Some(v) => {
                let _ = write!(buf, "{v}");
            }
            None => buf.push_str("\\N"),
        }
        let _ = writeln!(buf, "\t{}\t{}", r.4, r.5.unwrap_or("\\N"));
        if buf.len() >= 1 << 20 {
            copy.send(buf.as_bytes()).await.map_err(err)?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await.map_err(err)?;
    }
    copy.finish().await.map_err(err)?;
    Ok(batch)
}

/// Moves a staged batch into `mt_readings` (upsert) and clears it from the staging table.
async fn insert_from_stage(
    db: &impl ConnectionTrait,
    city_id: i64,
    batch: i64,
    now: i64,
) -> Result<u64, StoreError> {
    let q = format!(
        "INSERT INTO mt_readings (city_id, meter_id, ts, raw_value, value, quality, rule_id, received_at) SELECT city_id, meter_id, ts, raw_value, value, quality, rule_id, {now} FROM mt_readings_stage WHERE city_id = ? AND batch_id = ?{}",
        upsert_tail(db)
    );
    let changed = sql::exec(db, &q, vec![city_id.into(), batch.into()])
        .await?
        .rows_affected();
    sql::exec(
        db,
        "DELETE FROM mt_readings_stage WHERE city_id = ? AND batch_id = ?",
        vec![city_id.into(), batch.into()],
    )
    .await?;
    Ok(changed)
}

/// SQL literal of a fixed quality flag or rule id (never user input).
fn lit(v: Option<&'static str>) -> std::borrow::Cow<'static, str> {
    match v {
        None => "NULL".into(),
        Some("valid") => "'valid'".into(),
        Some("suspect") => "'suspect'".into(),
        Some("negative") => "'negative'".into(),
        Some("high_limit") => "'high_limit'".into(),
        Some(s) => format!("'{s}'").into(),
    }
}

/// Upserts readings (sorted, unique on (meter, ts)) with multi-row `INSERT … ON CONFLICT`;
/// returns the rows that changed (new values, corrections, or estimates replaced by a reading).
async fn write_readings(
    db: &impl ConnectionTrait,
    city_id: i64,
    rows: &[Good],
    now: i64,
) -> Result<u64, StoreError> {
    let tail = upsert_tail(db);
    let head = format!("({city_id},?,?,?,?,");
    let now_s = format!(",{now})");
    let mut changed = 0;
    for chunk in rows.chunks(CHUNK) {
        let mut q = String::with_capacity(128 + chunk.len() * 48);
        q.push_str("INSERT INTO mt_readings (city_id, meter_id, ts, raw_value, value, quality, rule_id, received_at) VALUES ");
        let mut vals: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
        for (k, r) in chunk.iter().enumerate() {
            if k > 0 {
                q.push(',');
            }
            q.push_str(&head);
            q.push_str(&lit(Some(r.4)));
            q.push(',');
            q.push_str(&lit(r.5));
            q.push_str(&now_s);
            vals.extend([r.0.into(), r.1.into(), r.2.into(), r.3.into()]);
        }
        q.push_str(&tail);
        changed += sql::exec(db, &q, vals).await?.rows_affected();
    }
    Ok(changed)
}
