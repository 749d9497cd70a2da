//! Reads of indicator values and index runs need a view right: through the real router on
//! SQLite (and PostgreSQL when `QCITY_TEST_POSTGRES_URL` is set).

use qcity_evaluation::EvaluationModule;
use qcity_platform::Module;
use qcity_platform::auth::Role;
use qcity_platform::testing::{Backend, TestClient, TestDb, app, seed_small_city};
use serde_json::json;
use std::sync::Arc;

use qcity_platform::on_both_backends;

on_both_backends!(values_and_runs_need_a_view_right);

async fn values_and_runs_need_a_view_right(b: Backend) {
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(EvaluationModule)];
    let t = TestDb::migrated(b, &modules).await;
    seed_small_city(
        &t.db,
        &[
            ("analyst", Role::Analyst, "990100"),
            ("fixer", Role::Maintainer, "990100"),
            ("energy", Role::EnergyManager, "990100"),
        ],
    )
    .await;
    let (_st, router) = app(&t, modules);
    let mut analyst = TestClient::new(router.clone());
    assert_eq!(
        analyst.login("analyst", "password-analyst").await.status,
        303
    );
    analyst.get("/app").await;
    let r = analyst
        .post_json(
            "/api/v1/evaluation/frameworks",
            &json!({"catalogue": "city_quality"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fw = r.json()["id"].as_i64().unwrap();
    let reads = [
        format!("/api/v1/evaluation/values?framework_id={fw}&year=2024"),
        "/api/v1/evaluation/values/1".to_string(),
        format!("/api/v1/evaluation/completeness?framework_id={fw}&year=2024"),
        "/api/v1/evaluation/runs".to_string(),
        "/api/v1/evaluation/runs/1".to_string(),
        "/api/v1/evaluation/frameworks".to_string(),
        format!("/api/v1/evaluation/frameworks/{fw}"),
    ];
    for user in ["fixer", "energy"] {
        let mut c = TestClient::new(router.clone());
        assert_eq!(c.login(user, &format!("password-{user}")).await.status, 303);
        for path in &reads {
            let r = c.get(path).await;
            assert_eq!(r.status, 403, "{user} {path}: {}", r.body);
            assert_eq!(r.headers["content-type"], "application/problem+json");
        }
    }
    // The analyst reads them (the missing value and run are 404s, not refusals).
    for path in &reads {
        let r = analyst.get(path).await;
        assert!(
            r.status == 200 || r.status == 404,
            "analyst {path}: {} {}",
            r.status,
            r.body
        );
    }
}
