//! The overview page (城市质量评价首页): frameworks of the city and installing one from the
//! catalogue.

use super::{Flash, enc};
use crate::api::RunSummary;
use crate::runs;
use crate::store::{self, FrameworkView};
use askama::Template;
use axum::Form;
use axum::extract::Query;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qcity_platform::audit::Actor;
use qcity_platform::auth::Capability;
use qcity_platform::web::Page;
use qcity_platform::web::render::{page_ctx, render};
use qcity_platform::web::{PageCtx, PageError};
use serde::Deserialize;

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

pub(super) async fn home(
    Page(st, p, lang, csrf): Page,
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
pub(super) struct InstallForm {
    catalogue: String,
}

pub(super) async fn install(
    Page(st, p, ..): Page,
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
