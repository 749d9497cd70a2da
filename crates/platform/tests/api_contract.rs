//! The `/api/v1` error contract through the real router (issue 12 item 6): every 4xx/5xx is
//! RFC 9457 problem+json with a stable `code` — extractor refusals, unknown paths, methods a
//! route lacks, panicking handlers — and the OpenAPI document is complete.

use axum::Router;
use axum::routing::{get, post};
use qcity_platform::Module;
use qcity_platform::auth::{Role, token};
use qcity_platform::testing::{TestClient, TestDb, TestResponse, app, seed_small_city};
use qcity_platform::web::{ApiJson, ApiQuery, ApiUser, AppState};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Routes that exist only to be refused or to panic.
struct Probe;

#[derive(Deserialize)]
struct Echo {
    name: String,
    #[serde(default)]
    tags: Vec<u8>,
}

#[derive(Deserialize)]
struct YearQ {
    #[serde(
        default,
        deserialize_with = "qcity_platform::web::api_extract::opt_year"
    )]
    year: Option<i32>,
}

async fn echo(_: ApiUser, ApiJson(e): ApiJson<Echo>) -> axum::Json<Value> {
    axum::Json(json!({"name": e.name, "tags": e.tags}))
}

async fn year(_: ApiUser, ApiQuery(q): ApiQuery<YearQ>) -> axum::Json<Value> {
    axum::Json(json!({"year": q.year}))
}

async fn boom_api() -> &'static str {
    let v: Vec<u8> = Vec::new();
    // An out-of-range index: the kind of bug the catch-panic layer must contain.
    let i = v.len() + 3;
    if v[i] == 0 { "never" } else { "never either" }
}

async fn boom_page() -> &'static str {
    panic!("a page bug")
}

impl Module for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }
    fn routes(&self) -> Router<AppState> {
        Router::new()
            .route("/api/v1/probe/echo", post(echo))
            .route("/api/v1/probe/year", get(year))
            .route("/api/v1/probe/panic", get(boom_api))
            .route("/app/probe/panic", get(boom_page))
    }
}

async fn setup() -> (TestDb, TestClient) {
    let t = TestDb::migrated(qcity_platform::testing::Backend::Sqlite, &[]).await;
    let city = seed_small_city(&t.db, &[("root", Role::Admin, "990100")]).await;
    let (_, r) = app(&t, vec![Arc::new(Probe)]);
    let u = qcity_platform::store::users::by_username(&t.db, city, "root")
        .await
        .unwrap()
        .unwrap();
    let (_, tok) = token::issue(&t.db, city, u.id, "test").await.unwrap();
    (t, TestClient::with_bearer(r, &tok))
}

fn problem(r: &TestResponse) -> Value {
    assert_eq!(
        r.headers["content-type"], "application/problem+json",
        "{} {}",
        r.status, r.body
    );
    let v = r.json();
    assert_eq!(v["status"], r.status, "{}", r.body);
    v
}

async fn send(c: &mut TestClient, path: &str, ct: Option<&str>, body: &str) -> TestResponse {
    c.request("POST", path, ct, body.as_bytes().to_vec(), &[])
        .await
}

#[tokio::test]
async fn body_refusals_are_problems_naming_the_field() {
    let (_t, mut c) = setup().await;
    let ok = send(
        &mut c,
        "/api/v1/probe/echo",
        Some("application/json"),
        r#"{"name":"a"}"#,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // The whole body of a refusal, as a client reads it.
    let r = send(
        &mut c,
        "/api/v1/probe/echo",
        Some("application/json"),
        r#"{"tags":[1]}"#,
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        problem(&r),
        json!({
            "type": "/problems/invalid_body",
            "title": "Unprocessable Entity",
            "status": 422,
            "detail": "missing field `name` at line 1 column 12",
            "code": "invalid_body",
            "field": "name"
        })
    );
    let r = send(
        &mut c,
        "/api/v1/probe/echo",
        Some("application/json"),
        r#"{"name":"a","tags":[1,999]}"#,
    )
    .await;
    assert_eq!(problem(&r)["field"], "tags[1]");
    let r = send(&mut c, "/api/v1/probe/echo", Some("application/json"), "{").await;
    assert_eq!(
        (r.status, problem(&r)["code"].clone()),
        (400, json!("malformed_json"))
    );
    let r = send(&mut c, "/api/v1/probe/echo", Some("text/plain"), "name=a").await;
    assert_eq!(
        problem(&r),
        json!({
            "type": "/problems/unsupported_media_type",
            "title": "Unsupported Media Type",
            "status": 415,
            "detail": "expected a body with `Content-Type: application/json`",
            "code": "unsupported_media_type"
        })
    );
    let r = send(&mut c, "/api/v1/probe/echo", None, r#"{"name":"a"}"#).await;
    assert_eq!(r.status, 415);
}

#[tokio::test]
async fn query_refusals_name_the_parameter_and_years_are_bounded() {
    let (_t, mut c) = setup().await;
    assert_eq!(
        c.get("/api/v1/probe/year?year=2025").await.json()["year"],
        2025
    );
    for q in ["year=262142", "year=1899", "year=abc"] {
        let r = c.get(&format!("/api/v1/probe/year?{q}")).await;
        assert_eq!(r.status, 422, "{q}: {}", r.body);
        let p = problem(&r);
        assert_eq!(
            (p["code"].as_str(), p["field"].as_str()),
            (Some("invalid_query"), Some("year")),
            "{q}"
        );
    }
    // The platform's own handlers use the same extractors.
    let r = c.get("/api/v1/audit?page=-1").await;
    assert_eq!(
        (r.status, problem(&r)["field"].clone()),
        (422, json!("page"))
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems() {
    let (_t, mut c) = setup().await;
    let r = c.get("/api/v1/no/such/thing").await;
    assert_eq!(
        problem(&r),
        json!({
            "type": "/problems/not_found",
            "title": "Not Found",
            "status": 404,
            "detail": "no such API endpoint",
            "code": "not_found"
        })
    );
    let r = send(&mut c, "/api/v1/regions", Some("application/json"), "{}").await;
    assert_eq!(
        (r.status, problem(&r)["code"].clone()),
        (405, json!("method_not_allowed"))
    );
    assert!(
        r.headers
            .get("allow")
            .is_some_and(|a| a.to_str().unwrap().contains("GET"))
    );
    // Pages keep their own 404.
    let r = c.get("/app/no/such/page").await;
    assert_ne!(
        r.headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/problem+json")
    );
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    let (_t, mut c) = setup().await;
    let r = c.get("/api/v1/probe/panic").await;
    assert_eq!(
        problem(&r),
        json!({
            "type": "/problems/internal",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "internal error",
            "code": "internal"
        })
    );
    let r = c.get("/app/probe/panic").await;
    assert_eq!(r.status, 500);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        !r.body.contains("a page bug"),
        "panic text must not reach the client"
    );
    assert_eq!(c.get("/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn the_openapi_document_is_complete() {
    let (_t, mut c) = setup().await;
    let doc = c.get("/api/v1/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(qcity_platform::web::openapi::duplicate_operation_ids(&doc).is_empty());
    let mut n = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, resp) in op["responses"].as_object().unwrap() {
                n += 1;
                let resp = match resp["$ref"].as_str() {
                    Some(r) => &doc["components"]["responses"][r.rsplit('/').next().unwrap()],
                    None => resp,
                };
                assert!(
                    resp["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status}"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        resp["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
            assert!(op["responses"]["500"].is_object(), "{method} {path}");
        }
    }
    assert!(n > 10);
}

/// An API write with no credentials at all is `401` (Schemathesis ST203), not a CSRF refusal;
/// a signed-in browser's API write without its CSRF token is still `403 csrf_failed`.
#[tokio::test]
async fn an_anonymous_api_write_is_401_and_a_session_write_needs_its_csrf_token() {
    let (_t, c) = setup().await;
    let mut anon = TestClient::new(c.router.clone());
    let r = send(
        &mut anon,
        "/api/v1/probe/echo",
        Some("application/json"),
        r#"{"name":"a"}"#,
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(problem(&r)["code"], "unauthenticated");
    let mut browser = TestClient::new(c.router.clone());
    browser.login("root", "password-root").await;
    let r = browser
        .request(
            "POST",
            "/api/v1/probe/echo",
            Some("application/json"),
            br#"{"name":"a"}"#.to_vec(),
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(problem(&r)["code"], "csrf_failed");
}
