//! Dense linear solves of the estimators, through nalgebra's LU factorisation with partial
//! pivoting (matrices here are at most a few dozen wide).

use nalgebra::{DMatrix, DVector, Dyn, LU};

use crate::error::{Result, SurveyError};

/// Smallest pivot accepted: below it the matrix is treated as singular.
const MIN_PIVOT: f64 = 1e-12;

/// LU factors of the row-major `k × k` matrix `a`, or an error when a pivot is below
/// [`MIN_PIVOT`] (collinear variables or an empty category).
fn lu(a: &[f64], k: usize) -> Result<LU<f64, Dyn, Dyn>> {
    let lu = DMatrix::from_row_slice(k, k, a).lu();
    let u = lu.u();
    if (0..k).any(|i| u[(i, i)].abs() < MIN_PIVOT) {
        return Err(SurveyError::Numerical(
            "singular matrix (collinear variables or empty category)".into(),
        ));
    }
    Ok(lu)
}

/// Solves `A x = b` for a square `A` (row-major, `k × k`).
pub(crate) fn solve(a: &[f64], b: &[f64], k: usize) -> Result<Vec<f64>> {
    let x = lu(a, k)?
        .solve(&DVector::from_column_slice(b))
        .ok_or_else(|| SurveyError::Numerical("singular matrix".into()))?;
    Ok(x.as_slice().to_vec())
}

/// Inverse of a square matrix (row-major in and out).
pub(crate) fn inverse(a: &[f64], k: usize) -> Result<Vec<f64>> {
    let inv = lu(a, k)?
        .try_inverse()
        .ok_or_else(|| SurveyError::Numerical("singular matrix".into()))?;
    // nalgebra stores column-major: the transpose's storage is the row-major inverse.
    Ok(inv.transpose().as_slice().to_vec())
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
    fn inverse_is_row_major() {
        // [[1, 2], [0, 4]]⁻¹ = [[1, −0.5], [0, 0.25]]
        let inv = inverse(&[1.0, 2.0, 0.0, 4.0], 2).unwrap();
        let want = [1.0, -0.5, 0.0, 0.25];
        assert!(inv.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15));
    }

    #[test]
    fn singular_is_an_error() {
        assert!(solve(&[1.0, 2.0, 2.0, 4.0], &[1.0, 2.0], 2).is_err());
        assert!(inverse(&[0.0; 4], 2).is_err());
    }
}
