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

/// Panel imputation of one unit's time series (times ascending, same length as `x`).
/// `latest`: the last earlier observation, else the next later one (COINr "latest");
/// `constant`: the nearest observation in time (earlier on ties);
/// `linear`: linear interpolation between the neighbours, constant beyond the ends
/// (R `approx(rule = 2)`). `max_time` limits how far in time a donor may be.
pub fn panel_series(
    times: &[i64],
    x: &[f64],
    method: crate::spec::ImputeMethod,
    max_time: Option<i64>,
) -> Vec<f64> {
    use crate::spec::ImputeMethod as M;
    let obs: Vec<usize> = (0..x.len()).filter(|&i| !x[i].is_nan()).collect();
    let near = |i: usize, j: usize| max_time.is_none_or(|m| (times[i] - times[j]).abs() <= m);
    let mut out = x.to_vec();
    if obs.is_empty() {
        return out;
    }
    for i in 0..x.len() {
        if !x[i].is_nan() {
            continue;
        }
        let prev = obs.iter().rev().copied().find(|&j| times[j] < times[i]);
        let next = obs.iter().copied().find(|&j| times[j] > times[i]);
        let v = match method {
            M::Latest => match (prev, next) {
                (Some(p), _) if near(i, p) => x[p],
                (_, Some(n)) if near(i, n) => x[n],
                _ => f64::NAN,
            },
            M::Constant => {
                let cand = match (prev, next) {
                    (Some(p), Some(n)) => {
                        if times[i] - times[p] <= times[n] - times[i] {
                            p
                        } else {
                            n
                        }
                    }
                    (Some(p), None) => p,
                    (None, Some(n)) => n,
                    (None, None) => continue,
                };
                if near(i, cand) { x[cand] } else { f64::NAN }
            }
            M::Linear => match (prev, next) {
                (Some(p), Some(n)) => {
                    if near(i, p) && near(i, n) {
                        let t = (times[i] - times[p]) as f64 / (times[n] - times[p]) as f64;
                        x[p] + t * (x[n] - x[p])
                    } else {
                        f64::NAN
                    }
                }
                (Some(p), None) if near(i, p) => x[p],
                (None, Some(n)) if near(i, n) => x[n],
                _ => f64::NAN,
            },
            _ => f64::NAN,
        };
        out[i] = v;
    }
    out
}
