//! The request body of an upload, read no further than the byte limit.

use super::error::{UploadError, UploadErrorKind};
use super::limits::Limits;
use crate::web::error::problem_response;
use crate::web::{AppError, AppState, PageError};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

/// Reads a body of at most `max_bytes`: a declared `Content-Length` over the limit is refused
/// before a byte is read, and reading stops as soon as the limit is passed (413).
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    max_bytes: usize,
) -> Result<Bytes, UploadError> {
    let too_large = |n: u64| {
        UploadError::too_large(UploadErrorKind::TooLarge, "the upload", n, max_bytes as u64)
    };
    if let Some(n) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        && n > max_bytes as u64
    {
        return Err(too_large(n));
    }
    axum::body::to_bytes(body, max_bytes).await.map_err(|e| {
        // A length-limit error anywhere in the chain means the body was too long; anything
        // else is a transport failure of the client's upload.
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = src {
            if s.is::<http_body_util::LengthLimitError>() {
                return too_large(max_bytes as u64 + 1);
            }
            src = s.source();
        }
        UploadError::malformed(format!("the upload could not be read: {e}"))
    })
}

/// An uploaded file as the request body, read within `upload.max_bytes` (413 problem+json past
/// it), with the limits the import is to be parsed under and the request's content type.
pub struct Upload {
    pub bytes: Bytes,
    pub limits: Limits,
    /// `Content-Type` as sent (a multipart boundary is case-sensitive; empty when absent).
    pub content_type: String,
}

impl FromRequest<AppState> for Upload {
    /// problem+json under `/api/`, the error page elsewhere.
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        let limits = Limits::from_config(&st.config.upload);
        let is_api = req.uri().path().starts_with("/api/");
        let (parts, body) = req.into_parts();
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = read_body(&parts.headers, body, limits.max_bytes)
            .await
            .map_err(|e| {
                let e = AppError::Upload(e);
                if is_api {
                    problem_response(&e)
                } else {
                    PageError(e).into_response()
                }
            })?;
        Ok(Upload {
            bytes,
            limits,
            content_type,
        })
    }
}
