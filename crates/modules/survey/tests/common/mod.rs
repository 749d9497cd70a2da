//! Request-building helpers shared by the survey tests: a migrated database with a small city
//! and its users, signed-in clients, API tokens, and the usual questionnaire → wave → responses
//! steps through the real router.

#![allow(dead_code)]

use qcity_platform::auth::Role;
use qcity_platform::module::Module;
use qcity_platform::testing::{Backend, TestClient, TestDb, TestResponse, app, seed_small_city};
use qcity_survey::SurveyModule;
use qcity_survey::store;
use serde_json::{Value, json};
use std::sync::Arc;

pub struct Env {
    pub _t: TestDb,
    pub db: sea_orm::DatabaseConnection,
    pub router: axum::Router,
    pub city: i64,
}

pub async fn env(b: Backend) -> Env {
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(SurveyModule)];
    let t = TestDb::migrated(b, &modules).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("analyst", Role::Analyst, "990100"),
            ("officer", Role::DataOfficer, "990102"),
            ("maint", Role::Maintainer, "990100"),
        ],
    )
    .await;
    let (_st, router) = app(&t, modules);
    Env {
        db: t.db.clone(),
        _t: t,
        router,
        city,
    }
}

pub async fn signed_in(e: &Env, user: &str) -> TestClient {
    let mut c = TestClient::new(e.router.clone());
    let r = c.login(user, &format!("password-{user}")).await;
    assert_eq!(r.status, 303, "login {user}: {}", r.body);
    c.get("/app").await;
    c
}

/// A small two-page questionnaire: district and age; a product rating, an overall rating and a
/// suggestion.
pub fn small_def() -> Value {
    json!({
        "code": "T",
        "title_zh": "测试问卷",
        "title_en": "Test",
        "questions": [
            {"code": "D1", "kind": "district", "demographic": "district", "text_zh": "区", "required": true, "page": 1},
            {"code": "D2", "kind": "single", "demographic": "age_group", "text_zh": "年龄", "required": true, "page": 1,
             "options": [{"code": "young", "label_zh": "青"}, {"code": "old", "label_zh": "老"}]},
            {"code": "P01", "kind": "likert", "scale": 5, "dont_know": true, "domain": "product", "indicator_code": "P-FOOD", "text_zh": "食品", "required": true, "page": 2},
            {"code": "O01", "kind": "likert", "scale": 5, "domain": "overall", "text_zh": "总体", "required": false, "page": 2},
            {"code": "T1", "kind": "text", "text_zh": "建议", "page": 2}
        ]
    })
}

/// Creates the questionnaire and a collecting wave; returns (questionnaire id, wave).
pub async fn collecting_wave(c: &mut TestClient, def: Value, year: i32) -> (i64, Value) {
    let r = c.post_json("/api/v1/survey/questionnaires", &def).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let qid = r.json()["id"].as_i64().unwrap();
    let r = c
        .post_json("/api/v1/survey/waves", &json!({"questionnaire_id": qid, "year": year, "name_zh": format!("{year}年测评"), "modes": ["web", "phone"], "target_n": 10}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let w = r.json();
    let id = w["id"].as_i64().unwrap();
    let r = c
        .post_json(
            &format!("/api/v1/survey/waves/{id}/status"),
            &json!({"status": "collecting"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    (qid, r.json())
}

pub async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let r = store::one(db, sql, vec![]).await.unwrap().unwrap();
    store::get::<i64>(&r, "n").unwrap()
}

/// A bearer client for `user` (an API token, as the survey firm uses).
pub async fn bearer(e: &Env, user: &str) -> TestClient {
    let r = store::one(
        &e.db,
        "SELECT id FROM users WHERE username = ?",
        vec![user.into()],
    )
    .await
    .unwrap()
    .unwrap();
    let uid: i64 = store::get(&r, "id").unwrap();
    let (_, token) = qcity_platform::auth::token::issue(&e.db, e.city, uid, "test")
        .await
        .unwrap();
    TestClient::with_bearer(e.router.clone(), &token)
}

/// Posts fieldwork responses (`[{external_id, answers, …}]`) to a wave.
pub async fn upload(c: &mut TestClient, wid: i64, responses: Value) -> TestResponse {
    c.post_json(
        &format!("/api/v1/survey/waves/{wid}/responses"),
        &json!({ "responses": responses }),
    )
    .await
}

/// Sets a wave's status, asserting success.
pub async fn set_status(c: &mut TestClient, wid: i64, status: &str) -> Value {
    let r = c
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/status"),
            &json!({ "status": status }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// A citizen answering the small questionnaire on the open link (district, age, one rating).
pub async fn answer(router: &axum::Router, link: &str, d: &str, age: &str) -> TestResponse {
    let mut cl = TestClient::new(router.clone());
    cl.get(link).await;
    let r = cl
        .post_form(link, &[("page", "1"), ("q_D1", d), ("q_D2", age)])
        .await;
    if r.status != 303 {
        return r;
    }
    cl.get(&format!("{link}?page=2")).await;
    cl.post_form(link, &[("page", "2"), ("action", "submit"), ("q_P01", "4")])
        .await
}
