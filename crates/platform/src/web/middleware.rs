//! Request middleware: authentication (session cookie or bearer token), CSRF guard, language,
//! security headers.

use crate::auth::session::{self, SessionCookie};
use crate::auth::token::{self, BearerToken};
use crate::auth::{AuthVia, Principal, RegionScope, Role};
use crate::entity::user;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::ids;
use crate::store;
use crate::web::cookies;
use crate::web::error::{AppError, PageError, problem_response};
use crate::web::extract::{CsrfToken, ReqLang};
use crate::web::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Cookie carrying the CSRF token of a visitor who is not signed in (double-submit).
pub const PRE_SESSION_CSRF_COOKIE: &str = "qcity_csrf";
/// Header htmx and scripts send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form field plain HTML forms send it in.
pub const CSRF_FIELD: &str = "_csrf";
/// Largest URL-encoded form body the CSRF guard reads to find the token: axum's default body
/// limit, which every `Form` extractor applies (no route raises it for forms).
pub const FORM_BODY_LIMIT: usize = 2 * 1024 * 1024;

async fn principal_for_user(
    st: &AppState,
    u: user::Model,
    via: AuthVia,
) -> Result<Option<Principal>, AppError> {
    if u.disabled {
        return Ok(None);
    }
    let Some(city) = store::cities::by_id(&st.db, u.city_id).await? else {
        return Ok(None);
    };
    let role: Role = u.role.parse().map_err(AppError::internal)?;
    Ok(Some(Principal {
        city_id: u.city_id,
        city_code: city.code,
        user_id: u.id,
        username: u.username,
        display_name: u.display_name,
        role,
        scope: RegionScope::new(u.city_id, &u.region_code),
        company_id: u.company_id,
        enterprise_id: u.enterprise_id,
        via,
    }))
}

/// Resolves who is asking and in which language; stores both in the request's extensions.
pub async fn authenticate(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let is_api = req.uri().path().starts_with("/api/");
    let mut set_cookies: Vec<HeaderValue> = Vec::new();
    let secure = st.config.secure_cookies();
    let mut principal = None;

    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let Some(raw) = auth.strip_prefix("Bearer ") else {
            return problem_response(&AppError::Unauthenticated);
        };
        let Some(bt) = BearerToken::parse(raw.trim()) else {
            return problem_response(&AppError::Unauthenticated);
        };
        let hash = ids::sha256_hex(&bt.full);
        if let Some(p) = st.tokens.get(&hash) {
            principal = Some(p);
        } else {
            let generation = st.tokens.generation();
            let found = match token::lookup(&st.db, &bt).await {
                Ok(f) => f,
                Err(e) => return problem_response(&AppError::internal(e)),
            };
            let Some(t) = found else {
                return problem_response(&AppError::Unauthenticated);
            };
            let u = match store::users::by_id(&st.db, t.city_id, t.user_id).await {
                Ok(Some(u)) => u,
                Ok(None) => return problem_response(&AppError::Unauthenticated),
                Err(e) => return problem_response(&e.into()),
            };
            match principal_for_user(&st, u, AuthVia::Token { token_id: t.id }).await {
                Ok(Some(p)) => {
                    st.tokens.put(hash, p.clone(), generation);
                    principal = Some(p);
                }
                Ok(None) => return problem_response(&AppError::Unauthenticated),
                Err(e) => return problem_response(&e),
            }
        }
    } else if let Some(raw) = cookies::get(&headers, session::COOKIE) {
        let mut valid = false;
        if let Some(c) = SessionCookie::parse(&raw) {
            match session::load(&st.db, &c, st.session_policy(), chrono::Utc::now()).await {
                Ok(Some(s)) => match store::users::by_id(&st.db, s.city_id, s.user_id).await {
                    Ok(Some(u)) => {
                        match principal_for_user(
                            &st,
                            u,
                            AuthVia::Session {
                                csrf_token: s.csrf_token,
                            },
                        )
                        .await
                        {
                            Ok(Some(p)) => {
                                principal = Some(p);
                                valid = true;
                            }
                            Ok(None) => {}
                            Err(e) => return error_for(is_api, e),
                        }
                    }
                    Ok(None) => {}
                    Err(e) => return error_for(is_api, e.into()),
                },
                Ok(None) => {}
                Err(e) => return error_for(is_api, e.into()),
            }
        }
        if !valid {
            set_cookies.push(cookies::clear(session::COOKIE, secure));
        }
    }

    let lang = cookies::get(&headers, LANG_COOKIE)
        .and_then(|c| Lang::parse(&c))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .or_else(|| Lang::parse(&st.config.server.default_lang))
        .unwrap_or_default();
    req.extensions_mut().insert(ReqLang(lang));

    let csrf = match principal.as_ref().and_then(|p| p.csrf_token()) {
        Some(t) => t.to_string(),
        None => match cookies::get(&headers, PRE_SESSION_CSRF_COOKIE).filter(|v| v.len() >= 32) {
            Some(v) => v,
            None => {
                let v = ids::random_token(32);
                set_cookies.push(cookies::set(
                    PRE_SESSION_CSRF_COOKIE,
                    &v,
                    None,
                    secure,
                    true,
                ));
                v
            }
        },
    };
    req.extensions_mut().insert(CsrfToken(csrf));
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    let mut resp = next.run(req).await;
    for c in set_cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

fn error_for(is_api: bool, e: AppError) -> Response {
    if is_api {
        problem_response(&e)
    } else {
        PageError(e).into_response()
    }
}

/// Rejects a state-changing request from a browser that does not carry the CSRF token of its
/// session (or, before sign-in, of its pre-session cookie). Bearer-token requests carry no
/// cookies and need none; neither does an API request with no principal at all: it exercises
/// no ambient authority, and its handler answers `401` (or serves a public endpoint that anyone
/// may call directly anyway).
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let is_api = req.uri().path().starts_with("/api/");
    let principal = req.extensions().get::<Principal>();
    let via_token = principal.is_some_and(|p| matches!(p.via, AuthVia::Token { .. }));
    if via_token || (is_api && principal.is_none()) {
        return next.run(req).await;
    }
    let expected = req
        .extensions()
        .get::<CsrfToken>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let mut provided = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if provided.is_none() {
        provided = req.uri().query().and_then(|q| form_value(q, CSRF_FIELD));
    }
    let (parts, body) = req.into_parts();
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let body = if provided.is_none() && is_form {
        // The token is in the form itself: read it, but never more than a form route accepts
        // (a declared length over the limit is refused before a byte is read).
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > FORM_BODY_LIMIT as u64) {
            return error_for(is_api, AppError::PayloadTooLarge(FORM_BODY_LIMIT));
        }
        match to_bytes(body, FORM_BODY_LIMIT).await {
            Ok(bytes) => {
                provided = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| form_value(s, CSRF_FIELD));
                Body::from(bytes)
            }
            Err(_) => return error_for(is_api, AppError::PayloadTooLarge(FORM_BODY_LIMIT)),
        }
    } else {
        body
    };
    let ok = !expected.is_empty()
        && provided
            .as_deref()
            .is_some_and(|p| ids::constant_time_eq(p, &expected));
    if !ok {
        tracing::warn!(path = %parts.uri.path(), "CSRF check failed");
        return error_for(is_api, AppError::Csrf);
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Value of `key` in a `application/x-www-form-urlencoded` string.
pub fn form_value(s: &str, key: &str) -> Option<String> {
    s.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let h = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Security headers on every response; the CSP allows only our own scripts (no inline script,
/// no external origin).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn form_values_decode() {
        assert_eq!(
            form_value("a=1&_csrf=ab%2Bc+d&z=2", "_csrf").as_deref(),
            Some("ab+c d")
        );
        assert_eq!(form_value("a=1", "_csrf"), None);
        assert_eq!(form_value("x=%E5%B8%82", "x").as_deref(), Some("市"));
        assert_eq!(form_value("x=%4", "x").as_deref(), Some("%4"));
    }
}
