//! Index runs on the `qcity-index` engine: the inputs (framework and values) are captured
//! once and stored with the pipeline spec and seed, so a run can be recomputed exactly
//! ([`compute`] is a pure function of what is stored).

use crate::entity::{framework, run};
use crate::store::{self, EvalError, NodeView, Result, ValueFilter};
use chrono::Utc;
use qcity_index::model::{Coin, Dataset, Direction, Framework, Indicator, IndicatorType, Unit};
use qcity_index::results::{self, ProgressSpec, ProgressStatus, Trend};
use qcity_index::spec::PipelineSpec;
use qcity_index::uncertainty;
use qcity_platform::audit::{self};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::db::BeginWrite;
use qcity_platform::ids::new_id;
use qcity_platform::store::ConflictCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The exact inputs of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunInputs {
    pub framework_code: String,
    pub nodes: Vec<NodeView>,
    pub regions: Vec<String>,
    pub region_names: BTreeMap<String, (String, String)>,
    pub years: Vec<i32>,
    /// (indicator, region, year, value).
    pub values: Vec<(String, String, i32, f64)>,
}

/// Scores and ranks of one region in one year.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct UnitScores {
    pub region: String,
    pub scores: BTreeMap<String, Option<f64>>,
    pub ranks: BTreeMap<String, Option<u32>>,
    /// Best-ranked indicators (code, rank), best first.
    pub strengths: Vec<(String, u32)>,
    /// Worst-ranked indicators (code, rank), worst first.
    pub weaknesses: Vec<(String, u32)>,
}

/// Rank interval of one region from the Monte Carlo uncertainty analysis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RankInterval {
    pub region: String,
    pub nominal_rank: f64,
    pub median_rank: f64,
    pub q05_rank: f64,
    pub q95_rank: f64,
}

/// Results of one year.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct YearResult {
    pub year: i32,
    pub units: Vec<UnitScores>,
    pub removed_units: Vec<String>,
    pub rank_intervals: Vec<RankInterval>,
    pub uncertainty_failed: usize,
    /// The engine's stage log (what each stage did).
    pub log: Vec<String>,
}

/// Progress of an indicator in a region against its target (Open SDG method).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ProgressRow {
    pub region: String,
    pub indicator: String,
    pub latest: Option<f64>,
    pub target: Option<f64>,
    /// `target_achieved`, `substantial_progress`, `moderate_progress`, `limited_progress`,
    /// `deterioration`, `not_available`.
    pub status: String,
    pub value: Option<f64>,
}

/// Everything a run computes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RunResults {
    /// Code of the top node (the composite index).
    pub top: String,
    /// Codes of the dimensions (level 2).
    pub dimensions: Vec<String>,
    pub years: Vec<YearResult>,
    /// Compound annual growth of the index per region over the run's years.
    pub trends: BTreeMap<String, Option<f64>>,
    pub progress: Vec<ProgressRow>,
    /// Indicators without any value in the run (left out of the tree).
    pub dropped_indicators: Vec<String>,
}

/// The default pipeline for a framework: panel imputation by linear interpolation within a
/// region, screening at 60 % availability, goalposts normalisation on each indicator's target
/// band (scores comparable across years, 0–100) or min-max where no band is set, the
/// passport weights and the arithmetic mean; uncertainty over the aggregation function,
/// the imputation and ±25 % noisy weights.
pub fn default_spec(nodes: &[NodeView]) -> String {
    let mut s = String::from(
        "# Pipeline of the qcity-index engine (see examples/README-index.md).\n\
         [impute]\nmethod = \"linear\"      # interpolate a region's gaps from its other years\n\n\
         [screen]\ndat_thresh = 0.6\n\n\
         [normalise]\nmethod = \"minmax\"\nlow = 0\nhigh = 100\n\n",
    );
    for n in nodes.iter().filter(|n| n.level == 1) {
        if let (Some(lo), Some(hi)) = (n.band_low, n.band_high) {
            s.push_str(&format!(
                "[normalise.indicators.\"{}\"]\nmethod = \"goalposts\"\nlo = {lo:?}\nhi = {hi:?}\nscale = 100.0\n\n",
                n.code
            ));
        }
    }
    s.push_str(
        "[weights]\nmethod = \"meta\"\n\n[aggregate]\nmethod = \"amean\"\n\n\
         [uncertainty]\nimpute = [\"linear\", \"constant\"]\naggregate = [\"amean\", \"genmean\"]\n\n\
         [uncertainty.weights]\nnoise = 0.25\nlevels = [1, 2]\nn_sets = 100\n",
    );
    s
}

/// Parses and checks a spec text.
pub fn parse_spec(text: &str) -> Result<PipelineSpec> {
    PipelineSpec::from_toml(text).map_err(|e| EvalError::invalid("spec_toml", e.to_string()))
}

/// Runs the engine on stored inputs: a pure, deterministic function of its arguments.
/// `progress` is called after each year.
pub fn compute(
    inputs: &RunInputs,
    spec_toml: &str,
    uncertainty_n: usize,
    seed: u64,
    progress: &dyn Fn(usize),
) -> Result<RunResults> {
    let spec = parse_spec(spec_toml)?;
    let present: BTreeSet<&str> = inputs.values.iter().map(|v| v.0.as_str()).collect();
    let mut dropped = Vec::new();
    let mut keep: Vec<&NodeView> = Vec::new();
    for n in &inputs.nodes {
        if n.level == 1 && !present.contains(n.code.as_str()) {
            dropped.push(n.code.clone());
        } else {
            keep.push(n);
        }
    }
    // aggregates left without children are dropped too (bottom-up)
    for lvl in 2..=4 {
        let live: BTreeSet<String> = keep
            .iter()
            .filter(|n| n.level == lvl - 1)
            .filter_map(|n| n.parent.clone())
            .collect();
        keep.retain(|n| n.level != lvl || live.contains(&n.code));
    }
    let nodes: Vec<Indicator> = keep
        .iter()
        .map(|n| Indicator {
            code: n.code.clone(),
            name: n.name_en.clone(),
            level: n.level.max(1) as u32,
            parent: n.parent.clone(),
            direction: if n.direction < 0 {
                Direction::Negative
            } else {
                Direction::Positive
            },
            weight: n.weight,
            kind: if n.level == 1 {
                IndicatorType::Indicator
            } else {
                IndicatorType::Aggregate
            },
            unit: Some(n.unit.clone()),
            target: n.target,
            denominator: None,
        })
        .collect();
    let fw = Framework::new(&inputs.framework_code, nodes, Vec::new(), Vec::new())
        .map_err(|e| EvalError::invalid("framework", e.to_string()))?;
    let ind_codes = fw.indicator_codes();
    let mut units = Vec::new();
    let mut unit_codes = Vec::new();
    for y in &inputs.years {
        for r in &inputs.regions {
            units.push(Unit {
                code: r.clone(),
                name: None,
                groups: BTreeMap::new(),
                time: Some(*y as i64),
            });
            unit_codes.push(r.clone());
        }
    }
    let idx: BTreeMap<(&str, &str, i32), f64> = inputs
        .values
        .iter()
        .map(|(i, r, y, v)| ((i.as_str(), r.as_str(), *y), *v))
        .collect();
    let cols: Vec<Vec<f64>> = ind_codes
        .iter()
        .map(|c| {
            inputs
                .years
                .iter()
                .flat_map(|y| inputs.regions.iter().map(move |r| (r, *y)))
                .map(|(r, y)| {
                    idx.get(&(c.as_str(), r.as_str(), y))
                        .copied()
                        .unwrap_or(f64::NAN)
                })
                .collect()
        })
        .collect();
    let n_units = units.len();
    let coin = Coin {
        units,
        framework: fw,
        data: Dataset::new(unit_codes.clone(), ind_codes.clone(), cols),
        denominators: Dataset::new(unit_codes, Vec::new(), Vec::new()),
    };
    let _ = n_units;
    let top = coin.framework.top_code();
    let dimensions = coin
        .framework
        .codes_at_level(coin.framework.max_level.saturating_sub(1).max(2));
    let single_year = inputs.years.len() == 1;
    let mut years = Vec::new();
    for (k, y) in inputs.years.iter().enumerate() {
        let mut sp = spec.clone();
        sp.time = Some(*y as i64);
        // a single year is not a panel: fall back to the cross-section mean
        if single_year {
            if let Some(i) = sp.impute.as_mut().filter(|i| i.method.is_panel()) {
                i.method = qcity_index::spec::ImputeMethod::Mean;
            }
            sp.uncertainty = None;
        }
        let the_coin = if single_year {
            coin.at_time(*y as i64)
                .map_err(|e| EvalError::invalid("years", e.to_string()))?
        } else {
            coin.clone()
        };
        let r = qcity_index::run(&the_coin, &sp)
            .map_err(|e| EvalError::invalid("spec_toml", format!("year {y}: {e}")))?;
        let table = results::results_table(&r, true);
        let mut unit_rows = Vec::new();
        for u in table {
            let sw = results::strengths_weaknesses(&r, &u.unit, 3).ok();
            unit_rows.push(UnitScores {
                region: u.unit.clone(),
                scores: u
                    .scores
                    .into_iter()
                    .map(|(c, v)| (c, v.map(round6)))
                    .collect(),
                ranks: u.ranks,
                strengths: sw.as_ref().map(|s| s.strengths.clone()).unwrap_or_default(),
                weaknesses: sw.map(|s| s.weaknesses).unwrap_or_default(),
            });
        }
        let mut intervals = Vec::new();
        let mut failed = 0;
        if uncertainty_n > 0
            && let Some(us) = &sp.uncertainty
        {
            let ins = uncertainty::inputs_from_spec(&r, us, seed);
            {
                if !ins.is_empty() {
                    match uncertainty::uncertainty(&the_coin, &r, &ins, uncertainty_n, seed) {
                        Ok(ua) => {
                            failed = ua.n_failed;
                            intervals = ua
                                .rank_stats
                                .iter()
                                .map(|s| RankInterval {
                                    region: s.unit.clone(),
                                    nominal_rank: s.nominal_rank,
                                    median_rank: s.median_rank,
                                    q05_rank: s.q05_rank,
                                    q95_rank: s.q95_rank,
                                })
                                .collect();
                        }
                        Err(_) => failed = uncertainty_n,
                    }
                }
            }
        }
        let log = r
            .log()
            .into_iter()
            .flat_map(|(st, _, lines)| {
                lines
                    .into_iter()
                    .map(move |l| format!("{}: {l}", st.name()))
            })
            .collect();
        years.push(YearResult {
            year: *y,
            units: unit_rows,
            removed_units: r.removed_units.clone(),
            rank_intervals: intervals,
            uncertainty_failed: failed,
            log,
        });
        progress(k + 1);
    }
    // trends of the index per region
    let mut trends = BTreeMap::new();
    for reg in &inputs.regions {
        let series: Vec<(i64, f64)> = years
            .iter()
            .map(|yr| {
                let v = yr
                    .units
                    .iter()
                    .find(|u| &u.region == reg)
                    .and_then(|u| u.scores.get(&top).copied().flatten());
                (yr.year as i64, v.unwrap_or(f64::NAN))
            })
            .collect();
        let t = results::trend(&series, Trend::Cagr);
        trends.insert(
            reg.clone(),
            if t.is_finite() { Some(round6(t)) } else { None },
        );
    }
    // progress of each indicator against its target, per region, on the raw values
    let base_year = inputs.years.first().copied().unwrap_or(2015) as i64;
    let mut progress_rows = Vec::new();
    for n in inputs
        .nodes
        .iter()
        .filter(|n| n.level == 1 && !dropped.contains(&n.code))
    {
        for reg in &inputs.regions {
            let series: Vec<(i64, f64)> = inputs
                .years
                .iter()
                .filter_map(|y| {
                    idx.get(&(n.code.as_str(), reg.as_str(), *y))
                        .map(|v| (*y as i64, *v))
                })
                .collect();
            let ps = ProgressSpec {
                base_year,
                target: n.target,
                target_year: n.target_year.map(i64::from).unwrap_or(2030),
                direction: if n.direction < 0 {
                    Direction::Negative
                } else {
                    Direction::Positive
                },
            };
            let pr = results::progress(&series, &ps);
            progress_rows.push(ProgressRow {
                region: reg.clone(),
                indicator: n.code.clone(),
                latest: series.last().map(|s| s.1),
                target: n.target,
                status: status_name(pr.status).into(),
                value: pr.value.map(round6),
            });
        }
    }
    Ok(RunResults {
        top,
        dimensions,
        years,
        trends,
        progress: progress_rows,
        dropped_indicators: dropped,
    })
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

pub fn status_name(s: ProgressStatus) -> &'static str {
    match s {
        ProgressStatus::TargetAchieved => "target_achieved",
        ProgressStatus::SubstantialProgress => "substantial_progress",
        ProgressStatus::ModerateProgress => "moderate_progress",
        ProgressStatus::LimitedProgress => "limited_progress",
        ProgressStatus::Deterioration => "deterioration",
        ProgressStatus::NotAvailable => "not_available",
    }
}

/// A run request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewRun {
    pub framework_id: i64,
    #[serde(default)]
    pub name: String,
    pub years: Vec<i32>,
    /// Region codes (default: every district in scope).
    #[serde(default)]
    pub regions: Vec<String>,
    /// Pipeline TOML (default: [`default_spec`]).
    #[serde(default)]
    pub spec_toml: Option<String>,
    /// Value statuses used (default: approved and published).
    #[serde(default)]
    pub statuses: Vec<String>,
    /// Monte Carlo replications for rank intervals (default 200, max 2000; 0 = none).
    #[serde(default)]
    pub uncertainty_n: Option<i32>,
    #[serde(default)]
    pub seed: Option<i64>,
}

/// Captures the inputs and stores a `running` run (audited). The caller computes it.
pub async fn create_run(
    db: &sea_orm::DatabaseConnection,
    p: &Principal,
    req: &NewRun,
) -> Result<run::Model> {
    p.require(Capability::RunIndex)?;
    let fw: framework::Model = store::get_framework(db, p.city_id, req.framework_id).await?;
    let mut years = req.years.clone();
    years.sort_unstable();
    years.dedup();
    if years.is_empty() || years.len() > 30 {
        return Err(EvalError::invalid("years", "choose between 1 and 30 years"));
    }
    let regions: Vec<String> = if req.regions.is_empty() {
        store::scoped_districts(db, p)
            .await?
            .into_iter()
            .map(|r| r.code)
            .collect()
    } else {
        for r in &req.regions {
            qcity_platform::store::regions::get_visible(db, &p.scope, r)
                .await
                .map_err(|_| {
                    EvalError::invalid("regions", format!("region {r} is not in your scope"))
                })?;
        }
        let mut r = req.regions.clone();
        r.sort();
        r.dedup();
        r
    };
    if regions.len() < 2 {
        return Err(EvalError::invalid(
            "regions",
            "an index compares at least two regions",
        ));
    }
    let statuses: Vec<String> = if req.statuses.is_empty() {
        vec![store::APPROVED.into(), store::PUBLISHED.into()]
    } else {
        for s in &req.statuses {
            if !store::STATUSES.contains(&s.as_str()) {
                return Err(EvalError::invalid(
                    "statuses",
                    format!("unknown status `{s}`"),
                ));
            }
        }
        req.statuses.clone()
    };
    let nodes: Vec<NodeView> = store::nodes(db, p.city_id, fw.id)
        .await?
        .iter()
        .map(NodeView::from)
        .collect();
    let spec_toml = req
        .spec_toml
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| default_spec(&nodes));
    parse_spec(&spec_toml)?;
    let n = req.uncertainty_n.unwrap_or(200);
    if !(0..=2000).contains(&n) {
        return Err(EvalError::invalid(
            "uncertainty_n",
            "must be between 0 and 2000",
        ));
    }
    let mut values = Vec::new();
    for y in &years {
        let vs = store::list_values(
            db,
            p,
            &ValueFilter {
                framework_id: Some(fw.id),
                year: Some(*y),
                ..Default::default()
            },
        )
        .await?;
        for v in vs {
            if regions.contains(&v.region_code) && statuses.contains(&v.status) {
                values.push((v.indicator_code, v.region_code, v.year, v.value));
            }
        }
    }
    let region_names = qcity_platform::store::regions::list_visible(db, &p.scope)
        .await?
        .into_iter()
        .filter(|r| regions.contains(&r.code))
        .map(|r| (r.code, (r.name_zh, r.name_en)))
        .collect();
    let inputs = RunInputs {
        framework_code: fw.code.clone(),
        nodes,
        regions: regions.clone(),
        region_names,
        years: years.clone(),
        values,
    };
    let name = if req.name.trim().is_empty() {
        format!(
            "{} {}",
            fw.code,
            years
                .iter()
                .map(|y| y.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    } else {
        req.name.trim().to_string()
    };
    let txn = db.begin_write().await?;
    let m = run::ActiveModel {
        city_id: Set(p.city_id),
        id: Set(new_id()),
        framework_id: Set(fw.id),
        name: Set(name),
        years: Set(serde_json::to_string(&years).unwrap_or_default()),
        regions: Set(serde_json::to_string(&regions).unwrap_or_default()),
        spec_toml: Set(spec_toml),
        statuses: Set(serde_json::to_string(&statuses).unwrap_or_default()),
        uncertainty_n: Set(n),
        seed: Set(req.seed.unwrap_or(1)),
        inputs: Set(serde_json::to_string(&inputs).unwrap_or_default()),
        results: Set(None),
        status: Set("running".into()),
        message: Set(String::new()),
        created_by: Set(p.actor_name()),
        created_at: Set(Utc::now()),
        finished_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record_by(&txn, p, "evaluation.run.create", "eval_run", &m.id.to_string(), None,
        Some(serde_json::json!({"framework": fw.code, "years": years, "regions": regions, "uncertainty_n": n}))).await?;
    txn.commit().await?;
    Ok(m)
}

/// Computes a stored run (blocking work off the async threads) and stores its results.
pub async fn execute(
    db: &impl ConnectionTrait,
    m: &run::Model,
    job: Option<qcity_platform::jobs::JobHandle>,
) -> Result<run::Model> {
    let inputs: RunInputs =
        serde_json::from_str(&m.inputs).map_err(|e| EvalError::invalid("inputs", e.to_string()))?;
    let spec = m.spec_toml.clone();
    let n = m.uncertainty_n.max(0) as usize;
    let seed = m.seed as u64;
    let j2 = job.clone();
    let out = tokio::task::spawn_blocking(move || {
        compute(&inputs, &spec, n, seed, &|k| {
            if let Some(j) = &j2 {
                j.set_done(k as u64);
            }
        })
    })
    .await
    .map_err(|e| EvalError::conflict(ConflictCode::Conflict, format!("run task failed: {e}")))?;
    let mut am = m.clone().into_active_model();
    am.finished_at = Set(Some(Utc::now()));
    match out {
        Ok(res) => {
            am.results = Set(Some(serde_json::to_string(&res).unwrap_or_default()));
            am.status = Set("finished".into());
            if let Some(j) = job {
                j.finish();
            }
        }
        Err(e) => {
            am.status = Set("failed".into());
            am.message = Set(e.to_string());
            if let Some(j) = job {
                j.fail(&e.to_string());
            }
        }
    }
    Ok(am.update(db).await?)
}

/// Runs of the city, newest first.
pub async fn list_runs(db: &impl ConnectionTrait, city_id: i64) -> Result<Vec<run::Model>> {
    Ok(run::Entity::find()
        .filter(run::Column::CityId.eq(city_id))
        .order_by_desc(run::Column::CreatedAt)
        .all(db)
        .await?)
}

/// One run of the city.
pub async fn get_run(db: &impl ConnectionTrait, city_id: i64, id: i64) -> Result<run::Model> {
    run::Entity::find_by_id((city_id, id))
        .one(db)
        .await?
        .ok_or_else(|| EvalError::NotFound(format!("run {id}")))
}

/// Latest finished run of a framework that covers `year`.
pub async fn latest_finished(
    db: &impl ConnectionTrait,
    city_id: i64,
    year: Option<i32>,
) -> Result<Option<(run::Model, RunResults)>> {
    for r in list_runs(db, city_id).await? {
        if r.status != "finished" {
            continue;
        }
        let Some(res) = r
            .results
            .as_deref()
            .and_then(|s| serde_json::from_str::<RunResults>(s).ok())
        else {
            continue;
        };
        if year.is_none_or(|y| res.years.iter().any(|yr| yr.year == y)) {
            return Ok(Some((r, res)));
        }
    }
    Ok(None)
}

/// Results limited to the regions a principal may see (ranks stay those among all units).
pub fn scoped_results(p: &Principal, mut r: RunResults) -> RunResults {
    let ok = |c: &str| p.scope.contains(p.city_id, c);
    for y in &mut r.years {
        y.units.retain(|u| ok(&u.region));
        y.rank_intervals.retain(|u| ok(&u.region));
    }
    r.trends.retain(|k, _| ok(k));
    r.progress.retain(|x| ok(&x.region));
    r
}

/// Recomputes a stored run from its stored inputs, spec and seed; true when identical.
pub async fn reproduce(
    db: &impl ConnectionTrait,
    p: &Principal,
    id: i64,
) -> Result<(bool, RunResults)> {
    let m = get_run(db, p.city_id, id).await?;
    let inputs: RunInputs =
        serde_json::from_str(&m.inputs).map_err(|e| EvalError::invalid("inputs", e.to_string()))?;
    let spec = m.spec_toml.clone();
    let n = m.uncertainty_n.max(0) as usize;
    let seed = m.seed as u64;
    let fresh = tokio::task::spawn_blocking(move || compute(&inputs, &spec, n, seed, &|_| {}))
        .await
        .map_err(|e| {
            EvalError::conflict(ConflictCode::Conflict, format!("run task failed: {e}"))
        })??;
    let stored: Option<RunResults> = m
        .results
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let same = stored
        .as_ref()
        .is_some_and(|s| serde_json::to_string(s).ok() == serde_json::to_string(&fresh).ok());
    Ok((same, fresh))
}
