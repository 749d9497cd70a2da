//! `/healthz` (the process answers), `/readyz` (the database answers), `/metrics` (Prometheus).

use crate::web::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::ConnectionTrait;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    match st.db.execute_unprepared("SELECT 1").await {
        Ok(_) => (
            StatusCode::OK,
            Json(
                serde_json::json!({"status": "ready", "database": crate::db::backend_name(&st.db)}),
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable"})),
            )
        }
    }
}

async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let mut body = st.metrics.render();
    for j in st.jobs.snapshot() {
        body.push_str(&format!(
            "qcity_job_progress{{job=\"{}\"}} {}\n",
            j.name,
            j.fraction()
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
