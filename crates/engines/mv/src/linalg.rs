//! Small dense least squares: weighted normal equations solved by a rank-tolerant Cholesky
//! factorisation (a column that is a linear combination of earlier ones gets coefficient 0,
//! as R's `lm` marks it aliased).
//!
//! Written here rather than taken from nalgebra or faer on purpose: their Cholesky rejects the
//! singular Gram matrices that empty TOWT temperature bins and collinear EnPI variables give,
//! and every fit here starts from accumulated moments (the CalTRACK grid search, and TOWT,
//! whose sparse design matrix is never formed), so one small factorisation serves all of them.

#![allow(clippy::needless_range_loop)] // index loops read clearest in matrix code

use crate::error::{MvError, Result};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Result of a (weighted) least-squares fit.
#[derive(Debug, Clone, PartialEq)]
pub struct LsFit {
    /// Coefficients, intercept first when fitted with one.
    pub beta: Vec<f64>,
    /// Standard errors of the coefficients (NaN for dropped columns).
    pub std_err: Vec<f64>,
    /// t statistics `beta_j / std_err_j`.
    pub t_stats: Vec<f64>,
    /// Two-sided p-values of `beta_j = 0` (Student t, `df_resid` degrees of freedom);
    /// empty when fitted with [`wls_no_p`].
    pub p_values: Vec<f64>,
    /// Weighted residual sum of squares.
    pub ssr: f64,
    /// Weighted total sum of squares about the weighted mean.
    pub tss: f64,
    /// Observations.
    pub n: usize,
    /// Residual degrees of freedom (`n` − number of coefficients).
    pub df_resid: f64,
    /// Coefficient of determination (0 for an intercept-only fit).
    pub r2: f64,
    /// Adjusted R² = 1 − (n − 1)/df_resid · (1 − R²) (CalTRACK 3.4.3.3).
    pub r2_adj: f64,
}

/// Fits `y ~ [1] + cols` by weighted least squares. `weights` default to 1.
pub fn wls(cols: &[&[f64]], y: &[f64], weights: Option<&[f64]>, intercept: bool) -> Result<LsFit> {
    let mut f = wls_no_p(cols, y, weights, intercept)?;
    f.p_values = f
        .t_stats
        .iter()
        .map(|t| two_sided_p(*t, f.df_resid))
        .collect();
    Ok(f)
}

/// As [`wls`] without p-values (cheaper inside grid searches: compare `t_stats` with
/// [`t_critical`] instead).
pub fn wls_no_p(
    cols: &[&[f64]],
    y: &[f64],
    weights: Option<&[f64]>,
    intercept: bool,
) -> Result<LsFit> {
    let n = y.len();
    let k = cols.len() + usize::from(intercept);
    if k == 0 {
        return Err(MvError::Singular("no regressors".into()));
    }
    if cols.iter().any(|c| c.len() != n) || weights.is_some_and(|w| w.len() != n) {
        return Err(MvError::Singular("column lengths differ".into()));
    }
    if n < k {
        return Err(MvError::Insufficient(format!(
            "{n} observations for {k} coefficients"
        )));
    }
    let w_at = |i: usize| weights.map_or(1.0, |w| w[i]);
    let x_at = |i: usize, j: usize| -> f64 {
        if intercept {
            if j == 0 { 1.0 } else { cols[j - 1][i] }
        } else {
            cols[j][i]
        }
    };
    let mut xtx = vec![0.0; k * k];
    let mut xty = vec![0.0; k];
    for i in 0..n {
        let w = w_at(i);
        for a in 0..k {
            let xa = x_at(i, a) * w;
            xty[a] += xa * y[i];
            for b in 0..=a {
                xtx[a * k + b] += xa * x_at(i, b);
            }
        }
    }
    for a in 0..k {
        for b in 0..a {
            xtx[b * k + a] = xtx[a * k + b];
        }
    }
    let chol = Cholesky::factor(&xtx, k);
    let beta = chol.solve(&xty);
    let sw: f64 = (0..n).map(w_at).sum();
    let ybar = if sw > 0.0 {
        (0..n).map(|i| w_at(i) * y[i]).sum::<f64>() / sw
    } else {
        0.0
    };
    let mut ssr = 0.0;
    let mut tss = 0.0;
    for i in 0..n {
        let pred: f64 = (0..k).map(|j| x_at(i, j) * beta[j]).sum();
        let w = w_at(i);
        ssr += w * (y[i] - pred).powi(2);
        tss += w * (y[i] - ybar).powi(2);
    }
    Ok(finish(&chol, beta, ssr, tss, n, intercept))
}

/// Weighted sums of squares and cross products of a regression `y ~ 1 + x₁ + …`:
/// the Gram matrix `XᵀWX` (intercept column first), `XᵀWy`, `yᵀWy` and `Σw`, `Σwy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    /// `XᵀWX`, row-major `k × k`.
    pub xtx: Vec<f64>,
    /// `XᵀWy`.
    pub xty: Vec<f64>,
    /// `yᵀWy`.
    pub yty: f64,
    /// Observations.
    pub n: usize,
}

/// WLS with an intercept from precomputed moments (`XᵀWX[0][0]` is `Σw` and `XᵀWy[0]` is
/// `Σwy`); SSR = yᵀWy − βᵀXᵀWy. Kept for the speed of the CalTRACK grid search: its ~2,000
/// candidates per meter-year each cost one pass over the rows and a 3 × 3 solve, with no
/// second pass for the residuals.
pub fn wls_from_moments(m: &Moments) -> Result<LsFit> {
    let k = m.xty.len();
    if k == 0 || m.xtx.len() != k * k {
        return Err(MvError::Singular("moment sizes differ".into()));
    }
    if m.n < k {
        return Err(MvError::Insufficient(format!(
            "{} observations for {k} coefficients",
            m.n
        )));
    }
    let chol = Cholesky::factor(&m.xtx, k);
    let beta = chol.solve(&m.xty);
    let fitted: f64 = beta.iter().zip(&m.xty).map(|(b, v)| b * v).sum();
    let ssr = (m.yty - fitted).max(0.0);
    let sw = m.xtx[0];
    let tss = if sw > 0.0 {
        m.yty - m.xty[0] * m.xty[0] / sw
    } else {
        0.0
    };
    Ok(finish(&chol, beta, ssr, tss, m.n, true))
}

fn finish(chol: &Cholesky, beta: Vec<f64>, ssr: f64, tss: f64, n: usize, intercept: bool) -> LsFit {
    let k = beta.len();
    let rank = chol.active.iter().filter(|a| **a).count();
    let df_resid = (n - rank) as f64;
    let scale = if df_resid > 0.0 {
        ssr / df_resid
    } else {
        f64::NAN
    };
    let inv_diag = chol.inverse_diagonal();
    let std_err: Vec<f64> = inv_diag.iter().map(|d| (d * scale).sqrt()).collect();
    let t_stats = beta.iter().zip(&std_err).map(|(b, se)| b / se).collect();
    let (r2, r2_adj) = if intercept && k == 1 {
        (0.0, 0.0)
    } else if tss > 0.0 {
        let r2 = 1.0 - ssr / tss;
        let dfm = if intercept { n as f64 - 1.0 } else { n as f64 };
        (r2, 1.0 - dfm / df_resid * (1.0 - r2))
    } else {
        (f64::NAN, f64::NAN)
    };
    LsFit {
        beta,
        std_err,
        t_stats,
        p_values: Vec::new(),
        ssr,
        tss,
        n,
        df_resid,
        r2,
        r2_adj,
    }
}

/// Two-sided p-value of a t statistic.
pub fn two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return if t.is_nan() { f64::NAN } else { 0.0 };
    }
    if df <= 0.0 {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => 2.0 * dist.sf(t.abs()),
        Err(_) => f64::NAN,
    }
}

/// Two-sided critical value `t` with `P(|T| ≤ t) = confidence`.
pub fn t_critical(confidence: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => dist.inverse_cdf(1.0 - (1.0 - confidence) / 2.0),
        Err(_) => f64::NAN,
    }
}

/// Cholesky factor `A = L·Lᵀ` of a symmetric positive semi-definite matrix, dropping
/// (zeroing) columns whose pivot falls below a relative tolerance.
#[derive(Debug, Clone)]
pub struct Cholesky {
    k: usize,
    l: Vec<f64>,
    /// Whether each column was kept.
    pub active: Vec<bool>,
}

impl Cholesky {
    /// Factors the row-major `k × k` matrix `a`.
    pub fn factor(a: &[f64], k: usize) -> Self {
        let mut l = vec![0.0; k * k];
        let mut active = vec![true; k];
        for j in 0..k {
            let ajj = a[j * k + j];
            let mut d = ajj;
            for p in 0..j {
                d -= l[j * k + p] * l[j * k + p];
            }
            let pivot_ok = d > 1e-10 * ajj.abs().max(1e-300);
            if !pivot_ok || ajj <= 0.0 {
                active[j] = false;
                continue;
            }
            let ljj = d.sqrt();
            l[j * k + j] = ljj;
            for i in (j + 1)..k {
                let mut s = a[i * k + j];
                for p in 0..j {
                    s -= l[i * k + p] * l[j * k + p];
                }
                l[i * k + j] = s / ljj;
            }
        }
        Cholesky { k, l, active }
    }

    /// Solves `A·x = b`; dropped columns get 0.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let k = self.k;
        let mut z = vec![0.0; k];
        for i in 0..k {
            if !self.active[i] {
                continue;
            }
            let mut s = b[i];
            for p in 0..i {
                s -= self.l[i * k + p] * z[p];
            }
            z[i] = s / self.l[i * k + i];
        }
        let mut x = vec![0.0; k];
        for i in (0..k).rev() {
            if !self.active[i] {
                continue;
            }
            let mut s = z[i];
            for p in (i + 1)..k {
                s -= self.l[p * k + i] * x[p];
            }
            x[i] = s / self.l[i * k + i];
        }
        x
    }

    /// Diagonal of `A⁻¹` (NaN for dropped columns).
    pub fn inverse_diagonal(&self) -> Vec<f64> {
        let k = self.k;
        (0..k)
            .map(|j| {
                if !self.active[j] {
                    return f64::NAN;
                }
                let mut e = vec![0.0; k];
                e[j] = 1.0;
                self.solve(&e)[j]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 3.0, 5.0, 7.0];
        let f = wls(&[&x], &y, None, true).unwrap();
        assert!((f.beta[0] - 1.0).abs() < 1e-12);
        assert!((f.beta[1] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn moments_path_matches_direct() {
        let x = [0.0, 1.0, 2.0, 3.0, 5.0];
        let z = [1.0, 0.0, 2.0, 1.0, 0.5];
        let y = [1.2, 2.9, 5.3, 6.8, 11.0];
        let w = [1.0, 2.0, 1.0, 3.0, 1.0];
        let d = wls(&[&x, &z], &y, Some(&w), true).unwrap();
        let cols = [&[1.0; 5][..], &x, &z];
        let mut xtx = vec![0.0; 9];
        let mut xty = vec![0.0; 3];
        for a in 0..3 {
            for i in 0..5 {
                xty[a] += w[i] * cols[a][i] * y[i];
                for b in 0..3 {
                    xtx[a * 3 + b] += w[i] * cols[a][i] * cols[b][i];
                }
            }
        }
        let yty = (0..5).map(|i| w[i] * y[i] * y[i]).sum();
        let m = wls_from_moments(&Moments {
            xtx,
            xty,
            yty,
            n: 5,
        })
        .unwrap();
        for j in 0..3 {
            assert!((m.beta[j] - d.beta[j]).abs() < 1e-10);
            assert!((m.t_stats[j] - d.t_stats[j]).abs() < 1e-8);
        }
        assert!((m.r2_adj - d.r2_adj).abs() < 1e-10);
    }

    #[test]
    fn collinear_column_dropped() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let x2 = [0.0, 2.0, 4.0, 6.0];
        let y = [1.0, 3.0, 5.0, 7.0];
        let f = wls(&[&x, &x2], &y, None, true).unwrap();
        assert!((f.ssr).abs() < 1e-9);
    }
}
