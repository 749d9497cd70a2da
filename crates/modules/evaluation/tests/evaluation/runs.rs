//! Index runs, their reproduction, and the demo city's report and open data.

use qcity_evaluation::EvaluationModule;
use qcity_platform::Module;
use qcity_platform::auth::Role;
use qcity_platform::on_both_backends;
use qcity_platform::testing::Backend;
use serde_json::{Value, json};

use super::common::*;

on_both_backends!(
    runs_reproduce_from_stored_spec,
    demo_seed_report_and_open_data
);

async fn runs_reproduce_from_stored_spec(b: Backend) {
    let e = env(b).await;
    let mut a = client(&e, "analyst").await;
    let fw = install_cq(&mut a).await;
    publish_panel(&mut a, fw).await;
    let r = a.post_json("/api/v1/evaluation/runs", &json!({"framework_id": fw, "years": [2022, 2023, 2024], "uncertainty_n": 60, "seed": 7})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let d = wait_run(&mut a, id).await;
    assert_eq!(d["run"]["status"], "finished", "{d}");
    assert_eq!(
        d["run"]["regions"],
        json!(["990101", "990102", "990103", "990104"])
    );
    let res = &d["results"];
    assert_eq!(res["top"], "CQ");
    assert_eq!(res["years"].as_array().unwrap().len(), 3);
    let y24 = &res["years"][2];
    assert_eq!(y24["year"], 2024);
    let units = y24["units"].as_array().unwrap();
    assert_eq!(units.len(), 4);
    // ranks 1..4 on the index, scores within 0–100, district 990104 built to lead
    let mut ranks: Vec<u64> = units
        .iter()
        .map(|u| u["ranks"]["CQ"].as_u64().unwrap())
        .collect();
    ranks.sort();
    assert_eq!(ranks, vec![1, 2, 3, 4]);
    for u in units {
        let s = u["scores"]["CQ"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&s), "{s}");
        assert_eq!(u["strengths"].as_array().unwrap().len(), 3);
    }
    assert_eq!(units[0]["region"], "990104");
    assert_eq!(y24["rank_intervals"].as_array().unwrap().len(), 4);
    for iv in y24["rank_intervals"].as_array().unwrap() {
        assert!(iv["q05_rank"].as_f64().unwrap() <= iv["q95_rank"].as_f64().unwrap());
    }
    assert!(res["trends"]["990104"].as_f64().is_some());
    assert!(!res["progress"].as_array().unwrap().is_empty());
    assert!(
        res["dropped_indicators"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "CQ-MFG-QCI")
    );
    // the run reproduces exactly from what is stored
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/runs/{id}/reproduce"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["identical"], true);
    // and is independent of data changed after it ran
    let (s, _) = save(&mut a, fw, "CQ-SAT", "990101", 2024, 99.0).await;
    assert_eq!(s, 200);
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/runs/{id}/reproduce"),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["identical"], true);
    // an officer sees only their district's results; cannot run
    let mut o = client(&e, "officer").await;
    let d = o.get(&format!("/api/v1/evaluation/runs/{id}")).await.json();
    let units = d["results"]["years"][2]["units"].as_array().unwrap();
    assert_eq!(units.len(), 1);
    assert_eq!(units[0]["region"], "990102");
    let r = o
        .post_json(
            "/api/v1/evaluation/runs",
            &json!({"framework_id": fw, "years": [2024]}),
        )
        .await;
    assert_eq!(r.status, 403);
    // a bad spec names the field
    let r = a.post_json("/api/v1/evaluation/runs", &json!({"framework_id": fw, "years": [2024], "spec_toml": "[normalise]\nmethod = \"nope\""})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "spec_toml");
    // a single-year run works too (cross-section imputation)
    let r = a
        .post_json(
            "/api/v1/evaluation/runs",
            &json!({"framework_id": fw, "years": [2024], "uncertainty_n": 0}),
        )
        .await;
    let d = wait_run(&mut a, r.json()["id"].as_i64().unwrap()).await;
    assert_eq!(d["run"]["status"], "finished", "{d}");
    // the OpenAPI document describes the module
    let doc = a.get("/api/v1/openapi.json").await.json();
    assert!(doc["paths"]["/api/v1/evaluation/runs/{id}/reproduce"].is_object());
    assert!(doc["paths"]["/api/v1/evaluation/values"].is_object());
}

async fn demo_seed_report_and_open_data(b: Backend) {
    let e = env(b).await;
    let districts: Vec<_> = qcity_platform::store::regions::list_visible(
        &e.t.db,
        &qcity_platform::auth::RegionScope::new(e.city, "990100"),
    )
    .await
    .unwrap()
    .into_iter()
    .filter(|r| r.level == "district")
    .collect();
    let ctx = qcity_platform::DemoContext {
        db: e.t.db.clone(),
        city_id: e.city,
        city_code: "990100".into(),
        seed: 42,
        districts,
        streets: Vec::new(),
        jobs: e.st.jobs.clone(),
    };
    let m = EvaluationModule;
    m.seed_demo(&ctx).await.unwrap();
    m.seed_demo(&ctx).await.unwrap(); // idempotent
    let mut a = client(&e, "analyst").await;
    let fws = a.get("/api/v1/evaluation/frameworks").await.json();
    assert_eq!(fws.as_array().unwrap().len(), 3);
    // five runs, computed in the background
    let mut runs = Value::Null;
    for _ in 0..600 {
        runs = a.get("/api/v1/evaluation/runs").await.json();
        if runs.as_array().unwrap().len() == 5
            && runs
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] != "running")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "finished"),
        "{runs}"
    );
    let secs = m.report_sections(&e.t.db, e.city, 2025).await.unwrap();
    assert_eq!(secs.len(), 1);
    let s = &secs[0];
    assert_eq!(s.key, "evaluation.index");
    assert!(s.figures[0].value.is_some());
    assert_eq!(s.tables[0].rows.len(), 4);
    assert!(s.charts.iter().any(|c| c.needs_map));
    assert!(s.method_zh.contains("OECD"));
    // open data holds published values only
    let od = m.open_data(&e.t.db, e.city).await.unwrap();
    assert!(!od.is_empty());
    for ds in &od {
        for row in &ds.rows {
            assert!(
                row[0].as_i64().unwrap() <= 2024,
                "2025 values are not published"
            );
        }
        assert!(ds.passport["unit"].is_string());
    }
    // the demo's 2025 values include drafts and submitted ones
    let v = a
        .get("/api/v1/evaluation/values?year=2025&status=draft")
        .await
        .json();
    assert!(!v.as_array().unwrap().is_empty());
    let tiles = m
        .dashboard_tiles(
            &e.st,
            &{
                let mut c = client(&e, "analyst").await;
                let _ = c.get("/api/v1/me").await;
                // build the principal the way a request would
                qcity_platform::auth::Principal {
                    city_id: e.city,
                    city_code: "990100".into(),
                    user_id: 1,
                    username: "analyst".into(),
                    display_name: String::new(),
                    role: Role::Analyst,
                    scope: qcity_platform::auth::RegionScope::new(e.city, "990100"),
                    company_id: None,
                    enterprise_id: None,
                    via: qcity_platform::auth::AuthVia::Session {
                        csrf_token: String::new(),
                    },
                }
            },
            &qcity_platform::i18n::Tr::new(qcity_platform::i18n::Lang::En),
        )
        .await;
    assert_eq!(tiles.len(), 2);
    assert!(
        tiles
            .iter()
            .any(|t| t.title.starts_with("Quality development index")),
        "tiles follow the reader's language: {:?}",
        tiles.iter().map(|t| &t.title).collect::<Vec<_>>()
    );
}
