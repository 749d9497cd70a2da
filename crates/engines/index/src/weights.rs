//! Weighting methods. Matrices are given as columns (one `Vec` per criterion, the same
//! units in every column); rows with a missing value are dropped first. Every method
//! returns weights that sum to 1.
//!
//! Conventions (documented in `examples/README-index.md`):
//! - **Entropy (熵权法)** follows pymcdm 1.4 `entropy_weights`: p_ij = x_ij/Σ_i x_ij,
//!   e_j = −Σ_i p_ij ln p_ij / ln m, w_j ∝ 1 − e_j. Zeros use the limit 0·ln 0 = 0
//!   (the usual 熵权法 convention; pymcdm 1.4 rejects zeros, and older pymcdm set
//!   e_j = 0 for such a column, which would give every min-max normalised column the
//!   same weight). Directions are not used: data must be ≥ 0, so normalise first.
//! - **CRITIC** follows pymcdm `critic_weights` (Diakoulaki et al. 1995): min-max
//!   normalise each column, C_j = σ_j Σ_k (1 − r_jk) with σ the sample sd (n − 1) and
//!   r Pearson's correlation; w ∝ C.
//! - **Std** follows pymcdm `standard_deviation_weights`: w ∝ sample sd of the raw column.
//! - **PCA**: squared components of the first eigenvector of the correlation matrix
//!   (the squared PC1 loadings rescaled to unity, OECD/JRC Handbook §6.1).
//! - **AHP**: Saaty's principal eigenvector; CI = (λmax − n)/(n − 1), CR = CI/RI with
//!   Saaty's random index RI(n) = 0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49.

use serde::Serialize;

use crate::error::{IndexError, Result};
use crate::linalg;
use crate::simplex::{self, LpResult};
use crate::stats;

/// Drops rows (units) with any missing value.
pub fn complete_rows(cols: &[Vec<f64>]) -> Vec<Vec<f64>> {
    if cols.is_empty() {
        return Vec::new();
    }
    let n = cols[0].len();
    let keep: Vec<usize> = (0..n)
        .filter(|&i| cols.iter().all(|c| !c[i].is_nan()))
        .collect();
    cols.iter()
        .map(|c| keep.iter().map(|&i| c[i]).collect())
        .collect()
}

fn normalise_sum(v: Vec<f64>, method: &str) -> Result<Vec<f64>> {
    let s: f64 = v.iter().sum();
    if !(s.is_finite() && s > 0.0) {
        return Err(IndexError::method(
            method,
            "weights cannot be computed (all criteria constant or data degenerate)",
        ));
    }
    Ok(v.into_iter().map(|x| x / s).collect())
}

fn check(cols: &[Vec<f64>], method: &str, min_rows: usize) -> Result<Vec<Vec<f64>>> {
    if cols.is_empty() {
        return Err(IndexError::method(method, "no criteria"));
    }
    let c = complete_rows(cols);
    if c[0].len() < min_rows {
        return Err(IndexError::method(
            method,
            format!(
                "needs at least {min_rows} complete rows, got {}",
                c[0].len()
            ),
        ));
    }
    Ok(c)
}

/// Equal weights.
pub fn equal(n: usize) -> Vec<f64> {
    vec![1.0 / n as f64; n]
}

/// Entropy weights (熵权法), pymcdm convention.
pub fn entropy(cols: &[Vec<f64>]) -> Result<Vec<f64>> {
    let c = check(cols, "entropy", 2)?;
    let m = c[0].len() as f64;
    let mut e = Vec::with_capacity(c.len());
    for col in &c {
        if col.iter().any(|&x| x < 0.0) {
            return Err(IndexError::method(
                "entropy",
                "entropy weights need non-negative data (normalise first)",
            ));
        }
        let s: f64 = col.iter().sum();
        let ent = if s == 0.0 {
            0.0
        } else {
            -col.iter()
                .filter(|&&x| x > 0.0)
                .map(|&x| (x / s) * (x / s).ln())
                .sum::<f64>()
        };
        e.push(1.0 - ent / m.ln());
    }
    normalise_sum(e, "entropy")
}

/// Min-max normalisation of one column to [0, 1].
fn minmax01(x: &[f64]) -> Vec<f64> {
    let (mn, mx) = (stats::min(x), stats::max(x));
    x.iter().map(|v| (v - mn) / (mx - mn)).collect()
}

/// CRITIC weights, pymcdm convention.
pub fn critic(cols: &[Vec<f64>]) -> Result<Vec<f64>> {
    let c = check(cols, "critic", 3)?;
    let n: Vec<Vec<f64>> = c.iter().map(|x| minmax01(x)).collect();
    let r = linalg::correlation_matrix(&n);
    let cj: Vec<f64> = (0..n.len())
        .map(|j| stats::sd(&n[j]) * (0..n.len()).map(|k| 1.0 - r[j][k]).sum::<f64>())
        .collect();
    normalise_sum(cj, "critic")
}

/// Standard-deviation weights, pymcdm convention.
pub fn std_weights(cols: &[Vec<f64>]) -> Result<Vec<f64>> {
    let c = check(cols, "std", 2)?;
    normalise_sum(c.iter().map(|x| stats::sd(x)).collect(), "std")
}

/// PCA weights: squared first-eigenvector components of the correlation matrix.
pub fn pca(cols: &[Vec<f64>]) -> Result<Vec<f64>> {
    let c = check(cols, "pca", 3)?;
    if c.len() == 1 {
        return Ok(vec![1.0]);
    }
    let r = linalg::correlation_matrix(&c);
    if r.iter().flatten().any(|x| x.is_nan()) {
        return Err(IndexError::method("pca", "a criterion is constant"));
    }
    let (_, vecs) = linalg::symmetric_eigen(&r);
    normalise_sum(vecs[0].iter().map(|v| v * v).collect(), "pca")
}

/// Saaty's random consistency index for a matrix of order n (n ≤ 10; larger n uses 1.49).
pub fn random_index(n: usize) -> f64 {
    const RI: [f64; 11] = [
        0.0, 0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49,
    ];
    if n < RI.len() { RI[n] } else { 1.49 }
}

/// Result of AHP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ahp {
    pub weights: Vec<f64>,
    pub lambda_max: f64,
    pub consistency_index: f64,
    pub consistency_ratio: f64,
}

/// AHP weights from a positive reciprocal pairwise matrix (Saaty 1980).
pub fn ahp(pairwise: &[Vec<f64>]) -> Result<Ahp> {
    let n = pairwise.len();
    if n == 0 || pairwise.iter().any(|r| r.len() != n) {
        return Err(IndexError::method("ahp", "pairwise matrix must be square"));
    }
    for i in 0..n {
        if (pairwise[i][i] - 1.0).abs() > 1e-9 {
            return Err(IndexError::method(
                "ahp",
                format!("diagonal entry {} must be 1", i + 1),
            ));
        }
        for j in 0..n {
            let (a, b) = (pairwise[i][j], pairwise[j][i]);
            if a.is_nan() || a <= 0.0 || (a * b - 1.0).abs() > 1e-3 {
                return Err(IndexError::method(
                    "ahp",
                    format!(
                        "matrix is not reciprocal at ({}, {}): {a} × {b} ≠ 1",
                        i + 1,
                        j + 1
                    ),
                ));
            }
        }
    }
    let (lambda, w) = linalg::perron(pairwise);
    let ci = if n > 2 {
        (lambda - n as f64) / (n as f64 - 1.0)
    } else {
        0.0
    };
    let ri = random_index(n);
    let cr = if ri > 0.0 { ci / ri } else { 0.0 };
    Ok(Ahp {
        weights: w,
        lambda_max: lambda,
        consistency_index: ci,
        consistency_ratio: cr,
    })
}

/// Benefit of the doubt for every unit: the composite score under the unit's most
/// favourable weights, `max_w Σ_i w_i y_ci s.t. Σ_i w_i y_ji ≤ 1 ∀ j, w ≥ 0`
/// (Cherchye et al. 2007; Compind `ci_bod`). Data must be ≥ 0 (normalise first).
/// Returns (scores in [0, 1], weights per unit). A unit with a missing value gets NaN.
pub fn benefit_of_doubt(cols: &[Vec<f64>]) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
    if cols.is_empty() {
        return Err(IndexError::method("bod", "no criteria"));
    }
    let n_units = cols[0].len();
    let complete: Vec<usize> = (0..n_units)
        .filter(|&i| cols.iter().all(|c| !c[i].is_nan()))
        .collect();
    if cols.iter().flatten().any(|&x| x < 0.0) {
        return Err(IndexError::method(
            "bod",
            "benefit of the doubt needs non-negative data (normalise first)",
        ));
    }
    let a: Vec<Vec<f64>> = complete
        .iter()
        .map(|&j| cols.iter().map(|c| c[j]).collect())
        .collect();
    let b = vec![1.0; a.len()];
    let mut scores = vec![f64::NAN; n_units];
    let mut weights = vec![vec![f64::NAN; cols.len()]; n_units];
    for &u in &complete {
        let c: Vec<f64> = cols.iter().map(|col| col[u]).collect();
        match simplex::maximise(&c, &a, &b) {
            LpResult::Optimal { value, x } => {
                scores[u] = value;
                weights[u] = x;
            }
            LpResult::Unbounded => {
                return Err(IndexError::method(
                    "bod",
                    "unbounded programme: a criterion is zero for every unit",
                ));
            }
        }
    }
    Ok((scores, weights))
}
