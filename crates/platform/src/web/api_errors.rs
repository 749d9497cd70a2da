//! The last word on error responses: a panicking handler answers 500 (problem+json under `/api/`,
//! the error page elsewhere) instead of dropping the connection, and any 4xx/5xx under `/api/`
//! that is not problem+json yet (an unknown path, a method the route lacks, a refusal of a
//! layer) becomes one, keeping its status and headers (`Allow`, `Retry-After`).

use crate::web::error::{AppError, PageError, problem_response};
use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;

/// Catches panics and gives every API error the problem+json shape (see the module doc).
pub async fn api_problems(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".into());
            let e = AppError::Internal(format!("handler panicked on {method} {path}: {msg}"));
            return if is_api {
                problem_response(&e)
            } else {
                PageError(e).into_response()
            };
        }
    };
    let status = resp.status();
    if !is_api || !(status.is_client_error() || status.is_server_error()) || is_json(&resp) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let (code, default_detail) = code_of(status);
    // A server error's text stays in the log.
    let detail = if status.is_server_error() {
        if !text.is_empty() {
            tracing::error!(%status, %path, body = %text, "API error without a problem body");
        }
        default_detail.to_string()
    } else if text.is_empty() {
        default_detail.to_string()
    } else {
        text
    };
    let mut out = problem_response(&AppError::Rejected {
        status,
        code,
        field: None,
        detail,
    });
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// A JSON body is a handler's own answer: problem+json, or a documented report such as an
/// import's row errors (`422` with `committed: false`); it is left as it is.
fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| {
            let c = c.split(';').next().unwrap_or_default().trim();
            c == "application/json" || c.ends_with("+json")
        })
}

/// Stable code and default detail of a status no handler explained.
fn code_of(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => ("bad_request", "the request is malformed"),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "authentication required"),
        StatusCode::FORBIDDEN => ("forbidden", "not permitted"),
        StatusCode::NOT_FOUND => ("not_found", "no such API endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not accept that method; see the `Allow` header",
        ),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than this endpoint accepts",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "this endpoint does not accept that content type",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("validation_failed", "the request is invalid"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the service is unavailable"),
        s if s.is_server_error() => ("internal", "internal error"),
        _ => ("request_refused", "the request was refused"),
    }
}
