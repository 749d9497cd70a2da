//! The framework structure page: adding, changing and removing dimensions and indicators
//! (指标体系结构), with their weights and directions.

use super::{Flash, app_to_eval, enc, opt_f};
use crate::nodes;
use crate::store::{self, FrameworkView, NodeView};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::web::Page;
use qcity_platform::web::render::{page_ctx, render};
use qcity_platform::web::{AppError, AppState, CsrfToken, PageCtx, PageError, ReqLang};
use serde::Deserialize;

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

pub(super) async fn structure_page(
    Page(st, p, lang, csrf): Page,
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
pub(super) struct NodeForm {
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

pub(super) async fn structure_add(
    Page(st, p, lang, csrf): Page,
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

pub(super) async fn structure_change(
    Page(st, p, lang, csrf): Page,
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
