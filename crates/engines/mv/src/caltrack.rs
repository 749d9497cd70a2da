//! CalTRACK 2.0 daily and billing "usage per day" (UPD) models: degree days, balance-point
//! grid search, candidate models, qualification, adjusted-R² selection, billing weights and
//! data sufficiency (`openeemeter/caltrack: docs/methods.rst`, sections 2–3).

use crate::error::{MvError, Result};
use crate::linalg::{Moments, t_critical, two_sided_p, wls, wls_from_moments};
use crate::metrics::{FitMetrics, fit_metrics};
use crate::series::{Instant, TemperatureReading, UsagePeriod};
use crate::warning::MvWarning;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Energy carrier; gas models never use cooling degree days (CalTRACK 3.4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fuel {
    /// Electricity: all four candidates; a 0 reading counts as missing (2.2.1.4).
    Electricity,
    /// Gas: intercept-only and HDD-only candidates.
    Gas,
}

/// Resolution of the baseline data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// One period per day (OLS).
    Daily,
    /// Billing periods (WLS, weight = days in the period, CalTRACK 3.4.2).
    Billing,
}

/// Candidate model form (CalTRACK 3.4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    /// `UPD = μ`.
    InterceptOnly,
    /// `UPD = μ + β_H·HDD`.
    HddOnly,
    /// `UPD = μ + β_C·CDD`.
    CddOnly,
    /// `UPD = μ + β_H·HDD + β_C·CDD`.
    CddHdd,
}

/// Settings of a CalTRACK fit; [`CaltrackSettings::daily`] and [`CaltrackSettings::billing`]
/// give the specification's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaltrackSettings {
    /// Daily or billing.
    pub kind: PeriodKind,
    /// Electricity or gas.
    pub fuel: Fuel,
    /// Heating balance-point grid, °F (CalTRACK 3.2.1: 30–90 °F, step ≤ 3 °F).
    pub heating_balance_points: Vec<f64>,
    /// Cooling balance-point grid, °F.
    pub cooling_balance_points: Vec<f64>,
    /// Minimum periods with non-zero degree days for a candidate to be tried (daily 10, billing 0).
    pub min_non_zero_degree_days: usize,
    /// Minimum total degree days (Σ mean DD × kept days) for a candidate to be tried (20).
    pub min_total_degree_days: f64,
    /// Maximum p-value of a slope for qualification. CalTRACK 2.0 (3.4.3.2) qualifies on
    /// non-negative estimates only, so the default is 1 (screen off, as eemeter 2.x);
    /// set 0.1 for the p-value screen discussed in the appendix (CalTRACK issue #76).
    pub max_p_value: f64,
    /// A day's temperature needs this fraction of its 24 hourly readings (0.5).
    pub min_day_temperature_coverage: f64,
    /// A billing period needs this fraction of its hours with temperature (0.9).
    pub min_period_temperature_coverage: f64,
    /// Required baseline length in days (365, CalTRACK 2.2.1).
    pub baseline_days: i64,
    /// Minimum fraction of baseline days with valid usage and temperature (0.9, ≤ 37 missing).
    pub min_fraction_daily_coverage: f64,
}

impl CaltrackSettings {
    /// CalTRACK daily defaults with a 1 °F grid over 30–90 °F.
    pub fn daily(fuel: Fuel) -> Self {
        let grid: Vec<f64> = (30..=90).map(f64::from).collect();
        CaltrackSettings {
            kind: PeriodKind::Daily,
            fuel,
            heating_balance_points: grid.clone(),
            cooling_balance_points: grid,
            min_non_zero_degree_days: 10,
            min_total_degree_days: 20.0,
            max_p_value: 1.0,
            min_day_temperature_coverage: 0.5,
            min_period_temperature_coverage: 0.9,
            baseline_days: 365,
            min_fraction_daily_coverage: 0.9,
        }
    }

    /// CalTRACK billing defaults (no non-zero-day minimum, WLS).
    pub fn billing(fuel: Fuel) -> Self {
        CaltrackSettings {
            kind: PeriodKind::Billing,
            min_non_zero_degree_days: 0,
            ..Self::daily(fuel)
        }
    }
}

/// One usage period joined with its daily temperatures: a row of the design matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignPeriod {
    /// Period start.
    pub start: Instant,
    /// Period end (exclusive).
    pub end: Instant,
    /// Days in the period.
    pub n_days: usize,
    /// Days with a valid daily temperature.
    pub n_days_kept: usize,
    /// Usage over the period (`None` = missing or rejected).
    pub usage: Option<f64>,
    /// Daily mean temperatures of the kept days, °F.
    pub day_temperatures: Vec<f64>,
}

impl DesignPeriod {
    /// Usage per day.
    pub fn upd(&self) -> Option<f64> {
        self.usage.map(|u| u / self.n_days as f64)
    }

    /// Mean heating degree days per day at balance point `bp` (CalTRACK 3.3.4).
    pub fn hdd(&self, bp: f64) -> f64 {
        mean_dd(&self.day_temperatures, |t| (bp - t).max(0.0))
    }

    /// Mean cooling degree days per day at balance point `bp` (CalTRACK 3.3.5).
    pub fn cdd(&self, bp: f64) -> f64 {
        mean_dd(&self.day_temperatures, |t| (t - bp).max(0.0))
    }

    fn usable(&self) -> bool {
        self.usage.is_some() && self.n_days_kept > 0
    }
}

fn mean_dd(temps: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    if temps.is_empty() {
        return 0.0;
    }
    temps.iter().map(|t| f(*t)).sum::<f64>() / temps.len() as f64
}

/// Aggregates sub-daily usage (e.g. hourly) to local days in the offset of the first
/// period: a day needs ≥ 50 % of its hours, and its value is 24 × the mean hourly use
/// (CalTRACK 2.2.2.1). Periods already ≥ 1 day long are returned unchanged.
pub fn to_daily_usage(usage: &[UsagePeriod]) -> Vec<UsagePeriod> {
    let Some(first) = usage.first() else {
        return Vec::new();
    };
    if usage.iter().all(|p| p.hours() >= 23.0) {
        return usage.to_vec();
    }
    let off = *first.start.offset();
    let mut acc: BTreeMap<NaiveDate, (f64, f64)> = BTreeMap::new();
    for p in usage {
        let d = p.start.with_timezone(&off).date_naive();
        let e = acc.entry(d).or_insert((0.0, 0.0));
        if let Some(v) = p.value {
            e.0 += v;
            e.1 += p.hours();
        }
    }
    acc.into_iter()
        .filter_map(|(d, (sum, hours))| {
            let start = d.and_hms_opt(0, 0, 0)?.and_local_timezone(off).single()?;
            let value = if hours >= 12.0 {
                Some(sum / hours * 24.0)
            } else {
                None
            };
            Some(UsagePeriod {
                start,
                end: start + Duration::days(1),
                value,
            })
        })
        .collect()
}

/// Merges each estimated bill into the following period (its usage added, its start taken)
/// as long as the merged period stays within `max_days` (70); an estimated bill that cannot
/// be merged is kept but its usage set missing (CalTRACK 2.2.3.3).
pub fn merge_estimated_reads(
    periods: &[UsagePeriod],
    estimated: &[bool],
    max_days: i64,
) -> Vec<UsagePeriod> {
    let mut out: Vec<UsagePeriod> = Vec::with_capacity(periods.len());
    let mut pending: Option<UsagePeriod> = None;
    for (i, p) in periods.iter().enumerate() {
        let mut cur = *p;
        if let Some(e) = pending.take() {
            if e.end == cur.start && (cur.end - e.start).num_days() <= max_days {
                cur.start = e.start;
                cur.value = match (e.value, cur.value) {
                    (Some(a), Some(b)) => Some(a + b),
                    _ => None,
                };
            } else {
                out.push(UsagePeriod { value: None, ..e });
            }
        }
        if estimated.get(i).copied().unwrap_or(false) {
            pending = Some(cur);
        } else {
            out.push(cur);
        }
    }
    if let Some(e) = pending {
        out.push(UsagePeriod { value: None, ..e });
    }
    out
}

/// Days of a period: consecutive 24-hour blocks from its start (for periods starting at
/// local midnight these are the local days in the period's own offset; billing reads taken
/// at another hour get 24-hour blocks from the read time, as eemeter does).
fn period_days(p: &UsagePeriod) -> usize {
    ((p.end - p.start).num_seconds() as f64 / 86_400.0)
        .round()
        .max(1.0) as usize
}

/// Joins usage periods with daily mean temperatures (see [`DesignPeriod`]): a day is kept
/// when more than `min_day_temperature_coverage` of its 24 hourly readings exist (2.2.2.3);
/// a billing period keeps no day when fewer than `min_period_temperature_coverage` of its
/// hours have temperatures (2.2.3.2). Applies the electricity zero rule and the billing
/// period-length rules (drop < 25 days; > 35 days monthly or > 70 days bimonthly, 2.2.3).
pub fn design_periods(
    usage: &[UsagePeriod],
    temps: &[TemperatureReading],
    settings: &CaltrackSettings,
) -> (Vec<DesignPeriod>, Vec<MvWarning>) {
    let mut warnings = Vec::new();
    let mut sorted: Vec<(i64, f64)> = temps
        .iter()
        .map(|t| (t.at.timestamp(), t.fahrenheit))
        .collect();
    sorted.sort_by_key(|t| t.0);
    let mut prefix = Vec::with_capacity(sorted.len() + 1);
    prefix.push(0.0);
    for (_, v) in &sorted {
        let last = prefix.last().copied().unwrap_or(0.0);
        prefix.push(last + v);
    }
    let block = |a: i64, b: i64| -> (usize, f64) {
        let i = sorted.partition_point(|t| t.0 < a);
        let j = sorted.partition_point(|t| t.0 < b);
        (j - i, prefix[j] - prefix[i])
    };
    let mut lengths: Vec<usize> = usage.iter().map(period_days).collect();
    lengths.sort_unstable();
    let median_len = lengths.get(lengths.len() / 2).copied().unwrap_or(1);
    let max_len = if median_len > 35 { 70 } else { 35 };
    let mut dropped_len = 0usize;
    let mut zero_as_missing = 0usize;
    let mut out = Vec::with_capacity(usage.len());
    for p in usage {
        let n_days = period_days(p);
        let s0 = p.start.timestamp();
        let mut kept = Vec::with_capacity(n_days);
        let mut hours = 0usize;
        for i in 0..n_days as i64 {
            let (n, sum) = block(s0 + i * 86_400, s0 + (i + 1) * 86_400);
            hours += n;
            if n > 0 && n as f64 > 24.0 * settings.min_day_temperature_coverage {
                kept.push(sum / n as f64);
            }
        }
        let mut usage_value = p.value;
        if settings.fuel == Fuel::Electricity && usage_value == Some(0.0) {
            usage_value = None;
            zero_as_missing += 1;
        }
        if settings.kind == PeriodKind::Billing {
            if (hours as f64) < settings.min_period_temperature_coverage * 24.0 * n_days as f64 {
                kept.clear();
            }
            if n_days < 25 || n_days > max_len {
                usage_value = None;
                dropped_len += 1;
            }
        }
        out.push(DesignPeriod {
            start: p.start,
            end: p.end,
            n_days,
            n_days_kept: kept.len(),
            usage: usage_value,
            day_temperatures: kept,
        });
    }
    if zero_as_missing > 0 {
        warnings.push(MvWarning::new(
            "caltrack.data.zero_usage_as_missing",
            format!("{zero_as_missing} zero electricity readings treated as missing (2.2.1.4)"),
        ));
    }
    if dropped_len > 0 {
        warnings.push(MvWarning::new(
            "caltrack.billing.period_length_out_of_range",
            format!("{dropped_len} billing periods shorter than 25 or longer than {max_len} days dropped (2.2.3)"),
        ));
    }
    (out, warnings)
}

/// Outcome of the data-sufficiency rules (CalTRACK 2.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sufficiency {
    /// `true` when every rule passed.
    pub pass: bool,
    /// Days spanned by the baseline.
    pub n_days_total: i64,
    /// Days with valid usage and temperature.
    pub n_days_valid: usize,
    /// Rule failures and warnings.
    pub warnings: Vec<MvWarning>,
}

/// Applies CalTRACK 2.2 sufficiency rules: the baseline spans `baseline_days` days, at most
/// 10 % of days lack valid usage or temperature, plus warnings for negative values and for
/// values beyond median + 3·IQR (2.3.5–2.3.6).
pub fn sufficiency(design: &[DesignPeriod], settings: &CaltrackSettings) -> Sufficiency {
    let mut warnings = Vec::new();
    let (Some(first), Some(last)) = (design.first(), design.last()) else {
        return Sufficiency {
            pass: false,
            n_days_total: 0,
            n_days_valid: 0,
            warnings: vec![MvWarning::new("caltrack.sufficiency.no_data", "no data")],
        };
    };
    let span = (last.end - first.start).num_seconds() as f64 / 86_400.0;
    let n_days_total = span.round() as i64;
    let n_days_valid: usize = design
        .iter()
        .filter(|p| p.usage.is_some())
        .map(|p| p.n_days_kept)
        .sum();
    let mut pass = true;
    if n_days_total < settings.baseline_days {
        pass = false;
        warnings.push(MvWarning::new(
            "caltrack.sufficiency.too_few_days",
            format!(
                "baseline spans {n_days_total} days; {} required (2.2.1)",
                settings.baseline_days
            ),
        ));
    }
    let frac = n_days_valid as f64 / n_days_total.max(1) as f64;
    if frac < settings.min_fraction_daily_coverage {
        pass = false;
        warnings.push(MvWarning::new(
            "caltrack.sufficiency.too_many_missing_days",
            format!(
                "{n_days_valid} of {n_days_total} days valid ({:.1} %); {:.0} % required (2.2.1)",
                frac * 100.0,
                settings.min_fraction_daily_coverage * 100.0
            ),
        ));
    }
    let upd: Vec<f64> = design.iter().filter_map(|p| p.upd()).collect();
    let negatives = upd.iter().filter(|v| **v < 0.0).count();
    if negatives > 0 {
        warnings.push(MvWarning::new(
            "caltrack.data.negative_values",
            format!("{negatives} negative usage values (possible net metering, 2.3.5)"),
        ));
    }
    if let Some(limit) = crate::vee::outlier_limit(&upd, 3.0) {
        let extreme = upd.iter().filter(|v| **v > limit).count();
        if extreme > 0 {
            warnings.push(MvWarning::new(
                "caltrack.data.extreme_values",
                format!("{extreme} values above median + 3·IQR = {limit:.3} (2.3.6)"),
            ));
        }
    }
    Sufficiency {
        pass,
        n_days_total,
        n_days_valid,
        warnings,
    }
}

/// Whether a candidate was fitted and qualified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    /// Fitted and met every qualification rule.
    Qualified,
    /// Fitted but a slope was ≤ 0 or its p-value too high (or the intercept negative).
    Disqualified,
    /// Not fitted: too few non-zero degree days or too few total degree days.
    NotAttempted,
}

/// One fitted candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Model form.
    pub model_type: ModelType,
    /// Qualification outcome.
    pub status: CandidateStatus,
    /// Heating balance point, °F.
    pub heating_balance_point: Option<f64>,
    /// Cooling balance point, °F.
    pub cooling_balance_point: Option<f64>,
    /// μ.
    #[serde(with = "crate::metrics::nan_as_null")]
    pub intercept: f64,
    /// β_H.
    pub heating_slope: Option<f64>,
    /// β_C.
    pub cooling_slope: Option<f64>,
    /// p-value of β_H (filled for the selected candidate by [`Candidate::with_p_values`]).
    pub heating_p_value: Option<f64>,
    /// p-value of β_C.
    pub cooling_p_value: Option<f64>,
    /// Adjusted R² (0 for intercept-only).
    #[serde(with = "crate::metrics::nan_as_null")]
    pub r2_adj: f64,
    /// t statistics of the slopes (heating first).
    pub t_stats: Vec<f64>,
    /// Residual degrees of freedom of the fit.
    #[serde(with = "crate::metrics::nan_as_null")]
    pub df_resid: f64,
    /// Why it was disqualified or not attempted.
    pub warnings: Vec<MvWarning>,
}

impl Candidate {
    /// Fills the slopes' two-sided p-values from their t statistics (the grid search
    /// qualifies by comparing |t| with the critical value and skips p-values).
    pub fn with_p_values(mut self) -> Self {
        let p: Vec<f64> = self
            .t_stats
            .iter()
            .map(|t| two_sided_p(*t, self.df_resid))
            .collect();
        let mut it = p.into_iter();
        if self.heating_slope.is_some() {
            self.heating_p_value = it.next();
        }
        if self.cooling_slope.is_some() {
            self.cooling_p_value = it.next();
        }
        self
    }

    /// Predicted usage per day at the given mean HDD/CDD (computed at this candidate's
    /// balance points by the caller).
    pub fn upd(&self, hdd: f64, cdd: f64) -> f64 {
        self.intercept
            + self.heating_slope.unwrap_or(0.0) * hdd
            + self.cooling_slope.unwrap_or(0.0) * cdd
    }
}

/// Rows of a fit: usage per day, weights and the periods' daily temperatures.
#[derive(Debug, Clone)]
pub struct FitData {
    /// Usage per day.
    pub upd: Vec<f64>,
    /// Weights (1 for daily; kept days for billing).
    pub weights: Option<Vec<f64>>,
    /// Kept days per row.
    pub kept_days: Vec<f64>,
    /// Daily temperatures of each row.
    pub temps: Vec<Vec<f64>>,
    /// Memo of critical t values keyed by (df, max p).
    pub t_cache: std::cell::RefCell<Vec<(f64, f64, f64)>>,
}

impl FitData {
    /// Builds the fit rows from design periods.
    pub fn new(design: &[DesignPeriod], kind: PeriodKind) -> Self {
        let rows: Vec<&DesignPeriod> = design.iter().filter(|p| p.usable()).collect();
        let kept_days: Vec<f64> = rows.iter().map(|p| p.n_days_kept as f64).collect();
        FitData {
            upd: rows.iter().filter_map(|p| p.upd()).collect(),
            weights: (kind == PeriodKind::Billing).then(|| kept_days.clone()),
            kept_days,
            temps: rows.iter().map(|p| p.day_temperatures.clone()).collect(),
            t_cache: Default::default(),
        }
    }

    /// Weighted moments of `upd ~ 1 + cols` in one pass (grid-search fast path).
    pub fn moments(&self, cols: &[&[f64]]) -> Moments {
        let k = cols.len() + 1;
        let mut xtx = vec![0.0; k * k];
        let mut xty = vec![0.0; k];
        let mut yty = 0.0;
        let mut x = [0.0f64; 4];
        for (i, y) in self.upd.iter().enumerate() {
            let w = self.weights.as_ref().map_or(1.0, |w| w[i]);
            x[0] = 1.0;
            for (j, c) in cols.iter().enumerate().take(3) {
                x[j + 1] = c[i];
            }
            yty += w * y * y;
            for a in 0..k.min(4) {
                let wa = w * x[a];
                xty[a] += wa * y;
                for b in 0..=a {
                    xtx[a * k + b] += wa * x[b];
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                xtx[b * k + a] = xtx[a * k + b];
            }
        }
        Moments {
            xtx,
            xty,
            yty,
            n: self.upd.len(),
        }
    }

    /// Critical |t| for a two-sided test at level `max_p` with `df` degrees of freedom.
    pub fn t_crit(&self, df: f64, max_p: f64) -> f64 {
        if max_p <= 0.0 {
            return f64::INFINITY;
        }
        if let Some(c) = self
            .t_cache
            .borrow()
            .iter()
            .find(|(d, p, _)| *d == df && *p == max_p)
        {
            return c.2;
        }
        let c = t_critical(1.0 - max_p, df);
        self.t_cache.borrow_mut().push((df, max_p, c));
        c
    }

    fn hdd(&self, bp: f64) -> Vec<f64> {
        self.temps
            .iter()
            .map(|t| mean_dd(t, |x| (bp - x).max(0.0)))
            .collect()
    }

    fn cdd(&self, bp: f64) -> Vec<f64> {
        self.temps
            .iter()
            .map(|t| mean_dd(t, |x| (x - bp).max(0.0)))
            .collect()
    }
}

/// Fits the intercept-only candidate.
pub fn intercept_only_candidate(data: &FitData) -> Result<Candidate> {
    let fit = wls(&[], &data.upd, data.weights.as_deref(), true)?;
    let mut warnings = Vec::new();
    let intercept = fit.beta[0];
    if intercept < 0.0 {
        warnings.push(MvWarning::new(
            "caltrack.candidate.intercept_negative",
            format!("intercept {intercept:.4} < 0"),
        ));
    }
    Ok(Candidate {
        model_type: ModelType::InterceptOnly,
        status: if warnings.is_empty() {
            CandidateStatus::Qualified
        } else {
            CandidateStatus::Disqualified
        },
        heating_balance_point: None,
        cooling_balance_point: None,
        intercept,
        heating_slope: None,
        cooling_slope: None,
        heating_p_value: None,
        cooling_p_value: None,
        r2_adj: 0.0,
        t_stats: Vec::new(),
        df_resid: fit.df_resid,
        warnings,
    })
}

fn dd_sufficient(
    name: &str,
    bp: f64,
    dd: &[f64],
    kept: &[f64],
    settings: &CaltrackSettings,
    warnings: &mut Vec<MvWarning>,
) -> bool {
    let non_zero = dd.iter().filter(|v| **v > 0.0).count();
    let total: f64 = dd.iter().zip(kept).map(|(d, k)| d * k).sum();
    let mut ok = true;
    if non_zero < settings.min_non_zero_degree_days {
        ok = false;
        warnings.push(MvWarning::new(
            &format!("caltrack.candidate.too_few_non_zero_{name}"),
            format!(
                "{non_zero} periods with non-zero {name} at {bp} °F; {} required (3.2.2)",
                settings.min_non_zero_degree_days
            ),
        ));
    }
    if total < settings.min_total_degree_days {
        ok = false;
        warnings.push(MvWarning::new(
            &format!("caltrack.candidate.total_{name}_too_low"),
            format!(
                "total {name} {total:.1} at {bp} °F; {} required (3.2.2)",
                settings.min_total_degree_days
            ),
        ));
    }
    ok
}

/// CalTRACK 3.4.3.2.3: the intercept must not be negative.
fn intercept_not_negative(mu: f64, warnings: &mut Vec<MvWarning>) {
    if mu < 0.0 {
        warnings.push(MvWarning::new(
            "caltrack.candidate.intercept_negative",
            format!("intercept {mu:.4} < 0 (3.4.3.2.3)"),
        ));
    }
}

/// Two-sided p < max_p ⇔ |t| > t_{1−max_p/2, df}: qualification needs no p-value.
fn qualify(name: &str, slope: f64, t: f64, t_crit: f64, max_p: f64, warnings: &mut Vec<MvWarning>) {
    let p_ok = max_p >= 1.0 || (t.is_finite() && t.abs() > t_crit);
    if slope <= 0.0 {
        warnings.push(MvWarning::new(
            &format!("caltrack.candidate.{name}_slope_not_positive"),
            format!("{name} slope {slope:.4} ≤ 0 (3.4.3.2)"),
        ));
    }
    if !p_ok {
        warnings.push(MvWarning::new(
            &format!("caltrack.candidate.{name}_p_value_too_high"),
            format!(
                "{name} slope p-value ≥ {max_p} (|t| = {:.3}, 3.4.3.2)",
                t.abs()
            ),
        ));
    }
}

fn not_attempted(
    model_type: ModelType,
    h: Option<f64>,
    c: Option<f64>,
    warnings: Vec<MvWarning>,
) -> Candidate {
    Candidate {
        model_type,
        status: CandidateStatus::NotAttempted,
        heating_balance_point: h,
        cooling_balance_point: c,
        intercept: f64::NAN,
        heating_slope: None,
        cooling_slope: None,
        heating_p_value: None,
        cooling_p_value: None,
        r2_adj: f64::NAN,
        t_stats: Vec::new(),
        df_resid: f64::NAN,
        warnings,
    }
}

/// Fits a single-degree-day candidate (HDD-only or CDD-only) at one balance point, from
/// precomputed mean degree days per row.
pub fn single_dd_candidate(
    data: &FitData,
    model_type: ModelType,
    bp: f64,
    dd: &[f64],
    settings: &CaltrackSettings,
) -> Result<Candidate> {
    let heating = model_type == ModelType::HddOnly;
    let name = if heating { "hdd" } else { "cdd" };
    let (h, c) = if heating {
        (Some(bp), None)
    } else {
        (None, Some(bp))
    };
    let mut warnings = Vec::new();
    if !dd_sufficient(name, bp, dd, &data.kept_days, settings, &mut warnings) {
        return Ok(not_attempted(model_type, h, c, warnings));
    }
    let fit = wls_from_moments(&data.moments(&[dd]))?;
    let (slope, t) = (fit.beta[1], fit.t_stats[1]);
    let t_crit = data.t_crit(fit.df_resid, settings.max_p_value);
    qualify(name, slope, t, t_crit, settings.max_p_value, &mut warnings);
    intercept_not_negative(fit.beta[0], &mut warnings);
    Ok(Candidate {
        model_type,
        status: if warnings.is_empty() {
            CandidateStatus::Qualified
        } else {
            CandidateStatus::Disqualified
        },
        heating_balance_point: h,
        cooling_balance_point: c,
        intercept: fit.beta[0],
        heating_slope: heating.then_some(slope),
        cooling_slope: (!heating).then_some(slope),
        heating_p_value: None,
        cooling_p_value: None,
        t_stats: vec![t],
        df_resid: fit.df_resid,
        r2_adj: fit.r2_adj,
        warnings,
    })
}

/// Fits the HDD+CDD candidate at one pair of balance points.
pub fn cdd_hdd_candidate(
    data: &FitData,
    hbp: f64,
    hdd: &[f64],
    cbp: f64,
    cdd: &[f64],
    settings: &CaltrackSettings,
) -> Result<Candidate> {
    let mut warnings = Vec::new();
    let ok_h = dd_sufficient("hdd", hbp, hdd, &data.kept_days, settings, &mut warnings);
    let ok_c = dd_sufficient("cdd", cbp, cdd, &data.kept_days, settings, &mut warnings);
    if !(ok_h && ok_c) {
        return Ok(not_attempted(
            ModelType::CddHdd,
            Some(hbp),
            Some(cbp),
            warnings,
        ));
    }
    let fit = wls_from_moments(&data.moments(&[hdd, cdd]))?;
    let t_crit = data.t_crit(fit.df_resid, settings.max_p_value);
    let m = settings.max_p_value;
    qualify("hdd", fit.beta[1], fit.t_stats[1], t_crit, m, &mut warnings);
    qualify("cdd", fit.beta[2], fit.t_stats[2], t_crit, m, &mut warnings);
    intercept_not_negative(fit.beta[0], &mut warnings);
    Ok(Candidate {
        model_type: ModelType::CddHdd,
        status: if warnings.is_empty() {
            CandidateStatus::Qualified
        } else {
            CandidateStatus::Disqualified
        },
        heating_balance_point: Some(hbp),
        cooling_balance_point: Some(cbp),
        intercept: fit.beta[0],
        heating_slope: Some(fit.beta[1]),
        cooling_slope: Some(fit.beta[2]),
        heating_p_value: None,
        cooling_p_value: None,
        r2_adj: fit.r2_adj,
        t_stats: vec![fit.t_stats[1], fit.t_stats[2]],
        df_resid: fit.df_resid,
        warnings,
    })
}

/// Picks the qualified candidate with the highest adjusted R² (CalTRACK 3.4.3.3); the
/// first one wins ties.
pub fn select_best(candidates: &[Candidate]) -> Option<&Candidate> {
    candidates
        .iter()
        .filter(|c| c.status == CandidateStatus::Qualified && c.r2_adj.is_finite())
        .fold(None, |best: Option<&Candidate>, c| match best {
            Some(b) if b.r2_adj >= c.r2_adj => Some(b),
            _ => Some(c),
        })
}

/// A fitted CalTRACK daily or billing model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaltrackModel {
    /// Daily or billing.
    pub kind: PeriodKind,
    /// Electricity or gas.
    pub fuel: Fuel,
    /// The selected candidate.
    pub selected: Candidate,
    /// Fit metrics on period totals (c = number of slopes).
    pub metrics: FitMetrics,
    /// Data sufficiency outcome.
    pub sufficiency: Sufficiency,
    /// Candidates tried, counted by (type, status).
    pub candidate_counts: Vec<(ModelType, CandidateStatus, usize)>,
    /// Warnings from data preparation, sufficiency and selection.
    pub warnings: Vec<MvWarning>,
    /// Periods used in the fit.
    pub n: usize,
    /// Baseline start.
    pub baseline_start: Option<Instant>,
    /// Baseline end.
    pub baseline_end: Option<Instant>,
}

impl CaltrackModel {
    /// Predicted usage per day for a period with the given daily temperatures.
    pub fn predict_upd(&self, day_temperatures: &[f64]) -> f64 {
        let s = &self.selected;
        let hdd = s
            .heating_balance_point
            .map_or(0.0, |bp| mean_dd(day_temperatures, |t| (bp - t).max(0.0)));
        let cdd = s
            .cooling_balance_point
            .map_or(0.0, |bp| mean_dd(day_temperatures, |t| (t - bp).max(0.0)));
        s.upd(hdd, cdd)
    }

    /// Predicted usage over a design period (`n_days × UPD`); `None` without temperatures.
    pub fn predict_period(&self, p: &DesignPeriod) -> Option<f64> {
        if p.n_days_kept == 0 {
            return None;
        }
        Some(self.predict_upd(&p.day_temperatures) * p.n_days as f64)
    }
}

/// Fits every candidate over the balance-point grid and selects the best (CalTRACK 3.4).
pub fn fit_candidates(data: &FitData, settings: &CaltrackSettings) -> Result<Vec<Candidate>> {
    if data.upd.is_empty() {
        return Err(MvError::Insufficient("no usable periods".into()));
    }
    // A candidate whose regression cannot be computed is recorded as not attempted.
    let keep = |r: Result<Candidate>, t: ModelType, h: Option<f64>, c: Option<f64>| match r {
        Ok(x) => x,
        Err(e) => not_attempted(
            t,
            h,
            c,
            vec![MvWarning::new(
                "caltrack.candidate.fit_failed",
                e.to_string(),
            )],
        ),
    };
    let mut cands = vec![keep(
        intercept_only_candidate(data),
        ModelType::InterceptOnly,
        None,
        None,
    )];
    let hdds: Vec<(f64, Vec<f64>)> = settings
        .heating_balance_points
        .iter()
        .map(|bp| (*bp, data.hdd(*bp)))
        .collect();
    for (bp, dd) in &hdds {
        let r = single_dd_candidate(data, ModelType::HddOnly, *bp, dd, settings);
        cands.push(keep(r, ModelType::HddOnly, Some(*bp), None));
    }
    if settings.fuel == Fuel::Electricity {
        let cdds: Vec<(f64, Vec<f64>)> = settings
            .cooling_balance_points
            .iter()
            .map(|bp| (*bp, data.cdd(*bp)))
            .collect();
        for (bp, dd) in &cdds {
            let r = single_dd_candidate(data, ModelType::CddOnly, *bp, dd, settings);
            cands.push(keep(r, ModelType::CddOnly, None, Some(*bp)));
        }
        for (hbp, hdd) in &hdds {
            for (cbp, cdd) in &cdds {
                if cbp < hbp {
                    continue;
                }
                let r = cdd_hdd_candidate(data, *hbp, hdd, *cbp, cdd, settings);
                cands.push(keep(r, ModelType::CddHdd, Some(*hbp), Some(*cbp)));
            }
        }
    }
    Ok(cands)
}

/// Full CalTRACK daily/billing fit: design, sufficiency, grid search, selection, metrics.
pub fn fit_caltrack(
    usage: &[UsagePeriod],
    temps: &[TemperatureReading],
    settings: &CaltrackSettings,
) -> Result<CaltrackModel> {
    let usage = match settings.kind {
        PeriodKind::Daily => to_daily_usage(usage),
        PeriodKind::Billing => usage.to_vec(),
    };
    let (design, mut warnings) = design_periods(&usage, temps, settings);
    fit_caltrack_design(&design, settings, &mut warnings)
}

/// CalTRACK fit from prepared design periods.
pub fn fit_caltrack_design(
    design: &[DesignPeriod],
    settings: &CaltrackSettings,
    warnings: &mut Vec<MvWarning>,
) -> Result<CaltrackModel> {
    let suff = sufficiency(design, settings);
    warnings.extend(suff.warnings.iter().cloned());
    let data = FitData::new(design, settings.kind);
    let cands = fit_candidates(&data, settings)?;
    let mut counts: Vec<(ModelType, CandidateStatus, usize)> = Vec::new();
    for c in &cands {
        match counts
            .iter_mut()
            .find(|(t, s, _)| *t == c.model_type && *s == c.status)
        {
            Some(e) => e.2 += 1,
            None => counts.push((c.model_type, c.status, 1)),
        }
    }
    let best = select_best(&cands)
        .cloned()
        .map(Candidate::with_p_values)
        .ok_or_else(|| MvError::NoModel("no candidate qualified (3.4.3)".into()))?;
    let slopes =
        usize::from(best.heating_slope.is_some()) + usize::from(best.cooling_slope.is_some());
    let used: Vec<&DesignPeriod> = design.iter().filter(|p| p.usable()).collect();
    let mut model = CaltrackModel {
        kind: settings.kind,
        fuel: settings.fuel,
        selected: best,
        metrics: fit_metrics(&[], &[], 0),
        sufficiency: suff,
        candidate_counts: counts,
        warnings: warnings.clone(),
        n: used.len(),
        baseline_start: design.first().map(|p| p.start),
        baseline_end: design.last().map(|p| p.end),
    };
    let obs: Vec<f64> = used.iter().filter_map(|p| p.usage).collect();
    let pred: Vec<f64> = used
        .iter()
        .map(|p| model.predict_period(p).unwrap_or(f64::NAN))
        .collect();
    model.metrics = fit_metrics(&obs, &pred, slopes);
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    // CalTRACK 2.2.2.1: a day built from hourly data needs ≥ 50 % of its hours and is
    // 24 × the mean hourly use.
    #[test]
    fn daily_from_hourly() {
        let t0 = crate::series::parse_instant("2024-01-01T00:00:00+08:00").unwrap();
        let h = |i: i64, v: Option<f64>| UsagePeriod {
            start: t0 + Duration::hours(i),
            end: t0 + Duration::hours(i + 1),
            value: v,
        };
        // Day 1: 12 of 24 hours at 2.0 → 48; day 2: 11 hours → missing.
        let mut u: Vec<UsagePeriod> = (0..24).map(|i| h(i, (i < 12).then_some(2.0))).collect();
        u.extend((24..48).map(|i| h(i, (i < 35).then_some(1.0))));
        let d = to_daily_usage(&u);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].value, Some(48.0));
        assert_eq!(d[1].value, None);
    }

    // CalTRACK 2.2.3.3: an estimated read is combined with the next actual read (≤ 70 days).
    #[test]
    fn estimated_reads_merged() {
        let t = |d: i64| {
            crate::series::parse_instant("2024-01-01T00:00:00+00:00").unwrap() + Duration::days(d)
        };
        let p = |a, b, v| UsagePeriod {
            start: t(a),
            end: t(b),
            value: Some(v),
        };
        let bills = [
            p(0, 30, 10.0),
            p(30, 60, 20.0),
            p(60, 90, 30.0),
            p(90, 160, 5.0),
        ];
        let m = merge_estimated_reads(&bills, &[false, true, false, true], 70);
        assert_eq!(m.len(), 3);
        assert_eq!(
            (m[1].start, m[1].end, m[1].value),
            (t(30), t(90), Some(50.0))
        );
        assert_eq!(m[2].value, None);
    }

    fn data(y: &[f64], w: Option<&[f64]>) -> FitData {
        FitData {
            upd: y.to_vec(),
            weights: w.map(<[f64]>::to_vec),
            kept_days: vec![1.0; y.len()],
            temps: vec![vec![]; y.len()],
            t_cache: Default::default(),
        }
    }

    fn lax() -> CaltrackSettings {
        CaltrackSettings {
            min_non_zero_degree_days: 1,
            min_total_degree_days: 1.0,
            max_p_value: 0.1,
            ..CaltrackSettings::daily(Fuel::Electricity)
        }
    }

    // Reference: eemeter 2.x `tests/test_caltrack_usage_per_day.py`
    // (openeemeter/eemeter), test_get_cdd_only_candidate_models_qualified:
    // meter_value [1,1,1,6], cdd_65 [0,0.1,0,5] → beta_cdd 1.01, intercept 0.97,
    // r²_adj 1.00, QUALIFIED with max p 0.1.
    #[test]
    fn eemeter_cdd_only_qualified() {
        let d = data(&[1.0, 1.0, 1.0, 6.0], None);
        let c = single_dd_candidate(&d, ModelType::CddOnly, 65.0, &[0.0, 0.1, 0.0, 5.0], &lax())
            .unwrap();
        assert_eq!(c.status, CandidateStatus::Qualified);
        assert_eq!((c.cooling_slope.unwrap() * 100.0).round() / 100.0, 1.01);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 0.97);
        assert_eq!((c.r2_adj * 100.0).round() / 100.0, 1.0);
    }

    // Same source, ..._qualified_with_weights: weights [1,100,1,1] → beta 1.02, intercept 0.9.
    #[test]
    fn eemeter_cdd_only_weighted() {
        let d = data(&[1.0, 1.0, 1.0, 6.0], Some(&[1.0, 100.0, 1.0, 1.0]));
        let c = single_dd_candidate(&d, ModelType::CddOnly, 65.0, &[0.0, 0.1, 0.0, 5.0], &lax())
            .unwrap();
        assert_eq!((c.cooling_slope.unwrap() * 100.0).round() / 100.0, 1.02);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 0.9);
    }

    // Same source, test_get_hdd_only_candidate_models_disqualified: meter [1,1,1,-4],
    // max p-value 0.0 → beta −1.01, intercept 1.03, DISQUALIFIED with 2 warnings.
    #[test]
    fn eemeter_hdd_only_disqualified() {
        let s = CaltrackSettings {
            max_p_value: 0.0,
            ..lax()
        };
        let d = data(&[1.0, 1.0, 1.0, -4.0], None);
        let c =
            single_dd_candidate(&d, ModelType::HddOnly, 65.0, &[0.0, 0.1, 0.0, 5.0], &s).unwrap();
        assert_eq!(c.status, CandidateStatus::Disqualified);
        assert_eq!((c.heating_slope.unwrap() * 100.0).round() / 100.0, -1.01);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 1.03);
        assert_eq!(c.warnings.len(), 2);
    }

    // Same source, test_get_cdd_only_candidate_models_not_attempted: minimum non-zero 10 and
    // minimum total 10 → NOT ATTEMPTED with 2 warnings.
    #[test]
    fn eemeter_not_attempted() {
        let s = CaltrackSettings {
            min_non_zero_degree_days: 10,
            min_total_degree_days: 10.0,
            ..lax()
        };
        let d = data(&[1.0, 1.0, 1.0, 6.0], None);
        let c =
            single_dd_candidate(&d, ModelType::CddOnly, 65.0, &[0.0, 0.1, 0.0, 5.0], &s).unwrap();
        assert_eq!(c.status, CandidateStatus::NotAttempted);
        assert_eq!(c.warnings.len(), 2);
    }

    // Same source, test_get_cdd_hdd_candidate_models_qualified (and _with_weights):
    // meter [6,1,1,6], cdd [5,0,0.1,0], hdd [0,0.1,0.1,5] → both betas 1.03, intercept 0.85;
    // weights [1,1,100,1] → 1.04 / 1.04 / 0.79.
    #[test]
    fn eemeter_cdd_hdd() {
        let y = [6.0, 1.0, 1.0, 6.0];
        let cdd = [5.0, 0.0, 0.1, 0.0];
        let hdd = [0.0, 0.1, 0.1, 5.0];
        let c = cdd_hdd_candidate(&data(&y, None), 65.0, &hdd, 65.0, &cdd, &lax()).unwrap();
        assert_eq!(c.status, CandidateStatus::Qualified);
        assert_eq!((c.heating_slope.unwrap() * 100.0).round() / 100.0, 1.03);
        assert_eq!((c.cooling_slope.unwrap() * 100.0).round() / 100.0, 1.03);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 0.85);
        let w = [1.0, 1.0, 100.0, 1.0];
        let c = cdd_hdd_candidate(&data(&y, Some(&w)), 65.0, &hdd, 65.0, &cdd, &lax()).unwrap();
        assert_eq!((c.heating_slope.unwrap() * 100.0).round() / 100.0, 1.04);
        assert_eq!((c.cooling_slope.unwrap() * 100.0).round() / 100.0, 1.04);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 0.79);
    }

    // Same source, test_get_intercept_only_candidate_models_*: arange(10) → 4.5 QUALIFIED,
    // r²_adj 0; negated → −4.5 DISQUALIFIED; weights arange(10) → 6.33.
    #[test]
    fn eemeter_intercept_only() {
        let y: Vec<f64> = (0..10).map(f64::from).collect();
        let c = intercept_only_candidate(&data(&y, None)).unwrap();
        assert_eq!(c.status, CandidateStatus::Qualified);
        assert_eq!((c.intercept * 100.0).round() / 100.0, 4.5);
        assert_eq!(c.r2_adj, 0.0);
        let neg: Vec<f64> = y.iter().map(|v| -v).collect();
        let c = intercept_only_candidate(&data(&neg, None)).unwrap();
        assert_eq!(c.status, CandidateStatus::Disqualified);
        let c = intercept_only_candidate(&data(&y, Some(&y))).unwrap();
        assert_eq!((c.intercept * 100.0).round() / 100.0, 6.33);
    }

    // Same source, test_select_best_candidate_ok / _none: highest r²_adj among QUALIFIED;
    // none when only disqualified candidates exist.
    #[test]
    fn eemeter_select_best() {
        let base = intercept_only_candidate(&data(&[1.0, 2.0], None)).unwrap();
        let hi = Candidate {
            r2_adj: 1.0,
            ..base.clone()
        };
        let lo = Candidate {
            r2_adj: 0.0,
            ..base.clone()
        };
        let dq = Candidate {
            r2_adj: 0.5,
            status: CandidateStatus::Disqualified,
            ..base
        };
        let all = [hi.clone(), lo, dq.clone()];
        assert_eq!(select_best(&all).unwrap().r2_adj, 1.0);
        assert!(select_best(&[dq]).is_none());
    }
}
