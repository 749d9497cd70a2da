//! Survey weighting (加权): post-stratification, raking (iterative proportional fitting) with
//! trimming bounds, linear (GREG) calibration, and the Kish design effect of unequal weights.

use serde::Serialize;

use crate::error::{Result, SurveyError};
use crate::linalg::solve;
use crate::table::Table;

/// Kish summary of a set of weights: `n_eff = (Σw)²/Σw²`, `deff_w = n Σw²/(Σw)² = 1 + CV²(w)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightSummary {
    /// Number of weighted units.
    pub n: usize,
    /// Sum of the weights (estimated population size).
    pub sum_weights: f64,
    /// Kish effective sample size.
    pub n_eff: f64,
    /// Kish design effect due to unequal weighting.
    pub deff_w: f64,
}

/// Kish design effect and effective sample size of `weights` (Kish 1965; Valliant & Dever 2018, p.71).
pub fn kish(weights: &[f64]) -> WeightSummary {
    let n = weights.len();
    let s: f64 = weights.iter().sum();
    let s2: f64 = weights.iter().map(|w| w * w).sum();
    let n_eff = if s2 > 0.0 { s * s / s2 } else { 0.0 };
    WeightSummary {
        n,
        sum_weights: s,
        n_eff,
        deff_w: if n_eff > 0.0 {
            n as f64 / n_eff
        } else {
            f64::NAN
        },
    }
}

/// One population margin: every respondent's category code and the population total per category.
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    /// Variable name (e.g. `district`).
    pub name: String,
    /// Category names, indexed by code.
    pub categories: Vec<String>,
    /// Category code of each respondent (`< categories.len()`).
    pub codes: Vec<usize>,
    /// Population total of each category.
    pub totals: Vec<f64>,
}

impl Margin {
    /// Build a margin, checking codes and totals.
    pub fn new(
        name: impl Into<String>,
        categories: Vec<String>,
        codes: Vec<usize>,
        totals: Vec<f64>,
    ) -> Result<Self> {
        let name = name.into();
        if categories.len() != totals.len() {
            return Err(SurveyError::Spec(format!(
                "margin `{name}`: {} categories but {} totals",
                categories.len(),
                totals.len()
            )));
        }
        if let Some((c, t)) = categories
            .iter()
            .zip(&totals)
            .find(|(_, t)| !t.is_finite() || **t < 0.0)
        {
            return Err(SurveyError::Spec(format!(
                "margin `{name}`, category `{c}`: total {t} must be a non-negative number"
            )));
        }
        if let Some(i) = codes.iter().position(|&c| c >= totals.len()) {
            return Err(SurveyError::Spec(format!(
                "margin `{name}`: respondent {} has a category without a population total",
                i + 1
            )));
        }
        Ok(Self {
            name,
            categories,
            codes,
            totals,
        })
    }

    /// Build a margin from respondents' text categories and `(category, total)` pairs.
    pub fn from_labels(
        name: impl Into<String>,
        labels: &[String],
        totals: &[(String, f64)],
    ) -> Result<Self> {
        let name = name.into();
        let categories: Vec<String> = totals.iter().map(|(c, _)| c.clone()).collect();
        let codes = labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                categories.iter().position(|c| c == l).ok_or_else(|| {
                    SurveyError::Spec(format!(
                        "margin `{name}`: respondent {} has category `{l}` which has no population total",
                        i + 1
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Self::new(
            name,
            categories,
            codes,
            totals.iter().map(|(_, t)| *t).collect(),
        )
    }

    fn weighted_sums(&self, w: &[f64]) -> Vec<f64> {
        let mut s = vec![0.0; self.totals.len()];
        for (&c, &wi) in self.codes.iter().zip(w) {
            s[c] += wi;
        }
        s
    }

    /// Largest relative deviation `|Σ_c w − N_c| / N_c` of the weighted margin from its totals.
    pub fn max_relative_error(&self, w: &[f64]) -> f64 {
        self.weighted_sums(w)
            .iter()
            .zip(&self.totals)
            .map(|(s, t)| if *t > 0.0 { (s - t).abs() / t } else { s.abs() })
            .fold(0.0, f64::max)
    }
}

/// Read population margins from a `variable,category,total` table and code the respondents of
/// `data` against them (one [`Margin`] per variable, in order of first appearance). Errors name
/// the file, line and column: a bad total, a duplicate category, a respondent whose category has
/// no total.
pub fn parse_margins(data: &Table, margins: &Table) -> Result<Vec<Margin>> {
    let vars = margins.labels("variable")?;
    let cats = margins.labels("category")?;
    let totals = margins.numeric("total")?;
    let mut order: Vec<String> = Vec::new();
    let mut spec: Vec<Vec<(String, f64)>> = Vec::new();
    for (r, ((v, c), t)) in vars.iter().zip(&cats).zip(&totals).enumerate() {
        if *t < 0.0 {
            return Err(margins.error_at(r, "total", format!("total {t} is negative")));
        }
        let k = match order.iter().position(|o| o == v) {
            Some(k) => k,
            None => {
                order.push(v.clone());
                spec.push(Vec::new());
                order.len() - 1
            }
        };
        if spec[k].iter().any(|(x, _)| x == c) {
            return Err(margins.error_at(
                r,
                "category",
                format!("category `{c}` of `{v}` given twice"),
            ));
        }
        spec[k].push((c.clone(), *t));
    }
    if order.is_empty() {
        return Err(SurveyError::Malformed {
            source_label: margins.label().to_string(),
            message: "no margins".into(),
        });
    }
    order
        .iter()
        .zip(&spec)
        .map(|(v, sp)| {
            let labels = data.labels(v)?;
            if let Some((r, l)) = labels
                .iter()
                .enumerate()
                .find(|(_, l)| !sp.iter().any(|(c, _)| c == *l))
            {
                return Err(data.error_at(
                    r,
                    v,
                    format!(
                        "category `{l}` has no population total in {}",
                        margins.label()
                    ),
                ));
            }
            Margin::from_labels(v.clone(), &labels, sp)
        })
        .collect()
}

/// 事后分层 post-stratification: `w_i ← w_i · N_c / Σ_{j∈c} w_j`.
pub fn post_stratify(base: &[f64], margin: &Margin) -> Result<Vec<f64>> {
    check_lengths(base, std::slice::from_ref(margin))?;
    let mut w = base.to_vec();
    scale_to_margin(&mut w, margin)?;
    Ok(w)
}

fn scale_to_margin(w: &mut [f64], m: &Margin) -> Result<()> {
    let sums = m.weighted_sums(w);
    for (c, (s, t)) in sums.iter().zip(&m.totals).enumerate() {
        if *s <= 0.0 && *t > 0.0 {
            return Err(SurveyError::Numerical(format!(
                "margin `{}`: category `{}` has population total {t} but no sample weight",
                m.name, m.categories[c]
            )));
        }
    }
    for (wi, &c) in w.iter_mut().zip(&m.codes) {
        if sums[c] > 0.0 {
            *wi *= m.totals[c] / sums[c];
        }
    }
    Ok(())
}

fn check_lengths(base: &[f64], margins: &[Margin]) -> Result<()> {
    if let Some(i) = base.iter().position(|w| !w.is_finite() || *w <= 0.0) {
        return Err(SurveyError::Spec(format!(
            "base weight of respondent {} must be positive",
            i + 1
        )));
    }
    for m in margins {
        if m.codes.len() != base.len() {
            return Err(SurveyError::Spec(format!(
                "margin `{}` has {} respondents, weights have {}",
                m.name,
                m.codes.len(),
                base.len()
            )));
        }
    }
    Ok(())
}

/// Options of [`rake`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RakeOptions {
    /// Stop when every margin is within this relative error of its totals.
    pub tolerance: f64,
    /// Iteration cap (one iteration = one pass over all margins).
    pub max_iterations: usize,
    /// Trimming bounds on the adjustment factor `w_i / base_i` (e.g. `(0.3, 3.0)`).
    pub bounds: Option<(f64, f64)>,
}

impl Default for RakeOptions {
    fn default() -> Self {
        Self {
            tolerance: 1e-6,
            max_iterations: 100,
            bounds: None,
        }
    }
}

/// Result of raking or calibration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibrated {
    /// Final weights.
    pub weights: Vec<f64>,
    /// Iterations used.
    pub iterations: usize,
    /// Largest relative margin error at the end.
    pub max_relative_error: f64,
    /// Kish summary of the final weights.
    pub summary: WeightSummary,
}

/// 耙权 raking by iterative proportional fitting (Deming & Stephan 1940) on any number of
/// margins, starting from `base` weights, with optional trimming bounds on `w/base`.
pub fn rake(base: &[f64], margins: &[Margin], opts: &RakeOptions) -> Result<Calibrated> {
    check_lengths(base, margins)?;
    if margins.is_empty() {
        return Err(SurveyError::Spec("raking needs at least one margin".into()));
    }
    if let Some((lo, hi)) = opts.bounds
        && !(lo > 0.0 && lo <= 1.0 && hi >= 1.0 && hi.is_finite())
    {
        return Err(SurveyError::Spec(format!(
            "trimming bounds ({lo}, {hi}) must satisfy 0 < lo ≤ 1 ≤ hi"
        )));
    }
    let grand: Vec<f64> = margins.iter().map(|m| m.totals.iter().sum()).collect();
    for (m, g) in margins.iter().zip(&grand) {
        if (g - grand[0]).abs() > 1e-6 * grand[0].abs().max(1.0) {
            return Err(SurveyError::Spec(format!(
                "margin `{}` sums to {g} but `{}` sums to {}: margins must share one population total",
                m.name, margins[0].name, grand[0]
            )));
        }
    }
    let mut w = base.to_vec();
    let mut err = f64::INFINITY;
    for it in 1..=opts.max_iterations {
        for m in margins {
            scale_to_margin(&mut w, m)?;
        }
        if let Some((lo, hi)) = opts.bounds {
            for (wi, bi) in w.iter_mut().zip(base) {
                *wi = wi.clamp(lo * bi, hi * bi);
            }
        }
        err = margins
            .iter()
            .map(|m| m.max_relative_error(&w))
            .fold(0.0, f64::max);
        if err <= opts.tolerance {
            let summary = kish(&w);
            return Ok(Calibrated {
                weights: w,
                iterations: it,
                max_relative_error: err,
                summary,
            });
        }
    }
    Err(SurveyError::NotConverged {
        what: "raking".into(),
        iterations: opts.max_iterations,
        last_change: err,
    })
}

/// Dummy-coded auxiliary variables of a set of margins, for calibration and for the variance
/// projection: all categories of the first margin, all but the first of the others (full rank).
pub fn margin_design(margins: &[Margin]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut cols = Vec::new();
    let mut totals = Vec::new();
    for (k, m) in margins.iter().enumerate() {
        let start = usize::from(k > 0);
        for c in start..m.totals.len() {
            cols.push(
                m.codes
                    .iter()
                    .map(|&x| f64::from(u8::from(x == c)))
                    .collect(),
            );
            totals.push(m.totals[c]);
        }
    }
    (cols, totals)
}

/// 线性校准 linear calibration (GREG; Deville & Särndal 1992): `w_i = d_i g_i` with
/// `g_i = 1 + x_iᵀλ` meeting `Σ w_i x_i = totals`. With `bounds = (lo, hi)` the factor is the
/// truncated linear function `g_i = clamp(1 + x_iᵀλ, lo, hi)` (Deville, Särndal & Sautory 1993),
/// solved by Newton steps on λ as `survey::calibrate(calfun = "linear", bounds = …)` does.
pub fn calibrate_linear(
    base: &[f64],
    x: &[Vec<f64>],
    totals: &[f64],
    bounds: Option<(f64, f64)>,
) -> Result<Calibrated> {
    calibrate_linear_heteroscedastic(base, x, totals, &vec![1.0; base.len()], bounds)
}

/// Linear calibration under a heteroscedastic working model `Var(y_i) ∝ σ²_i`:
/// `g_i = 1 + x_iᵀλ / σ²_i` (`survey::calibrate(…, variance = …)`; with `x = enroll`, no
/// intercept and `σ² = enroll` this is the ratio estimator).
pub fn calibrate_linear_heteroscedastic(
    base: &[f64],
    x: &[Vec<f64>],
    totals: &[f64],
    sigma2: &[f64],
    bounds: Option<(f64, f64)>,
) -> Result<Calibrated> {
    check_lengths(base, &[])?;
    if sigma2.len() != base.len() || sigma2.iter().any(|v| !(*v > 0.0)) {
        return Err(SurveyError::Spec(
            "working-model variances must be positive, one per respondent".into(),
        ));
    }
    let k = x.len();
    if k == 0 || totals.len() != k {
        return Err(SurveyError::Spec(format!(
            "calibration has {k} auxiliary variables and {} totals",
            totals.len()
        )));
    }
    let n = base.len();
    if x.iter().any(|c| c.len() != n) {
        return Err(SurveyError::Spec(
            "auxiliary variable length differs from weights".into(),
        ));
    }
    if let Some((lo, hi)) = bounds
        && !(lo < 1.0 && hi > 1.0)
    {
        return Err(SurveyError::Spec(format!(
            "calibration bounds ({lo}, {hi}) must satisfy lo < 1 < hi"
        )));
    }
    let (lo, hi) = bounds.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
    let scale: Vec<f64> = totals.iter().map(|t| t.abs().max(1.0)).collect();
    let mut lambda = vec![0.0; k];
    let mut w = base.to_vec();
    let max_iterations = 100;
    let mut err = f64::INFINITY;
    for it in 1..=max_iterations {
        // Factors, residual of the calibration equations and the Jacobian over free units.
        let mut a = vec![0.0; k * k];
        let mut rhs = totals.to_vec();
        for i in 0..n {
            let lin = 1.0 + (0..k).map(|r| x[r][i] * lambda[r]).sum::<f64>() / sigma2[i];
            let g = lin.clamp(lo, hi);
            w[i] = base[i] * g;
            for r in 0..k {
                rhs[r] -= w[i] * x[r][i];
            }
            if lin > lo && lin < hi {
                for r in 0..k {
                    for c in 0..k {
                        a[r * k + c] += base[i] * x[r][i] * x[c][i] / sigma2[i];
                    }
                }
            }
        }
        err = rhs
            .iter()
            .zip(&scale)
            .map(|(r, s)| r.abs() / s)
            .fold(0.0, f64::max);
        if err < 1e-10 {
            let summary = kish(&w);
            return Ok(Calibrated {
                weights: w,
                iterations: it,
                max_relative_error: err,
                summary,
            });
        }
        let step = solve(&a, &rhs, k)?;
        for (l, s) in lambda.iter_mut().zip(step) {
            *l += s;
        }
    }
    Err(SurveyError::NotConverged {
        what: "linear calibration".into(),
        iterations: max_iterations,
        last_change: err,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn margin(name: &str, codes: &[usize], totals: &[f64]) -> Margin {
        Margin::new(
            name,
            (0..totals.len()).map(|c| format!("c{c}")).collect(),
            codes.to_vec(),
            totals.to_vec(),
        )
        .unwrap()
    }

    #[test]
    fn kish_of_equal_weights_is_one() {
        let s = kish(&[2.0; 10]);
        assert!((s.n_eff - 10.0).abs() < 1e-12 && (s.deff_w - 1.0).abs() < 1e-12);
        // n = 2, weights 1 and 3: n_eff = 16/10 = 1.6, deff = 2/1.6 = 1.25.
        let s = kish(&[1.0, 3.0]);
        assert!((s.n_eff - 1.6).abs() < 1e-12 && (s.deff_w - 1.25).abs() < 1e-12);
    }

    /// Deming & Stephan (1940)-style 2×2 worked example, solved by hand.
    /// Sample counts (unit base weights): (a1,b1)=2, (a1,b2)=1, (a2,b1)=1, (a2,b2)=2.
    /// Margins: A = (60, 40), B = (50, 50). IPF preserves the sample's odds ratio (4), so the
    /// fixed point has cells p11, p12 = 60 − p11, p21 = 50 − p11, p22 = p11 − 10 with
    /// p11·(p11 − 10) / ((60 − p11)(50 − p11)) = 4 → 3p11² − 430 p11 + 12000 = 0 →
    /// p11 = (430 − √(430² − 144000)) / 6 = 37.9604… (Bishop, Fienberg & Holland 1975, §3.5).
    #[test]
    fn raking_reaches_the_odds_ratio_preserving_table() {
        let a = margin("A", &[0, 0, 0, 1, 1, 1], &[60.0, 40.0]);
        let b = margin("B", &[0, 0, 1, 0, 1, 1], &[50.0, 50.0]);
        let r = rake(
            &[1.0; 6],
            &[a, b],
            &RakeOptions {
                tolerance: 1e-12,
                max_iterations: 1000,
                bounds: None,
            },
        )
        .unwrap();
        let p11 = (430.0 - (430.0f64 * 430.0 - 144_000.0).sqrt()) / 6.0;
        assert!((r.weights[0] + r.weights[1] - p11).abs() < 1e-8);
        assert!((r.weights[2] - (60.0 - p11)).abs() < 1e-8);
        assert!((r.weights[3] - (50.0 - p11)).abs() < 1e-8);
    }

    #[test]
    fn poststratification_hits_cells() {
        let m = margin("d", &[0, 0, 1], &[10.0, 20.0]);
        let w = post_stratify(&[1.0, 3.0, 5.0], &m).unwrap();
        assert_eq!(w, vec![2.5, 7.5, 20.0]);
    }

    /// GREG with one auxiliary total and an intercept equals the regression estimator; a
    /// single-category calibration reduces to ratio scaling: w = d · N / Σd.
    #[test]
    fn linear_calibration_to_population_size_is_ratio_scaling() {
        let c = calibrate_linear(&[1.0, 2.0, 3.0], &[vec![1.0; 3]], &[12.0], None).unwrap();
        assert!((c.weights[0] - 2.0).abs() < 1e-12 && (c.weights[2] - 6.0).abs() < 1e-12);
    }

    #[test]
    fn inconsistent_margins_are_refused() {
        let a = margin("A", &[0, 1], &[1.0, 1.0]);
        let b = margin("B", &[0, 1], &[5.0, 5.0]);
        assert!(matches!(
            rake(&[1.0, 1.0], &[a, b], &RakeOptions::default()),
            Err(SurveyError::Spec(_))
        ));
    }
}
