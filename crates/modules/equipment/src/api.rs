//! The JSON API of the equipment module under `/api/v1`.

use crate::domain::EquipmentStatus;
use crate::fsm::Timers;
use crate::incidents::{self, AlarmFrame, IncidentFilter, IntakeOpts, NewIncident, TransitionReq};
use crate::registry::{
    self, EquipmentFilter, NewCompany, NewEquipment, NewInspection, NewMaintenance,
};
use crate::service;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qcity_platform::Scope;
use qcity_platform::audit::Actor;
use qcity_platform::auth::{Capability, Forbidden, Principal};
use qcity_platform::upload::Upload;
use qcity_platform::web::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, AppError, AppState};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The module's `/api/v1` routes with their OpenAPI paths, declared once.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(EquipmentApi::openapi())
        .routes(routes!(list_equipment, create_equipment))
        .routes(routes!(export_csv))
        .routes(routes!(export_xlsx))
        .routes(routes!(template_xlsx))
        .routes(routes!(template_csv))
        .routes(routes!(import_csv))
        .routes(routes!(list_companies, create_company))
        .routes(routes!(list_cycles))
        .routes(routes!(update_cycle))
        .routes(routes!(get_timers, set_timers))
        .routes(routes!(maintenance_overdue))
        .routes(routes!(risk))
        .routes(routes!(rectify))
        .routes(routes!(get_equipment))
        .routes(routes!(set_status))
        .routes(routes!(get_schedule))
        .routes(routes!(list_inspections, record_inspection))
        .routes(routes!(record_maintenance))
        .routes(routes!(list_incidents, create_incident))
        .routes(routes!(get_incident))
        .routes(routes!(transition))
        .routes(routes!(iot_alarms))
        .routes(routes!(iot_summary))
        .routes(routes!(kpis))
}

#[derive(OpenApi)]
#[openapi(components(schemas(
    registry::Equipment,
    registry::NewEquipment,
    registry::Company,
    registry::NewCompany,
    registry::Cycle,
    registry::NewInspection,
    registry::Inspection,
    registry::NewMaintenance,
    registry::Maintenance,
    registry::CompanyMaintenance,
    registry::RiskRow,
    incidents::Incident,
    incidents::NewIncident,
    incidents::TransitionReq,
    incidents::TimelineEvent,
    incidents::AlarmFrame,
    incidents::AlarmOutcome,
    incidents::ElevatorKpis,
    incidents::CompanyKpi,
    Timers,
    crate::fsm::Deadlines,
    crate::fsm::Milestones,
    EquipmentPage,
    StatusReq,
    registry::CycleEdit,
    registry::InspectionPlan,
    registry::PlanYear,
    incidents::TimersReq,
    RectifyReq,
    Imported
)))]
pub struct EquipmentApi;

type ApiResult<T> = Result<T, ApiError>;

/// Whether the principal's region scope is the whole city: city-wide configuration
/// (inspection cycles) is theirs to change, not a district's.
pub fn city_wide(p: &Principal) -> bool {
    p.scope.contains(p.city_id, &p.city_code)
}

/// Who may read the registry and incidents: everyone with a view right, dispatchers, and
/// maintenance engineers (their own company only).
pub const VIEW_CAPS: [Capability; 4] = [
    Capability::ViewAll,
    Capability::DispatchIncidents,
    Capability::RespondIncidents,
    Capability::RecordMaintenance,
];

/// What the principal may read of the registry and incidents, if they may read them at all
/// ([`VIEW_CAPS`]): the API's, the pages' and the dashboard's one check.
pub fn view(p: &Principal) -> Result<Scope, Forbidden> {
    p.require_any(&VIEW_CAPS)?;
    Ok(Scope::of(p))
}

/// A page of the registry.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EquipmentPage {
    pub items: Vec<registry::Equipment>,
    pub total: u64,
    pub page: u64,
    pub limit: u64,
}

#[utoipa::path(get, path = "/api/v1/equipment", params(EquipmentFilter), responses((status = 200, body = EquipmentPage)))]
async fn list_equipment(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<EquipmentFilter>,
) -> ApiResult<Json<EquipmentPage>> {
    let s = view(&p)?;
    let (items, total) = registry::list_equipment(&st.db, &s, &f).await?;
    Ok(Json(EquipmentPage {
        items,
        total,
        page: u64::from(f.page.unwrap_or(0)),
        limit: u64::from(f.limit.unwrap_or(50).clamp(1, 1000)),
    }))
}

#[utoipa::path(post, path = "/api/v1/equipment", request_body = NewEquipment, responses((status = 201, body = registry::Equipment), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn create_equipment(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(n): ApiJson<NewEquipment>,
) -> ApiResult<(StatusCode, Json<registry::Equipment>)> {
    p.require(Capability::ManageEquipment)?;
    let e = service::create_equipment(&st.db, &p, &n).await?;
    Ok((StatusCode::CREATED, Json(e)))
}

#[utoipa::path(get, path = "/api/v1/equipment/{id}", params(("id" = i64, Path, description = "id of the equipment")), responses((status = 200, body = registry::Equipment), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn get_equipment(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<registry::Equipment>> {
    let s = view(&p)?;
    let e = registry::equipment(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("equipment".into()))?;
    Ok(Json(e))
}

/// The elevator inspection plan (TSG T7001-2023): periodic and self-testing (自行检测) years.
/// `404` for equipment out of scope or without a scheduled cycle.
#[utoipa::path(get, path = "/api/v1/equipment/{id}/schedule", params(("id" = i64, Path, description = "id of the equipment")), responses((status = 200, body = registry::InspectionPlan), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn get_schedule(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<registry::InspectionPlan>> {
    let s = view(&p)?;
    let e = registry::equipment(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("equipment".into()))?;
    let plan = registry::inspection_plan(&st.db, p.city_id, &e)
        .await?
        .ok_or_else(|| AppError::NotFound("inspection schedule".into()))?;
    Ok(Json(plan))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StatusReq {
    /// `registered`, `in_use`, `suspended` or `scrapped`.
    pub status: String,
}

#[utoipa::path(post, path = "/api/v1/equipment/{id}/status", params(("id" = i64, Path, description = "id of the equipment")), request_body = StatusReq, responses((status = 200, body = registry::Equipment), (status = 409, body = qcity_platform::web::error::Problem)))]
async fn set_status(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<StatusReq>,
) -> ApiResult<Json<registry::Equipment>> {
    p.require(Capability::ManageEquipment)?;
    let to = EquipmentStatus::parse(&r.status).ok_or_else(|| {
        AppError::validation("status", "registered, in_use, suspended or scrapped")
    })?;
    Ok(Json(service::set_status(&st.db, &p, id, to).await?))
}

#[utoipa::path(get, path = "/api/v1/equipment/export.csv", params(EquipmentFilter), responses((status = 200, content_type = "text/csv", body = String)))]
async fn export_csv(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<EquipmentFilter>,
) -> ApiResult<Response> {
    let s = view(&p)?;
    let bytes = registry::export_csv(&st.db, &s, &f).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"equipment.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The registry as XLSX: the CSV export's columns.
#[utoipa::path(get, path = "/api/v1/equipment/export.xlsx", params(EquipmentFilter), responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn export_xlsx(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<EquipmentFilter>,
) -> ApiResult<Response> {
    let s = view(&p)?;
    let bytes = registry::export_xlsx(&st.db, &s, &f).await?;
    Ok((
        [
            (header::CONTENT_TYPE, XLSX),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"equipment.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The import template as XLSX: the import columns (text-formatted) and a help sheet.
#[utoipa::path(get, path = "/api/v1/equipment/import-template.xlsx", responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
async fn template_xlsx(ApiUser(p): ApiUser) -> ApiResult<Response> {
    view(&p)?;
    let bytes = tokio::task::spawn_blocking(|| registry::template(true))
        .await
        .map_err(AppError::internal)??;
    Ok((
        [
            (header::CONTENT_TYPE, XLSX),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"equipment-template.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The import template as CSV: the header row.
#[utoipa::path(get, path = "/api/v1/equipment/import-template.csv", responses((status = 200, content_type = "text/csv", body = String)))]
async fn template_csv(ApiUser(p): ApiUser) -> ApiResult<Response> {
    view(&p)?;
    let bytes = registry::template(false)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"equipment-template.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub imported: usize,
}

/// Imports a CSV (UTF-8) or XLSX workbook (first sheet; told apart by its bytes) with the
/// export's header row; all-or-nothing, errors name the row and column.
#[utoipa::path(post, path = "/api/v1/equipment/import", request_body(content = String, content_type = "text/csv"), responses((status = 201, body = Imported), (status = 413, description = "over `upload.max_bytes` or `upload.max_decompressed_bytes`", body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn import_csv(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    up: Upload,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    p.require(Capability::ManageEquipment)?;
    let format = if registry::is_xlsx(&up.bytes) {
        "xlsx"
    } else {
        "csv"
    };
    let table = tokio::task::spawn_blocking(move || registry::read_upload(&up.bytes, &up.limits))
        .await
        .map_err(AppError::internal)??;
    let n = service::import_equipment(&st.db, &p, format, table).await?;
    Ok((StatusCode::CREATED, Json(Imported { imported: n })))
}

#[utoipa::path(get, path = "/api/v1/equipment/companies", responses((status = 200, body = Vec<registry::Company>)))]
async fn list_companies(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> ApiResult<Json<Vec<registry::Company>>> {
    view(&p)?;
    Ok(Json(registry::companies(&st.db, p.city_id).await?))
}

#[utoipa::path(post, path = "/api/v1/equipment/companies", request_body = NewCompany, responses((status = 201, body = registry::Company)))]
async fn create_company(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(n): ApiJson<NewCompany>,
) -> ApiResult<(StatusCode, Json<registry::Company>)> {
    p.require(Capability::ManageEquipment)?;
    let c = service::create_company(&st.db, &p, &n).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[utoipa::path(get, path = "/api/v1/equipment/cycles", responses((status = 200, body = Vec<registry::Cycle>)))]
async fn list_cycles(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> ApiResult<Json<Vec<registry::Cycle>>> {
    view(&p)?;
    Ok(Json(registry::cycles(&st.db, p.city_id).await?))
}

/// Edits a cycle row; the elevator row also takes `schedule_years` and `early_months`. Cycles
/// are city-wide: only a user whose scope is the whole city may change them.
#[utoipa::path(post, path = "/api/v1/equipment/cycles/{id}", params(("id" = i64, Path, description = "id of the inspection cycle")), request_body = registry::CycleEdit, responses((status = 200, body = Vec<registry::Cycle>), (status = 403, description = "not a city-wide inspector or admin", body = qcity_platform::web::error::Problem)))]
async fn update_cycle(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<registry::CycleEdit>,
) -> ApiResult<Json<Vec<registry::Cycle>>> {
    p.require(Capability::ManageEquipment)?;
    if !city_wide(&p) {
        return Err(AppError::Forbidden.into());
    }
    Ok(Json(service::update_cycle(&st.db, &p, id, &r).await?))
}

#[utoipa::path(get, path = "/api/v1/equipment/timers", params(("region_code" = Option<String>, Query, description = "the region whose timers apply; the caller's own region when absent")), responses((status = 200, body = Timers)))]
async fn get_timers(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<std::collections::HashMap<String, String>>,
) -> ApiResult<Json<Timers>> {
    view(&p)?;
    let r = q
        .get("region_code")
        .cloned()
        .unwrap_or_else(|| p.scope.root.clone());
    Ok(Json(incidents::timers_for(&st.db, p.city_id, &r).await?))
}

/// Sets a region's 96333 timers (missing values keep the current ones).
#[utoipa::path(post, path = "/api/v1/equipment/timers", request_body = incidents::TimersReq, responses((status = 200, body = Timers)))]
async fn set_timers(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(r): ApiJson<incidents::TimersReq>,
) -> ApiResult<Json<Timers>> {
    p.require_any(&[Capability::ManageEquipment, Capability::DispatchIncidents])?;
    Ok(Json(service::set_timers(&st.db, &p, &r).await?))
}

#[utoipa::path(post, path = "/api/v1/equipment/{id}/inspections", params(("id" = i64, Path, description = "id of the equipment")), request_body = NewInspection, responses((status = 201, body = registry::Inspection)))]
async fn record_inspection(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(n): ApiJson<NewInspection>,
) -> ApiResult<(StatusCode, Json<registry::Inspection>)> {
    p.require(Capability::RecordInspections)?;
    let i = service::record_inspection(&st.db, &p, id, &n).await?;
    Ok((StatusCode::CREATED, Json(i)))
}

#[utoipa::path(get, path = "/api/v1/equipment/{id}/inspections", params(("id" = i64, Path, description = "id of the equipment")), responses((status = 200, body = Vec<registry::Inspection>)))]
async fn list_inspections(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<registry::Inspection>>> {
    let s = view(&p)?;
    registry::equipment(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("equipment".into()))?;
    Ok(Json(registry::inspections_of(&st.db, p.city_id, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RectifyReq {
    pub rectified_on: chrono::NaiveDate,
}

#[utoipa::path(post, path = "/api/v1/equipment/inspections/{id}/rectify", params(("id" = i64, Path, description = "id of the inspection")), request_body = RectifyReq, responses((status = 200, body = registry::Inspection)))]
async fn rectify(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<RectifyReq>,
) -> ApiResult<Json<registry::Inspection>> {
    p.require(Capability::RecordInspections)?;
    let i = service::close_rectification(&st.db, &p, id, r.rectified_on).await?;
    Ok(Json(i))
}

#[utoipa::path(post, path = "/api/v1/equipment/{id}/maintenance", params(("id" = i64, Path, description = "id of the equipment")), request_body = NewMaintenance, responses((status = 201, body = registry::Maintenance)))]
async fn record_maintenance(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(n): ApiJson<NewMaintenance>,
) -> ApiResult<(StatusCode, Json<registry::Maintenance>)> {
    p.require(Capability::RecordMaintenance)?;
    let m = service::record_maintenance(&st.db, &p, id, &n).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

#[utoipa::path(get, path = "/api/v1/equipment/maintenance/overdue", responses((status = 200, body = Vec<registry::CompanyMaintenance>)))]
async fn maintenance_overdue(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> ApiResult<Json<Vec<registry::CompanyMaintenance>>> {
    let s = view(&p)?;
    Ok(Json(
        registry::maintenance_overdue_by_company(&st.db, &s).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskQuery {
    pub region: Option<String>,
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/equipment/risk", params(RiskQuery), responses((status = 200, body = Vec<registry::RiskRow>)))]
async fn risk(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<RiskQuery>,
) -> ApiResult<Json<Vec<registry::RiskRow>>> {
    let s = view(&p)?;
    Ok(Json(
        registry::risk_list(
            &st.db,
            &s,
            q.region.as_deref(),
            q.limit.unwrap_or(100).clamp(1, 5000),
        )
        .await?,
    ))
}

/// Creates an incident (received → located). `201` only after the durable commit; a retry with
/// the same `Idempotency-Key` returns the same incident with `200`.
#[utoipa::path(post, path = "/api/v1/incidents", request_body = NewIncident, params(("Idempotency-Key" = Option<String>, Header)), responses((status = 201, body = incidents::Incident), (status = 200, description = "replay of an earlier request with the same Idempotency-Key", body = incidents::Incident), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn create_incident(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    headers: HeaderMap,
    ApiJson(n): ApiJson<NewIncident>,
) -> ApiResult<Response> {
    p.require(Capability::DispatchIncidents)?;
    let key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| AppError::validation("Idempotency-Key", "must be ASCII"))
        })
        .transpose()?;
    let opts = IntakeOpts {
        idem_key: key,
        ..Default::default()
    };
    // Group commit: one fsync for every intake waiting; `201` only after it.
    let gc = incidents::intake_writer(&st);
    let (i, created) =
        incidents::create_grouped(&gc, &st.db, &Scope::of(&p), &Actor::from(&p), &n, &opts).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Json(i)).into_response();
    if !created {
        resp.headers_mut().insert(
            "idempotent-replayed",
            header::HeaderValue::from_static("true"),
        );
    }
    Ok(resp)
}

#[utoipa::path(get, path = "/api/v1/incidents", params(IncidentFilter), responses((status = 200, body = Vec<incidents::Incident>)))]
async fn list_incidents(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<IncidentFilter>,
) -> ApiResult<Json<Vec<incidents::Incident>>> {
    let s = view(&p)?;
    Ok(Json(incidents::list(&st.db, &s, &f).await?))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", params(("id" = i64, Path, description = "id of the incident")), responses((status = 200, body = incidents::Incident), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn get_incident(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<incidents::Incident>> {
    let s = view(&p)?;
    Ok(Json(
        incidents::get(&st.db, &s, id, true)
            .await?
            .ok_or_else(|| AppError::NotFound("incident".into()))?,
    ))
}

/// Moves an incident to another state: `{"to": STATE}`, optionally with the `version` last seen
/// (in the body or as `If-Match`). An illegal transition is `409` with `code`
/// `illegal_transition`, a stale version `409` with `code` `stale_version`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/transitions", request_body = TransitionReq, params(("id" = i64, Path, description = "incident id"), ("If-Match" = Option<String>, Header, description = "the incident version last seen, e.g. `\"3\"` (instead of `version` in the body)")), responses((status = 200, body = incidents::Incident), (status = 409, description = "`illegal_transition` or `stale_version`", body = qcity_platform::web::error::Problem)))]
async fn transition(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(mut r): ApiJson<TransitionReq>,
) -> ApiResult<Json<incidents::Incident>> {
    p.require_any(&[Capability::DispatchIncidents, Capability::RespondIncidents])?;
    if let Some(v) = if_match_version(&headers)? {
        match r.version {
            Some(b) if b != v => {
                return Err(AppError::validation(
                    "version",
                    format!("the body says version {b}, If-Match says {v}"),
                )
                .into());
            }
            _ => r.version = Some(v),
        }
    }
    let channel = headers
        .get("x-channel")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("api")
        .chars()
        .take(32)
        .collect::<String>();
    let actor = incidents::Actor::of(&p, &channel);
    let i = incidents::transition(&st.db, &Scope::of(&p), &actor, id, &r).await?;
    Ok(Json(i))
}

/// The version in an `If-Match` header (`"3"`, `W/"3"` or `3`); `*` means any version.
fn if_match_version(headers: &HeaderMap) -> Result<Option<i32>, AppError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || AppError::validation("If-Match", "expected the incident version, e.g. \"3\"");
    let raw = v.to_str().map_err(|_| bad())?.trim();
    if raw == "*" {
        return Ok(None);
    }
    let raw = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    raw.parse().map(Some).map_err(|_| bad())
}

/// Elevator-monitor alarm frames: one object or an array. Needs a token (or session) allowed
/// to dispatch incidents.
#[utoipa::path(post, path = "/api/v1/iot/elevator-alarms", request_body = AlarmFrame, responses((status = 200, body = Vec<incidents::AlarmOutcome>)))]
async fn iot_alarms(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(v): ApiJson<serde_json::Value>,
) -> ApiResult<Json<Vec<incidents::AlarmOutcome>>> {
    p.require(Capability::DispatchIncidents)?;
    let frames: Vec<AlarmFrame> = match v {
        serde_json::Value::Array(_) => {
            serde_json::from_value(v).map_err(|e| AppError::validation("body", e.to_string()))?
        }
        other => vec![
            serde_json::from_value(other)
                .map_err(|e| AppError::validation("body", e.to_string()))?,
        ],
    };
    if frames.len() > 1000 {
        return Err(AppError::validation("body", "at most 1000 frames per request").into());
    }
    let out = crate::ingest_batch(&st.db, &Scope::of(&p), &frames, "http").await?;
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/v1/iot/elevator-alarms/summary", responses((status = 200, description = "frame counts by outcome over 30 days (of the elevators in the caller's region and, for maintenance engineers, company) and, for city-wide users, the latest frames from unknown elevators", body = Object)))]
async fn iot_summary(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> ApiResult<Json<serde_json::Value>> {
    let s = view(&p)?;
    let whole_city = city_wide(&p);
    let sum = crate::alarm_log::summary(&st.db, &s, whole_city, 30).await?;
    let unknown = crate::alarm_log::unknown(&st.db, &s, whole_city).await?;
    Ok(Json(serde_json::json!({
        "last_30_days": sum,
        "unknown_elevators": unknown.into_iter().map(|(at, rc, dev, code)| serde_json::json!({"received_at": at, "rescue_code": rc, "device_id": dev, "alarm_code": code})).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// Region code (default: the caller's root).
    pub region: Option<String>,
    /// `YYYY-MM` (default: the current month).
    pub month: Option<String>,
    /// A whole year instead of a month (1900–2200).
    #[serde(
        default,
        deserialize_with = "qcity_platform::web::api_extract::opt_year"
    )]
    #[param(minimum = 1900, maximum = 2200)]
    pub year: Option<i32>,
}

#[utoipa::path(get, path = "/api/v1/kpis/elevators", params(KpiQuery), responses((status = 200, body = incidents::ElevatorKpis)))]
async fn kpis(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> ApiResult<Json<incidents::ElevatorKpis>> {
    let s = view(&p)?;
    Ok(Json(kpi_for(&st, &p, &s, &q).await?))
}

pub async fn kpi_for(
    st: &AppState,
    p: &Principal,
    s: &Scope,
    q: &KpiQuery,
) -> Result<incidents::ElevatorKpis, AppError> {
    let region = q
        .region
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| p.scope.root.clone());
    if !p.scope.contains(p.city_id, &region) {
        return Err(AppError::NotFound("region".into()));
    }
    if let Some(y) = q.year {
        return Ok(incidents::kpis_year(&st.db, s, &region, y).await?);
    }
    let month = q
        .month
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| registry::today().format("%Y-%m").to_string());
    let (a, b) = incidents::month_range(&month)?;
    Ok(incidents::kpis(&st.db, s, &region, &month, a, b, 1).await?)
}
