//! The framework tree page: the indicator tree with each indicator's passport (指标护照),
//! and saving a passport.

use super::{Flash, enc, opt_f};
use crate::store::{self, FrameworkView, NodeView, PassportPatch};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qcity_platform::auth::Capability;
use qcity_platform::web::Page;
use qcity_platform::web::render::{page_ctx, render};
use qcity_platform::web::{AppError, PageCtx, PageError};
use serde::Deserialize;

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

pub(super) async fn framework_page(
    Page(st, p, lang, csrf): Page,
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
pub(super) struct PassportForm {
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

pub(super) async fn passport_save(
    Page(st, p, ..): Page,
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
