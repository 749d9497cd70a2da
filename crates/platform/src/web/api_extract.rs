//! Extractors for `/api/v1` handlers whose rejections are problem+json with a stable `code` and
//! the field serde names: [`ApiJson`] (body), [`ApiQuery`] (query string), [`ApiPath`] (path).
//!
//! | refusal | status | `code` |
//! |---|---|---|
//! | body without a JSON content type | 415 | `unsupported_media_type` |
//! | body over the route's limit | 413 | `payload_too_large` |
//! | body that is not JSON | 400 | `malformed_json` |
//! | JSON that does not match the expected shape | 422 | `invalid_body` |
//! | query parameter that does not parse | 422 | `invalid_query` |
//! | path parameter that does not parse | 400 | `invalid_path` |

use crate::web::error::{ApiError, AppError};
use axum::body::Bytes;
use axum::extract::RawPathParams;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

/// A JSON request body; refusals are problem+json (see the module's table).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// A query string; a parameter that does not parse is `422 invalid_query` naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

/// Path parameters; one that does not parse is `400 invalid_path` naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

fn rejected(
    status: StatusCode,
    code: &'static str,
    field: Option<String>,
    detail: String,
) -> ApiError {
    ApiError(AppError::Rejected {
        status,
        code,
        field,
        detail,
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The field a serde error is about: the path serde walked, plus the name of a missing field.
fn field_of(path: &serde_path_to_error::Path, message: &str) -> Option<String> {
    let mut p = path.to_string();
    if p == "." {
        p.clear();
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(name) = rest.split('`').next()
    {
        if p.is_empty() {
            p = name.to_string();
        } else {
            p = format!("{p}.{name}");
        }
    }
    (!p.is_empty()).then_some(p)
}

/// Parses a JSON body the way [`ApiJson`] does (for handlers that read the bytes themselves).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        let message = inner.to_string();
        match inner.classify() {
            serde_json::error::Category::Data => rejected(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                field_of(e.path(), &message).or(Some("body".into())),
                message,
            ),
            _ => rejected(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                None,
                format!("the body is not valid JSON: {message}"),
            ),
        }
    })?;
    de.end().map_err(|e| {
        rejected(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

fn not_json() -> ApiError {
    rejected(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
        "expected a body with `Content-Type: application/json`".into(),
    )
}

fn bytes_rejection(r: BytesRejection) -> ApiError {
    let status = r.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        rejected(
            status,
            "payload_too_large",
            None,
            "the request body is larger than this endpoint accepts".into(),
        )
    } else {
        rejected(
            StatusCode::BAD_REQUEST,
            "unreadable_body",
            None,
            r.body_text(),
        )
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(not_json());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// An optional JSON body: none without a `Content-Type` or with an empty body.
impl<T: DeserializeOwned, S: Send + Sync> OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if !req.headers().contains_key(header::CONTENT_TYPE) {
            return Ok(None);
        }
        if !is_json(req.headers()) {
            return Err(not_json());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        parse_json(&bytes).map(|v| Some(ApiJson(v)))
    }
}

/// Parses a query string the way [`ApiQuery`] does.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = e.inner().to_string();
        let field = field_of(e.path(), &message);
        let detail = match &field {
            Some(f) => format!("query parameter `{f}`: {message}"),
            None => format!("query string: {message}"),
        };
        rejected(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            field.or(Some("query".into())),
            detail,
        )
    })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// `only_key`: the name of the route's one path parameter, if it has exactly one (a single value
/// such as `Path<i64>` is refused without naming its key).
fn path_rejection(r: PathRejection, only_key: Option<String>) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(e) = &r else {
        // Only a route without path parameters could get here: a server bug.
        return ApiError(AppError::internal(r.body_text()));
    };
    let field = match e.kind() {
        ErrorKind::ParseErrorAtKey { key, .. } | ErrorKind::InvalidUtf8InPathParam { key } => {
            Some(key.clone())
        }
        _ => only_key,
    };
    let detail = match e.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => format!("path parameter `{key}`: `{value}` is not a valid {expected_type}"),
        other => format!("path: {other}"),
    };
    rejected(StatusCode::BAD_REQUEST, "invalid_path", field, detail)
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(r) => {
                let only_key = match RawPathParams::from_request_parts(parts, state).await {
                    Ok(raw) if raw.iter().count() == 1 => {
                        raw.iter().next().map(|(k, _)| k.to_string())
                    }
                    _ => None,
                };
                Err(path_rejection(r, only_key))
            }
        }
    }
}

/// The years a request may name (`year` in a query or body); outside them `422` naming the
/// field, before any date arithmetic can overflow.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

fn check_year<E: serde::de::Error>(y: i32) -> Result<i32, E> {
    if YEARS.contains(&y) {
        Ok(y)
    } else {
        Err(E::custom(format!(
            "year {y} is outside {}..={}",
            YEARS.start(),
            YEARS.end()
        )))
    }
}

/// `#[serde(deserialize_with = "qcity_platform::web::api_extract::year")]`: a year in [`YEARS`].
pub fn year<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    check_year(<i32 as serde::Deserialize>::deserialize(d)?)
}

/// Like [`year`] for an optional field (with `#[serde(default)]`).
pub fn opt_year<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    <Option<i32> as serde::Deserialize>::deserialize(d)?
        .map(check_year)
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        to: String,
        version: Option<i32>,
        items: Option<Vec<Item>>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        n: u8,
    }

    fn problem(e: ApiError) -> (StatusCode, &'static str, Option<String>) {
        match e.0 {
            AppError::Rejected {
                status,
                code,
                field,
                ..
            } => (status, code, field),
            other => panic!("not a rejection: {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"version": 1}"#).unwrap_err();
        assert_eq!(
            problem(e),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                Some("to".into())
            )
        );
        let e = parse_json::<Body>(br#"{"to": "x", "version": "one"}"#).unwrap_err();
        assert_eq!(problem(e).2.as_deref(), Some("version"));
        let e = parse_json::<Body>(br#"{"to": "x", "items": [{"n": 1}, {"n": 300}]}"#).unwrap_err();
        assert_eq!(problem(e).2.as_deref(), Some("items[1].n"));
        let e = parse_json::<Body>(br#"{"to": "#).unwrap_err();
        assert_eq!(
            problem(e),
            (StatusCode::BAD_REQUEST, "malformed_json", None)
        );
        let e = parse_json::<Body>(br#"{"to": "x"} trailing"#).unwrap_err();
        assert_eq!(problem(e).1, "malformed_json");
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Q {
        #[serde(default, deserialize_with = "opt_year")]
        year: Option<i32>,
        level: Option<String>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = parse_query::<Q>("level=x&year=abc").unwrap_err();
        assert_eq!(
            problem(e),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query",
                Some("year".into())
            )
        );
        assert!(parse_query::<Q>("").is_ok());
        assert_eq!(parse_query::<Q>("year=2025").unwrap().year, Some(2025));
        let e = parse_query::<Q>("year=262142").unwrap_err();
        assert_eq!(problem(e).2.as_deref(), Some("year"));
    }

    #[test]
    fn json_content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(is_json(&h));
        h.insert(
            header::CONTENT_TYPE,
            "application/merge-patch+json".parse().unwrap(),
        );
        assert!(is_json(&h));
        h.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&h));
    }
}
