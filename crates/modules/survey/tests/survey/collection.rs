//! Questionnaires and their versions, the public form, invitations, quotas and imports.

use super::common::*;
use qcity_platform::on_both_backends;
use qcity_platform::testing::{Backend, TestClient, citus_problems};
use serde_json::json;

on_both_backends!(
    tenant_keys_lead_with_city_id,
    questionnaire_edits_with_responses_make_a_new_version,
    public_form_commits_before_thanks_and_resumes,
    invitation_token_is_used_once,
    quota_closes_a_full_cell,
    import_is_all_or_nothing
);

async fn tenant_keys_lead_with_city_id(b: Backend) {
    let e = env(b).await;
    let p = citus_problems(&e.db, &[]).await;
    assert!(p.is_empty(), "{p:?}");
}

async fn questionnaire_edits_with_responses_make_a_new_version(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (qid, w) = collecting_wave(&mut c, small_def(), 2025).await;
    // No responses yet: an edit applies in place.
    let mut d = small_def();
    d["questions"][2]["text_zh"] = json!("食品质量");
    let r = c
        .post_json(&format!("/api/v1/survey/questionnaires/{qid}/revise"), &d)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["new_version"], json!(false));
    // A response arrives; the next (destructive) edit makes version 2 and leaves v1 intact.
    let wid = w["id"].as_i64().unwrap();
    let r = upload(
        &mut c,
        wid,
        json!([{"external_id": "a", "answers": {"D1": "990101", "D2": "young", "P01": 4}}]),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut d2 = d.clone();
    d2["questions"].as_array_mut().unwrap().remove(4);
    let r = c
        .post_json(&format!("/api/v1/survey/questionnaires/{qid}/revise"), &d2)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rev = r.json();
    assert_eq!(rev["new_version"], json!(true));
    assert_eq!(rev["version"], json!(2));
    let old = c
        .get(&format!("/api/v1/survey/questionnaires/{qid}"))
        .await
        .json();
    assert_eq!(old["definition"]["questions"].as_array().unwrap().len(), 5);
    assert_eq!(
        old["definition"]["questions"][2]["text_zh"],
        json!("食品质量")
    );
    // Invalid definitions name the field.
    let mut bad = small_def();
    bad["questions"][2]["scale"] = json!(6);
    let r = c.post_json("/api/v1/survey/questionnaires", &bad).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], json!("questions[2].scale"));
}

async fn public_form_commits_before_thanks_and_resumes(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let link = format!("/s/{}", w["open_token"].as_str().unwrap());
    let mut citizen = TestClient::new(e.router.clone());
    let r = citizen.get(&link).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("name=\"q_D1\""));
    // A required question left empty: the page comes back with the error at the question.
    let r = citizen
        .post_form(
            &link,
            &[("page", "1"), ("action", "next"), ("q_D1", "990101")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("aria-invalid=\"true\" aria-describedby=\"e_D2\""),
        "{}",
        r.body
    );
    // Page 1 saved: a partial response exists.
    let r = citizen
        .post_form(
            &link,
            &[
                ("page", "1"),
                ("action", "next"),
                ("q_D1", "990101"),
                ("q_D2", "old"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        count(
            &e.db,
            "SELECT COUNT(*) AS n FROM survey_responses WHERE status = 'partial'"
        )
        .await,
        1
    );
    // Resume: the same browser comes back later and finds its answers.
    let r = citizen.get(&link).await;
    assert!(r.body.contains("value=\"old\" checked"), "{}", r.body);
    citizen.get(&format!("{link}?page=2")).await;
    // "Save and continue later" keeps what is there without insisting on required answers.
    let r = citizen
        .post_form(&link, &[("page", "2"), ("action", "save"), ("q_O01", "4")])
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("data-testid=\"survey-saved\""),
        "{}",
        r.body
    );
    let r = citizen.get(&format!("{link}?page=2")).await;
    assert!(
        r.body.contains("name=\"q_O01\" value=\"4\" checked"),
        "{}",
        r.body
    );
    let r = citizen
        .post_form(
            &link,
            &[
                ("page", "2"),
                ("action", "submit"),
                ("q_P01", "5"),
                ("q_O01", "4"),
                ("q_T1", "希望加强食品监管"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The link token never travels in a redirect (it is kept in the survey-link cookie).
    assert_eq!(r.location(), Some("/s/thanks"));
    // Durable before the thank-you page: the row is complete as soon as the redirect arrives.
    assert_eq!(
        count(
            &e.db,
            "SELECT COUNT(*) AS n FROM survey_responses WHERE status = 'complete'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM survey_responses").await,
        1
    );
    let r = citizen.get("/s/thanks").await;
    assert!(r.body.contains("data-testid=\"survey-thanks\""));
    // Duplicate prevention on the open link: the same browser cannot answer again.
    let r = citizen.get(&link).await;
    assert!(
        r.body.contains("data-testid=\"survey-already\""),
        "{}",
        r.body
    );
    // Without a CSRF token nothing is accepted.
    let mut other = TestClient::new(e.router.clone());
    other.get(&link).await;
    let r = other
        .post_form_raw(
            &link,
            &[
                ("page".into(), "1".into()),
                ("q_D1".into(), "990101".into()),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
}

async fn invitation_token_is_used_once(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    let r = c
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/invitations"),
            &json!({"count": 2}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let link = r.json()["links"][0].as_str().unwrap().to_string();
    let mut a = TestClient::new(e.router.clone());
    a.get(&link).await;
    let r = a
        .post_form(
            &link,
            &[("page", "1"), ("q_D1", "990102"), ("q_D2", "young")],
        )
        .await;
    assert_eq!(r.status, 303);
    a.get(&format!("{link}?page=2")).await;
    let r = a
        .post_form(
            &link,
            &[("page", "2"), ("action", "submit"), ("q_P01", "3")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Another browser with the same invitation: already answered, nothing new stored.
    let mut b2 = TestClient::new(e.router.clone());
    let r = b2.get(&link).await;
    assert!(
        r.body.contains("data-testid=\"survey-already\""),
        "{}",
        r.body
    );
    let r = b2
        .post_form(
            &link,
            &[("page", "2"), ("action", "submit"), ("q_P01", "1")],
        )
        .await;
    assert_ne!(r.status, 303);
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM survey_responses").await,
        1
    );
    assert_eq!(
        count(
            &e.db,
            "SELECT COUNT(*) AS n FROM survey_invitations WHERE used_at IS NOT NULL"
        )
        .await,
        1
    );
    // An unknown token is a 404 page.
    let r = b2.get("/s/nosuchtoken").await;
    assert_eq!(r.status, 404);
}

async fn quota_closes_a_full_cell(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    let r = c
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/quotas"),
            &json!({"quotas": [
                {"district": "990101", "target": 5},
                {"district": "990101", "variable": "age_group", "category": "old", "target": 1}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let link = format!("/s/{}", w["open_token"].as_str().unwrap());
    assert_eq!(answer(&e.router, &link, "990101", "old").await.status, 303);
    // The cell 990101 × old is full: the next such respondent is turned away at page 1.
    let r = answer(&e.router, &link, "990101", "old").await;
    assert!(
        r.body.contains("data-testid=\"survey-quota\""),
        "{}",
        r.body
    );
    // Other cells stay open.
    assert_eq!(
        answer(&e.router, &link, "990101", "young").await.status,
        303
    );
    assert_eq!(answer(&e.router, &link, "990102", "old").await.status, 303);
    let p = c
        .get(&format!("/api/v1/survey/waves/{wid}/quotas"))
        .await
        .json();
    let cells = p["quotas"].as_array().unwrap();
    let old = cells
        .iter()
        .find(|q| q["category"] == json!("old"))
        .unwrap();
    assert_eq!(old["achieved"], json!(1));
    assert_eq!(old["full"], json!(true));
    let dist = cells.iter().find(|q| q["variable"] == json!("")).unwrap();
    assert_eq!(dist["achieved"], json!(2));
    assert_eq!(dist["full"], json!(false));
}

async fn import_is_all_or_nothing(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    // The firm's API token (bearer, no CSRF).
    let mut firm = bearer(&e, "analyst").await;
    let bad = "external_id,mode,duration_s,D1,D2,P01,O01,T1\nf1,phone,300,990101,young,4,4,\nf2,phone,300,990101,old,9,4,\nf3,phone,300,999999,old,3,3,\n";
    let r = firm
        .request(
            "POST",
            &format!("/api/v1/survey/waves/{wid}/import?format=csv"),
            Some("text/csv"),
            bad.as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let errs = r.json()["errors"].as_array().unwrap().clone();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0]["row"], json!(2));
    assert_eq!(errs[0]["field"], json!("P01"));
    assert_eq!(errs[1]["row"], json!(3));
    assert_eq!(errs[1]["field"], json!("D1"));
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM survey_responses").await,
        0,
        "nothing half-imported"
    );
    let good = "external_id,mode,duration_s,D1,D2,P01,O01,T1\nf1,phone,300,990101,young,4,4,\nf2,onsite,300,990101,old,dk,4,道路施工太慢\n";
    let r = firm
        .request(
            "POST",
            &format!("/api/v1/survey/waves/{wid}/import?format=csv"),
            Some("text/csv"),
            good.as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["accepted"], json!(2));
    // Importing the same external ids again is refused as a whole.
    let r = firm
        .request(
            "POST",
            &format!("/api/v1/survey/waves/{wid}/import?format=csv"),
            Some("text/csv"),
            good.as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(r.status, 422);
    // XLSX works the same way.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (i, h) in ["external_id", "mode", "D1", "D2", "P01"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "x1").unwrap();
    ws.write_string(1, 1, "phone").unwrap();
    ws.write_string(1, 2, "990102").unwrap();
    ws.write_string(1, 3, "young").unwrap();
    ws.write_number(1, 4, 5.0).unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let r = firm
        .request(
            "POST",
            &format!("/api/v1/survey/waves/{wid}/import"),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            bytes,
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        count(
            &e.db,
            "SELECT COUNT(*) AS n FROM survey_responses WHERE status = 'complete'"
        )
        .await,
        3
    );
    // JSON upload: one bad row rejects the batch.
    let r = firm
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/responses"),
            &json!({"responses": [
                {"external_id": "j1", "answers": {"D1": "990102", "D2": "old", "P01": 2}},
                {"external_id": "j2", "answers": {"D1": "990102", "D2": "old"}}
            ]}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["row"], json!(2));
    assert_eq!(r.json()["errors"][0]["field"], json!("P01"));
    assert_eq!(
        count(
            &e.db,
            "SELECT COUNT(*) AS n FROM survey_responses WHERE status = 'complete'"
        )
        .await,
        3
    );
}
