//! The completeness matrix (填报完整度) of a framework and year, and pulling the values
//! other modules feed.

use super::{EntryQuery, choose_fw, current_year, enc};
use crate::store::{self, FrameworkView};
use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qcity_platform::auth::Capability;
use qcity_platform::web::Page;
use qcity_platform::web::render::{page_ctx, render};
use qcity_platform::web::{AppError, PageCtx, PageError};
use serde::Deserialize;

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

pub(super) async fn completeness_page(
    Page(st, p, lang, csrf): Page,
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
pub(super) struct FeedForm {
    framework_id: i64,
    year: i32,
}

pub(super) async fn feeds_pull(
    Page(st, p, ..): Page,
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
