//! Outdoor temperature per city (室外气温) and the CalTRACK 2.0 daily temperature baseline of a
//! meter on the `qcity-mv` engine: fit over a baseline period, then baseline vs actual and
//! avoided energy use (IPMVP Option C) over a reporting period.
//!
//! Temperatures are stored in °C (grain `h`: hour start; `d`: local-day mean) and converted to
//! °F for the engine (CalTRACK's balance-point grid is 30–90 °F). A day given only as a daily
//! mean stands for 24 equal hourly readings, so the engine's day mean is that value.

use crate::domain;
use crate::sql;
use crate::store::{self, Meter, Reject};
use qcity_mv::caltrack::{CaltrackSettings, Fuel, fit_caltrack};
use qcity_mv::savings::avoided_energy_caltrack;
use qcity_mv::series::{Instant, TemperatureReading, UsagePeriod};
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use qcity_platform::upload::{self, Limits, UploadError, UploadErrorKind};
use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One temperature observation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TempRow {
    /// Hour start (grain h) or local-day start (grain d), epoch seconds.
    pub ts: i64,
    /// `h` or `d`.
    #[schema(value_type = String)]
    pub grain: char,
    pub temperature_c: f64,
}

/// Outcome of a temperature import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeatherReport {
    pub received: usize,
    pub stored: usize,
    pub rejected: usize,
    pub rejects: Vec<Reject>,
}

/// °F of °C.
pub fn c_to_f(c: f64) -> f64 {
    c * 9.0 / 5.0 + 32.0
}

/// °C of °F.
pub fn f_to_c(f: f64) -> f64 {
    (f - 32.0) * 5.0 / 9.0
}

/// Parses CSV `timestamp,temperature_c` (or `temperature_f`); a date-only timestamp
/// (`YYYY-MM-DD`) is a daily mean, anything else an hourly reading (truncated to its hour).
/// Returns the good rows and the rejected ones (row numbers exclude the header).
pub fn parse_weather_csv(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(Vec<TempRow>, Vec<Reject>), UploadError> {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    let mut idx: Option<(usize, usize, bool, String)> = None;
    upload::csv::for_each_record(bytes, limits, |n, rec| {
        let Some((ti, vi, fahrenheit, vname)) = &idx else {
            let cols: Vec<String> = rec.iter().map(|c| c.trim().to_ascii_lowercase()).collect();
            let pos = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
            let ti = pos(&["timestamp", "ts", "time", "date", "时间", "日期"]);
            let ci = pos(&["temperature_c", "temp_c", "气温"]);
            let fi = pos(&["temperature_f", "temp_f"]);
            let (Some(ti), Some((vi, fahrenheit))) =
                (ti, ci.map(|i| (i, false)).or(fi.map(|i| (i, true))))
            else {
                return Err(header_error());
            };
            idx = Some((ti, vi, fahrenheit, cols[vi].clone()));
            return Ok(());
        };
        let (ti, vi, fahrenheit) = (*ti, *vi, *fahrenheit);
        let row = rec
            .position()
            .map(|p| p.line() as usize - 1)
            .unwrap_or(n - 1);
        if rec.iter().all(|f| f.trim().is_empty()) {
            return Ok(());
        }
        let get = |k: usize| rec.get(k).map(str::trim).unwrap_or("");
        let t = get(ti);
        let parsed = if t.len() == 10 {
            domain::parse_ts(&format!("{t} 00:00")).map(|ts| (domain::day_bucket(ts), 'd'))
        } else {
            domain::parse_ts(t).map(|ts| (domain::hour_bucket(ts), 'h'))
        };
        let (ts, grain) = match parsed {
            Ok(x) => x,
            Err(e) => {
                bad.push(Reject {
                    row,
                    field: "timestamp".into(),
                    reason: e,
                });
                return Ok(());
            }
        };
        match get(vi).parse::<f64>() {
            Ok(v) if v.is_finite() => {
                let c = if fahrenheit { f_to_c(v) } else { v };
                if !(-90.0..=60.0).contains(&c) {
                    bad.push(Reject {
                        row,
                        field: vname.clone(),
                        reason: format!("{c:.1} °C 超出 −90…60 °C / outside −90…60 °C"),
                    });
                } else {
                    ok.push(TempRow {
                        ts,
                        grain,
                        temperature_c: c,
                    });
                }
            }
            _ => bad.push(Reject {
                row,
                field: vname.clone(),
                reason: format!("`{}` 不是有效数值 / not a finite number", get(vi)),
            }),
        }
        Ok(())
    })?;
    if idx.is_none() {
        return Err(header_error());
    }
    Ok((ok, bad))
}

fn header_error() -> UploadError {
    UploadError::new(
        UploadErrorKind::Invalid,
        "CSV 表头须含 timestamp 与 temperature_c (或 temperature_f) / header must name timestamp and temperature_c (or temperature_f)",
    )
    .with_field("header")
}

/// Stores temperatures for a city, all or nothing: if any row was rejected nothing is stored.
/// Idempotent on (city, grain, ts): a re-sent value replaces the stored one.
pub async fn import<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    city_id: i64,
    rows: &[TempRow],
    rejects: Vec<Reject>,
) -> Result<WeatherReport, StoreError> {
    let received = rows.len() + rejects.len();
    if !rejects.is_empty() {
        return Ok(WeatherReport {
            received,
            stored: 0,
            rejected: rejects.len(),
            rejects,
        });
    }
    let txn = db.begin_write().await?;
    for chunk in rows.chunks(5000) {
        let mut q =
            String::from("INSERT INTO mt_weather (city_id, grain, ts, temperature_c) VALUES ");
        let mut v: Vec<Value> = Vec::with_capacity(chunk.len() * 2);
        for (k, r) in chunk.iter().enumerate() {
            if k > 0 {
                q.push(',');
            }
            let g = if r.grain == 'd' { 'd' } else { 'h' };
            q.push_str(&format!("({city_id},'{g}',?,?)"));
            v.extend([r.ts.into(), r.temperature_c.into()]);
        }
        q.push_str(" ON CONFLICT (city_id, grain, ts) DO UPDATE SET temperature_c = excluded.temperature_c");
        sql::exec(&txn, &q, v).await?;
    }
    txn.commit().await?;
    Ok(WeatherReport {
        received,
        stored: rows.len(),
        rejected: 0,
        rejects: Vec::new(),
    })
}

fn local(ts: i64) -> Instant {
    chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .with_timezone(&domain::local_offset())
}

/// Hourly temperatures (°F, for the engine) of a city over `[from, to)`: stored hourly readings,
/// plus 24 equal readings for each day known only by its daily mean.
pub async fn temperatures(
    db: &impl ConnectionTrait,
    city_id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<TemperatureReading>, StoreError> {
    let rows = sql::all(
        db,
        "SELECT grain, ts, temperature_c FROM mt_weather WHERE city_id = ? AND ts >= ? AND ts < ? ORDER BY ts",
        vec![city_id.into(), (from - 86400).into(), to.into()],
    )
    .await?;
    let mut hourly: BTreeMap<i64, f64> = BTreeMap::new();
    let mut daily: BTreeMap<i64, f64> = BTreeMap::new();
    for r in rows {
        let g: String = r.try_get("", "grain")?;
        let ts: i64 = r.try_get("", "ts")?;
        let c: f64 = r.try_get("", "temperature_c")?;
        if g == "d" {
            daily.insert(ts, c);
        } else if ts >= from {
            hourly.insert(ts, c);
        }
    }
    let days_with_hours: std::collections::BTreeSet<i64> =
        hourly.keys().map(|t| domain::day_bucket(*t)).collect();
    for (d, c) in daily {
        if days_with_hours.contains(&d) || d + 86400 <= from {
            continue;
        }
        for h in 0..24 {
            hourly.entry(d + h * 3600).or_insert(c);
        }
    }
    Ok(hourly
        .into_iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .map(|(t, c)| TemperatureReading {
            at: local(t),
            fahrenheit: c_to_f(c),
        })
        .collect())
}

/// Daily mean temperature (°C) of a city over `[from, to)`, by local-day start.
pub async fn daily_means(
    db: &impl ConnectionTrait,
    city_id: i64,
    from: i64,
    to: i64,
) -> Result<BTreeMap<i64, f64>, StoreError> {
    let mut acc: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for t in temperatures(db, city_id, from, to).await? {
        let e = acc.entry(domain::day_bucket(t.at.timestamp())).or_default();
        e.0 += f_to_c(t.fahrenheit);
        e.1 += 1;
    }
    Ok(acc
        .into_iter()
        .filter(|(_, (_, n))| *n >= 12)
        .map(|(d, (s, n))| (d, s / n as f64))
        .collect())
}

/// One day of a baseline-vs-actual comparison.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BaselineDay {
    pub day: i64,
    /// Metered use that day.
    pub actual: f64,
    /// The baseline model's prediction at that day's temperature (adjusted baseline).
    pub baseline: f64,
    pub temperature_c: Option<f64>,
}

/// A CalTRACK daily baseline of one meter and its reporting-period comparison.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemperatureBaseline {
    pub meter_id: i64,
    pub energy_type: String,
    pub measure_unit: String,
    pub baseline_from: i64,
    pub baseline_to: i64,
    pub reporting_from: i64,
    pub reporting_to: i64,
    /// intercept_only | hdd_only | cdd_only | cdd_hdd.
    pub model_type: String,
    /// Balance points, °C (the engine fits on a 1 °F grid).
    pub heating_balance_point_c: Option<f64>,
    pub cooling_balance_point_c: Option<f64>,
    /// Usage per day at zero degree days.
    pub intercept: f64,
    /// Usage per °C heating / cooling degree day.
    pub heating_slope_per_c: Option<f64>,
    pub cooling_slope_per_c: Option<f64>,
    pub r2_adj: f64,
    pub cvrmse: f64,
    pub nmbe: f64,
    /// Baseline days used in the fit.
    pub n: usize,
    /// Engine warnings (data sufficiency, selection), as `code: detail`.
    pub warnings: Vec<String>,
    /// Σ metered use over the reporting days.
    pub actual: f64,
    /// Σ adjusted baseline over the same days.
    pub baseline: f64,
    /// Avoided energy use = baseline − actual (CalTRACK 3.6.1).
    pub avoided: f64,
    pub fractional_savings: f64,
    /// Fractional savings uncertainty at 90 % confidence.
    pub fsu: Option<f64>,
    pub daily: Vec<BaselineDay>,
}

/// Daily usage periods of a meter over `[from, to)` from its daily rollups (local days).
async fn daily_usage(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<UsagePeriod>, StoreError> {
    Ok(store::rollup_series(db, city_id, meter_id, "d", from, to)
        .await?
        .into_iter()
        .map(|p| UsagePeriod {
            start: local(p.ts),
            end: local(p.ts + 86400),
            value: Some(p.value),
        })
        .collect())
}

fn type_name(t: qcity_mv::caltrack::ModelType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{t:?}"))
}

/// Fits a CalTRACK 2.0 daily model (electricity: all four candidates; other energy: the gas
/// candidates, intercept-only and HDD-only) on a meter's daily use and the city's temperatures
/// over the baseline period, then compares it with the reporting period.
pub async fn baseline(
    db: &impl ConnectionTrait,
    city_id: i64,
    m: &Meter,
    baseline: (i64, i64),
    reporting: (i64, i64),
) -> Result<TemperatureBaseline, StoreError> {
    let fuel = if m.energy_type == "electricity" {
        Fuel::Electricity
    } else {
        Fuel::Gas
    };
    let settings = CaltrackSettings::daily(fuel);
    let bu = daily_usage(db, city_id, m.id, baseline.0, baseline.1).await?;
    let bt = temperatures(db, city_id, baseline.0, baseline.1).await?;
    if bt.is_empty() {
        return Err(StoreError::invalid(
            "temperature",
            "基准期无室外气温数据 / no outdoor temperatures for the baseline period",
        ));
    }
    let model = fit_caltrack(&bu, &bt, &settings)
        .map_err(|e| StoreError::invalid("baseline", e.to_string()))?;
    let ru = daily_usage(db, city_id, m.id, reporting.0, reporting.1).await?;
    let rt = temperatures(db, city_id, reporting.0, reporting.1).await?;
    let sv = avoided_energy_caltrack(&model, &ru, &rt)
        .map_err(|e| StoreError::invalid("reporting", e.to_string()))?;
    let temps = daily_means(db, city_id, reporting.0, reporting.1).await?;
    let s = &model.selected;
    let mut warnings: Vec<String> = model
        .warnings
        .iter()
        .chain(sv.warnings.iter())
        .map(|w| format!("{}: {}", w.code, w.detail))
        .collect();
    warnings.dedup();
    Ok(TemperatureBaseline {
        meter_id: m.id,
        energy_type: m.energy_type.clone(),
        measure_unit: m.measure_unit.clone(),
        baseline_from: baseline.0,
        baseline_to: baseline.1,
        reporting_from: reporting.0,
        reporting_to: reporting.1,
        model_type: type_name(s.model_type),
        heating_balance_point_c: s.heating_balance_point.map(f_to_c),
        cooling_balance_point_c: s.cooling_balance_point.map(f_to_c),
        intercept: s.intercept,
        heating_slope_per_c: s.heating_slope.map(|b| b * 9.0 / 5.0),
        cooling_slope_per_c: s.cooling_slope.map(|b| b * 9.0 / 5.0),
        r2_adj: s.r2_adj,
        cvrmse: model.metrics.cvrmse,
        nmbe: model.metrics.nmbe,
        n: model.n,
        warnings,
        actual: sv.observed,
        baseline: sv.predicted,
        avoided: sv.avoided,
        fractional_savings: sv.fractional_savings,
        fsu: sv.fsu.map(|f| f.fsu),
        daily: sv
            .periods
            .iter()
            .map(|p| {
                let d = domain::day_bucket(p.start.timestamp());
                BaselineDay {
                    day: d,
                    actual: p.observed,
                    baseline: p.predicted,
                    temperature_c: temps.get(&d).copied(),
                }
            })
            .collect(),
    })
}

/// The meter a unit's temperature baseline uses by default: among the meters that make up the
/// unit's total (site level first), the first electricity meter with data, else the first meter
/// with data.
pub async fn default_meter<'a>(
    db: &impl ConnectionTrait,
    city_id: i64,
    ms: &'a [Meter],
) -> Result<Option<&'a Meter>, StoreError> {
    let mut tops: Vec<&Meter> = crate::analysis::total_meters(ms);
    tops.sort_by_key(|m| (m.energy_type != "electricity", m.level != "site"));
    for m in tops {
        if store::last_ts(db, city_id, m.id).await?.is_some() {
            return Ok(Some(m));
        }
    }
    Ok(None)
}
