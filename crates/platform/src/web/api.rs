//! The platform's JSON API under `/api/v1`, and the OpenAPI document of the whole API.

use crate::audit::{self, AuditEntry, AuditQuery};
use crate::auth::Capability;
use crate::store::{self, regions::RegionView};
use crate::web::api_extract::{ApiPath, ApiQuery};
use crate::web::error::{ApiError, AppError};
use crate::web::extract::{ApiUser, ReqLang};
use crate::web::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The platform's API: the document itself, and the paths it describes (see [`api`]).
pub fn routes() -> Router<AppState> {
    let (described, _) = api().split_for_parts();
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .merge(described)
        .merge(crate::enterprise::api::api())
}

/// The platform's own `/api/v1` routes with their OpenAPI paths, declared once.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(PlatformApi::openapi())
        .routes(routes!(me))
        .routes(routes!(city))
        .routes(routes!(regions))
        .routes(routes!(regions_geojson))
        .routes(routes!(region))
        .routes(routes!(jobs))
        .routes(routes!(audit_log))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "qcity API",
        description = "JSON API of qcity, the open platform for a quality-strong city (质量强市). Errors are RFC 9457 problem+json with a stable `code`. Authenticate with `Authorization: Bearer TOKEN`."
    ),
    components(schemas(
        RegionView,
        Me,
        CityInfo,
        crate::web::error::Problem,
        crate::web::error::ConflictCode
    ))
)]
struct PlatformApi;

/// The OpenAPI 3 document: the platform's paths merged with every module's.
pub fn openapi_document(st: &AppState) -> utoipa::openapi::OpenApi {
    let (doc, clashes) = merge_documents(st.modules.iter().map(|m| m.api().into_openapi()));
    for name in clashes {
        tracing::error!(schema = %name, "two different OpenAPI schemas share a name; one is lost");
    }
    doc
}

/// The platform's document merged with `modules`' documents, and the names of component
/// schemas two of them define differently (utoipa's merge keeps one silently; must be none:
/// give one `#[schema(as = ModuleThing)]`).
pub fn merge_documents(
    modules: impl IntoIterator<Item = utoipa::openapi::OpenApi>,
) -> (utoipa::openapi::OpenApi, Vec<String>) {
    let mut doc = api().into_openapi();
    let mut clashes = Vec::new();
    for o in std::iter::once(crate::enterprise::api::api().into_openapi()).chain(modules) {
        if let (Some(have), Some(new)) = (&doc.components, &o.components) {
            for (name, schema) in &new.schemas {
                if have.schemas.get(name).is_some_and(|s| s != schema) {
                    clashes.push(name.clone());
                }
            }
        }
        doc.merge(o);
    }
    (doc, clashes)
}

/// The served document: [`openapi_document`] completed by [`crate::web::openapi::complete`].
async fn openapi_json(State(st): State<AppState>) -> Json<serde_json::Value> {
    Json(crate::web::openapi::complete(&openapi_document(&st)))
}

/// The caller.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub city_code: String,
    pub region_code: String,
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = crate::web::error::Problem)))]
async fn me(ApiUser(p): ApiUser) -> Json<Me> {
    Json(Me {
        username: p.username,
        display_name: p.display_name,
        role: p.role.as_str().into(),
        city_code: p.city_code,
        region_code: p.scope.root,
    })
}

/// The caller's city with counts of what it may see.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CityInfo {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub scope: String,
    pub districts: usize,
    pub streets: usize,
    pub communities: usize,
    pub population: i64,
}

#[utoipa::path(get, path = "/api/v1/city", responses((status = 200, body = CityInfo), (status = 401, body = crate::web::error::Problem)))]
async fn city(State(st): State<AppState>, ApiUser(p): ApiUser) -> Result<Json<CityInfo>, ApiError> {
    let c = store::cities::by_id(&st.db, p.city_id)
        .await?
        .ok_or_else(|| AppError::NotFound("city".into()))?;
    let rs = st.visible_regions(&p.scope).await?;
    let count = |l: &str| rs.iter().filter(|r| r.level == l).count();
    Ok(Json(CityInfo {
        code: c.code,
        name_zh: c.name_zh,
        name_en: c.name_en,
        scope: p.scope.root.clone(),
        districts: count("district"),
        streets: count("street"),
        communities: count("community"),
        population: rs
            .iter()
            .filter(|r| r.level == "district")
            .filter_map(|r| r.population)
            .sum(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RegionQuery {
    /// Only regions of this level (`city`, `district`, `street`, `community`).
    level: Option<String>,
}

/// Regions the caller may see: code, name, level, parent.
#[utoipa::path(get, path = "/api/v1/regions", params(RegionQuery), responses((status = 200, body = [RegionView]), (status = 401, body = crate::web::error::Problem)))]
async fn regions(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    lang: ReqLang,
    ApiQuery(q): ApiQuery<RegionQuery>,
) -> Result<Json<Vec<RegionView>>, ApiError> {
    let rs = st.visible_regions(&p.scope).await?;
    Ok(Json(
        rs.iter()
            .filter(|r| q.level.as_deref().is_none_or(|l| r.level == l))
            .map(|r| RegionView::from_model(r, lang.0.code()))
            .collect(),
    ))
}

/// One region; 404 when it does not exist or lies outside the caller's scope.
#[utoipa::path(get, path = "/api/v1/regions/{code}", params(("code" = String, Path, description = "division code")), responses((status = 200, body = RegionView), (status = 404, body = crate::web::error::Problem)))]
async fn region(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    lang: ReqLang,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<RegionView>, ApiError> {
    let r = store::regions::get_visible(&st.db, &p.scope, &code).await?;
    Ok(Json(RegionView::from_model(&r, lang.0.code())))
}

/// Boundaries of the visible regions of one level as a GeoJSON FeatureCollection (for maps).
#[utoipa::path(get, path = "/api/v1/regions/geojson", params(RegionQuery), responses((status = 200, description = "GeoJSON FeatureCollection", body = Object)))]
async fn regions_geojson(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<RegionQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let level = q.level.unwrap_or_else(|| "district".into());
    let rs = st.visible_regions(&p.scope).await?;
    Ok(Json(feature_collection(
        rs.iter().filter(|r| r.level == level),
    )))
}

/// A GeoJSON FeatureCollection of regions with boundaries (`properties.code`, `name_zh`,
/// `name_en`).
pub fn feature_collection<'a>(
    rs: impl Iterator<Item = &'a crate::entity::region::Model>,
) -> serde_json::Value {
    let features: Vec<serde_json::Value> = rs
        .filter_map(|r| {
            let geom: serde_json::Value = serde_json::from_str(r.boundary.as_deref()?).ok()?;
            Some(serde_json::json!({
                "type": "Feature",
                "properties": {"code": r.code, "name": r.code, "name_zh": r.name_zh, "name_en": r.name_en},
                "geometry": geom
            }))
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "features": features})
}

/// Background jobs and their progress.
#[utoipa::path(get, path = "/api/v1/jobs", responses((status = 200, description = "jobs with progress", body = Vec<crate::jobs::JobStatus>)))]
async fn jobs(
    State(st): State<AppState>,
    ApiUser(_p): ApiUser,
) -> Json<Vec<crate::jobs::JobStatus>> {
    Json(st.jobs.snapshot())
}

#[derive(Serialize)]
struct AuditPage {
    total: u64,
    page: u64,
    entries: Vec<AuditEntry>,
}

/// The audit log (admins).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), responses((status = 200, description = "a page of audit entries, newest first", body = Object), (status = 403, body = crate::web::error::Problem)))]
async fn audit_log(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !p.can(Capability::ViewAudit) {
        return Err(AppError::Forbidden.into());
    }
    let f = q.to_filter();
    let (entries, total) = audit::browse_for(&st.db, &p, &f).await?;
    Ok(Json(
        serde_json::to_value(AuditPage {
            total,
            page: f.page.unwrap_or(0),
            entries,
        })
        .map_err(AppError::internal)?,
    ))
}
