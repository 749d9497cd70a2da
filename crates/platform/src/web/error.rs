//! Errors: RFC 9457 problem+json with a stable `code` for the API; an error page for people.

use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

/// An error a handler returns; the wrapper type decides how it is shown.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("not permitted")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(String),
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// A conflict with the current state; `code` says which (the problem's `code`).
    #[error("{detail}")]
    Conflict { code: ConflictCode, detail: String },
    /// A request refused before the handler ran: a body that is not JSON, a wrong content type,
    /// a query or path parameter that does not parse (see [`crate::web::api_extract`]).
    #[error("{detail}")]
    Rejected {
        status: StatusCode,
        code: &'static str,
        field: Option<String>,
        detail: String,
    },
    #[error("CSRF token missing or invalid")]
    Csrf,
    #[error("too many attempts; retry in {0} s")]
    RateLimited(u64),
    #[error("request body larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the database is out of storage space; nothing was saved")]
    StorageFull,
    #[error("internal error")]
    Internal(String),
    /// An upload refused: over a limit (413 / 422) or unreadable (422).
    #[error("{0}")]
    Upload(crate::upload::UploadError),
}

impl From<crate::auth::Forbidden> for AppError {
    fn from(_: crate::auth::Forbidden) -> Self {
        AppError::Forbidden
    }
}

impl From<crate::upload::UploadError> for AppError {
    fn from(e: crate::upload::UploadError) -> Self {
        AppError::Upload(e)
    }
}

impl AppError {
    pub fn conflict(code: ConflictCode, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            detail: detail.into(),
        }
    }
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.to_string(),
            message: message.into(),
        }
    }
    /// An internal error; a database that ran out of space becomes [`AppError::StorageFull`].
    pub fn internal(e: impl std::fmt::Display) -> Self {
        let msg = e.to_string();
        if is_storage_full(&msg) {
            tracing::error!(error = %msg, "database storage full: writes are refused until space is freed");
            return AppError::StorageFull;
        }
        AppError::Internal(msg)
    }
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Validation { .. } => "validation_failed",
            AppError::Conflict { code, .. } => code.as_str(),
            AppError::Rejected { code, .. } => code,
            AppError::Csrf => "csrf_failed",
            AppError::RateLimited(_) => "rate_limited",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::StorageFull => "storage_full",
            AppError::Internal(_) => "internal",
            AppError::Upload(e) => e.code(),
        }
    }
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Rejected { status, .. } => *status,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Upload(e) => e.status(),
        }
    }
    fn public_detail(&self) -> String {
        match self {
            // Internal details go to the log, never to the client.
            AppError::Internal(msg) => {
                tracing::error!(error = %msg, "internal error");
                "internal error".into()
            }
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(e) => AppError::internal(e),
            StoreError::Invalid { field, message } => AppError::Validation { field, message },
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::Conflict { code, detail } => AppError::Conflict { code, detail },
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::internal(e)
    }
}

/// Whether a database error says the storage is full: SQLite's `SQLITE_FULL` (a full disk or
/// `max_page_count` reached) or PostgreSQL's `disk_full` (SQLSTATE 53100).
pub fn is_storage_full(message: &str) -> bool {
    message.contains("database or disk is full")
        || message.contains("No space left on device")
        || message.contains("53100")
}

/// Why a request conflicts with the current state: the `code` of a 409 answer, one list for the
/// whole API so that clients can branch on it (the OpenAPI document lists them). A new code is
/// added here, for a new situation; an existing answer keeps its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictCode {
    /// The current state does not allow the request (a duplicate key, a row still in use, a step
    /// the record's status does not allow); `detail` says which.
    Conflict,
    /// An incident's state machine does not allow this step from its current state.
    IllegalTransition,
    /// The version the client last saw is no longer the current one (`If-Match`, `version`).
    StaleVersion,
}

impl ConflictCode {
    pub const ALL: [ConflictCode; 3] = [
        ConflictCode::Conflict,
        ConflictCode::IllegalTransition,
        ConflictCode::StaleVersion,
    ];

    /// The code as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictCode::Conflict => "conflict",
            ConflictCode::IllegalTransition => "illegal_transition",
            ConflictCode::StaleVersion => "stale_version",
        }
    }

    /// What it means, as the OpenAPI document says it.
    pub fn meaning(self) -> &'static str {
        match self {
            ConflictCode::Conflict => "the current state does not allow the request",
            ConflictCode::IllegalTransition => {
                "the state machine does not allow this step from the current state"
            }
            ConflictCode::StaleVersion => "the version last seen is no longer current",
        }
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable error code (e.g. `not_found`, `validation_failed`, `conflict`).
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Row of an uploaded file the problem is in (the header is row 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// Column (spreadsheet letter) of an uploaded file the problem is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

/// Error of an API handler: problem+json.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem_response(&self.0)
    }
}

/// The problem+json response for an error.
pub fn problem_response(e: &AppError) -> Response {
    let status = e.status();
    let body = Problem {
        type_: format!("/problems/{}", e.code()),
        title: status.canonical_reason().unwrap_or("error").to_string(),
        status: status.as_u16(),
        detail: e.public_detail(),
        code: e.code().to_string(),
        field: match e {
            AppError::Validation { field, .. } => Some(field.clone()),
            AppError::Upload(u) => u.field.clone(),
            AppError::Rejected { field, .. } => field.clone(),
            _ => None,
        },
        row: match e {
            AppError::Upload(u) => u.row,
            _ => None,
        },
        column: match e {
            AppError::Upload(u) => u.column.clone(),
            _ => None,
        },
    };
    let mut resp = (status, serde_json::to_string(&body).unwrap_or_default()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let AppError::RateLimited(s) = e
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Error of a page handler: a redirect to the login page, or a small error page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, AppError::Unauthenticated) {
            return Redirect::to("/login").into_response();
        }
        let status = self.0.status();
        let detail = html_escape(&self.0.public_detail());
        let body = format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{code} {status}</title>\
             <link rel=\"stylesheet\" href=\"/assets/qcity.css\"></head><body class=\"error-page\"><main>\
             <h1>{status}</h1><p>{detail}</p><p><code>{code}</code></p><p><a href=\"/app\">qcity</a></p></main></body></html>",
            code = self.0.code(),
            status = status.as_u16(),
        );
        (status, Html(body)).into_response()
    }
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod conflict_codes {
    use super::ConflictCode;

    /// The code sent is the code the schema documents (serde's name), and none repeats.
    #[test]
    fn each_code_is_sent_as_documented() {
        let mut seen = std::collections::HashSet::new();
        for c in ConflictCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert!(seen.insert(c.as_str()), "{} twice", c.as_str());
            assert!(!c.meaning().is_empty());
        }
    }

    /// `ALL` lists every variant: a new one fails to compile here until it is added (else the
    /// document's 409 description would leave it out).
    #[test]
    fn all_lists_every_variant() {
        for (i, c) in ConflictCode::ALL.into_iter().enumerate() {
            let position = match c {
                ConflictCode::Conflict => 0,
                ConflictCode::IllegalTransition => 1,
                ConflictCode::StaleVersion => 2,
            };
            assert_eq!(position, i);
        }
    }
}

#[cfg(test)]
mod problem_snapshots {
    use super::*;
    use crate::upload::{UploadError, UploadErrorKind};

    /// Status, content type and body of the problem+json response for `e`.
    async fn shown(e: AppError) -> serde_json::Value {
        let r = problem_response(&e);
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let retry = r
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        serde_json::json!({"status": status, "content_type": ctype, "retry_after": retry, "body": body})
    }

    /// Every kind of error as API clients receive it: a change here breaks them, so it shows in
    /// review as a snapshot diff.
    #[tokio::test]
    async fn every_problem_body() {
        let cases: Vec<(&str, AppError)> = vec![
            ("unauthenticated", AppError::Unauthenticated),
            ("forbidden", AppError::Forbidden),
            ("not_found", AppError::NotFound("survey wave".into())),
            (
                "validation",
                AppError::validation("credit_code", "check character does not match"),
            ),
            (
                "conflict",
                AppError::conflict(
                    ConflictCode::Conflict,
                    "an enterprise with this credit code exists",
                ),
            ),
            (
                "conflict_code",
                AppError::conflict(
                    ConflictCode::IllegalTransition,
                    "a closed incident cannot be dispatched",
                ),
            ),
            (
                "rejected",
                AppError::Rejected {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "invalid_body",
                    field: Some("year".into()),
                    detail: "year: invalid type: string, expected i32".into(),
                },
            ),
            ("csrf", AppError::Csrf),
            ("rate_limited", AppError::RateLimited(30)),
            ("payload_too_large", AppError::PayloadTooLarge(1024)),
            ("storage_full", AppError::StorageFull),
            (
                "internal_hides_its_detail",
                AppError::Internal("password=hunter2 at db.rs:1".into()),
            ),
            (
                "upload_row",
                AppError::Upload(
                    UploadError::new(UploadErrorKind::Malformed, "not a number: `七`")
                        .at_row(12)
                        .at_column("D")
                        .with_field("value"),
                ),
            ),
            (
                "upload_too_large",
                AppError::Upload(UploadError::too_large(
                    UploadErrorKind::TooLarge,
                    "file",
                    9_000_000,
                    8_000_000,
                )),
            ),
        ];
        for (name, e) in cases {
            insta::assert_json_snapshot!(name, shown(e).await);
        }
    }
}
