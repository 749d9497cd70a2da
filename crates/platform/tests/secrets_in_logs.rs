//! Secrets never reach the log: a password (right or wrong), an API token or a session secret
//! used during a test must not appear in anything logged at any level. Its own test binary, so
//! that a global subscriber sees every event.

use qcity_platform::auth::Role;
use qcity_platform::testing::{TestClient, TestDb, app, seed_small_city};
use std::sync::{Arc, Mutex};

async fn setup() -> (TestDb, axum::Router) {
    let t = TestDb::migrated(qcity_platform::testing::Backend::Sqlite, &[]).await;
    seed_small_city(&t.db, &[("root", Role::Admin, "990100")]).await;
    let (_, r) = app(&t, vec![]);
    (t, r)
}

/// A writer that keeps everything logged during a test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn passwords_and_tokens_never_reach_the_log() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber of this binary");

    let (_t, r) = setup().await;
    let mut c = TestClient::new(r.clone());
    c.login("root", "wrong-password-xyz").await;
    let signed_in = c.login("root", "password-root").await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    c.get("/app/admin/tokens").await;
    let page = c
        .post_form("/app/admin/tokens", &[("name", "t"), ("username", "root")])
        .await;
    let start =
        page.body.find("data-testid=\"new-token\">").unwrap() + "data-testid=\"new-token\">".len();
    let token = page.body[start..start + page.body[start..].find('<').unwrap()].to_string();
    let mut m = TestClient::with_bearer(r, &token);
    assert_eq!(m.get("/api/v1/me").await.status, 200);
    c.get("/app/admin/users").await;
    c.post_form(
        "/app/admin/users",
        &[
            ("username", "newbie"),
            ("display_name", ""),
            ("role", "viewer"),
            ("region", "990100"),
            ("password", "secret-newbie-password"),
        ],
    )
    .await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("signed in"), "the log was captured: {log}");
    for secret in [
        "password-root",
        "wrong-password-xyz",
        "secret-newbie-password",
        token.as_str(),
        &token[14..],
    ] {
        assert!(
            !log.contains(secret),
            "secret {secret:?} appears in the log"
        );
    }
    let session = c.cookies["qcity_session"].clone();
    assert!(
        !log.contains(session.split('.').nth(1).unwrap()),
        "session secret in the log"
    );
}
