//! `/api/v1/enterprises`: the register's JSON API (region-scoped; writes audited).

use super::store::{
    self, Enterprise, EnterpriseFilter, EnterprisePage, EnterprisePatch, ImportReport,
    NewEnterprise,
};
use crate::audit::Actor;
use crate::auth::{Capability, Principal};
use crate::db::BeginWrite;
use crate::upload::{Upload, read_table};
use crate::web::error::{ApiError, AppError, Problem};
use crate::web::extract::ApiUser;
use crate::web::state::AppState;
use crate::web::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The register's `/api/v1/enterprises` routes with their OpenAPI paths, declared once.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(EnterpriseApi::openapi())
        .routes(routes!(enterprise_list, enterprise_create))
        .routes(routes!(enterprise_export_csv))
        .routes(routes!(enterprise_import))
        .routes(routes!(enterprise_get, enterprise_update))
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    Enterprise,
    NewEnterprise,
    EnterprisePatch,
    EnterprisePage,
    ImportReport
)))]
pub struct EnterpriseApi;

/// Reading the register: every role that sees the city's data, and those who keep the register.
pub fn may_view(p: &Principal) -> bool {
    p.can(Capability::ViewAll) || p.can(Capability::ManageEnterprises)
}

fn view(p: &Principal) -> Result<(), AppError> {
    if may_view(p) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn manage(p: &Principal) -> Result<(), AppError> {
    if p.can(Capability::ManageEnterprises) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Enterprises in the caller's region subtree, by name, 50 a page.
#[utoipa::path(get, path = "/api/v1/enterprises", params(EnterpriseFilter), responses((status = 200, body = EnterprisePage)))]
async fn enterprise_list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<EnterpriseFilter>,
) -> Result<Json<EnterprisePage>, ApiError> {
    view(&p)?;
    Ok(Json(
        store::list(&st.db, p.city_id, &p.scope.prefix, &f).await?,
    ))
}

/// Registers an enterprise in the caller's region subtree. A bad credit code is 422 naming
/// `credit_code`; a code already registered in the city is 409.
#[utoipa::path(post, path = "/api/v1/enterprises", request_body = NewEnterprise, responses((status = 201, body = Enterprise), (status = 409, description = "the credit code is already registered in this city", body = Problem), (status = 422, description = "a field is invalid; `field` names it (`credit_code`, `name`, `region_code`, …)", body = Problem)))]
async fn enterprise_create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(n): ApiJson<NewEnterprise>,
) -> Result<(StatusCode, Json<Enterprise>), ApiError> {
    manage(&p)?;
    let txn = st.db.begin_write().await?;
    let e = store::create(&txn, p.city_id, &p.scope.prefix, &Actor::from(&p), &n).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// One enterprise; 404 when it does not exist or lies outside the caller's region.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}", params(("id" = i64, Path, description = "enterprise id")), responses((status = 200, body = Enterprise), (status = 404, body = Problem)))]
async fn enterprise_get(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Enterprise>, ApiError> {
    view(&p)?;
    let e = store::get(&st.db, p.city_id, &p.scope.prefix, id)
        .await?
        .ok_or_else(|| AppError::NotFound("enterprise".into()))?;
    Ok(Json(e))
}

/// Changes the given fields (an empty string clears an optional one); audited with the values
/// before and after. 404 outside the caller's region; a new region must lie inside it.
#[utoipa::path(patch, path = "/api/v1/enterprises/{id}", params(("id" = i64, Path, description = "enterprise id")), request_body = EnterprisePatch, responses((status = 200, body = Enterprise), (status = 404, body = Problem), (status = 409, description = "the new credit code is already registered in this city", body = Problem), (status = 422, body = Problem)))]
async fn enterprise_update(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<EnterprisePatch>,
) -> Result<Json<Enterprise>, ApiError> {
    // Outside the scope is 404 for every role, before any capability is told.
    if store::get(&st.db, p.city_id, &p.scope.prefix, id)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound("enterprise".into()).into());
    }
    manage(&p)?;
    let txn = st.db.begin_write().await?;
    let e = store::update(
        &txn,
        p.city_id,
        &p.scope.prefix,
        &Actor::from(&p),
        id,
        &patch,
    )
    .await?;
    txn.commit().await?;
    Ok(Json(e))
}

/// Imports a CSV (UTF-8 or GBK) or XLSX workbook (first sheet) with the export's columns
/// (`credit_code,name,region_code,address,legal_rep,industry,kind`, or their Chinese names): a
/// registered code updates its enterprise, a new one is registered. All or nothing; the problem
/// names the first bad row and column and lists the others.
#[utoipa::path(post, path = "/api/v1/enterprises/import", request_body(content = String, content_type = "text/csv"), responses((status = 201, body = ImportReport), (status = 413, description = "over `upload.max_bytes` or `upload.max_decompressed_bytes`", body = Problem), (status = 422, description = "a bad row: `row` and `column` say where", body = Problem)))]
async fn enterprise_import(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    up: Upload,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    manage(&p)?;
    let table = tokio::task::spawn_blocking(move || read_table(&up.bytes, &up.limits))
        .await
        .map_err(AppError::internal)??;
    let txn = st.db.begin_write().await?;
    let report =
        match store::import(&txn, p.city_id, &p.scope.prefix, &Actor::from(&p), &table).await {
            Ok(r) => r,
            Err(e) => return Err(AppError::from(e.into_upload_error()?).into()),
        };
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// The filtered enterprises as CSV, in the import's columns; cells that a spreadsheet would run
/// as a formula are written as text.
#[utoipa::path(get, path = "/api/v1/enterprises/export.csv", params(EnterpriseFilter), responses((status = 200, content_type = "text/csv", body = String)))]
async fn enterprise_export_csv(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<EnterpriseFilter>,
) -> Result<Response, ApiError> {
    view(&p)?;
    let items = store::list_all(&st.db, p.city_id, &p.scope.prefix, &f).await?;
    let bytes = store::export_csv(&items)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"enterprises.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
