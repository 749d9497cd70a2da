//! TOPSIS (Hwang & Yoon 1981): closeness of each alternative to the ideal solution.

use serde::Serialize;

use crate::error::{IndexError, Result};
use crate::model::Direction;
use crate::stats;

/// How the decision matrix is normalised before weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum TopsisNormalisation {
    /// r_ij = x_ij / √(Σ_i x_ij²), as in Hwang & Yoon (default).
    #[default]
    Vector,
    /// (x − min)/(max − min) for benefit criteria, (max − x)/(max − min) for cost
    /// criteria (pymcdm's default).
    MinMax,
}

/// TOPSIS scores in [0, 1] (1 = at the ideal). `cols` are criteria over the same
/// alternatives; a row with a missing value scores NaN. Weights are re-normalised.
pub fn topsis(
    cols: &[Vec<f64>],
    weights: &[f64],
    directions: &[Direction],
    norm: TopsisNormalisation,
) -> Result<Vec<f64>> {
    let k = cols.len();
    if k == 0 || weights.len() != k || directions.len() != k {
        return Err(IndexError::method(
            "topsis",
            "criteria, weights and directions must have the same length",
        ));
    }
    let sw: f64 = weights.iter().sum();
    if sw.is_nan() || sw <= 0.0 {
        return Err(IndexError::method(
            "topsis",
            "weights must sum to a positive number",
        ));
    }
    let n = cols[0].len();
    let complete: Vec<bool> = (0..n)
        .map(|i| cols.iter().all(|c| !c[i].is_nan()))
        .collect();
    let mut v = Vec::with_capacity(k);
    for (j, c) in cols.iter().enumerate() {
        let w = weights[j] / sw;
        let cc: Vec<f64> = (0..n).filter(|&i| complete[i]).map(|i| c[i]).collect();
        let col: Vec<f64> = match norm {
            TopsisNormalisation::Vector => {
                let d = cc.iter().map(|x| x * x).sum::<f64>().sqrt();
                c.iter().map(|x| w * x / d).collect()
            }
            TopsisNormalisation::MinMax => {
                let (mn, mx) = (stats::min(&cc), stats::max(&cc));
                c.iter()
                    .map(|x| match directions[j] {
                        Direction::Positive => w * (x - mn) / (mx - mn),
                        Direction::Negative => w * (mx - x) / (mx - mn),
                    })
                    .collect()
            }
        };
        v.push(col);
    }
    let (mut best, mut worst) = (vec![0.0; k], vec![0.0; k]);
    for j in 0..k {
        let cc: Vec<f64> = (0..n).filter(|&i| complete[i]).map(|i| v[j][i]).collect();
        let (mn, mx) = (stats::min(&cc), stats::max(&cc));
        let benefit = match norm {
            TopsisNormalisation::Vector => directions[j] == Direction::Positive,
            TopsisNormalisation::MinMax => true, // already oriented
        };
        if benefit {
            best[j] = mx;
            worst[j] = mn;
        } else {
            best[j] = mn;
            worst[j] = mx;
        }
    }
    Ok((0..n)
        .map(|i| {
            if !complete[i] {
                return f64::NAN;
            }
            let dp = (0..k)
                .map(|j| (v[j][i] - best[j]).powi(2))
                .sum::<f64>()
                .sqrt();
            let dm = (0..k)
                .map(|j| (v[j][i] - worst[j]).powi(2))
                .sum::<f64>()
                .sqrt();
            dm / (dp + dm)
        })
        .collect())
}
