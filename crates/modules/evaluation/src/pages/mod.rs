//! Pages (zh-CN / en): overview, framework tree and passports, data-entry grid, import,
//! completeness matrix, index runs and results with charts.
//!
//! This module holds the router and the helpers the page areas share; each area is a file.

mod completeness;
mod entry;
mod framework;
mod import;
mod overview;
mod rules;
mod runs;
mod structure;

use completeness::{completeness_page, feeds_pull};
use entry::{entry_page, entry_save};
use framework::{framework_page, passport_save};
use import::{import_page, import_upload, template_download};
use overview::{home, install};
use rules::{rule_change, rule_create, rules_page};
use runs::{run_page, run_start, run_status, runs_page};
use structure::{structure_add, structure_change, structure_page};

use crate::store::FrameworkView;
use axum::Router;
use axum::routing::{get, post};
use qcity_platform::web::{AppError, AppState};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/evaluation", get(home))
        .route("/app/evaluation/install", post(install))
        .route("/app/evaluation/frameworks/{id}", get(framework_page))
        .route(
            "/app/evaluation/frameworks/{id}/indicators/{code}",
            post(passport_save),
        )
        .route(
            "/app/evaluation/frameworks/{id}/structure",
            get(structure_page).post(structure_add),
        )
        .route(
            "/app/evaluation/frameworks/{id}/structure/{code}",
            post(structure_change),
        )
        .route(
            "/app/evaluation/frameworks/{id}/rules",
            get(rules_page).post(rule_create),
        )
        .route(
            "/app/evaluation/frameworks/{id}/rules/{rule_id}",
            post(rule_change),
        )
        .route("/app/evaluation/entry", get(entry_page).post(entry_save))
        .route(
            "/app/evaluation/import",
            get(import_page).post(import_upload),
        )
        .route("/app/evaluation/template", get(template_download))
        .route("/app/evaluation/completeness", get(completeness_page))
        .route("/app/evaluation/feeds", post(feeds_pull))
        .route("/app/evaluation/runs", get(runs_page).post(run_start))
        .route("/app/evaluation/runs/{id}", get(run_page))
        .route("/app/evaluation/runs/{id}/status", get(run_status))
}

#[derive(Deserialize, Default)]
struct Flash {
    msg: Option<String>,
    err: Option<String>,
}

fn enc(s: &str) -> String {
    qcity_platform::web::urlencode(s)
}

fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

/// Chooses the framework: the requested one, else the city quality framework, else the first.
fn choose_fw(fws: &[FrameworkView], id: Option<i64>) -> Option<FrameworkView> {
    id.and_then(|i| fws.iter().find(|f| f.id == i))
        .or_else(|| fws.iter().find(|f| f.code == "CQ"))
        .or_else(|| fws.first())
        .cloned()
}

fn opt_f(s: &str, field: &str) -> Result<Option<f64>, AppError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| AppError::validation(field, format!("`{t}` is not a number")))
}

/// A form field error as a store error (so it is shown on the page like the others).
fn app_to_eval(e: AppError) -> crate::store::EvalError {
    match e {
        AppError::Validation { field, message } => {
            crate::store::EvalError::Invalid { field, message }
        }
        other => crate::store::EvalError::invalid("form", other.to_string()),
    }
}

/// The query of the entry grid; the completeness and runs pages take the same one.
#[derive(Deserialize, Default)]
struct EntryQuery {
    framework_id: Option<i64>,
    region: Option<String>,
    year: Option<i32>,
    department: Option<String>,
    status: Option<String>,
    msg: Option<String>,
    err: Option<String>,
}
