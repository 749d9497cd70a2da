//! The survey's changes are audited by its services, `survey.entity.verb`, whether the JSON API
//! or a staff page makes them; and what a service checks it checks for every caller.

mod common;

use common::*;
use qcity_platform::auth::{AuthVia, Principal, RegionScope, Role};
use qcity_platform::on_both_backends;
use qcity_platform::testing::Backend;
use qcity_survey::service;
use qcity_survey::store::{QuotaCell, StoreError};
use serde_json::json;

on_both_backends!(
    api_and_pages_write_the_same_audit_actions,
    services_check_their_input_for_every_caller,
);

/// Audit rows with this action.
async fn audited(e: &Env, action: &str) -> i64 {
    count(
        &e.db,
        &format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}' AND actor_name LIKE 'analyst%'"),
    )
    .await
}

async fn api_and_pages_write_the_same_audit_actions(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    // Through the API: questionnaire, wave, status (collecting).
    let (qid, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    let mut d = small_def();
    d["title_zh"] = json!("测试问卷（修订）");
    let r = c
        .post_json(&format!("/api/v1/survey/questionnaires/{qid}/revise"), &d)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/margins"),
            &json!({"margins": [{"variable": "district", "category": "990101", "total": 100.0}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/quotas"),
            &json!({"quotas": [{"district": "990101", "target": 5}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/invitations"),
            &json!({"count": 2, "label": "街道"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = upload(
        &mut c,
        wid,
        json!([{"external_id": "a", "duration_s": 3, "answers": {"D1": "990101", "D2": "old", "P01": 4}}]),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rid: i64 = r.json()["ids"][0].as_str().unwrap().parse().unwrap();
    let mut firm = bearer(&e, "analyst").await;
    let csv = "external_id,mode,duration_s,D1,D2,P01,O01,T1\nf1,phone,300,990101,young,4,4,\n";
    let r = firm
        .request(
            "POST",
            &format!("/api/v1/survey/waves/{wid}/import?format=csv"),
            Some("text/csv"),
            csv.as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // With responses, an edit makes a new version.
    let r = c
        .post_json(
            &format!("/api/v1/survey/questionnaires/{qid}/revise"),
            &small_def(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["new_version"], json!(true));
    let r = c
        .post_json(
            &format!("/api/v1/survey/responses/{rid}/decision"),
            &json!({"decision": "include", "reason": "电话回访核实"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Through the pages: the same changes again.
    c.get("/app/survey").await;
    let r = c
        .post_form("/app/survey/questionnaires/standard", &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    c.get("/app/survey").await;
    let r = c
        .post_form(
            "/app/survey/questionnaires",
            &[("code", "B"), ("title_zh", "空白问卷")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let blank = r.location().unwrap().to_string();
    c.get(&blank).await;
    let r = c
        .post_form(&format!("{blank}/meta"), &[("title_zh", "空白问卷二")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    c.get("/app/survey").await;
    let r = c
        .post_form(
            "/app/survey/waves",
            &[
                ("questionnaire_id", &qid.to_string()),
                ("year", "2026"),
                ("name_zh", "2026年测评"),
                ("target_n", "10"),
                ("mode_web", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = r.location().unwrap().to_string();
    c.get(&page).await;
    let r = c
        .post_form(&format!("{page}/status"), &[("status", "collecting")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    c.get(&page).await;
    let r = c
        .post_form(&format!("{page}/invitations"), &[("count", "2")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    c.get(&format!("/app/survey/waves/{wid}")).await;
    let r = c
        .post_form(
            &format!("/app/survey/responses/{rid}/decision"),
            &[
                ("decision", "exclude"),
                ("reason", "录音缺失"),
                ("wave_id", &wid.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    for (action, n) in [
        ("survey.questionnaire.create", 3),
        ("survey.questionnaire.update", 2),
        ("survey.questionnaire.new_version", 1),
        ("survey.wave.create", 2),
        ("survey.wave.status", 2),
        ("survey.wave.set_margins", 1),
        ("survey.wave.set_quotas", 1),
        ("survey.wave.invite", 2),
        ("survey.wave.upload", 1),
        ("survey.wave.import", 1),
        ("survey.response.decision", 2),
    ] {
        assert_eq!(audited(&e, action).await, n, "{action}");
    }
    assert_eq!(
        count(
            &e.db,
            "SELECT COUNT(*) AS n FROM audit_log WHERE entity LIKE 'survey%' AND action NOT LIKE 'survey.%'"
        )
        .await,
        0,
        "every survey action is named survey.entity.verb"
    );
}

/// The analyst of the test city, as a service sees them.
fn analyst(e: &Env, user_id: i64) -> Principal {
    Principal {
        city_id: e.city,
        city_code: "990100".into(),
        user_id,
        username: "analyst".into(),
        display_name: "analyst".into(),
        role: Role::Analyst,
        scope: RegionScope::new(e.city, "990100"),
        company_id: None,
        enterprise_id: None,
        via: AuthVia::Session {
            csrf_token: String::new(),
        },
    }
}

async fn services_check_their_input_for_every_caller(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    let uid = count(
        &e.db,
        "SELECT id AS n FROM users WHERE username = 'analyst'",
    )
    .await;
    let p = analyst(&e, uid);
    let cell = |district: &str| QuotaCell {
        district: district.into(),
        variable: String::new(),
        category: String::new(),
        target: 5,
    };
    // A quota for a place that is not a district of the city is refused, and nothing is
    // stored or audited.
    match service::set_quotas(&e.db, &p, wid, &[cell("990101"), cell("999999")]).await {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "quotas[1].district"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM survey_quotas").await,
        0
    );
    assert_eq!(audited(&e, "survey.wave.set_quotas").await, 0);
    let progress = service::set_quotas(&e.db, &p, wid, &[cell("990101")])
        .await
        .unwrap();
    assert_eq!(progress.len(), 1);
    assert_eq!(audited(&e, "survey.wave.set_quotas").await, 1);
    // A cleaning decision needs a known decision and a reason.
    for (decision, reason, field) in [("drop", "原因", "decision"), ("exclude", "  ", "reason")] {
        match service::decide(&e.db, &p, 1, decision, reason).await {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(audited(&e, "survey.response.decision").await, 0);
    // A status outside the four is refused before anything is written.
    assert!(matches!(
        service::set_wave_status(&e.db, &p, wid, "archived").await,
        Err(StoreError::Invalid { .. })
    ));
    assert_eq!(audited(&e, "survey.wave.status").await, 1);
}
