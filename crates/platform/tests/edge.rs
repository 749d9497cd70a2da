//! The shell's edges as an attacker meets them: redirect targets, login throttling behind and
//! without a reverse proxy, the CSRF guard's body limit, and the metrics label set.

use qcity_platform::auth::Role;
use qcity_platform::config::Config;
use qcity_platform::testing::{Backend, TestClient, TestDb, seed_small_city, test_config};
use qcity_platform::web::{self, AppState};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

async fn setup_with(cfg: Config) -> (TestDb, axum::Router) {
    let t = TestDb::migrated(Backend::Sqlite, &[]).await;
    seed_small_city(
        &t.db,
        &[
            ("root", Role::Admin, "990100"),
            ("officer", Role::DataOfficer, "990101"),
        ],
    )
    .await;
    let st = AppState::new(t.db.clone(), cfg, vec![]);
    let r = web::router(st);
    (t, r)
}

fn peer(ip: &str) -> SocketAddr {
    format!("{ip}:40000").parse().expect("address")
}

fn client_at(r: &axum::Router, ip: &str) -> TestClient {
    let mut c = TestClient::new(r.clone());
    c.peer = Some(peer(ip));
    c
}

/// Signs in through the form with extra headers (e.g. `X-Forwarded-For`).
async fn login_with(
    c: &mut TestClient,
    user: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> qcity_platform::testing::TestResponse {
    c.get("/login").await;
    let body = format!(
        "username={user}&password={password}&_csrf={}",
        c.csrf.clone().unwrap_or_default()
    );
    c.request(
        "POST",
        "/login",
        Some("application/x-www-form-urlencoded"),
        body.into_bytes(),
        extra,
    )
    .await
}

// ---------- redirects ----------

#[tokio::test]
async fn language_switch_never_redirects_off_site() {
    let (_t, r) = setup_with(test_config()).await;
    let mut c = TestClient::new(r);
    for next in [
        "/%09/evil.example",
        "/%0A/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "/%2F%2Fevil.example",
        "https://evil.example",
        "javascript:alert(1)",
    ] {
        let resp = c.get(&format!("/lang?set=en&next={next}")).await;
        assert_eq!(resp.status, 303, "{next}");
        assert_eq!(resp.location(), Some("/"), "{next}");
    }
    let resp = c.get("/lang?set=en&next=/app/admin/users").await;
    assert_eq!(resp.location(), Some("/app/admin/users"));
    // The Referer fallback goes through the same check.
    let resp = c
        .request(
            "GET",
            "/lang?set=zh-CN",
            None,
            Vec::new(),
            &[
                ("host", "qcity.test"),
                ("referer", "http://qcity.test/\t/evil.example"),
            ],
        )
        .await;
    assert_eq!(resp.location(), Some("/"));
    let resp = c
        .request(
            "GET",
            "/lang?set=zh-CN",
            None,
            Vec::new(),
            &[("host", "qcity.test"), ("referer", "http://qcity.test/app")],
        )
        .await;
    assert_eq!(resp.location(), Some("/app"));
}

#[tokio::test]
async fn login_never_redirects_off_site() {
    let (_t, r) = setup_with(test_config()).await;
    let mut c = TestClient::new(r);
    c.get("/login?next=/%09/evil.example").await;
    let resp = c
        .post_form(
            "/login",
            &[
                ("username", "root"),
                ("password", "password-root"),
                ("next", "/\t/evil.example"),
            ],
        )
        .await;
    assert_eq!(resp.status, 303);
    assert_eq!(resp.location(), Some("/"));
    let page = TestClient::new(c.router.clone())
        .get("/login?next=/%5Cevil.example")
        .await;
    assert!(
        page.body.contains("name=\"next\" value=\"/\""),
        "{}",
        page.body
    );
}

// ---------- login throttling ----------

#[tokio::test]
async fn another_client_signs_in_while_one_is_locked_out() {
    let (_t, r) = setup_with(test_config()).await;
    let mut attacker = client_at(&r, "198.51.100.1");
    for _ in 0..5 {
        assert_eq!(attacker.login("root", "guess").await.status, 401);
    }
    let locked = attacker.login("root", "password-root").await;
    assert_eq!(locked.status, 429);
    assert!(locked.headers.contains_key("retry-after"));
    assert!(
        locked.body.contains("登录失败次数过多")
            || locked.body.contains("Too many failed sign-ins"),
        "the page says why: {}",
        locked.body
    );
    // The account's owner, elsewhere, is not locked out.
    let mut owner = client_at(&r, "198.51.100.2");
    let ok = owner.login("root", "password-root").await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(owner.cookies.contains_key("qcity_session"));
}

#[tokio::test]
async fn a_client_guessing_many_accounts_is_locked_alone() {
    let mut cfg = test_config();
    cfg.security.login_max_failures_per_ip = 3;
    let (_t, r) = setup_with(cfg).await;
    let mut attacker = client_at(&r, "198.51.100.1");
    for user in ["a", "b", "c"] {
        assert_eq!(attacker.login(user, "guess").await.status, 401);
    }
    assert_eq!(
        attacker.login("officer", "password-officer").await.status,
        429
    );
    // A script asking for JSON gets problem+json.
    let resp = login_with(
        &mut attacker,
        "officer",
        "password-officer",
        &[("accept", "application/json")],
    )
    .await;
    assert_eq!(resp.status, 429);
    assert_eq!(resp.headers["content-type"], "application/problem+json");
    assert_eq!(resp.json()["code"], "rate_limited");
    assert!(resp.headers.contains_key("retry-after"));
    let mut other = client_at(&r, "198.51.100.2");
    assert_eq!(other.login("officer", "password-officer").await.status, 303);
}

#[tokio::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let mut cfg = test_config();
    cfg.server.trusted_proxies = vec!["127.0.0.1/32".into()];
    let (_t, r) = setup_with(cfg).await;
    // Both behind our proxy at 127.0.0.1. The attacker forges a left-most entry naming the
    // victim; the proxy appends the attacker's real address.
    let mut attacker = client_at(&r, "127.0.0.1");
    let forged = [("x-forwarded-for", "203.0.113.99, 203.0.113.1")];
    for _ in 0..5 {
        assert_eq!(
            login_with(&mut attacker, "root", "guess", &forged)
                .await
                .status,
            401
        );
    }
    assert_eq!(
        login_with(&mut attacker, "root", "password-root", &forged)
            .await
            .status,
        429
    );
    let mut victim = client_at(&r, "127.0.0.1");
    let resp = login_with(
        &mut victim,
        "root",
        "password-root",
        &[("x-forwarded-for", "203.0.113.99")],
    )
    .await;
    assert_eq!(
        resp.status, 303,
        "the forged entry did not lock the victim out"
    );
    // The attacker's real address stays locked whatever it writes first.
    assert_eq!(
        login_with(
            &mut attacker,
            "root",
            "password-root",
            &[("x-forwarded-for", "203.0.113.1")]
        )
        .await
        .status,
        429
    );
    // From a peer that is not a trusted proxy the header is not believed: it cannot pose as
    // a fresh client.
    let mut direct = client_at(&r, "203.0.113.1");
    for _ in 0..5 {
        login_with(&mut direct, "root", "guess", &[]).await;
    }
    let resp = login_with(
        &mut direct,
        "root",
        "password-root",
        &[("x-forwarded-for", "203.0.113.200")],
    )
    .await;
    assert_eq!(resp.status, 429);
}

#[tokio::test]
async fn concurrent_guesses_cannot_exceed_the_limit() {
    let (_t, r) = setup_with(test_config()).await;
    let mut first = client_at(&r, "198.51.100.7");
    first.get("/login").await;
    let failures = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let mut c = client_at(&r, "198.51.100.7");
        c.cookies = first.cookies.clone();
        c.csrf = first.csrf.clone();
        let failures = failures.clone();
        set.spawn(async move {
            let resp = c
                .post_form("/login", &[("username", "root"), ("password", "guess")])
                .await;
            match resp.status {
                401 => {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                429 => {}
                s => panic!("unexpected status {s}"),
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("task");
    }
    assert_eq!(
        failures.load(Ordering::SeqCst),
        5,
        "only login_max_failures guesses reach the password check"
    );
}

// ---------- CSRF guard ----------

/// A form body of `total` bytes in 64 KiB chunks, counting the bytes the server pulled.
fn counted_body(total: usize, pulled: Arc<AtomicUsize>) -> axum::body::Body {
    const CHUNK: usize = 64 * 1024;
    let chunks = total / CHUNK;
    let stream = futures::stream::iter(0..chunks).map(move |_| {
        pulled.fetch_add(CHUNK, Ordering::SeqCst);
        Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'a'; CHUNK]))
    });
    axum::body::Body::from_stream(stream)
}

use futures::StreamExt;

#[tokio::test]
async fn an_oversized_form_is_refused_before_it_is_read_whole() {
    use tower::ServiceExt;
    let (_t, r) = setup_with(test_config()).await;
    let mut c = TestClient::new(r.clone());
    c.login("root", "password-root").await;
    let cookie = c
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let limit = qcity_platform::web::middleware::FORM_BODY_LIMIT;
    for path in ["/api/v1/jobs", "/logout"] {
        let pulled = Arc::new(AtomicUsize::new(0));
        let req = axum::http::Request::builder()
            .method("POST")
            .uri(path)
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(counted_body(64 * 1024 * 1024, pulled.clone()))
            .expect("request");
        let resp = r.clone().oneshot(req).await.expect("answer");
        assert_eq!(resp.status(), 413, "{path}");
        let read = pulled.load(Ordering::SeqCst);
        assert!(
            read <= limit + 2 * 64 * 1024,
            "{path}: read {read} bytes of a 64 MiB body"
        );
        if path.starts_with("/api/") {
            assert_eq!(resp.headers()["content-type"], "application/problem+json");
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .expect("body");
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(v["code"], "payload_too_large");
            assert_eq!(v["status"], 413);
        }
    }
    // A declared length over the limit is refused without reading anything.
    let pulled = Arc::new(AtomicUsize::new(0));
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/jobs")
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", (64 * 1024 * 1024).to_string())
        .body(counted_body(64 * 1024 * 1024, pulled.clone()))
        .expect("request");
    let resp = r.clone().oneshot(req).await.expect("answer");
    assert_eq!(resp.status(), 413);
    assert_eq!(pulled.load(Ordering::SeqCst), 0);
}

// ---------- metrics ----------

#[tokio::test]
async fn unknown_methods_do_not_grow_the_metrics() {
    let (_t, r) = setup_with(test_config()).await;
    let mut c = TestClient::new(r);
    for i in 0..50 {
        c.request(&format!("BREW{i}"), "/healthz", None, Vec::new(), &[])
            .await;
    }
    let text = c.get("/metrics").await.body;
    assert!(!text.contains("BREW"), "{text}");
    let other = text
        .lines()
        .filter(|l| l.starts_with("qcity_http_requests_total{method=\"other\""))
        .count();
    assert_eq!(other, 1, "{text}");
}
