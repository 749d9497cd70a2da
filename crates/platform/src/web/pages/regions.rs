//! The region tree (districts, streets, communities) and renaming a region.

use super::{Flash, flash_err};
use crate::audit::Actor;
use crate::auth::Capability;
use crate::store::{self, regions::RegionView};
use crate::web::error::PageError;
use crate::web::extract::Page;
use crate::web::layout::PageCtx;
use crate::web::render::{page_ctx, render};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Path, Query};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/admin/regions", get(regions_page))
        .route("/app/admin/regions/{code}", post(region_rename))
}

#[derive(Template)]
#[template(path = "admin_regions.html")]
struct RegionsPage {
    ctx: PageCtx,
    regions: Vec<(RegionView, usize)>,
    can_edit: bool,
    error: String,
}

async fn regions_page(
    Page(st, p, lang, csrf): Page,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    p.require_any(&[Capability::ViewAll, Capability::ManageRegions])?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/regions", "admin-regions").await?;
    let regions = st
        .visible_regions(&p.scope)
        .await?
        .iter()
        .map(|r| {
            let depth = match r.level.as_str() {
                "city" => 0,
                "district" => 1,
                "street" => 2,
                _ => 3,
            };
            (RegionView::from_model(r, lang.0.code()), depth)
        })
        .collect();
    render(&RegionsPage {
        ctx,
        regions,
        can_edit: p.can(Capability::ManageRegions),
        error: fl.err.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct RenameForm {
    name_zh: String,
    name_en: String,
}

async fn region_rename(
    Page(st, p, ..): Page,
    Path(code): Path<String>,
    Form(f): Form<RenameForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageRegions)?;
    store::regions::get_visible(&st.db, &p.scope, &code).await?;
    let renamed = crate::admin::rename_region(
        &st.db,
        &Actor::from(&p),
        p.city_id,
        &code,
        &f.name_zh,
        &f.name_en,
    )
    .await;
    if let Err(e) = renamed {
        return Ok(flash_err("/app/admin/regions", &e.into()));
    }
    st.regions.clear();
    Ok(Redirect::to("/app/admin/regions").into_response())
}
