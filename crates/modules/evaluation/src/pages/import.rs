//! Importing values from a spreadsheet (批量导入) and downloading its template.

use super::{choose_fw, current_year};
use crate::api;
use crate::import::{self, ImportReport};
use crate::store::{self, FrameworkView};
use askama::Template;
use axum::extract::Query;
use axum::response::{Html, Response};
use qcity_platform::auth::Capability;
use qcity_platform::upload::Upload;
use qcity_platform::web::Page;
use qcity_platform::web::render::{page_ctx, render};
use qcity_platform::web::{AppError, PageCtx, PageError};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub(super) struct FwQuery {
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

pub(super) async fn import_page(
    Page(st, p, lang, csrf): Page,
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

pub(super) async fn import_upload(
    Page(st, p, lang, csrf): Page,
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

pub(super) async fn template_download(
    Page(st, p, ..): Page,
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
