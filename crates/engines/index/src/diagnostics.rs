//! Statistical checks (COINr `get_stats`, `get_corr`, `get_corr_flags`,
//! `get_cronbach`, `get_PCA`).

use serde::Serialize;

use crate::linalg;
use crate::model::{Dataset, Framework};
use crate::stats;

/// Statistics of one indicator column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorStats {
    pub code: String,
    pub n: usize,
    /// Share of units with a value.
    pub availability: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub median: f64,
    pub sd: f64,
    pub skew: f64,
    pub kurt: f64,
    /// Fails the JRC rule (|skew| ≥ 2 and kurtosis ≥ 3.5).
    pub skew_kurt_flag: bool,
    /// Values outside [Q1 − 1.5·IQR, Q3 + 1.5·IQR].
    pub n_outliers_iqr: usize,
    pub frac_zero: f64,
    pub frac_unique: f64,
}

/// Statistics of every column of a data set.
pub fn indicator_stats(data: &Dataset) -> Vec<IndicatorStats> {
    data.codes
        .iter()
        .zip(&data.cols)
        .map(|(code, x)| {
            let v = stats::present(x);
            let n = v.len();
            let q1 = stats::quantile(x, 0.25);
            let q3 = stats::quantile(x, 0.75);
            let iqr = q3 - q1;
            let skew = stats::skew(x);
            let kurt = stats::kurt(x);
            let mut u = v.clone();
            u.sort_by(|a, b| a.total_cmp(b));
            u.dedup();
            IndicatorStats {
                code: code.clone(),
                n,
                availability: n as f64 / x.len().max(1) as f64,
                min: stats::min(x),
                max: stats::max(x),
                mean: stats::mean(x),
                median: stats::median(x),
                sd: stats::sd(x),
                skew,
                kurt,
                skew_kurt_flag: skew.abs() >= 2.0 && kurt >= 3.5,
                n_outliers_iqr: v
                    .iter()
                    .filter(|&&a| a < q1 - 1.5 * iqr || a > q3 + 1.5 * iqr)
                    .count(),
                frac_zero: v.iter().filter(|&&a| a == 0.0).count() as f64 / n.max(1) as f64,
                frac_unique: u.len() as f64 / n.max(1) as f64,
            }
        })
        .collect()
}

/// Correlation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CorrMethod {
    Pearson,
    Spearman,
}

/// Correlation matrix of the columns (pairwise-complete).
pub fn correlation(data: &Dataset, method: CorrMethod) -> Vec<Vec<f64>> {
    let k = data.n_cols();
    let mut r = vec![vec![1.0; k]; k];
    for i in 0..k {
        for j in (i + 1)..k {
            let c = match method {
                CorrMethod::Pearson => stats::pearson(&data.cols[i], &data.cols[j]),
                CorrMethod::Spearman => stats::spearman(&data.cols[i], &data.cols[j]),
            };
            r[i][j] = c;
            r[j][i] = c;
        }
    }
    r
}

/// A flagged pair of indicators in the same group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrFlag {
    pub group: String,
    pub a: String,
    pub b: String,
    pub r: f64,
    /// "collinear" (r > high) or "negative" (r < low).
    pub kind: String,
}

/// Flags pairs of siblings (same parent) that are collinear (r > `high`, COINr default
/// 0.9) or negatively correlated (r < `low`, e.g. −0.4).
pub fn corr_flags(
    fw: &Framework,
    data: &Dataset,
    method: CorrMethod,
    high: f64,
    low: f64,
) -> Vec<CorrFlag> {
    let r = correlation(data, method);
    let mut out = Vec::new();
    for i in 0..data.n_cols() {
        for j in (i + 1)..data.n_cols() {
            let (a, b) = (&data.codes[i], &data.codes[j]);
            let (pa, pb) = (
                fw.get(a).and_then(|n| n.parent.clone()),
                fw.get(b).and_then(|n| n.parent.clone()),
            );
            if pa.is_none() || pa != pb {
                continue;
            }
            let kind = if r[i][j] > high {
                "collinear"
            } else if r[i][j] < low {
                "negative"
            } else {
                continue;
            };
            out.push(CorrFlag {
                group: pa.unwrap_or_default(),
                a: a.clone(),
                b: b.clone(),
                r: r[i][j],
                kind: kind.into(),
            });
        }
    }
    out
}

/// Cronbach's alpha of columns over complete rows:
/// α = k/(k − 1)·(1 − Σ var(x_i) / var(Σ x_i)).
pub fn cronbach_alpha(cols: &[Vec<f64>]) -> f64 {
    let c = crate::weights::complete_rows(cols);
    let k = c.len();
    if k < 2 || c[0].len() < 2 {
        return f64::NAN;
    }
    let sum_var: f64 = c.iter().map(|x| stats::var(x)).sum();
    let totals: Vec<f64> = (0..c[0].len())
        .map(|i| c.iter().map(|x| x[i]).sum())
        .collect();
    let kf = k as f64;
    kf / (kf - 1.0) * (1.0 - sum_var / stats::var(&totals))
}

/// Cronbach's alpha of the children of every node at `level` (e.g. 2 = each pillar's
/// indicators), computed from `data` (which must hold the children's columns).
pub fn cronbach_by_group(fw: &Framework, data: &Dataset, level: u32) -> Vec<(String, f64)> {
    fw.codes_at_level(level)
        .into_iter()
        .map(|p| {
            let cols: Vec<Vec<f64>> = fw
                .children(&p)
                .iter()
                .filter_map(|c| data.col(&c.code).map(|x| x.to_vec()))
                .collect();
            (p, cronbach_alpha(&cols))
        })
        .collect()
}

/// Principal components of the correlation matrix (complete rows).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pca {
    pub codes: Vec<String>,
    pub eigenvalues: Vec<f64>,
    /// Share of variance explained by each component.
    pub explained: Vec<f64>,
    /// `loadings[k][j]`: loading of indicator j on component k (eigenvector × √λ).
    pub loadings: Vec<Vec<f64>>,
}

/// PCA of a data set's columns.
pub fn pca(data: &Dataset) -> Pca {
    let c = crate::weights::complete_rows(&data.cols);
    let r = linalg::correlation_matrix(&c);
    let (vals, vecs) = linalg::symmetric_eigen(&r);
    let total: f64 = vals.iter().sum();
    Pca {
        codes: data.codes.clone(),
        explained: vals.iter().map(|v| v / total).collect(),
        loadings: vals
            .iter()
            .zip(&vecs)
            .map(|(l, v)| v.iter().map(|x| x * l.max(0.0).sqrt()).collect())
            .collect(),
        eigenvalues: vals,
    }
}
