//! Small dense linear algebra used by the estimators (matrices here are at most a few dozen wide).

use crate::error::{Result, SurveyError};

/// Solve `A x = b` for a square `A` (row-major, `k × k`) by Gaussian elimination with partial
/// pivoting. Returns an error when `A` is numerically singular.
pub(crate) fn solve(a: &[f64], b: &[f64], k: usize) -> Result<Vec<f64>> {
    let mut m = a.to_vec();
    let mut x = b.to_vec();
    for col in 0..k {
        let mut piv = col;
        let mut best = m[col * k + col].abs();
        for r in col + 1..k {
            let v = m[r * k + col].abs();
            if v > best {
                best = v;
                piv = r;
            }
        }
        if best < 1e-12 {
            return Err(SurveyError::Numerical(
                "singular matrix (collinear variables or empty category)".into(),
            ));
        }
        if piv != col {
            for c in 0..k {
                m.swap(col * k + c, piv * k + c);
            }
            x.swap(col, piv);
        }
        let d = m[col * k + col];
        for r in col + 1..k {
            let f = m[r * k + col] / d;
            if f != 0.0 {
                for c in col..k {
                    m[r * k + c] -= f * m[col * k + c];
                }
                x[r] -= f * x[col];
            }
        }
    }
    for col in (0..k).rev() {
        let mut s = x[col];
        for c in col + 1..k {
            s -= m[col * k + c] * x[c];
        }
        x[col] = s / m[col * k + col];
    }
    Ok(x)
}

/// Inverse of a square matrix (row-major), column by column.
pub(crate) fn inverse(a: &[f64], k: usize) -> Result<Vec<f64>> {
    let mut inv = vec![0.0; k * k];
    let mut e = vec![0.0; k];
    for j in 0..k {
        e.iter_mut().for_each(|v| *v = 0.0);
        e[j] = 1.0;
        let col = solve(a, &e, k)?;
        for i in 0..k {
            inv[i * k + j] = col[i];
        }
    }
    Ok(inv)
}

/// The sub-matrix of a `p × p` matrix on rows `rows` and columns `cols`.
pub(crate) fn sub(a: &[f64], p: usize, rows: &[usize], cols: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(rows.len() * cols.len());
    for &r in rows {
        for &c in cols {
            out.push(a[r * p + c]);
        }
    }
    out
}

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
    use statrs::distribution::{ContinuousCDF, Normal};
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(0.5 + level / 2.0),
        Err(_) => 1.959_963_984_540_054,
    }
}

/// Two-sided p-value of a standard normal statistic.
pub(crate) fn normal_two_sided_p(z: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    match Normal::new(0.0, 1.0) {
        Ok(n) => 2.0 * (1.0 - n.cdf(z.abs())),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_small_system() {
        let a = [2.0, 1.0, 1.0, 3.0];
        let x = solve(&a, &[3.0, 5.0], 2).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
    }

    #[test]
    fn quantile_matches_r_type7() {
        // R: quantile(1:10, c(.025, .975)) = 1.225, 9.775
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((quantile_sorted(&v, 0.025) - 1.225).abs() < 1e-12);
        assert!((quantile_sorted(&v, 0.975) - 9.775).abs() < 1e-12);
    }
}
