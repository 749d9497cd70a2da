//! The questionnaire builder.

use super::common::*;
use qcity_platform::on_both_backends;
use qcity_platform::testing::{Backend, TestClient};
use serde_json::json;

on_both_backends!(builder_adds_edits_reorders_and_versions);

/// Codes of a questionnaire's questions in order (through the API).
async fn codes_of(c: &mut TestClient, qid: i64) -> Vec<String> {
    let q = c
        .get(&format!("/api/v1/survey/questionnaires/{qid}"))
        .await
        .json();
    q["definition"]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap().to_string())
        .collect()
}

async fn builder_adds_edits_reorders_and_versions(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let r = c
        .post_json("/api/v1/survey/questionnaires", &small_def())
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let qid = r.json()["id"].as_i64().unwrap();
    let page = format!("/app/survey/questionnaires/{qid}");
    let r = c.get(&page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("data-testid=\"survey-question-form\""));
    // Add a numeric question with a range to section 2.
    let add = format!("{page}/questions");
    let r = c
        .post_form(
            &add,
            &[
                ("code", "N1"),
                ("kind", "numeric"),
                ("min", "0"),
                ("max", "120"),
                ("page", "2"),
                ("text_zh", "您每月网购多少次？"),
                ("text_en", "Online purchases a month?"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some(format!("{page}?notice=saved").as_str()));
    // Added after the last question of section 2.
    assert_eq!(
        codes_of(&mut c, qid).await,
        ["D1", "D2", "P01", "O01", "T1", "N1"]
    );
    // A multiple choice question with options, linked to an indicator of the catalogue, shown
    // only to older respondents.
    c.get(&page).await;
    let r = c
        .post_form(
            &add,
            &[
                ("code", "M1"),
                ("kind", "multiple"),
                ("options", "car|汽车|Car\nebike|电动自行车|E-bike"),
                ("domain", "product"),
                ("indicator_code", "P-AUTO"),
                ("page", "2"),
                ("required", "1"),
                ("text_zh", "您家有哪些交通工具？"),
                ("show_if_question", "D2"),
                ("show_if_values", "old"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let q = c
        .get(&format!("/api/v1/survey/questionnaires/{qid}"))
        .await
        .json();
    let m1 = &q["definition"]["questions"][6];
    assert_eq!(m1["code"], json!("M1"));
    assert_eq!(m1["options"][1]["label_en"], json!("E-bike"));
    assert_eq!(m1["indicator_zh"], json!("汽车"));
    assert_eq!(m1["show_if"], json!({"question": "D2", "any_of": ["old"]}));
    // Refusals name the field and change nothing.
    c.get(&page).await;
    let r = c
        .post_form(
            &add,
            &[("code", "P01"), ("kind", "text"), ("text_zh", "重复")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("code: the code `P01` is already used"),
        "{}",
        r.body
    );
    let r = c
        .post_form(
            &add,
            &[
                ("code", "L7"),
                ("kind", "likert"),
                ("scale", "6"),
                ("text_zh", "量表"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("scale: a rating scale has 5, 7, 10 or 11 points")
    );
    // Edit: rename N1 to N2 and make it required.
    let r = c.get(&format!("{page}?edit=N1")).await;
    assert!(
        r.body.contains("name=\"original\" value=\"N1\""),
        "{}",
        r.body
    );
    let r = c
        .post_form(
            &add,
            &[
                ("original", "N1"),
                ("code", "N2"),
                ("kind", "numeric"),
                ("min", "0"),
                ("max", "120"),
                ("page", "2"),
                ("required", "1"),
                ("text_zh", "您每月网购多少次？"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Reorder: M1 up twice (past N2, then past T1); delete T1.
    for _ in 0..2 {
        c.get(&page).await;
        let r = c
            .post_form(&format!("{page}/questions/M1/move"), &[("dir", "up")])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    c.get(&page).await;
    let r = c
        .post_form(&format!("{page}/questions/T1/delete"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        codes_of(&mut c, qid).await,
        ["D1", "D2", "P01", "O01", "M1", "N2"]
    );
    // D2 cannot go while M1 depends on it; M1 cannot move above D2 either.
    c.get(&page).await;
    let r = c
        .post_form(&format!("{page}/questions/D2/delete"), &[])
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("`M1` is shown depending on `D2`"),
        "{}",
        r.body
    );
    // The preview shows every section with its display logic.
    let r = c.get(&format!("{page}/preview")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("id=\"f_M1\" data-code=\"M1\" data-show-if=\"D2\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("name=\"q_N2\""));
    // A wave collects a response: the next edit makes version 2 and leaves v1 as it was.
    let r = c
        .post_json(
            "/api/v1/survey/waves",
            &json!({"questionnaire_id": qid, "year": 2025, "name_zh": "测评"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let wid = r.json()["id"].as_i64().unwrap();
    set_status(&mut c, wid, "collecting").await;
    let r = upload(&mut c, wid, json!([{"external_id": "x", "answers": {"D1": "990101", "D2": "young", "P01": 4, "N2": 3}}])).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = c.get(&page).await;
    assert!(r.body.contains("data-testid=\"survey-version-state\""));
    let r = c
        .post_form(&format!("{page}/questions/N2/delete"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.location().unwrap().to_string();
    assert!(
        to.ends_with("?notice=new_version") && !to.starts_with(&format!("{page}?")),
        "{to}"
    );
    assert_eq!(
        codes_of(&mut c, qid).await,
        ["D1", "D2", "P01", "O01", "M1", "N2"]
    );
    let v2 = c.get(&to).await;
    assert_eq!(v2.status, 200);
    assert!(v2.body.contains("v2"));
    assert!(!v2.body.contains("data-code=\"N2\""));
    // Officers may look but not edit.
    let mut o = signed_in(&e, "officer").await;
    assert_eq!(o.get(&page).await.status, 200);
    let r = o
        .post_form(&format!("{page}/questions/M1/delete"), &[])
        .await;
    assert_eq!(r.status, 403);
}
