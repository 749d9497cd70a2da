//! Small dense linear algebra: symmetric eigen-decomposition (cyclic Jacobi) and the
//! Perron eigenvector of a positive matrix (power iteration). Matrices here are at
//! most a few dozen rows (indicators of a group), so these simple, exact methods suffice.

/// Eigenvalues (descending) and unit eigenvectors (`vectors[k]` pairs with `values[k]`)
/// of a symmetric matrix. Each eigenvector's sign is fixed so that its largest
/// component in absolute value is positive.
pub fn symmetric_eigen(a: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a.to_vec();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i][j] * m[i][j])
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                if m[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q][q] - m[p][p]) / (2.0 * m[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let mkp = m[k][p];
                    let mkq = m[k][q];
                    m[k][p] = c * mkp - s * mkq;
                    m[k][q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let mpk = m[p][k];
                    let mqk = m[q][k];
                    m[p][k] = c * mpk - s * mqk;
                    m[q][k] = s * mpk + c * mqk;
                }
                for row in v.iter_mut() {
                    let vkp = row[p];
                    let vkq = row[q];
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[j][j].total_cmp(&m[i][i]));
    let values = order.iter().map(|&i| m[i][i]).collect();
    let vectors = order
        .iter()
        .map(|&k| {
            let mut e: Vec<f64> = (0..n).map(|i| v[i][k]).collect();
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
/// positive entries, by power iteration.
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
