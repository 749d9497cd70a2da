//! ISO 50006 energy performance indicators (EnPI) and production-normalised energy
//! baselines (EnB), e.g. a brewery's energy per hectolitre (单位产品能耗).

use crate::error::{MvError, Result};
use crate::linalg::wls;
use crate::metrics::{FitMetrics, fit_metrics};
use serde::{Deserialize, Serialize};

/// One period's energy and relevant variables.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnpiObservation {
    /// Energy consumed.
    pub energy: f64,
    /// Production volume (e.g. hl).
    pub production: f64,
    /// Optional second relevant variable (e.g. heating degree days).
    pub degree_days: Option<f64>,
}

/// Ratio EnPI: energy per unit of production for each period (`None` if production is 0).
pub fn ratio_enpi(obs: &[EnpiObservation]) -> Vec<Option<f64>> {
    obs.iter()
        .map(|o| (o.production != 0.0).then(|| o.energy / o.production))
        .collect()
}

/// Statistical EnB: `E = a + b·production [+ c·DD]` fitted by OLS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductionBaseline {
    /// Fixed (production-independent) energy a.
    pub intercept: f64,
    /// Marginal energy per unit of production b.
    pub production_slope: f64,
    /// Degree-day slope c, when used.
    pub degree_day_slope: Option<f64>,
    /// p-values (intercept, production[, degree days]).
    pub p_values: Vec<f64>,
    /// Adjusted R².
    pub r2_adj: f64,
    /// Fit metrics (CV(RMSE), NMBE).
    pub metrics: FitMetrics,
    /// Periods.
    pub n: usize,
}

impl ProductionBaseline {
    /// Expected energy (EnB normalised to the given conditions).
    pub fn expected(&self, o: &EnpiObservation) -> f64 {
        self.intercept
            + self.production_slope * o.production
            + self.degree_day_slope.unwrap_or(0.0) * o.degree_days.unwrap_or(0.0)
    }
}

/// Fits the production baseline; `with_degree_days` adds the second variable.
pub fn fit_production_baseline(
    obs: &[EnpiObservation],
    with_degree_days: bool,
) -> Result<ProductionBaseline> {
    let y: Vec<f64> = obs.iter().map(|o| o.energy).collect();
    let p: Vec<f64> = obs.iter().map(|o| o.production).collect();
    let dd: Vec<f64> = if with_degree_days {
        obs.iter()
            .enumerate()
            .map(|(i, o)| {
                o.degree_days.ok_or_else(|| {
                    MvError::config(
                        "degree_days",
                        format!("period {} has no degree days", i + 1),
                    )
                })
            })
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    let cols: Vec<&[f64]> = if with_degree_days {
        vec![&p, &dd]
    } else {
        vec![&p]
    };
    let f = wls(&cols, &y, None, true)?;
    let b = ProductionBaseline {
        intercept: f.beta[0],
        production_slope: f.beta[1],
        degree_day_slope: with_degree_days.then(|| f.beta[2]),
        p_values: f.p_values.clone(),
        r2_adj: f.r2_adj,
        metrics: fit_metrics(&[], &[], 0),
        n: obs.len(),
    };
    let pred: Vec<f64> = obs.iter().map(|o| b.expected(o)).collect();
    Ok(ProductionBaseline {
        metrics: fit_metrics(&y, &pred, cols.len()),
        ..b
    })
}

/// Reporting period compared with the normalised baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnpiComparison {
    /// Σ expected energy (EnB normalised to reporting conditions).
    pub expected: f64,
    /// Σ actual energy.
    pub actual: f64,
    /// expected − actual.
    pub savings: f64,
    /// Normalised baseline EnPI: expected / production.
    pub baseline_enpi: f64,
    /// Reporting EnPI: actual / production.
    pub reporting_enpi: f64,
    /// 1 − reporting / baseline EnPI.
    pub improvement: f64,
}

/// Compares reporting periods with the baseline normalised to their production.
pub fn compare(baseline: &ProductionBaseline, reporting: &[EnpiObservation]) -> EnpiComparison {
    let expected: f64 = reporting.iter().map(|o| baseline.expected(o)).sum();
    let actual: f64 = reporting.iter().map(|o| o.energy).sum();
    let prod: f64 = reporting.iter().map(|o| o.production).sum();
    let be = expected / prod;
    let re = actual / prod;
    EnpiComparison {
        expected,
        actual,
        savings: expected - actual,
        baseline_enpi: be,
        reporting_enpi: re,
        improvement: 1.0 - re / be,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Hand-checked: E = 1 000 + 20·hl exactly; reporting 500 hl using 9 000 → expected
    // 11 000, savings 2 000, EnPI 22 → 18 kWh/hl, improvement 2/11.
    #[test]
    fn hand_checked_brewery_enb() {
        let base: Vec<EnpiObservation> = [100.0, 200.0, 300.0, 400.0]
            .iter()
            .map(|p| EnpiObservation {
                energy: 1000.0 + 20.0 * p,
                production: *p,
                degree_days: None,
            })
            .collect();
        let b = fit_production_baseline(&base, false).unwrap();
        assert!((b.intercept - 1000.0).abs() < 1e-9);
        assert!((b.production_slope - 20.0).abs() < 1e-9);
        let c = compare(
            &b,
            &[EnpiObservation {
                energy: 9000.0,
                production: 500.0,
                degree_days: None,
            }],
        );
        assert!((c.savings - 2000.0).abs() < 1e-6);
        assert!((c.baseline_enpi - 22.0).abs() < 1e-9);
        assert!((c.improvement - 2.0 / 11.0).abs() < 1e-12);
        assert_eq!(ratio_enpi(&base)[0], Some(30.0));
    }
}
