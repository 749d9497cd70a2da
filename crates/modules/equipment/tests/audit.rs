//! Every change a person makes through the JSON API or the pages is audited, in the change's
//! transaction, as `equipment.<entity>.<verb>` (on SQLite, and PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set).

mod common;

use common::*;
use qcity_equipment::registry;
use qcity_platform::on_both_backends;
use qcity_platform::testing::{Backend, TestClient};
use serde_json::json;

on_both_backends!(
    every_api_change_is_audited_as_equipment_entity_verb,
    page_forms_are_audited_as_the_api_is,
);

/// The city's audit entries in order: `(action, entity, entity_id)`.
async fn entries(e: &Env) -> Vec<(String, String, String)> {
    qcity_equipment::sql::all(
        &e.db,
        "SELECT action, entity, entity_id FROM audit_log WHERE city_id = ? AND action LIKE 'equipment.%' ORDER BY at, id",
        vec![e.city.into()],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.try_get("", "action").unwrap(),
            r.try_get("", "entity").unwrap(),
            r.try_get("", "entity_id").unwrap(),
        )
    })
    .collect()
}

/// The entries after the first `skip`, as `(action, entity)`.
async fn actions_after(e: &Env, skip: usize) -> Vec<(String, String)> {
    entries(e)
        .await
        .into_iter()
        .skip(skip)
        .map(|(a, en, _)| (a, en))
        .collect()
}

fn pairs(want: &[(&str, &str)]) -> Vec<(String, String)> {
    want.iter()
        .map(|(a, e)| (a.to_string(), e.to_string()))
        .collect()
}

async fn every_api_change_is_audited_as_equipment_entity_verb(b: Backend) {
    let e = setup(b).await;
    // The three companies of the set-up.
    let before = entries(&e).await;
    assert_eq!(before.len(), 3, "{before:?}");
    assert!(
        before
            .iter()
            .all(|(a, en, _)| a == "equipment.company.create" && en == "eq_company")
    );
    let today = registry::today().to_string();
    let mut admin = e.client("admin").await;
    let id = add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let r = admin
        .post_json(
            &format!("/api/v1/equipment/{id}/status"),
            &json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut insp = e.client("inspector").await;
    let r = insp
        .post_json(
            &format!("/api/v1/equipment/{id}/inspections"),
            &json!({"inspected_on": today, "conclusion": "fail", "defects": ["门锁失效"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let iid = r.json()["id"].as_i64().unwrap();
    let r = insp
        .post_json(
            &format!("/api/v1/equipment/inspections/{iid}/rectify"),
            &json!({"rectified_on": today}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut fixer = e.client("fixer").await;
    let r = fixer
        .post_json(
            &format!("/api/v1/equipment/{id}/maintenance"),
            &json!({"done_on": today, "kind": "half_month"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let cycles = insp.get("/api/v1/equipment/cycles").await.json();
    let cycle = cycles[0]["id"].as_i64().unwrap();
    let r = insp
        .post_json(
            &format!("/api/v1/equipment/cycles/{cycle}"),
            &json!({"first_after_months": cycles[0]["first_after_months"], "interval_months": cycles[0]["interval_months"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut d = e.client("dispatcher").await;
    let r = d
        .post_json(
            "/api/v1/equipment/timers",
            &json!({"region_code": "990101", "ack_secs": 300}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let csv = format!(
        "{}\n3000,3110,,,,654321,2号梯,幸福物业,,LA,幸福花园2号楼,,,990101,,,,,,,,,\n",
        registry::CSV_COLUMNS.join(",")
    );
    let r = import(&mut admin, "text/csv", csv.into_bytes()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The incident needs an elevator in use.
    let r = admin
        .post_json(
            &format!("/api/v1/equipment/{id}/status"),
            &json!({"status": "in_use"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let inc = open_incident(&mut d, "123456").await;
    walk(&mut d, inc, &["dispatched"], 1).await;

    assert_eq!(
        actions_after(&e, 3).await,
        pairs(&[
            ("equipment.equipment.create", "eq_equipment"),
            ("equipment.equipment.status", "eq_equipment"),
            ("equipment.inspection.record", "eq_inspection"),
            ("equipment.inspection.rectified", "eq_inspection"),
            ("equipment.maintenance.record", "eq_maintenance"),
            ("equipment.cycle.update", "eq_cycle"),
            ("equipment.timers.set", "eq_timers"),
            ("equipment.equipment.import", "eq_equipment"),
            ("equipment.equipment.status", "eq_equipment"),
            ("equipment.incident.create", "eq_incident"),
            ("equipment.incident.transition", "eq_incident"),
        ])
    );
    let all = entries(&e).await;
    assert_eq!(all[3].2, id.to_string());
    assert_eq!(all[9].2, "990101", "timers are audited under their region");
    assert_eq!(all[10].2, "csv", "an import is audited under its format");
    // A refused change leaves no entry.
    let r = admin
        .post_json(
            &format!("/api/v1/equipment/{id}/status"),
            &json!({"status": "registered"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(entries(&e).await.len(), all.len());
}

async fn page_forms_are_audited_as_the_api_is(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    let id = add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let skip = entries(&e).await.len();
    let today = registry::today().to_string();
    let mut browser = TestClient::new(e.router.clone());
    browser.login("admin", "password-admin").await;
    let detail = format!("/app/equipment/registry/{id}");
    assert_eq!(browser.get(&detail).await.status, 200);
    let r = browser
        .post_form(
            &format!("{detail}/inspections"),
            &[("inspected_on", &today), ("conclusion", "pass")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers["location"], format!("{detail}?msg=saved"));
    let r = browser
        .post_form(
            &format!("{detail}/maintenance"),
            &[("done_on", &today), ("kind", "half_month")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(browser.get("/app/equipment/intake").await.status, 200);
    let r = browser
        .post_form(
            "/app/equipment/intake",
            &[
                ("rescue_code", "123456"),
                ("channel", "phone"),
                ("idem", "k1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let at = r.headers["location"].to_str().unwrap().to_string();
    assert_eq!(browser.get(&at).await.status, 200);
    let r = browser
        .post_form(
            &format!("{at}/transition"),
            &[("to", "dispatched"), ("version", "1")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        actions_after(&e, skip).await,
        pairs(&[
            ("equipment.inspection.record", "eq_inspection"),
            ("equipment.maintenance.record", "eq_maintenance"),
            ("equipment.incident.create", "eq_incident"),
            ("equipment.incident.transition", "eq_incident"),
        ])
    );
}
