//! The shell's pages: sign-in, language switch, home dashboard, administration (users, regions,
//! tokens, audit log).

use crate::audit::{self, Actor, AuditEntry, AuditQuery};
use crate::auth::session::{self, SessionCookie};
use crate::auth::{Capability, Principal, Role, password, token};
use crate::db::BeginWrite;
use crate::entity::{api_token, region, user};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::module::Tile;
use crate::store::{
    self,
    regions::RegionView,
    users::{NewUser, UserView, Username},
};
use crate::web::cookies;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{CsrfToken, PageUser, ReqLang};
use crate::web::layout::PageCtx;
use crate::web::state::AppState;
use crate::web::urlencode;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use std::net::SocketAddr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/lang", get(switch_lang))
        .route("/app", get(home))
        .route("/app/jobs", get(jobs_fragment))
        .route("/app/admin/users", get(users_page).post(user_create))
        .route("/app/admin/users/{id}/disable", post(user_disable))
        .route("/app/admin/users/{id}/enable", post(user_enable))
        .route("/app/admin/users/{id}/password", post(user_password))
        .route("/app/admin/regions", get(regions_page))
        .route("/app/admin/regions/{code}", post(region_rename))
        .route("/app/admin/tokens", get(tokens_page).post(token_create))
        .route("/app/admin/tokens/{id}/revoke", post(token_revoke))
        .route("/app/admin/audit", get(audit_page))
}

/// Renders a template into a page response.
pub fn render<T: Template>(t: &T) -> Result<Html<String>, PageError> {
    t.render()
        .map(Html)
        .map_err(|e| PageError(AppError::internal(e)))
}

/// JSON for embedding in a `<script type="application/json">` block: `<` is escaped so the
/// data can never close the script element.
pub fn embed_json(v: &serde_json::Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

/// The page frame for a signed-in principal.
pub async fn page_ctx(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    path: &str,
    title_key: &str,
) -> Result<PageCtx, PageError> {
    let t = lang.tr();
    let city = store::cities::by_id(&st.db, p.city_id)
        .await?
        .ok_or_else(|| AppError::NotFound("city".into()))?;
    let city_name = t.pick(&city.name_zh, &city.name_en).to_string();
    Ok(PageCtx::new(
        st,
        p,
        lang.0,
        &csrf.0,
        path,
        t.t(title_key),
        city_name,
    ))
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

// ---------- sign-in ----------

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

// ---------- home dashboard ----------

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    tiles: Vec<Tile>,
    chart_bar: String,
    chart_map: String,
    has_map: bool,
}

async fn home(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
) -> Result<Html<String>, PageError> {
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app", "home-title").await?;
    let t = lang.tr();
    let regions = st.visible_regions(&p.scope).await?;
    let districts: Vec<&region::Model> = regions.iter().filter(|r| r.level == "district").collect();
    let streets = regions.iter().filter(|r| r.level == "street").count();
    let population: i64 = districts.iter().filter_map(|r| r.population).sum();
    let mut tiles = vec![
        Tile {
            title: t.t("home-tile-districts"),
            value: districts.len().to_string(),
            note: t.t("home-tile-districts-note"),
            href: Some("/app/admin/regions".into()),
        },
        Tile {
            title: t.t("home-tile-streets"),
            value: streets.to_string(),
            note: String::new(),
            href: None,
        },
        Tile {
            title: t.t("home-tile-population"),
            value: format_thousands(population),
            note: t.t("home-tile-population-note"),
            href: None,
        },
    ];
    tiles.extend(module_tiles(&st, &p, t).await);
    let names: Vec<String> = districts
        .iter()
        .map(|r| t.pick(&r.name_zh, &r.name_en).to_string())
        .collect();
    let pops: Vec<f64> = districts
        .iter()
        .map(|r| r.population.unwrap_or(0) as f64 / 10_000.0)
        .collect();
    let bar = serde_json::json!({
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 60, "right": 20, "top": 30, "bottom": 60},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "name": t.t("home-chart-population-unit")},
        "series": [{"type": "bar", "name": t.t("home-tile-population"), "data": pops, "itemStyle": {"color": "#2f6db5"}}]
    });
    let has_map = districts.iter().any(|r| r.boundary.is_some());
    let density: Vec<serde_json::Value> = districts
        .iter()
        .map(|r| {
            let d = match (r.population, r.area_km2) {
                (Some(p), Some(a)) if a > 0.0 => (p as f64 / a).round(),
                _ => 0.0,
            };
            serde_json::json!({"name": r.code, "value": d, "label": t.pick(&r.name_zh, &r.name_en)})
        })
        .collect();
    let max = density
        .iter()
        .filter_map(|v| v["value"].as_f64())
        .fold(0.0_f64, f64::max);
    let map = serde_json::json!({
        "title": {"text": t.t("home-chart-density"), "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item"},
        "visualMap": {"min": 0, "max": max, "left": "left", "bottom": 10, "calculable": true, "inRange": {"color": ["#e8f1fb", "#2f6db5", "#12325c"]}},
        "series": [{"type": "map", "map": "districts", "nameProperty": "code", "roam": true, "data": density, "label": {"show": false}}]
    });
    let page = HomePage {
        ctx,
        tiles,
        chart_bar: embed_json(&bar),
        chart_map: embed_json(&map),
        has_map,
    };
    render(&page)
}

/// The modules' dashboard tiles for this principal, reused for `server.dashboard_cache_seconds`
/// (the key holds everything that scopes them: city, role, region scope, company, enterprise,
/// language).
async fn module_tiles(st: &AppState, p: &Principal, t: crate::i18n::Tr) -> Vec<Tile> {
    let key = format!(
        "{}|{:?}|{}|{:?}|{:?}|{}",
        p.city_id,
        p.role,
        p.scope.prefix,
        p.company_id,
        p.enterprise_id,
        t.code()
    );
    let (st2, p2) = (st.clone(), p.clone());
    st.dashboard_tiles
        .get_or_compute(key, move || async move {
            let mut tiles = Vec::new();
            for m in st2.modules.iter() {
                tiles.extend(m.dashboard_tiles(&st2, &p2, &t).await);
            }
            tiles
        })
        .await
}

/// Progress of background jobs (polled by htmx while any runs).
#[derive(Template)]
#[template(path = "jobs_fragment.html")]
struct JobsFragment {
    t: crate::i18n::Tr,
    jobs: Vec<crate::jobs::JobStatus>,
    running: bool,
}

async fn jobs_fragment(
    State(st): State<AppState>,
    PageUser(_p): PageUser,
    lang: ReqLang,
) -> Result<Html<String>, PageError> {
    let jobs = st.jobs.snapshot();
    let running = jobs
        .iter()
        .any(|j| j.state == crate::jobs::JobState::Running);
    render(&JobsFragment {
        t: lang.tr(),
        jobs,
        running,
    })
}

/// `1234567` → `1,234,567`.
pub fn format_thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

// ---------- users ----------

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    ctx: PageCtx,
    users: Vec<UserView>,
    roles: Vec<(&'static str, String)>,
    regions: Vec<(String, String)>,
    message: String,
    error: String,
}

#[derive(Deserialize, Default)]
struct Flash {
    msg: Option<String>,
    err: Option<String>,
}

async fn users_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    p.require(Capability::ManageUsers)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/users", "admin-users").await?;
    let t = lang.tr();
    let users = store::users::list_visible(&st.db, &p.scope)
        .await?
        .iter()
        .map(UserView::from)
        .collect();
    let regions = st
        .visible_regions(&p.scope)
        .await?
        .into_iter()
        .filter(|r| r.level != "community")
        .map(|r| {
            (
                r.code.clone(),
                format!("{} {}", r.code, t.pick(&r.name_zh, &r.name_en)),
            )
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .map(|r| (r.as_str(), t.t(&format!("role-{}", r.as_str()))))
        .collect();
    render(&UsersPage {
        ctx,
        users,
        roles,
        regions,
        message: fl.msg.map(|m| t.t(&m)).unwrap_or_default(),
        error: fl.err.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct NewUserForm {
    username: String,
    display_name: String,
    role: String,
    region: String,
    password: String,
}

fn flash_err(path: &str, e: &AppError) -> Response {
    Redirect::to(&format!("{path}?err={}", urlencode(&e.to_string()))).into_response()
}

async fn user_create(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Form(f): Form<NewUserForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageUsers)?;
    let r: Result<(), AppError> = async {
        let username = Username::parse(&f.username)?;
        let role: Role = f
            .role
            .parse()
            .map_err(|e: crate::auth::role::UnknownRole| {
                AppError::validation("role", e.to_string())
            })?;
        if !p.scope.contains(p.city_id, &f.region) {
            return Err(AppError::validation("region", "outside your scope"));
        }
        let hash = password::hash_async(f.password.clone())
            .await
            .map_err(|e| AppError::validation("password", e.to_string()))?;
        let txn = st.db.begin_write().await?;
        let u = store::users::create(
            &txn,
            p.city_id,
            NewUser {
                username,
                display_name: f.display_name.trim().to_string(),
                password_hash: hash,
                role,
                region_code: f.region.clone(),
                company_id: None,
                enterprise_id: None,
            },
        )
        .await?;
        audit::record(
            &txn,
            p.city_id,
            &Actor::from(&p),
            "create",
            "user",
            &u.id.to_string(),
            None,
            Some(serde_json::to_value(UserView::from(&u)).unwrap_or_default()),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
    .await;
    Ok(match r {
        Ok(()) => Redirect::to("/app/admin/users?msg=admin-user-created").into_response(),
        Err(e) => flash_err("/app/admin/users", &e),
    })
}

async fn set_disabled(
    st: &AppState,
    p: &Principal,
    id: i64,
    disabled: bool,
) -> Result<Response, PageError> {
    p.require(Capability::ManageUsers)?;
    let before = store::users::by_id(&st.db, p.city_id, id)
        .await?
        .filter(|u| p.scope.contains(u.city_id, &u.region_code))
        .ok_or_else(|| AppError::NotFound("user".into()))?;
    if before.id == p.user_id {
        return Ok(flash_err(
            "/app/admin/users",
            &AppError::validation("user", "you cannot disable yourself"),
        ));
    }
    let txn = st.db.begin_write().await?;
    let after = store::users::set_disabled(&txn, p.city_id, id, disabled).await?;
    audit::record(
        &txn,
        p.city_id,
        &Actor::from(p),
        if disabled { "disable" } else { "enable" },
        "user",
        &id.to_string(),
        Some(serde_json::to_value(UserView::from(&before)).unwrap_or_default()),
        Some(serde_json::to_value(UserView::from(&after)).unwrap_or_default()),
    )
    .await?;
    txn.commit().await?;
    // Again after the commit: a request that read the old row meanwhile must not keep it.
    crate::auth::token_cache::invalidate_all();
    Ok(Redirect::to("/app/admin/users?msg=admin-saved").into_response())
}

async fn user_disable(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    set_disabled(&st, &p, id, true).await
}

async fn user_enable(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    set_disabled(&st, &p, id, false).await
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
}

async fn user_password(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageUsers)?;
    let u = store::users::by_id(&st.db, p.city_id, id)
        .await?
        .filter(|u| p.scope.contains(u.city_id, &u.region_code))
        .ok_or_else(|| AppError::NotFound("user".into()))?;
    let hash = match password::hash_async(f.password).await {
        Ok(h) => h,
        Err(e) => {
            return Ok(flash_err(
                "/app/admin/users",
                &AppError::validation("password", e.to_string()),
            ));
        }
    };
    let txn = st.db.begin_write().await?;
    store::users::set_password_hash(&txn, p.city_id, u.id, hash).await?;
    audit::record(
        &txn,
        p.city_id,
        &Actor::from(&p),
        "reset_password",
        "user",
        &id.to_string(),
        None,
        None,
    )
    .await?;
    txn.commit().await?;
    // Again after the commit: a request that read the old row meanwhile must not keep it.
    crate::auth::token_cache::invalidate_all();
    Ok(Redirect::to("/app/admin/users?msg=admin-saved").into_response())
}

// ---------- regions ----------

#[derive(Template)]
#[template(path = "admin_regions.html")]
struct RegionsPage {
    ctx: PageCtx,
    regions: Vec<(RegionView, usize)>,
    can_edit: bool,
    error: String,
}

async fn regions_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    p.require_any(&[Capability::ViewAll, Capability::ManageRegions])?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/regions", "admin-regions").await?;
    let regions = st
        .visible_regions(&p.scope)
        .await?
        .iter()
        .map(|r| {
            let depth = match r.level.as_str() {
                "city" => 0,
                "district" => 1,
                "street" => 2,
                _ => 3,
            };
            (RegionView::from_model(r, lang.0.code()), depth)
        })
        .collect();
    render(&RegionsPage {
        ctx,
        regions,
        can_edit: p.can(Capability::ManageRegions),
        error: fl.err.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct RenameForm {
    name_zh: String,
    name_en: String,
}

async fn region_rename(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(code): Path<String>,
    Form(f): Form<RenameForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageRegions)?;
    store::regions::get_visible(&st.db, &p.scope, &code).await?;
    let txn = st.db.begin_write().await?;
    let (before, after) =
        match store::regions::rename(&txn, p.city_id, &code, &f.name_zh, &f.name_en).await {
            Ok(x) => x,
            Err(e) => return Ok(flash_err("/app/admin/regions", &e.into())),
        };
    audit::record(
        &txn,
        p.city_id,
        &Actor::from(&p),
        "rename",
        "region",
        &code,
        Some(serde_json::json!({"name_zh": before.name_zh, "name_en": before.name_en})),
        Some(serde_json::json!({"name_zh": after.name_zh, "name_en": after.name_en})),
    )
    .await?;
    txn.commit().await?;
    st.regions.clear();
    Ok(Redirect::to("/app/admin/regions").into_response())
}

// ---------- tokens ----------

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    tokens: Vec<(api_token::Model, String)>,
    new_token: String,
    error: String,
}

async fn tokens_list(
    st: &AppState,
    p: &Principal,
) -> Result<Vec<(api_token::Model, String)>, PageError> {
    let users: std::collections::HashMap<i64, String> =
        store::users::list_visible(&st.db, &p.scope)
            .await?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect();
    let mut q = api_token::Entity::find().filter(api_token::Column::CityId.eq(p.city_id));
    if !p.can(Capability::ManageUsers) {
        q = q.filter(api_token::Column::UserId.eq(p.user_id));
    }
    Ok(q.order_by_desc(api_token::Column::CreatedAt)
        .all(&st.db)
        .await?
        .into_iter()
        .filter_map(|t| users.get(&t.user_id).cloned().map(|u| (t, u)))
        .collect())
}

async fn tokens_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    p.require(Capability::ManageTokens)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/tokens", "admin-tokens").await?;
    render(&TokensPage {
        ctx,
        tokens: tokens_list(&st, &p).await?,
        new_token: String::new(),
        error: fl.err.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct NewTokenForm {
    name: String,
    username: String,
}

async fn token_create(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Form(f): Form<NewTokenForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageTokens)?;
    let Some(u) = store::users::by_username(&st.db, p.city_id, f.username.trim())
        .await?
        .filter(|u| p.scope.contains(u.city_id, &u.region_code))
    else {
        return Ok(flash_err(
            "/app/admin/tokens",
            &AppError::validation("username", "no such user in your scope"),
        ));
    };
    let name = if f.name.trim().is_empty() {
        "api".to_string()
    } else {
        f.name.trim().to_string()
    };
    let txn = st.db.begin_write().await?;
    let (row, secret) = token::issue(&txn, p.city_id, u.id, &name).await?;
    audit::record(
        &txn,
        p.city_id,
        &Actor::from(&p),
        "create",
        "api_token",
        &row.id.to_string(),
        None,
        Some(serde_json::json!({"user": u.username, "name": name, "prefix": row.prefix})),
    )
    .await?;
    txn.commit().await?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/tokens", "admin-tokens").await?;
    Ok(render(&TokensPage {
        ctx,
        tokens: tokens_list(&st, &p).await?,
        new_token: secret,
        error: String::new(),
    })?
    .into_response())
}

async fn token_revoke(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageTokens)?;
    let visible = tokens_list(&st, &p)
        .await?
        .into_iter()
        .any(|(t, _)| t.id == id);
    if !visible {
        return Err(PageError(AppError::NotFound("token".into())));
    }
    let txn = st.db.begin_write().await?;
    if token::revoke(&txn, p.city_id, id).await? {
        audit::record(
            &txn,
            p.city_id,
            &Actor::from(&p),
            "revoke",
            "api_token",
            &id.to_string(),
            None,
            None,
        )
        .await?;
    }
    txn.commit().await?;
    // Again after the commit: a request that read the old row meanwhile must not keep it.
    crate::auth::token_cache::invalidate_all();
    Ok(Redirect::to("/app/admin/tokens").into_response())
}

// ---------- audit ----------

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    ctx: PageCtx,
    entries: Vec<AuditEntry>,
    total: u64,
    page: u64,
    pages: u64,
    f_actor: String,
    f_entity: String,
    f_action: String,
    query_base: String,
}

async fn audit_page(
    State(st): State<AppState>,
    PageUser(p): PageUser,
    lang: ReqLang,
    csrf: CsrfToken,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, PageError> {
    p.require(Capability::ViewAudit)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/audit", "admin-audit").await?;
    let filter = q.to_filter();
    let (entries, total) = audit::browse_for(&st.db, &p, &filter).await?;
    let enc = |s: &Option<String>| urlencode(s.as_deref().unwrap_or(""));
    render(&AuditPage {
        ctx,
        entries,
        total,
        page: u64::from(q.page.unwrap_or(0)),
        pages: total.div_ceil(audit::PAGE_SIZE),
        f_actor: q.actor.clone().unwrap_or_default(),
        f_entity: q.entity.clone().unwrap_or_default(),
        f_action: q.action.clone().unwrap_or_default(),
        query_base: format!(
            "actor={}&entity={}&action={}",
            enc(&q.actor),
            enc(&q.entity),
            enc(&q.action)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn thousands() {
        assert_eq!(format_thousands(0), "0");
        assert_eq!(format_thousands(1234567), "1,234,567");
        assert_eq!(format_thousands(-1000), "-1,000");
    }
    #[test]
    fn redirects_stay_local() {
        assert_eq!(local_next(Some("/app/x")), "/app/x");
        assert_eq!(local_next(Some("//evil.example")), "/");
        assert_eq!(local_next(Some("https://evil.example")), "/");
        assert_eq!(local_next(Some("/\t/evil.example")), "/");
        assert_eq!(local_next(None), "/app");
    }
}
