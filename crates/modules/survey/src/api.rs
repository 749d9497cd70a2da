//! `/api/v1/survey/...`: questionnaires, waves, margins, quotas, invitations, fieldwork upload
//! (JSON, CSV, XLSX; all-or-nothing), responses and cleaning decisions, analysis and exports.

use crate::analysis::{self, Analysis, DistrictNames};
use crate::collect::{self, RowError, Submission};
use crate::model::{QuestionnaireDef, RawAnswer};
use crate::service::{self, BatchSource};
use crate::store::{self, MarginCell, NewWave, QuotaCell, ResponseFilter, Wave};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::store::ConflictCode;
use qcity_platform::store::group_commit::GroupCommit;
use qcity_platform::upload::Upload;
use qcity_platform::web::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, AppError, AppState};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The survey part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    QuestionnaireDef,
    crate::model::QuestionDef,
    crate::model::OptionDef,
    crate::model::Condition,
    crate::model::QuestionKind,
    store::Questionnaire,
    store::Revision,
    Wave,
    NewWave,
    MarginCell,
    QuotaCell,
    store::QuotaProgress,
    store::Response,
    StatusBody,
    UploadItem,
    RowError,
    DecisionBody,
    Analysis
)))]
pub struct SurveyApi;

/// The module's `/api/v1` routes with their OpenAPI paths, declared once.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(SurveyApi::openapi())
        .routes(routes!(list_questionnaires, create_questionnaire))
        .routes(routes!(get_questionnaire))
        .routes(routes!(revise_questionnaire))
        .routes(routes!(list_waves, create_wave))
        .routes(routes!(get_wave))
        .routes(routes!(set_status))
        .routes(routes!(get_margins, set_margins))
        .routes(routes!(get_progress, set_quotas))
        .routes(routes!(create_invitations))
        .routes(routes!(list_responses, upload_responses))
        .routes(routes!(import_file))
        .routes(routes!(get_analysis))
        .routes(routes!(export_csv))
        .routes(routes!(export_xlsx))
        .routes(routes!(get_response))
        .routes(routes!(decide))
}

/// The city's districts (code, zh, en) from the server's cached region tree: what request
/// handlers use (a submission validates its district answer against it).
pub async fn districts(
    st: &AppState,
    city_id: i64,
) -> Result<Vec<(String, String, String)>, AppError> {
    let city = qcity_platform::auth::RegionScope {
        city_id,
        root: String::new(),
        prefix: String::new(),
    };
    Ok(st
        .visible_regions(&city)
        .await?
        .into_iter()
        .filter(|r| r.level == "district")
        .map(|r| (r.code, r.name_zh, r.name_en))
        .collect())
}

/// A wave the principal may see, with its questionnaire (404 otherwise).
pub(crate) async fn wave_for(
    st: &AppState,
    p: &Principal,
    id: i64,
) -> Result<(Wave, store::Questionnaire), AppError> {
    p.require_any(crate::READERS)?;
    let w = store::get_wave_scoped(&st.db, &p.scope, id)
        .await?
        .ok_or_else(|| AppError::NotFound("wave".into()))?;
    let q = store::get_questionnaire_lite(&st.db, p.city_id, w.questionnaire_id)
        .await?
        .ok_or_else(|| AppError::NotFound("questionnaire".into()))?;
    Ok((w, q))
}

/// A wave the principal may manage (see [`store::wave_manageable`]): 404 when they cannot see
/// it, 403 when they see it but it covers more than their scope.
pub(crate) async fn wave_to_manage(
    st: &AppState,
    p: &Principal,
    id: i64,
) -> Result<(Wave, store::Questionnaire), AppError> {
    p.require(Capability::ManageSurvey)?;
    let (w, q) = wave_for(st, p, id).await?;
    if !store::wave_manageable(&p.scope, p.city_id, &w.region_code) {
        return Err(AppError::Forbidden);
    }
    Ok((w, q))
}

/// Refuses (403) an edit of a questionnaire that a wave the principal may not manage uses: an
/// edit in place changes that wave's form.
pub(crate) async fn need_questionnaire_edit(
    st: &AppState,
    p: &Principal,
    questionnaire_id: i64,
) -> Result<(), AppError> {
    p.require(Capability::ManageSurvey)?;
    let regions = store::wave_regions_of_questionnaire(&st.db, p.city_id, questionnaire_id).await?;
    if regions
        .iter()
        .all(|r| store::wave_manageable(&p.scope, p.city_id, r))
    {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether the principal may manage `w` (and so see its open-link token).
pub(crate) fn manages(p: &Principal, w: &Wave) -> bool {
    p.can(Capability::ManageSurvey) && store::wave_manageable(&p.scope, p.city_id, &w.region_code)
}

/// Blanks the open-link token of a wave the principal may not manage.
pub(crate) fn redact_token(p: &Principal, mut w: Wave) -> Wave {
    if !manages(p, &w) {
        w.open_token = String::new();
    }
    w
}

#[utoipa::path(get, path = "/api/v1/survey/questionnaires", tag = "survey", responses((status = 200, description = "`{questionnaires: [Questionnaire]}`", body = Object)))]
async fn list_questionnaires(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Value>, ApiError> {
    p.require_any(crate::READERS)?;
    let qs = store::list_questionnaires(&st.db, p.city_id).await?;
    Ok(Json(json!({ "questionnaires": qs })))
}

#[utoipa::path(post, path = "/api/v1/survey/questionnaires", tag = "survey", request_body = QuestionnaireDef, responses((status = 201, description = "`{id, version}`", body = Object), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn create_questionnaire(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(def): ApiJson<QuestionnaireDef>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    p.require(Capability::ManageSurvey)?;
    let q = service::create_questionnaire(&st.db, &p, &def).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": q.id, "version": q.version })),
    ))
}

#[utoipa::path(get, path = "/api/v1/survey/questionnaires/{id}", params(("id" = i64, Path, description = "id of the questionnaire")), tag = "survey", responses((status = 200, body = store::Questionnaire), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn get_questionnaire(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<store::Questionnaire>, ApiError> {
    p.require_any(crate::READERS)?;
    Ok(Json(
        store::get_questionnaire(&st.db, p.city_id, id)
            .await?
            .ok_or_else(|| AppError::NotFound("questionnaire".into()))?,
    ))
}

#[utoipa::path(post, path = "/api/v1/survey/questionnaires/{id}/revise", params(("id" = i64, Path, description = "id of the questionnaire")), tag = "survey", request_body = QuestionnaireDef, responses((status = 200, body = store::Revision), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn revise_questionnaire(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(def): ApiJson<QuestionnaireDef>,
) -> Result<Json<store::Revision>, ApiError> {
    need_questionnaire_edit(&st, &p, id).await?;
    Ok(Json(
        service::revise_questionnaire(&st.db, &p, id, &def).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/survey/waves", tag = "survey", responses((status = 200, description = "`{waves: [Wave]}`", body = Object)))]
async fn list_waves(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Value>, ApiError> {
    p.require_any(crate::READERS)?;
    let waves: Vec<Wave> = store::list_waves(&st.db, &p.scope)
        .await?
        .into_iter()
        .map(|w| redact_token(&p, w))
        .collect();
    Ok(Json(json!({ "waves": waves })))
}

#[utoipa::path(post, path = "/api/v1/survey/waves", tag = "survey", request_body = NewWave, responses((status = 201, body = Wave), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn create_wave(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(w): ApiJson<NewWave>,
) -> Result<(StatusCode, Json<Wave>), ApiError> {
    p.require(Capability::ManageSurvey)?;
    let wave = service::create_wave(&st.db, &p, &w).await?;
    Ok((StatusCode::CREATED, Json(wave)))
}

#[utoipa::path(get, path = "/api/v1/survey/waves/{id}", params(("id" = i64, Path, description = "id of the survey wave")), tag = "survey", responses((status = 200, description = "`{wave, questionnaire, quotas: [QuotaProgress], margins: [MarginCell]}`", body = Object), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn get_wave(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let (_, q) = wave_for(&st, &p, id).await?;
    let w = store::get_wave(&st.db, p.city_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound("wave".into()))?;
    let quotas = store::quota_progress(&st.db, p.city_id, id, &p.scope.prefix).await?;
    let margins = store::margins(&st.db, p.city_id, id).await?;
    let mut wj = serde_json::to_value(&w).unwrap_or_default();
    if !manages(&p, &w) {
        wj["open_token"] = Value::Null;
    }
    Ok(Json(
        json!({ "wave": wj, "questionnaire": {"id": q.id, "code": q.code, "version": q.version, "title_zh": q.title_zh, "title_en": q.title_en}, "quotas": quotas, "margins": margins }),
    ))
}

/// Wave status change (audited).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StatusBody {
    pub status: String,
}

#[utoipa::path(post, path = "/api/v1/survey/waves/{id}/status", params(("id" = i64, Path, description = "id of the survey wave")), tag = "survey", operation_id = "wave_set_status", request_body = StatusBody, responses((status = 200, body = Wave), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn set_status(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StatusBody>,
) -> Result<Json<Wave>, ApiError> {
    wave_to_manage(&st, &p, id).await?;
    Ok(Json(
        service::set_wave_status(&st.db, &p, id, &b.status).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/survey/waves/{id}/margins", params(("id" = i64, Path, description = "id of the survey wave")), tag = "survey", responses((status = 200, description = "`{margins: [MarginCell]}`", body = Object)))]
async fn get_margins(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    wave_for(&st, &p, id).await?;
    Ok(Json(
        json!({ "margins": store::margins(&st.db, p.city_id, id).await? }),
    ))
}

#[derive(Deserialize)]
struct MarginsBody {
    margins: Vec<MarginCell>,
}

#[utoipa::path(post, path = "/api/v1/survey/waves/{id}/margins", params(("id" = i64, Path, description = "id of the survey wave")), tag = "survey", request_body(content = Object, description = "`{margins: [MarginCell]}`; every variable sums to the same population total"), responses((status = 200, description = "`{margins}`", body = Object), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn set_margins(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MarginsBody>,
) -> Result<Json<Value>, ApiError> {
    wave_to_manage(&st, &p, id).await?;
    service::set_margins(&st.db, &p, id, &b.margins).await?;
    Ok(Json(json!({ "margins": b.margins })))
}

#[utoipa::path(get, path = "/api/v1/survey/waves/{id}/quotas", params(("id" = i64, Path, description = "id of the survey wave")), tag = "survey", responses((status = 200, description = "`{quotas: [QuotaProgress]}` live progress", body = Object)))]
async fn get_progress(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    wave_for(&st, &p, id).await?;
    Ok(Json(
        json!({ "quotas": store::quota_progress(&st.db, p.city_id, id, &p.scope.prefix).await? }),
    ))
}

#[derive(Deserialize)]
struct QuotasBody {
    quotas: Vec<QuotaCell>,
}

#[utoipa::path(post, path = "/api/v1/survey/waves/{id}/quotas", params(("id" = i64, Path, description = "id of the survey wave")), tag = "survey", request_body(content = Object, description = "`{quotas: [QuotaCell]}`"), responses((status = 200, description = "`{quotas: [QuotaProgress]}`", body = Object), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn set_quotas(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<QuotasBody>,
) -> Result<Json<Value>, ApiError> {
    wave_to_manage(&st, &p, id).await?;
    let quotas = service::set_quotas(&st.db, &p, id, &b.quotas).await?;
    Ok(Json(json!({ "quotas": quotas })))
}

#[derive(Deserialize)]
struct InvitationsBody {
    count: usize,
    label: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/survey/waves/{id}/invitations", params(("id" = i64, Path, description = "id of the survey wave")), tag = "survey", request_body(content = Object, description = "`{count, label?}`"), responses((status = 201, description = "`{tokens, links}`", body = Object)))]
async fn create_invitations(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<InvitationsBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    wave_to_manage(&st, &p, id).await?;
    let tokens = service::invite(&st.db, &p, id, b.count, b.label.as_deref()).await?;
    let links: Vec<String> = tokens.iter().map(|t| format!("/s/{t}")).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "tokens": tokens, "links": links })),
    ))
}

/// One fieldwork response in a JSON upload.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct UploadItem {
    pub external_id: Option<String>,
    #[serde(default = "phone")]
    pub mode: String,
    pub duration_s: Option<f64>,
    /// Answers by question code: numbers, strings, or arrays for multiple choice.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Value>,
}

fn phone() -> String {
    "phone".into()
}

#[derive(Deserialize)]
struct UploadBody {
    responses: Vec<UploadItem>,
}

fn raw_of(v: &Value) -> RawAnswer {
    match v {
        Value::Array(xs) => RawAnswer::Many(xs.iter().map(crate::model::value_text).collect()),
        Value::Null => RawAnswer::Text(String::new()),
        v => RawAnswer::Text(crate::model::value_text(v)),
    }
}

/// 422 problem+json listing every row error.
fn row_errors(errors: &[RowError]) -> Response {
    let first = errors.first();
    let body = json!({
        "type": "/problems/validation_failed",
        "title": "Unprocessable Entity",
        "status": 422,
        "code": "validation_failed",
        "detail": first.map(|e| format!("row {}: {}: {}", e.row, e.field, e.message)).unwrap_or_default(),
        "field": first.map(|e| e.field.clone()),
        "errors": errors,
    });
    let mut r = (StatusCode::UNPROCESSABLE_ENTITY, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    r
}

async fn store_batch(
    st: &AppState,
    p: &Principal,
    id: i64,
    subs: Vec<Submission>,
    source: BatchSource,
) -> Result<Response, AppError> {
    let (w, q) = wave_to_manage(st, p, id).await?;
    let districts: Vec<String> = districts(st, p.city_id)
        .await?
        .into_iter()
        .map(|d| d.0)
        .collect();
    // Group commit: `201` is sent only after the writer's transaction is committed.
    let writer = GroupCommit::for_server(st, "survey");
    match service::add_responses(&writer, p, w, q.definition, districts, subs, source).await? {
        Ok(ids) => Ok((StatusCode::CREATED, Json(json!({ "accepted": ids.len(), "ids": ids.iter().map(|i| i.to_string()).collect::<Vec<_>>() }))).into_response()),
        Err(errors) => Ok(row_errors(&errors)),
    }
}

#[utoipa::path(post, path = "/api/v1/survey/waves/{id}/responses", params(("id" = i64, Path, description = "id of the survey wave")), tag = "survey", request_body(content = Object, description = "`{responses: [UploadItem]}`; all-or-nothing"), responses((status = 201, description = "`{accepted, ids}`", body = Object), (status = 422, description = "problem+json with `errors: [RowError]`")))]
async fn upload_responses(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<UploadBody>,
) -> Result<Response, ApiError> {
    let subs = b
        .responses
        .iter()
        .map(|it| Submission {
            raw: it
                .answers
                .iter()
                .map(|(k, v)| (k.clone(), raw_of(v)))
                .collect(),
            mode: it.mode.clone(),
            source: "api",
            invitation: None,
            respondent_key: None,
            external_id: it.external_id.clone(),
            started_at: Utc::now(),
            duration_s: it.duration_s,
        })
        .collect();
    Ok(store_batch(&st, &p, id, subs, BatchSource::Upload).await?)
}

#[derive(Deserialize)]
struct ImportQuery {
    format: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/survey/waves/{id}/import", tag = "survey", params(("id" = i64, Path, description = "id of the survey wave"), ("format" = Option<String>, Query, description = "csv or xlsx")), request_body(content = String, description = "CSV (UTF-8 or GBK) or XLSX file body"), responses((status = 201, description = "`{accepted, ids}`", body = Object), (status = 413, description = "over an upload byte limit (problem+json)"), (status = 422, description = "problem+json with `errors: [RowError]`, or naming the row / column limit passed")))]
async fn import_file(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(qy): ApiQuery<ImportQuery>,
    up: Upload,
) -> Result<Response, ApiError> {
    let ct = up.content_type.to_ascii_lowercase();
    let body = up.bytes;
    let limits = up.limits;
    let xlsx = match qy.format.as_deref() {
        Some("xlsx") => true,
        Some("csv") => false,
        Some(other) => {
            return Err(
                AppError::validation("format", format!("`{other}` is not csv or xlsx")).into(),
            );
        }
        None => ct.contains("spreadsheetml") || body.starts_with(b"PK"),
    };
    let subs = match tokio::task::spawn_blocking(move || collect::parse_file(&body, xlsx, &limits))
        .await
        .map_err(AppError::internal)?
    {
        Ok(s) => s,
        Err(Ok(e)) => return Ok(row_errors(&[e])),
        Err(Err(refused)) => return Err(AppError::Upload(refused).into()),
    };
    Ok(store_batch(&st, &p, id, subs, BatchSource::Import).await?)
}

#[utoipa::path(get, path = "/api/v1/survey/waves/{id}/responses", tag = "survey", params(("id" = i64, Path, description = "id of the survey wave"), ResponseFilter), responses((status = 200, description = "`{total, responses: [Response]}` in the caller's region scope", body = Object)))]
async fn list_responses(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<ResponseFilter>,
) -> Result<Json<Value>, ApiError> {
    wave_for(&st, &p, id).await?;
    let (rs, total) = store::list_responses(&st.db, &p.scope, id, &f).await?;
    Ok(Json(json!({ "total": total, "responses": rs })))
}

#[utoipa::path(get, path = "/api/v1/survey/responses/{id}", params(("id" = i64, Path, description = "id of the survey response")), tag = "survey", responses((status = 200, body = store::Response), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn get_response(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<store::Response>, ApiError> {
    p.require_any(crate::READERS)?;
    Ok(Json(
        store::get_response_scoped(&st.db, &p.scope, id)
            .await?
            .ok_or_else(|| AppError::NotFound("response".into()))?,
    ))
}

/// An analyst's include/exclude decision.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// `include`, `exclude` or `auto`.
    pub decision: String,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/survey/responses/{id}/decision", params(("id" = i64, Path, description = "id of the survey response")), tag = "survey", request_body = DecisionBody, responses((status = 200, body = store::Response), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn decide(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> Result<Json<store::Response>, ApiError> {
    p.require(Capability::ManageSurvey)?;
    Ok(Json(
        service::decide(&st.db, &p, id, &b.decision, &b.reason).await?,
    ))
}

/// The analysis of a wave for a city (no scope filter), with last year's wave for the change.
pub async fn wave_analysis(
    db: &sea_orm::DatabaseConnection,
    city_id: i64,
    w: &Wave,
    with_model: bool,
) -> Result<Analysis, AppError> {
    let q = store::get_questionnaire(db, city_id, w.questionnaire_id)
        .await?
        .ok_or_else(|| AppError::NotFound("questionnaire".into()))?;
    let names: DistrictNames = store::city_districts(db, city_id)
        .await?
        .into_iter()
        .map(|(c, zh, en)| (c, (zh, en)))
        .collect();
    // Last year's wave (closed or published) for the year-on-year change.
    let prev_wave = store::waves_in_status(db, city_id, &["closed", "published"])
        .await?
        .into_iter()
        .find(|x| x.year == w.year - 1);
    let prev = match prev_wave {
        Some(pw) => {
            let pq = store::get_questionnaire(db, city_id, pw.questionnaire_id).await?;
            let prs = store::analysis_responses(db, city_id, pw.id).await?;
            let pm = store::margins(db, city_id, pw.id).await?;
            let names2 = names.clone();
            match pq {
                Some(pq) => tokio::task::spawn_blocking(move || {
                    analysis::analyse(&pw, &pq.definition, &prs, 0, &pm, &names2, None, false).ok()
                })
                .await
                .map_err(AppError::internal)?,
                None => None,
            }
        }
        None => None,
    };
    let rs = store::analysis_responses(db, city_id, w.id).await?;
    let total = store::count_complete(db, city_id, w.id).await? as usize;
    let excluded = total.saturating_sub(rs.len());
    let margins = store::margins(db, city_id, w.id).await?;
    let w2 = w.clone();
    let prev_id = prev.as_ref().map(|a| a.wave_id);
    let mut a = tokio::task::spawn_blocking(move || {
        analysis::analyse(
            &w2,
            &q.definition,
            &rs,
            excluded,
            &margins,
            &names,
            prev.as_ref(),
            with_model,
        )
    })
    .await
    .map_err(AppError::internal)?
    .map_err(|e| {
        AppError::conflict(
            ConflictCode::Conflict,
            format!("analysis not possible: {e}"),
        )
    })?;
    a.previous_wave_id = prev_id;
    Ok(a)
}

/// The analysis as a principal sees it: districts and suggestions limited to the scope.
pub async fn scoped_analysis(
    st: &AppState,
    p: &Principal,
    id: i64,
) -> Result<(Wave, Analysis), AppError> {
    let (w, _) = wave_for(st, p, id).await?;
    let mut a = wave_analysis(&st.db, p.city_id, &w, true).await?;
    a.districts
        .retain(|d| p.scope.contains(p.city_id, &d.region_code));
    a.suggestions.items.retain(|s| {
        s.region_code
            .as_deref()
            .is_some_and(|c| p.scope.contains(p.city_id, c))
    });
    Ok((w, a))
}

#[utoipa::path(get, path = "/api/v1/survey/waves/{id}/analysis", params(("id" = i64, Path, description = "id of the survey wave")), tag = "survey", responses((status = 200, body = Analysis), (status = 409, body = qcity_platform::web::error::Problem)))]
async fn get_analysis(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Analysis>, ApiError> {
    Ok(Json(scoped_analysis(&st, &p, id).await?.1))
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/survey/waves/{id}/analysis.csv", tag = "survey", operation_id = "wave_analysis_csv", params(("id" = i64, Path, description = "id of the survey wave"), ("lang" = Option<String>, Query, description = "zh-CN (default) or en labels")), responses((status = 200, description = "labelled CSV", content_type = "text/csv", body = String)))]
async fn export_csv(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(l): ApiQuery<LangQuery>,
) -> Result<Response, ApiError> {
    let (w, a) = scoped_analysis(&st, &p, id).await?;
    let en = l.lang.as_deref() == Some("en");
    let text = crate::export::csv(&a, en).map_err(AppError::internal)?;
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"survey-{}-{}.csv\"",
        w.year, w.id
    )) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[utoipa::path(get, path = "/api/v1/survey/waves/{id}/analysis.xlsx", tag = "survey", operation_id = "wave_analysis_xlsx", params(("id" = i64, Path, description = "id of the survey wave"), ("lang" = Option<String>, Query)), responses((status = 200, description = "workbook: scores, model, IPA, suggestions, method", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn export_xlsx(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(l): ApiQuery<LangQuery>,
) -> Result<Response, ApiError> {
    let (w, a) = scoped_analysis(&st, &p, id).await?;
    let en = l.lang.as_deref() == Some("en");
    let bytes = tokio::task::spawn_blocking(move || crate::export::xlsx(&a, en))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let mut r = bytes.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"survey-{}-{}.xlsx\"",
        w.year, w.id
    )) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
