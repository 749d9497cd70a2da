//! Request-building blocks shared by the equipment test binaries: a migrated city with three
//! maintenance companies and a user per role, bearer clients, elevators, incidents and their
//! transitions, uploads and raw (binary) downloads.

#![allow(dead_code)]

use qcity_equipment::EquipmentModule;
use qcity_equipment::registry::NewCompany;
use qcity_platform::Module;
use qcity_platform::auth::{Role, token};
use qcity_platform::testing::{Backend, TestClient, TestDb, TestResponse, app, seed_small_city};
use serde_json::{Value, json};
use std::sync::Arc;

pub fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(EquipmentModule)]
}

/// A migrated test city (990100 with districts 990101 and 990102), its router and companies
/// A (990101, 10 engineers), B (990101, 1.5 km from A) and C (990102, 60 km away).
pub struct Env {
    pub _t: TestDb,
    pub db: sea_orm::DatabaseConnection,
    pub router: axum::Router,
    /// The server state behind `router` (its group-commit writers).
    pub st: qcity_platform::web::AppState,
    pub city: i64,
    pub company_a: i64,
    pub company_b: i64,
}

pub async fn setup(b: Backend) -> Env {
    let t = TestDb::migrated(b, &modules()).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("admin", Role::Admin, "990100"),
            ("dispatcher", Role::Dispatcher, "990100"),
            ("inspector", Role::Inspector, "990100"),
            ("east", Role::Viewer, "990102"),
            ("fixer", Role::Maintainer, "990100"),
            ("fixer2", Role::Maintainer, "990100"),
            ("energy", Role::EnergyManager, "990100"),
        ],
    )
    .await;
    let (st, router) = app(&t, modules());
    let db = t.db.clone();
    let mut admin = client(&db, &router, city, "admin").await;
    let mut ids = Vec::new();
    for c in [
        json!({"name_zh": "甲维保", "name_en": "A Lifts", "license_no": "LA", "duty_phone": "0599-1111111", "region_code": "990101", "lon": 118.10, "lat": 24.50, "engineers": 10}),
        json!({"name_zh": "乙维保", "name_en": "B Lifts", "license_no": "LB", "duty_phone": "0599-2222222", "region_code": "990101", "lon": 118.11, "lat": 24.51}),
        json!({"name_zh": "丙维保", "name_en": "C Lifts", "license_no": "LC", "duty_phone": "0599-3333333", "region_code": "990102", "lon": 118.50, "lat": 24.90}),
    ] {
        let r = admin.post_json("/api/v1/equipment/companies", &c).await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json()["id"].as_i64().unwrap());
    }
    let (company_a, company_b) = (ids[0], ids[1]);
    for (name, comp) in [("fixer", company_a), ("fixer2", company_b)] {
        let u = qcity_platform::store::users::by_username(&db, city, name)
            .await
            .unwrap()
            .unwrap();
        qcity_platform::store::users::set_company_id(&db, city, u.id, Some(comp))
            .await
            .unwrap();
    }
    Env {
        _t: t,
        db,
        router,
        st,
        city,
        company_a,
        company_b,
    }
}

impl Env {
    /// A bearer-token client for the seeded user `name`.
    pub async fn client(&self, name: &str) -> TestClient {
        client(&self.db, &self.router, self.city, name).await
    }
}

pub async fn client(
    db: &sea_orm::DatabaseConnection,
    r: &axum::Router,
    city: i64,
    name: &str,
) -> TestClient {
    let u = qcity_platform::store::users::by_username(db, city, name)
        .await
        .unwrap()
        .unwrap();
    let (_, tok) = token::issue(db, city, u.id, "test").await.unwrap();
    TestClient::with_bearer(r.clone(), &tok)
}

/// A maintenance company body for the store functions.
pub fn company(name_zh: &str, license_no: &str, region: &str) -> NewCompany {
    NewCompany {
        name_zh: name_zh.into(),
        name_en: String::new(),
        license_no: license_no.into(),
        duty_phone: "0599-1111111".into(),
        contract_until: None,
        engineers: 3,
        address: String::new(),
        lon: None,
        lat: None,
        region_code: region.into(),
        credit_code: None,
    }
}

/// An elevator made in 2008 (over 15 years old), installed 2008-10-01.
pub fn elevator(rescue: &str, region: &str, company: i64, seq: u32) -> Value {
    json!({
        "category": "3000", "variety": "3110",
        "equipment_code": format!("3110108902015{seq:05}"),
        "rescue_code": rescue,
        "name": format!("{rescue}号梯"), "use_unit": "幸福物业", "use_unit_phone": "0599-5555555",
        "company_id": company, "address": format!("幸福花园{seq}号楼"), "lon": 118.12, "lat": 24.52,
        "region_code": region, "manufacture_date": "2008-05-01", "install_date": "2008-10-01",
        "registration_date": "2008-11-01", "attributes": {"floors": 18}
    })
}

/// Registers `body` and returns its id (asserting `201`).
pub async fn add_equipment(c: &mut TestClient, body: &Value) -> i64 {
    let r = c.post_json("/api/v1/equipment", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

pub async fn add_elevator(
    c: &mut TestClient,
    rescue: &str,
    region: &str,
    company: i64,
    seq: u32,
) -> i64 {
    add_equipment(c, &elevator(rescue, region, company, seq)).await
}

/// A phone intake for `rescue`; returns the incident id (asserting `201`).
pub async fn open_incident(c: &mut TestClient, rescue: &str) -> i64 {
    let r = c
        .post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": rescue, "channel": "phone"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

/// One transition request.
pub async fn transition(c: &mut TestClient, id: i64, to: &str, version: i64) -> TestResponse {
    c.post_json(
        &format!("/api/v1/incidents/{id}/transitions"),
        &json!({"to": to, "version": version}),
    )
    .await
}

/// Walks an incident through `states` from `version`, asserting each `200`; returns the
/// version after the last step.
pub async fn walk(c: &mut TestClient, id: i64, states: &[&str], mut version: i64) -> i64 {
    for to in states {
        let r = transition(c, id, to, version).await;
        assert_eq!(r.status, 200, "{to}: {}", r.body);
        version += 1;
    }
    version
}

/// POSTs a registry upload (CSV text or XLSX bytes).
pub async fn import(c: &mut TestClient, content_type: &str, body: Vec<u8>) -> TestResponse {
    c.request(
        "POST",
        "/api/v1/equipment/import",
        Some(content_type),
        body,
        &[],
    )
    .await
}

/// A GET with `c`'s cookies or bearer token, answered as the router sends it (the body
/// unread: downloads, event streams).
pub async fn get_raw(c: &TestClient, path: &str) -> axum::response::Response {
    use tower::ServiceExt;
    let mut b = axum::http::Request::builder().method("GET").uri(path);
    if !c.cookies.is_empty() {
        let v: Vec<String> = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        b = b.header("cookie", v.join("; "));
    }
    if let Some(t) = &c.bearer {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    c.router
        .clone()
        .oneshot(b.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap()
}

/// A GET whose body is kept as bytes (XLSX downloads): status, content type, body.
pub async fn get_bytes(c: &TestClient, path: &str) -> (u16, String, Vec<u8>) {
    let resp = get_raw(c, path).await;
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, ct, bytes.to_vec())
}

/// `SELECT COUNT(*) AS n …` as a number.
pub async fn count(db: &sea_orm::DatabaseConnection, q: &str) -> i64 {
    qcity_equipment::sql::one(db, q, vec![])
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap()
}
