//! Small dense linear algebra: symmetric eigen-decomposition (nalgebra), the Perron
//! eigenvector of a positive matrix (power iteration) and correlation/covariance matrices.

use nalgebra::{DMatrix, SymmetricEigen};

/// Eigenvalues (descending) and unit eigenvectors (`vectors[k]` pairs with `values[k]`)
/// of a symmetric matrix, by nalgebra's symmetric QR algorithm. Each eigenvector's sign is
/// fixed so that its largest component in absolute value is positive. A matrix with a
/// non-finite entry gives NaN values and vectors.
pub fn symmetric_eigen(a: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    if n == 0 {
        return (Vec::new(), Vec::new()); // nalgebra's tridiagonalisation panics on 0 × 0
    }
    let m = DMatrix::from_fn(n, n, |i, j| a[i][j]);
    let eig = if m.iter().all(|x| x.is_finite()) {
        SymmetricEigen::try_new(m, f64::EPSILON, 10_000)
    } else {
        None
    };
    let Some(eig) = eig else {
        return (vec![f64::NAN; n], vec![vec![f64::NAN; n]; n]);
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| eig.eigenvalues[j].total_cmp(&eig.eigenvalues[i]));
    let values = order.iter().map(|&i| eig.eigenvalues[i]).collect();
    let vectors = order
        .iter()
        .map(|&k| {
            let mut e: Vec<f64> = eig.eigenvectors.column(k).iter().copied().collect();
            let big = e
                .iter()
                .copied()
                .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
            if big < 0.0 {
                e.iter_mut().for_each(|x| *x = -*x);
            }
            e
        })
        .collect();
    (values, vectors)
}

/// Principal (Perron) eigenvalue and eigenvector, normalised to sum 1, of a matrix with
/// positive entries, by power iteration (Saaty's AHP method; nalgebra has no eigenvectors of
/// non-symmetric matrices).
pub fn perron(a: &[Vec<f64>]) -> (f64, Vec<f64>) {
    let n = a.len();
    let mut w = vec![1.0 / n as f64; n];
    let mut lambda = 0.0;
    for _ in 0..10_000 {
        let aw: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| a[i][j] * w[j]).sum())
            .collect();
        let s: f64 = aw.iter().sum();
        let next: Vec<f64> = aw.iter().map(|x| x / s).collect();
        let diff: f64 = next.iter().zip(&w).map(|(a, b)| (a - b).abs()).sum();
        lambda = s; // since sum(w) = 1, sum(Aw) → λ
        w = next;
        if diff < 1e-15 {
            break;
        }
    }
    (lambda, w)
}

/// Pearson correlation matrix of columns (pairwise-complete).
pub fn correlation_matrix(cols: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let k = cols.len();
    let mut r = vec![vec![1.0; k]; k];
    for i in 0..k {
        for j in (i + 1)..k {
            let c = crate::stats::pearson(&cols[i], &cols[j]);
            r[i][j] = c;
            r[j][i] = c;
        }
    }
    r
}

/// Sample covariance matrix of columns (pairwise-complete).
pub fn covariance_matrix(cols: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let k = cols.len();
    let mut r = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in i..k {
            let c = crate::stats::cov(&cols[i], &cols[j]);
            r[i][j] = c;
            r[j][i] = c;
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_pairs_sorted_and_signed() {
        // [[2, 1], [1, 2]]: λ = 3 with (1, 1)/√2 and λ = 1 with (1, −1)/√2.
        let (vals, vecs) = symmetric_eigen(&[vec![2.0, 1.0], vec![1.0, 2.0]]);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12);
        assert!((vecs[0][0] - h).abs() < 1e-12 && (vecs[0][1] - h).abs() < 1e-12);
        assert!((vecs[1][0] - h).abs() < 1e-12 && (vecs[1][1] + h).abs() < 1e-12);
    }

    #[test]
    fn non_finite_matrix_gives_nan() {
        let (vals, vecs) = symmetric_eigen(&[vec![1.0, f64::NAN], vec![f64::NAN, 1.0]]);
        assert!(vals.iter().chain(vecs.iter().flatten()).all(|x| x.is_nan()));
        assert_eq!(symmetric_eigen(&[]), (vec![], vec![]));
    }
}
