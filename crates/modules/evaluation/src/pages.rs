//! Pages (zh-CN / en): overview, framework tree and passports, data-entry grid, import,
//! completeness matrix, index runs and results with charts.

use crate::api::{self, RunSummary};
use crate::hooks;
use crate::import::{self, ImportReport};
use crate::nodes;
use crate::rules::{self, NewRule, RulePatch, RuleView};
use crate::runs::{self, NewRun, RunInputs, RunResults};
use crate::store::{self, Action, FrameworkView, NodeView, PassportPatch, ValueFilter, Warning};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use qcity_platform::audit::Actor;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::db::BeginWrite;
use qcity_platform::upload::Upload;
use qcity_platform::web::shell::{embed_json, page_ctx, render};
use qcity_platform::web::{AppError, AppState, CsrfToken, PageCtx, PageError, PageUser, ReqLang};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/evaluation", get(home))
        .route("/app/evaluation/install", post(install))
        .route("/app/evaluation/frameworks/{id}", get(framework_page))
        .route(
            "/app/evaluation/frameworks/{id}/indicators/{code}",
            post(passport_save),
        )
        .route(
            "/app/evaluation/frameworks/{id}/structure",
            get(structure_page).post(structure_add),
        )
        .route(
            "/app/evaluation/frameworks/{id}/structure/{code}",
            post(structure_change),
        )
        .route(
            "/app/evaluation/frameworks/{id}/rules",
            get(rules_page).post(rule_create),
        )
        .route(
            "/app/evaluation/frameworks/{id}/rules/{rule_id}",
            post(rule_change),
        )
        .route("/app/evaluation/entry", get(entry_page).post(entry_save))
        .route(
            "/app/evaluation/import",
            get(import_page).post(import_upload),
        )
        .route("/app/evaluation/template", get(template_download))
        .route("/app/evaluation/completeness", get(completeness_page))
        .route("/app/evaluation/feeds", post(feeds_pull))
        .route("/app/evaluation/runs", get(runs_page).post(run_start))
        .route("/app/evaluation/runs/{id}", get(run_page))
        .route("/app/evaluation/runs/{id}/status", get(run_status))
}

#[derive(Deserialize, Default)]
struct Flash {
    msg: Option<String>,
    err: Option<String>,
}

fn enc(s: &str) -> String {
    qcity_platform::web::urlencode(s)
}

fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

/// Chooses the framework: the requested one, else the city quality framework, else the first.
fn choose_fw(fws: &[FrameworkView], id: Option<i64>) -> Option<FrameworkView> {
    id.and_then(|i| fws.iter().find(|f| f.id == i))
        .or_else(|| fws.iter().find(|f| f.code == "CQ"))
        .or_else(|| fws.first())
        .cloned()
}

// ---------------------------------------------------------------- overview

#[derive(Template)]
#[template(path = "evaluation_home.html")]
struct HomePage {
    ctx: PageCtx,
    frameworks: Vec<FrameworkView>,
    catalogue: Vec<(String, String, usize, bool)>,
    can_edit: bool,
    runs: Vec<RunSummary>,
    msg: String,
    err: String,
}

async fn home(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/evaluation", "evaluation-title").await?;
    let t = lang.tr();
    let frameworks = store::list_frameworks(&st.db, p.city_id).await?;
    let catalogue = crate::catalog::all()
        .into_iter()
        .map(|c| {
            (
                c.key.to_string(),
                t.pick(c.name_zh, c.name_en).to_string(),
                c.nodes.iter().filter(|n| n.level == 1).count(),
                frameworks.iter().any(|f| f.code == c.code),
            )
        })
        .collect();
    let runs = runs::list_runs(&st.db, p.city_id)
        .await?
        .iter()
        .take(8)
        .map(RunSummary::from)
        .collect();
    render(&HomePage {
        ctx,
        frameworks,
        catalogue,
        can_edit: p.can(Capability::EditFrameworks),
        runs,
        msg: fl.msg.map(|m| t.t(&m)).unwrap_or_default(),
        err: fl.err.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct InstallForm {
    catalogue: String,
}

async fn install(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Form(f): Form<InstallForm>,
) -> Result<Response, PageError> {
    p.require(Capability::EditFrameworks)?;
    Ok(
        match store::install_catalogue(&st.db, p.city_id, &Actor::from(&p), &f.catalogue).await {
            Ok(fw) => {
                Redirect::to(&format!("/app/evaluation/frameworks/{}", fw.id)).into_response()
            }
            Err(e) => Redirect::to(&format!("/app/evaluation?err={}", enc(&e.to_string())))
                .into_response(),
        },
    )
}

// ---------------------------------------------------------------- framework tree

#[derive(Template)]
#[template(path = "evaluation_framework.html")]
struct FrameworkPage {
    ctx: PageCtx,
    fw: FrameworkView,
    nodes: Vec<NodeView>,
    can_edit: bool,
    err: String,
    msg: String,
}

async fn framework_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let fw = store::framework_view(&st.db, p.city_id, id).await?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/evaluation",
        "evaluation-framework-title",
    )
    .await?;
    let nodes = store::nodes(&st.db, p.city_id, id)
        .await?
        .iter()
        .map(NodeView::from)
        .collect();
    let t = lang.tr();
    render(&FrameworkPage {
        ctx,
        fw,
        nodes,
        can_edit: p.can(Capability::EditFrameworks),
        err: fl.err.unwrap_or_default(),
        msg: fl.msg.map(|m| t.t(&m)).unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct PassportForm {
    name_zh: String,
    name_en: String,
    definition_zh: String,
    definition_en: String,
    unit: String,
    direction: i32,
    band_low: String,
    band_high: String,
    source_zh: String,
    source_en: String,
    department: String,
    target: String,
    target_year: String,
    weight: String,
    /// `raw` or `ratio`; absent = unchanged (older forms).
    computation: Option<String>,
    numerator: Option<String>,
    denominator: Option<String>,
    factor: Option<String>,
}

fn opt_f(s: &str, field: &str) -> Result<Option<f64>, AppError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| AppError::validation(field, format!("`{t}` is not a number")))
}

async fn passport_save(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path((id, code)): Path<(i64, String)>,
    Form(f): Form<PassportForm>,
) -> Result<Response, PageError> {
    p.require(Capability::EditFrameworks)?;
    let back = format!("/app/evaluation/frameworks/{id}");
    let parsed = (|| -> Result<PassportPatch, AppError> {
        Ok(PassportPatch {
            name_zh: Some(f.name_zh.clone()),
            name_en: Some(f.name_en.clone()),
            definition_zh: Some(f.definition_zh.clone()),
            definition_en: Some(f.definition_en.clone()),
            unit: Some(f.unit.clone()),
            direction: Some(f.direction),
            band_low: Some(opt_f(&f.band_low, "band_low")?),
            band_high: Some(opt_f(&f.band_high, "band_high")?),
            source_zh: Some(f.source_zh.clone()),
            source_en: Some(f.source_en.clone()),
            department: Some(f.department.clone()),
            target: Some(opt_f(&f.target, "target")?),
            target_year: Some(if f.target_year.trim().is_empty() {
                None
            } else {
                Some(
                    f.target_year
                        .trim()
                        .parse()
                        .map_err(|_| AppError::validation("target_year", "not a year"))?,
                )
            }),
            weight: Some(opt_f(&f.weight, "weight")?.unwrap_or(1.0)),
            computation: f.computation.clone().filter(|c| !c.is_empty()),
            numerator: f.numerator.clone(),
            denominator: f.denominator.clone(),
            factor: match f.factor.as_deref() {
                Some(x) => opt_f(x, "factor")?,
                None => None,
            },
        })
    })();
    let patch = match parsed {
        Ok(x) => x,
        Err(e) => {
            return Ok(
                Redirect::to(&format!("{back}?err={}#{code}", enc(&e.to_string()))).into_response(),
            );
        }
    };
    Ok(
        match store::update_passport(&st.db, &p, id, &code, patch).await {
            Ok(_) => Redirect::to(&format!("{back}?msg=evaluation-saved#{code}")).into_response(),
            Err(e) => {
                Redirect::to(&format!("{back}?err={}#{code}", enc(&e.to_string()))).into_response()
            }
        },
    )
}

// ---------------------------------------------------------------- framework structure

/// One row of the structure table.
struct StructRow {
    node: NodeView,
    /// Weight sum of its children (nodes with children only).
    sum: Option<nodes::WeightSum>,
    /// Parents it may move under (code, name); empty for the index.
    parents: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "evaluation_structure.html")]
struct StructurePage {
    ctx: PageCtx,
    fw: FrameworkView,
    rows: Vec<StructRow>,
    /// Nodes that may take children (the index and the dimensions).
    all_parents: Vec<(String, String)>,
    can_edit: bool,
    msg: String,
    err: String,
}

async fn render_structure(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    id: i64,
    msg: String,
    err: String,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let fw = store::framework_view(&st.db, p.city_id, id).await?;
    let ctx = page_ctx(
        st,
        p,
        lang,
        csrf,
        "/app/evaluation",
        "evaluation-structure-title",
    )
    .await?;
    let t = lang.tr();
    let ns = store::nodes(&st.db, p.city_id, id).await?;
    let sums = nodes::weight_sums(&ns);
    let named = |lvl: i32| -> Vec<(String, String)> {
        ns.iter()
            .filter(|n| n.level == lvl)
            .map(|n| (n.code.clone(), t.pick(&n.name_zh, &n.name_en).to_string()))
            .collect()
    };
    let rows = ns
        .iter()
        .map(|n| StructRow {
            node: NodeView::from(n),
            sum: sums.iter().find(|s| s.parent == n.code).cloned(),
            parents: if n.parent_code.is_none() {
                Vec::new()
            } else {
                named(n.level + 1)
            },
        })
        .collect();
    let all_parents = ns
        .iter()
        .filter(|n| n.level >= 2)
        .map(|n| (n.code.clone(), t.pick(&n.name_zh, &n.name_en).to_string()))
        .collect();
    render(&StructurePage {
        ctx,
        fw,
        rows,
        all_parents,
        can_edit: p.can(Capability::EditFrameworks),
        msg: if msg.is_empty() { msg } else { t.t(&msg) },
        err,
    })
}

async fn structure_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    render_structure(
        &st,
        &p,
        lang,
        &csrf,
        id,
        fl.msg.unwrap_or_default(),
        fl.err.unwrap_or_default(),
    )
    .await
}

/// The add form and the per-node form (numbers blank for "none").
#[derive(Deserialize, Default)]
#[serde(default)]
struct NodeForm {
    kind: String,
    parent: String,
    code: String,
    name_zh: String,
    name_en: String,
    direction: String,
    weight: String,
    definition_zh: String,
    definition_en: String,
    unit: String,
    band_low: String,
    band_high: String,
    target: String,
    target_year: String,
    source_zh: String,
    source_en: String,
    department: String,
    computation: String,
    numerator: String,
    denominator: String,
    factor: String,
    /// `save`, `delete` or `equalise` (per-node form).
    op: String,
}

fn opt_i(s: &str, field: &str) -> Result<Option<i32>, crate::store::EvalError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| {
        crate::store::EvalError::invalid(field, format!("`{t}` is not a whole number"))
    })
}

/// After a structure form: htmx gets the re-rendered page (it swaps the panel); a plain form
/// post is redirected back to the page.
async fn structure_done(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    headers: &HeaderMap,
    id: i64,
    outcome: Result<(), crate::store::EvalError>,
) -> Result<Response, PageError> {
    let (msg, err) = match outcome {
        Ok(()) => ("evaluation-saved".to_string(), String::new()),
        Err(crate::store::EvalError::Forbidden) => return Err(PageError(AppError::Forbidden)),
        Err(e) => (String::new(), e.to_string()),
    };
    if qcity_platform::web::htmx::is_htmx(headers) {
        return Ok(render_structure(st, p, lang, csrf, id, msg, err)
            .await?
            .into_response());
    }
    Ok(Redirect::to(&format!(
        "/app/evaluation/frameworks/{id}/structure?msg={}&err={}",
        enc(&msg),
        enc(&err)
    ))
    .into_response())
}

async fn structure_add(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<NodeForm>,
) -> Result<Response, PageError> {
    p.require(Capability::EditFrameworks)?;
    let outcome = async {
        let input = nodes::NewNode {
            parent: f.parent.clone(),
            kind: f.kind.clone(),
            code: f.code.clone(),
            name_zh: f.name_zh.clone(),
            name_en: f.name_en.clone(),
            direction: opt_i(&f.direction, "direction")?,
            weight: opt_f(&f.weight, "weight").map_err(app_to_eval)?,
            definition_zh: f.definition_zh.clone(),
            definition_en: f.definition_en.clone(),
            unit: f.unit.clone(),
            band_low: opt_f(&f.band_low, "band_low").map_err(app_to_eval)?,
            band_high: opt_f(&f.band_high, "band_high").map_err(app_to_eval)?,
            source_zh: f.source_zh.clone(),
            source_en: f.source_en.clone(),
            department: f.department.clone(),
            computation: Some(f.computation.clone()),
            numerator: f.numerator.clone(),
            denominator: f.denominator.clone(),
            factor: opt_f(&f.factor, "factor").map_err(app_to_eval)?,
            target: opt_f(&f.target, "target").map_err(app_to_eval)?,
            target_year: opt_i(&f.target_year, "target_year")?,
        };
        nodes::create_node(&st.db, &p, id, &input).await.map(|_| ())
    }
    .await;
    structure_done(&st, &p, lang, &csrf, &headers, id, outcome).await
}

async fn structure_change(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path((id, code)): Path<(i64, String)>,
    Form(f): Form<NodeForm>,
) -> Result<Response, PageError> {
    p.require(Capability::EditFrameworks)?;
    let outcome = async {
        match f.op.as_str() {
            "delete" => nodes::delete_node(&st.db, &p, id, &code).await.map(|_| ()),
            "equalise" => nodes::equalise(&st.db, &p, id, &code).await.map(|_| ()),
            _ => {
                let patch = nodes::NodePatch {
                    name_zh: Some(f.name_zh.clone()),
                    name_en: Some(f.name_en.clone()),
                    weight: opt_f(&f.weight, "weight").map_err(app_to_eval)?,
                    direction: opt_i(&f.direction, "direction")?,
                    parent: Some(f.parent.clone()).filter(|x| !x.trim().is_empty()),
                };
                nodes::update_node(&st.db, &p, id, &code, &patch)
                    .await
                    .map(|_| ())
            }
        }
    }
    .await;
    structure_done(&st, &p, lang, &csrf, &headers, id, outcome).await
}

// ---------------------------------------------------------------- validation rules

#[derive(Deserialize, Default)]
struct RulesQuery {
    indicator: Option<String>,
    msg: Option<String>,
    err: Option<String>,
}

/// One row of the rules table.
struct RuleRow {
    rule: RuleView,
    /// Indicator name, or empty for a framework default.
    scope: String,
}

#[derive(Template)]
#[template(path = "evaluation_rules.html")]
struct RulesPage {
    ctx: PageCtx,
    fw: FrameworkView,
    /// The indicator the page is about (empty = the framework's defaults and every rule).
    indicator: String,
    indicator_name: String,
    indicators: Vec<(String, String)>,
    rows: Vec<RuleRow>,
    can_edit: bool,
    msg: String,
    err: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_rules(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    id: i64,
    indicator: &str,
    msg: String,
    err: String,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let fw = store::framework_view(&st.db, p.city_id, id).await?;
    let ctx = page_ctx(
        st,
        p,
        lang,
        csrf,
        "/app/evaluation",
        "evaluation-rules-title",
    )
    .await?;
    let t = lang.tr();
    let nodes = store::nodes(&st.db, p.city_id, id).await?;
    let indicators: Vec<(String, String)> = nodes
        .iter()
        .filter(|n| n.level == 1)
        .map(|n| (n.code.clone(), t.pick(&n.name_zh, &n.name_en).to_string()))
        .collect();
    let name_of = |c: &str| {
        indicators
            .iter()
            .find(|x| x.0 == c)
            .map(|x| x.1.clone())
            .unwrap_or_else(|| c.to_string())
    };
    let indicator = if indicators.iter().any(|x| x.0 == indicator) {
        indicator.to_string()
    } else {
        String::new()
    };
    let rows = rules::list_rules(&st.db, p, id, Some(indicator.as_str()))
        .await?
        .iter()
        .map(|r| RuleRow {
            rule: RuleView::from(r),
            scope: if r.indicator_code.is_empty() {
                String::new()
            } else {
                name_of(&r.indicator_code)
            },
        })
        .collect();
    render(&RulesPage {
        ctx,
        indicator_name: if indicator.is_empty() {
            String::new()
        } else {
            name_of(&indicator)
        },
        indicator,
        indicators,
        fw,
        rows,
        can_edit: p.can(Capability::EditFrameworks),
        msg: if msg.is_empty() { msg } else { t.t(&msg) },
        err,
    })
}

async fn rules_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<RulesQuery>,
) -> Result<Html<String>, PageError> {
    render_rules(
        &st,
        &p,
        lang,
        &csrf,
        id,
        q.indicator.as_deref().unwrap_or(""),
        q.msg.unwrap_or_default(),
        q.err.unwrap_or_default(),
    )
    .await
}

/// The rules form (create and edit share it). Numbers are blank for "none".
#[derive(Deserialize, Default)]
struct RuleForm {
    /// The indicator page the form is on (empty = framework defaults page).
    #[serde(default)]
    indicator: String,
    /// `indicator` (default when on an indicator page) or `default` (the framework default).
    #[serde(default)]
    scope: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    min: String,
    #[serde(default)]
    max: String,
    #[serde(default)]
    threshold: String,
    /// Checkbox: present when checked.
    active: Option<String>,
    /// `save`, `toggle` or `delete`.
    #[serde(default)]
    op: String,
}

/// After a rules form: htmx gets the re-rendered page (it swaps the rules panel); a plain form
/// post is redirected back to the page.
#[allow(clippy::too_many_arguments)]
async fn rules_done(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    headers: &HeaderMap,
    id: i64,
    indicator: &str,
    outcome: Result<(), crate::store::EvalError>,
) -> Result<Response, PageError> {
    let (msg, err) = match outcome {
        Ok(()) => ("evaluation-saved".to_string(), String::new()),
        Err(crate::store::EvalError::Forbidden) => return Err(PageError(AppError::Forbidden)),
        Err(crate::store::EvalError::NotFound(w)) => {
            return Err(PageError(AppError::NotFound(w)));
        }
        Err(e) => (String::new(), e.to_string()),
    };
    if qcity_platform::web::htmx::is_htmx(headers) {
        return Ok(render_rules(st, p, lang, csrf, id, indicator, msg, err)
            .await?
            .into_response());
    }
    Ok(Redirect::to(&format!(
        "/app/evaluation/frameworks/{id}/rules?indicator={}&msg={}&err={}",
        enc(indicator),
        enc(&msg),
        enc(&err)
    ))
    .into_response())
}

async fn rule_create(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<RuleForm>,
) -> Result<Response, PageError> {
    p.require(Capability::EditFrameworks)?;
    let outcome = async {
        let input = NewRule {
            indicator: Some(if f.scope == "default" {
                String::new()
            } else {
                f.indicator.clone()
            }),
            kind: f.kind.clone(),
            min: opt_f(&f.min, "min").map_err(app_to_eval)?,
            max: opt_f(&f.max, "max").map_err(app_to_eval)?,
            threshold: opt_f(&f.threshold, "threshold").map_err(app_to_eval)?,
            active: Some(true),
        };
        rules::create_rule(&st.db, &p, id, &input).await.map(|_| ())
    }
    .await;
    rules_done(&st, &p, lang, &csrf, &headers, id, &f.indicator, outcome).await
}

async fn rule_change(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path((id, rule_id)): Path<(i64, i64)>,
    Form(f): Form<RuleForm>,
) -> Result<Response, PageError> {
    p.require(Capability::EditFrameworks)?;
    let outcome = async {
        match f.op.as_str() {
            "delete" => rules::delete_rule(&st.db, &p, id, rule_id).await,
            "toggle" => {
                let r = rules::get_rule(&st.db, &p, id, rule_id).await?;
                let patch = RulePatch {
                    active: Some(!r.active),
                    ..Default::default()
                };
                rules::update_rule(&st.db, &p, id, rule_id, &patch)
                    .await
                    .map(|_| ())
            }
            _ => {
                let patch = RulePatch {
                    min: Some(opt_f(&f.min, "min").map_err(app_to_eval)?),
                    max: Some(opt_f(&f.max, "max").map_err(app_to_eval)?),
                    threshold: Some(opt_f(&f.threshold, "threshold").map_err(app_to_eval)?),
                    active: Some(f.active.is_some()),
                };
                rules::update_rule(&st.db, &p, id, rule_id, &patch)
                    .await
                    .map(|_| ())
            }
        }
    }
    .await;
    rules_done(&st, &p, lang, &csrf, &headers, id, &f.indicator, outcome).await
}

/// A form field error as a store error (so it is shown on the page like the others).
fn app_to_eval(e: AppError) -> crate::store::EvalError {
    match e {
        AppError::Validation { field, message } => {
            crate::store::EvalError::Invalid { field, message }
        }
        other => crate::store::EvalError::invalid("form", other.to_string()),
    }
}

// ---------------------------------------------------------------- data entry

#[derive(Deserialize, Default)]
struct EntryQuery {
    framework_id: Option<i64>,
    region: Option<String>,
    year: Option<i32>,
    department: Option<String>,
    status: Option<String>,
    msg: Option<String>,
    err: Option<String>,
}

/// One row of the entry grid.
struct EntryRow {
    node: NodeView,
    dimension: String,
    value: String,
    previous: String,
    source: String,
    note: String,
    status: String,
    value_id: i64,
    warnings: Vec<Warning>,
}

#[derive(Template)]
#[template(path = "evaluation_entry.html")]
struct EntryPage {
    ctx: PageCtx,
    frameworks: Vec<FrameworkView>,
    fw_id: i64,
    regions: Vec<(String, String)>,
    region: String,
    year: i32,
    years: Vec<i32>,
    departments: Vec<String>,
    department: String,
    status: String,
    rows: Vec<EntryRow>,
    can_approve: bool,
    can_enter: bool,
    counts: Vec<(String, usize)>,
    msg: String,
    err: String,
}

async fn entry_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Query(q): Query<EntryQuery>,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/evaluation/entry",
        "evaluation-entry-title",
    )
    .await?;
    let t = lang.tr();
    let frameworks = store::list_frameworks(&st.db, p.city_id).await?;
    let Some(fw) = choose_fw(&frameworks, q.framework_id) else {
        return Err(PageError(AppError::NotFound(
            "framework (install one on the evaluation page)".into(),
        )));
    };
    let regs = store::entry_regions(&st.db, &p).await?;
    let regions: Vec<(String, String)> = regs
        .iter()
        .map(|r| (r.code.clone(), t.pick(&r.name_zh, &r.name_en).to_string()))
        .collect();
    let region = q
        .region
        .clone()
        .filter(|r| regions.iter().any(|x| &x.0 == r))
        .or_else(|| {
            regs.iter()
                .find(|r| r.level == "district")
                .map(|r| r.code.clone())
        })
        .or_else(|| regions.first().map(|r| r.0.clone()))
        .unwrap_or_default();
    let year = q.year.unwrap_or(current_year() - 1);
    let nodes = store::nodes(&st.db, p.city_id, fw.id).await?;
    let mut departments: Vec<String> = nodes
        .iter()
        .filter(|n| n.level == 1 && !n.department.is_empty())
        .map(|n| n.department.clone())
        .collect();
    departments.sort();
    departments.dedup();
    let department = q.department.clone().unwrap_or_default();
    let status = q.status.clone().unwrap_or_default();
    let cur = store::list_values(
        &st.db,
        &p,
        &ValueFilter {
            framework_id: Some(fw.id),
            year: Some(year),
            region: Some(region.clone()),
            ..Default::default()
        },
    )
    .await?;
    let prev = store::list_values(
        &st.db,
        &p,
        &ValueFilter {
            framework_id: Some(fw.id),
            year: Some(year - 1),
            region: Some(region.clone()),
            ..Default::default()
        },
    )
    .await?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in &cur {
        *counts.entry(v.status.clone()).or_default() += 1;
    }
    let names: BTreeMap<String, String> = nodes
        .iter()
        .map(|n| (n.code.clone(), t.pick(&n.name_zh, &n.name_en).to_string()))
        .collect();
    let mut rows = Vec::new();
    for n in nodes.iter().filter(|n| n.level == 1) {
        if !department.is_empty() && n.department != department {
            continue;
        }
        let v = cur.iter().find(|v| v.indicator_code == n.code);
        if !status.is_empty() && v.map(|v| v.status.as_str()) != Some(status.as_str()) {
            continue;
        }
        let warnings = match v {
            Some(v) => store::check_value(&st.db, p.city_id, v).await?,
            None => Vec::new(),
        };
        rows.push(EntryRow {
            node: NodeView::from(n),
            dimension: n
                .parent_code
                .as_ref()
                .and_then(|c| names.get(c))
                .cloned()
                .unwrap_or_default(),
            value: v.map(|v| v.value.to_string()).unwrap_or_default(),
            previous: prev
                .iter()
                .find(|x| x.indicator_code == n.code)
                .map(|x| x.value.to_string())
                .unwrap_or_default(),
            source: v
                .map(|v| v.source.clone())
                .unwrap_or_else(|| t.pick(&n.source_zh, &n.source_en).to_string()),
            note: v.map(|v| v.note.clone()).unwrap_or_default(),
            status: v.map(|v| v.status.clone()).unwrap_or_default(),
            value_id: v.map(|v| v.id).unwrap_or(0),
            warnings,
        });
    }
    let years = (current_year() - 8..=current_year()).rev().collect();
    render(&EntryPage {
        ctx,
        frameworks,
        fw_id: fw.id,
        regions,
        region,
        year,
        years,
        departments,
        department,
        status,
        rows,
        can_approve: p.can(Capability::ApproveData),
        can_enter: p.can(Capability::EnterData),
        counts: store::STATUSES
            .iter()
            .map(|s| (s.to_string(), counts.get(*s).copied().unwrap_or(0)))
            .collect(),
        msg: q.msg.unwrap_or_default(),
        err: q.err.unwrap_or_default(),
    })
}

/// Saves the grid (drafts) and applies a bulk workflow action to the region-year's values.
async fn entry_save(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let t = lang.tr();
    let get = |k: &str| {
        fields
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    };
    let fw_id: i64 = get("framework_id")
        .parse()
        .map_err(|_| AppError::validation("framework_id", "missing"))?;
    let region = get("region");
    let year: i32 = get("year")
        .parse()
        .map_err(|_| AppError::validation("year", "missing"))?;
    let op = get("op");
    let ack = get("acknowledge") == "1";
    let back = |msg: &str, err: &str| {
        Redirect::to(&format!(
            "/app/evaluation/entry?framework_id={fw_id}&region={}&year={year}&department={}&msg={}&err={}",
            enc(&region), enc(&get("department")), enc(msg), enc(err)
        ))
        .into_response()
    };
    let txn = st.db.begin_write().await?;
    let mut saved = 0;
    let mut errors = Vec::new();
    if op == "save" || op == "submit" {
        for (k, v) in fields.iter().filter(|(k, _)| k.starts_with("v:")) {
            let code = &k[2..];
            let raw = v.trim();
            if raw.is_empty() {
                continue;
            }
            let value = match raw.replace(',', "").parse::<f64>() {
                Ok(x) => x,
                Err(_) => {
                    errors.push(format!(
                        "{code}: `{raw}` {}",
                        t.t("evaluation-not-a-number")
                    ));
                    continue;
                }
            };
            // unchanged values (same number, same source and note) are not rewritten
            let existing = store::list_values(
                &txn,
                &p,
                &ValueFilter {
                    framework_id: Some(fw_id),
                    year: Some(year),
                    region: Some(region.clone()),
                    indicator: Some(code.to_string()),
                    ..Default::default()
                },
            )
            .await?;
            let source = get(&format!("s:{code}"));
            let note = get(&format!("n:{code}"));
            if existing
                .first()
                .is_some_and(|e| e.value == value && e.source == source && e.note == note)
            {
                continue;
            }
            let input = store::ValueInput {
                framework_id: fw_id,
                indicator: code.to_string(),
                region_code: region.clone(),
                year,
                value: Some(value),
                numerator: None,
                denominator: None,
                source,
                note,
            };
            match store::save_value(&txn, &p, &input, "manual").await {
                Ok(_) => saved += 1,
                Err(e) => errors.push(format!("{code}: {e}")),
            }
        }
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        return Ok(back("", &errors.join("; ")));
    }
    let action = match op.as_str() {
        "submit" => Some((Action::Submit, store::DRAFT)),
        "approve" => Some((Action::Approve, store::SUBMITTED)),
        "publish" => Some((Action::Publish, store::APPROVED)),
        _ => None,
    };
    let mut moved = 0;
    if let Some((a, from)) = action {
        let vals = store::list_values(
            &txn,
            &p,
            &ValueFilter {
                framework_id: Some(fw_id),
                year: Some(year),
                region: Some(region.clone()),
                status: Some(from.into()),
                ..Default::default()
            },
        )
        .await?;
        for v in vals {
            match store::transition(&txn, &p, v.id, a, ack, None).await {
                Ok(_) => moved += 1,
                Err(e) => errors.push(format!("{}: {e}", v.indicator_code)),
            }
        }
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        return Ok(back("", &errors.join("; ")));
    }
    txn.commit().await?;
    Ok(back(
        &t.ta(
            "evaluation-entry-done",
            &[
                ("saved", (saved as i64).into()),
                ("moved", (moved as i64).into()),
            ],
        ),
        "",
    ))
}

// ---------------------------------------------------------------- import

#[derive(Deserialize, Default)]
struct FwQuery {
    framework_id: Option<i64>,
    year: Option<i32>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "evaluation_import.html")]
struct ImportPage {
    ctx: PageCtx,
    frameworks: Vec<FrameworkView>,
    fw_id: i64,
    year: i32,
    report: Option<ImportReport>,
    filename: String,
}

async fn import_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Query(q): Query<FwQuery>,
) -> Result<Html<String>, PageError> {
    p.require(Capability::EnterData)?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/evaluation/import",
        "evaluation-import-title",
    )
    .await?;
    let frameworks = store::list_frameworks(&st.db, p.city_id).await?;
    let fw_id = choose_fw(&frameworks, q.framework_id)
        .map(|f| f.id)
        .unwrap_or(0);
    render(&ImportPage {
        ctx,
        frameworks,
        fw_id,
        year: q.year.unwrap_or(current_year() - 1),
        report: None,
        filename: String::new(),
    })
}

async fn import_upload(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    up: Upload,
) -> Result<Html<String>, PageError> {
    p.require(Capability::EnterData)?;
    let parts = import::multipart_parts(&up.content_type, &up.bytes);
    let field = |n: &str| {
        parts
            .iter()
            .find(|x| x.0 == n)
            .map(|x| String::from_utf8_lossy(&x.2).to_string())
            .unwrap_or_default()
    };
    let fw_id: i64 = field("framework_id")
        .trim()
        .parse()
        .map_err(|_| AppError::validation("framework_id", "missing"))?;
    let (filename, bytes) = parts
        .iter()
        .find(|x| x.0 == "file")
        .map(|x| (x.1.clone(), x.2.clone()))
        .unwrap_or_default();
    let report = if bytes.is_empty() {
        ImportReport {
            committed: false,
            rows: 0,
            created_or_updated: 0,
            errors: vec![import::RowError {
                row: 0,
                column: "file".into(),
                message: lang.tr().t("evaluation-import-nofile"),
            }],
            warnings: Vec::new(),
        }
    } else {
        match import::import_file(&st.db, &p, fw_id, &filename, bytes, &up.limits).await {
            Ok(r) => r,
            // A file over a limit is shown on the page like any other unreadable file.
            Err(store::EvalError::Upload(e)) => ImportReport {
                committed: false,
                rows: 0,
                created_or_updated: 0,
                errors: vec![import::RowError {
                    row: e.row.unwrap_or(0),
                    column: "file".into(),
                    message: e.message,
                }],
                warnings: Vec::new(),
            },
            Err(e) => return Err(AppError::from(e).into()),
        }
    };
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/evaluation/import",
        "evaluation-import-title",
    )
    .await?;
    let frameworks = store::list_frameworks(&st.db, p.city_id).await?;
    render(&ImportPage {
        ctx,
        frameworks,
        fw_id,
        year: field("year").trim().parse().unwrap_or(current_year() - 1),
        report: Some(report),
        filename,
    })
}

async fn template_download(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Query(q): Query<FwQuery>,
) -> Result<Response, PageError> {
    p.require_any(crate::READERS)?;
    let id = q
        .framework_id
        .ok_or_else(|| AppError::validation("framework_id", "missing"))?;
    api::template_response(
        &st,
        &p,
        id,
        q.year.unwrap_or(current_year() - 1),
        q.format.as_deref().unwrap_or("csv"),
    )
    .await
    .map_err(|e| PageError(e.0))
}

// ---------------------------------------------------------------- completeness

#[derive(Template)]
#[template(path = "evaluation_completeness.html")]
struct CompletenessPage {
    ctx: PageCtx,
    frameworks: Vec<FrameworkView>,
    fw_id: i64,
    year: i32,
    years: Vec<i32>,
    region_names: Vec<String>,
    rows: Vec<(String, String, Vec<String>, f64)>,
    by_region: Vec<f64>,
    overall: f64,
    published: f64,
    can_feed: bool,
    msg: String,
}

async fn completeness_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Query(q): Query<EntryQuery>,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/evaluation/completeness",
        "evaluation-completeness-title",
    )
    .await?;
    let t = lang.tr();
    let frameworks = store::list_frameworks(&st.db, p.city_id).await?;
    let fw = choose_fw(&frameworks, q.framework_id)
        .ok_or_else(|| AppError::NotFound("framework".into()))?;
    let year = q.year.unwrap_or(current_year() - 1);
    let c = store::completeness(&st.db, &p, fw.id, year, &[]).await?;
    let regs = qcity_platform::store::regions::list_visible(&st.db, &p.scope).await?;
    let rname = |code: &str| {
        regs.iter()
            .find(|r| r.code == code)
            .map(|r| t.pick(&r.name_zh, &r.name_en).to_string())
            .unwrap_or_else(|| code.into())
    };
    let nodes = store::nodes(&st.db, p.city_id, fw.id).await?;
    let iname = |code: &str| {
        nodes
            .iter()
            .find(|n| n.code == code)
            .map(|n| t.pick(&n.name_zh, &n.name_en).to_string())
            .unwrap_or_default()
    };
    let rows = c
        .indicators
        .iter()
        .zip(&c.cells)
        .zip(&c.by_indicator)
        .map(|((i, cells), share)| {
            (
                i.clone(),
                iname(i),
                cells
                    .iter()
                    .map(|x| x.clone().unwrap_or_default())
                    .collect(),
                *share,
            )
        })
        .collect();
    render(&CompletenessPage {
        ctx,
        frameworks,
        fw_id: fw.id,
        year,
        years: (current_year() - 8..=current_year()).rev().collect(),
        region_names: c.regions.iter().map(|r| rname(r)).collect(),
        rows,
        by_region: c.by_region,
        overall: c.overall,
        published: c.published,
        can_feed: p.can(Capability::ApproveData),
        msg: q.msg.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct FeedForm {
    framework_id: i64,
    year: i32,
}

async fn feeds_pull(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Form(f): Form<FeedForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ApproveData)?;
    let rep = store::pull_feeds(&st.db, &st.modules, &p, f.framework_id, f.year)
        .await
        .map_err(AppError::from)?;
    let saved: usize = rep.saved.values().sum();
    let msg = format!(
        "feeds: {saved} saved ({}), {} skipped",
        rep.saved
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        rep.skipped.len()
    );
    Ok(Redirect::to(&format!(
        "/app/evaluation/completeness?framework_id={}&year={}&msg={}",
        f.framework_id,
        f.year,
        enc(&msg)
    ))
    .into_response())
}

// ---------------------------------------------------------------- runs

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

async fn runs_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
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

async fn run_start(
    State(st): State<AppState>,
    PageUser(p): PageUser,
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
struct RunQuery {
    year: Option<i32>,
}

async fn run_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
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
async fn run_status(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
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
