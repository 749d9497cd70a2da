//! The web shell through the real router: authentication, CSRF, session rotation, role and
//! region scoping on pages and API, tokens, audit, languages, and secrets kept out of logs.

use qcity_platform::auth::Role;
use qcity_platform::testing::{TestClient, TestDb, app, seed_small_city};

async fn setup() -> (TestDb, axum::Router, qcity_platform::web::AppState) {
    let t = TestDb::migrated(qcity_platform::testing::Backend::Sqlite, &[]).await;
    seed_small_city(
        &t.db,
        &[
            ("root", Role::Admin, "990100"),
            ("officer", Role::DataOfficer, "990101"),
            ("analyst", Role::Analyst, "990100"),
        ],
    )
    .await;
    let (st, r) = app(&t, vec![]);
    (t, r, st)
}

#[tokio::test]
async fn unauthenticated_requests_are_refused() {
    let (_t, r, _) = setup().await;
    let mut c = TestClient::new(r);
    for page in [
        "/app",
        "/app/admin/users",
        "/app/admin/audit",
        "/app/admin/regions",
        "/app/admin/tokens",
    ] {
        let resp = c.get(page).await;
        assert_eq!(resp.status, 303, "{page}");
        assert_eq!(resp.location(), Some("/login"), "{page}");
    }
    for api in [
        "/api/v1/regions",
        "/api/v1/city",
        "/api/v1/me",
        "/api/v1/regions/990101",
        "/api/v1/audit",
    ] {
        let resp = c.get(api).await;
        assert_eq!(resp.status, 401, "{api}");
        assert_eq!(resp.headers["content-type"], "application/problem+json");
        assert_eq!(resp.json()["code"], "unauthenticated");
    }
    // A made-up bearer token is refused, not ignored.
    let mut bad = TestClient::with_bearer(
        c.router.clone(),
        "qct_1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    assert_eq!(bad.get("/api/v1/regions").await.status, 401);
    // Health endpoints and the OpenAPI document are public.
    assert_eq!(c.get("/healthz").await.status, 200);
    assert_eq!(c.get("/readyz").await.status, 200);
    let doc = c.get("/api/v1/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/regions"].is_object());
}

#[tokio::test]
async fn login_rotates_the_session_and_logout_ends_it() {
    let (_t, r, _) = setup().await;
    let mut c = TestClient::new(r);
    let resp = c.login("root", "password-root").await;
    assert_eq!(resp.status, 303);
    let first = c.cookies["qcity_session"].clone();
    let set_cookie = resp
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("qcity_session="))
        .unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert_eq!(c.get("/app").await.status, 200);
    // Signing in again while holding a session yields a new id and ends the old one.
    c.post_form(
        "/login",
        &[("username", "root"), ("password", "password-root")],
    )
    .await;
    let second = c.cookies["qcity_session"].clone();
    assert_ne!(first, second);
    let mut stale = TestClient::new(c.router.clone());
    stale.cookies.insert("qcity_session".into(), first);
    assert_eq!(stale.get("/app").await.status, 303);
    // Logout.
    c.get("/app").await;
    assert_eq!(c.post_form("/logout", &[]).await.status, 303);
    assert_eq!(c.get("/app").await.status, 303);
}

#[tokio::test]
async fn wrong_password_fails_and_throttles() {
    let (_t, r, _) = setup().await;
    let mut c = TestClient::new(r);
    for _ in 0..5 {
        let resp = c.login("root", "not-the-password").await;
        assert_eq!(resp.status, 401);
        assert!(!c.cookies.contains_key("qcity_session"));
    }
    let resp = c.login("root", "password-root").await;
    assert_eq!(
        resp.status, 429,
        "the right password is refused while the account is throttled"
    );
    assert!(resp.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_rejected() {
    let (_t, r, _) = setup().await;
    let mut c = TestClient::new(r);
    // The login form itself needs the pre-session token.
    c.get("/login").await;
    let resp = c
        .post_form_raw(
            "/login",
            &[
                ("username".into(), "root".into()),
                ("password".into(), "password-root".into()),
            ],
        )
        .await;
    assert_eq!(resp.status, 403);
    assert!(!c.cookies.contains_key("qcity_session"));
    c.login("root", "password-root").await;
    c.get("/app/admin/users").await;
    let fields = |csrf: Option<&str>| {
        let mut v: Vec<(String, String)> = [
            ("username", "eve"),
            ("display_name", "Eve"),
            ("role", "viewer"),
            ("region", "990100"),
            ("password", "long-enough-password"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if let Some(t) = csrf {
            v.push(("_csrf".into(), t.to_string()));
        }
        v
    };
    assert_eq!(
        c.post_form_raw("/app/admin/users", &fields(None))
            .await
            .status,
        403
    );
    assert_eq!(
        c.post_form_raw(
            "/app/admin/users",
            &fields(Some("forged-token-forged-token-forged-token"))
        )
        .await
        .status,
        403
    );
    let token = c.csrf.clone().unwrap();
    let ok = c
        .post_form_raw("/app/admin/users", &fields(Some(&token)))
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(c.get("/app/admin/users").await.body.contains("eve"));
    // The pre-session token of another browser is not this session's token.
    let mut other = TestClient::new(c.router.clone());
    other.get("/login").await;
    let foreign = other.csrf.clone().unwrap();
    assert_eq!(
        c.post_form_raw("/app/admin/users", &fields(Some(&foreign)))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn region_scope_holds_for_pages_and_api() {
    let (_t, r, _) = setup().await;
    let mut officer = TestClient::new(r.clone());
    officer.login("officer", "password-officer").await;
    let regions = officer.get("/api/v1/regions").await.json();
    let codes: Vec<&str> = regions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["990101", "990101001"]);
    for r in regions.as_array().unwrap() {
        for k in ["code", "name", "level", "parent"] {
            assert!(r.get(k).is_some(), "region lacks {k}");
        }
    }
    // District B's data by URL: 404, indistinguishable from absent.
    let resp = officer.get("/api/v1/regions/990102").await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["code"], "not_found");
    assert_eq!(officer.get("/api/v1/regions/990101001").await.status, 200);
    // Role: a data officer administers nothing.
    assert_eq!(officer.get("/app/admin/users").await.status, 403);
    assert_eq!(officer.get("/api/v1/audit").await.status, 403);
    let city = officer.get("/api/v1/city").await.json();
    assert_eq!(city["districts"], 1);
    // The city-wide analyst sees both districts.
    let mut analyst = TestClient::new(r);
    analyst.login("analyst", "password-analyst").await;
    assert_eq!(
        analyst
            .get("/api/v1/regions?level=district")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn api_tokens_act_with_their_users_scope_until_revoked() {
    let (_t, r, _) = setup().await;
    let mut admin = TestClient::new(r.clone());
    admin.login("root", "password-root").await;
    admin.get("/app/admin/tokens").await;
    let page = admin
        .post_form(
            "/app/admin/tokens",
            &[("name", "sensor"), ("username", "officer")],
        )
        .await;
    assert_eq!(page.status, 200);
    let start =
        page.body.find("data-testid=\"new-token\">").unwrap() + "data-testid=\"new-token\">".len();
    let token = page.body[start..start + page.body[start..].find('<').unwrap()].to_string();
    assert!(token.starts_with("qct_"));
    // Shown once: the list shows only a prefix.
    assert!(!admin.get("/app/admin/tokens").await.body.contains(&token));
    let mut machine = TestClient::with_bearer(r.clone(), &token);
    let codes: Vec<String> = machine
        .get("/api/v1/regions")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, vec!["990101", "990101001"]);
    assert_eq!(machine.get("/api/v1/regions/990102").await.status, 404);
    assert_eq!(
        machine.get("/api/v1/me").await.json()["role"],
        "data_officer"
    );
    // Revoke through the admin page.
    let list = admin.get("/app/admin/tokens").await.body;
    let i = list.find("/app/admin/tokens/").unwrap() + "/app/admin/tokens/".len();
    let id = &list[i..i + list[i..].find('/').unwrap()];
    assert_eq!(
        admin
            .post_form(&format!("/app/admin/tokens/{id}/revoke"), &[])
            .await
            .status,
        303
    );
    assert_eq!(machine.get("/api/v1/regions").await.status, 401);
}

#[tokio::test]
async fn disabling_a_user_stops_their_cached_token_at_once() {
    let (t, r, _) = setup().await;
    let officer = qcity_platform::store::users::by_username_any_city(&t.db, "officer")
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("officer");
    let (_, token) =
        qcity_platform::auth::token::issue(&t.db, officer.city_id, officer.id, "sensor")
            .await
            .unwrap();
    let mut machine = TestClient::with_bearer(r.clone(), &token);
    // Twice: the second answer comes from the token cache.
    assert_eq!(machine.get("/api/v1/me").await.status, 200);
    assert_eq!(machine.get("/api/v1/me").await.status, 200);
    let mut admin = TestClient::new(r);
    admin.login("root", "password-root").await;
    admin.get("/app/admin/users").await;
    assert_eq!(
        admin
            .post_form(&format!("/app/admin/users/{}/disable", officer.id), &[])
            .await
            .status,
        303
    );
    assert_eq!(machine.get("/api/v1/me").await.status, 401);
}

#[tokio::test]
async fn every_change_is_audited_with_before_and_after() {
    let (_t, r, _) = setup().await;
    let mut admin = TestClient::new(r);
    admin.login("root", "password-root").await;
    admin.get("/app/admin/regions").await;
    assert_eq!(
        admin
            .post_form(
                "/app/admin/regions/990102",
                &[("name_zh", "湖东区"), ("name_en", "Hudong District")]
            )
            .await
            .status,
        303
    );
    let log = admin.get("/api/v1/audit?entity=region").await.json();
    assert_eq!(log["total"], 1);
    let e = &log["entries"][0];
    assert_eq!(e["action"], "platform.region.rename");
    assert_eq!(e["actor_name"], "root");
    assert!(e["before"].as_str().unwrap().contains("东湖区"));
    assert!(e["after"].as_str().unwrap().contains("湖东区"));
    let page = admin.get("/app/admin/audit?entity=region").await;
    assert!(page.body.contains("湖东区"));
}

#[tokio::test]
async fn language_switch_is_remembered() {
    let (_t, r, _) = setup().await;
    let mut c = TestClient::new(r);
    assert!(c.get("/login").await.body.contains("<html lang=\"zh-CN\">"));
    let resp = c.get("/lang?set=en&next=/login").await;
    assert_eq!(resp.location(), Some("/login"));
    let page = c.get("/login").await.body;
    assert!(page.contains("<html lang=\"en\">") && page.contains("Sign in"));
    // Without `next`, it returns to the page it was clicked on (same origin only).
    let back = c
        .request(
            "GET",
            "/lang?set=zh-CN",
            None,
            Vec::new(),
            &[
                ("host", "qcity.test"),
                ("referer", "http://qcity.test/app/admin/regions?x=1"),
            ],
        )
        .await;
    assert_eq!(back.location(), Some("/app/admin/regions?x=1"));
    let foreign = c
        .request(
            "GET",
            "/lang?set=zh-CN",
            None,
            Vec::new(),
            &[("host", "qcity.test"), ("referer", "http://evil.example/x")],
        )
        .await;
    assert_eq!(foreign.location(), Some("/app"));
    // Open redirects are not followed.
    assert_eq!(
        c.get("/lang?set=zh-CN&next=//evil.example")
            .await
            .location(),
        Some(qcity_platform::web::redirect::FALLBACK)
    );
}

#[tokio::test]
async fn vendored_assets_are_served_and_no_external_url_is_referenced() {
    let (_t, r, _) = setup().await;
    let mut c = TestClient::new(r);
    c.login("root", "password-root").await;
    let home = c.get("/app").await.body;
    for asset in [
        "/assets/vendor/echarts-6.1.0.min.js",
        "/assets/vendor/htmx-2.0.11.min.js",
        "/assets/qcity.js",
        "/assets/qcity.css",
    ] {
        assert!(home.contains(asset), "home does not load {asset}");
        let resp = c.get(asset).await;
        assert_eq!(resp.status, 200, "{asset}");
    }
    assert!(
        !home.contains("http://") && !home.contains("https://"),
        "the page references an external URL"
    );
    let csp = c.get("/app").await.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"));
}
