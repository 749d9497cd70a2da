//! The PLS-PM algorithm (Wold 1982; Lohmöller 1989) computed on the item correlation matrix:
//! standardised items (n − 1), outer weights initialised to 1, simultaneous (Lohmöller) updates,
//! stop when Σ|Δw| < tolerance (seminr / SmartPLS abort criterion 1e-7).

use crate::error::{Result, SurveyError};
use crate::linalg::{inverse, solve, sub};
use crate::pls::model::{Mode, PlsModel, Scheme};

/// Precomputed index structure of a model over `p` items.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// Item indices (into the correlation matrix) of each block.
    pub blocks: Vec<Vec<usize>>,
    pub modes: Vec<Mode>,
    /// `(from, to)` construct indices.
    pub paths: Vec<(usize, usize)>,
    pub preds: Vec<Vec<usize>>,
    pub succs: Vec<Vec<usize>>,
    pub p: usize,
    /// Block of each item.
    pub block_of: Vec<usize>,
}

impl Layout {
    pub fn new(model: &PlsModel) -> Self {
        let mut blocks = Vec::new();
        let mut block_of = Vec::new();
        let mut next = 0;
        for (j, c) in model.constructs().iter().enumerate() {
            blocks.push((next..next + c.items.len()).collect());
            block_of.extend(std::iter::repeat_n(j, c.items.len()));
            next += c.items.len();
        }
        let k = blocks.len();
        let paths = model.paths().to_vec();
        let preds = (0..k)
            .map(|j| paths.iter().filter(|p| p.1 == j).map(|p| p.0).collect())
            .collect();
        let succs = (0..k)
            .map(|j| paths.iter().filter(|p| p.0 == j).map(|p| p.1).collect())
            .collect();
        Self {
            blocks,
            modes: model.constructs().iter().map(|c| c.mode).collect(),
            paths,
            preds,
            succs,
            p: next,
            block_of,
        }
    }

    pub fn k(&self) -> usize {
        self.blocks.len()
    }
}

/// Raw estimates of one PLS run.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    /// Outer weight of every item (scaled so that each construct score has variance 1).
    pub w: Vec<f64>,
    /// Construct correlation matrix (k × k).
    pub lv_cor: Vec<f64>,
    /// Correlation of every item with every construct (p × k): loadings and cross-loadings.
    pub cross: Vec<f64>,
    /// Path coefficient matrix `b[from * k + to]`.
    pub b: Vec<f64>,
    /// R² per construct (0 for exogenous).
    pub r2: Vec<f64>,
    /// Iterations until convergence.
    pub iterations: usize,
}

impl Core {
    /// Loading of item `h` on its own construct.
    pub fn loading(&self, lay: &Layout, h: usize) -> f64 {
        self.cross[h * lay.k() + lay.block_of[h]]
    }

    /// Total effects `(I − B)⁻¹ − I` (k × k, `[from * k + to]`).
    pub fn total_effects(&self, k: usize) -> Vec<f64> {
        // Sum of powers of B; B is nilpotent for a recursive model.
        let mut total = self.b.clone();
        let mut power = self.b.clone();
        for _ in 1..k {
            let mut next = vec![0.0; k * k];
            for i in 0..k {
                for m in 0..k {
                    let a = power[i * k + m];
                    if a != 0.0 {
                        for j in 0..k {
                            next[i * k + j] += a * self.b[m * k + j];
                        }
                    }
                }
            }
            if next.iter().all(|v| *v == 0.0) {
                break;
            }
            for (t, v) in total.iter_mut().zip(&next) {
                *t += v;
            }
            power = next;
        }
        total
    }
}

/// Options of the iterative algorithm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlgorithmOptions {
    /// Inner weighting scheme.
    pub scheme: Scheme,
    /// Stop when the sum of absolute changes of the outer weights is below this.
    pub tolerance: f64,
    /// Iteration cap.
    pub max_iterations: usize,
}

impl Default for AlgorithmOptions {
    fn default() -> Self {
        Self {
            scheme: Scheme::Path,
            tolerance: 1e-7,
            max_iterations: 300,
        }
    }
}

/// `(S_{block a, block b} w_b)` for every item of block a.
fn s_times_w(s: &[f64], p: usize, rows: &[usize], cols: &[usize], w: &[f64]) -> Vec<f64> {
    rows.iter()
        .map(|&r| cols.iter().map(|&c| s[r * p + c] * w[c]).sum())
        .collect()
}

fn lv_correlations(s: &[f64], lay: &Layout, w: &[f64]) -> Vec<f64> {
    let k = lay.k();
    let p = lay.p;
    let mut c = vec![0.0; k * k];
    for i in 0..k {
        for j in i..k {
            let v: f64 = lay.blocks[i]
                .iter()
                .map(|&a| {
                    w[a] * lay.blocks[j]
                        .iter()
                        .map(|&b| s[a * p + b] * w[b])
                        .sum::<f64>()
                })
                .sum();
            c[i * k + j] = v;
            c[j * k + i] = v;
        }
    }
    c
}

/// OLS of construct `target` on `preds` from the construct correlation matrix: (β, R²).
pub(crate) fn regress(
    c: &[f64],
    k: usize,
    target: usize,
    preds: &[usize],
) -> Result<(Vec<f64>, f64)> {
    if preds.is_empty() {
        return Ok((Vec::new(), 0.0));
    }
    let a = sub(c, k, preds, preds);
    let r: Vec<f64> = preds.iter().map(|&i| c[i * k + target]).collect();
    let beta = solve(&a, &r, preds.len())?;
    let r2 = beta.iter().zip(&r).map(|(b, r)| b * r).sum();
    Ok((beta, r2))
}

/// Run PLS-PM on the correlation matrix `s` (p × p, items in layout order).
pub(crate) fn run(s: &[f64], lay: &Layout, opts: &AlgorithmOptions) -> Result<Core> {
    let k = lay.k();
    let p = lay.p;
    let mut w = vec![1.0; p];
    normalise(s, lay, &mut w)?;
    // Mode B blocks need R_xx⁻¹.
    let inv: Vec<Option<Vec<f64>>> = lay
        .blocks
        .iter()
        .zip(&lay.modes)
        .map(|(b, m)| match m {
            Mode::B => inverse(&sub(s, p, b, b), b.len()).map(Some),
            Mode::A => Ok(None),
        })
        .collect::<Result<_>>()?;
    let mut iterations = 0;
    let mut converged = false;
    let mut e = vec![0.0; k * k];
    while iterations < opts.max_iterations {
        iterations += 1;
        let c = lv_correlations(s, lay, &w);
        inner_weights(&c, lay, opts.scheme, &mut e)?;
        let mut new_w = vec![0.0; p];
        for j in 0..k {
            // cov(x_jh, Z_j) = Σ_i e_ij (S_ji w_i)_h
            let mut r = vec![0.0; lay.blocks[j].len()];
            for i in 0..k {
                let eij = e[i * k + j];
                if eij != 0.0 {
                    let v = s_times_w(s, p, &lay.blocks[j], &lay.blocks[i], &w);
                    for (a, b) in r.iter_mut().zip(v) {
                        *a += eij * b;
                    }
                }
            }
            let wj: Vec<f64> = match &inv[j] {
                Some(m) => {
                    let q = r.len();
                    (0..q)
                        .map(|a| (0..q).map(|b| m[a * q + b] * r[b]).sum())
                        .collect()
                }
                None => r,
            };
            for (&h, v) in lay.blocks[j].iter().zip(wj) {
                new_w[h] = v;
            }
        }
        normalise(s, lay, &mut new_w)?;
        let change: f64 = new_w.iter().zip(&w).map(|(a, b)| (a - b).abs()).sum();
        w = new_w;
        if change < opts.tolerance {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(SurveyError::NotConverged {
            what: "PLS outer weights".into(),
            iterations,
            last_change: f64::NAN,
        });
    }
    let lv_cor = lv_correlations(s, lay, &w);
    let mut cross = vec![0.0; p * k];
    for h in 0..p {
        for j in 0..k {
            cross[h * k + j] = lay.blocks[j].iter().map(|&c| s[h * p + c] * w[c]).sum();
        }
    }
    let mut b = vec![0.0; k * k];
    let mut r2 = vec![0.0; k];
    for j in 0..k {
        let (beta, r) = regress(&lv_cor, k, j, &lay.preds[j])?;
        for (&i, bi) in lay.preds[j].iter().zip(beta) {
            b[i * k + j] = bi;
        }
        r2[j] = r;
    }
    Ok(Core {
        w,
        lv_cor,
        cross,
        b,
        r2,
        iterations,
    })
}

fn normalise(s: &[f64], lay: &Layout, w: &mut [f64]) -> Result<()> {
    let p = lay.p;
    for (j, b) in lay.blocks.iter().enumerate() {
        let var: f64 = b
            .iter()
            .map(|&a| w[a] * b.iter().map(|&c| s[a * p + c] * w[c]).sum::<f64>())
            .sum();
        if !(var > 1e-300) || !var.is_finite() {
            return Err(SurveyError::Numerical(format!(
                "construct {j} has zero variance (constant items?)"
            )));
        }
        let f = var.sqrt();
        for &a in b {
            w[a] /= f;
        }
    }
    Ok(())
}

fn inner_weights(c: &[f64], lay: &Layout, scheme: Scheme, e: &mut [f64]) -> Result<()> {
    let k = lay.k();
    e.iter_mut().for_each(|v| *v = 0.0);
    for j in 0..k {
        match scheme {
            Scheme::Centroid | Scheme::Factorial => {
                for &i in lay.preds[j].iter().chain(&lay.succs[j]) {
                    let v = c[i * k + j];
                    e[i * k + j] = if scheme == Scheme::Centroid {
                        if v >= 0.0 { 1.0 } else { -1.0 }
                    } else {
                        v
                    };
                }
            }
            Scheme::Path => {
                let (beta, _) = regress(c, k, j, &lay.preds[j])?;
                for (&i, bi) in lay.preds[j].iter().zip(beta) {
                    e[i * k + j] = bi;
                }
                for &i in &lay.succs[j] {
                    e[i * k + j] = c[i * k + j];
                }
            }
        }
    }
    Ok(())
}

/// Column means and n − 1 standard deviations of a column-major data set.
pub(crate) fn moments(cols: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let mut means = Vec::with_capacity(cols.len());
    let mut sds = Vec::with_capacity(cols.len());
    for c in cols {
        let n = c.len() as f64;
        let m = c.iter().sum::<f64>() / n;
        let v = c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        means.push(m);
        sds.push(v.sqrt());
    }
    (means, sds)
}

/// Correlation matrix of row-major data `x` (n × p) where row `i` counts `count[i]` times.
pub(crate) fn correlation_counts(x: &[f64], n: usize, p: usize, count: &[u32]) -> Result<Vec<f64>> {
    let mut mean = vec![0.0; p];
    let mut m = 0.0;
    for i in 0..n {
        let c = f64::from(count[i]);
        if c == 0.0 {
            continue;
        }
        m += c;
        let row = &x[i * p..(i + 1) * p];
        for (a, v) in mean.iter_mut().zip(row) {
            *a += c * v;
        }
    }
    mean.iter_mut().for_each(|v| *v /= m);
    let mut cov = vec![0.0; p * p];
    let mut d = vec![0.0; p];
    for i in 0..n {
        let c = f64::from(count[i]);
        if c == 0.0 {
            continue;
        }
        let row = &x[i * p..(i + 1) * p];
        for a in 0..p {
            d[a] = row[a] - mean[a];
        }
        for a in 0..p {
            let da = c * d[a];
            let out = &mut cov[a * p..a * p + p];
            for b in a..p {
                out[b] += da * d[b];
            }
        }
    }
    let sd: Vec<f64> = (0..p).map(|a| cov[a * p + a].sqrt()).collect();
    if let Some(a) = sd.iter().position(|s| !(*s > 0.0)) {
        return Err(SurveyError::Numerical(format!("item {a} is constant")));
    }
    for a in 0..p {
        for b in a..p {
            let v = cov[a * p + b] / (sd[a] * sd[b]);
            cov[a * p + b] = v;
            cov[b * p + a] = v;
        }
    }
    Ok(cov)
}
