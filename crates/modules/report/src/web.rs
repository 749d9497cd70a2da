//! Staff pages under `/app/reports` and the JSON API under `/api/v1/reports`.

use crate::store::{self, Action, Status, Version, VersionSummary};
use crate::view::{ReportView, status_label};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use qcity_platform::audit::Actor;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::web::render::{page_ctx, render};
use qcity_platform::web::{
    ApiError, ApiJson, ApiPath, ApiUser, AppError, AppState, Page, PageCtx, PageError,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Reports are city-wide: staff see them with a city-wide scope and a role that views all
/// data or edits reports. Anyone else gets 404, as for an absent report.
pub fn may_view(p: &Principal) -> bool {
    (p.can(Capability::ViewAll) || p.can(Capability::EditReports)) && p.scope.root == p.city_code
}

fn check_view(p: &Principal) -> Result<(), AppError> {
    if may_view(p) {
        Ok(())
    } else {
        Err(AppError::NotFound("report".into()))
    }
}

fn check_edit(p: &Principal) -> Result<(), AppError> {
    check_view(p)?;
    if p.can(Capability::EditReports) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn parse_id(s: &str) -> Result<i64, AppError> {
    s.parse()
        .map_err(|_| AppError::NotFound(format!("report version {s}")))
}

/// Region code → display name, for map charts in print and open data.
pub async fn region_names(
    st: &AppState,
    city_id: i64,
    en: bool,
) -> Result<HashMap<String, String>, AppError> {
    let Some(root) = qcity_platform::store::regions::city_root(&st.db, city_id).await? else {
        return Ok(HashMap::new());
    };
    let scope = qcity_platform::auth::RegionScope::new(city_id, &root.code);
    Ok(qcity_platform::store::regions::list_visible(&st.db, &scope)
        .await?
        .into_iter()
        .map(|r| {
            let n = if en && !r.name_en.is_empty() {
                r.name_en
            } else {
                r.name_zh
            };
            (r.code, n)
        })
        .collect())
}

/// The PDF of a version in one language (typeset in a blocking task).
pub async fn pdf_bytes(st: &AppState, v: Version, en: bool) -> Result<Vec<u8>, AppError> {
    let names = region_names(st, v.row.city_id, en).await?;
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(|| crate::pdf::render(&v, en, &names)))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| {
            tracing::error!(error = %e, "report PDF");
            AppError::internal(e)
        })
}

/// A PDF response shown inline under `file_name`.
pub fn pdf_response(bytes: impl Into<axum::body::Bytes>, file_name: &str) -> Response {
    let mut resp = bytes.into().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

// ---------- pages ----------

struct YearRow {
    year: i32,
    versions: Vec<VersionRow>,
}

struct VersionRow {
    id: String,
    version: i32,
    status: &'static str,
    status_label: String,
    change_note: String,
    created_by: String,
    updated: String,
    published: String,
}

#[derive(Template)]
#[template(path = "report_list.html")]
struct ListPage {
    ctx: PageCtx,
    years: Vec<YearRow>,
    can_edit: bool,
    default_year: i32,
    error: String,
    city_code: String,
}

#[derive(Deserialize, Default)]
pub struct Flash {
    msg: Option<String>,
    err: Option<String>,
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn with_err(path: &str, e: &AppError) -> Response {
    Redirect::to(&format!("{path}?err={}", enc(&e.to_string()))).into_response()
}

pub async fn list_page(
    Page(st, p, lang, csrf): Page,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    check_view(&p)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/reports", "report-title").await?;
    let en = ctx.lang == "en";
    let rows = store::list(&st.db, p.city_id).await?;
    let mut years: Vec<YearRow> = Vec::new();
    for r in &rows {
        let status = Status::parse(&r.status).unwrap_or(Status::Draft);
        let vr = VersionRow {
            id: r.id.to_string(),
            version: r.version,
            status: status.as_str(),
            status_label: status_label(status, en),
            change_note: r.change_note.clone(),
            created_by: r.created_by.clone(),
            updated: r.updated_at.format("%Y-%m-%d %H:%M").to_string(),
            published: r
                .published_at
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        };
        match years.last_mut() {
            Some(y) if y.year == r.year => y.versions.push(vr),
            _ => years.push(YearRow {
                year: r.year,
                versions: vec![vr],
            }),
        }
    }
    use chrono::Datelike;
    let page = ListPage {
        ctx,
        years,
        can_edit: p.can(Capability::EditReports),
        default_year: chrono::Utc::now().year() - 1,
        error: fl.err.unwrap_or_default(),
        city_code: p.city_code.clone(),
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct CreateForm {
    year: String,
    #[serde(default)]
    change_note: String,
}

pub async fn create_submit(
    Page(st, p, ..): Page,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    check_edit(&p)?;
    let year: i32 = match f.year.trim().parse() {
        Ok(y) => y,
        Err(_) => {
            return Ok(with_err(
                "/app/reports",
                &AppError::validation("year", format!("`{}` is not a year", f.year)),
            ));
        }
    };
    match store::create(
        &st.db,
        &st.modules,
        &Actor::from(&p),
        p.city_id,
        year,
        &f.change_note,
    )
    .await
    {
        Ok(v) => Ok(Redirect::to(&format!("/app/reports/{}", v.row.id)).into_response()),
        Err(e) => Ok(with_err("/app/reports", &e.into())),
    }
}

#[derive(Template)]
#[template(path = "report_view.html")]
struct ViewPage {
    ctx: PageCtx,
    r: ReportView,
    can_edit: bool,
    can_publish: bool,
    is_draft: bool,
    is_review: bool,
    stale: usize,
    others: Vec<VersionRow>,
    message: String,
    error: String,
    public_url: String,
}

pub async fn view_page(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<String>,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    check_view(&p)?;
    let id = parse_id(&id)?;
    let v = store::get(&st.db, p.city_id, id).await?;
    let path = format!("/app/reports/{id}");
    let ctx = page_ctx(&st, &p, lang, &csrf, &path, "report-title").await?;
    let en = ctx.lang == "en";
    let t = lang.tr();
    let others = store::list(&st.db, p.city_id)
        .await?
        .into_iter()
        .filter(|r| r.year == v.row.year)
        .map(|r| {
            let s = Status::parse(&r.status).unwrap_or(Status::Draft);
            VersionRow {
                id: r.id.to_string(),
                version: r.version,
                status: s.as_str(),
                status_label: status_label(s, en),
                change_note: r.change_note.clone(),
                created_by: r.created_by.clone(),
                updated: r.updated_at.format("%Y-%m-%d %H:%M").to_string(),
                published: r
                    .published_at
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let page = ViewPage {
        r: ReportView::new(&v, en, "/api/v1/regions/geojson?level=district"),
        ctx,
        can_edit: p.can(Capability::EditReports),
        can_publish: p.can(Capability::PublishReports),
        is_draft: v.status == Status::Draft,
        is_review: v.status == Status::Review,
        stale: v.stale_blocks(),
        others,
        message: fl.msg.map(|m| t.t(&m)).unwrap_or_default(),
        error: fl.err.unwrap_or_default(),
        public_url: format!("/p/{}/reports/{}", p.city_code, v.row.year),
    };
    render(&page)
}

pub async fn regenerate_submit(
    Page(st, p, ..): Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    check_edit(&p)?;
    let id = parse_id(&id)?;
    let path = format!("/app/reports/{id}");
    match store::regenerate(&st.db, &st.modules, &Actor::from(&p), p.city_id, id).await {
        Ok((_, 0)) => Ok(Redirect::to(&format!("{path}?msg=report-regenerated")).into_response()),
        Ok((_, _)) => {
            Ok(Redirect::to(&format!("{path}?msg=report-regenerated-stale")).into_response())
        }
        Err(qcity_platform::store::StoreError::NotFound(w)) => Err(AppError::NotFound(w).into()),
        Err(e) => Ok(with_err(&path, &e.into())),
    }
}

#[derive(Deserialize)]
pub struct BlockForm {
    key: String,
    #[serde(default)]
    text_zh: String,
    #[serde(default)]
    text_en: String,
    #[serde(default)]
    reset: Option<String>,
}

pub async fn narrative_submit(
    Page(st, p, ..): Page,
    Path(id): Path<String>,
    Form(f): Form<BlockForm>,
) -> Result<Response, PageError> {
    check_edit(&p)?;
    let id = parse_id(&id)?;
    let path = format!("/app/reports/{id}");
    let (zh, en) = if f.reset.is_some() {
        ("", "")
    } else {
        (f.text_zh.as_str(), f.text_en.as_str())
    };
    match store::edit_block(&st.db, &Actor::from(&p), p.city_id, id, &f.key, zh, en).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("{path}?msg=report-saved#b-{}", enc(&f.key))).into_response())
        }
        Err(qcity_platform::store::StoreError::NotFound(w)) => Err(AppError::NotFound(w).into()),
        Err(e) => Ok(with_err(&path, &e.into())),
    }
}

#[derive(Deserialize)]
pub struct WorkflowForm {
    action: String,
}

pub async fn workflow_submit(
    Page(st, p, ..): Page,
    Path(id): Path<String>,
    Form(f): Form<WorkflowForm>,
) -> Result<Response, PageError> {
    check_view(&p)?;
    let id = parse_id(&id)?;
    let path = format!("/app/reports/{id}");
    let action = Action::parse(&f.action)
        .ok_or_else(|| AppError::validation("action", format!("unknown action `{}`", f.action)))?;
    let cap = if action == Action::Publish {
        Capability::PublishReports
    } else {
        Capability::EditReports
    };
    if !p.can(cap) {
        return Err(AppError::Forbidden.into());
    }
    match crate::workflow::transition(
        &st,
        &Actor::from(&p),
        p.city_id,
        id,
        action,
        p.can(Capability::PublishReports),
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("{path}?msg=report-{}-done", action.as_str())).into_response(),
        ),
        Err(qcity_platform::store::StoreError::NotFound(w)) => Err(AppError::NotFound(w).into()),
        Err(e) => Ok(with_err(&path, &e.into())),
    }
}

pub async fn staff_pdf(
    Page(st, p, lang, ..): Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    check_view(&p)?;
    let id = parse_id(&id)?;
    let v = store::get(&st.db, p.city_id, id).await?;
    let name = format!(
        "report-{}-v{}-{}.pdf",
        v.row.year,
        v.row.version,
        v.status.as_str()
    );
    let bytes = pdf_bytes(&st, v, lang.0 == qcity_platform::i18n::Lang::En).await?;
    Ok(pdf_response(bytes, &name))
}

// ---------- API ----------

/// A report version with its sections and narrative.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionDetail {
    #[serde(flatten)]
    pub summary: VersionSummary,
    #[schema(value_type = Object)]
    pub snapshot: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub narrative: serde_json::Value,
    /// Edited narrative blocks whose data changed since the edit.
    pub stale_blocks: usize,
}

fn detail(v: &Version) -> VersionDetail {
    VersionDetail {
        summary: VersionSummary::from(&v.row),
        snapshot: serde_json::to_value(&v.snapshot).unwrap_or_default(),
        narrative: serde_json::to_value(&v.narrative).unwrap_or_default(),
        stale_blocks: v.stale_blocks(),
    }
}

/// Every report version of the city (newest first).
#[utoipa::path(get, path = "/api/v1/reports", tag = "report",
    responses((status = 200, body = Vec<VersionSummary>), (status = 404, description = "not visible to this principal")))]
pub async fn api_list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Vec<VersionSummary>>, ApiError> {
    check_view(&p)?;
    let rows = store::list(&st.db, p.city_id).await?;
    Ok(Json(rows.iter().map(VersionSummary::from).collect()))
}

/// One report version.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "report",
    params(("id" = String, Path, description = "version id")),
    responses((status = 200, body = VersionDetail), (status = 404, description = "unknown or not visible")))]
pub async fn api_get(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<VersionDetail>, ApiError> {
    check_view(&p)?;
    let v = store::get(&st.db, p.city_id, parse_id(&id)?).await?;
    Ok(Json(detail(&v)))
}

/// Body of `POST /api/v1/reports`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateBody {
    pub year: i32,
    /// Required when the year already has a published version (a correction).
    #[serde(default)]
    pub change_note: String,
}

/// Starts a draft (or a correction) for a year, assembled from every module's sections.
#[utoipa::path(post, path = "/api/v1/reports", tag = "report", request_body = CreateBody,
    responses((status = 201, body = VersionDetail), (status = 409, description = "an open version exists"), (status = 422, description = "invalid year or missing change note")))]
pub async fn api_create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<CreateBody>,
) -> Result<(axum::http::StatusCode, Json<VersionDetail>), ApiError> {
    check_edit(&p)?;
    let v = store::create(
        &st.db,
        &st.modules,
        &Actor::from(&p),
        p.city_id,
        b.year,
        &b.change_note,
    )
    .await?;
    Ok((axum::http::StatusCode::CREATED, Json(detail(&v))))
}

/// Body of `POST /api/v1/reports/{id}/narrative`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NarrativeBody {
    pub key: String,
    /// Both empty: back to the generated text.
    #[serde(default)]
    pub text_zh: String,
    #[serde(default)]
    pub text_en: String,
}

/// Sets the text of one narrative block of a draft.
#[utoipa::path(post, path = "/api/v1/reports/{id}/narrative", tag = "report", request_body = NarrativeBody,
    params(("id" = String, Path, description = "version id")),
    responses((status = 200, body = VersionDetail), (status = 409, description = "not a draft")))]
pub async fn api_narrative(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NarrativeBody>,
) -> Result<Json<VersionDetail>, ApiError> {
    check_edit(&p)?;
    let v = store::edit_block(
        &st.db,
        &Actor::from(&p),
        p.city_id,
        parse_id(&id)?,
        &b.key,
        &b.text_zh,
        &b.text_en,
    )
    .await?;
    Ok(Json(detail(&v)))
}

/// Re-reads the modules' sections into a draft.
#[utoipa::path(post, path = "/api/v1/reports/{id}/regenerate", tag = "report",
    params(("id" = String, Path, description = "version id")),
    responses((status = 200, body = VersionDetail), (status = 409, description = "not a draft")))]
pub async fn api_regenerate(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<VersionDetail>, ApiError> {
    check_edit(&p)?;
    let (v, _) = store::regenerate(
        &st.db,
        &st.modules,
        &Actor::from(&p),
        p.city_id,
        parse_id(&id)?,
    )
    .await?;
    Ok(Json(detail(&v)))
}

/// Body of `POST /api/v1/reports/{id}/workflow`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct WorkflowBody {
    pub action: Action,
}

/// Submits, returns or publishes a version.
#[utoipa::path(post, path = "/api/v1/reports/{id}/workflow", tag = "report", request_body = WorkflowBody,
    params(("id" = String, Path, description = "version id")),
    responses((status = 200, body = VersionDetail), (status = 403, description = "missing permission"), (status = 409, description = "wrong state or published (immutable)")))]
pub async fn api_workflow(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<WorkflowBody>,
) -> Result<Json<VersionDetail>, ApiError> {
    check_view(&p)?;
    let cap = if b.action == Action::Publish {
        Capability::PublishReports
    } else {
        Capability::EditReports
    };
    if !p.can(cap) {
        return Err(AppError::Forbidden.into());
    }
    let v = crate::workflow::transition(
        &st,
        &Actor::from(&p),
        p.city_id,
        parse_id(&id)?,
        b.action,
        p.can(Capability::PublishReports),
    )
    .await?;
    Ok(Json(detail(&v)))
}
