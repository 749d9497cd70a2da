//! Hourly, daily and monthly rollups of the readings, recomputed set-wise for the days a
//! batch touched (in SQL, or aggregated in Rust bit-identically to SQLite's SUM).

use super::{CHUNK, Good, METER_CHUNK, g};
use crate::domain;
use crate::sql;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Recomputes the hourly, daily and monthly rollups of every (meter, day) touched by `ts` values,
/// set-wise: meters that touched the same run of days share one statement per grain (a live
/// batch of thousands of meters for the same quarter hour is three statements plus two per
/// month, not thousands).
pub async fn recompute_rollups(
    db: &impl ConnectionTrait,
    city_id: i64,
    touched: &BTreeSet<(i64, i64)>,
) -> Result<(), StoreError> {
    let mut days: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for &(m, ts) in touched {
        days.entry(m).or_default().insert(domain::day_bucket(ts));
    }
    recompute_rollup_days(db, city_id, days).await
}

/// [`recompute_rollups`] for the local days (starts, epoch s) touched per meter.
pub async fn recompute_rollup_days(
    db: &impl ConnectionTrait,
    city_id: i64,
    days: BTreeMap<i64, BTreeSet<i64>>,
) -> Result<(), StoreError> {
    let plan = RollupPlan::of(&days);
    plan.clear_hours_days(db, city_id).await?;
    plan.insert_hours_days_sql(db, city_id).await?;
    plan.recompute_months(db, city_id).await
}

/// Set-wise rollup statements for the days touched per meter: meters that touched the same run
/// of contiguous days share one statement per grain, and meters that touched the same month
/// share its monthly statements.
pub(super) struct RollupPlan {
    /// `[start, end)` of a run of contiguous local days → the meters that touched exactly it.
    by_range: BTreeMap<(i64, i64), Vec<i64>>,
    /// Local month bounds → the meters that touched a day in it.
    by_month: BTreeMap<(i64, i64), Vec<i64>>,
}

impl RollupPlan {
    pub(super) fn of(days: &BTreeMap<i64, BTreeSet<i64>>) -> RollupPlan {
        let mut by_range: BTreeMap<(i64, i64), Vec<i64>> = BTreeMap::new();
        let mut by_month: BTreeMap<(i64, i64), Vec<i64>> = BTreeMap::new();
        for (&meter, ds) in days {
            let mut ranges: Vec<(i64, i64)> = Vec::new();
            for &d in ds {
                match ranges.last_mut() {
                    Some(r) if r.1 >= d => r.1 = d + 86400,
                    _ => ranges.push((d, d + 86400)),
                }
            }
            let mut months = BTreeSet::new();
            for (a, b) in ranges {
                by_range.entry((a, b)).or_default().push(meter);
                let mut d = a;
                while d < b {
                    months.insert(domain::month_bounds(d));
                    d += 86400;
                }
            }
            for mb in months {
                by_month.entry(mb).or_default().push(meter);
            }
        }
        RollupPlan { by_range, by_month }
    }

    /// Deletes the hourly and daily rollups of the touched days.
    pub(super) async fn clear_hours_days(
        &self,
        db: &impl ConnectionTrait,
        city_id: i64,
    ) -> Result<(), StoreError> {
        for (&(a, b), meters) in &self.by_range {
            for ms in meters.chunks(METER_CHUNK) {
                let inl = ids_list(ms);
                sql::exec(db, &format!("DELETE FROM mt_rollups WHERE city_id = ? AND meter_id IN ({inl}) AND grain IN ('h', 'd') AND bucket >= ? AND bucket < ?"), vec![city_id.into(), a.into(), b.into()]).await?;
            }
        }
        Ok(())
    }

    /// Inserts the hourly rollups of the touched days from `mt_readings`, then their daily
    /// rollups from the hourly ones (after [`Self::clear_hours_days`]).
    pub(super) async fn insert_hours_days_sql(
        &self,
        db: &impl ConnectionTrait,
        city_id: i64,
    ) -> Result<(), StoreError> {
        let o = domain::LOCAL_OFFSET;
        for (&(a, b), meters) in &self.by_range {
            for ms in meters.chunks(METER_CHUNK) {
                let inl = ids_list(ms);
                sql::exec(db, &format!("INSERT INTO mt_rollups (city_id, meter_id, grain, bucket, value, n) SELECT city_id, meter_id, 'h', ts - (ts % 3600), COALESCE(SUM(value), 0), COUNT(value) FROM mt_readings WHERE city_id = ? AND meter_id IN ({inl}) AND ts >= ? AND ts < ? GROUP BY city_id, meter_id, ts - (ts % 3600)"), vec![city_id.into(), a.into(), b.into()]).await?;
                sql::exec(db, &format!("INSERT INTO mt_rollups (city_id, meter_id, grain, bucket, value, n) SELECT city_id, meter_id, 'd', ((bucket + {o}) / 86400) * 86400 - {o}, SUM(value), SUM(n) FROM mt_rollups WHERE city_id = ? AND meter_id IN ({inl}) AND grain = 'h' AND bucket >= ? AND bucket < ? GROUP BY city_id, meter_id, ((bucket + {o}) / 86400) * 86400 - {o}"), vec![city_id.into(), a.into(), b.into()]).await?;
            }
        }
        Ok(())
    }

    /// Recomputes the monthly rollups of the touched months from the daily ones.
    pub(super) async fn recompute_months(
        &self,
        db: &impl ConnectionTrait,
        city_id: i64,
    ) -> Result<(), StoreError> {
        for (&(a, b), meters) in &self.by_month {
            for ms in meters.chunks(METER_CHUNK) {
                let inl = ids_list(ms);
                sql::exec(db, &format!("DELETE FROM mt_rollups WHERE city_id = ? AND meter_id IN ({inl}) AND grain = 'm' AND bucket = ?"), vec![city_id.into(), a.into()]).await?;
                sql::exec(db, &format!("INSERT INTO mt_rollups (city_id, meter_id, grain, bucket, value, n) SELECT city_id, meter_id, 'm', ?, SUM(value), SUM(n) FROM mt_rollups WHERE city_id = ? AND meter_id IN ({inl}) AND grain = 'd' AND bucket >= ? AND bucket < ? GROUP BY city_id, meter_id"), vec![a.into(), city_id.into(), a.into(), b.into()]).await?;
            }
        }
        Ok(())
    }
}

/// Latest stored reading time per meter (meters without readings are absent).
pub(super) async fn latest_ts(
    db: &impl ConnectionTrait,
    city_id: i64,
    meters: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, i64>, StoreError> {
    let ids: Vec<i64> = meters.collect();
    let mut out = HashMap::with_capacity(ids.len());
    for ms in ids.chunks(METER_CHUNK) {
        let inl = ids_list(ms);
        // A correlated MAX per meter: each is one seek to the end of the meter's primary-key run.
        for r in sql::all(db, &format!("SELECT m.id, (SELECT MAX(r.ts) FROM mt_readings r WHERE r.city_id = m.city_id AND r.meter_id = m.id) AS t FROM mt_meters m WHERE m.city_id = ? AND m.id IN ({inl})"), vec![city_id.into()]).await? {
            if let Some(t) = g::<Option<i64>>(&r, "t")? {
                out.insert(g(&r, "id")?, t);
            }
        }
    }
    Ok(out)
}

/// SQLite's `SUM` over floating-point values (Kahan–Babuška–Neumaier compensated summation, as
/// in SQLite 3.43+ `sumStep`/`sumFinalize`), so rollups aggregated in Rust are bit-identical to
/// the ones SQL computes from the same rows in the same order.
#[derive(Default, Clone, Copy)]
struct KbnSum {
    sum: f64,
    err: f64,
}

impl KbnSum {
    fn add(&mut self, r: f64) {
        let s = self.sum;
        let t = s + r;
        if s.abs() > r.abs() {
            self.err += (s - t) + r;
        } else {
            self.err += (r - t) + s;
        }
        self.sum = t;
    }
    fn value(self) -> f64 {
        if self.err.is_finite() {
            self.sum + self.err
        } else {
            self.sum
        }
    }
}

/// (meter, bucket, value, n) of an aggregated rollup row.
type RollupRow = (i64, i64, f64, i64);

/// (meter, bucket, running sum, n) of the hour or day being aggregated.
type RollupAcc = (i64, i64, KbnSum, i64);

/// Hourly and daily rollups of the rows of `keep` (sorted by meter, ts) on days at or after their
/// meter's `fresh_from` day: the same values the SQL recomputation gives (hour: compensated sum
/// of the non-null values, 0 when there are none, and their count; day: the sum of its hours).
pub(super) fn fresh_rollups(
    keep: &[Good],
    fresh_from: &HashMap<i64, i64>,
) -> (Vec<RollupRow>, Vec<RollupRow>) {
    let mut hours: Vec<RollupRow> = Vec::new();
    let mut days: Vec<RollupRow> = Vec::new();
    // Current hour: (meter, bucket, sum, n); current day likewise over hours.
    let mut hour: Option<RollupAcc> = None;
    let mut day: Option<RollupAcc> = None;
    let close_hour = |h: RollupAcc,
                      hours: &mut Vec<RollupRow>,
                      day: &mut Option<RollupAcc>,
                      days: &mut Vec<RollupRow>| {
        let v = if h.3 > 0 { h.2.value() } else { 0.0 };
        hours.push((h.0, h.1, v, h.3));
        let d = domain::day_bucket(h.1);
        match day {
            Some(cur) if cur.0 == h.0 && cur.1 == d => {
                cur.2.add(v);
                cur.3 += h.3;
            }
            _ => {
                if let Some(cur) = day.take() {
                    days.push((cur.0, cur.1, cur.2.value(), cur.3));
                }
                let mut s = KbnSum::default();
                s.add(v);
                *day = Some((h.0, d, s, h.3));
            }
        }
    };
    let mut meter = i64::MIN;
    let mut from = i64::MAX;
    for r in keep {
        if r.0 != meter {
            meter = r.0;
            from = fresh_from.get(&meter).copied().unwrap_or(i64::MAX);
        }
        if domain::day_bucket(r.1) < from {
            continue;
        }
        let b = r.1 - r.1 % 3600;
        match &mut hour {
            Some(h) if h.0 == r.0 && h.1 == b => {
                if let Some(v) = r.3 {
                    h.2.add(v);
                    h.3 += 1;
                }
            }
            _ => {
                if let Some(h) = hour.take() {
                    close_hour(h, &mut hours, &mut day, &mut days);
                }
                let mut s = KbnSum::default();
                let mut n = 0;
                if let Some(v) = r.3 {
                    s.add(v);
                    n = 1;
                }
                hour = Some((r.0, b, s, n));
            }
        }
    }
    if let Some(h) = hour.take() {
        close_hour(h, &mut hours, &mut day, &mut days);
    }
    if let Some(cur) = day.take() {
        days.push((cur.0, cur.1, cur.2.value(), cur.3));
    }
    (hours, days)
}

/// Inserts aggregated rollup rows of one grain with multi-row `INSERT` (their days' rollups were
/// cleared first).
pub(super) async fn insert_rollup_rows(
    db: &impl ConnectionTrait,
    city_id: i64,
    grain: &'static str,
    rows: &[RollupRow],
) -> Result<(), StoreError> {
    let head = format!("({city_id},'{grain}',?,?,?,?)");
    for chunk in rows.chunks(CHUNK) {
        let mut q = String::with_capacity(96 + chunk.len() * (head.len() + 1));
        q.push_str("INSERT INTO mt_rollups (city_id, grain, meter_id, bucket, value, n) VALUES ");
        let mut vals: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
        for (k, r) in chunk.iter().enumerate() {
            if k > 0 {
                q.push(',');
            }
            q.push_str(&head);
            vals.extend([r.0.into(), r.1.into(), r.2.into(), r.3.into()]);
        }
        sql::exec(db, &q, vals).await?;
    }
    Ok(())
}

/// Comma-separated integer ids for an `IN (…)` list (integers only, so safe to inline).
fn ids_list(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
