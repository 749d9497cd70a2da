//! Index runs (指数测算): starting a run, the list of runs, and a run's results with ranks,
//! intervals, progress and charts.

use super::{EntryQuery, choose_fw, current_year, enc};
use crate::api::{self, RunSummary};
use crate::hooks;
use crate::runs::{self, NewRun, RunInputs, RunResults};
use crate::store::{self, FrameworkView, NodeView};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qcity_platform::auth::Capability;
use qcity_platform::web::Page;
use qcity_platform::web::render::{embed_json, page_ctx, render};
use qcity_platform::web::{AppError, PageCtx, PageError};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "evaluation_runs.html")]
struct RunsPage {
    ctx: PageCtx,
    frameworks: Vec<FrameworkView>,
    fw_id: i64,
    runs: Vec<RunSummary>,
    years: Vec<i32>,
    checked: Vec<i32>,
    spec: String,
    can_run: bool,
    err: String,
}

pub(super) async fn runs_page(
    Page(st, p, lang, csrf): Page,
    Query(q): Query<EntryQuery>,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/evaluation/runs",
        "evaluation-runs-title",
    )
    .await?;
    let frameworks = store::list_frameworks(&st.db, p.city_id).await?;
    let fw = choose_fw(&frameworks, q.framework_id);
    let spec = match &fw {
        Some(f) => runs::default_spec(
            &store::nodes(&st.db, p.city_id, f.id)
                .await?
                .iter()
                .map(NodeView::from)
                .collect::<Vec<_>>(),
        ),
        None => String::new(),
    };
    render(&RunsPage {
        ctx,
        fw_id: fw.map(|f| f.id).unwrap_or(0),
        frameworks,
        runs: runs::list_runs(&st.db, p.city_id)
            .await?
            .iter()
            .map(RunSummary::from)
            .collect(),
        years: (current_year() - 8..=current_year()).collect(),
        checked: (current_year() - 5..current_year()).collect(),
        spec,
        can_run: p.can(Capability::RunIndex),
        err: q.err.unwrap_or_default(),
    })
}

pub(super) async fn run_start(
    Page(st, p, ..): Page,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    p.require(Capability::RunIndex)?;
    let get = |k: &str| {
        fields
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    };
    let req = NewRun {
        framework_id: get("framework_id").parse().unwrap_or(0),
        name: get("name"),
        years: fields
            .iter()
            .filter(|(k, _)| k == "years")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        regions: Vec::new(),
        spec_toml: Some(get("spec_toml")),
        statuses: fields
            .iter()
            .filter(|(k, _)| k == "statuses")
            .map(|(_, v)| v.clone())
            .collect(),
        uncertainty_n: get("uncertainty_n").parse().ok(),
        seed: get("seed").parse().ok(),
    };
    Ok(match api::start_run(&st, &p, &req).await {
        Ok(m) => Redirect::to(&format!("/app/evaluation/runs/{}", m.id)).into_response(),
        Err(e) => Redirect::to(&format!("/app/evaluation/runs?err={}", enc(&e.to_string())))
            .into_response(),
    })
}

/// A row of the results table.
struct ResultRow {
    rank: String,
    region: String,
    score: String,
    band: String,
    dims: Vec<String>,
    trend: String,
    strengths: String,
    weaknesses: String,
    interval: String,
}

#[derive(Template)]
#[template(path = "evaluation_run.html")]
struct RunPage {
    ctx: PageCtx,
    info: RunSummary,
    spec: String,
    year: i32,
    years: Vec<i32>,
    top_name: String,
    dim_names: Vec<String>,
    rows: Vec<ResultRow>,
    progress: Vec<(String, String, String, String, String)>,
    log: Vec<String>,
    dropped: Vec<String>,
    has_results: bool,
    has_intervals: bool,
    c_ranking: String,
    c_radar: String,
    c_trend: String,
    c_map: String,
    c_intervals: String,
    can_run: bool,
}

#[derive(Deserialize, Default)]
pub(super) struct RunQuery {
    year: Option<i32>,
}

pub(super) async fn run_page(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
    Query(q): Query<RunQuery>,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let m = runs::get_run(&st.db, p.city_id, id)
        .await
        .map_err(AppError::from)?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/evaluation/runs",
        "evaluation-run-title",
    )
    .await?;
    let t = lang.tr();
    let en = lang.0 == qcity_platform::i18n::Lang::En;
    let inputs: Option<RunInputs> = serde_json::from_str(&m.inputs).ok();
    let res: Option<RunResults> = m
        .results
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .map(|r| runs::scoped_results(&p, r));
    let run = RunSummary::from(&m);
    let mut page = RunPage {
        ctx,
        spec: m.spec_toml.clone(),
        year: 0,
        years: run.years.clone(),
        info: run,
        top_name: String::new(),
        dim_names: Vec::new(),
        rows: Vec::new(),
        progress: Vec::new(),
        log: Vec::new(),
        dropped: Vec::new(),
        has_results: false,
        has_intervals: false,
        c_ranking: String::new(),
        c_radar: String::new(),
        c_trend: String::new(),
        c_map: String::new(),
        c_intervals: String::new(),
        can_run: p.can(Capability::RunIndex),
    };
    if let (Some(inputs), Some(res)) = (inputs, res) {
        let name = |c: &str| {
            inputs
                .region_names
                .get(c)
                .map(|n| t.pick(&n.0, &n.1).to_string())
                .or_else(|| {
                    inputs
                        .nodes
                        .iter()
                        .find(|n| n.code == c)
                        .map(|n| t.pick(&n.name_zh, &n.name_en).to_string())
                })
                .unwrap_or_else(|| c.to_string())
        };
        let year = q
            .year
            .filter(|y| res.years.iter().any(|x| x.year == *y))
            .or_else(|| res.years.last().map(|y| y.year))
            .unwrap_or(0);
        page.year = year;
        page.top_name = name(&res.top);
        page.dim_names = res.dimensions.iter().map(|d| name(d)).collect();
        page.dropped = res.dropped_indicators.iter().map(|d| name(d)).collect();
        if let Some(yr) = res.years.iter().find(|y| y.year == year) {
            page.has_results = !yr.units.is_empty();
            page.has_intervals = !yr.rank_intervals.is_empty();
            page.log = yr.log.clone();
            for u in &yr.units {
                let s = u.scores.get(&res.top).copied().flatten();
                let iv = yr.rank_intervals.iter().find(|r| r.region == u.region);
                page.rows.push(ResultRow {
                    rank: u
                        .ranks
                        .get(&res.top)
                        .copied()
                        .flatten()
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                    region: name(&u.region),
                    score: s.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into()),
                    band: s
                        .map(|x| {
                            let b = hooks::band(x);
                            if en { b.1.to_string() } else { b.0.to_string() }
                        })
                        .unwrap_or_default(),
                    dims: res
                        .dimensions
                        .iter()
                        .map(|d| {
                            u.scores
                                .get(d)
                                .copied()
                                .flatten()
                                .map(|x| format!("{x:.1}"))
                                .unwrap_or_else(|| "—".into())
                        })
                        .collect(),
                    trend: res
                        .trends
                        .get(&u.region)
                        .copied()
                        .flatten()
                        .map(|c| format!("{:+.2}%", c * 100.0))
                        .unwrap_or_else(|| "—".into()),
                    strengths: u
                        .strengths
                        .iter()
                        .map(|(c, r)| format!("{} (#{r})", name(c)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    weaknesses: u
                        .weaknesses
                        .iter()
                        .map(|(c, r)| format!("{} (#{r})", name(c)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    interval: iv
                        .map(|i| format!("{:.0}–{:.0}", i.q05_rank, i.q95_rank))
                        .unwrap_or_default(),
                });
            }
        }
        page.progress = res
            .progress
            .iter()
            .filter(|r| r.status != "not_available")
            .map(|r| {
                (
                    name(&r.region),
                    name(&r.indicator),
                    r.latest.map(|x| x.to_string()).unwrap_or_default(),
                    r.target.map(|x| x.to_string()).unwrap_or_default(),
                    r.status.clone(),
                )
            })
            .collect();
        if let Some(c) = hooks::charts(&inputs, &res, year, en) {
            page.c_ranking = embed_json(&c.ranking);
            page.c_radar = embed_json(&c.radar);
            page.c_trend = embed_json(&c.trend);
            page.c_map = embed_json(&c.map);
            page.c_intervals = embed_json(&c.intervals);
        }
    }
    render(&page)
}

/// Polled while a run computes: empty until finished, then tells htmx to reload the page.
pub(super) async fn run_status(
    Page(st, p, lang, ..): Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let m = runs::get_run(&st.db, p.city_id, id)
        .await
        .map_err(AppError::from)?;
    if m.status == "running" {
        let job = st
            .jobs
            .snapshot()
            .into_iter()
            .find(|j| j.name == format!("evaluation run {}", m.name));
        let pct = job.map(|j| j.percent()).unwrap_or(0);
        return Ok(Html(format!(
            "<progress max=\"100\" value=\"{pct}\"></progress> {pct}% · {}",
            lang.tr().t("evaluation-run-running")
        ))
        .into_response());
    }
    Ok(([("HX-Refresh", "true")], Html(String::new())).into_response())
}
