//! The JSON API under `/api/v1/evaluation` (documented in the OpenAPI document).

use crate::import::{self, ImportReport};
use crate::nodes::{self, Deleted, NewNode, NodePatch, NodeTree, WeightSum};
use crate::rules::{self, NewRule, RulePatch, RuleView};
use crate::runs::{self, NewRun, RunResults};
use crate::store::{
    self, Action, Completeness, EvalError, FeedReport, FrameworkView, NodeView, PassportPatch,
    ValueFilter, ValueInput, ValueView, Warning,
};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use qcity_platform::audit::Actor;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::db::BeginWrite;
use qcity_platform::upload::Upload;
use qcity_platform::web::{ApiError, ApiJson, ApiPath, ApiQuery, ApiUser, AppError, AppState};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/api/v1/evaluation` routes with their OpenAPI paths, declared once.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(EvalApi::openapi())
        .routes(routes!(catalogue))
        .routes(routes!(frameworks, install))
        .routes(routes!(framework))
        .routes(routes!(passport_post, passport))
        .routes(routes!(nodes_list, node_create))
        .routes(routes!(node_get, node_update, node_delete))
        .routes(routes!(node_equalise))
        .routes(routes!(rules_list, rule_create))
        .routes(routes!(rule_get, rule_update, rule_delete))
        .routes(routes!(feeds))
        .routes(routes!(import_values))
        .routes(routes!(template))
        .routes(routes!(values, save))
        .routes(routes!(value))
        .routes(routes!(act))
        .routes(routes!(completeness))
        .routes(routes!(runs_list, run_create))
        .routes(routes!(run_get))
        .routes(routes!(run_reproduce))
}

#[derive(OpenApi)]
#[openapi(
    components(schemas(NewNode, NodePatch, NodeTree, WeightSum, Deleted, RuleView, NewRule, RulePatch, CatalogueEntry, FrameworkView, FrameworkDetail, NodeView, PassportPatch, ValueView, ValueInput, Warning, ValueWithWarnings, ActBody, Completeness, FeedReport, ImportReport, import::RowError, NewRun, RunSummary, RunDetail, RunResults, runs::YearResult, runs::UnitScores, runs::RankInterval, runs::ProgressRow, Reproduced, InstallBody)),
    tags((name = "evaluation", description = "City quality evaluation: frameworks, governed indicator data, composite-index runs"))
)]
pub struct EvalApi;

/// A built-in catalogue framework.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CatalogueEntry {
    pub key: String,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub indicators: usize,
    pub installed: bool,
}

/// Built-in frameworks a city may copy.
#[utoipa::path(get, path = "/api/v1/evaluation/catalogue", tag = "evaluation", responses((status = 200, body = [CatalogueEntry])))]
async fn catalogue(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Vec<CatalogueEntry>>, ApiError> {
    let have = store::list_frameworks(&st.db, p.city_id).await?;
    Ok(Json(
        crate::catalog::all()
            .into_iter()
            .map(|c| CatalogueEntry {
                key: c.key.into(),
                code: c.code.into(),
                name_zh: c.name_zh.into(),
                name_en: c.name_en.into(),
                indicators: c.nodes.iter().filter(|n| n.level == 1).count(),
                installed: have.iter().any(|f| f.code == c.code),
            })
            .collect(),
    ))
}

/// Frameworks of the caller's city.
#[utoipa::path(get, path = "/api/v1/evaluation/frameworks", tag = "evaluation", responses((status = 200, body = [FrameworkView]), (status = 401, body = qcity_platform::web::error::Problem)))]
async fn frameworks(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Vec<FrameworkView>>, ApiError> {
    p.require_any(crate::READERS)?;
    Ok(Json(store::list_frameworks(&st.db, p.city_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct InstallBody {
    /// `city_quality`, `satisfaction` or `iso37120`.
    pub catalogue: String,
}

/// Copies a built-in framework into the city (analysts).
#[utoipa::path(post, path = "/api/v1/evaluation/frameworks", tag = "evaluation", request_body = InstallBody, responses((status = 201, body = FrameworkView), (status = 409, body = qcity_platform::web::error::Problem)))]
async fn install(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<InstallBody>,
) -> Result<Response, ApiError> {
    p.require(Capability::EditFrameworks)?;
    let fw = store::install_catalogue(&st.db, p.city_id, &Actor::from(&p), &b.catalogue).await?;
    let view = store::list_frameworks(&st.db, p.city_id)
        .await?
        .into_iter()
        .find(|f| f.id == fw.id);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// A framework with its tree of passports.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FrameworkDetail {
    pub framework: FrameworkView,
    /// Nodes in tree order (index, each dimension followed by its indicators).
    pub nodes: Vec<NodeView>,
}

#[utoipa::path(get, path = "/api/v1/evaluation/frameworks/{id}", tag = "evaluation", params(("id" = i64, Path)), responses((status = 200, body = FrameworkDetail), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn framework(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<FrameworkDetail>, ApiError> {
    p.require_any(crate::READERS)?;
    let fw = store::framework_view(&st.db, p.city_id, id).await?;
    let nodes = store::nodes(&st.db, p.city_id, id)
        .await?
        .iter()
        .map(NodeView::from)
        .collect();
    Ok(Json(FrameworkDetail {
        framework: fw,
        nodes,
    }))
}

/// Edits an indicator passport (analysts).
#[utoipa::path(patch, path = "/api/v1/evaluation/frameworks/{id}/indicators/{code}", tag = "evaluation", params(("id" = i64, Path), ("code" = String, Path)), request_body = PassportPatch, responses((status = 200, body = NodeView), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn passport(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((id, code)): ApiPath<(i64, String)>,
    ApiJson(b): ApiJson<PassportPatch>,
) -> Result<Json<NodeView>, ApiError> {
    let n = store::update_passport(&st.db, &p, id, &code, b).await?;
    Ok(Json(NodeView::from(&n)))
}

/// Edits an indicator passport, as `PATCH` does (the first form of this endpoint, kept).
#[utoipa::path(post, path = "/api/v1/evaluation/frameworks/{id}/indicators/{code}", tag = "evaluation", operation_id = "passport_post", params(("id" = i64, Path), ("code" = String, Path)), request_body = PassportPatch, responses((status = 200, body = NodeView), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn passport_post(
    st: State<AppState>,
    user: ApiUser,
    path: ApiPath<(i64, String)>,
    body: ApiJson<PassportPatch>,
) -> Result<Json<NodeView>, ApiError> {
    passport(st, user, path, body).await
}

/// The framework's tree with, per parent, whether its children's weights sum to 1.
#[utoipa::path(get, path = "/api/v1/evaluation/frameworks/{id}/nodes", tag = "evaluation", params(("id" = i64, Path)), responses((status = 200, body = NodeTree), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn nodes_list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<NodeTree>, ApiError> {
    p.require_any(crate::READERS)?;
    Ok(Json(nodes::tree(&st.db, &p, id).await?))
}

/// Adds a dimension (under the index) or an indicator (under a dimension) with its passport
/// (analysts, admins). A code already used in the framework is a conflict.
#[utoipa::path(post, path = "/api/v1/evaluation/frameworks/{id}/nodes", tag = "evaluation", params(("id" = i64, Path)), request_body = NewNode, responses((status = 201, body = NodeView), (status = 403, body = qcity_platform::web::error::Problem), (status = 404, body = qcity_platform::web::error::Problem), (status = 409, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn node_create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NewNode>,
) -> Result<Response, ApiError> {
    let m = nodes::create_node(&st.db, &p, id, &b).await?;
    Ok((StatusCode::CREATED, Json(NodeView::from(&m))).into_response())
}

#[utoipa::path(get, path = "/api/v1/evaluation/frameworks/{id}/nodes/{code}", tag = "evaluation", params(("id" = i64, Path), ("code" = String, Path)), responses((status = 200, body = NodeView), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn node_get(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((id, code)): ApiPath<(i64, String)>,
) -> Result<Json<NodeView>, ApiError> {
    p.require_any(crate::READERS)?;
    let m = nodes::get_node(&st.db, &p, id, &code).await?;
    Ok(Json(NodeView::from(&m)))
}

/// Edits a node's names, weight or direction, or moves it under another parent (no cycles;
/// an indicator cannot take children; a dimension stays under the index).
#[utoipa::path(patch, path = "/api/v1/evaluation/frameworks/{id}/nodes/{code}", tag = "evaluation", params(("id" = i64, Path), ("code" = String, Path)), request_body = NodePatch, responses((status = 200, body = NodeView), (status = 403, body = qcity_platform::web::error::Problem), (status = 404, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn node_update(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((id, code)): ApiPath<(i64, String)>,
    ApiJson(b): ApiJson<NodePatch>,
) -> Result<Json<NodeView>, ApiError> {
    let m = nodes::update_node(&st.db, &p, id, &code, &b).await?;
    Ok(Json(NodeView::from(&m)))
}

/// Deletes a node, its subtree and their validation rules. 409 when the subtree holds data
/// values or a stored index run used it, and for the index itself.
#[utoipa::path(delete, path = "/api/v1/evaluation/frameworks/{id}/nodes/{code}", tag = "evaluation", params(("id" = i64, Path), ("code" = String, Path)), responses((status = 200, body = Deleted), (status = 403, body = qcity_platform::web::error::Problem), (status = 404, body = qcity_platform::web::error::Problem), (status = 409, body = qcity_platform::web::error::Problem)))]
async fn node_delete(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((id, code)): ApiPath<(i64, String)>,
) -> Result<Json<Deleted>, ApiError> {
    Ok(Json(nodes::delete_node(&st.db, &p, id, &code).await?))
}

/// Sets the weights of a node's children to 1/n each.
#[utoipa::path(post, path = "/api/v1/evaluation/frameworks/{id}/nodes/{code}/equalise", tag = "evaluation", params(("id" = i64, Path), ("code" = String, Path)), responses((status = 200, body = [NodeView]), (status = 403, body = qcity_platform::web::error::Problem), (status = 404, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn node_equalise(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((id, code)): ApiPath<(i64, String)>,
) -> Result<Json<Vec<NodeView>>, ApiError> {
    Ok(Json(
        nodes::equalise(&st.db, &p, id, &code)
            .await?
            .iter()
            .map(NodeView::from)
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleQuery {
    /// Only the rules that apply to this indicator (its own and the framework defaults).
    pub indicator: Option<String>,
}

/// Validation rules of a framework (defaults first, then per indicator).
#[utoipa::path(get, path = "/api/v1/evaluation/frameworks/{id}/rules", tag = "evaluation", params(("id" = i64, Path), RuleQuery), responses((status = 200, body = [RuleView]), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn rules_list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<RuleQuery>,
) -> Result<Json<Vec<RuleView>>, ApiError> {
    p.require_any(crate::READERS)?;
    Ok(Json(
        rules::list_rules(&st.db, &p, id, q.indicator.as_deref())
            .await?
            .iter()
            .map(RuleView::from)
            .collect(),
    ))
}

/// Creates a validation rule (analysts, admins). Without `indicator` it is a framework
/// default that applies to every indicator.
#[utoipa::path(post, path = "/api/v1/evaluation/frameworks/{id}/rules", tag = "evaluation", params(("id" = i64, Path)), request_body = NewRule, responses((status = 201, body = RuleView), (status = 403, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn rule_create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NewRule>,
) -> Result<Response, ApiError> {
    let m = rules::create_rule(&st.db, &p, id, &b).await?;
    Ok((StatusCode::CREATED, Json(RuleView::from(&m))).into_response())
}

#[utoipa::path(get, path = "/api/v1/evaluation/frameworks/{id}/rules/{rule_id}", tag = "evaluation", params(("id" = i64, Path), ("rule_id" = i64, Path)), responses((status = 200, body = RuleView), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn rule_get(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((id, rule_id)): ApiPath<(i64, i64)>,
) -> Result<Json<RuleView>, ApiError> {
    p.require_any(crate::READERS)?;
    let m = rules::get_rule(&st.db, &p, id, rule_id).await?;
    Ok(Json(RuleView::from(&m)))
}

/// Edits a rule's parameters or enables / disables it (`active`); `null` clears a parameter.
#[utoipa::path(patch, path = "/api/v1/evaluation/frameworks/{id}/rules/{rule_id}", tag = "evaluation", params(("id" = i64, Path), ("rule_id" = i64, Path)), request_body = RulePatch, responses((status = 200, body = RuleView), (status = 403, body = qcity_platform::web::error::Problem), (status = 404, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn rule_update(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((id, rule_id)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<RulePatch>,
) -> Result<Json<RuleView>, ApiError> {
    let m = rules::update_rule(&st.db, &p, id, rule_id, &b).await?;
    Ok(Json(RuleView::from(&m)))
}

/// Deletes a rule (analysts, admins).
#[utoipa::path(delete, path = "/api/v1/evaluation/frameworks/{id}/rules/{rule_id}", tag = "evaluation", params(("id" = i64, Path), ("rule_id" = i64, Path)), responses((status = 204), (status = 403, body = qcity_platform::web::error::Problem), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn rule_delete(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((id, rule_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    rules::delete_rule(&st.db, &p, id, rule_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    #[serde(deserialize_with = "qcity_platform::web::api_extract::year")]
    #[param(minimum = 1900, maximum = 2200)]
    pub year: i32,
}

/// Pulls the values other modules feed (survey, equipment, metering) for a year.
#[utoipa::path(post, path = "/api/v1/evaluation/frameworks/{id}/feeds", tag = "evaluation", params(("id" = i64, Path), YearQuery), responses((status = 200, body = FeedReport)))]
async fn feeds(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> Result<Json<FeedReport>, ApiError> {
    store::get_framework(&st.db, p.city_id, id).await?;
    Ok(Json(
        store::pull_feeds(&st.db, &st.modules, &p, id, q.year).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// File name (decides CSV or XLSX) when the body is the raw file.
    pub filename: Option<String>,
}

/// Imports values from a CSV or XLSX file (raw body, or multipart with a `file` part).
/// All rows are committed as drafts, or none: 422 with every row/column error.
#[utoipa::path(post, path = "/api/v1/evaluation/frameworks/{id}/import", tag = "evaluation", params(("id" = i64, Path), ImportQuery), request_body(content = Vec<u8>, content_type = "text/csv"), responses((status = 200, body = ImportReport), (status = 413, description = "over an upload byte limit", body = qcity_platform::web::error::Problem), (status = 422, description = "row errors (`ImportReport`), or problem+json when a row / column limit is passed", body = ImportReport)))]
async fn import_values(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    up: Upload,
) -> Result<Response, ApiError> {
    p.require(Capability::EnterData)?;
    let (ct, body) = (up.content_type.as_str(), &up.bytes);
    let (name, bytes) = if ct.starts_with("multipart/form-data") {
        import::multipart_parts(ct, body)
            .into_iter()
            .find(|x| x.0 == "file")
            .map(|x| (x.1, x.2))
            .unwrap_or_default()
    } else {
        (
            q.filename.clone().unwrap_or_else(|| {
                if ct.contains("sheet") {
                    "upload.xlsx".into()
                } else {
                    "upload.csv".into()
                }
            }),
            body.to_vec(),
        )
    };
    let rep = import::import_file(&st.db, &p, id, &name, bytes, &up.limits).await?;
    let status = if rep.committed {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(rep)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    #[serde(deserialize_with = "qcity_platform::web::api_extract::year")]
    #[param(minimum = 1900, maximum = 2200)]
    pub year: i32,
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// The import template for a year: one row per indicator × region in scope.
#[utoipa::path(get, path = "/api/v1/evaluation/frameworks/{id}/template", tag = "evaluation", params(("id" = i64, Path), TemplateQuery), responses((status = 200, description = "CSV or XLSX file", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
async fn template(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TemplateQuery>,
) -> Result<Response, ApiError> {
    p.require_any(crate::READERS)?;
    template_response(&st, &p, id, q.year, q.format.as_deref().unwrap_or("csv")).await
}

/// Builds the template download (shared with the page).
pub async fn template_response(
    st: &AppState,
    p: &Principal,
    id: i64,
    year: i32,
    format: &str,
) -> Result<Response, ApiError> {
    let fw = store::get_framework(&st.db, p.city_id, id).await?;
    let nodes = store::nodes(&st.db, p.city_id, id).await?;
    let regions: Vec<String> = store::entry_regions(&st.db, p)
        .await?
        .into_iter()
        .map(|r| r.code)
        .collect();
    let existing = store::list_values(
        &st.db,
        p,
        &ValueFilter {
            framework_id: Some(id),
            year: Some(year),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .map(|v| ((v.indicator_code, v.region_code), v.value))
    .collect();
    let rows = import::template_rows(&nodes, &regions, year, &existing);
    let (ct, name, body) = if format == "xlsx" {
        let b = tokio::task::spawn_blocking(move || import::template_xlsx(&rows, &nodes))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            format!("{}-{year}.xlsx", fw.code),
            b,
        )
    } else {
        (
            "text/csv; charset=utf-8",
            format!("{}-{year}.csv", fw.code),
            import::template_csv(&rows).into_bytes(),
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Values the caller may see.
#[utoipa::path(get, path = "/api/v1/evaluation/values", tag = "evaluation", params(ValueFilter), responses((status = 200, body = [ValueView])))]
async fn values(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(f): ApiQuery<ValueFilter>,
) -> Result<Json<Vec<ValueView>>, ApiError> {
    p.require_any(crate::READERS)?;
    Ok(Json(
        store::list_values(&st.db, &p, &f)
            .await?
            .iter()
            .map(ValueView::from)
            .collect(),
    ))
}

/// A value with the warnings of the validation rules.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ValueWithWarnings {
    pub value: ValueView,
    pub warnings: Vec<Warning>,
}

/// Saves a value as a draft (create or edit), returning rule warnings.
#[utoipa::path(post, path = "/api/v1/evaluation/values", tag = "evaluation", request_body = ValueInput, responses((status = 200, body = ValueWithWarnings), (status = 404, body = qcity_platform::web::error::Problem), (status = 409, body = qcity_platform::web::error::Problem), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn save(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<ValueInput>,
) -> Result<Json<ValueWithWarnings>, ApiError> {
    let txn = st.db.begin_write().await.map_err(EvalError::from)?;
    let (v, warnings) = store::save_value(&txn, &p, &b, "manual").await?;
    txn.commit().await.map_err(EvalError::from)?;
    Ok(Json(ValueWithWarnings {
        value: ValueView::from(&v),
        warnings,
    }))
}

#[utoipa::path(get, path = "/api/v1/evaluation/values/{id}", tag = "evaluation", params(("id" = i64, Path)), responses((status = 200, body = ValueWithWarnings), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn value(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ValueWithWarnings>, ApiError> {
    p.require_any(crate::READERS)?;
    let v = store::get_value(&st.db, &p, id).await?;
    let warnings = store::check_value(&st.db, p.city_id, &v).await?;
    Ok(Json(ValueWithWarnings {
        value: ValueView::from(&v),
        warnings,
    }))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ActBody {
    /// Submit despite rule warnings.
    #[serde(default)]
    pub acknowledge_warnings: bool,
    pub note: Option<String>,
}

/// Workflow: `submit`, `approve`, `reject`, `publish`, `return`.
#[utoipa::path(post, path = "/api/v1/evaluation/values/{id}/{action}", tag = "evaluation", params(("id" = i64, Path), ("action" = String, Path)), request_body = ActBody, responses((status = 200, body = ValueWithWarnings), (status = 403, body = qcity_platform::web::error::Problem), (status = 409, body = qcity_platform::web::error::Problem)))]
async fn act(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((id, action)): ApiPath<(i64, String)>,
    body: Option<ApiJson<ActBody>>,
) -> Result<Json<ValueWithWarnings>, ApiError> {
    let a = Action::parse(&action).ok_or_else(|| AppError::NotFound(format!("action {action}")))?;
    let b = body.map(|b| b.0).unwrap_or_default();
    let txn = st.db.begin_write().await.map_err(EvalError::from)?;
    let (v, warnings) =
        store::transition(&txn, &p, id, a, b.acknowledge_warnings, b.note.as_deref()).await?;
    txn.commit().await.map_err(EvalError::from)?;
    Ok(Json(ValueWithWarnings {
        value: ValueView::from(&v),
        warnings,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompletenessQuery {
    pub framework_id: i64,
    #[serde(deserialize_with = "qcity_platform::web::api_extract::year")]
    #[param(minimum = 1900, maximum = 2200)]
    pub year: i32,
}

/// Completeness per indicator and region (districts in scope).
#[utoipa::path(get, path = "/api/v1/evaluation/completeness", tag = "evaluation", params(CompletenessQuery), responses((status = 200, body = Completeness)))]
async fn completeness(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiQuery(q): ApiQuery<CompletenessQuery>,
) -> Result<Json<Completeness>, ApiError> {
    p.require_any(crate::READERS)?;
    Ok(Json(
        store::completeness(&st.db, &p, q.framework_id, q.year, &[]).await?,
    ))
}

/// A run without its inputs and results.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RunSummary {
    pub id: i64,
    pub framework_id: i64,
    pub name: String,
    pub years: Vec<i32>,
    pub regions: Vec<String>,
    pub statuses: Vec<String>,
    pub uncertainty_n: i32,
    pub seed: i64,
    /// `running`, `finished`, `failed`.
    pub status: String,
    pub message: String,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&crate::entity::run::Model> for RunSummary {
    fn from(m: &crate::entity::run::Model) -> Self {
        RunSummary {
            id: m.id,
            framework_id: m.framework_id,
            name: m.name.clone(),
            years: serde_json::from_str(&m.years).unwrap_or_default(),
            regions: serde_json::from_str(&m.regions).unwrap_or_default(),
            statuses: serde_json::from_str(&m.statuses).unwrap_or_default(),
            uncertainty_n: m.uncertainty_n,
            seed: m.seed,
            status: m.status.clone(),
            message: m.message.clone(),
            created_by: m.created_by.clone(),
            created_at: m.created_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/evaluation/runs", tag = "evaluation", responses((status = 200, body = [RunSummary])))]
async fn runs_list(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Vec<RunSummary>>, ApiError> {
    p.require_any(crate::READERS)?;
    Ok(Json(
        runs::list_runs(&st.db, p.city_id)
            .await?
            .iter()
            .map(RunSummary::from)
            .collect(),
    ))
}

/// Starts a run (202); poll `GET /runs/{id}` until `status` is `finished` (progress also on
/// `/api/v1/jobs`).
#[utoipa::path(post, path = "/api/v1/evaluation/runs", tag = "evaluation", request_body = NewRun, responses((status = 202, body = RunSummary), (status = 422, body = qcity_platform::web::error::Problem)))]
async fn run_create(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<NewRun>,
) -> Result<Response, ApiError> {
    let m = start_run(&st, &p, &b).await?;
    Ok((StatusCode::ACCEPTED, Json(RunSummary::from(&m))).into_response())
}

/// Creates a run and computes it in the background, reporting progress as a job.
pub async fn start_run(
    st: &AppState,
    p: &Principal,
    b: &NewRun,
) -> Result<crate::entity::run::Model, EvalError> {
    let m = runs::create_run(&st.db, p, b).await?;
    let years: Vec<i32> = serde_json::from_str(&m.years).unwrap_or_default();
    let job = st
        .jobs
        .start(&format!("evaluation run {}", m.name), years.len() as u64);
    let db = st.db.clone();
    let m2 = m.clone();
    tokio::spawn(async move {
        if let Err(e) = runs::execute(&db, &m2, Some(job)).await {
            tracing::error!(run = m2.id, error = %e, "index run failed");
        }
    });
    Ok(m)
}

/// A run with its spec and (scoped) results.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RunDetail {
    pub run: RunSummary,
    pub spec_toml: String,
    pub results: Option<RunResults>,
}

#[utoipa::path(get, path = "/api/v1/evaluation/runs/{id}", tag = "evaluation", params(("id" = i64, Path)), responses((status = 200, body = RunDetail), (status = 404, body = qcity_platform::web::error::Problem)))]
async fn run_get(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RunDetail>, ApiError> {
    p.require_any(crate::READERS)?;
    let m = runs::get_run(&st.db, p.city_id, id).await?;
    let results = m
        .results
        .as_deref()
        .and_then(|s| serde_json::from_str::<RunResults>(s).ok())
        .map(|r| runs::scoped_results(&p, r));
    Ok(Json(RunDetail {
        run: RunSummary::from(&m),
        spec_toml: m.spec_toml.clone(),
        results,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Reproduced {
    /// Whether recomputing from the stored spec, inputs and seed gave identical results.
    pub identical: bool,
}

/// Recomputes a run from what is stored and compares.
#[utoipa::path(post, path = "/api/v1/evaluation/runs/{id}/reproduce", tag = "evaluation", params(("id" = i64, Path)), responses((status = 200, body = Reproduced)))]
async fn run_reproduce(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Reproduced>, ApiError> {
    p.require(Capability::RunIndex)?;
    let (identical, _) = runs::reproduce(&st.db, &p, id).await?;
    Ok(Json(Reproduced { identical }))
}
