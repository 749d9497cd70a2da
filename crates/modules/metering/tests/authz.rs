//! Who may run VEE (which rewrites readings) and anomaly detection (which stores alerts), the
//! audit of both, and the bound on their range: through the real router on SQLite (and
//! PostgreSQL when `QCITY_TEST_POSTGRES_URL` is set).

use qcity_metering::{MeteringModule, domain};
use qcity_platform::Module;
use qcity_platform::auth::{Role, token};
use qcity_platform::testing::{Backend, TestClient, TestDb, app, seed_small_city};
use serde_json::{Value, json};
use std::sync::Arc;

use qcity_platform::on_both_backends;

on_both_backends!(vee_and_detect_need_manage_metering_are_audited_and_bounded);

struct Env {
    _t: TestDb,
    db: sea_orm::DatabaseConnection,
    router: axum::Router,
    city: i64,
}

async fn client(e: &Env, name: &str) -> TestClient {
    let u = qcity_platform::store::users::by_username(&e.db, e.city, name)
        .await
        .unwrap()
        .unwrap();
    let (_, tok) = token::issue(&e.db, e.city, u.id, "test").await.unwrap();
    TestClient::with_bearer(e.router.clone(), &tok)
}

async fn n(e: &Env, sql: &str, values: Vec<sea_orm::Value>) -> i64 {
    let r = qcity_metering::sql::one(&e.db, sql, values)
        .await
        .unwrap()
        .unwrap();
    r.try_get("", "n").unwrap()
}

fn uscc(seq: u32) -> String {
    let first = format!("913501007{seq:08}");
    format!("{first}{}", domain::check_char(&first).unwrap())
}

fn day_of(meter: i64, day: &str, f: impl Fn(usize) -> f64) -> Vec<Value> {
    (0..96)
        .map(|i| json!({"meter_id": meter, "ts": format!("{day}T{:02}:{:02}:00+08:00", i / 4, (i % 4) * 15), "value": f(i)}))
        .collect()
}

async fn vee_and_detect_need_manage_metering_are_audited_and_bounded(b: Backend) {
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(MeteringModule)];
    let t = TestDb::migrated(b, &modules).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("admin", Role::Admin, "990100"),
            ("analyst", Role::Analyst, "990100"),
            ("inspector", Role::Inspector, "990100"),
            ("viewer", Role::Viewer, "990100"),
        ],
    )
    .await;
    let (_, router) = app(&t, modules);
    let e = Env {
        db: t.db.clone(),
        _t: t,
        router,
        city,
    };
    let mut admin = client(&e, "admin").await;
    let r = admin
        .post_json(
            "/api/v1/metering/units",
            &json!({"uscc": uscc(1), "name_zh": "甲厂", "region_code": "990101"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let unit = r.json()["id"].as_i64().unwrap();
    let r = admin.post_json("/api/v1/metering/meters", &json!({"unit_id": unit, "level": "site", "code": "W0", "name_zh": "总水表", "energy_type": "water"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let water = r.json()["id"].as_i64().unwrap();
    // A leak (never below 0.4) with a hole of two hours on the first day.
    let mut rows: Vec<Value> = day_of(water, "2025-06-02", |i| {
        if (8..72).contains(&i) { 3.0 } else { 0.4 }
    })
    .into_iter()
    .enumerate()
    .filter(|(i, _)| !(40..48).contains(i))
    .map(|x| x.1)
    .collect();
    rows.extend(day_of(water, "2025-06-03", |i| {
        if (8..72).contains(&i) { 3.0 } else { 0.4 }
    }));
    let r = admin
        .post_json("/api/v1/meters/readings", &Value::Array(rows))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vee = format!("/api/v1/metering/meters/{water}/vee?from=2025-06-02&to=2025-06-03");
    let detect = format!("/api/v1/metering/meters/{water}/detect?from=2025-06-02&to=2025-06-04");
    let readings = "SELECT COUNT(*) AS n FROM mt_readings WHERE city_id = ? AND meter_id = ?";
    let edits = "SELECT COUNT(*) AS n FROM mt_vee_edits WHERE city_id = ? AND meter_id = ?";
    let alerts = "SELECT COUNT(*) AS n FROM mt_alerts WHERE city_id = ?";
    let audited =
        "SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND action = ? AND entity_id = ?";
    let key = || vec![e.city.into(), water.into()];
    let before = (n(&e, readings, key()).await, n(&e, edits, key()).await);
    assert_eq!(before.1, 0);
    // Roles without the right to manage metering: refused, nothing written.
    for user in ["analyst", "inspector", "viewer"] {
        let mut c = client(&e, user).await;
        let r = c.post_json(&vee, &json!({})).await;
        assert_eq!(r.status, 403, "{user} vee: {}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        let r = c.post_json(&detect, &json!({})).await;
        assert_eq!(r.status, 403, "{user} detect: {}", r.body);
    }
    assert_eq!(
        (n(&e, readings, key()).await, n(&e, edits, key()).await),
        before
    );
    assert_eq!(n(&e, alerts, vec![e.city.into()]).await, 0);
    // Ranges: from before to, at most 366 days; refused with the field named.
    for q in [
        "from=2025-06-03&to=2025-06-02",
        "from=2024-01-01&to=2025-06-03",
    ] {
        for path in ["vee", "detect"] {
            let r = admin
                .post_json(
                    &format!("/api/v1/metering/meters/{water}/{path}?{q}"),
                    &json!({}),
                )
                .await;
            assert_eq!(r.status, 422, "{path}?{q}: {}", r.body);
            assert_eq!(r.headers["content-type"], "application/problem+json");
            assert_eq!(r.json()["field"], "from", "{}", r.body);
        }
    }
    let r = admin
        .post_json(
            &format!("/api/v1/metering/meters/{water}/detect?from=2025-01-01&to=2026-01-01"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "365 days are fine: {}", r.body);
    assert_eq!(
        n(&e, alerts, vec![e.city.into()]).await,
        r.json()["new_alerts"].as_i64().unwrap()
    );
    // A manager's runs change data and are audited.
    let r = admin.post_json(&vee, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(n(&e, edits, key()).await > 0);
    let r = admin.post_json(&detect, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = water.to_string();
    for action in ["metering.readings.vee", "metering.meter.detect"] {
        let got = n(
            &e,
            audited,
            vec![e.city.into(), action.into(), id.clone().into()],
        )
        .await;
        assert!(got >= 1, "{action} audited");
    }
}
