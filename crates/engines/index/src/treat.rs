//! Outlier treatment by the JRC skew/kurtosis rule (COINr `R/treat.R`).
//!
//! An indicator passes when |skew| < `skew_thresh` OR kurtosis < `kurt_thresh`
//! (so it is treated only when both limits are exceeded). A failing indicator is
//! winsorised point by point (the max, or the min if skew < 0, is set to the next
//! value; tied extremes move together) until it passes or `winmax` points are done.
//! If it still fails, the fallback transformation is applied to the original values
//! (or to the winsorised ones with `combine_treat`).

use serde::Serialize;

use crate::spec::{Fallback, TreatSpec};
use crate::stats;

/// What happened to one indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreatDetail {
    pub code: String,
    pub skew_before: f64,
    pub kurt_before: f64,
    pub skew_after: f64,
    pub kurt_after: f64,
    /// Number of winsorised points (COINr `nwin`).
    pub n_winsorised: usize,
    /// Whether the fallback transformation was applied.
    pub transformed: bool,
    pub passed: bool,
    /// Per unit: "", "winhi", "winlo", or the fallback's name.
    pub points: Vec<String>,
}

/// The JRC pass test. NaN statistics (too few points) pass.
pub fn passes(x: &[f64], skew_thresh: f64, kurt_thresh: f64) -> bool {
    let s = stats::skew(x);
    let k = stats::kurt(x);
    if s.is_nan() || k.is_nan() {
        return true;
    }
    s.abs() < skew_thresh || k < kurt_thresh
}

/// Winsorises `x` in place. Returns the number of winsorised points and the flags.
pub fn winsorise(
    x: &mut [f64],
    winmax: usize,
    skew_thresh: f64,
    kurt_thresh: f64,
) -> (usize, Vec<&'static str>) {
    let mut imax: Vec<usize> = Vec::new();
    let mut imin: Vec<usize> = Vec::new();
    let mut nwin = 0usize;
    let mut passing = passes(x, skew_thresh, kurt_thresh);
    while !passing && nwin < winmax {
        let s = stats::skew(x);
        if s >= 0.0 {
            let mx = stats::max(x);
            imax = (0..x.len()).filter(|&i| x[i] == mx).collect();
            let next = x
                .iter()
                .enumerate()
                .filter(|(i, v)| !v.is_nan() && !imax.contains(i))
                .map(|(_, v)| *v)
                .fold(f64::NAN, |a, b| if a.is_nan() || b > a { b } else { a });
            if next.is_nan() {
                break;
            }
            for &i in &imax {
                x[i] = next;
            }
        } else {
            let mn = stats::min(x);
            imin = (0..x.len()).filter(|&i| x[i] == mn).collect();
            let next = x
                .iter()
                .enumerate()
                .filter(|(i, v)| !v.is_nan() && !imin.contains(i))
                .map(|(_, v)| *v)
                .fold(f64::NAN, |a, b| if a.is_nan() || b < a { b } else { a });
            if next.is_nan() {
                break;
            }
            for &i in &imin {
                x[i] = next;
            }
        }
        nwin = imax.len() + imin.len();
        passing = passes(x, skew_thresh, kurt_thresh);
    }
    let mut flags = vec![""; x.len()];
    for &i in &imax {
        flags[i] = "winhi";
    }
    for &i in &imin {
        flags[i] = "winlo";
    }
    (nwin, flags)
}

/// ln(x − min + 0.01·(max − min)) (COINr `log_CT`).
pub fn log_ct(x: &[f64]) -> Vec<f64> {
    let (mn, mx) = (stats::min(x), stats::max(x));
    x.iter().map(|v| (v - mn + 0.01 * (mx - mn)).ln()).collect()
}

/// `log_CT` when skew ≥ 0, else −ln(max + a − x) with a = 0.01·(max − min), which keeps
/// the order of the values.
pub fn log_ct_plus(x: &[f64]) -> Vec<f64> {
    if stats::skew(x) >= 0.0 {
        log_ct(x)
    } else {
        let (mn, mx) = (stats::min(x), stats::max(x));
        let a = 0.01 * (mx - mn);
        x.iter().map(|v| -(mx + a - v).ln()).collect()
    }
}

/// ln(x − min + 1) (COINr `log_CT_orig`).
pub fn log_ct_orig(x: &[f64]) -> Vec<f64> {
    let mn = stats::min(x);
    x.iter().map(|v| (v - mn + 1.0).ln()).collect()
}

/// Box-Cox with fixed λ on x − min + 1 (COINr `boxcox(makepos = TRUE)`).
pub fn boxcox(x: &[f64], lambda: f64) -> Vec<f64> {
    let mn = stats::min(x);
    x.iter()
        .map(|v| {
            let y = v - mn + 1.0;
            if lambda == 0.0 {
                y.ln()
            } else {
                (y.powf(lambda) - 1.0) / lambda
            }
        })
        .collect()
}

/// Treats one indicator column.
pub fn treat_column(code: &str, x: &[f64], spec: &TreatSpec) -> (Vec<f64>, TreatDetail) {
    let skew_before = stats::skew(x);
    let kurt_before = stats::kurt(x);
    let mut detail = TreatDetail {
        code: code.to_string(),
        skew_before,
        kurt_before,
        skew_after: skew_before,
        kurt_after: kurt_before,
        n_winsorised: 0,
        transformed: false,
        passed: true,
        points: vec![String::new(); x.len()],
    };
    if spec.exclude.iter().any(|e| e == code) || passes(x, spec.skew_thresh, spec.kurt_thresh) {
        return (x.to_vec(), detail);
    }
    let mut y = x.to_vec();
    let (nwin, flags) = winsorise(&mut y, spec.winmax, spec.skew_thresh, spec.kurt_thresh);
    detail.n_winsorised = nwin;
    for (p, f) in detail.points.iter_mut().zip(&flags) {
        *p = f.to_string();
    }
    if !passes(&y, spec.skew_thresh, spec.kurt_thresh) {
        let base: &[f64] = if spec.combine_treat { &y } else { x };
        let (t, name) = match spec.fallback {
            Fallback::LogCt => (Some(log_ct(base)), "log_CT"),
            Fallback::LogCtPlus => (Some(log_ct_plus(base)), "log_CT_plus"),
            Fallback::LogCtOrig => (Some(log_ct_orig(base)), "log_CT_orig"),
            Fallback::Boxcox { lambda } => (Some(boxcox(base, lambda)), "boxcox"),
            Fallback::None => (None, ""),
        };
        if let Some(t) = t {
            y = t;
            detail.transformed = true;
            if !spec.combine_treat {
                detail.n_winsorised = 0;
            }
            for (k, p) in detail.points.iter_mut().enumerate() {
                *p = if spec.combine_treat && !flags[k].is_empty() {
                    format!("{}+{}", flags[k], name)
                } else {
                    name.to_string()
                };
            }
        }
    }
    detail.skew_after = stats::skew(&y);
    detail.kurt_after = stats::kurt(&y);
    detail.passed = passes(&y, spec.skew_thresh, spec.kurt_thresh);
    (y, detail)
}
