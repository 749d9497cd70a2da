//! Who may change city-wide equipment configuration and who sees which IoT alarm frames,
//! through the real router on SQLite (and PostgreSQL when `QCITY_TEST_POSTGRES_URL` is set).

mod common;

use common::*;
use qcity_platform::auth::Role;
use qcity_platform::testing::Backend;
use serde_json::{Value, json};

use qcity_platform::on_both_backends;

on_both_backends!(
    district_inspector_cannot_change_city_wide_cycles,
    iot_summary_is_scoped_by_region_and_company,
);

/// Adds a user `name` with `role` in `region` (password `password-{name}`).
pub async fn add_user(e: &Env, name: &str, role: Role, region: &str) {
    use qcity_platform::store::users;
    users::create(
        &e.db,
        e.city,
        users::NewUser {
            username: users::Username::parse(name).unwrap(),
            display_name: String::new(),
            password_hash: qcity_platform::auth::password::hash_blocking("pw-long-enough").unwrap(),
            role,
            region_code: region.into(),
            company_id: None,
            enterprise_id: None,
        },
    )
    .await
    .unwrap();
}

fn elevator_cycle(cycles: &Value) -> Value {
    cycles
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "3000" && c["variety"] == "")
        .unwrap()
        .clone()
}

async fn district_inspector_cannot_change_city_wide_cycles(b: Backend) {
    let e = setup(b).await;
    add_user(&e, "east_insp", Role::Inspector, "990102").await;
    let mut district = e.client("east_insp").await;
    let mut city = e.client("inspector").await;
    let before = elevator_cycle(&city.get("/api/v1/equipment/cycles").await.json());
    let path = format!("/api/v1/equipment/cycles/{}", before["id"]);
    let edit = json!({"first_after_months": 24, "interval_months": 24, "schedule_years": "2"});
    let r = district.post_json(&path, &edit).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        r.headers["content-type"], "application/problem+json",
        "{}",
        r.body
    );
    let after = elevator_cycle(&city.get("/api/v1/equipment/cycles").await.json());
    assert_eq!(after, before, "the refused edit changed nothing");
    // A city-wide inspector may.
    let r = city.post_json(&path, &edit).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        elevator_cycle(&city.get("/api/v1/equipment/cycles").await.json())["interval_months"],
        24
    );
}

async fn iot_summary_is_scoped_by_region_and_company(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    // Company A's elevator in 990101, company C's in 990102 (C is the third company).
    let companies = admin.get("/api/v1/equipment/companies").await.json();
    let company_c = companies
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["license_no"] == "LC")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    add_elevator(&mut admin, "111111", "990101", e.company_a, 1).await;
    add_elevator(&mut admin, "222222", "990102", company_c, 2).await;
    let mut d = e.client("dispatcher").await;
    let r = d
        .post_json(
            "/api/v1/iot/elevator-alarms",
            &json!([
                {"rescue_code": "111111", "alarm_code": "05", "device_id": "gw-1"},
                {"rescue_code": "222222", "alarm_code": "05", "device_id": "gw-2"},
                {"rescue_code": "222222", "alarm_code": "05", "device_id": "gw-2"},
                {"rescue_code": "999999", "alarm_code": "02", "device_id": "gw-9"}
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let summary = |v: &Value| {
        (
            v["last_30_days"]["not_trapped"].as_i64().unwrap_or(0),
            v["last_30_days"]["unknown_elevator"].as_i64().unwrap_or(0),
            v["unknown_elevators"].as_array().unwrap().len(),
        )
    };
    const PATH: &str = "/api/v1/iot/elevator-alarms/summary";
    // City-wide: everything, the unknown elevator included.
    assert_eq!(summary(&d.get(PATH).await.json()), (3, 1, 1));
    // A 990102 viewer: the two frames of the 990102 elevator, no unknown frames.
    let mut east = e.client("east").await;
    let r = east.get(PATH).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(summary(&r.json()), (2, 0, 0));
    // A company-A engineer (city-wide region): only company A's elevator.
    let mut fixer = e.client("fixer").await;
    let r = fixer.get(PATH).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(summary(&r.json()), (1, 0, 0));
}
