//! Avoided energy use (IPMVP Option C, CalTRACK 3.6.1): the baseline model projected onto
//! reporting-period conditions minus the observed use, with fractional savings uncertainty.

use crate::caltrack::{
    CaltrackModel, CaltrackSettings, PeriodKind, design_periods, to_daily_usage,
};
use crate::error::{MvError, Result};
use crate::hourly::TowtModel;
use crate::metrics::{FitMetrics, Fsu, FsuInputs, FsuInterval, fractional_savings_uncertainty};
use crate::series::{Instant, TemperatureReading, UsagePeriod};
use crate::warning::MvWarning;
use serde::{Deserialize, Serialize};

/// Savings in one reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PeriodSavings {
    /// Start.
    pub start: Instant,
    /// End.
    pub end: Instant,
    /// Observed use.
    pub observed: f64,
    /// Baseline prediction (adjusted baseline).
    pub predicted: f64,
    /// predicted − observed.
    pub avoided: f64,
}

/// Avoided energy use over a reporting period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavingsResult {
    /// Σ observed.
    pub observed: f64,
    /// Σ predicted.
    pub predicted: f64,
    /// Σ (predicted − observed) — avoided energy use.
    pub avoided: f64,
    /// avoided / predicted.
    pub fractional_savings: f64,
    /// Fractional savings uncertainty at 90 % confidence (CalTRACK 4.3).
    pub fsu: Option<Fsu>,
    /// Periods used.
    pub n_periods: usize,
    /// Periods skipped (no observation or no temperature).
    pub n_periods_skipped: usize,
    /// Per-period detail.
    pub periods: Vec<PeriodSavings>,
    /// Warnings.
    pub warnings: Vec<MvWarning>,
}

fn summarise(
    periods: Vec<PeriodSavings>,
    skipped: usize,
    baseline: &FitMetrics,
    interval: FsuInterval,
    months: f64,
    mut warnings: Vec<MvWarning>,
) -> Result<SavingsResult> {
    if periods.is_empty() {
        return Err(MvError::Insufficient(
            "no reporting period has both usage and temperature".into(),
        ));
    }
    let observed: f64 = periods.iter().map(|p| p.observed).sum();
    let predicted: f64 = periods.iter().map(|p| p.predicted).sum();
    let avoided = predicted - observed;
    let fsu = if avoided != 0.0 && baseline.cvrmse.is_finite() {
        Some(fractional_savings_uncertainty(&FsuInputs {
            baseline: *baseline,
            interval,
            reporting_periods: periods.len(),
            reporting_months: months,
            predicted_total: predicted,
            savings_total: avoided,
            confidence: 0.90,
        }))
    } else {
        None
    };
    if interval == FsuInterval::Hourly {
        warnings.push(MvWarning::new(
            "savings.fsu.hourly_approximation",
            "CalTRACK publishes no hourly FSU polynomial; the daily one was used",
        ));
    }
    Ok(SavingsResult {
        observed,
        predicted,
        avoided,
        fractional_savings: if predicted != 0.0 {
            avoided / predicted
        } else {
            f64::NAN
        },
        fsu,
        n_periods: periods.len(),
        n_periods_skipped: skipped,
        periods,
        warnings,
    })
}

/// Avoided energy use of a CalTRACK daily/billing model over reporting usage.
pub fn avoided_energy_caltrack(
    model: &CaltrackModel,
    usage: &[UsagePeriod],
    temps: &[TemperatureReading],
) -> Result<SavingsResult> {
    let settings = match model.kind {
        PeriodKind::Daily => CaltrackSettings::daily(model.fuel),
        PeriodKind::Billing => CaltrackSettings::billing(model.fuel),
    };
    let usage = match model.kind {
        PeriodKind::Daily => to_daily_usage(usage),
        PeriodKind::Billing => usage.to_vec(),
    };
    let (design, warnings) = design_periods(&usage, temps, &settings);
    let mut periods = Vec::new();
    let mut skipped = 0;
    for p in &design {
        match (p.usage, model.predict_period(p)) {
            (Some(o), Some(pr)) => periods.push(PeriodSavings {
                start: p.start,
                end: p.end,
                observed: o,
                predicted: pr,
                avoided: pr - o,
            }),
            _ => skipped += 1,
        }
    }
    let (interval, months) = match model.kind {
        PeriodKind::Daily => (FsuInterval::Daily, periods.len() as f64 / 30.0),
        PeriodKind::Billing => (FsuInterval::Billing, periods.len() as f64),
    };
    summarise(periods, skipped, &model.metrics, interval, months, warnings)
}

/// Avoided energy use of an hourly TOWT model over hourly reporting usage.
pub fn avoided_energy_towt(
    model: &TowtModel,
    usage: &[UsagePeriod],
    temps: &[TemperatureReading],
) -> Result<SavingsResult> {
    let pred = model.predict_periods(usage, temps);
    let mut periods = Vec::new();
    let mut skipped = 0;
    for (p, pr) in usage.iter().zip(pred) {
        match (p.value, pr) {
            (Some(o), Some(pr)) => periods.push(PeriodSavings {
                start: p.start,
                end: p.end,
                observed: o,
                predicted: pr,
                avoided: pr - o,
            }),
            _ => skipped += 1,
        }
    }
    let months = periods.len() as f64 / 720.0;
    summarise(
        periods,
        skipped,
        &model.metrics,
        FsuInterval::Hourly,
        months,
        Vec::new(),
    )
}
