//! Goodness of fit and savings uncertainty: CV(RMSE), NMBE, fractional savings uncertainty
//! (CalTRACK 4.3 / ASHRAE Guideline 14 modified), and the Guideline 14 calibration flags.

use crate::linalg::t_critical;
use serde::{Deserialize, Serialize};

/// Serde helper: NaN ⇄ JSON `null` for `f64` fields.
pub mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises NaN/∞ as `null`.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    /// Reads `null` as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// Fit statistics of a baseline model against its own baseline data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitMetrics {
    /// Observations P.
    pub n: usize,
    /// Explanatory variables c (excluding the intercept).
    pub c: usize,
    /// Mean observed value Ū.
    #[serde(with = "nan_as_null")]
    pub mean_observed: f64,
    /// CV(RMSE) = sqrt(Σ(U − Û)² / (P − c)) / Ū (CalTRACK 4.3.1; eemeter `cvrmse_adj`).
    #[serde(with = "nan_as_null")]
    pub cvrmse: f64,
    /// NMBE = Σ(Û − U) / ΣU (CalTRACK / eemeter sign: positive = over-prediction).
    #[serde(with = "nan_as_null")]
    pub nmbe: f64,
    /// Lag-1 autocorrelation ρ₁ of the residuals.
    #[serde(with = "nan_as_null")]
    pub autocorr_resid: f64,
}

/// Computes [`FitMetrics`] from paired observed and predicted values.
pub fn fit_metrics(observed: &[f64], predicted: &[f64], c: usize) -> FitMetrics {
    let n = observed.len().min(predicted.len());
    let sum_obs: f64 = observed[..n].iter().sum();
    let mean = if n > 0 { sum_obs / n as f64 } else { f64::NAN };
    let resid: Vec<f64> = (0..n).map(|i| observed[i] - predicted[i]).collect();
    let ssr: f64 = resid.iter().map(|r| r * r).sum();
    let dof = n as f64 - c as f64;
    let cvrmse = if dof > 0.0 {
        (ssr / dof).sqrt() / mean
    } else {
        f64::NAN
    };
    let nmbe = if sum_obs != 0.0 {
        -resid.iter().sum::<f64>() / sum_obs
    } else {
        f64::NAN
    };
    FitMetrics {
        n,
        c,
        mean_observed: mean,
        cvrmse,
        nmbe,
        autocorr_resid: lag1_autocorrelation(&resid),
    }
}

/// Pearson correlation of a series with itself shifted by one step.
pub fn lag1_autocorrelation(x: &[f64]) -> f64 {
    if x.len() < 3 {
        return f64::NAN;
    }
    let a = &x[1..];
    let b = &x[..x.len() - 1];
    let m = a.len() as f64;
    let ma = a.iter().sum::<f64>() / m;
    let mb = b.iter().sum::<f64>() / m;
    let mut sab = 0.0;
    let mut saa = 0.0;
    let mut sbb = 0.0;
    for i in 0..a.len() {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma).powi(2);
        sbb += (b[i] - mb).powi(2);
    }
    if saa == 0.0 || sbb == 0.0 {
        return 0.0;
    }
    sab / (saa * sbb).sqrt()
}

/// Interval of the data behind a model, which selects the FSU polynomial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsuInterval {
    /// Daily data: a = −0.00024, b = 0.03535, d = 1.00286.
    Daily,
    /// Billing (monthly) data: a = −0.00022, b = 0.03306, d = 0.94054.
    Billing,
    /// Hourly data: no published polynomial; the daily one is used and a warning given.
    Hourly,
}

impl FsuInterval {
    /// Coefficients (a, b, d) of `aM² + bM + d` (CalTRACK 4.3.2.2).
    pub fn coefficients(self) -> (f64, f64, f64) {
        match self {
            FsuInterval::Billing => (-0.00022, 0.03306, 0.94054),
            FsuInterval::Daily | FsuInterval::Hourly => (-0.00024, 0.03535, 1.00286),
        }
    }
}

/// Inputs of the site-level fractional savings uncertainty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FsuInputs {
    /// Baseline fit metrics (P, c, CV(RMSE), ρ₁).
    pub baseline: FitMetrics,
    /// Interval of the baseline data.
    pub interval: FsuInterval,
    /// Reporting periods Q (days for daily, bills for billing).
    pub reporting_periods: usize,
    /// Reporting length M in months.
    pub reporting_months: f64,
    /// Total predicted (adjusted baseline) use over the reporting period.
    pub predicted_total: f64,
    /// Total avoided energy use over the reporting period.
    pub savings_total: f64,
    /// Two-sided confidence level (CalTRACK: 0.90).
    pub confidence: f64,
}

/// Savings uncertainty result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fsu {
    /// Absolute uncertainty of the savings, same unit as the usage (± at `confidence`).
    pub savings_uncertainty: f64,
    /// Fractional savings uncertainty ΔU_save / U_save.
    pub fsu: f64,
    /// t statistic used.
    pub t: f64,
    /// Effective baseline observations P' = P(1 − ρ)/(1 + ρ).
    pub effective_n: f64,
}

/// Site FSU (modified ASHRAE 14 formula, CalTRACK 4.3.2):
/// `ΔU_save = t·(aM² + bM + d)·CV(RMSE)·sqrt((P/P')·(1 + 2/P')·(1/Q)) · U_pred`,
/// `FSU = ΔU_save / U_save` (the formula's `/F`, with F = U_save / U_pred).
pub fn fractional_savings_uncertainty(inp: &FsuInputs) -> Fsu {
    let p = inp.baseline.n as f64;
    let rho = if inp.baseline.autocorr_resid.is_finite() {
        inp.baseline.autocorr_resid
    } else {
        0.0
    };
    let p_eff = p * (1.0 - rho) / (1.0 + rho);
    let (a, b, d) = inp.interval.coefficients();
    let m = inp.reporting_months;
    let df = p - inp.baseline.c as f64;
    let t = t_critical(inp.confidence, df.max(1.0));
    let q = inp.reporting_periods.max(1) as f64;
    let rel = t
        * (a * m * m + b * m + d)
        * inp.baseline.cvrmse
        * ((p / p_eff) * (1.0 + 2.0 / p_eff) * (1.0 / q)).sqrt();
    let abs = rel * inp.predicted_total;
    Fsu {
        savings_uncertainty: abs,
        fsu: abs / inp.savings_total,
        t,
        effective_n: p_eff,
    }
}

/// Data interval for the ASHRAE Guideline 14 calibration criteria.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationInterval {
    /// Monthly (and, by convention here, daily/billing) data: CV(RMSE) ≤ 15 %, |NMBE| ≤ 5 %.
    Monthly,
    /// Hourly data: CV(RMSE) ≤ 30 %, |NMBE| ≤ 10 %.
    Hourly,
}

/// ASHRAE Guideline 14-2014 flags for a baseline model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ashrae14Flags {
    /// Calibration CV(RMSE) criterion met (15 % monthly, 30 % hourly).
    pub calibration_cvrmse_ok: bool,
    /// Calibration |NMBE| criterion met (5 % monthly, 10 % hourly).
    pub calibration_nmbe_ok: bool,
    /// Whole-building prescriptive path: energy baseline CV(RMSE) ≤ 20/25/30 % for
    /// < 12, 12–60, > 60 months of post-retrofit data.
    pub prescriptive_cvrmse_ok: bool,
    /// Savings uncertainty < 50 % of savings at 68 % confidence (if an FSU was given).
    pub uncertainty_ok: Option<bool>,
}

/// Evaluates the Guideline 14 criteria. `fsu_68` is the FSU at 68 % confidence, if known.
pub fn ashrae14_flags(
    metrics: &FitMetrics,
    interval: CalibrationInterval,
    post_retrofit_months: f64,
    fsu_68: Option<f64>,
) -> Ashrae14Flags {
    let (cv_max, nmbe_max) = match interval {
        CalibrationInterval::Monthly => (0.15, 0.05),
        CalibrationInterval::Hourly => (0.30, 0.10),
    };
    let prescriptive = if post_retrofit_months < 12.0 {
        0.20
    } else if post_retrofit_months <= 60.0 {
        0.25
    } else {
        0.30
    };
    Ashrae14Flags {
        calibration_cvrmse_ok: metrics.cvrmse <= cv_max,
        calibration_nmbe_ok: metrics.nmbe.abs() <= nmbe_max,
        prescriptive_cvrmse_ok: metrics.cvrmse <= prescriptive,
        uncertainty_ok: fsu_68.map(|f| f.abs() < 0.5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-checked FSU (CalTRACK 4.3.2 formula): P = 365, c = 2, CV(RMSE) 0.2, ρ = 0,
    // daily polynomial at M = 12: −0.00024·144 + 0.03535·12 + 1.00286 = 1.39250;
    // t(0.95, 363) = 1.6490 (t tables); sqrt((1)(1 + 2/365)/365) = 0.0524856;
    // ΔU = 1.6490·1.39250·0.2·0.0524856·1000 = 24.104; FSU = 24.104 / 100 = 0.24104.
    #[test]
    fn fsu_hand_checked() {
        let m = FitMetrics {
            n: 365,
            c: 2,
            mean_observed: 1.0,
            cvrmse: 0.2,
            nmbe: 0.0,
            autocorr_resid: 0.0,
        };
        let f = fractional_savings_uncertainty(&FsuInputs {
            baseline: m,
            interval: FsuInterval::Daily,
            reporting_periods: 365,
            reporting_months: 12.0,
            predicted_total: 1000.0,
            savings_total: 100.0,
            confidence: 0.90,
        });
        assert!((f.t - 1.6490).abs() < 5e-4);
        assert!((f.savings_uncertainty - 24.104).abs() < 0.01);
        assert!((f.fsu - 0.24104).abs() < 1e-4);
    }

    // ASHRAE Guideline 14 limits: monthly 15 % / 5 %, hourly 30 % / 10 %; prescriptive
    // path 20 % below 12 post-retrofit months.
    #[test]
    fn ashrae14_limits() {
        let m = fit_metrics(&[10.0, 12.0, 8.0, 10.0], &[10.0, 10.0, 10.0, 10.0], 0);
        // RMSE sqrt(8/4) = 1.414, mean 10 → CV 14.1 %; NMBE 0.
        assert!((m.cvrmse - 0.141421).abs() < 1e-5);
        let f = ashrae14_flags(&m, CalibrationInterval::Monthly, 6.0, Some(0.4));
        assert!(f.calibration_cvrmse_ok && f.calibration_nmbe_ok && f.prescriptive_cvrmse_ok);
        assert_eq!(f.uncertainty_ok, Some(true));
        let m2 = FitMetrics { cvrmse: 0.2, ..m };
        assert!(
            !ashrae14_flags(&m2, CalibrationInterval::Monthly, 6.0, None).calibration_cvrmse_ok
        );
        assert!(ashrae14_flags(&m2, CalibrationInterval::Hourly, 6.0, None).calibration_cvrmse_ok);
    }
}
