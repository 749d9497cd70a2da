//! The audit log, filtered and paged.

use crate::audit::{self, AuditEntry, AuditQuery};
use crate::auth::Capability;
use crate::web::error::PageError;
use crate::web::extract::Page;
use crate::web::layout::PageCtx;
use crate::web::render::{page_ctx, render};
use crate::web::state::AppState;
use crate::web::urlencode;
use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/app/admin/audit", get(audit_page))
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    ctx: PageCtx,
    entries: Vec<AuditEntry>,
    total: u64,
    page: u64,
    pages: u64,
    f_actor: String,
    f_entity: String,
    f_action: String,
    query_base: String,
}

async fn audit_page(
    Page(st, p, lang, csrf): Page,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, PageError> {
    p.require(Capability::ViewAudit)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/audit", "admin-audit").await?;
    let filter = q.to_filter();
    let (entries, total) = audit::browse_for(&st.db, &p, &filter).await?;
    let enc = |s: &Option<String>| urlencode(s.as_deref().unwrap_or(""));
    render(&AuditPage {
        ctx,
        entries,
        total,
        page: u64::from(q.page.unwrap_or(0)),
        pages: total.div_ceil(audit::PAGE_SIZE),
        f_actor: q.actor.clone().unwrap_or_default(),
        f_entity: q.entity.clone().unwrap_or_default(),
        f_action: q.action.clone().unwrap_or_default(),
        query_base: format!(
            "actor={}&entity={}&action={}",
            enc(&q.actor),
            enc(&q.entity),
            enc(&q.action)
        ),
    })
}
