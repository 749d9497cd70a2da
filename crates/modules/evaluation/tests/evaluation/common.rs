//! What every evaluation test shares: the city, its users, and request helpers.

use qcity_evaluation::EvaluationModule;
use qcity_platform::Module;
use qcity_platform::auth::Role;
use qcity_platform::store::regions::NewRegion;
use qcity_platform::testing::{Backend, TestClient, TestDb, app, seed_small_city};
use serde_json::{Value, json};
use std::sync::Arc;

pub fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(EvaluationModule)]
}

pub struct Env {
    pub t: TestDb,
    pub router: axum::Router,
    pub city: i64,
    pub st: qcity_platform::web::AppState,
}

/// City 990100 with districts 990101–990104; analyst (city), officer (990102), officer1
/// (990101), viewer (city).
pub async fn env(b: Backend) -> Env {
    let t = TestDb::migrated(b, &modules()).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("analyst", Role::Analyst, "990100"),
            ("officer", Role::DataOfficer, "990102"),
            ("officer1", Role::DataOfficer, "990101"),
            ("viewer", Role::Viewer, "990100"),
        ],
    )
    .await;
    for (code, zh, en) in [
        ("990103", "西山区", "Xishan"),
        ("990104", "南江区", "Nanjiang"),
    ] {
        qcity_platform::store::regions::upsert(
            &t.db,
            city,
            &NewRegion {
                code: code.into(),
                parent_code: Some("990100".into()),
                name_zh: zh.into(),
                name_en: en.into(),
                urban: true,
                population: Some(1000),
                area_km2: Some(10.0),
                boundary: None,
            },
        )
        .await
        .unwrap();
    }
    let (st, router) = app(&t, modules());
    Env {
        t,
        router,
        city,
        st,
    }
}

pub async fn client(e: &Env, user: &str) -> TestClient {
    let mut c = TestClient::new(e.router.clone());
    let r = c.login(user, &format!("password-{user}")).await;
    assert_eq!(r.status, 303, "login {user}: {}", r.body);
    c.get("/app").await;
    c
}

pub async fn install_cq(c: &mut TestClient) -> i64 {
    let r = c
        .post_json(
            "/api/v1/evaluation/frameworks",
            &json!({"catalogue": "city_quality"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

pub async fn save(
    c: &mut TestClient,
    fw: i64,
    ind: &str,
    region: &str,
    year: i32,
    v: f64,
) -> (u16, Value) {
    let r = c
        .post_json("/api/v1/evaluation/values", &json!({"framework_id": fw, "indicator": ind, "region_code": region, "year": year, "value": v, "source": "test"}))
        .await;
    let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, body)
}

pub async fn upload(
    c: &mut TestClient,
    fw: i64,
    name: &str,
    ct: &str,
    body: Vec<u8>,
) -> qcity_platform::testing::TestResponse {
    let csrf = c.csrf.clone().unwrap();
    c.request(
        "POST",
        &format!("/api/v1/evaluation/frameworks/{fw}/import?filename={name}"),
        Some(ct),
        body,
        &[("x-csrf-token", &csrf)],
    )
    .await
}

/// Publishes values for four districts × three years through the API.
pub async fn publish_panel(a: &mut TestClient, fw: i64) {
    let inds = [
        "CQ-PROD-PASS",
        "CQ-ENERGY-GDP",
        "CQ-SAT",
        "CQ-AIR-GOOD",
        "CQ-ELEV-TRAP",
        "CQ-GOV-ONLINE",
        "CQ-GREEN",
    ];
    for (k, r) in ["990101", "990102", "990103", "990104"].iter().enumerate() {
        for y in 2022..=2024 {
            for (j, i) in inds.iter().enumerate() {
                if k == 3 && j == 2 && y == 2023 {
                    continue; // a gap, imputed
                }
                let base = [90.0, 0.6, 75.0, 80.0, 3.0, 80.0, 35.0][j];
                let step = [1.0, -0.03, 1.5, 2.0, -0.3, 3.0, 0.5][j];
                let x = base
                    + step * ((y - 2022) as f64)
                    + (k as f64 - 1.5) * step.abs() * 1.3
                    + ((j * 7 + k * 3) % 5) as f64 * 0.1 * step.abs();
                let (s, v) = save(a, fw, i, r, y, (x * 100.0).round() / 100.0).await;
                assert_eq!(s, 200, "{v}");
                let id = v["value"]["id"].as_i64().unwrap();
                for act in ["submit", "approve", "publish"] {
                    let rr = a
                        .post_json(
                            &format!("/api/v1/evaluation/values/{id}/{act}"),
                            &json!({"acknowledge_warnings": true}),
                        )
                        .await;
                    assert_eq!(rr.status, 200, "{act}: {}", rr.body);
                }
            }
        }
    }
}

pub async fn wait_run(c: &mut TestClient, id: i64) -> Value {
    for _ in 0..600 {
        let r = c.get(&format!("/api/v1/evaluation/runs/{id}")).await.json();
        if r["run"]["status"] != "running" {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("run {id} did not finish");
}

pub async fn send(
    c: &mut TestClient,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let csrf = c.csrf.clone().unwrap_or_default();
    let r = c
        .request(
            method,
            path,
            body.map(|_| "application/json"),
            body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            &[("x-csrf-token", csrf.as_str())],
        )
        .await;
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or(Value::Null),
    )
}

/// Saves (as drafts) values for four districts × 2023–2024 of seven indicators.
pub async fn draft_panel(a: &mut TestClient, fw: i64) {
    let inds = [
        "CQ-PROD-PASS",
        "CQ-ENERGY-GDP",
        "CQ-SAT",
        "CQ-AIR-GOOD",
        "CQ-ELEV-TRAP",
        "CQ-GOV-ONLINE",
        "CQ-GREEN",
    ];
    for (k, r) in ["990101", "990102", "990103", "990104"].iter().enumerate() {
        for y in 2023..=2024 {
            for (j, i) in inds.iter().enumerate() {
                let base = [90.0, 0.6, 75.0, 80.0, 3.0, 80.0, 35.0][j];
                let step = [1.0, -0.03, 1.5, 2.0, -0.3, 3.0, 0.5][j];
                let x = base
                    + step * ((y - 2022) as f64)
                    + (k as f64 - 1.5) * step.abs() * 1.3
                    + ((j * 7 + k * 3) % 5) as f64 * 0.1 * step.abs();
                let (s, v) = save(a, fw, i, r, y, (x * 100.0).round() / 100.0).await;
                assert_eq!(s, 200, "{v}");
            }
        }
    }
}

pub fn node_of(tree: &Value, code: &str) -> Option<Value> {
    tree["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == code)
        .cloned()
}

pub fn sum_of(tree: &Value, parent: &str) -> Value {
    tree["weights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["parent"] == parent)
        .cloned()
        .unwrap_or(Value::Null)
}

pub async fn audit_actions(e: &Env, entity: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    e.t.db
        .query_all_raw(Statement::from_string(
            e.t.db.get_database_backend(),
            format!("SELECT action FROM audit_log WHERE entity = '{entity}' ORDER BY action"),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "action").unwrap())
        .collect()
}
