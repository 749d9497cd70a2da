//! The MQTT dead-letter page (`/app/admin/mqtt`): frames the consumers refused for good, for
//! administrators who may read the audit log.

use crate::auth::Capability;
use crate::mqtt::dead_letter::{self, DeadLetter};
use crate::web::error::{AppError, PageError};
use crate::web::extract::Page;
use crate::web::layout::PageCtx;
use crate::web::render::{page_ctx, render};
use crate::web::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use fluent_templates::fluent_bundle::FluentValue;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/app/admin/mqtt", get(dead_letters_page))
}

/// A row as shown: the payload as text, or its size when it is not text.
struct Row {
    entry: DeadLetter,
    payload: String,
}

#[derive(Template)]
#[template(path = "admin_dead_letters.html")]
struct DeadLettersPage {
    ctx: PageCtx,
    rows: Vec<Row>,
    total: u64,
    page: u64,
    pages: u64,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<u32>,
}

async fn dead_letters_page(
    Page(st, p, lang, csrf): Page,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    if !p.can(Capability::ViewAudit) {
        return Err(PageError(AppError::Forbidden));
    }
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/admin/mqtt",
        "admin-dead-letters",
    )
    .await?;
    let page = u64::from(q.page.unwrap_or(0));
    let (entries, total) = dead_letter::browse(&st.db, p.city_id, page).await?;
    let rows = entries
        .into_iter()
        .map(|entry| {
            let payload = match &entry.payload_text {
                Some(t) => t.chars().take(2_000).collect(),
                None => ctx.t.ta(
                    "dead-letters-binary",
                    &[("bytes", FluentValue::from(entry.payload_len))],
                ),
            };
            Row { entry, payload }
        })
        .collect();
    render(&DeadLettersPage {
        ctx,
        rows,
        total,
        page,
        pages: total.div_ceil(dead_letter::PAGE_SIZE).max(1),
    })
}
