//! The pipeline as named, logged, replayable stages (COINr's `Log` + `Regen`):
//! raw → denominated → imputed → screened → treated → normalised → aggregated.
//!
//! Every stage keeps its data set and the spec section that made it, so a run can be
//! regenerated exactly ([`run`]) and perturbed: [`regen`] replays a changed spec and
//! reuses the stages before the first one whose inputs changed (the basis of the
//! Monte Carlo in [`crate::uncertainty`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::aggregate;
use crate::error::{IndexError, Result};
use crate::impute;
use crate::model::{Coin, Dataset, Framework, NA, Unit};
use crate::normalise;
use crate::screen;
use crate::spec::{
    AggMethod, ImputeMethod, ImputeSpec, Normalisation, PipelineSpec, WeightMethod, WeightsSpec,
};
use crate::treat::{self, TreatDetail};
use crate::weights::{self, Ahp};

/// The named stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Raw,
    Denominated,
    Imputed,
    Screened,
    Treated,
    Normalised,
    Aggregated,
}

impl Stage {
    /// All stages in pipeline order.
    pub const ALL: [Stage; 7] = [
        Stage::Raw,
        Stage::Denominated,
        Stage::Imputed,
        Stage::Screened,
        Stage::Treated,
        Stage::Normalised,
        Stage::Aggregated,
    ];

    /// Lower-case name, as used by `--emit`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Raw => "raw",
            Stage::Denominated => "denominated",
            Stage::Imputed => "imputed",
            Stage::Screened => "screened",
            Stage::Treated => "treated",
            Stage::Normalised => "normalised",
            Stage::Aggregated => "aggregated",
        }
    }

    /// Parses a stage name (accepts "normalized" too).
    pub fn parse(s: &str) -> Option<Stage> {
        let s = s.to_ascii_lowercase();
        let s = if s == "normalized" {
            "normalised".to_string()
        } else {
            s
        };
        Stage::ALL.into_iter().find(|st| st.name() == s)
    }

    fn position(self) -> usize {
        Stage::ALL.iter().position(|&s| s == self).unwrap_or(0)
    }
}

/// One stage's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageOutput {
    pub stage: Stage,
    /// The spec section that made this stage (JSON); `None` when skipped or raw.
    pub spec: Option<serde_json::Value>,
    pub skipped: bool,
    pub data: Dataset,
    /// Human-readable log lines (what the stage did).
    pub log: Vec<String>,
}

/// A complete run: the spec, every stage, and what the stages decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub spec: PipelineSpec,
    pub framework: Framework,
    /// The units that survived screening, in data order.
    pub units: Vec<Unit>,
    pub stages: Vec<StageOutput>,
    /// Relative weight of every node within its parent group, as used to aggregate.
    pub weights: BTreeMap<String, f64>,
    /// Outlier treatment per indicator.
    pub treatment: Vec<TreatDetail>,
    /// AHP results by parent, when AHP weights were used.
    pub ahp: BTreeMap<String, Ahp>,
    /// Units removed by screening.
    pub removed_units: Vec<String>,
}

impl Run {
    /// The data set at a stage.
    pub fn data(&self, stage: Stage) -> &Dataset {
        &self.stages[stage.position()].data
    }

    /// The aggregated data set (indicators, normalised, followed by every aggregate).
    pub fn aggregated(&self) -> &Dataset {
        self.data(Stage::Aggregated)
    }

    /// Scores of one code (an indicator or aggregate) from the aggregated data.
    pub fn scores(&self, code: &str) -> Option<&[f64]> {
        self.aggregated().col(code)
    }

    /// The replay log: stage name, spec and log lines, one entry per stage.
    pub fn log(&self) -> Vec<(Stage, Option<serde_json::Value>, Vec<String>)> {
        self.stages
            .iter()
            .map(|s| (s.stage, s.spec.clone(), s.log.clone()))
            .collect()
    }
}

/// Runs the pipeline from raw data.
pub fn run(coin: &Coin, spec: &PipelineSpec) -> Result<Run> {
    regen(coin, spec, None)
}

fn json<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

/// Regenerates a run under `spec`. Stages before the first one whose spec (or whose
/// inputs) differ from `prev` are reused as they are; the rest are recomputed.
pub fn regen(coin: &Coin, spec: &PipelineSpec, prev: Option<&Run>) -> Result<Run> {
    // Which stages can be reused: a prefix whose spec sections are all equal.
    let same = |f: fn(&PipelineSpec) -> Option<serde_json::Value>| -> bool {
        prev.is_some_and(|p| f(&p.spec) == f(spec))
    };
    let sections: [fn(&PipelineSpec) -> Option<serde_json::Value>; 7] = [
        |s| json(&s.time),
        |s| json(&s.denominate),
        |s| json(&s.impute),
        |s| json(&s.screen),
        |s| json(&s.treat),
        |s| json(&s.normalise),
        |s| json(&(&s.weights, &s.aggregate)),
    ];
    let mut reuse = 0;
    if prev.is_some() {
        // impute with a panel method depends on the time slice too; the time section
        // (index 0) guards the raw stage
        while reuse < 7 && same(sections[reuse]) {
            reuse += 1;
        }
    }
    let mut stages: Vec<StageOutput> = Vec::with_capacity(7);
    let mut units: Vec<Unit>;
    let mut treatment = Vec::new();
    let mut removed_units = Vec::new();
    let fw = &coin.framework;

    // --- raw, denominated, imputed (panel-aware) ---
    if reuse >= 3 {
        let p = prev.expect("reuse implies prev");
        stages.extend(p.stages[..3].iter().cloned());
        units = p.units_before_screen(coin);
    } else {
        let (s3, u) = first_three(coin, spec)?;
        stages.extend(s3);
        units = u;
    }

    // --- screened ---
    if reuse >= 4 {
        let p = prev.expect("reuse implies prev");
        stages.push(p.stages[3].clone());
        units = p.units.clone();
        removed_units = p.removed_units.clone();
    } else {
        let input = &stages[2].data;
        match &spec.screen {
            None => stages.push(skipped(Stage::Screened, input)),
            Some(sc) => {
                let (keep, removed) = screen::screen_units(input, sc);
                let data = input.select_rows(&keep);
                units = keep.iter().map(|&i| units[i].clone()).collect();
                let log = vec![format!(
                    "screen {:?} dat_thresh {} nonzero_thresh {}: {} unit(s) removed{}",
                    sc.unit_screen,
                    sc.dat_thresh,
                    sc.nonzero_thresh,
                    removed.len(),
                    if removed.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", removed.join(", "))
                    }
                )];
                removed_units = removed;
                if data.n_units() == 0 {
                    return Err(IndexError::Spec(
                        "screening removed every unit: lower dat_thresh".into(),
                    ));
                }
                stages.push(StageOutput {
                    stage: Stage::Screened,
                    spec: json(sc),
                    skipped: false,
                    data,
                    log,
                });
            }
        }
    }

    // --- treated ---
    if reuse >= 5 {
        let p = prev.expect("reuse implies prev");
        stages.push(p.stages[4].clone());
        treatment = p.treatment.clone();
    } else {
        let input = &stages[3].data;
        match &spec.treat {
            None => stages.push(skipped(Stage::Treated, input)),
            Some(ts) => {
                let mut cols = Vec::with_capacity(input.n_cols());
                let (mut n_ind, mut n_pts, mut n_tr) = (0, 0, 0);
                for (j, code) in input.codes.iter().enumerate() {
                    let (y, d) = treat::treat_column(code, &input.cols[j], ts);
                    if d.n_winsorised > 0 || d.transformed {
                        n_ind += 1;
                        n_pts += d.n_winsorised;
                        n_tr += d.transformed as usize;
                    }
                    cols.push(y);
                    treatment.push(d);
                }
                let log = vec![format!(
                    "treat winmax {} skew {} kurt {}: {} indicator(s) treated, {} point(s) winsorised, {} transformed",
                    ts.winmax, ts.skew_thresh, ts.kurt_thresh, n_ind, n_pts, n_tr
                )];
                stages.push(StageOutput {
                    stage: Stage::Treated,
                    spec: json(ts),
                    skipped: false,
                    data: Dataset::new(input.units.clone(), input.codes.clone(), cols),
                    log,
                });
            }
        }
    }

    // --- normalised ---
    if reuse >= 6 {
        let p = prev.expect("reuse implies prev");
        stages.push(p.stages[5].clone());
    } else {
        let input = &stages[4].data;
        match &spec.normalise {
            None => stages.push(skipped(Stage::Normalised, input)),
            Some(ns) => {
                let mut cols = Vec::with_capacity(input.n_cols());
                for (j, code) in input.codes.iter().enumerate() {
                    let node = fw.get(code).expect("indicator in framework");
                    let dir = node.direction.sign();
                    let method = ns.indicators.get(code).unwrap_or(&ns.default);
                    let x: Vec<f64> = input.cols[j].iter().map(|v| v * dir).collect();
                    let ref_value = match method {
                        Normalisation::Dist2ref { ref_unit, .. } => {
                            let i = input.unit_index(ref_unit).ok_or_else(|| {
                                IndexError::Spec(format!("reference unit '{ref_unit}' not in data"))
                            })?;
                            Some(x[i]).filter(|v| !v.is_nan())
                        }
                        _ => None,
                    };
                    cols.push(normalise::normalise(
                        &x,
                        method,
                        dir,
                        node.target,
                        ref_value,
                        code,
                    )?);
                }
                let log = vec![format!(
                    "normalise {} ({} per-indicator override(s)); directions applied",
                    method_name(&ns.default),
                    ns.indicators.len()
                )];
                stages.push(StageOutput {
                    stage: Stage::Normalised,
                    spec: json(ns),
                    skipped: false,
                    data: Dataset::new(input.units.clone(), input.codes.clone(), cols),
                    log,
                });
            }
        }
    }

    // --- aggregated ---
    let mut weights_used = BTreeMap::new();
    let mut ahp = BTreeMap::new();
    let input = &stages[5].data;
    match &spec.aggregate {
        None => stages.push(skipped(Stage::Aggregated, input)),
        Some(ag) => {
            let ws = spec.weights.clone().unwrap_or_default();
            let (data, log) = aggregate_all(fw, input, &ws, ag, &mut weights_used, &mut ahp)?;
            stages.push(StageOutput {
                stage: Stage::Aggregated,
                spec: json(&serde_json::json!({"weights": ws, "aggregate": ag})),
                skipped: false,
                data,
                log,
            });
        }
    }

    Ok(Run {
        spec: spec.clone(),
        framework: fw.clone(),
        units,
        stages,
        weights: weights_used,
        treatment,
        ahp,
        removed_units,
    })
}

impl Run {
    fn units_before_screen(&self, coin: &Coin) -> Vec<Unit> {
        let data = &self.stages[2].data;
        data.units
            .iter()
            .map(|code| {
                coin.units
                    .iter()
                    .find(|u| &u.code == code && u.time == self.unit_time())
                    .or_else(|| coin.units.iter().find(|u| &u.code == code))
                    .cloned()
                    .expect("unit from coin")
            })
            .collect()
    }

    fn unit_time(&self) -> Option<i64> {
        self.units.first().and_then(|u| u.time)
    }
}

fn skipped(stage: Stage, input: &Dataset) -> StageOutput {
    StageOutput {
        stage,
        spec: None,
        skipped: true,
        data: input.clone(),
        log: vec![format!(
            "{} skipped (no [{}] section)",
            stage.name(),
            section_name(stage)
        )],
    }
}

fn section_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Raw => "data",
        Stage::Denominated => "denominate",
        Stage::Imputed => "impute",
        Stage::Screened => "screen",
        Stage::Treated => "treat",
        Stage::Normalised => "normalise",
        Stage::Aggregated => "aggregate",
    }
}

/// Short name of a normalisation.
pub fn method_name(n: &Normalisation) -> String {
    serde_json::to_value(n)
        .ok()
        .and_then(|v| v.get("method").and_then(|m| m.as_str()).map(String::from))
        .unwrap_or_default()
}

/// Divides each indicator by its denominator column.
fn denominate(
    coin: &Coin,
    data: &Dataset,
    den: &Dataset,
    spec: &PipelineSpec,
) -> (Dataset, Vec<String>) {
    let ds = spec.denominate.as_ref().expect("called with a spec");
    let mut cols = data.cols.clone();
    let mut n = 0;
    let mut zero = 0;
    for (j, code) in data.codes.iter().enumerate() {
        let node = coin.framework.get(code).expect("indicator");
        let d = match ds.by.get(code) {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(s.clone()),
            None => node.denominator.clone(),
        };
        if let Some(d) = d
            && let Some(dc) = den.col(&d)
        {
            n += 1;
            for (v, q) in cols[j].iter_mut().zip(dc) {
                if *q == 0.0 {
                    zero += 1;
                    *v = NA;
                } else {
                    *v /= q;
                }
            }
        }
    }
    let mut log = vec![format!(
        "denominate: {n} indicator(s) divided by their denominator"
    )];
    if zero > 0 {
        log.push(format!("{zero} value(s) set missing: denominator is zero"));
    }
    (
        Dataset::new(data.units.clone(), data.codes.clone(), cols),
        log,
    )
}

fn impute_cross_section(
    data: &Dataset,
    units: &[Unit],
    is: &ImputeSpec,
) -> Result<(Dataset, Vec<String>)> {
    let groups: Option<Vec<String>> = match is.method {
        ImputeMethod::MeanGroup | ImputeMethod::MedianGroup => {
            let g = is.group.as_ref().ok_or_else(|| {
                IndexError::Spec("[impute] mean_group/median_group needs group = \"COLUMN\"".into())
            })?;
            Some(
                units
                    .iter()
                    .map(|u| {
                        u.groups
                            .get(g)
                            .cloned()
                            .ok_or_else(|| IndexError::Spec(format!("unknown group column '{g}'")))
                    })
                    .collect::<Result<_>>()?,
            )
        }
        _ => None,
    };
    let before = data.n_missing();
    let cols: Vec<Vec<f64>> = data
        .cols
        .iter()
        .map(|c| match is.method {
            ImputeMethod::Mean => impute::mean(c),
            ImputeMethod::Median => impute::median(c),
            ImputeMethod::MeanGroup => impute::mean_group(c, groups.as_ref().expect("set")),
            ImputeMethod::MedianGroup => impute::median_group(c, groups.as_ref().expect("set")),
            _ => c.clone(),
        })
        .collect();
    let out = Dataset::new(data.units.clone(), data.codes.clone(), cols);
    let after = out.n_missing();
    Ok((
        out,
        vec![format!(
            "impute {:?}{}: {} value(s) imputed, {} still missing",
            is.method,
            is.group
                .as_ref()
                .map(|g| format!(" by {g}"))
                .unwrap_or_default(),
            before - after,
            after
        )],
    ))
}

/// Raw, denominated and imputed stages, handling panels: a panel is sliced at the
/// spec's time (default: latest), after imputing across time if the method is a panel one.
fn first_three(coin: &Coin, spec: &PipelineSpec) -> Result<(Vec<StageOutput>, Vec<Unit>)> {
    let panel = coin.is_panel();
    let time = if panel {
        Some(
            spec.time
                .unwrap_or(*coin.times().last().expect("panel has times")),
        )
    } else {
        None
    };
    let panel_impute = spec.impute.as_ref().is_some_and(|i| i.method.is_panel());
    if panel_impute && !panel {
        return Err(IndexError::Spec(
            "panel imputation (latest/linear/constant) needs iData with several Time values".into(),
        ));
    }
    // work on the whole panel only when panel imputation needs it
    let work = if panel && !panel_impute {
        coin.at_time(time.expect("panel"))?
    } else {
        coin.clone()
    };
    let raw = work.data.clone();
    let (den_data, den_log, den_spec) = match &spec.denominate {
        None => (raw.clone(), None, None),
        Some(ds) => {
            let (d, l) = denominate(&work, &raw, &work.denominators, spec);
            (d, Some(l), json(ds))
        }
    };
    let (imp, imp_log, imp_spec) = match &spec.impute {
        None => (den_data.clone(), None, None),
        Some(is) if is.method.is_panel() => {
            let before = den_data.n_missing();
            let d = impute_panel(&work, &den_data, is.method, is.max_time);
            let after = d.n_missing();
            (
                d,
                Some(vec![format!(
                    "impute panel {:?}: {} value(s) imputed, {} still missing",
                    is.method,
                    before - after,
                    after
                )]),
                json(is),
            )
        }
        Some(is) => {
            let (d, l) = impute_cross_section(&den_data, &work.units, is)?;
            (d, Some(l), json(is))
        }
    };
    // slice the panel now if it was kept whole
    let (raw, den_data, imp, units) = if panel && panel_impute {
        let t = time.expect("panel");
        let rows: Vec<usize> = work
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.time == Some(t))
            .map(|(i, _)| i)
            .collect();
        if rows.is_empty() {
            return Err(IndexError::Spec(format!("no units at time {t}")));
        }
        (
            raw.select_rows(&rows),
            den_data.select_rows(&rows),
            imp.select_rows(&rows),
            rows.iter().map(|&i| work.units[i].clone()).collect(),
        )
    } else {
        (raw, den_data, imp, work.units.clone())
    };
    let mut out = Vec::with_capacity(3);
    out.push(StageOutput {
        stage: Stage::Raw,
        spec: time.map(|t| serde_json::json!({ "time": t })),
        skipped: false,
        log: vec![format!(
            "raw: {} unit(s) × {} indicator(s), {} missing{}",
            raw.n_units(),
            raw.n_cols(),
            raw.n_missing(),
            time.map(|t| format!(", time {t}")).unwrap_or_default()
        )],
        data: raw,
    });
    out.push(match den_log {
        None => skipped(Stage::Denominated, &den_data),
        Some(log) => StageOutput {
            stage: Stage::Denominated,
            spec: den_spec,
            skipped: false,
            data: den_data,
            log,
        },
    });
    out.push(match imp_log {
        None => skipped(Stage::Imputed, &imp),
        Some(log) => StageOutput {
            stage: Stage::Imputed,
            spec: imp_spec,
            skipped: false,
            data: imp,
            log,
        },
    });
    Ok((out, units))
}

/// Imputes each unit's time series (panel methods).
fn impute_panel(
    coin: &Coin,
    data: &Dataset,
    method: ImputeMethod,
    max_time: Option<i64>,
) -> Dataset {
    let mut by_unit: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, u) in coin.units.iter().enumerate() {
        by_unit.entry(u.code.as_str()).or_default().push(i);
    }
    let mut cols = data.cols.clone();
    for rows in by_unit.values_mut() {
        rows.sort_by_key(|&i| coin.units[i].time.unwrap_or(0));
        let times: Vec<i64> = rows
            .iter()
            .map(|&i| coin.units[i].time.unwrap_or(0))
            .collect();
        for col in cols.iter_mut() {
            let x: Vec<f64> = rows.iter().map(|&i| col[i]).collect();
            let y = impute::panel_series(&times, &x, method, max_time);
            for (k, &i) in rows.iter().enumerate() {
                col[i] = y[k];
            }
        }
    }
    Dataset::new(data.units.clone(), data.codes.clone(), cols)
}

/// Computes the children's weights of one parent.
fn child_weights(
    fw: &Framework,
    parent: &str,
    children: &[String],
    child_level: u32,
    child_cols: &[Vec<f64>],
    ws: &WeightsSpec,
    ahp_out: &mut BTreeMap<String, Ahp>,
) -> Result<Vec<f64>> {
    let meta: Vec<f64> = children
        .iter()
        .map(|c| fw.get(c).map(|n| n.weight).unwrap_or(1.0))
        .collect();
    let applies = ws.levels.as_ref().is_none_or(|l| l.contains(&child_level));
    let mut w = if !applies || children.len() == 1 {
        meta
    } else {
        match ws.method {
            WeightMethod::Meta => meta,
            WeightMethod::Equal => vec![1.0; children.len()],
            WeightMethod::Entropy => weights::entropy(child_cols)?,
            WeightMethod::Critic => weights::critic(child_cols)?,
            WeightMethod::Std => weights::std_weights(child_cols)?,
            WeightMethod::Pca => weights::pca(child_cols)?,
            WeightMethod::Ahp => match ws.ahp.get(parent) {
                None => meta,
                Some(m) => {
                    let a = weights::ahp(&m.matrix)?;
                    let mut w = Vec::with_capacity(children.len());
                    for c in children {
                        let k = m.codes.iter().position(|x| x == c).ok_or_else(|| {
                            IndexError::Spec(format!(
                                "[weights.ahp.{parent}] has no row for child '{c}'"
                            ))
                        })?;
                        w.push(a.weights[k]);
                    }
                    ahp_out.insert(parent.to_string(), a);
                    w
                }
            },
        }
    };
    for (k, c) in children.iter().enumerate() {
        if let Some(g) = ws.given.get(c) {
            w[k] = *g;
        }
    }
    Ok(w)
}

/// Aggregates level by level. Output: indicators (as given) then aggregates by level.
fn aggregate_all(
    fw: &Framework,
    input: &Dataset,
    ws: &WeightsSpec,
    ag: &crate::spec::AggregateSpec,
    weights_used: &mut BTreeMap<String, f64>,
    ahp_out: &mut BTreeMap<String, Ahp>,
) -> Result<(Dataset, Vec<String>)> {
    let (new_cols, log) = aggregate_cols(fw, input, ws, ag, weights_used, ahp_out)?;
    let mut data = input.clone();
    for (c, x) in new_cols {
        data.codes.push(c);
        data.cols.push(x);
    }
    Ok((data, log))
}

/// Scores of one aggregate computed from normalised data, without building a run
/// (the fast path of the Monte Carlo).
pub fn aggregate_target(
    fw: &Framework,
    normalised: &Dataset,
    ws: &WeightsSpec,
    ag: &crate::spec::AggregateSpec,
    target: &str,
) -> Result<Vec<f64>> {
    let (cols, _) = aggregate_cols(
        fw,
        normalised,
        ws,
        ag,
        &mut BTreeMap::new(),
        &mut BTreeMap::new(),
    )?;
    cols.into_iter()
        .find(|(c, _)| c == target)
        .map(|(_, x)| x)
        .ok_or_else(|| IndexError::Spec(format!("unknown aggregate '{target}'")))
}

/// Named columns: (code, values).
type NamedCols = Vec<(String, Vec<f64>)>;

/// Computes every aggregate column, level by level.
fn aggregate_cols(
    fw: &Framework,
    input: &Dataset,
    ws: &WeightsSpec,
    ag: &crate::spec::AggregateSpec,
    weights_used: &mut BTreeMap<String, f64>,
    ahp_out: &mut BTreeMap<String, Ahp>,
) -> Result<(NamedCols, Vec<String>)> {
    let n = input.n_units();
    let mut new_cols: Vec<(String, Vec<f64>)> = Vec::new();
    let mut log = Vec::new();
    let by_code: std::collections::HashMap<&str, usize> = input
        .codes
        .iter()
        .enumerate()
        .map(|(j, c)| (c.as_str(), j))
        .collect();
    for level in 2..=fw.max_level {
        let (method, p, thresh) = ag.at_level(level);
        log.push(format!(
            "aggregate level {level}: {method:?}{} dat_thresh {thresh}",
            if method == AggMethod::Genmean {
                format!(" p = {p}")
            } else {
                String::new()
            }
        ));
        for parent in fw.codes_at_level(level) {
            let children: Vec<String> = fw
                .children(&parent)
                .iter()
                .map(|c| c.code.clone())
                .collect();
            let child_cols: Vec<Vec<f64>> = children
                .iter()
                .map(|c| {
                    by_code
                        .get(c.as_str())
                        .map(|&j| input.cols[j].clone())
                        .or_else(|| {
                            new_cols
                                .iter()
                                .find(|(k, _)| k == c)
                                .map(|(_, x)| x.clone())
                        })
                        .ok_or_else(|| {
                            IndexError::Spec(format!("'{c}' missing from data at aggregation"))
                        })
                })
                .collect::<Result<_>>()?;
            let w = child_weights(fw, &parent, &children, level - 1, &child_cols, ws, ahp_out)?;
            for (c, wi) in children.iter().zip(&w) {
                weights_used.insert(c.clone(), *wi);
            }
            let k = children.len() as f64;
            let avail: Vec<bool> = (0..n)
                .map(|i| {
                    let present = child_cols.iter().filter(|c| !c[i].is_nan()).count() as f64;
                    present > 0.0 && present / k >= thresh
                })
                .collect();
            let mut out = vec![NA; n];
            match method {
                AggMethod::Copeland => {
                    let s: f64 = w.iter().sum();
                    let wn: Vec<f64> = w.iter().map(|x| x / s).collect();
                    let keep: Vec<usize> = (0..n).filter(|&i| avail[i]).collect();
                    let sub: Vec<Vec<f64>> = keep
                        .iter()
                        .map(|&i| child_cols.iter().map(|c| c[i]).collect())
                        .collect();
                    let sc = aggregate::copeland(&sub, &wn);
                    for (k, &i) in keep.iter().enumerate() {
                        out[i] = sc[k];
                    }
                }
                AggMethod::Bod => {
                    let (sc, _) = weights::benefit_of_doubt(&child_cols)?;
                    for i in 0..n {
                        if avail[i] {
                            out[i] = sc[i];
                        }
                    }
                }
                _ => {
                    let mut row = vec![0.0; children.len()];
                    for i in 0..n {
                        if !avail[i] {
                            continue;
                        }
                        for (r, c) in row.iter_mut().zip(&child_cols) {
                            *r = c[i];
                        }
                        out[i] = match method {
                            AggMethod::Amean => aggregate::amean(&row, &w),
                            AggMethod::Gmean => aggregate::gmean(&row, &w)?,
                            AggMethod::Hmean => aggregate::hmean(&row, &w)?,
                            AggMethod::Genmean => aggregate::genmean(&row, &w, p)?,
                            AggMethod::Copeland | AggMethod::Bod => unreachable!(),
                        };
                    }
                }
            }
            new_cols.push((parent.clone(), out));
        }
    }
    Ok((new_cols, log))
}

/// A precompiled aggregation tree over a fixed set of input columns: the fast path for
/// re-aggregating the same normalised data under many weight/aggregation choices.
#[derive(Debug, Clone)]
pub struct AggPlan {
    n_inputs: usize,
    nodes: Vec<PlanNode>,
}

#[derive(Debug, Clone)]
struct PlanNode {
    code: String,
    level: u32,
    /// Indices into the combined column store (inputs, then aggregates in plan order).
    children: Vec<usize>,
    child_codes: Vec<String>,
    meta: Vec<f64>,
}

impl AggPlan {
    /// Compiles the framework's aggregation tree against `input_codes`.
    pub fn new(fw: &Framework, input_codes: &[String]) -> Result<Self> {
        let mut pos: std::collections::HashMap<String, usize> = input_codes
            .iter()
            .enumerate()
            .map(|(j, c)| (c.clone(), j))
            .collect();
        let mut nodes = Vec::new();
        for level in 2..=fw.max_level {
            for parent in fw.codes_at_level(level) {
                let kids = fw.children(&parent);
                let children = kids
                    .iter()
                    .map(|c| {
                        pos.get(&c.code).copied().ok_or_else(|| {
                            IndexError::Spec(format!(
                                "'{}' missing from data at aggregation",
                                c.code
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                pos.insert(parent.clone(), input_codes.len() + nodes.len());
                nodes.push(PlanNode {
                    code: parent,
                    level,
                    children,
                    child_codes: kids.iter().map(|c| c.code.clone()).collect(),
                    meta: kids.iter().map(|c| c.weight).collect(),
                });
            }
        }
        Ok(AggPlan {
            n_inputs: input_codes.len(),
            nodes,
        })
    }

    /// Scores of `target` for `input` (whose columns match the plan's input codes).
    pub fn target_scores(
        &self,
        fw: &Framework,
        input: &Dataset,
        ws: &WeightsSpec,
        ag: &crate::spec::AggregateSpec,
        target: &str,
    ) -> Result<Vec<f64>> {
        let simple = matches!(ws.method, WeightMethod::Meta | WeightMethod::Equal)
            && ag.method != AggMethod::Copeland
            && ag.method != AggMethod::Bod
            && ag.levels.is_empty();
        if !simple {
            return aggregate_target(fw, input, ws, ag, target);
        }
        let n = input.n_units();
        let mut agg_cols: Vec<Vec<f64>> = Vec::with_capacity(self.nodes.len());
        let mut row = Vec::new();
        let mut w = Vec::new();
        for node in &self.nodes {
            let (method, p, thresh) = ag.at_level(node.level);
            let applies = ws
                .levels
                .as_ref()
                .is_none_or(|l| l.contains(&(node.level - 1)));
            w.clear();
            for (k, c) in node.child_codes.iter().enumerate() {
                let base = if ws.method == WeightMethod::Equal && applies && node.children.len() > 1
                {
                    1.0
                } else {
                    node.meta[k]
                };
                w.push(ws.given.get(c).copied().unwrap_or(base));
            }
            let kf = node.children.len() as f64;
            let mut out = vec![NA; n];
            for (i, o) in out.iter_mut().enumerate() {
                row.clear();
                let mut present = 0usize;
                for &c in &node.children {
                    let v = if c < self.n_inputs {
                        input.cols[c][i]
                    } else {
                        agg_cols[c - self.n_inputs][i]
                    };
                    present += !v.is_nan() as usize;
                    row.push(v);
                }
                if present == 0 || (present as f64) / kf < thresh {
                    continue;
                }
                *o = match method {
                    AggMethod::Amean => aggregate::amean(&row, &w),
                    AggMethod::Gmean => aggregate::gmean(&row, &w)?,
                    AggMethod::Hmean => aggregate::hmean(&row, &w)?,
                    AggMethod::Genmean => aggregate::genmean(&row, &w, p)?,
                    AggMethod::Copeland | AggMethod::Bod => unreachable!("not simple"),
                };
            }
            if node.code == target {
                return Ok(out);
            }
            agg_cols.push(out);
        }
        Err(IndexError::Spec(format!("unknown aggregate '{target}'")))
    }
}
