//! Uncertainty and sensitivity analysis (COINr `get_sensitivity`, Saisana et al. 2005).
//!
//! Each uncertain input is a list of equally likely alternatives for one
//! methodological choice (imputation, winsorisation limit, normalisation, weights,
//! aggregation). A replication picks one alternative per input, regenerates the run
//! from the nominal one ([`crate::pipeline::regen`]) and ranks the units on the top
//! aggregate.
//!
//! - Uncertainty: N random replications → per unit nominal rank, mean and median
//!   rank, 5–95 % rank interval.
//! - Sensitivity: Saltelli design (matrices A, B and AB_i: N(d + 2) runs) on
//!   U(0, 1)^d mapped to alternatives; first-order Sᵢ = mean(y_B·(y_ABᵢ − y_A))/V
//!   (Saltelli 2010) and total S_Tᵢ = Σ(y_A − y_ABᵢ)²/(2N·V) (Jansen 1999), with V the
//!   variance of y_A ∪ y_B, and bootstrap 5–95 % intervals. The scalar output is the
//!   mean absolute rank shift of the units from their nominal ranks.
//!
//! Every replication draws from its own generator `Rng::stream(seed, r)` and results are
//! collected in replication order, so the output is identical for any number of threads.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{IndexError, Result};
use crate::model::Coin;
use crate::pipeline::{Run, regen};
use crate::rng::Rng;
use crate::spec::{
    AggMethod, ImputeMethod, ImputeSpec, Normalisation, NormaliseSpec, PipelineSpec, TreatSpec,
    UncertaintySpec, WeightMethod,
};
use crate::stats;

/// The alternatives of one uncertain input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum InputKind {
    Impute(Vec<ImputeMethod>),
    /// 0 = no treatment.
    Winmax(Vec<usize>),
    Normalise(Vec<Normalisation>),
    Aggregate(Vec<AggMethod>),
    WeightMethod(Vec<WeightMethod>),
    /// Alternative weight sets (code → weight).
    Weights(Vec<BTreeMap<String, f64>>),
}

/// One uncertain input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UncertainInput {
    pub name: String,
    pub kind: InputKind,
}

impl UncertainInput {
    /// Number of alternatives.
    pub fn len(&self) -> usize {
        match &self.kind {
            InputKind::Impute(v) => v.len(),
            InputKind::Winmax(v) => v.len(),
            InputKind::Normalise(v) => v.len(),
            InputKind::Aggregate(v) => v.len(),
            InputKind::WeightMethod(v) => v.len(),
            InputKind::Weights(v) => v.len(),
        }
    }

    /// Whether there are no alternatives.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies alternative `k` to a spec.
    pub fn apply(&self, k: usize, spec: &mut PipelineSpec) {
        match &self.kind {
            InputKind::Impute(v) => {
                let old = spec.impute.take();
                spec.impute = Some(ImputeSpec {
                    method: v[k],
                    group: old.as_ref().and_then(|o| o.group.clone()),
                    max_time: old.and_then(|o| o.max_time),
                });
            }
            InputKind::Winmax(v) => {
                if v[k] == 0 {
                    spec.treat = None;
                } else {
                    spec.treat.get_or_insert_with(TreatSpec::default).winmax = v[k];
                }
            }
            InputKind::Normalise(v) => {
                let indicators = spec
                    .normalise
                    .take()
                    .map(|n| n.indicators)
                    .unwrap_or_default();
                spec.normalise = Some(NormaliseSpec {
                    default: v[k].clone(),
                    indicators,
                });
            }
            InputKind::Aggregate(v) => {
                let ag = spec.aggregate.get_or_insert_with(Default::default);
                ag.method = v[k];
                ag.levels.clear();
            }
            InputKind::WeightMethod(v) => {
                spec.weights.get_or_insert_with(Default::default).method = v[k];
            }
            InputKind::Weights(v) => {
                let w = spec.weights.get_or_insert_with(Default::default);
                for (c, x) in &v[k] {
                    w.given.insert(c.clone(), *x);
                }
            }
        }
    }
}

/// Builds the uncertain inputs of an `[uncertainty]` section. Noisy weight sets are
/// drawn from the nominal run's weights with `Rng::stream(seed, u64::MAX)`.
pub fn inputs_from_spec(nominal: &Run, us: &UncertaintySpec, seed: u64) -> Vec<UncertainInput> {
    let mut out = Vec::new();
    if let Some(v) = &us.impute {
        out.push(UncertainInput {
            name: "impute".into(),
            kind: InputKind::Impute(v.clone()),
        });
    }
    if let Some(v) = &us.winmax {
        out.push(UncertainInput {
            name: "winmax".into(),
            kind: InputKind::Winmax(v.clone()),
        });
    }
    if let Some(v) = &us.normalise {
        out.push(UncertainInput {
            name: "normalise".into(),
            kind: InputKind::Normalise(v.clone()),
        });
    }
    if let Some(v) = &us.weight_method {
        out.push(UncertainInput {
            name: "weight_method".into(),
            kind: InputKind::WeightMethod(v.clone()),
        });
    }
    if let Some(wn) = &us.weights {
        let mut rng = Rng::stream(seed, u64::MAX);
        let sets = (0..wn.n_sets.max(1))
            .map(|_| {
                nominal
                    .weights
                    .iter()
                    .filter(|(c, _)| {
                        let lvl = nominal.framework.get(c).map(|n| n.level).unwrap_or(0);
                        wn.levels.as_ref().is_none_or(|l| l.contains(&lvl))
                    })
                    .map(|(c, w)| {
                        (
                            c.clone(),
                            w * (1.0 + wn.noise * (2.0 * rng.uniform() - 1.0)),
                        )
                    })
                    .collect()
            })
            .collect();
        out.push(UncertainInput {
            name: "weights".into(),
            kind: InputKind::Weights(sets),
        });
    }
    if let Some(v) = &us.aggregate {
        out.push(UncertainInput {
            name: "aggregate".into(),
            kind: InputKind::Aggregate(v.clone()),
        });
    }
    out
}

/// Rank statistics of one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankStats {
    #[serde(rename = "uCode")]
    pub unit: String,
    pub nominal_score: f64,
    pub nominal_rank: f64,
    pub mean_rank: f64,
    pub median_rank: f64,
    pub q05_rank: f64,
    pub q95_rank: f64,
}

/// Result of the uncertainty analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UncertaintyResult {
    pub target: String,
    pub n: usize,
    pub seed: u64,
    /// Replications that failed (e.g. a geometric mean over zeros) and were left out.
    pub n_failed: usize,
    pub inputs: Vec<String>,
    pub rank_stats: Vec<RankStats>,
}

/// Evaluates many choice vectors quickly. Stages before aggregation depend only on a
/// few discrete choices, so one base run is computed per distinct pre-aggregation spec
/// (in order of first appearance, so deterministically); each replication then only
/// re-aggregates the base run's normalised data.
struct Evaluator<'a> {
    coin: &'a Coin,
    nominal: &'a Run,
    inputs: &'a [UncertainInput],
    target: String,
}

fn prefix_key(spec: &PipelineSpec) -> String {
    serde_json::to_string(&(
        &spec.time,
        &spec.denominate,
        &spec.impute,
        &spec.screen,
        &spec.treat,
        &spec.normalise,
    ))
    .unwrap_or_default()
}

impl Evaluator<'_> {
    fn spec_for(&self, choice: &[usize]) -> PipelineSpec {
        let mut spec = self.nominal.spec.clone();
        for (inp, &k) in self.inputs.iter().zip(choice) {
            inp.apply(k, &mut spec);
        }
        spec
    }

    /// Ranks of the target for every choice vector, in order (errors kept per item).
    fn ranks(&self, choices: &[Vec<usize>]) -> Vec<Result<Vec<f64>>> {
        let specs: Vec<PipelineSpec> = choices.iter().map(|c| self.spec_for(c)).collect();
        let keys: Vec<String> = specs.iter().map(prefix_key).collect();
        let mut distinct: Vec<usize> = Vec::new();
        let mut slot: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let base_of: Vec<usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                *slot.entry(k.as_str()).or_insert_with(|| {
                    distinct.push(i);
                    distinct.len() - 1
                })
            })
            .collect();
        let bases: Vec<Result<Run>> = distinct
            .par_iter()
            .map(|&i| {
                // the base run stops before aggregation: each replication aggregates
                let mut base_spec = specs[i].clone();
                base_spec.aggregate = None;
                let r = regen(self.coin, &base_spec, Some(self.nominal))?;
                if r.aggregated().units != self.nominal.aggregated().units {
                    return Err(IndexError::Spec(
                        "a replication screened out different units; ranks are not comparable"
                            .into(),
                    ));
                }
                Ok(r)
            })
            .collect();
        let plan = crate::pipeline::AggPlan::new(
            &self.nominal.framework,
            &self.nominal.data(crate::pipeline::Stage::Normalised).codes,
        );
        specs
            .par_iter()
            .zip(base_of.par_iter())
            .map(|(spec, &b)| {
                let base = bases[b].as_ref().map_err(|e| e.clone())?;
                let plan = plan.as_ref().map_err(|e| e.clone())?;
                let ws = spec.weights.clone().unwrap_or_default();
                let ag = spec.aggregate.clone().ok_or_else(|| {
                    IndexError::Spec("uncertainty needs an [aggregate] section".into())
                })?;
                let scores = plan.target_scores(
                    &base.framework,
                    base.data(crate::pipeline::Stage::Normalised),
                    &ws,
                    &ag,
                    &self.target,
                )?;
                Ok(stats::rank_descending(&scores))
            })
            .collect()
    }
}

/// Monte Carlo uncertainty analysis with N replications.
pub fn uncertainty(
    coin: &Coin,
    nominal: &Run,
    inputs: &[UncertainInput],
    n: usize,
    seed: u64,
) -> Result<UncertaintyResult> {
    if inputs.iter().any(|i| i.is_empty()) {
        return Err(IndexError::Spec(
            "an uncertain input has no alternatives".into(),
        ));
    }
    let target = nominal.framework.top_code();
    let nom_scores = nominal
        .scores(&target)
        .ok_or_else(|| IndexError::Spec("nominal run has no aggregate".into()))?
        .to_vec();
    let nom_ranks = stats::rank_descending(&nom_scores);
    let choices: Vec<Vec<usize>> = (0..n)
        .map(|r| {
            let mut rng = Rng::stream(seed, r as u64);
            inputs.iter().map(|i| rng.below(i.len())).collect()
        })
        .collect();
    let ev = Evaluator {
        coin,
        nominal,
        inputs,
        target: target.clone(),
    };
    let reps = ev.ranks(&choices);
    if n > 0 && reps.iter().all(|r| r.is_err()) {
        return Err(reps
            .into_iter()
            .next()
            .expect("n > 0")
            .expect_err("all failed"));
    }
    let ok: Vec<&Vec<f64>> = reps.iter().filter_map(|r| r.as_ref().ok()).collect();
    let units = &nominal.aggregated().units;
    let rank_stats = units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mut rs: Vec<f64> = ok.iter().map(|r| r[i]).filter(|x| !x.is_nan()).collect();
            rs.sort_by(|a, b| a.total_cmp(b));
            RankStats {
                unit: u.clone(),
                nominal_score: nom_scores[i],
                nominal_rank: nom_ranks[i],
                mean_rank: stats::mean(&rs),
                median_rank: stats::quantile_sorted(&rs, 0.5),
                q05_rank: stats::quantile_sorted(&rs, 0.05),
                q95_rank: stats::quantile_sorted(&rs, 0.95),
            }
        })
        .collect();
    Ok(UncertaintyResult {
        target,
        n,
        seed,
        n_failed: n - ok.len(),
        inputs: inputs.iter().map(|i| i.name.clone()).collect(),
        rank_stats,
    })
}

/// Sobol indices of one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SobolIndex {
    pub input: String,
    /// First-order index and its bootstrap 5–95 % interval.
    pub s1: f64,
    pub s1_q05: f64,
    pub s1_q95: f64,
    /// Total-order index (Jansen) and its bootstrap 5–95 % interval.
    pub st: f64,
    pub st_q05: f64,
    pub st_q95: f64,
}

/// Result of a Sobol sensitivity analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SobolResult {
    pub n: usize,
    pub d: usize,
    /// Model runs: N(d + 2).
    pub n_runs: usize,
    pub variance: f64,
    pub indices: Vec<SobolIndex>,
}

/// The Saltelli design: rows of A and B (each N × d) from `Rng::stream(seed, i)`.
pub fn saltelli_design(d: usize, n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let mut a = Vec::with_capacity(n);
    let mut b = Vec::with_capacity(n);
    for i in 0..n {
        let mut rng = Rng::stream(seed, i as u64);
        a.push((0..d).map(|_| rng.uniform()).collect());
        b.push((0..d).map(|_| rng.uniform()).collect());
    }
    (a, b)
}

fn estimate(ya: &[f64], yb: &[f64], yab: &[Vec<f64>], rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() as f64;
    let all: Vec<f64> = rows.iter().flat_map(|&i| [ya[i], yb[i]]).collect();
    let v = stats::var(&all);
    let s1 = yab
        .iter()
        .map(|y| rows.iter().map(|&i| yb[i] * (y[i] - ya[i])).sum::<f64>() / n / v)
        .collect();
    let st = yab
        .iter()
        .map(|y| rows.iter().map(|&i| (ya[i] - y[i]).powi(2)).sum::<f64>() / (2.0 * n * v))
        .collect();
    (s1, st)
}

/// Sobol indices from model outputs on a Saltelli design.
pub fn sobol_from_outputs(
    names: &[String],
    ya: &[f64],
    yb: &[f64],
    yab: &[Vec<f64>],
    seed: u64,
    n_boot: usize,
) -> SobolResult {
    let n = ya.len();
    let d = yab.len();
    let rows: Vec<usize> = (0..n).collect();
    let (s1, st) = estimate(ya, yb, yab, &rows);
    let all: Vec<f64> = ya.iter().chain(yb).copied().collect();
    let boots: Vec<(Vec<f64>, Vec<f64>)> = (0..n_boot)
        .into_par_iter()
        .map(|b| {
            let mut rng = Rng::stream(seed ^ 0xB007_5742, b as u64);
            let rs: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            estimate(ya, yb, yab, &rs)
        })
        .collect();
    let q = |v: Vec<f64>, p: f64| {
        let mut v: Vec<f64> = v.into_iter().filter(|x| x.is_finite()).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        stats::quantile_sorted(&v, p)
    };
    let indices = (0..d)
        .map(|j| {
            let b1: Vec<f64> = boots.iter().map(|b| b.0[j]).collect();
            let bt: Vec<f64> = boots.iter().map(|b| b.1[j]).collect();
            SobolIndex {
                input: names
                    .get(j)
                    .cloned()
                    .unwrap_or_else(|| format!("x{}", j + 1)),
                s1: s1[j],
                s1_q05: q(b1.clone(), 0.05),
                s1_q95: q(b1, 0.95),
                st: st[j],
                st_q05: q(bt.clone(), 0.05),
                st_q95: q(bt, 0.95),
            }
        })
        .collect();
    SobolResult {
        n,
        d,
        n_runs: n * (d + 2),
        variance: stats::var(&all),
        indices,
    }
}

/// Sobol analysis of any model `f` on U(0, 1)^d.
pub fn sobol<F>(names: &[String], d: usize, n: usize, seed: u64, n_boot: usize, f: F) -> SobolResult
where
    F: Fn(&[f64]) -> f64 + Sync,
{
    let (a, b) = saltelli_design(d, n, seed);
    let points = design_points(&a, &b);
    let y: Vec<f64> = points.par_iter().map(|p| f(p)).collect();
    let (ya, yb, yab) = split_outputs(&y, n, d);
    sobol_from_outputs(names, &ya, &yb, &yab, seed, n_boot)
}

/// All N(d + 2) points: A rows, B rows, then AB_1 rows, …, AB_d rows.
fn design_points(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let d = a.first().map(|r| r.len()).unwrap_or(0);
    let mut pts = Vec::with_capacity(n * (d + 2));
    pts.extend(a.iter().cloned());
    pts.extend(b.iter().cloned());
    for j in 0..d {
        for i in 0..n {
            let mut p = a[i].clone();
            p[j] = b[i][j];
            pts.push(p);
        }
    }
    pts
}

fn split_outputs(y: &[f64], n: usize, d: usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let ya = y[..n].to_vec();
    let yb = y[n..2 * n].to_vec();
    let yab = (0..d)
        .map(|j| y[(2 + j) * n..(3 + j) * n].to_vec())
        .collect();
    (ya, yb, yab)
}

/// Sobol sensitivity of the ranking to the uncertain inputs. Output: mean absolute rank
/// shift of the units from the nominal ranking.
pub fn sensitivity(
    coin: &Coin,
    nominal: &Run,
    inputs: &[UncertainInput],
    n: usize,
    seed: u64,
    n_boot: usize,
) -> Result<SobolResult> {
    if inputs.iter().any(|i| i.is_empty()) {
        return Err(IndexError::Spec(
            "an uncertain input has no alternatives".into(),
        ));
    }
    let d = inputs.len();
    let target = nominal.framework.top_code();
    let nom = stats::rank_descending(
        nominal
            .scores(&target)
            .ok_or_else(|| IndexError::Spec("nominal run has no aggregate".into()))?,
    );
    let (a, b) = saltelli_design(d, n, seed);
    let points = design_points(&a, &b);
    let choices: Vec<Vec<usize>> = points
        .iter()
        .map(|p| {
            inputs
                .iter()
                .zip(p)
                .map(|(inp, u)| ((u * inp.len() as f64) as usize).min(inp.len() - 1))
                .collect()
        })
        .collect();
    let ev = Evaluator {
        coin,
        nominal,
        inputs,
        target: target.clone(),
    };
    let y: Vec<Result<f64>> = ev
        .ranks(&choices)
        .into_iter()
        .map(|r| {
            let r = r?;
            let shifts: Vec<f64> = r.iter().zip(&nom).map(|(a, b)| (a - b).abs()).collect();
            Ok(stats::mean(&shifts))
        })
        .collect();
    let y: Vec<f64> = y.into_iter().collect::<Result<_>>()?;
    let (ya, yb, yab) = split_outputs(&y, n, d);
    let names: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
    Ok(sobol_from_outputs(&names, &ya, &yb, &yab, seed, n_boot))
}
