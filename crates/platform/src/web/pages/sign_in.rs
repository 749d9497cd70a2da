//! Signing in and out, and the language switch.

use crate::auth::session::{self, SessionCookie};
use crate::auth::{Principal, password};
use crate::entity::user;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::store::{self};
use crate::web::cookies;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{CsrfToken, ReqLang};
use crate::web::layout::PageCtx;
use crate::web::render::render;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/lang", get(switch_lang))
}

/// A safe local redirect target: `next` when it is a path of this origin, `/` when it is not,
/// `/app` when there is none.
fn local_next(next: Option<&str>) -> String {
    crate::web::redirect::local_target(next, "/app")
}

/// The client's address (`X-Forwarded-For` believed only from `server.trusted_proxies`).
fn client_ip(st: &AppState, conn: Option<&ConnectInfo<SocketAddr>>, headers: &HeaderMap) -> String {
    let Some(peer) = conn.map(|c| c.0.ip()) else {
        return "local".into();
    };
    crate::web::client_addr::TrustedProxies::parse(&st.config.server.trusted_proxies)
        .unwrap_or_default()
        .client_ip(peer, headers)
        .to_string()
}

/// Whether the client asked for JSON (a script signing in) rather than a page.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") || a.contains("application/problem+json"))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    error: String,
    username: String,
    next: String,
    cities: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    State(st): State<AppState>,
    lang: ReqLang,
    csrf: CsrfToken,
    req: Request,
) -> Result<Response, PageError> {
    if req.extensions().get::<Principal>().is_some() {
        return Ok(Redirect::to("/app").into_response());
    }
    let q: Query<NextQuery> =
        Query::try_from_uri(req.uri()).unwrap_or(Query(NextQuery { next: None }));
    let t = lang.tr();
    let cities = city_choices(&st, lang.0).await?;
    let page = LoginPage {
        ctx: PageCtx::public(lang.0, &csrf.0, "/login", t.t("login-title")),
        error: String::new(),
        username: String::new(),
        next: local_next(q.next.as_deref()),
        cities,
    };
    Ok(render(&page)?.into_response())
}

async fn city_choices(st: &AppState, lang: Lang) -> Result<Vec<(String, String)>, PageError> {
    let cities = store::cities::list_all_cities(&st.db).await?;
    if cities.len() < 2 {
        return Ok(Vec::new());
    }
    let t = crate::i18n::Tr::new(lang);
    Ok(cities
        .iter()
        .map(|c| (c.code.clone(), t.pick(&c.name_zh, &c.name_en).to_string()))
        .collect())
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    city: Option<String>,
    next: Option<String>,
}

async fn login_submit(
    State(st): State<AppState>,
    lang: ReqLang,
    csrf: CsrfToken,
    headers: HeaderMap,
    conn: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let t = lang.tr();
    let ip = client_ip(&st, conn.as_ref().map(|e| &e.0), &headers);
    let username = f.username.trim().to_string();
    let fail = |key: &str, cities: Vec<(String, String)>| -> Result<Response, PageError> {
        let page = LoginPage {
            ctx: PageCtx::public(lang.0, &csrf.0, "/login", t.t("login-title")),
            error: t.t(key),
            username: username.clone(),
            next: local_next(f.next.as_deref()),
            cities,
        };
        Ok((axum::http::StatusCode::UNAUTHORIZED, render(&page)?).into_response())
    };
    // Reserved before the password is checked: concurrent guesses count one by one.
    let attempt = match st.throttle.begin(&username, &ip) {
        Ok(a) => a,
        Err(wait) => {
            tracing::warn!(ip = %ip, "login throttled");
            let secs = wait.as_secs().max(1);
            if wants_json(&headers) {
                return Ok(crate::web::error::problem_response(&AppError::RateLimited(
                    secs,
                )));
            }
            let mut r = fail("login-throttled", city_choices(&st, lang.0).await?)?;
            *r.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(r);
        }
    };
    let mut candidates = store::users::by_username_any_city(&st.db, &username).await?;
    if let Some(code) = f.city.as_deref().filter(|c| !c.is_empty())
        && let Some(c) = store::cities::by_code(&st.db, code).await?
    {
        candidates.retain(|u| u.city_id == c.id);
    }
    let user: Option<user::Model> = if candidates.len() == 1 {
        candidates.pop()
    } else {
        None
    };
    let ok = match &user {
        Some(u) if !u.disabled => {
            password::verify_async(f.password.clone(), u.password_hash.clone()).await
        }
        _ => {
            // Same work as a real check, so timing does not reveal whether the name exists.
            let _ = password::verify_async(f.password.clone(), password::dummy_hash().to_string())
                .await;
            false
        }
    };
    let Some(u) = user.filter(|_| ok) else {
        // The reserved attempt stays counted as a failure.
        drop(attempt);
        tracing::info!(ip = %ip, "login failed");
        return fail("login-failed", city_choices(&st, lang.0).await?);
    };
    attempt.succeeded();
    // A fresh session id at every sign-in: end the one the browser came with.
    if let Some(c) = cookies::get(&headers, session::COOKIE).and_then(|v| SessionCookie::parse(&v))
    {
        session::destroy(&st.db, &c).await?;
    }
    let (cookie, _csrf) = session::create(&st.db, u.city_id, u.id, st.session_policy()).await?;
    tracing::info!(user = %u.username, city_id = u.city_id, "signed in");
    let secure = st.config.secure_cookies();
    let mut resp = Redirect::to(&local_next(f.next.as_deref())).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            session::COOKIE,
            &cookie.value(),
            Some(st.config.security.session_absolute_hours * 3600),
            secure,
            true,
        ),
    );
    if let Some(l) = u.lang.as_deref().and_then(Lang::parse) {
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(LANG_COOKIE, l.code(), Some(31_536_000), secure, false),
        );
    }
    Ok(resp)
}

async fn logout(State(st): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    if let Some(c) = cookies::get(&headers, session::COOKIE).and_then(|v| SessionCookie::parse(&v))
    {
        session::destroy(&st.db, &c).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(session::COOKIE, st.config.secure_cookies()),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct LangQuery {
    set: String,
    next: Option<String>,
}

/// Switches the UI language, remembers it in a cookie for a year, and returns to `next` or
/// else to the page the switch was clicked on (same-origin `Referer`).
async fn switch_lang(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = Lang::parse(&q.set).unwrap_or_default();
    let back = q.next.clone().or_else(|| {
        let r = headers.get(header::REFERER)?.to_str().ok()?;
        let host = headers.get(header::HOST)?.to_str().ok()?;
        let rest = r
            .strip_prefix("http://")
            .or_else(|| r.strip_prefix("https://"))?;
        rest.strip_prefix(host).map(str::to_string)
    });
    let mut resp = Redirect::to(&local_next(back.as_deref())).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(
            LANG_COOKIE,
            lang.code(),
            Some(31_536_000),
            st.config.secure_cookies(),
            false,
        ),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn redirects_stay_local() {
        assert_eq!(local_next(Some("/app/x")), "/app/x");
        assert_eq!(local_next(Some("//evil.example")), "/");
        assert_eq!(local_next(Some("https://evil.example")), "/");
        assert_eq!(local_next(Some("/\t/evil.example")), "/");
        assert_eq!(local_next(None), "/app");
    }
}
