//! CalTRACK 2.0 daily and billing "usage per day" (UPD) models: degree days, balance-point
//! grid search, candidate models, qualification, adjusted-R² selection, billing weights and
//! data sufficiency (`openeemeter/caltrack: docs/methods.rst`, sections 2–3).
//!
//! [`design_periods`] joins usage with temperatures, [`sufficiency()`] applies the data rules,
//! the grid search fits and selects [`Candidate`]s, and [`fit_caltrack`] runs the whole chain.

mod candidate;
mod design;
mod sufficiency;

pub use candidate::{
    Candidate, CandidateStatus, FitData, cdd_hdd_candidate, intercept_only_candidate, select_best,
    single_dd_candidate,
};
pub use design::{DesignPeriod, design_periods, merge_estimated_reads, to_daily_usage};
pub use sufficiency::{Sufficiency, sufficiency};

use crate::error::{MvError, Result};
use crate::metrics::{FitMetrics, fit_metrics};
use crate::series::{Instant, TemperatureReading, UsagePeriod};
use crate::warning::MvWarning;
use candidate::not_attempted;
use design::mean_dd;
use serde::{Deserialize, Serialize};

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
