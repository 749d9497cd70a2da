//! Scope, the analysis, cleaning decisions, the hooks and the demo waves.

use super::common::*;
use qcity_platform::module::Module;
use qcity_platform::on_both_backends;
use qcity_platform::testing::{Backend, TestClient};
use qcity_survey::SurveyModule;
use qcity_survey::store;
use serde_json::{Value, json};

on_both_backends!(
    scope_limits_what_officers_see,
    analysis_matches_the_engine_on_a_hand_checked_case,
    cleaning_decisions_are_audited,
    hooks_feed_indicators_and_links
);

/// The demo: deterministic, idempotent, bulky part in a background job; the 2025 wave yields
/// weighted scores, the satisfaction model, the 四分图 and the change from 2024; the pages
/// render.
#[tokio::test]
async fn demo_seeds_analysable_waves_and_pages_render() {
    use qcity_platform::auth::RegionScope;
    use qcity_platform::jobs::JobState;
    let e = env(Backend::Sqlite).await;
    let regions =
        qcity_platform::store::regions::list_visible(&e.db, &RegionScope::new(e.city, "990100"))
            .await
            .unwrap();
    let jobs = qcity_platform::jobs::Jobs::default();
    let ctx = qcity_platform::module::DemoContext {
        db: e.db.clone(),
        city_id: e.city,
        city_code: "990100".into(),
        seed: 7,
        districts: regions
            .iter()
            .filter(|r| r.level == "district")
            .cloned()
            .collect(),
        streets: regions
            .iter()
            .filter(|r| r.level == "street")
            .cloned()
            .collect(),
        jobs: jobs.clone(),
    };
    SurveyModule.seed_demo(&ctx).await.unwrap();
    let mut state = JobState::Running;
    for _ in 0..600 {
        let s = jobs.snapshot();
        let j = s
            .iter()
            .find(|j| j.name == "survey demo responses")
            .unwrap();
        state = j.state;
        if state != JobState::Running {
            assert_eq!(j.message, "");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(state, JobState::Finished);
    // Idempotent.
    SurveyModule.seed_demo(&ctx).await.unwrap();
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM survey_waves").await,
        3
    );
    let waves = store::waves_in_status(&e.db, e.city, &["published"])
        .await
        .unwrap();
    assert_eq!(waves.len(), 2);
    let w2025 = waves.iter().find(|w| w.year == 2025).unwrap();
    assert!(w2025.completed > 1900, "{}", w2025.completed);
    let a = qcity_survey::api::wave_analysis(&e.db, e.city, w2025, true)
        .await
        .unwrap();
    assert_eq!(a.method.weighting, "raking");
    assert_eq!(
        a.method.margins_used,
        vec!["age_group", "district", "education", "sex"]
    );
    assert!(
        a.method.n_eff < a.method.n as f64,
        "unequal weights lower n_eff"
    );
    let o = a.overall.as_ref().unwrap();
    assert!(o.score > 40.0 && o.score < 90.0, "{}", o.score);
    assert!(o.change.is_some(), "change from 2024");
    let m = a
        .model
        .as_ref()
        .unwrap_or_else(|| panic!("{:?}", a.model_error));
    assert_eq!(m.paths.len(), 5);
    // 78 indicators: "don't know" answers are mean-replaced, so nearly every valid response
    // enters the model (strict complete cases would keep about 0.97^78 ≈ 9 %).
    assert!(
        m.n as f64 > 0.9 * a.method.n as f64,
        "{} of {}",
        m.n,
        a.method.n
    );
    assert!(m.r2["overall"] > 0.2, "{:?}", m.r2);
    let service = m
        .paths
        .iter()
        .find(|p| p.from == "service")
        .unwrap()
        .coefficient;
    let construction = m
        .paths
        .iter()
        .find(|p| p.from == "construction")
        .unwrap()
        .coefficient;
    assert!(
        service > construction,
        "services drive overall satisfaction more than construction"
    );
    let ipa = a.ipa.as_ref().unwrap();
    assert_eq!(ipa.points.len(), 5);
    let imp = |d: &str| {
        ipa.points
            .iter()
            .find(|p| p.domain == d)
            .unwrap()
            .importance
    };
    assert!(imp("service") > imp("construction"), "{:?}", ipa.points);
    // Every one of the 78 indicators of the five domains has a weighted score.
    let scored: std::collections::BTreeSet<_> = a
        .indicators
        .iter()
        .filter(|i| qcity_survey::model::DOMAINS.contains(&i.domain.as_str()))
        .filter_map(|i| i.indicator_code.clone())
        .collect();
    assert_eq!(scored.len(), 78);
    assert!(a.suggestions.total > 300);
    assert!(a.suggestions.by_domain["environment"] > 0);
    // Pages.
    let mut c = signed_in(&e, "analyst").await;
    for path in [
        "/app/survey".to_string(),
        format!("/app/survey/questionnaires/{}", w2025.questionnaire_id),
        format!("/app/survey/waves/{}", w2025.id),
        format!("/app/survey/waves/{}/analysis", w2025.id),
    ] {
        let r = c.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let r = c
        .get(&format!("/app/survey/waves/{}/analysis", w2025.id))
        .await;
    assert!(r.body.contains("data-chart=\"chart-model\""));
    assert!(r.body.contains("data-chart=\"chart-ipa\""));
    let open = store::waves_in_status(&e.db, e.city, &["collecting"])
        .await
        .unwrap();
    let mut citizen = TestClient::new(e.router.clone());
    let r = citizen.get(&format!("/s/{}", open[0].open_token)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("value=\"990102\""));
    let r = citizen
        .get(&format!(
            "/s/{}?page={}",
            open[0].open_token,
            qcity_survey::builtin::LAST_PAGE
        ))
        .await;
    assert!(r.body.contains("data-show-if=\"X2\""));
    let home = c.get("/app").await;
    assert!(home.body.contains("2025"), "dashboard tile");
}

async fn scope_limits_what_officers_see(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    let r = c
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/responses"),
            &json!({"responses": [
                {"external_id": "a", "answers": {"D1": "990101", "D2": "old", "P01": 5}},
                {"external_id": "b", "answers": {"D1": "990102", "D2": "old", "P01": 3}}
            ]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let ids: Vec<i64> = r.json()["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    let mut officer = signed_in(&e, "officer").await;
    // The officer of 990102 sees the city's wave, but only their district's responses.
    let r = officer
        .get(&format!("/api/v1/survey/waves/{wid}/responses"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.json();
    assert_eq!(list["total"], json!(1));
    assert_eq!(list["responses"][0]["region_code"], json!("990102"));
    assert!(r.json()["responses"][0]["answers"].is_object());
    let wave = officer
        .get(&format!("/api/v1/survey/waves/{wid}"))
        .await
        .json();
    assert_eq!(wave["wave"]["open_token"], Value::Null);
    // The officer cannot manage the survey.
    let r = officer
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/status"),
            &json!({"status": "closed"}),
        )
        .await;
    assert_eq!(r.status, 403);
    // The analysis shows only the officer's districts.
    let a = officer
        .get(&format!("/api/v1/survey/waves/{wid}/analysis"))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = a.json();
    let ds: Vec<&str> = a["districts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["region_code"].as_str().unwrap())
        .collect();
    assert_eq!(ds, vec!["990102"]);
    // An unknown wave is 404.
    let r = c.get("/api/v1/survey/waves/1/responses").await;
    assert_eq!(r.status, 404);
    // Another city's wave: 404 by API and by page.
    let other = qcity_platform::store::cities::ensure_city(&e.db, "990200", "他市", "Other")
        .await
        .unwrap();
    let d = qcity_survey::builtin::standard();
    let oq = store::create_questionnaire(&e.db, other.id, &d)
        .await
        .unwrap();
    let ow = store::create_wave(
        &e.db,
        other.id,
        "990200",
        &store::NewWave {
            questionnaire_id: oq,
            year: 2025,
            name_zh: "他市".into(),
            name_en: String::new(),
            modes: vec!["web".into()],
            target_n: 0,
            conversion: "linear".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        c.get(&format!("/api/v1/survey/waves/{ow}")).await.status,
        404
    );
    assert_eq!(c.get(&format!("/app/survey/waves/{ow}")).await.status, 404);
    // A maintainer has no access to the survey at all.
    let mut m = signed_in(&e, "maint").await;
    assert_eq!(
        m.get(&format!("/api/v1/survey/waves/{wid}")).await.status,
        403
    );
    // A response of another district is 404 by URL; their own is visible.
    assert_eq!(
        officer
            .get(&format!("/api/v1/survey/responses/{}", ids[0]))
            .await
            .status,
        404
    );
    assert_eq!(
        officer
            .get(&format!("/api/v1/survey/responses/{}", ids[1]))
            .await
            .status,
        200
    );
    assert_eq!(
        c.get(&format!("/api/v1/survey/responses/{}", ids[0]))
            .await
            .status,
        200
    );
    // Officers cannot take cleaning decisions.
    let r = officer
        .post_json(
            &format!("/api/v1/survey/responses/{}/decision", ids[0]),
            &json!({"decision": "exclude", "reason": "x"}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = c.get(&format!("/app/survey/waves/{wid}")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("quota-table"));
    let r = officer.get(&format!("/app/survey/waves/{wid}")).await;
    assert_eq!(r.status, 200);
    assert!(
        !r.body.contains("中心区"),
        "officer page lists only their district"
    );
}

async fn analysis_matches_the_engine_on_a_hand_checked_case(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    let r = c
        .post_json(
            &format!("/api/v1/survey/waves/{wid}/margins"),
            &json!({"margins": [
                {"variable": "district", "category": "990101", "total": 300.0},
                {"variable": "district", "category": "990102", "total": 100.0}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // 990101: scores 100 and 50; 990102: 0 (5-point scale, linear: (x−1)/4×100).
    let r = upload(&mut c, wid, json!([
            {"external_id": "a", "duration_s": 100, "answers": {"D1": "990101", "D2": "old", "P01": 5}},
            {"external_id": "b", "duration_s": 100, "answers": {"D1": "990101", "D2": "young", "P01": 3}},
            {"external_id": "c", "duration_s": 100, "answers": {"D1": "990102", "D2": "old", "P01": 1, "T1": "小区垃圾太多，噪音很大"}},
            {"external_id": "d", "duration_s": 100, "answers": {"D1": "990102", "D2": "old", "P01": "dk"}}
        ]))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let a = c.get(&format!("/api/v1/survey/waves/{wid}/analysis")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = a.json();
    // Post-stratified weights: 150, 150 (990101) and 50, 50 (990102); the don't-know answer
    // is outside the product score: (150·100 + 150·50 + 50·0)/(350) = 22500/350.
    let o = &a["overall"];
    assert!(
        (o["score"].as_f64().unwrap() - 22500.0 / 350.0).abs() < 1e-9,
        "{o}"
    );
    assert_eq!(o["n"], json!(3));
    // Kish n_eff of the three weights 150, 150, 50: 350²/(150²+150²+50²) = 122500/47500.
    assert!((o["n_eff"].as_f64().unwrap() - 122_500.0 / 47_500.0).abs() < 1e-9);
    assert_eq!(a["method"]["weighting"], json!("raking"));
    assert_eq!(a["method"]["conversion"], json!("linear"));
    assert_eq!(a["method"]["n"], json!(4));
    // The SE is the engine's, with the raking taken into account.
    use qcity_surveystat::{Design, Margin, RakeOptions, estimate};
    let labels: Vec<String> = ["990101", "990101", "990102", "990102"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let m = Margin::from_labels(
        "district",
        &labels,
        &[("990101".into(), 300.0), ("990102".into(), 100.0)],
    )
    .unwrap();
    let d = Design::new(vec![1.0; 4])
        .unwrap()
        .raked(
            &[m],
            &RakeOptions {
                tolerance: 1e-6,
                max_iterations: 200,
                bounds: None,
            },
        )
        .unwrap();
    let est = estimate(
        &d,
        "overall",
        &[Some(100.0), Some(50.0), Some(0.0), None],
        None,
        0.95,
    )
    .unwrap();
    assert!((o["se"].as_f64().unwrap() - est.se).abs() < 1e-9);
    assert!((o["ci_low"].as_f64().unwrap() - est.ci_low).abs() < 1e-9);
    // District 990101: (100 + 50)/2.
    let d1 = a["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["region_code"] == json!("990101"))
        .unwrap();
    assert!((d1["overall"]["score"].as_f64().unwrap() - 75.0).abs() < 1e-9);
    assert_eq!(d1["name_zh"], json!("中心区"));
    // The suggestion is coded to the environment domain.
    assert_eq!(a["suggestions"]["by_domain"]["environment"], json!(1));
    // Too few complete cases for the model: reported, not an error.
    assert!(
        a["model_error"]
            .as_str()
            .unwrap()
            .contains("complete cases")
    );
    // Exports carry labels.
    let csv = c
        .get(&format!("/api/v1/survey/waves/{wid}/analysis.csv"))
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("得分(0-100)"));
    assert!(csv.body.contains("64.29"));
    let x = c
        .get(&format!("/api/v1/survey/waves/{wid}/analysis.xlsx?lang=en"))
        .await;
    assert_eq!(x.status, 200);
    assert!(
        x.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    // The analysis page renders with its charts.
    let p = c.get(&format!("/app/survey/waves/{wid}/analysis")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("data-chart=\"chart-domains\""));
    assert!(p.body.contains("64.29"));
}

async fn cleaning_decisions_are_audited(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    // A 3-second interview is flagged as speeding and left out by default.
    let r = upload(&mut c, wid, json!([
            {"external_id": "fast", "duration_s": 3, "answers": {"D1": "990101", "D2": "old", "P01": 5}},
            {"external_id": "ok1", "duration_s": 300, "answers": {"D1": "990101", "D2": "old", "P01": 1}},
            {"external_id": "ok2", "duration_s": 300, "answers": {"D1": "990102", "D2": "old", "P01": 1}}
        ]))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fast: i64 = r.json()["ids"][0].as_str().unwrap().parse().unwrap();
    let list = c
        .get(&format!(
            "/api/v1/survey/waves/{wid}/responses?flagged=true"
        ))
        .await
        .json();
    assert_eq!(list["total"], json!(1));
    assert_eq!(list["responses"][0]["flags"], json!(["speeding"]));
    assert_eq!(list["responses"][0]["included"], json!(false));
    let a = c
        .get(&format!("/api/v1/survey/waves/{wid}/analysis"))
        .await
        .json();
    assert_eq!(a["method"]["excluded"], json!(1));
    assert!((a["overall"]["score"].as_f64().unwrap() - 0.0).abs() < 1e-9);
    // A reason is required.
    let r = c
        .post_json(
            &format!("/api/v1/survey/responses/{fast}/decision"),
            &json!({"decision": "include", "reason": " "}),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = c
        .post_json(
            &format!("/api/v1/survey/responses/{fast}/decision"),
            &json!({"decision": "include", "reason": "电话回访核实"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["included"], json!(true));
    let a = c
        .get(&format!("/api/v1/survey/waves/{wid}/analysis"))
        .await
        .json();
    assert_eq!(a["method"]["excluded"], json!(0));
    assert_eq!(count(&e.db, "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'survey_response' AND action = 'survey.response.decision'").await, 1);
}

async fn hooks_feed_indicators_and_links(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    let m = SurveyModule;
    let links = m.public_links(&e.db, e.city).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].href,
        format!("/s/{}", w["open_token"].as_str().unwrap())
    );
    upload(&mut c, wid, json!([
        {"external_id": "a", "duration_s": 100, "answers": {"D1": "990101", "D2": "old", "P01": 5}},
        {"external_id": "b", "duration_s": 100, "answers": {"D1": "990102", "D2": "old", "P01": 4}}
    ]))
    .await;
    // Not published: nothing in open data; closed waves feed indicators.
    assert!(m.open_data(&e.db, e.city).await.unwrap().is_empty());
    set_status(&mut c, wid, "closed").await;
    assert!(m.public_links(&e.db, e.city).await.unwrap().is_empty());
    let feed = m.indicator_feed(&e.db, e.city, 2025).await.unwrap();
    let city = feed
        .iter()
        .find(|f| f.indicator == "CQ-SAT" && f.region_code == "990100")
        .unwrap();
    assert!((city.value - 87.5).abs() < 1e-9);
    assert!(feed.iter().any(|f| f.indicator == "CQ-SAT-PRODUCT"
        && f.region_code == "990102"
        && (f.value - 75.0).abs() < 1e-9));
    set_status(&mut c, wid, "published").await;
    let od = m.open_data(&e.db, e.city).await.unwrap();
    assert_eq!(od.len(), 1);
    assert!(!od[0].rows.is_empty());
    let sec = m.report_sections(&e.db, e.city, 2025).await.unwrap();
    assert_eq!(sec.len(), 1);
    assert!(sec[0].method_zh.contains("线性换算"));
    assert!(
        m.indicator_feed(&e.db, e.city, 2024)
            .await
            .unwrap()
            .is_empty()
    );
}
