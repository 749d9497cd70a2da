//! Quantiles and p-values: R's type-7 sample quantile and the standard normal's quantile and
//! two-sided tail probability.

use statrs::distribution::{ContinuousCDF, Normal};

/// Quantile of sorted data with R's default definition (type 7).
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Two-sided standard normal quantile for a confidence level (e.g. 0.95 → 1.959964).
pub(crate) fn z_for_level(level: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(0.5 + level / 2.0),
        Err(_) => 1.959_963_984_540_054,
    }
}

/// Two-sided p-value of a standard normal statistic.
pub(crate) fn normal_two_sided_p(z: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => 2.0 * (1.0 - n.cdf(z.abs())),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_r_type7() {
        // R: quantile(1:10, c(.025, .975)) = 1.225, 9.775
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((quantile_sorted(&v, 0.025) - 1.225).abs() < 1e-12);
        assert!((quantile_sorted(&v, 0.975) - 9.775).abs() < 1e-12);
    }
}
