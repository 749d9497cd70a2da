//! Imputation (COINr `R/impute.R`): column-wise mean/median, by group, and panel methods.

use std::collections::HashMap;

use crate::stats;

/// Replaces missing values by the column mean (`i_mean`).
pub fn mean(x: &[f64]) -> Vec<f64> {
    fill(x, stats::mean(x))
}

/// Replaces missing values by the column median (`i_median`).
pub fn median(x: &[f64]) -> Vec<f64> {
    fill(x, stats::median(x))
}

fn fill(x: &[f64], v: f64) -> Vec<f64> {
    x.iter().map(|&a| if a.is_nan() { v } else { a }).collect()
}

/// Replaces missing values by the mean of the same group's present values (`i_mean_grp`).
/// A group with no present value leaves its gaps missing.
pub fn mean_group(x: &[f64], groups: &[String]) -> Vec<f64> {
    by_group(x, groups, stats::mean)
}

/// As [`mean_group`] with the median (`i_median_grp`).
pub fn median_group(x: &[f64], groups: &[String]) -> Vec<f64> {
    by_group(x, groups, stats::median)
}

fn by_group(x: &[f64], groups: &[String], f: fn(&[f64]) -> f64) -> Vec<f64> {
    let mut members: HashMap<&str, Vec<f64>> = HashMap::new();
    for (v, g) in x.iter().zip(groups) {
        members.entry(g.as_str()).or_default().push(*v);
    }
    let centre: HashMap<&str, f64> = members.iter().map(|(g, v)| (*g, f(v))).collect();
    x.iter()
        .zip(groups)
        .map(|(&v, g)| if v.is_nan() { centre[g.as_str()] } else { v })
        .collect()
}

/// Panel imputation of one unit's time series (times ascending, same length as `x`),
/// as COINr `impute_panel`:
/// `latest`: the last earlier observation, looking back at most `max_time` time points
/// (nothing before the first observation is filled);
/// `constant`: R `approx(method = "constant", rule = 2)`: the previous observation,
/// and the nearest one before the first observation;
/// `linear`: R `approx(method = "linear", rule = 2)`: linear interpolation between the
/// neighbours, constant beyond the ends. `max_time` applies to `latest` only.
pub fn panel_series(
    times: &[i64],
    x: &[f64],
    method: crate::spec::ImputeMethod,
    max_time: Option<i64>,
) -> Vec<f64> {
    use crate::spec::ImputeMethod as M;
    let obs: Vec<usize> = (0..x.len()).filter(|&i| !x[i].is_nan()).collect();
    let mut out = x.to_vec();
    if obs.is_empty() {
        return out;
    }
    for i in 0..x.len() {
        if !x[i].is_nan() {
            continue;
        }
        let prev = obs.iter().rev().copied().find(|&j| j < i);
        let next = obs.iter().copied().find(|&j| j > i);
        out[i] = match method {
            M::Latest => match prev {
                Some(p) if max_time.is_none_or(|m| (i - p) as i64 <= m) => x[p],
                _ => f64::NAN,
            },
            M::Constant => match (prev, next) {
                (Some(p), _) => x[p],
                (None, Some(n)) => x[n],
                (None, None) => f64::NAN,
            },
            M::Linear => match (prev, next) {
                (Some(p), Some(n)) => {
                    let t = (times[i] - times[p]) as f64 / (times[n] - times[p]) as f64;
                    x[p] + t * (x[n] - x[p])
                }
                (Some(p), None) => x[p],
                (None, Some(n)) => x[n],
                (None, None) => f64::NAN,
            },
            _ => f64::NAN,
        };
    }
    out
}
