//! Descriptive statistics, NA-aware (NaN values are skipped unless stated).

/// Non-missing values of a slice.
pub fn present(x: &[f64]) -> Vec<f64> {
    x.iter().copied().filter(|v| !v.is_nan()).collect()
}

/// Mean of the non-missing values (NaN if none).
pub fn mean(x: &[f64]) -> f64 {
    let (mut s, mut n) = (0.0, 0usize);
    for &v in x {
        if !v.is_nan() {
            s += v;
            n += 1;
        }
    }
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// Median of the non-missing values (NaN if none).
pub fn median(x: &[f64]) -> f64 {
    quantile(x, 0.5)
}

/// Sample quantile, R's default type 7 (linear interpolation of order statistics).
pub fn quantile(x: &[f64], p: f64) -> f64 {
    let mut v = present(x);
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    quantile_sorted(&v, p)
}

/// Type-7 quantile of an already sorted slice without NaN.
pub fn quantile_sorted(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Sample variance (n − 1) of the non-missing values.
pub fn var(x: &[f64]) -> f64 {
    let m = mean(x);
    let (mut s, mut n) = (0.0, 0usize);
    for &v in x {
        if !v.is_nan() {
            s += (v - m) * (v - m);
            n += 1;
        }
    }
    if n < 2 { f64::NAN } else { s / (n - 1) as f64 }
}

/// Sample standard deviation (n − 1).
pub fn sd(x: &[f64]) -> f64 {
    var(x).sqrt()
}

/// Population standard deviation (n).
pub fn sd_pop(x: &[f64]) -> f64 {
    let m = mean(x);
    let v = present(x);
    if v.is_empty() {
        return f64::NAN;
    }
    (v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / v.len() as f64).sqrt()
}

/// Minimum of the non-missing values.
pub fn min(x: &[f64]) -> f64 {
    x.iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f64::NAN, |a, b| if a.is_nan() || b < a { b } else { a })
}

/// Maximum of the non-missing values.
pub fn max(x: &[f64]) -> f64 {
    x.iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f64::NAN, |a, b| if a.is_nan() || b > a { b } else { a })
}

/// Bias-corrected sample skewness, e1071 type 2 / Excel SKEW (COINr `skew`).
/// NaN when fewer than 3 values.
pub fn skew(x: &[f64]) -> f64 {
    let m = mean(x);
    let (mut s2, mut s3, mut n) = (0.0, 0.0, 0usize);
    for &v in x {
        if !v.is_nan() {
            let d = v - m;
            s2 += d * d;
            s3 += d * d * d;
            n += 1;
        }
    }
    if n < 3 {
        return f64::NAN;
    }
    let nf = n as f64;
    let y = nf.sqrt() * s3 / s2.powf(1.5);
    y * (nf * (nf - 1.0)).sqrt() / (nf - 2.0)
}

/// Bias-corrected sample excess kurtosis, e1071 type 2 / Excel KURT (COINr `kurt`).
/// NaN when fewer than 4 values.
pub fn kurt(x: &[f64]) -> f64 {
    let m = mean(x);
    let (mut s2, mut s4, mut n) = (0.0, 0.0, 0usize);
    for &v in x {
        if !v.is_nan() {
            let d = v - m;
            let d2 = d * d;
            s2 += d2;
            s4 += d2 * d2;
            n += 1;
        }
    }
    if n < 4 {
        return f64::NAN;
    }
    let nf = n as f64;
    let r = nf * s4 / (s2 * s2);
    ((nf + 1.0) * (r - 3.0) + 6.0) * (nf - 1.0) / ((nf - 2.0) * (nf - 3.0))
}

/// How ties are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    /// Tied values share the lowest rank (R `ties.method = "min"`).
    Min,
    /// Tied values share the mean of their ranks (R default, used by Spearman).
    Average,
}

/// Ranks of the non-missing values in ascending order (1 = smallest). NaN stays NaN.
pub fn rank_ascending(x: &[f64], ties: Ties) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).filter(|&i| !x[i].is_nan()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![f64::NAN; x.len()];
    let mut k = 0;
    while k < idx.len() {
        let mut e = k;
        while e + 1 < idx.len() && x[idx[e + 1]] == x[idx[k]] {
            e += 1;
        }
        let r = match ties {
            Ties::Min => (k + 1) as f64,
            Ties::Average => (k + e + 2) as f64 / 2.0,
        };
        for &i in &idx[k..=e] {
            out[i] = r;
        }
        k = e + 1;
    }
    out
}

/// Ranks for scores where higher is better (1 = highest), ties share the lowest rank
/// number (R `rank(-x, ties.method = "min")`, as COINr's results tables). NaN stays NaN.
pub fn rank_descending(x: &[f64]) -> Vec<f64> {
    let neg: Vec<f64> = x.iter().map(|v| -v).collect();
    rank_ascending(&neg, Ties::Min)
}

/// Pearson correlation over pairwise-complete observations.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(a, b)| (*a, *b))
        .collect();
    let n = pairs.len();
    if n < 2 {
        return f64::NAN;
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in pairs {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// Spearman rank correlation over pairwise-complete observations (average ranks).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let (xs, ys): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(a, b)| (*a, *b))
        .unzip();
    pearson(
        &rank_ascending(&xs, Ties::Average),
        &rank_ascending(&ys, Ties::Average),
    )
}

/// Sample covariance over pairwise-complete observations.
pub fn cov(x: &[f64], y: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(a, b)| (*a, *b))
        .collect();
    let n = pairs.len();
    if n < 2 {
        return f64::NAN;
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    pairs.iter().map(|(a, b)| (a - mx) * (b - my)).sum::<f64>() / (n - 1) as f64
}
