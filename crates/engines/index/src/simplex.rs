//! A small dense simplex solver for `max cᵀx s.t. A x ≤ b, x ≥ 0` with `b ≥ 0`
//! (the slack basis is feasible, so no phase 1 is needed). Bland's rule prevents
//! cycling. Enough for benefit-of-the-doubt DEA (a few dozen variables and rows).

/// Outcome of a linear programme.
#[derive(Debug, Clone, PartialEq)]
pub enum LpResult {
    Optimal { value: f64, x: Vec<f64> },
    Unbounded,
}

/// Solves `max cᵀx, A x ≤ b, x ≥ 0` (requires every `b[i] ≥ 0`).
pub fn maximise(c: &[f64], a: &[Vec<f64>], b: &[f64]) -> LpResult {
    let m = a.len();
    let n = c.len();
    let eps = 1e-12;
    // tableau: m rows of [A | I | b], objective row [-c | 0 | 0]
    let w = n + m + 1;
    let mut t = vec![vec![0.0; w]; m + 1];
    for i in 0..m {
        t[i][..n].copy_from_slice(&a[i][..n]);
        t[i][n + i] = 1.0;
        t[i][w - 1] = b[i];
    }
    for j in 0..n {
        t[m][j] = -c[j];
    }
    let mut basis: Vec<usize> = (n..n + m).collect();
    for _iter in 0..10_000 {
        // entering: smallest index with negative reduced cost (Bland)
        let Some(e) = (0..n + m).find(|&j| t[m][j] < -eps) else {
            break;
        };
        // leaving: min ratio, ties by smallest basis index (Bland)
        let mut leave: Option<usize> = None;
        for i in 0..m {
            if t[i][e] > eps {
                let r = t[i][w - 1] / t[i][e];
                leave = match leave {
                    None => Some(i),
                    Some(l) => {
                        let rl = t[l][w - 1] / t[l][e];
                        if r < rl - eps || ((r - rl).abs() <= eps && basis[i] < basis[l]) {
                            Some(i)
                        } else {
                            Some(l)
                        }
                    }
                };
            }
        }
        let Some(l) = leave else {
            return LpResult::Unbounded;
        };
        let piv = t[l][e];
        for v in t[l].iter_mut() {
            *v /= piv;
        }
        for i in 0..=m {
            if i != l {
                let f = t[i][e];
                if f != 0.0 {
                    for j in 0..w {
                        t[i][j] -= f * t[l][j];
                    }
                }
            }
        }
        basis[l] = e;
    }
    let mut x = vec![0.0; n];
    for (i, &bv) in basis.iter().enumerate() {
        if bv < n {
            x[bv] = t[i][w - 1];
        }
    }
    LpResult::Optimal {
        value: t[m][w - 1],
        x,
    }
}
