//! Metering's changes are audited by its services, `metering.entity.verb`, whether the JSON
//! API or a page makes them: through the real router on SQLite (and PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set).

use qcity_metering::{MeteringModule, domain};
use qcity_platform::Module;
use qcity_platform::auth::{Role, token};
use qcity_platform::on_both_backends;
use qcity_platform::testing::{Backend, TestClient, TestDb, app, seed_small_city};
use serde_json::{Value, json};
use std::sync::Arc;

on_both_backends!(api_and_pages_write_the_same_audit_actions);

struct Env {
    _t: TestDb,
    db: sea_orm::DatabaseConnection,
    router: axum::Router,
    city: i64,
}

async fn n(e: &Env, sql: &str, values: Vec<sea_orm::Value>) -> i64 {
    let r = qcity_metering::sql::one(&e.db, sql, values)
        .await
        .unwrap()
        .unwrap();
    r.try_get("", "n").unwrap()
}

/// Audit rows of the city with this action.
async fn audited(e: &Env, action: &str) -> i64 {
    n(
        e,
        "SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND action = ?",
        vec![e.city.into(), action.into()],
    )
    .await
}

fn uscc(seq: u32) -> String {
    let first = format!("913501007{seq:08}");
    format!("{first}{}", domain::check_char(&first).unwrap())
}

async fn ok(r: qcity_platform::testing::TestResponse) -> Value {
    assert!(
        r.status == 200 || r.status == 201,
        "{} {}",
        r.status,
        r.body
    );
    r.json()
}

/// An open alert on `meter` of `unit`, as detection would store it.
async fn open_alert(e: &Env, unit: i64, meter: i64, start: i64) -> i64 {
    let id = qcity_platform::ids::new_id();
    qcity_metering::sql::exec(
        &e.db,
        "INSERT INTO mt_alerts (city_id, id, unit_id, meter_id, kind, start_ts, end_ts, magnitude, detail, status, acked_by, acked_at, ack_note, region_code, created_at) VALUES (?, ?, ?, ?, 'spike', ?, ?, 1.0, '', 'open', NULL, NULL, '', '990101', ?)",
        vec![e.city.into(), id.into(), unit.into(), meter.into(), start.into(), (start + 900).into(), chrono::Utc::now().into()],
    )
    .await
    .unwrap();
    id
}

async fn api_and_pages_write_the_same_audit_actions(b: Backend) {
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(MeteringModule)];
    let t = TestDb::migrated(b, &modules).await;
    let city = seed_small_city(&t.db, &[("admin", Role::Admin, "990100")]).await;
    let (_, router) = app(&t, modules);
    let e = Env {
        db: t.db.clone(),
        _t: t,
        router,
        city,
    };
    let u = qcity_platform::store::users::by_username(&e.db, e.city, "admin")
        .await
        .unwrap()
        .unwrap();
    let (_, tok) = token::issue(&e.db, e.city, u.id, "test").await.unwrap();
    let mut api = TestClient::with_bearer(e.router.clone(), &tok);
    let mut browser = TestClient::new(e.router.clone());
    assert_eq!(browser.login("admin", "password-admin").await.status, 303);

    // Through the API.
    let unit = ok(api
        .post_json(
            "/api/v1/metering/units",
            &json!({"uscc": uscc(1), "name_zh": "甲啤酒厂", "region_code": "990101"}),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    let meter = ok(api
        .post_json(
            "/api/v1/metering/meters",
            &json!({"unit_id": unit, "level": "site", "code": "E0", "name_zh": "总进线", "energy_type": "electricity"}),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    let week: Vec<Value> = (0..7)
        .map(|_| json!({"open_hour": 8, "close_hour": 18}))
        .collect();
    ok(api
        .request(
            "PUT",
            &format!("/api/v1/metering/units/{unit}/hours"),
            Some("application/json"),
            json!({ "days": week }).to_string().into_bytes(),
            &[],
        )
        .await)
    .await;
    ok(api
        .request(
            "PUT",
            "/api/v1/metering/settings",
            Some("application/json"),
            json!({"raw_retention_days": 400}).to_string().into_bytes(),
            &[],
        )
        .await)
    .await;
    let weather = ok(api
        .request(
            "POST",
            "/api/v1/metering/weather",
            Some("text/csv"),
            b"timestamp,temperature_c\n2025-01-01,5\n2025-01-02,6\n".to_vec(),
            &[],
        )
        .await)
    .await;
    assert_eq!(weather["stored"], json!(2));
    ok(api
        .post_json(&format!("/api/v1/metering/meters/{meter}/vee"), &json!({}))
        .await)
    .await;
    ok(api
        .post_json(
            &format!("/api/v1/metering/meters/{meter}/detect"),
            &json!({}),
        )
        .await)
    .await;
    let first = open_alert(&e, unit, meter, 1_735_660_800).await;
    let second = open_alert(&e, unit, meter, 1_735_747_200).await;
    let acked = ok(api
        .post_json(
            &format!("/api/v1/metering/alerts/{first}/ack"),
            &json!({"note": " 已处理 "}),
        )
        .await)
    .await;
    assert_eq!(acked["status"], json!("acked"));
    assert_eq!(acked["ack_note"], json!("已处理"));
    // A second acknowledgement is a conflict and is not audited.
    let r = api
        .post_json(&format!("/api/v1/metering/alerts/{first}/ack"), &json!({}))
        .await;
    assert_eq!(r.status, 409, "{}", r.body);

    // Through the pages.
    browser.get(&format!("/app/metering/units/{unit}")).await;
    let mut form: Vec<(String, String)> = Vec::new();
    for i in 0..7 {
        form.push((format!("open_{i}"), "7".into()));
        form.push((format!("close_{i}"), "19".into()));
    }
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = browser
        .post_form(&format!("/app/metering/units/{unit}/hours"), &fields)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    browser.get("/app/metering/settings").await;
    let r = browser
        .post_form(
            "/app/metering/settings",
            &[("raw_retention_days", "500"), ("imbalance_tolerance", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    browser.get(&format!("/app/metering/meters/{meter}")).await;
    let r = browser
        .post_form(&format!("/app/metering/meters/{meter}/vee"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    browser.get(&format!("/app/metering/meters/{meter}")).await;
    let r = browser
        .post_form(&format!("/app/metering/meters/{meter}/detect"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    browser.get("/app/metering/alerts").await;
    let r = browser
        .post_form(
            &format!("/app/metering/alerts/{second}/ack"),
            &[("note", "现场核实")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    for (action, count) in [
        ("metering.unit.create", 1),
        ("metering.meter.create", 1),
        ("metering.unit.hours", 2),
        ("metering.settings.update", 2),
        ("metering.weather.import", 1),
        ("metering.readings.vee", 2),
        ("metering.meter.detect", 2),
        ("metering.alert.ack", 2),
    ] {
        assert_eq!(audited(&e, action).await, count, "{action}");
    }
    assert_eq!(
        n(
            &e,
            "SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND (entity LIKE 'mt_%' OR action LIKE 'metering.%') AND (action NOT LIKE 'metering.%' OR entity NOT LIKE 'mt_%')",
            vec![e.city.into()],
        )
        .await,
        0,
        "every metering action is named metering.entity.verb"
    );
}
