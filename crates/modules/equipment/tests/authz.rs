//! Who may change city-wide equipment configuration, who sees which IoT alarm frames, and what
//! a maintenance engineer bound to no company sees (nothing), through the real router on SQLite (and PostgreSQL when `QCITY_TEST_POSTGRES_URL` is set).

mod common;

use common::*;
use qcity_platform::auth::Role;
use qcity_platform::testing::Backend;
use serde_json::{Value, json};

use qcity_platform::on_both_backends;

on_both_backends!(
    district_inspector_cannot_change_city_wide_cycles,
    iot_summary_is_scoped_by_region_and_company,
    a_maintainer_bound_to_no_company_sees_nothing,
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

async fn a_maintainer_bound_to_no_company_sees_nothing(b: Backend) {
    let e = setup(b).await;
    add_user(&e, "loose", Role::Maintainer, "990100").await;
    let mut admin = e.client("admin").await;
    let ea = add_elevator(&mut admin, "111111", "990101", e.company_a, 1).await;
    let mut d = e.client("dispatcher").await;
    let id = open_incident(&mut d, "111111").await;
    walk(&mut d, id, &["dispatched"], 1).await;
    let r = d
        .post_json(
            "/api/v1/iot/elevator-alarms",
            &json!({"rescue_code": "111111", "alarm_code": "02", "device_id": "gw-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Company A's engineer sees the elevator, the incident and the frame …
    let mut fixer = e.client("fixer").await;
    assert_eq!(fixer.get("/api/v1/equipment").await.json()["total"], 1);
    assert_eq!(
        fixer
            .get("/api/v1/incidents")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // … one bound to no company sees none of it, and may change none of it.
    let mut loose = e.client("loose").await;
    let r = loose.get("/api/v1/equipment").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["total"], 0);
    assert_eq!(
        loose.get(&format!("/api/v1/equipment/{ea}")).await.status,
        404
    );
    let r = loose.get("/api/v1/incidents?state=all").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!([]));
    assert_eq!(
        loose.get(&format!("/api/v1/incidents/{id}")).await.status,
        404
    );
    assert_eq!(
        transition(&mut loose, id, "acknowledged", 2).await.status,
        404
    );
    let r = loose
        .post_json(
            &format!("/api/v1/equipment/{ea}/maintenance"),
            &json!({"done_on": "2024-01-02", "kind": "half_month"}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        loose
            .get("/api/v1/equipment/maintenance/overdue")
            .await
            .json(),
        json!([])
    );
    assert_eq!(loose.get("/api/v1/equipment/risk").await.json(), json!([]));
    let k = loose.get("/api/v1/kpis/elevators").await;
    assert_eq!(k.status, 200, "{}", k.body);
    assert_eq!(
        (
            k.json()["elevators"].as_i64(),
            k.json()["incidents"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let r = loose
        .get("/api/v1/iot/elevator-alarms/summary")
        .await
        .json();
    assert_eq!(r["last_30_days"], json!({}));
    assert_eq!(r["unknown_elevators"], json!([]));
    // The incident is untouched.
    let i = d.get(&format!("/api/v1/incidents/{id}")).await.json();
    assert_eq!(
        (i["state"].as_str(), i["version"].as_i64()),
        (Some("dispatched"), Some(2))
    );
}
