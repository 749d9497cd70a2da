//! Monitoring and analysis on stored data through the `qcity-mv` engine: standard coal,
//! completeness and consistency checks, VEE runs with their edit trail, leak/waste detection
//! into alerts, production-normalised baselines (ISO 50006 EnPI) and verified savings.

use crate::domain;
use crate::sql;
use crate::store::{self, Meter, Scope};
use qcity_mv::coal::{CoalFactorTable, ElectricityBasis};
use qcity_mv::enpi::{EnpiObservation, compare, fit_production_baseline};
use qcity_mv::leak::{self, FindingKind, Schedule};
use qcity_mv::series::{Reading, instant_from_unix};
use qcity_mv::vee::{LocalDays, Quality, VeeConfig, run_vee};
use qcity_platform::db::BeginWrite;
use qcity_platform::store::ConflictCode;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait, Value};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

/// Electricity basis used for every standard-coal figure of the module (当量值); it is
/// recorded in every result.
pub const BASIS: ElectricityBasis = ElectricityBasis::Equivalent;

pub fn coal_table() -> &'static CoalFactorTable {
    static T: OnceLock<CoalFactorTable> = OnceLock::new();
    T.get_or_init(|| CoalFactorTable::builtin().expect("built-in GB/T 2589 table parses"))
}

/// kgce of `qty` of an energy type (electricity on [`BASIS`]).
pub fn kgce(energy_type: &str, qty: f64) -> f64 {
    let t = coal_table();
    let r = if energy_type == "electricity" {
        t.electricity(qty, BASIS)
    } else {
        match domain::coal_factor_id(energy_type) {
            Some(id) => t.convert(id, qty),
            None => return 0.0,
        }
    };
    r.map(|r| r.kgce).unwrap_or(0.0)
}

/// Meters whose readings make up a unit's total: installed meters with no installed ancestor
/// of the same energy type (children are sub-metering and would double count). Energy-carrying
/// media produced on site are not counted again (GB/T 2589 counts the primary input):
/// compressed air is always made from the unit's electricity, and steam is self-generated when
/// the unit also meters a boiler fuel (coal, natural gas, diesel).
pub fn total_meters(ms: &[Meter]) -> Vec<&Meter> {
    let by_id: HashMap<i64, &Meter> = ms.iter().map(|m| (m.id, m)).collect();
    let own_boiler = ms.iter().any(|m| {
        m.status == "installed"
            && ["raw_coal", "natural_gas", "diesel"].contains(&m.energy_type.as_str())
    });
    ms.iter()
        .filter(|m| m.status == "installed")
        .filter(|m| m.energy_type != "compressed_air" && !(own_boiler && m.energy_type == "steam"))
        .filter(|m| {
            let mut p = m.parent_id;
            while let Some(pid) = p {
                match by_id.get(&pid) {
                    Some(pm) if pm.status == "installed" && pm.energy_type == m.energy_type => {
                        return false;
                    }
                    Some(pm) => p = pm.parent_id,
                    None => break,
                }
            }
            true
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnergyLine {
    pub energy_type: String,
    pub quantity: f64,
    pub measure_unit: String,
    pub tce: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitEnergy {
    pub unit_id: i64,
    pub from: i64,
    pub to: i64,
    pub lines: Vec<EnergyLine>,
    pub total_tce: f64,
    pub output: f64,
    /// kgce per unit of output (单位产品综合能耗), when output was recorded.
    pub kgce_per_output: Option<f64>,
    #[schema(value_type = String)]
    pub electricity_basis: ElectricityBasis,
    pub coal_table_version: String,
}

/// Daily sums per meter over `[from, to)` from the daily rollups.
async fn daily_sums(
    db: &impl ConnectionTrait,
    city_id: i64,
    ids: &[i64],
    from: i64,
    to: i64,
) -> Result<Vec<(i64, i64, f64)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ph = vec!["?"; ids.len()].join(",");
    let mut v: Vec<Value> = vec![city_id.into(), from.into(), to.into()];
    v.extend(ids.iter().map(|i| Value::from(*i)));
    let rows = sql::all(db, &format!("SELECT meter_id, bucket, value FROM mt_rollups WHERE city_id = ? AND grain = 'd' AND bucket >= ? AND bucket < ? AND meter_id IN ({ph}) ORDER BY bucket"), v).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "meter_id")?,
                r.try_get("", "bucket")?,
                r.try_get("", "value")?,
            ))
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(StoreError::from)
}

pub async fn production(
    db: &impl ConnectionTrait,
    city_id: i64,
    unit_id: i64,
    from: i64,
    to: i64,
) -> Result<BTreeMap<i64, f64>, StoreError> {
    let rows = sql::all(db, "SELECT day, output FROM mt_production WHERE city_id = ? AND unit_id = ? AND day >= ? AND day < ?", vec![city_id.into(), unit_id.into(), from.into(), to.into()]).await?;
    let mut m = BTreeMap::new();
    for r in rows {
        m.insert(
            r.try_get::<i64>("", "day")?,
            r.try_get::<f64>("", "output")?,
        );
    }
    Ok(m)
}

/// Energy by type, standard coal and energy per unit output of a unit over `[from, to)`.
pub async fn unit_energy(
    db: &impl ConnectionTrait,
    s: &Scope,
    unit_id: i64,
    from: i64,
    to: i64,
) -> Result<UnitEnergy, StoreError> {
    let ms = store::meters(db, s, Some(unit_id)).await?;
    let tm = total_meters(&ms);
    let ids: Vec<i64> = tm.iter().map(|m| m.id).collect();
    let et: HashMap<i64, (&str, &str)> = tm
        .iter()
        .map(|m| (m.id, (m.energy_type.as_str(), m.measure_unit.as_str())))
        .collect();
    let mut lines: BTreeMap<String, (f64, String)> = BTreeMap::new();
    for (mid, _, v) in daily_sums(db, s.region.city_id, &ids, from, to).await? {
        if let Some((e, u)) = et.get(&mid) {
            let l = lines.entry(e.to_string()).or_insert((0.0, u.to_string()));
            l.0 += v;
        }
    }
    let lines: Vec<EnergyLine> = lines
        .into_iter()
        .map(|(e, (q, u))| EnergyLine {
            tce: kgce(&e, q) / 1000.0,
            energy_type: e,
            quantity: q,
            measure_unit: u,
        })
        .collect();
    let total_tce: f64 = lines.iter().map(|l| l.tce).sum();
    let output: f64 = production(db, s.region.city_id, unit_id, from, to)
        .await?
        .values()
        .sum();
    Ok(UnitEnergy {
        unit_id,
        from,
        to,
        total_tce,
        output,
        kgce_per_output: (output > 0.0).then(|| total_tce * 1000.0 / output),
        lines,
        electricity_basis: BASIS,
        coal_table_version: coal_table().version.clone(),
    })
}

/// Daily kgce of a unit (all energy types) over `[from, to)`.
pub async fn unit_daily_kgce(
    db: &impl ConnectionTrait,
    s: &Scope,
    unit_id: i64,
    from: i64,
    to: i64,
) -> Result<BTreeMap<i64, f64>, StoreError> {
    let ms = store::meters(db, s, Some(unit_id)).await?;
    let tm = total_meters(&ms);
    let ids: Vec<i64> = tm.iter().map(|m| m.id).collect();
    let et: HashMap<i64, &str> = tm.iter().map(|m| (m.id, m.energy_type.as_str())).collect();
    let mut out: BTreeMap<i64, f64> = BTreeMap::new();
    for (mid, d, v) in daily_sums(db, s.region.city_id, &ids, from, to).await? {
        *out.entry(d).or_default() += kgce(et.get(&mid).copied().unwrap_or(""), v);
    }
    Ok(out)
}

// ---------------------------------------------------------------- checks

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayCheck {
    pub day: String,
    pub expected: i64,
    pub valid: i64,
    pub fraction: f64,
    /// ≥ 90 % of the expected 15-minute (interval) values present and valid.
    pub ok: bool,
}

/// Completeness per local day of a meter over `[from, to)` (national rule: ≥ 90 %).
pub async fn completeness(
    db: &impl ConnectionTrait,
    city_id: i64,
    m: &Meter,
    from: i64,
    to: i64,
) -> Result<Vec<DayCheck>, StoreError> {
    let expected = i64::from(1440 / m.interval_min.max(1));
    let have: BTreeMap<i64, i64> = store::rollup_series(db, city_id, m.id, "d", from, to)
        .await?
        .into_iter()
        .map(|p| (p.ts, p.n))
        .collect();
    let mut out = Vec::new();
    let mut d = domain::day_bucket(from);
    while d < to {
        let valid = have.get(&d).copied().unwrap_or(0);
        let fraction = valid as f64 / expected as f64;
        out.push(DayCheck {
            day: domain::local_date(d).to_string(),
            expected,
            valid,
            fraction,
            ok: fraction >= 0.9,
        });
        d += 86400;
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthCheck {
    pub month: String,
    /// The stored monthly value.
    pub monthly: f64,
    /// Σ of the stored daily values of the month.
    pub daily_sum: f64,
    /// Σ of the validated interval readings of the month.
    pub interval_sum: f64,
    /// |monthly − Σ daily| / monthly.
    pub deviation: f64,
    /// Deviation within 5 % (national rule).
    pub ok: bool,
}

/// Daily-vs-monthly consistency of a meter for each month in `[from, to)` (≤ 5 %).
pub async fn consistency(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<MonthCheck>, StoreError> {
    let months = store::rollup_series(db, city_id, meter_id, "m", from, to).await?;
    let mut out = Vec::new();
    for mp in months {
        let (a, b) = domain::month_bounds(mp.ts);
        let daily: f64 = store::rollup_series(db, city_id, meter_id, "d", a, b)
            .await?
            .iter()
            .map(|p| p.value)
            .sum();
        let iv: Option<f64> = sql::one(db, "SELECT SUM(value) AS s FROM mt_readings WHERE city_id = ? AND meter_id = ? AND ts >= ? AND ts < ?", vec![city_id.into(), meter_id.into(), a.into(), b.into()])
            .await?
            .and_then(|r| r.try_get::<Option<f64>>("", "s").ok().flatten());
        let dev = if mp.value.abs() > 0.0 {
            (mp.value - daily).abs() / mp.value.abs()
        } else {
            0.0
        };
        out.push(MonthCheck {
            month: domain::local_date(a).format("%Y-%m").to_string(),
            monthly: mp.value,
            daily_sum: daily,
            interval_sum: iv.unwrap_or(0.0),
            deviation: dev,
            ok: dev <= 0.05,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- VEE

#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
pub struct VeeReport {
    pub valid: usize,
    pub suspect: usize,
    pub estimated: usize,
    pub missing: usize,
    /// Rows written (estimates and re-flagged values), each with an edit-trail entry.
    pub edits: usize,
}

fn to_reading(ts: i64, v: Option<f64>) -> Option<Reading> {
    instant_from_unix(ts).map(|at| Reading {
        at: at.with_timezone(&domain::local_offset()),
        value: v,
    })
}

/// Runs the engine's VEE over a meter's raw values in `[from, to)`: estimates are stored with
/// quality `estimated` and their rule id, flags with `suspect`, every change with an edit-trail
/// row; the rollups of the range are recomputed. Raw values are never changed.
pub async fn run_vee_for<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    city_id: i64,
    m: &Meter,
    from: i64,
    to: i64,
    actor: &str,
) -> Result<VeeReport, StoreError> {
    let stored = store::readings(db, city_id, m.id, from, to).await?;
    let raw: Vec<Reading> = stored
        .iter()
        .filter(|r| r.raw_value.is_some())
        .filter_map(|r| to_reading(r.ts, r.raw_value.map(|v| v * m.multiplier)))
        .collect();
    if raw.is_empty() {
        return Ok(VeeReport::default());
    }
    let mut cfg = VeeConfig::new(
        m.interval_min as u32,
        LocalDays::Fixed(domain::local_offset()),
    );
    cfg.high_limit = m.high_limit;
    cfg.actor = actor.to_string();
    cfg.not_after = instant_from_unix(domain::now_ts() + 300);
    let out =
        run_vee(&raw, &cfg, None, &[]).map_err(|e| StoreError::invalid("vee", e.to_string()))?;
    let before: HashMap<i64, &store::StoredReading> = stored.iter().map(|r| (r.ts, r)).collect();
    let txn = db.begin_write().await?;
    let mut edits = 0;
    let mut touched = BTreeSet::new();
    let now = chrono::Utc::now();
    for iv in &out.validated {
        let ts = iv.start.timestamp();
        if ts < from || ts >= to {
            continue;
        }
        let (quality, value) = match iv.quality {
            Quality::Valid => continue,
            Quality::Suspect => ("suspect", iv.value),
            Quality::Estimated => ("estimated", iv.value),
            Quality::Missing => continue,
        };
        let rule = iv
            .flags
            .first()
            .or(iv.edits.first().map(|e| &e.rule))
            .map(|r| {
                serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let old = before.get(&ts);
        if old.is_some_and(|o| o.quality == quality && o.value == value) {
            continue;
        }
        sql::exec(&txn, "INSERT INTO mt_readings (city_id, meter_id, ts, raw_value, value, quality, rule_id, received_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (city_id, meter_id, ts) DO UPDATE SET value = excluded.value, quality = excluded.quality, rule_id = excluded.rule_id", vec![city_id.into(), m.id.into(), ts.into(), value.into(), quality.into(), rule.clone().into(), domain::now_ts().into()]).await?;
        sql::exec(&txn, "INSERT INTO mt_vee_edits (city_id, id, meter_id, ts, rule_id, before_value, after_value, quality, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", vec![city_id.into(), qcity_platform::ids::new_id().into(), m.id.into(), ts.into(), rule.into(), old.and_then(|o| o.value).into(), value.into(), quality.into(), actor.into(), now.into()]).await?;
        touched.insert((m.id, ts));
        edits += 1;
    }
    store::recompute_rollups(&txn, city_id, &touched).await?;
    txn.commit().await?;
    Ok(VeeReport {
        valid: out.counts.valid,
        suspect: out.counts.suspect,
        estimated: out.counts.estimated,
        missing: out.counts.missing,
        edits,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EditRow {
    pub ts: i64,
    pub rule_id: String,
    pub before_value: Option<f64>,
    pub after_value: Option<f64>,
    pub quality: String,
    pub actor: String,
}

pub async fn edits(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
    limit: i64,
) -> Result<Vec<EditRow>, StoreError> {
    sql::all(db, "SELECT ts, rule_id, before_value, after_value, quality, actor FROM mt_vee_edits WHERE city_id = ? AND meter_id = ? ORDER BY ts DESC LIMIT ?", vec![city_id.into(), meter_id.into(), limit.into()])
        .await?
        .iter()
        .map(|r| {
            Ok(EditRow {
                ts: r.try_get("", "ts")?,
                rule_id: r.try_get("", "rule_id")?,
                before_value: r.try_get("", "before_value")?,
                after_value: r.try_get("", "after_value")?,
                quality: r.try_get("", "quality")?,
                actor: r.try_get("", "actor")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(StoreError::from)
}

// ---------------------------------------------------------------- detection & alerts

/// (kind, start, end, magnitude, detail) of a finding to store.
type FindingRow = (&'static str, i64, i64, f64, String);

/// Runs the engine's detectors on a meter over `[from, to)` and stores new findings as open
/// alerts (one per meter, kind and start). Returns the number of new alerts.
///
/// water: continuous non-zero flow ≥ 24 h and minimum night flow; electricity, steam and
/// compressed air: use outside the unit's operating hours above the quiescent threshold (lower
/// decile of the preceding 28 days' out-of-hours values) for ≥ 4 h; a parent meter with
/// installed children of its energy type: days on which parent − Σ children exceeds the city's
/// imbalance tolerance (mass balance, 跑冒滴漏); every meter: days below 90 % completeness
/// (data gaps).
pub async fn detect(
    db: &impl ConnectionTrait,
    city_id: i64,
    m: &Meter,
    from: i64,
    to: i64,
) -> Result<usize, StoreError> {
    let per_hour = (60 / m.interval_min.max(1)) as usize;
    let series = |rows: Vec<store::StoredReading>| -> Vec<Reading> {
        rows.iter()
            .filter_map(|r| to_reading(r.ts, r.value))
            .collect()
    };
    let cur = series(store::readings(db, city_id, m.id, from, to).await?);
    let mut findings: Vec<FindingRow> = Vec::new();
    let local = LocalDays::Fixed(domain::local_offset());
    match m.energy_type.as_str() {
        "water" => {
            for f in leak::continuous_flow(&cur, 24 * per_hour, 1e-9) {
                findings.push((
                    "continuous_flow",
                    f.start.timestamp(),
                    f.end.timestamp(),
                    f.magnitude,
                    f.detail,
                ));
            }
            let s = leak::NightFlowSettings {
                local_days: local,
                window: (2, 4),
                min_points: (23 * per_hour).max(1),
                ratio_limit: 0.5,
                rise_factor: 1.5,
            };
            let (_, fs) = leak::minimum_night_flow(&cur, &s);
            for f in fs.into_iter().filter(|f| f.kind == FindingKind::NightFlow) {
                findings.push((
                    "night_flow",
                    f.start.timestamp(),
                    f.end.timestamp(),
                    f.magnitude,
                    f.detail,
                ));
            }
        }
        "electricity" | "steam" | "compressed_air" => {
            let sched = schedule(&operating_hours(db, city_id, m.unit_id).await?);
            let prior = series(store::readings(db, city_id, m.id, from - 28 * 86400, from).await?);
            if let Some(q) = leak::quiescent_threshold(&prior, &sched, 0.1) {
                let thr = q * 1.25 + 1e-9;
                for f in leak::baseload_exceedance(&cur, &sched, thr, 4 * per_hour) {
                    findings.push((
                        "baseload",
                        f.start.timestamp(),
                        f.end.timestamp(),
                        f.magnitude,
                        f.detail,
                    ));
                }
            }
        }
        _ => {}
    }
    for d in completeness(db, city_id, m, from, to).await? {
        if !d.ok && d.valid > 0 {
            let day = domain::parse_ts(&format!("{} 00:00", d.day)).unwrap_or(from);
            findings.push((
                "data_gap",
                day,
                day + 86400,
                d.fraction * 100.0,
                format!(
                    "{} / {} intervals ({:.0} %)",
                    d.valid,
                    d.expected,
                    d.fraction * 100.0
                ),
            ));
        }
    }
    findings.extend(imbalance_findings(db, city_id, m, from, to).await?);
    // Limit breaches stored by ingest.
    for r in sql::all(db, "SELECT ts, raw_value FROM mt_readings WHERE city_id = ? AND meter_id = ? AND ts >= ? AND ts < ? AND rule_id = 'high_limit'", vec![city_id.into(), m.id.into(), from.into(), to.into()]).await? {
        let ts: i64 = r.try_get("", "ts")?;
        let v: Option<f64> = r.try_get("", "raw_value")?;
        findings.push(("limit", ts, ts, v.unwrap_or(0.0) * m.multiplier, format!("above the high limit {:?}", m.high_limit)));
    }
    let mut n = 0;
    let now = chrono::Utc::now();
    for (kind, a, b, mag, detail) in findings {
        let r = sql::exec(db, "INSERT INTO mt_alerts (city_id, id, unit_id, meter_id, kind, start_ts, end_ts, magnitude, detail, status, acked_by, acked_at, ack_note, region_code, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, '', ?, ?) ON CONFLICT (city_id, meter_id, kind, start_ts) DO NOTHING", vec![city_id.into(), qcity_platform::ids::new_id().into(), m.unit_id.into(), m.id.into(), kind.into(), a.into(), b.into(), mag.into(), detail.into(), m.region_code.clone().into(), now.into()]).await?;
        n += r.rows_affected() as usize;
    }
    Ok(n)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub meter_id: i64,
    pub meter_name: String,
    pub kind: String,
    pub start_ts: i64,
    pub end_ts: i64,
    pub magnitude: f64,
    pub detail: String,
    pub status: String,
    pub acked_by: Option<String>,
    pub ack_note: String,
}

/// Alerts in scope (newest first), optionally only open ones or of one unit.
pub async fn alerts(
    db: &impl ConnectionTrait,
    s: &Scope,
    open_only: bool,
    unit_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Alert>, StoreError> {
    let mut v = Vec::new();
    let mut c = s_clause(s, &mut v);
    if open_only {
        c.push_str(" AND a.status = 'open'");
    }
    if let Some(u) = unit_id {
        v.push(u.into());
        c.push_str(" AND a.unit_id = ?");
    }
    v.push(limit.into());
    sql::all(db, &format!("SELECT a.id, a.unit_id, u.name_zh AS unit_name, a.meter_id, m.name_zh AS meter_name, a.kind, a.start_ts, a.end_ts, a.magnitude, a.detail, a.status, a.acked_by, a.ack_note FROM mt_alerts a JOIN mt_units u ON u.city_id = a.city_id AND u.id = a.unit_id JOIN mt_meters m ON m.city_id = a.city_id AND m.id = a.meter_id WHERE{c} ORDER BY a.start_ts DESC LIMIT ?"), v)
        .await?
        .iter()
        .map(|r| {
            Ok(Alert {
                id: r.try_get("", "id")?,
                unit_id: r.try_get("", "unit_id")?,
                unit_name: r.try_get("", "unit_name")?,
                meter_id: r.try_get("", "meter_id")?,
                meter_name: r.try_get("", "meter_name")?,
                kind: r.try_get("", "kind")?,
                start_ts: r.try_get("", "start_ts")?,
                end_ts: r.try_get("", "end_ts")?,
                magnitude: r.try_get("", "magnitude")?,
                detail: r.try_get("", "detail")?,
                status: r.try_get("", "status")?,
                acked_by: r.try_get("", "acked_by")?,
                ack_note: r.try_get("", "ack_note")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(StoreError::from)
}

fn s_clause(s: &Scope, v: &mut Vec<Value>) -> String {
    crate::store::unit_clause(s, "a", "unit_id", v)
}

/// Acknowledges an open alert inside `txn` (the caller audits and commits). Out of scope →
/// not found; already acknowledged → conflict.
pub async fn ack(
    txn: &impl ConnectionTrait,
    s: &Scope,
    actor_name: &str,
    id: i64,
    note: &str,
) -> Result<(), StoreError> {
    let mut v = Vec::new();
    let c = s_clause(s, &mut v);
    v.push(id.into());
    let Some(row) = sql::one(
        txn,
        &format!("SELECT a.status FROM mt_alerts a WHERE{c} AND a.id = ?"),
        v,
    )
    .await?
    else {
        return Err(StoreError::NotFound("alert".into()));
    };
    let status: String = row.try_get("", "status")?;
    if status != "open" {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            "告警已确认 / alert already acknowledged",
        ));
    }
    sql::exec(txn, "UPDATE mt_alerts SET status = 'acked', acked_by = ?, acked_at = ?, ack_note = ? WHERE city_id = ? AND id = ? AND status = 'open'", vec![actor_name.into(), chrono::Utc::now().into(), note.into(), s.region.city_id.into(), id.into()]).await?;
    Ok(())
}

/// One alert in scope (acknowledged or not); not found outside it.
pub async fn alert(db: &impl ConnectionTrait, s: &Scope, id: i64) -> Result<Alert, StoreError> {
    alerts(db, s, false, None, 100_000)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| StoreError::NotFound("alert".into()))
}

// ---------------------------------------------------------------- savings

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Project {
    pub id: i64,
    pub unit_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub baseline_from: i64,
    pub baseline_to: i64,
    pub reporting_from: i64,
    pub reporting_to: i64,
}

pub async fn projects(
    db: &impl ConnectionTrait,
    s: &Scope,
    unit_id: Option<i64>,
) -> Result<Vec<Project>, StoreError> {
    let mut v = Vec::new();
    let mut c = crate::store::unit_clause(s, "u", "id", &mut v);
    if let Some(u) = unit_id {
        v.push(u.into());
        c.push_str(" AND p.unit_id = ?");
    }
    sql::all(db, &format!("SELECT p.id, p.unit_id, p.name_zh, p.name_en, p.baseline_from, p.baseline_to, p.reporting_from, p.reporting_to FROM mt_projects p JOIN mt_units u ON u.city_id = p.city_id AND u.id = p.unit_id WHERE{c} ORDER BY p.reporting_from"), v)
        .await?
        .iter()
        .map(|r| {
            Ok(Project {
                id: r.try_get("", "id")?,
                unit_id: r.try_get("", "unit_id")?,
                name_zh: r.try_get("", "name_zh")?,
                name_en: r.try_get("", "name_en")?,
                baseline_from: r.try_get("", "baseline_from")?,
                baseline_to: r.try_get("", "baseline_to")?,
                reporting_from: r.try_get("", "reporting_from")?,
                reporting_to: r.try_get("", "reporting_to")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(StoreError::from)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Savings {
    pub project_id: i64,
    /// EnB: kgce/day = intercept + slope × output.
    pub intercept: f64,
    pub production_slope: f64,
    pub r2_adj: f64,
    pub cvrmse: f64,
    pub nmbe: f64,
    pub baseline_days: usize,
    pub reporting_days: usize,
    /// Σ EnB normalised to reporting output, tce.
    pub expected_tce: f64,
    pub actual_tce: f64,
    /// expected − actual, tce.
    pub savings_tce: f64,
    pub baseline_enpi: f64,
    pub reporting_enpi: f64,
    pub improvement: f64,
    /// ASHRAE Guideline 14 daily-data criterion: CV(RMSE) ≤ 25 % (12–60 months).
    pub g14_ok: bool,
    #[schema(value_type = String)]
    pub electricity_basis: ElectricityBasis,
    /// Daily series for the chart: `[day, actual kgce, expected kgce]` triples (day = days
    /// since 1970-01-01, China time).
    #[schema(value_type = Vec<Vec<f64>>)]
    pub daily: Vec<(i64, f64, f64)>,
}

/// Verified savings of a project (ISO 50006 production-normalised baseline, IPMVP Option C on
/// the unit's total standard coal; days without output or energy are left out).
pub async fn savings(
    db: &impl ConnectionTrait,
    s: &Scope,
    p: &Project,
) -> Result<Savings, StoreError> {
    let obs = |e: &BTreeMap<i64, f64>, o: &BTreeMap<i64, f64>| -> Vec<(i64, EnpiObservation)> {
        e.iter()
            .filter_map(|(d, en)| {
                o.get(d).filter(|x| **x > 0.0).map(|x| {
                    (
                        *d,
                        EnpiObservation {
                            energy: *en,
                            production: *x,
                            degree_days: None,
                        },
                    )
                })
            })
            .filter(|(_, o)| o.energy > 0.0)
            .collect()
    };
    let be = unit_daily_kgce(db, s, p.unit_id, p.baseline_from, p.baseline_to).await?;
    let bo = production(
        db,
        s.region.city_id,
        p.unit_id,
        p.baseline_from,
        p.baseline_to,
    )
    .await?;
    let re = unit_daily_kgce(db, s, p.unit_id, p.reporting_from, p.reporting_to).await?;
    let ro = production(
        db,
        s.region.city_id,
        p.unit_id,
        p.reporting_from,
        p.reporting_to,
    )
    .await?;
    let b = obs(&be, &bo);
    let r = obs(&re, &ro);
    if b.len() < 30 {
        return Err(StoreError::invalid(
            "baseline",
            format!(
                "基准期数据不足: {} 天 / baseline needs ≥ 30 days with energy and output (has {})",
                b.len(),
                b.len()
            ),
        ));
    }
    let bobs: Vec<EnpiObservation> = b.iter().map(|x| x.1).collect();
    let robs: Vec<EnpiObservation> = r.iter().map(|x| x.1).collect();
    let model = fit_production_baseline(&bobs, false)
        .map_err(|e| StoreError::invalid("baseline", e.to_string()))?;
    let c = compare(&model, &robs);
    let daily = r
        .iter()
        .map(|(d, o)| (*d, o.energy, model.expected(o)))
        .collect();
    Ok(Savings {
        project_id: p.id,
        intercept: model.intercept,
        production_slope: model.production_slope,
        r2_adj: model.r2_adj,
        cvrmse: model.metrics.cvrmse,
        nmbe: model.metrics.nmbe,
        baseline_days: b.len(),
        reporting_days: r.len(),
        expected_tce: c.expected / 1000.0,
        actual_tce: c.actual / 1000.0,
        savings_tce: c.savings / 1000.0,
        baseline_enpi: c.baseline_enpi,
        reporting_enpi: c.reporting_enpi,
        improvement: c.improvement,
        g14_ok: model.metrics.cvrmse <= 0.25,
        electricity_basis: BASIS,
        daily,
    })
}

/// CUSUM of daily (actual − expected) kgce of a savings result (the classic M&V chart).
pub fn cusum_series(s: &Savings) -> Vec<(i64, f64)> {
    let mut acc = 0.0;
    s.daily
        .iter()
        .map(|(d, a, e)| {
            acc += a - e;
            (*d, acc / 1000.0)
        })
        .collect()
}

// ---------------------------------------------------------------- operating hours & imbalance

/// Open hours `[open, close)` of one weekday, local time; `open == close` = closed all day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DayHours {
    pub open_hour: u8,
    pub close_hour: u8,
}

/// 作息时间: open hours Monday first. The default is Monday–Friday 08:00–18:00, closed at
/// weekends.
pub fn default_hours() -> [DayHours; 7] {
    let work = DayHours {
        open_hour: 8,
        close_hour: 18,
    };
    let closed = DayHours {
        open_hour: 0,
        close_hour: 0,
    };
    [work, work, work, work, work, closed, closed]
}

/// The engine schedule of a week of open hours (city local time).
pub fn schedule(h: &[DayHours; 7]) -> Schedule {
    Schedule {
        utc_offset_seconds: domain::LOCAL_OFFSET as i32,
        open: h
            .iter()
            .map(|d| {
                let mut day = [false; 24];
                for (i, slot) in day.iter_mut().enumerate() {
                    *slot = i >= d.open_hour as usize && i < d.close_hour as usize;
                }
                day
            })
            .collect(),
    }
}

/// A unit's operating hours (the default week where none are stored).
pub async fn operating_hours(
    db: &impl ConnectionTrait,
    city_id: i64,
    unit_id: i64,
) -> Result<[DayHours; 7], StoreError> {
    let mut out = default_hours();
    for r in sql::all(db, "SELECT weekday, open_hour, close_hour FROM mt_operating_hours WHERE city_id = ? AND unit_id = ?", vec![city_id.into(), unit_id.into()]).await? {
        let wd: i32 = r.try_get("", "weekday")?;
        let o: i32 = r.try_get("", "open_hour")?;
        let c: i32 = r.try_get("", "close_hour")?;
        if let Some(d) = out.get_mut(wd as usize) {
            *d = DayHours {
                open_hour: o.clamp(0, 24) as u8,
                close_hour: c.clamp(0, 24) as u8,
            };
        }
    }
    Ok(out)
}

/// Replaces a unit's operating hours (7 days, Monday first; 0 ≤ open ≤ close ≤ 24), in one
/// transaction. The unit must be in scope.
pub async fn set_operating_hours<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    s: &Scope,
    unit_id: i64,
    hours: &[DayHours],
) -> Result<[DayHours; 7], StoreError> {
    if store::unit(db, s, unit_id).await?.is_none() {
        return Err(StoreError::NotFound("unit".into()));
    }
    if hours.len() != 7 {
        return Err(StoreError::invalid(
            "days",
            format!(
                "须为7天(周一起) / must list 7 days, Monday first (got {})",
                hours.len()
            ),
        ));
    }
    for (i, d) in hours.iter().enumerate() {
        if d.open_hour > d.close_hour || d.close_hour > 24 {
            return Err(StoreError::invalid(
                format!("days[{i}]"),
                format!(
                    "须 0 ≤ 开始 ≤ 结束 ≤ 24 / need 0 ≤ open_hour ≤ close_hour ≤ 24 (got {}–{})",
                    d.open_hour, d.close_hour
                ),
            ));
        }
    }
    let txn = db.begin_write().await?;
    sql::exec(
        &txn,
        "DELETE FROM mt_operating_hours WHERE city_id = ? AND unit_id = ?",
        vec![s.region.city_id.into(), unit_id.into()],
    )
    .await?;
    for (i, d) in hours.iter().enumerate() {
        sql::exec(&txn, "INSERT INTO mt_operating_hours (city_id, unit_id, weekday, open_hour, close_hour) VALUES (?, ?, ?, ?, ?)", vec![s.region.city_id.into(), unit_id.into(), (i as i32).into(), i32::from(d.open_hour).into(), i32::from(d.close_hour).into()]).await?;
    }
    txn.commit().await?;
    operating_hours(db, s.region.city_id, unit_id).await
}

/// Default tolerance of the parent-vs-children balance: 5 % of the parent's daily use.
pub const IMBALANCE_TOLERANCE: f64 = 0.05;

/// Daily rollups of a meter over `[from, to)` as engine readings, complete days only
/// (≥ 90 % of the expected intervals), so a gap is not mistaken for a loss.
async fn complete_days(
    db: &impl ConnectionTrait,
    city_id: i64,
    m: &Meter,
    from: i64,
    to: i64,
) -> Result<Vec<Reading>, StoreError> {
    let expected = (1440 / m.interval_min.max(1)) as f64;
    Ok(store::rollup_series(db, city_id, m.id, "d", from, to)
        .await?
        .into_iter()
        .filter(|p| p.n as f64 >= 0.9 * expected)
        .filter_map(|p| to_reading(p.ts, Some(p.value)))
        .collect())
}

/// Parent-vs-children imbalance findings of a meter over `[from, to)`, by local day: parent
/// minus the sum of its installed children of the same energy type beyond the city's
/// tolerance (days where any of them is incomplete are skipped).
pub async fn imbalance_findings(
    db: &impl ConnectionTrait,
    city_id: i64,
    m: &Meter,
    from: i64,
    to: i64,
) -> Result<Vec<(&'static str, i64, i64, f64, String)>, StoreError> {
    let kids = sql::all(db, "SELECT id, interval_min FROM mt_meters WHERE city_id = ? AND parent_id = ? AND status = 'installed' AND energy_type = ?", vec![city_id.into(), m.id.into(), m.energy_type.clone().into()]).await?;
    if kids.is_empty() || m.status != "installed" {
        return Ok(Vec::new());
    }
    let tol = crate::retention::settings(db, city_id)
        .await?
        .imbalance_tolerance
        .unwrap_or(IMBALANCE_TOLERANCE);
    let (from, to) = (domain::day_bucket(from), domain::day_bucket(to - 1) + 86400);
    let parent = complete_days(db, city_id, m, from, to).await?;
    let mut children = Vec::new();
    for k in kids {
        let mut km = m.clone();
        km.id = k.try_get("", "id")?;
        km.interval_min = k.try_get("", "interval_min")?;
        children.push(complete_days(db, city_id, &km, from, to).await?);
    }
    let refs: Vec<&[Reading]> = children.iter().map(Vec::as_slice).collect();
    Ok(leak::imbalance(&parent, &refs, tol)
        .into_iter()
        .map(|f| {
            let d = f.start.timestamp();
            (
                "imbalance",
                d,
                d + 86400,
                f.magnitude,
                format!("{} (tolerance {:.1} %)", f.detail, tol * 100.0),
            )
        })
        .collect())
}
