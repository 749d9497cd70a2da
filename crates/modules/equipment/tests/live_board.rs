//! The live board stream (`/app/equipment/board/stream`) ends when its session ends, when its
//! user is disabled and when the server shuts down, and a user holds only so many at once:
//! through the real router, with a short re-check interval.

mod common;

use axum::body::BodyDataStream;
use common::*;
use futures::StreamExt;
use qcity_platform::testing::{Backend, TestClient};
use qcity_platform::web::live::{LiveSettings, LiveStreams};
use sea_orm::ConnectionTrait;
use std::time::Duration;

use qcity_platform::on_both_backends;

on_both_backends!(
    logout_ends_the_stream,
    disabling_the_user_ends_the_stream,
    streams_per_user_are_capped,
    shutdown_ends_open_streams,
);

const STREAM: &str = "/app/equipment/board/stream";
/// Longest wait for something that must happen after a 100 ms re-check (not a timing
/// assertion: a bound so that a broken stream fails the test instead of hanging it).
const PATIENCE: Duration = Duration::from_secs(20);

async fn setup_live(b: Backend, per_user: usize) -> Env {
    let e = setup(b).await;
    LiveStreams::of(&e.st).configure(LiveSettings {
        recheck: Duration::from_millis(100),
        per_user,
    });
    e
}

/// Opens the stream with `c`'s cookies or bearer token: status, headers and the body.
async fn open(c: &TestClient) -> (u16, axum::http::HeaderMap, BodyDataStream) {
    let resp = get_raw(c, STREAM).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.into_body().into_data_stream())
}

/// Reads until the first board event arrives.
async fn first_board(s: &mut BodyDataStream) {
    let mut seen = String::new();
    tokio::time::timeout(PATIENCE, async {
        while let Some(Ok(chunk)) = s.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("event: board") {
                return;
            }
        }
        panic!("the stream ended before its first board: {seen}");
    })
    .await
    .expect("a first board event");
}

/// Whether the stream ends (within [`PATIENCE`]).
async fn ends(mut s: BodyDataStream) -> bool {
    tokio::time::timeout(PATIENCE, async {
        while let Some(Ok(_)) = s.next().await {}
    })
    .await
    .is_ok()
}

async fn signed_in(e: &Env, user: &str) -> TestClient {
    let mut c = TestClient::new(e.router.clone());
    let r = c.login(user, &format!("password-{user}")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    c.get("/app").await;
    c
}

async fn logout_ends_the_stream(b: Backend) {
    let e = setup_live(b, 4).await;
    let mut c = signed_in(&e, "dispatcher").await;
    let (status, _, mut s) = open(&c).await;
    assert_eq!(status, 200);
    first_board(&mut s).await;
    let r = c.post_form("/logout", &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(ends(s).await, "the stream must end after logout");
}

async fn disabling_the_user_ends_the_stream(b: Backend) {
    let e = setup_live(b, 4).await;
    // A bearer token stays valid; only the account is disabled (no session is deleted).
    let c = e.client("dispatcher").await;
    let (status, _, mut s) = open(&c).await;
    assert_eq!(status, 200);
    first_board(&mut s).await;
    e.db.execute_raw(sea_orm::Statement::from_sql_and_values(
        e.db.get_database_backend(),
        match e.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "UPDATE users SET disabled = TRUE WHERE city_id = $1 AND username = 'dispatcher'"
            }
            _ => "UPDATE users SET disabled = 1 WHERE city_id = ? AND username = 'dispatcher'",
        },
        [e.city.into()],
    ))
    .await
    .unwrap();
    assert!(
        ends(s).await,
        "the stream must end once the user is disabled"
    );
}

async fn streams_per_user_are_capped(b: Backend) {
    let e = setup_live(b, 2).await;
    let c = e.client("dispatcher").await;
    let (s1, _, mut a) = open(&c).await;
    let (s2, _, _b) = open(&c).await;
    assert_eq!((s1, s2), (200, 200));
    let (s3, h3, _) = open(&c).await;
    assert_eq!(s3, 429);
    assert_eq!(h3["content-type"], "application/problem+json");
    assert!(h3.contains_key("retry-after"));
    // Another user has slots of their own.
    let (other, _, _o) = open(&e.client("admin").await).await;
    assert_eq!(other, 200);
    // Closing a stream frees its slot.
    first_board(&mut a).await;
    drop(a);
    let (s4, _, _d) = open(&c).await;
    assert_eq!(s4, 200);
}

async fn shutdown_ends_open_streams(b: Backend) {
    let e = setup_live(b, 4).await;
    let c = e.client("dispatcher").await;
    let (status, _, mut s) = open(&c).await;
    assert_eq!(status, 200);
    first_board(&mut s).await;
    e.st.shutdown.trigger();
    assert!(ends(s).await, "the stream must end on shutdown");
}
