//! Response submission through HTTP with durable storage: a real TCP server (axum) over a
//! SQLite file with `synchronous = FULL` (every commit fsynced), clients posting one fieldwork
//! response per request (one transaction each, committed before `201`). Prints the median
//! throughput of a few rounds; run with `cargo bench -p qcity-survey --bench submit`.
//! Set `QCITY_BENCH_POSTGRES_URL` to run the same against a PostgreSQL database.

use qcity_platform::auth::Role;
use qcity_platform::module::Module;
use qcity_platform::testing::{TempDir, all_migrations, seed_small_city, test_config};
use qcity_survey::{SurveyModule, store};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENTS: usize = 16;
const PER_ROUND: usize = 2000;
const ROUNDS: usize = 3;

async fn post(conn: &mut TcpStream, path: &str, token: &str, body: &str) -> u16 {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 4096];
    loop {
        let n = conn.read(&mut tmp).await.expect("read");
        assert!(n > 0, "server closed");
        buf.extend_from_slice(&tmp[..n]);
        if let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..h]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= h + 4 + len {
                return head[9..12].parse().unwrap_or(0);
            }
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(SurveyModule)];
    let dir = TempDir::new("bench");
    let (url, backend) = match std::env::var("QCITY_BENCH_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => (u, "postgres"),
        _ => (
            format!("sqlite://{}?mode=rwc", dir.0.join("b.sqlite").display()),
            "sqlite (WAL, synchronous=FULL)",
        ),
    };
    let db = qcity_platform::db::connect_url(&url, 8, "full")
        .await
        .expect("db");
    qcity_platform::migration::migrate(&db, &all_migrations(&modules))
        .await
        .expect("migrate");
    let city = seed_small_city(&db, &[("firm", Role::Analyst, "990100")]).await;
    let qid = store::create_questionnaire(&db, city, &qcity_survey::builtin::standard())
        .await
        .expect("q");
    let wid = store::create_wave(
        &db,
        city,
        "990100",
        &store::NewWave {
            questionnaire_id: qid,
            year: 2026,
            name_zh: "基准".into(),
            name_en: String::new(),
            modes: vec!["phone".into()],
            target_n: 0,
            conversion: "linear".into(),
        },
    )
    .await
    .expect("wave");
    store::set_wave_status(&db, city, wid, "collecting")
        .await
        .expect("status");
    let r = store::one(&db, "SELECT id FROM users WHERE username = 'firm'", vec![])
        .await
        .unwrap()
        .unwrap();
    let uid: i64 = store::get(&r, "id").unwrap();
    let (_, token) = qcity_platform::auth::token::issue(&db, city, uid, "bench")
        .await
        .expect("token");
    let st = qcity_platform::web::AppState::new(db.clone(), test_config(), modules);
    let router = qcity_platform::web::router(st);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    let path = format!("/api/v1/survey/waves/{wid}/responses");
    let mut rates = Vec::new();
    let mut next = 0usize;
    for round in 0..ROUNDS {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (path, token) = (path.clone(), token.clone());
            let base = next + c * (PER_ROUND / CLIENTS);
            tasks.push(tokio::spawn(async move {
                let mut conn = TcpStream::connect(addr).await.expect("connect");
                for i in 0..PER_ROUND / CLIENTS {
                    let k = base + i;
                    let mut answers = serde_json::json!({"D1": if k.is_multiple_of(2) { "990101" } else { "990102" }, "D2": "30-44", "D3": "f", "D4": "mid", "D5": "gt5", "O01": 4, "O02": 3, "T1": "希望加强食品安全监管"});
                    for (j, (_, code, _, _, _)) in qcity_survey::builtin::ITEMS.iter().enumerate() {
                        if !code.starts_with('O') {
                            answers[*code] = serde_json::json!(1 + (k + j) % 5);
                        }
                    }
                    let body = serde_json::json!({"responses": [{"external_id": format!("b{k}"), "duration_s": 300, "answers": answers}]}).to_string();
                    let s = post(&mut conn, &path, &token, &body).await;
                    assert_eq!(s, 201, "request {k}");
                }
            }));
        }
        for t in tasks {
            t.await.expect("client");
        }
        let secs = start.elapsed().as_secs_f64();
        next += PER_ROUND;
        let rate = PER_ROUND as f64 / secs;
        println!(
            "round {}: {PER_ROUND} responses in {secs:.2} s = {rate:.0} responses/s",
            round + 1
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let stored = store::count_complete(&db, city, wid).await.expect("count");
    assert_eq!(stored as usize, PER_ROUND * ROUNDS);
    println!(
        "survey submit over HTTP, {backend}, {CLIENTS} clients: median {:.0} responses/s (target ≥ 1000; ratio to target {:.2}); {stored} stored",
        rates[ROUNDS / 2],
        rates[ROUNDS / 2] / 1000.0
    );
}
