//! JSON API of the metering module under `/api/v1`.

use crate::analysis::{self, Alert, DayCheck, MonthCheck, Savings, UnitEnergy, VeeReport};
use crate::domain;
use crate::service;
use crate::store::{
    self, Coverage, IngestReport, Meter, NewMeter, NewUnit, RawReading, Scope, Unit,
};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use qcity_platform::auth::{Capability, Principal, Role};
use qcity_platform::upload::{self, Limits, Upload};
use qcity_platform::web::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, AppError, AppState};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type ApiResult<T> = Result<T, ApiError>;

/// Largest accepted ingest body (64 MiB ≈ 1.5 million CSV rows).
pub const MAX_BODY: usize = store::READINGS_MAX_BYTES;

/// The module's `/api/v1` routes with their OpenAPI paths, declared once.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(MeteringApi::openapi())
        .routes(routes!(list_units, create_unit))
        .routes(routes!(get_unit))
        .routes(routes!(unit_energy))
        .routes(routes!(list_meters, create_meter))
        .routes(routes!(get_meter))
        .routes(routes!(series))
        .routes(routes!(checks))
        .routes(routes!(vee))
        .routes(routes!(detect))
        .routes(routes!(ingest))
        .routes(routes!(list_alerts))
        .routes(routes!(ack_alert))
        .routes(routes!(list_projects))
        .routes(routes!(project_savings))
        .routes(routes!(city_summary))
        .routes(routes!(list_weather, post_weather))
        .routes(routes!(meter_baseline))
        .routes(routes!(unit_baseline))
        .routes(routes!(get_hours, put_hours))
        .routes(routes!(get_settings, put_settings))
}

#[derive(OpenApi)]
#[openapi(
    components(schemas(
        Unit,
        NewUnit,
        Meter,
        NewMeter,
        RawReading,
        IngestReport,
        store::Reject,
        store::Point,
        Coverage,
        store::CoverageRow,
        UnitEnergy,
        analysis::EnergyLine,
        DayCheck,
        MonthCheck,
        VeeReport,
        Alert,
        analysis::Project,
        Savings,
        UnitDetail,
        Checks,
        AckReq,
        crate::CityRow,
        crate::retention::Settings,
        crate::weather::TempRow,
        crate::weather::WeatherReport,
        crate::weather::TemperatureBaseline,
        crate::weather::BaselineDay,
        analysis::DayHours,
        Hours,
        DailyTemp
    )),
    tags((name = "metering", description = "能源计量 energy metering: units, meters, readings, checks, alerts, savings"))
)]
pub struct MeteringApi;

/// The scope of a principal that may see metering data, else 403.
pub fn view(p: &Principal) -> Result<Scope, AppError> {
    crate::store::scope_of(p).ok_or(AppError::Forbidden)
}

/// The scope of a principal that may manage metering (registers, checks, alerts), else 403.
fn need_manage(p: &Principal) -> Result<Scope, AppError> {
    p.require(Capability::ManageMetering)?;
    view(p)
}

fn parse_opt_ts(s: &Option<String>, field: &str) -> Result<Option<i64>, AppError> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => {
            let t = if t.len() == 10 {
                format!("{t} 00:00")
            } else {
                t.to_string()
            };
            let ts = domain::parse_ts(&t).map_err(|m| AppError::validation(field, m))?;
            // Years 1900–2200 (the API's bound on dates), so no date arithmetic overflows.
            let years = qcity_platform::web::api_extract::YEARS;
            if !(domain::year_start(*years.start())..domain::year_start(years.end() + 1))
                .contains(&ts)
            {
                return Err(AppError::validation(
                    field,
                    format!("must lie in the years {}–{}", years.start(), years.end()),
                ));
            }
            Ok(Some(ts))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Range {
    /// Start (date `YYYY-MM-DD`, local time or ISO 8601); default: 30 days before `to`.
    pub from: Option<String>,
    /// End, exclusive; default: now.
    pub to: Option<String>,
    /// Rollup grain: h, d or m (series only; default h).
    pub grain: Option<String>,
}

impl Range {
    pub fn resolve(&self, default_days: i64) -> Result<(i64, i64), AppError> {
        let to = parse_opt_ts(&self.to, "to")?
            .unwrap_or_else(|| domain::day_bucket(domain::now_ts()) + 86400);
        let from = parse_opt_ts(&self.from, "from")?.unwrap_or(to - default_days * 86400);
        if from >= to {
            return Err(AppError::validation(
                "from",
                "起始时间须早于结束时间 / from must be before to",
            ));
        }
        Ok((from, to))
    }

    /// [`Range::resolve`] for runs that write (VEE, detection): at most [`MAX_RUN_DAYS`].
    pub fn resolve_run(&self, default_days: i64) -> Result<(i64, i64), AppError> {
        let (from, to) = self.resolve(default_days)?;
        if to - from > MAX_RUN_DAYS * 86400 {
            return Err(AppError::validation(
                "from",
                format!(
                    "一次最多处理 {MAX_RUN_DAYS} 天 / from … to may span at most {MAX_RUN_DAYS} days"
                ),
            ));
        }
        Ok((from, to))
    }
}

/// Longest range a VEE or detection run covers.
pub const MAX_RUN_DAYS: i64 = 366;

#[utoipa::path(get, path = "/api/v1/metering/units", tag = "metering", responses((status = 200, body = [Unit])))]
async fn list_units(State(st): State<AppState>, ApiUser(p): ApiUser) -> ApiResult<Json<Vec<Unit>>> {
    let s = view(&p)?;
    Ok(Json(store::units(&st.db, &s).await?))
}

#[utoipa::path(post, path = "/api/v1/metering/units", tag = "metering", request_body = NewUnit, responses((status = 201, body = Unit), (status = 422, body = qcity_platform::web::error::Problem), (status = 409, body = qcity_platform::web::error::Problem)))]
async fn create_unit(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(n): ApiJson<NewUnit>,
) -> ApiResult<(StatusCode, Json<Unit>)> {
    need_manage(&p)?;
    if p.role == Role::EnergyManager {
        // An energy manager manages their own enterprise, not the register of units.
        return Err(AppError::Forbidden.into());
    }
    Ok((
        StatusCode::CREATED,
        Json(service::create_unit(&st.db, &p, &n).await?),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitDetail {
    pub unit: Unit,
    pub meters: Vec<Meter>,
    pub coverage: Coverage,
}

#[utoipa::path(get, path = "/api/v1/metering/units/{id}", params(("id" = i64, Path, description = "id of the energy-using unit")), tag = "metering", responses((status = 200, body = UnitDetail), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn get_unit(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<UnitDetail>> {
    let s = view(&p)?;
    let unit = store::unit(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("unit".into()))?;
    let meters = store::meters(&st.db, &s, Some(id)).await?;
    let coverage = store::coverage_of(&meters);
    Ok(Json(UnitDetail {
        unit,
        meters,
        coverage,
    }))
}

#[utoipa::path(get, path = "/api/v1/metering/units/{id}/energy", tag = "metering", params(("id" = i64, Path, description = "id of the energy-using unit"), Range), responses((status = 200, body = UnitEnergy), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn unit_energy(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(r): ApiQuery<Range>,
) -> ApiResult<Json<UnitEnergy>> {
    let s = view(&p)?;
    store::unit(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("unit".into()))?;
    let (from, to) = r.resolve(30)?;
    Ok(Json(analysis::unit_energy(&st.db, &s, id, from, to).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeterFilter {
    pub unit_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/metering/meters", tag = "metering", params(MeterFilter), responses((status = 200, body = [Meter])))]
async fn list_meters(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<MeterFilter>,
) -> ApiResult<Json<Vec<Meter>>> {
    let s = view(&p)?;
    Ok(Json(store::meters(&st.db, &s, f.unit_id).await?))
}

#[utoipa::path(post, path = "/api/v1/metering/meters", tag = "metering", request_body = NewMeter, responses((status = 201, body = Meter), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn create_meter(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(n): ApiJson<NewMeter>,
) -> ApiResult<(StatusCode, Json<Meter>)> {
    need_manage(&p)?;
    Ok((
        StatusCode::CREATED,
        Json(service::create_meter(&st.db, &p, &n).await?),
    ))
}

async fn meter_in_scope(st: &AppState, s: &Scope, id: i64) -> Result<Meter, AppError> {
    store::meter(&st.db, s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("meter".into()))
}

#[utoipa::path(get, path = "/api/v1/metering/meters/{id}", params(("id" = i64, Path, description = "id of the meter")), tag = "metering", responses((status = 200, body = Meter), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn get_meter(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Meter>> {
    let s = view(&p)?;
    Ok(Json(meter_in_scope(&st, &s, id).await?))
}

#[utoipa::path(get, path = "/api/v1/metering/meters/{id}/series", tag = "metering", params(("id" = i64, Path, description = "id of the meter"), Range), responses((status = 200, body = [store::Point]), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn series(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(r): ApiQuery<Range>,
) -> ApiResult<Json<Vec<store::Point>>> {
    let s = view(&p)?;
    let m = meter_in_scope(&st, &s, id).await?;
    let grain = r.grain.clone().unwrap_or_else(|| "h".into());
    if !["h", "d", "m"].contains(&grain.as_str()) {
        return Err(AppError::validation("grain", "must be h, d or m").into());
    }
    let (from, to) = r.resolve(if grain == "h" { 7 } else { 400 })?;
    Ok(Json(
        store::rollup_series(&st.db, p.city_id, m.id, &grain, from, to).await?,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Checks {
    /// Per-day completeness (≥ 90 % of expected intervals).
    pub completeness: Vec<DayCheck>,
    /// Per-month daily-vs-monthly consistency (≤ 5 %).
    pub consistency: Vec<MonthCheck>,
}

#[utoipa::path(get, path = "/api/v1/metering/meters/{id}/checks", tag = "metering", params(("id" = i64, Path, description = "id of the meter"), Range), responses((status = 200, body = Checks), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn checks(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(r): ApiQuery<Range>,
) -> ApiResult<Json<Checks>> {
    let s = view(&p)?;
    let m = meter_in_scope(&st, &s, id).await?;
    let (from, to) = r.resolve(30)?;
    Ok(Json(Checks {
        completeness: analysis::completeness(&st.db, p.city_id, &m, from, to).await?,
        consistency: analysis::consistency(&st.db, p.city_id, m.id, from, to).await?,
    }))
}

/// Validates, estimates and edits a meter's readings (audited `metering.readings.vee`); needs
/// the right to manage metering; the range spans at most 366 days.
#[utoipa::path(post, path = "/api/v1/metering/meters/{id}/vee", tag = "metering", params(("id" = i64, Path, description = "id of the meter"), Range), responses((status = 200, body = VeeReport), (status = 403, body = qcity_platform::web::error::Problem), (status = 404, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn vee(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(r): ApiQuery<Range>,
) -> ApiResult<Json<VeeReport>> {
    let s = need_manage(&p)?;
    let m = meter_in_scope(&st, &s, id).await?;
    let (from, to) = r.resolve_run(7)?;
    Ok(Json(service::run_vee(&st.db, &p, &m, from, to).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Detected {
    pub new_alerts: usize,
}

/// Runs anomaly detection on a meter, storing new alerts (audited `metering.meter.detect`);
/// needs the right to manage metering; the range spans at most 366 days.
#[utoipa::path(post, path = "/api/v1/metering/meters/{id}/detect", tag = "metering", params(("id" = i64, Path, description = "id of the meter"), Range), responses((status = 200, body = inline(Detected)), (status = 403, body = qcity_platform::web::error::Problem), (status = 404, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn detect(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(r): ApiQuery<Range>,
) -> ApiResult<Json<Detected>> {
    let s = need_manage(&p)?;
    let m = meter_in_scope(&st, &s, id).await?;
    let (from, to) = r.resolve_run(30)?;
    Ok(Json(Detected {
        new_alerts: service::detect(&st.db, &p, &m, from, to).await?,
    }))
}

/// Batch ingest: a JSON array of `{meter_id, ts, value}` (`Content-Type: application/json`) or
/// CSV `meter_id,timestamp,value` (`text/csv`). One transaction, committed before the answer;
/// idempotent on (meter, ts); bad rows are listed with their row number and reason.
#[utoipa::path(post, path = "/api/v1/meters/readings", tag = "metering", request_body(content = [RawReading], description = "JSON array, or text/csv with meter_id,timestamp,value"), responses((status = 200, body = IngestReport), (status = 413, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn ingest(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<IngestReport>> {
    let s = need_manage(&p)?;
    let limits = store::readings_limits(&Limits::from_config(&st.config.upload));
    let body = upload::read_body(&headers, body, limits.max_bytes).await?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (rows, rejects) = if ct.contains("csv") || ct.starts_with("text/plain") {
        tokio::task::spawn_blocking(move || store::parse_csv_within(&body, &limits))
            .await
            .map_err(AppError::internal)??
    } else {
        let v: Vec<RawReading> = serde_json::from_slice(&body).map_err(|e| {
            AppError::validation(
                "body",
                format!(
                    "JSON 数组格式错误 / expected a JSON array of {{meter_id, ts, value}}: {e}"
                ),
            )
        })?;
        store::parse_json_rows(&v)
    };
    let rep = store::ingest(&st.db, &s, rows, rejects).await?;
    Ok(Json(rep))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    /// `open` (default) or `all`.
    pub status: Option<String>,
    pub unit_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/metering/alerts", tag = "metering", params(AlertFilter), responses((status = 200, body = [Alert])))]
async fn list_alerts(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<AlertFilter>,
) -> ApiResult<Json<Vec<Alert>>> {
    let s = view(&p)?;
    let open = f.status.as_deref() != Some("all");
    Ok(Json(
        analysis::alerts(&st.db, &s, open, f.unit_id, 500).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AckReq {
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/metering/alerts/{id}/ack", params(("id" = i64, Path, description = "id of the alert")), tag = "metering", request_body = AckReq, responses((status = 200, body = Alert), (status = 404, body = qcity_platform::web::error::Problem), (status = 409, body = qcity_platform::web::error::Problem)))]
async fn ack_alert(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<AckReq>,
) -> ApiResult<Json<Alert>> {
    need_manage(&p)?;
    Ok(Json(service::ack_alert(&st.db, &p, id, &r.note).await?))
}

#[utoipa::path(get, path = "/api/v1/metering/projects", tag = "metering", params(MeterFilter), responses((status = 200, body = [analysis::Project])))]
async fn list_projects(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<MeterFilter>,
) -> ApiResult<Json<Vec<analysis::Project>>> {
    let s = view(&p)?;
    Ok(Json(analysis::projects(&st.db, &s, f.unit_id).await?))
}

#[utoipa::path(get, path = "/api/v1/metering/projects/{id}/savings", params(("id" = i64, Path, description = "id of the savings project")), tag = "metering", responses((status = 200, body = Savings), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn project_savings(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Savings>> {
    let s = view(&p)?;
    let pr = analysis::projects(&st.db, &s, None)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| AppError::NotFound("project".into()))?;
    Ok(Json(analysis::savings(&st.db, &s, &pr).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQ {
    /// Calendar year (1900–2200; default: the current one).
    #[serde(
        default,
        deserialize_with = "qcity_platform::web::api_extract::opt_year"
    )]
    #[param(minimum = 1900, maximum = 2200)]
    pub year: Option<i32>,
}

#[utoipa::path(get, path = "/api/v1/metering/city", tag = "metering", params(YearQ), responses((status = 200, body = [crate::CityRow])))]
async fn city_summary(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<YearQ>,
) -> ApiResult<Json<Vec<crate::CityRow>>> {
    let s = view(&p)?;
    let year = q.year.unwrap_or_else(|| {
        domain::local_date(domain::now_ts())
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2025)
    });
    Ok(Json(crate::city_rows(&st.db, &s, year).await?))
}

#[utoipa::path(get, path = "/api/v1/metering/settings", tag = "metering", responses((status = 200, body = crate::retention::Settings)))]
async fn get_settings(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> ApiResult<Json<crate::retention::Settings>> {
    view(&p)?;
    Ok(Json(crate::retention::settings(&st.db, p.city_id).await?))
}

/// Sets the city's metering settings (raw-data retention); administrators only, audited.
#[utoipa::path(put, path = "/api/v1/metering/settings", tag = "metering", request_body = crate::retention::Settings, responses((status = 200, body = crate::retention::Settings), (status = 403, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn put_settings(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<crate::retention::Settings>> {
    if p.role != Role::Admin {
        return Err(AppError::Forbidden.into());
    }
    // Read from an object only: serde would take `[null, null]` for this all-optional struct.
    let n: crate::retention::Settings = serde_json::from_value(serde_json::Value::Object(body))
        .map_err(|e| AppError::validation("body", e.to_string()))?;
    Ok(Json(service::update_settings(&st.db, &p, &n).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DailyTemp {
    /// Local-day start, epoch seconds.
    pub day: i64,
    pub temperature_c: f64,
}

#[utoipa::path(get, path = "/api/v1/metering/weather", tag = "metering", params(Range), responses((status = 200, body = [DailyTemp])))]
async fn list_weather(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(r): ApiQuery<Range>,
) -> ApiResult<Json<Vec<DailyTemp>>> {
    view(&p)?;
    let (from, to) = r.resolve(365)?;
    Ok(Json(
        crate::weather::daily_means(&st.db, p.city_id, from, to)
            .await?
            .into_iter()
            .map(|(day, temperature_c)| DailyTemp { day, temperature_c })
            .collect(),
    ))
}

/// One temperature of a JSON weather import.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TempIn {
    /// RFC 3339, `YYYY-MM-DD HH:MM` (China time), a date alone (a daily mean), or epoch seconds.
    #[schema(value_type = serde_json::Value)]
    ts: serde_json::Value,
    /// °C. A row without one is refused with the import.
    #[serde(default)]
    temperature_c: Option<f64>,
}

/// Imports outdoor temperatures for the caller's city: CSV `timestamp,temperature_c` (or
/// `temperature_f`; a date-only timestamp is a daily mean) or a JSON array of `{ts,
/// temperature_c}`. All or nothing: any bad row rejects the whole import (listed by row).
#[utoipa::path(post, path = "/api/v1/metering/weather", tag = "metering", request_body(content = [TempIn], description = "text/csv timestamp,temperature_c or a JSON array of {ts, temperature_c}"), responses((status = 200, body = crate::weather::WeatherReport), (status = 413, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn post_weather(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    up: Upload,
) -> ApiResult<Json<crate::weather::WeatherReport>> {
    need_manage(&p)?;
    if p.role == Role::EnergyManager {
        return Err(AppError::Forbidden.into());
    }
    let ct = up.content_type.to_ascii_lowercase();
    let body = up.bytes;
    let (rows, rejects) = if ct.contains("csv") || ct.starts_with("text/plain") {
        crate::weather::parse_weather_csv(&body, &up.limits)?
    } else {
        let v: Vec<TempIn> = serde_json::from_slice(&body).map_err(|e| {
            AppError::validation(
                "body",
                format!("JSON 数组格式错误 / expected a JSON array of {{ts, temperature_c}}: {e}"),
            )
        })?;
        let csv: String = std::iter::once("timestamp,temperature_c\n".to_string())
            .chain(v.iter().map(|t| {
                let ts = match &t.ts {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!(
                    "{},{}\n",
                    ts.replace(',', " "),
                    t.temperature_c.map(|c| c.to_string()).unwrap_or_default()
                )
            }))
            .collect();
        crate::weather::parse_weather_csv(csv.as_bytes(), &up.limits.with_max_bytes(csv.len()))?
    };
    let rep = service::import_weather(&st.db, &p, &rows, rejects).await?;
    if rep.rejected > 0 {
        let r = &rep.rejects[0];
        return Err(AppError::validation(
            &format!("row {}: {}", r.row, r.field),
            format!(
                "{} ({} 行被拒, 未导入 / {} rows rejected, nothing imported)",
                r.reason, rep.rejected, rep.rejected
            ),
        )
        .into());
    }
    Ok(Json(rep))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BaselineQ {
    /// Baseline period start (default: 365 days before `reporting_from`).
    pub baseline_from: Option<String>,
    /// Baseline period end, exclusive (default: `reporting_from`).
    pub baseline_to: Option<String>,
    /// Reporting period start (default: 365 days before `reporting_to`).
    pub reporting_from: Option<String>,
    /// Reporting period end, exclusive (default: the day after the meter's latest data).
    pub reporting_to: Option<String>,
}

/// The periods of a baseline query, defaults filled from the meter's latest data.
async fn baseline_periods(
    st: &AppState,
    city_id: i64,
    meter_id: i64,
    q: &BaselineQ,
) -> Result<((i64, i64), (i64, i64)), AppError> {
    let last = store::last_ts(&st.db, city_id, meter_id).await?;
    let rep_to = match parse_opt_ts(&q.reporting_to, "reporting_to")? {
        Some(t) => t,
        None => domain::day_bucket(last.unwrap_or_else(domain::now_ts)) + 86400,
    };
    let rep_from =
        parse_opt_ts(&q.reporting_from, "reporting_from")?.unwrap_or(rep_to - 365 * 86400);
    let base_to = parse_opt_ts(&q.baseline_to, "baseline_to")?.unwrap_or(rep_from);
    let base_from =
        parse_opt_ts(&q.baseline_from, "baseline_from")?.unwrap_or(base_to - 365 * 86400);
    if base_from >= base_to {
        return Err(AppError::validation(
            "baseline_from",
            "须早于 baseline_to / must be before baseline_to",
        ));
    }
    if rep_from >= rep_to {
        return Err(AppError::validation(
            "reporting_from",
            "须早于 reporting_to / must be before reporting_to",
        ));
    }
    Ok(((base_from, base_to), (rep_from, rep_to)))
}

/// CalTRACK 2.0 daily temperature baseline of a meter: model, baseline vs actual per day and
/// avoided energy over the reporting period.
#[utoipa::path(get, path = "/api/v1/metering/meters/{id}/baseline", tag = "metering", params(("id" = i64, Path, description = "id of the meter"), BaselineQ), responses((status = 200, body = crate::weather::TemperatureBaseline), (status = 404, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn meter_baseline(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<BaselineQ>,
) -> ApiResult<Json<crate::weather::TemperatureBaseline>> {
    let s = view(&p)?;
    let m = meter_in_scope(&st, &s, id).await?;
    let (b, r) = baseline_periods(&st, p.city_id, m.id, &q).await?;
    Ok(Json(
        crate::weather::baseline(&st.db, p.city_id, &m, b, r).await?,
    ))
}

/// The temperature baseline of a unit's main meter (its top-level electricity meter).
#[utoipa::path(get, path = "/api/v1/metering/units/{id}/baseline", tag = "metering", params(("id" = i64, Path, description = "id of the energy-using unit"), BaselineQ), responses((status = 200, body = crate::weather::TemperatureBaseline), (status = 404, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn unit_baseline(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<BaselineQ>,
) -> ApiResult<Json<crate::weather::TemperatureBaseline>> {
    let s = view(&p)?;
    store::unit(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("unit".into()))?;
    let ms = store::meters(&st.db, &s, Some(id)).await?;
    let m = crate::weather::default_meter(&st.db, p.city_id, &ms)
        .await?
        .cloned()
        .ok_or_else(|| AppError::NotFound("meter".into()))?;
    let (b, r) = baseline_periods(&st, p.city_id, m.id, &q).await?;
    Ok(Json(
        crate::weather::baseline(&st.db, p.city_id, &m, b, r).await?,
    ))
}

/// 作息时间 operating hours of a unit, Monday first (out-of-hours baseload alerts use them).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hours {
    pub days: Vec<analysis::DayHours>,
}

#[utoipa::path(get, path = "/api/v1/metering/units/{id}/hours", params(("id" = i64, Path, description = "id of the energy-using unit")), tag = "metering", responses((status = 200, body = Hours), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn get_hours(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Hours>> {
    let s = view(&p)?;
    store::unit(&st.db, &s, id)
        .await?
        .ok_or_else(|| AppError::NotFound("unit".into()))?;
    Ok(Json(Hours {
        days: analysis::operating_hours(&st.db, p.city_id, id)
            .await?
            .to_vec(),
    }))
}

/// Replaces a unit's operating hours (7 days, Monday first); audited.
#[utoipa::path(put, path = "/api/v1/metering/units/{id}/hours", params(("id" = i64, Path, description = "id of the energy-using unit")), tag = "metering", request_body = Hours, responses((status = 200, body = Hours), (status = 404, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn put_hours(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(h): ApiJson<Hours>,
) -> ApiResult<Json<Hours>> {
    need_manage(&p)?;
    Ok(Json(Hours {
        days: service::set_hours(&st.db, &p, id, &h.days).await?.to_vec(),
    }))
}
