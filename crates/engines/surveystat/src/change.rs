//! Year-on-year change of an index (同比变化) with its standard error and a two-sided z test,
//! for two independent samples (waves): `SE = √(SE₁² + SE₂²)`.

use serde::Serialize;

use crate::quantiles::{normal_two_sided_p, z_for_level};

/// Change between two independent estimates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndexChange {
    /// Current minus previous.
    pub change: f64,
    /// Standard error of the change.
    pub se: f64,
    /// z statistic.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence limit of the change.
    pub ci_low: f64,
    /// Upper confidence limit of the change.
    pub ci_high: f64,
    /// Whether the change is significant at `1 − level`.
    pub significant: bool,
}

/// Change from `(previous, se)` to `(current, se)` at confidence `level` (e.g. 0.95).
pub fn index_change(previous: (f64, f64), current: (f64, f64), level: f64) -> IndexChange {
    let change = current.0 - previous.0;
    let se = (previous.1.powi(2) + current.1.powi(2)).sqrt();
    let z = change / se;
    let p = normal_two_sided_p(z);
    let q = z_for_level(level);
    IndexChange {
        change,
        se,
        z,
        p_value: p,
        ci_low: change - q * se,
        ci_high: change + q * se,
        significant: p < 1.0 - level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzhou 2016 reported 85.85, +3.72 on the year. With SEs 1.2 and 1.6 (illustrative),
    /// SE = √(1.44 + 2.56) = 2, z = 1.86, p = 2(1 − Φ(1.86)) = 0.0629 (normal table): not
    /// significant at 5 %.
    #[test]
    fn change_test_by_hand() {
        let c = index_change((82.13, 1.2), (85.85, 1.6), 0.95);
        assert!((c.change - 3.72).abs() < 1e-9);
        assert!((c.se - 2.0).abs() < 1e-12);
        assert!((c.z - 1.86).abs() < 1e-9);
        assert!((c.p_value - 0.062_886).abs() < 1e-5);
        assert!(!c.significant);
    }
}
