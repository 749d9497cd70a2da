//! Aggregation functions (COINr `R/aggregate.R`). A missing value drops the pair
//! (x, w) and the remaining weights are re-normalised.

use crate::error::{IndexError, Result};

/// Iterator over present (x, w) pairs.
fn pairs<'a>(x: &'a [f64], w: &'a [f64]) -> impl Iterator<Item = (f64, f64)> + 'a {
    x.iter()
        .zip(w)
        .filter(|(a, _)| !a.is_nan())
        .map(|(a, b)| (*a, *b))
}

/// Weighted arithmetic mean Σwx/Σw (`a_amean`).
pub fn amean(x: &[f64], w: &[f64]) -> f64 {
    let (mut s, mut sw) = (0.0, 0.0);
    for (a, b) in pairs(x, w) {
        s += a * b;
        sw += b;
    }
    if sw == 0.0 { f64::NAN } else { s / sw }
}

/// Weighted geometric mean exp(Σw ln x/Σw) (`a_gmean`); needs x > 0.
pub fn gmean(x: &[f64], w: &[f64]) -> Result<f64> {
    let (mut s, mut sw) = (0.0, 0.0);
    for (a, b) in pairs(x, w) {
        if a <= 0.0 {
            return Err(IndexError::method(
                "gmean",
                "the geometric mean needs positive values (normalise to a range above 0, e.g. 1–100)",
            ));
        }
        s += b * a.ln();
        sw += b;
    }
    Ok(if sw == 0.0 { f64::NAN } else { (s / sw).exp() })
}

/// Weighted harmonic mean Σw/Σ(w/x) (`a_hmean`); needs x ≠ 0.
pub fn hmean(x: &[f64], w: &[f64]) -> Result<f64> {
    let (mut s, mut sw) = (0.0, 0.0);
    for (a, b) in pairs(x, w) {
        if a == 0.0 {
            return Err(IndexError::method(
                "hmean",
                "the harmonic mean needs non-zero values",
            ));
        }
        s += b / a;
        sw += b;
    }
    Ok(if sw == 0.0 { f64::NAN } else { sw / s })
}

/// Weighted generalised (power) mean (Σw x^p/Σw)^(1/p) (`a_genmean`), p ≠ 0.
pub fn genmean(x: &[f64], w: &[f64], p: f64) -> Result<f64> {
    if p == 0.0 {
        return Err(IndexError::method(
            "genmean",
            "p = 0 is the geometric mean: use gmean",
        ));
    }
    let (mut s, mut sw) = (0.0, 0.0);
    for (a, b) in pairs(x, w) {
        if a < 0.0 {
            return Err(IndexError::method("genmean", "needs non-negative values"));
        }
        s += b * a.powf(p);
        sw += b;
    }
    Ok(if sw == 0.0 {
        f64::NAN
    } else {
        (s / sw).powf(1.0 / p)
    })
}

/// Outranking matrix e_ij = Σ_k w_k [x_ik > x_jk] + ½ Σ_k w_k [x_ik = x_jk], over the
/// criteria present for both units, with those weights re-normalised to sum 1
/// (COINr `outrankMatrix`). `rows` are units, each a vector over criteria.
pub fn outrank_matrix(rows: &[Vec<f64>], w: &[f64]) -> Vec<Vec<f64>> {
    let n = rows.len();
    let mut e = vec![vec![f64::NAN; n]; n];
    for i in 0..n {
        for j in 0..n {
            let (mut s, mut sw) = (0.0, 0.0);
            for k in 0..w.len() {
                let (a, b) = (rows[i][k], rows[j][k]);
                if a.is_nan() || b.is_nan() {
                    continue;
                }
                sw += w[k];
                if a > b {
                    s += w[k];
                } else if a == b {
                    s += 0.5 * w[k];
                }
            }
            if sw > 0.0 {
                e[i][j] = s / sw;
            }
        }
    }
    e
}

/// Copeland scores: row sums of sign(e_ij − ½) over j ≠ i (`a_copeland`).
pub fn copeland(rows: &[Vec<f64>], w: &[f64]) -> Vec<f64> {
    let e = outrank_matrix(rows, w);
    (0..rows.len())
        .map(|i| {
            if rows[i].iter().all(|v| v.is_nan()) {
                return f64::NAN;
            }
            (0..rows.len())
                .filter(|&j| j != i && !e[i][j].is_nan())
                .map(|j| {
                    let d = e[i][j] - 0.5;
                    if d > 1e-12 {
                        1.0
                    } else if d < -1e-12 {
                        -1.0
                    } else {
                        0.0
                    }
                })
                .sum()
        })
        .collect()
}

/// Share of pairs where unit i fully dominates j (e_ij = 1), COINr `fracDominant`.
pub fn frac_dominant(rows: &[Vec<f64>], w: &[f64]) -> f64 {
    let e = outrank_matrix(rows, w);
    let n = rows.len();
    if n < 2 {
        return 0.0;
    }
    let dom = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .filter(|&(i, j)| i != j && e[i][j] == 1.0)
        .count();
    dom as f64 / (n * (n - 1) / 2) as f64
}
