//! The evaluation module's behaviour through the real router, on SQLite always and on
//! PostgreSQL when `QCITY_TEST_POSTGRES_URL` is set (a fresh database per test).

use qcity_evaluation::EvaluationModule;
use qcity_platform::Module;
use qcity_platform::auth::Role;
use qcity_platform::store::regions::NewRegion;
use qcity_platform::testing::{Backend, TestClient, TestDb, app, citus_problems, seed_small_city};
use serde_json::{Value, json};
use std::sync::Arc;

use qcity_platform::on_both_backends;

on_both_backends!(
    schema_is_citus_ready_and_catalogue_installs,
    officer_sees_only_own_district,
    status_workflow_follows_roles,
    import_is_all_or_nothing_with_row_errors,
    runs_reproduce_from_stored_spec,
    demo_seed_report_and_open_data,
    pages_render,
    rules_are_managed_and_change_submit_warnings,
    structure_is_edited_and_past_runs_keep_their_copy,
    structure_page_adds_edits_and_refuses,
);

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(EvaluationModule)]
}

struct Env {
    t: TestDb,
    router: axum::Router,
    city: i64,
    st: qcity_platform::web::AppState,
}

/// City 990100 with districts 990101–990104; analyst (city), officer (990102), officer1
/// (990101), viewer (city).
async fn env(b: Backend) -> Env {
    let t = TestDb::migrated(b, &modules()).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("analyst", Role::Analyst, "990100"),
            ("officer", Role::DataOfficer, "990102"),
            ("officer1", Role::DataOfficer, "990101"),
            ("viewer", Role::Viewer, "990100"),
        ],
    )
    .await;
    for (code, zh, en) in [
        ("990103", "西山区", "Xishan"),
        ("990104", "南江区", "Nanjiang"),
    ] {
        qcity_platform::store::regions::upsert(
            &t.db,
            city,
            &NewRegion {
                code: code.into(),
                parent_code: Some("990100".into()),
                name_zh: zh.into(),
                name_en: en.into(),
                urban: true,
                population: Some(1000),
                area_km2: Some(10.0),
                boundary: None,
            },
        )
        .await
        .unwrap();
    }
    let (st, router) = app(&t, modules());
    Env {
        t,
        router,
        city,
        st,
    }
}

async fn client(e: &Env, user: &str) -> TestClient {
    let mut c = TestClient::new(e.router.clone());
    let r = c.login(user, &format!("password-{user}")).await;
    assert_eq!(r.status, 303, "login {user}: {}", r.body);
    c.get("/app").await;
    c
}

async fn install_cq(c: &mut TestClient) -> i64 {
    let r = c
        .post_json(
            "/api/v1/evaluation/frameworks",
            &json!({"catalogue": "city_quality"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

async fn save(
    c: &mut TestClient,
    fw: i64,
    ind: &str,
    region: &str,
    year: i32,
    v: f64,
) -> (u16, Value) {
    let r = c
        .post_json("/api/v1/evaluation/values", &json!({"framework_id": fw, "indicator": ind, "region_code": region, "year": year, "value": v, "source": "test"}))
        .await;
    let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, body)
}

async fn schema_is_citus_ready_and_catalogue_installs(b: Backend) {
    let e = env(b).await;
    assert_eq!(citus_problems(&e.t.db, &[]).await, Vec::<String>::new());
    let mut a = client(&e, "analyst").await;
    let fw = install_cq(&mut a).await;
    // a second install of the same catalogue is a conflict
    let r = a
        .post_json(
            "/api/v1/evaluation/frameworks",
            &json!({"catalogue": "city_quality"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["code"], "conflict");
    for cat in ["satisfaction", "iso37120"] {
        let r = a
            .post_json("/api/v1/evaluation/frameworks", &json!({"catalogue": cat}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let list = a.get("/api/v1/evaluation/frameworks").await.json();
    assert_eq!(list.as_array().unwrap().len(), 3);
    let iso = list
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ISO37120")
        .unwrap();
    assert_eq!(iso["dimensions"], 19);
    let d = a
        .get(&format!("/api/v1/evaluation/frameworks/{fw}"))
        .await
        .json();
    let nodes = d["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["code"], "CQ");
    assert_eq!(nodes.iter().filter(|n| n["level"] == 2).count(), 5);
    let trap = nodes.iter().find(|n| n["code"] == "CQ-ELEV-TRAP").unwrap();
    assert_eq!(trap["direction"], -1);
    assert!(trap["department"].as_str().unwrap().contains("市场监管局"));
    // passports are editable by analysts only, and validated
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/frameworks/{fw}/indicators/CQ-SAT"),
            &json!({"target": 88.0, "department": "质量发展处"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["target"], 88.0);
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/frameworks/{fw}/indicators/CQ-SAT"),
            &json!({"band_low": 95.0, "band_high": 90.0}),
        )
        .await;
    assert_eq!(r.status, 422);
    let mut o = client(&e, "officer").await;
    let r = o
        .post_json(
            &format!("/api/v1/evaluation/frameworks/{fw}/indicators/CQ-SAT"),
            &json!({"target": 1.0}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = o
        .post_json(
            "/api/v1/evaluation/frameworks",
            &json!({"catalogue": "city_quality"}),
        )
        .await;
    assert_eq!(r.status, 403);
    // the change is audited
    let audit = a.get("/api/v1/audit?entity=eval_indicator").await;
    assert!(
        audit.body.contains("CQ-SAT") || audit.status == 403,
        "{}",
        audit.body
    );
    let _ = e.city;
}

async fn officer_sees_only_own_district(b: Backend) {
    let e = env(b).await;
    let mut a = client(&e, "analyst").await;
    let fw = install_cq(&mut a).await;
    let (s, v3) = save(&mut a, fw, "CQ-SAT", "990103", 2024, 80.0).await;
    assert_eq!(s, 200, "{v3}");
    let id3 = v3["value"]["id"].as_i64().unwrap();
    let mut o = client(&e, "officer").await;
    // by URL: 404, not 403
    let r = o.get(&format!("/api/v1/evaluation/values/{id3}")).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.json()["code"], "not_found");
    let r = o
        .post_json(
            &format!("/api/v1/evaluation/values/{id3}/submit"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 404);
    // writing into another district: 404
    let (s, _) = save(&mut o, fw, "CQ-SAT", "990103", 2024, 70.0).await;
    assert_eq!(s, 404);
    // own district works and listings are scoped
    let (s, v2) = save(&mut o, fw, "CQ-SAT", "990102", 2024, 75.0).await;
    assert_eq!(s, 200, "{v2}");
    let list = o
        .get(&format!("/api/v1/evaluation/values?framework_id={fw}"))
        .await
        .json();
    let regions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["region_code"].as_str().unwrap())
        .collect();
    assert_eq!(regions, vec!["990102"]);
    let all = a
        .get(&format!("/api/v1/evaluation/values?framework_id={fw}"))
        .await
        .json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    // completeness only covers the officer's district
    let c = o
        .get(&format!(
            "/api/v1/evaluation/completeness?framework_id={fw}&year=2024"
        ))
        .await
        .json();
    assert_eq!(c["regions"], json!(["990102"]));
    assert!(c["overall"].as_f64().unwrap() > 0.0);
    // the entry page of another district falls back to the officer's own
    let page = o
        .get(&format!(
            "/app/evaluation/entry?framework_id={fw}&region=990103&year=2024"
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("value=\"990103\""));
    // a viewer reads but cannot enter
    let mut v = client(&e, "viewer").await;
    let (s, _) = save(&mut v, fw, "CQ-SAT", "990101", 2024, 70.0).await;
    assert_eq!(s, 403);
}

async fn status_workflow_follows_roles(b: Backend) {
    let e = env(b).await;
    let mut a = client(&e, "analyst").await;
    let fw = install_cq(&mut a).await;
    let mut o = client(&e, "officer").await;
    let (s, v) = save(&mut o, fw, "CQ-SAT", "990102", 2024, 81.0).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"]["status"], "draft");
    assert_eq!(v["warnings"], json!([]));
    let id = v["value"]["id"].as_i64().unwrap();
    // officer cannot approve, nor approve a draft
    let r = o
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "approving a draft");
    let r = o
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/submit"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["value"]["status"], "submitted");
    // submitted values are frozen for the officer
    let (s, _) = save(&mut o, fw, "CQ-SAT", "990102", 2024, 82.0).await;
    assert_eq!(s, 409);
    // reject returns it to draft with a note
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/reject"),
            &json!({"note": "请核对来源"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["value"]["status"], "draft");
    assert_eq!(r.json()["value"]["note"], "请核对来源");
    o.post_json(
        &format!("/api/v1/evaluation/values/{id}/submit"),
        &json!({}),
    )
    .await;
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["value"]["status"], "approved");
    let r = o
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["value"]["status"], "published");
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/nonsense"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 404);
    // a rule warning (range: a percentage above 100) must be acknowledged before submitting
    let (s, v) = save(&mut o, fw, "CQ-PROD-PASS", "990102", 2024, 120.0).await;
    assert_eq!(s, 200);
    assert_eq!(v["warnings"][0]["rule"], "range");
    let id2 = v["value"]["id"].as_i64().unwrap();
    let r = o
        .post_json(
            &format!("/api/v1/evaluation/values/{id2}/submit"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("range"), "{}", r.body);
    let r = o
        .post_json(
            &format!("/api/v1/evaluation/values/{id2}/submit"),
            &json!({"acknowledge_warnings": true}),
        )
        .await;
    assert_eq!(r.status, 200);
    // year-on-year and z-score rules
    let (_, _) = save(&mut o, fw, "CQ-GREEN", "990102", 2023, 30.0).await;
    let (_, v) = save(&mut o, fw, "CQ-GREEN", "990102", 2024, 45.0).await;
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["rule"] == "yoy"),
        "{v}"
    );
    for (r, x) in [("990101", 40.0), ("990103", 40.5), ("990104", 39.5)] {
        save(&mut a, fw, "CQ-DOCTORS", r, 2024, x).await;
    }
    let (_, v) = save(&mut o, fw, "CQ-DOCTORS", "990102", 2024, 80.0).await;
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["rule"] == "zscore"),
        "{v}"
    );
    // a ratio indicator is computed from numerator and denominator
    let r = o.post_json("/api/v1/evaluation/values", &json!({"framework_id": fw, "indicator": "CQ-OUTPUT-KM2", "region_code": "990102", "year": 2024, "numerator": 120.0, "denominator": 40.0})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["value"]["value"], 3.0);
    // bad input names its field
    let r = o.post_json("/api/v1/evaluation/values", &json!({"framework_id": fw, "indicator": "CQ-D-ECON", "region_code": "990102", "year": 2024, "value": 1.0})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "indicator");
    // every change is in the audit log
    let n: i64 = {
        use sea_orm::{ConnectionTrait, Statement};
        let row =
            e.t.db
                .query_one_raw(Statement::from_string(
                    e.t.db.get_database_backend(),
                    "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'eval_value'",
                ))
                .await
                .unwrap()
                .unwrap();
        row.try_get("", "n").unwrap()
    };
    assert!(n >= 14, "audit rows {n}");
    let _ = e.city;
}

async fn import_is_all_or_nothing_with_row_errors(b: Backend) {
    let e = env(b).await;
    let mut a = client(&e, "analyst").await;
    let fw = install_cq(&mut a).await;
    let mut o = client(&e, "officer").await;
    let bad = "indicator,region_code,year,value,source\n\
               CQ-SAT,990102,2024,81.2,survey\n\
               CQ-NOPE,990102,2024,1,\n\
               CQ-GREEN,990103,2024,40,\n\
               CQ-AIR-GOOD,990102,20x4,88,\n";
    let r = upload(&mut o, fw, "a.csv", "text/csv", bad.as_bytes().to_vec()).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let rep = r.json();
    assert_eq!(rep["committed"], false);
    let errs = rep["errors"].as_array().unwrap();
    // parse errors are reported first (row 5 year); nothing is committed
    assert!(
        errs.iter().any(|x| x["row"] == 5 && x["column"] == "year"),
        "{rep}"
    );
    let list = o
        .get(&format!("/api/v1/evaluation/values?framework_id={fw}"))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 0);
    // rows that parse but fail in the store: unknown indicator, district out of scope
    let bad2 = "指标代码,地区代码,年份,数值\nCQ-SAT,990102,2024,81.2\nCQ-NOPE,990102,2024,1\nCQ-GREEN,990103,2024,40\n";
    let r = upload(&mut o, fw, "b.csv", "text/csv", bad2.as_bytes().to_vec()).await;
    assert_eq!(r.status, 422);
    let errs = r.json()["errors"].as_array().unwrap().clone();
    assert!(
        errs.iter()
            .any(|x| x["row"] == 3 && x["column"] == "indicator"),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|x| x["row"] == 4 && x["column"] == "region_code"),
        "{errs:?}"
    );
    let list = o
        .get(&format!("/api/v1/evaluation/values?framework_id={fw}"))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 0, "row 2 was rolled back");
    // a good file commits every row as a draft
    let good = "\u{feff}indicator,region_code,year,value,source,note\nCQ-SAT,990102,2024,81.2,survey,\nCQ-GREEN,990102,2024,\"38.5\",园林局,ok\n";
    let r = upload(&mut o, fw, "c.csv", "text/csv", good.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["created_or_updated"], 2);
    let list = o
        .get(&format!("/api/v1/evaluation/values?framework_id={fw}"))
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|v| v["status"] == "draft" && v["origin"] == "import")
    );
    // the templates download, and an XLSX file imports
    let t = o
        .get(&format!(
            "/api/v1/evaluation/frameworks/{fw}/template?year=2024"
        ))
        .await;
    assert_eq!(t.status, 200);
    assert!(
        t.body.contains("CQ-SAT,990102,2024,81.2"),
        "{}",
        &t.body[..200.min(t.body.len())]
    );
    assert!(!t.body.contains("990103"));
    let t = o
        .get(&format!(
            "/api/v1/evaluation/frameworks/{fw}/template?year=2024&format=xlsx"
        ))
        .await;
    assert_eq!(t.status, 200);
    assert!(
        t.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (j, h) in ["indicator", "region_code", "year", "value"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, j as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "CQ-AIR-GOOD").unwrap();
    ws.write_string(1, 1, "990102").unwrap();
    ws.write_number(1, 2, 2024.0).unwrap();
    ws.write_number(1, 3, 88.4).unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let r = upload(
        &mut o,
        fw,
        "d.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = o
        .get(&format!(
            "/api/v1/evaluation/values?framework_id={fw}&indicator=CQ-AIR-GOOD"
        ))
        .await
        .json();
    assert_eq!(list[0]["value"], 88.4);
    assert_eq!(list[0]["year"], 2024);

    // Excel in a Chinese locale saves CSV as GBK: accepted (it was refused as "not UTF-8").
    let gbk = encoding_rs::GBK
        .encode("指标代码,地区代码,年份,数值,数据来源\nCQ-SAT,990102,2023,79.5,统计局\n")
        .0
        .into_owned();
    let r = upload(&mut o, fw, "gbk.csv", "text/csv", gbk).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = o
        .get(&format!(
            "/api/v1/evaluation/values?framework_id={fw}&indicator=CQ-SAT&year=2023"
        ))
        .await
        .json();
    assert_eq!(list[0]["value"], 79.5, "{list}");
    assert_eq!(list[0]["source"], "统计局", "{list}");

    // A tiny workbook with cells at A1 and XFD1048576 is refused (422 problem+json naming the
    // limit) before any grid is allocated — it used to abort the server.
    use qcity_platform::testing::{sheet_xml, text_cell, xlsx_with_sheet};
    let bomb = xlsx_with_sheet(&sheet_xml(
        None,
        &[
            (1, &text_cell("A1", "indicator")),
            (1048576, &text_cell("XFD1048576", "x")),
        ],
    ));
    let r = upload(&mut o, fw, "bomb.xlsx", "application/octet-stream", bomb).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.json()["code"], "upload_too_many_rows");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("the limit is 100000 rows"),
        "{}",
        r.body
    );
    // and the server keeps serving
    let r = o
        .get(&format!("/api/v1/evaluation/values?framework_id={fw}"))
        .await;
    assert_eq!(r.status, 200);
}

async fn upload(
    c: &mut TestClient,
    fw: i64,
    name: &str,
    ct: &str,
    body: Vec<u8>,
) -> qcity_platform::testing::TestResponse {
    let csrf = c.csrf.clone().unwrap();
    c.request(
        "POST",
        &format!("/api/v1/evaluation/frameworks/{fw}/import?filename={name}"),
        Some(ct),
        body,
        &[("x-csrf-token", &csrf)],
    )
    .await
}

/// Publishes values for four districts × three years through the API.
async fn publish_panel(a: &mut TestClient, fw: i64) {
    let inds = [
        "CQ-PROD-PASS",
        "CQ-ENERGY-GDP",
        "CQ-SAT",
        "CQ-AIR-GOOD",
        "CQ-ELEV-TRAP",
        "CQ-GOV-ONLINE",
        "CQ-GREEN",
    ];
    for (k, r) in ["990101", "990102", "990103", "990104"].iter().enumerate() {
        for y in 2022..=2024 {
            for (j, i) in inds.iter().enumerate() {
                if k == 3 && j == 2 && y == 2023 {
                    continue; // a gap, imputed
                }
                let base = [90.0, 0.6, 75.0, 80.0, 3.0, 80.0, 35.0][j];
                let step = [1.0, -0.03, 1.5, 2.0, -0.3, 3.0, 0.5][j];
                let x = base
                    + step * ((y - 2022) as f64)
                    + (k as f64 - 1.5) * step.abs() * 1.3
                    + ((j * 7 + k * 3) % 5) as f64 * 0.1 * step.abs();
                let (s, v) = save(a, fw, i, r, y, (x * 100.0).round() / 100.0).await;
                assert_eq!(s, 200, "{v}");
                let id = v["value"]["id"].as_i64().unwrap();
                for act in ["submit", "approve", "publish"] {
                    let rr = a
                        .post_json(
                            &format!("/api/v1/evaluation/values/{id}/{act}"),
                            &json!({"acknowledge_warnings": true}),
                        )
                        .await;
                    assert_eq!(rr.status, 200, "{act}: {}", rr.body);
                }
            }
        }
    }
}

async fn wait_run(c: &mut TestClient, id: i64) -> Value {
    for _ in 0..600 {
        let r = c.get(&format!("/api/v1/evaluation/runs/{id}")).await.json();
        if r["run"]["status"] != "running" {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("run {id} did not finish");
}

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

async fn pages_render(b: Backend) {
    let e = env(b).await;
    let mut a = client(&e, "analyst").await;
    let home = a.get("/app/evaluation").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("城市质量发展评价指标体系"));
    // install through the page form
    let r = a
        .post_form("/app/evaluation/install", &[("catalogue", "city_quality")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.location().unwrap().to_string();
    let fw: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    let page = a.get(&loc).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("CQ-ELEV-TRAP") && page.body.contains("电梯万台困人率"));
    // edit a passport through the form
    let r = a
        .post_form(
            &format!("/app/evaluation/frameworks/{fw}/indicators/CQ-SAT"),
            &[
                ("name_zh", "市民质量满意度"),
                ("name_en", "Citizen quality satisfaction"),
                ("definition_zh", "d"),
                ("definition_en", "d"),
                ("unit", "分"),
                ("direction", "1"),
                ("band_low", "60"),
                ("band_high", "90"),
                ("source_zh", "测评"),
                ("source_en", "survey"),
                ("department", "质量发展处"),
                ("target", "86"),
                ("target_year", "2027"),
                ("weight", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(r.location().unwrap().contains("msg="), "{:?}", r.location());
    // the computation of a passport is editable through the form too
    let r = a
        .post_form(
            &format!("/app/evaluation/frameworks/{fw}/indicators/CQ-SAT"),
            &[
                ("name_zh", "市民质量满意度"),
                ("name_en", "Citizen quality satisfaction"),
                ("definition_zh", "d"),
                ("definition_en", "d"),
                ("unit", "分"),
                ("direction", "1"),
                ("band_low", "60"),
                ("band_high", "90"),
                ("source_zh", "测评"),
                ("source_en", "survey"),
                ("department", "质量发展处"),
                ("target", "86"),
                ("target_year", "2027"),
                ("weight", "2"),
                ("computation", "ratio"),
                ("numerator", "满意人数"),
                ("denominator", "受访人数"),
                ("factor", "100"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let d = a
        .get(&format!("/api/v1/evaluation/frameworks/{fw}"))
        .await
        .json();
    let sat = d["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "CQ-SAT")
        .unwrap()
        .clone();
    assert_eq!(
        (
            sat["computation"].clone(),
            sat["denominator"].clone(),
            sat["factor"].clone(),
            sat["weight"].clone()
        ),
        (json!("ratio"), json!("受访人数"), json!(100.0), json!(2.0))
    );
    // the entry grid: save drafts, then submit
    let mut o = client(&e, "officer").await;
    let g = o
        .get(&format!(
            "/app/evaluation/entry?framework_id={fw}&year=2024"
        ))
        .await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert!(g.body.contains("name=\"v:CQ-SAT\""));
    let r = o
        .post_form(
            "/app/evaluation/entry",
            &[
                ("framework_id", &fw.to_string()),
                ("region", "990102"),
                ("year", "2024"),
                ("op", "save"),
                ("v:CQ-SAT", "82.5"),
                ("s:CQ-SAT", "测评"),
                ("n:CQ-SAT", ""),
                ("v:CQ-GREEN", "abc"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(
        r.location().unwrap().contains("err="),
        "bad number rejects the whole grid"
    );
    let r = o
        .post_form(
            "/app/evaluation/entry",
            &[
                ("framework_id", &fw.to_string()),
                ("region", "990102"),
                ("year", "2024"),
                ("op", "submit"),
                ("v:CQ-SAT", "82.5"),
                ("s:CQ-SAT", "测评"),
                ("n:CQ-SAT", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let list = o
        .get(&format!("/api/v1/evaluation/values?framework_id={fw}"))
        .await
        .json();
    assert_eq!(list[0]["status"], "submitted", "{list}");
    for path in [
        "/app/evaluation/import",
        "/app/evaluation/completeness",
        "/app/evaluation/runs",
    ] {
        let r = a.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let r = a
        .get(&format!(
            "/app/evaluation/template?framework_id={fw}&year=2024"
        ))
        .await;
    assert_eq!(r.status, 200);
    // english
    a.get("/lang?set=en&next=/app/evaluation").await;
    let r = a.get(&format!("/app/evaluation/frameworks/{fw}")).await;
    assert!(r.body.contains("Elevator trappings per 10,000 elevators"));
    // a run from the page, then its results page
    publish_panel(&mut a, fw).await;
    let r = a
        .post_form(
            "/app/evaluation/runs",
            &[
                ("framework_id", &fw.to_string()),
                ("years", "2023"),
                ("years", "2024"),
                ("uncertainty_n", "20"),
                ("seed", "3"),
                ("statuses", "published"),
                ("spec_toml", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.location().unwrap().to_string();
    let id: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    wait_run(&mut a, id).await;
    let r = a.get(&loc).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("data-testid=\"chart-ranking\"")
            && r.body.contains("chart-intervals")
            && r.body.contains("chart-map")
    );
    let r = a.get(&format!("/app/evaluation/runs/{id}/status")).await;
    assert_eq!(
        r.headers.get("hx-refresh").map(|v| v.to_str().unwrap()),
        Some("true")
    );
    // import through the page (multipart)
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n--B\r\nContent-Disposition: form-data; name=\"framework_id\"\r\n\r\n{fw}\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\nContent-Type: text/csv\r\n\r\nindicator,region_code,year,value\nCQ-SAT,990199,2024,1\n\r\n--B--\r\n",
        a.csrf.clone().unwrap()
    );
    // the browser form carries the CSRF token in the action's query (multipart bodies are not
    // read by the CSRF guard)
    let page = a.get("/app/evaluation/import").await;
    let action = page
        .body
        .split("action=\"/app/evaluation/import?_csrf=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = a
        .request(
            "POST",
            &format!("/app/evaluation/import?_csrf={action}"),
            Some("multipart/form-data; boundary=B"),
            body.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("data-testid=\"import-report\"") && r.body.contains("990199"),
        "{}",
        r.body
    );
}

async fn send(c: &mut TestClient, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let csrf = c.csrf.clone().unwrap_or_default();
    let r = c
        .request(
            method,
            path,
            body.map(|_| "application/json"),
            body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            &[("x-csrf-token", csrf.as_str())],
        )
        .await;
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or(Value::Null),
    )
}

async fn rules_are_managed_and_change_submit_warnings(b: Backend) {
    let e = env(b).await;
    let mut a = client(&e, "analyst").await;
    let fw = install_cq(&mut a).await;
    let base = format!("/api/v1/evaluation/frameworks/{fw}/rules");
    // the installed defaults: framework-wide yoy 30 % and |z| 3 first, then per indicator
    let all = a.get(&base).await.json();
    let all = all.as_array().unwrap().clone();
    assert_eq!(all[0]["indicator"], "");
    assert_eq!(all[1]["indicator"], "");
    let kinds: Vec<&str> = all[..2]
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["yoy", "zscore"]);
    assert!(all[2..].iter().all(|r| r["indicator"] != ""));
    // filtered by indicator: its own rules and the defaults
    let sat = a.get(&format!("{base}?indicator=CQ-SAT")).await.json();
    let sat = sat.as_array().unwrap();
    assert!(
        sat.iter()
            .all(|r| r["indicator"] == "" || r["indicator"] == "CQ-SAT")
    );
    let own_before = sat.iter().filter(|r| r["indicator"] == "CQ-SAT").count();
    // an officer saves a value: no warnings yet
    let mut o = client(&e, "officer").await;
    let (s, v) = save(&mut o, fw, "CQ-SAT", "990102", 2024, 82.0).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["warnings"], json!([]));
    let id = v["value"]["id"].as_i64().unwrap();
    // officers and viewers read rules but cannot change them
    let (s, _) = send(
        &mut o,
        "POST",
        &base,
        Some(&json!({"indicator": "CQ-SAT", "kind": "range", "min": 85.0})),
    )
    .await;
    assert_eq!(s, 403);
    let mut vw = client(&e, "viewer").await;
    assert_eq!(vw.get(&base).await.status, 200);
    // bad rules name their field
    for (body, field) in [
        (
            json!({"indicator": "CQ-SAT", "kind": "ratio", "threshold": 1.0}),
            "kind",
        ),
        (json!({"indicator": "CQ-SAT", "kind": "range"}), "min"),
        (
            json!({"indicator": "CQ-SAT", "kind": "range", "min": 9.0, "max": 1.0}),
            "max",
        ),
        (json!({"indicator": "CQ-SAT", "kind": "yoy"}), "threshold"),
        (
            json!({"indicator": "CQ-D-ECON", "kind": "zscore", "threshold": 2.0}),
            "indicator",
        ),
    ] {
        let (s, p) = send(&mut a, "POST", &base, Some(&body)).await;
        assert_eq!(s, 422, "{body}: {p}");
        assert_eq!(p["field"], field, "{body}: {p}");
    }
    let (s, _) = send(
        &mut a,
        "POST",
        "/api/v1/evaluation/frameworks/12345/rules",
        Some(&json!({"kind": "yoy", "threshold": 5.0})),
    )
    .await;
    assert_eq!(s, 404);
    // a new rule: satisfaction must be at least 85
    let (s, r) = send(
        &mut a,
        "POST",
        &base,
        Some(&json!({"indicator": "CQ-SAT", "kind": "range", "min": 85.0})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["active"], true);
    let rid = r["id"].as_i64().unwrap();
    let sat = a.get(&format!("{base}?indicator=CQ-SAT")).await.json();
    assert_eq!(
        sat.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["indicator"] == "CQ-SAT")
            .count(),
        own_before + 1
    );
    // ... now the same value warns, and submitting needs the warning acknowledged
    let got = o
        .get(&format!("/api/v1/evaluation/values/{id}"))
        .await
        .json();
    let w = got["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{got}");
    assert_eq!(w[0]["rule"], "range");
    assert!(w[0]["message"].as_str().unwrap().contains("85"), "{got}");
    let r = o
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/submit"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("range"), "{}", r.body);
    // the data-entry grid's submit gets the same warning
    let g = o
        .get(&format!(
            "/app/evaluation/entry?framework_id={fw}&region=990102&year=2024"
        ))
        .await;
    assert!(
        g.body.contains("data-testid=\"warning\""),
        "grid shows the warning"
    );
    let r = o
        .post_form(
            "/app/evaluation/entry",
            &[
                ("framework_id", &fw.to_string()),
                ("region", "990102"),
                ("year", "2024"),
                ("op", "submit"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let loc = r.location().unwrap().to_string();
    assert!(loc.contains("err=") && loc.contains("range"), "{loc}");
    // read by id; a rule of another framework id is not found
    let (s, one) = send(&mut vw, "GET", &format!("{base}/{rid}"), None).await;
    assert_eq!((s, one["min"].clone()), (200, json!(85.0)));
    let (s, _) = send(
        &mut a,
        "GET",
        &format!("/api/v1/evaluation/frameworks/12345/rules/{rid}"),
        None,
    )
    .await;
    assert_eq!(s, 404);
    // edit: a threshold does not belong to a range rule; null clears min, max is set
    let (s, p) = send(
        &mut a,
        "PATCH",
        &format!("{base}/{rid}"),
        Some(&json!({"threshold": 2.0})),
    )
    .await;
    assert_eq!((s, p["field"].clone()), (422, json!("threshold")));
    let (s, r) = send(
        &mut a,
        "PATCH",
        &format!("{base}/{rid}"),
        Some(&json!({"min": null, "max": 80.0})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["min"].clone(), r["max"].clone()),
        (Value::Null, json!(80.0))
    );
    let got = o
        .get(&format!("/api/v1/evaluation/values/{id}"))
        .await
        .json();
    assert!(
        got["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("80"),
        "{got}"
    );
    // disabled: no warning, and the submit goes through
    let (s, r) = send(
        &mut a,
        "PATCH",
        &format!("{base}/{rid}"),
        Some(&json!({"active": false})),
    )
    .await;
    assert_eq!((s, r["active"].clone()), (200, json!(false)));
    let (s, _) = send(
        &mut o,
        "PATCH",
        &format!("{base}/{rid}"),
        Some(&json!({"active": true})),
    )
    .await;
    assert_eq!(s, 403);
    let got = o
        .get(&format!("/api/v1/evaluation/values/{id}"))
        .await
        .json();
    assert_eq!(got["warnings"], json!([]));
    let r = o
        .post_json(
            &format!("/api/v1/evaluation/values/{id}/submit"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // a framework default applies to every indicator
    let (s, d) = send(
        &mut a,
        "POST",
        &base,
        Some(&json!({"kind": "range", "max": 10.0})),
    )
    .await;
    assert_eq!((s, d["indicator"].clone()), (201, json!("")));
    let (_, v) = save(&mut o, fw, "CQ-GREEN", "990102", 2024, 45.0).await;
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["rule"] == "range"),
        "{v}"
    );
    // delete
    let (s, _) = send(&mut o, "DELETE", &format!("{base}/{rid}"), None).await;
    assert_eq!(s, 403);
    let (s, _) = send(&mut a, "DELETE", &format!("{base}/{rid}"), None).await;
    assert_eq!(s, 204);
    let (s, _) = send(&mut a, "DELETE", &format!("{base}/{rid}"), None).await;
    assert_eq!(s, 404);
    // every change is audited (create ×2, update ×2, delete; refused changes are not)
    assert_eq!(
        audit_actions(&e, "eval_rule").await,
        ["create", "create", "delete", "update", "update"].map(|v| format!("evaluation.rule.{v}"))
    );
    // the rules are documented in the OpenAPI document
    let doc = a.get("/api/v1/openapi.json").await;
    assert!(
        doc.body
            .contains("/api/v1/evaluation/frameworks/{id}/rules/{rule_id}")
    );
    // the page: reachable from the passport, editable by analysts through forms and htmx
    let fwp = a.get(&format!("/app/evaluation/frameworks/{fw}")).await;
    assert!(fwp.body.contains(&format!(
        "/app/evaluation/frameworks/{fw}/rules?indicator=CQ-SAT"
    )));
    let page = a
        .get(&format!(
            "/app/evaluation/frameworks/{fw}/rules?indicator=CQ-SAT"
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("data-testid=\"rules-table\"")
            && page.body.contains("data-testid=\"rule-new\"")
    );
    let r = a
        .post_form(
            &format!("/app/evaluation/frameworks/{fw}/rules"),
            &[
                ("indicator", "CQ-SAT"),
                ("scope", "indicator"),
                ("kind", "yoy"),
                ("min", ""),
                ("max", ""),
                ("threshold", "12.5"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().unwrap().contains("msg="), "{:?}", r.location());
    let csrf = a.csrf.clone().unwrap();
    let form = format!(
        "_csrf={csrf}&indicator=CQ-SAT&scope=indicator&kind=zscore&min=&max=&threshold=abc"
    );
    let r = a
        .request(
            "POST",
            &format!("/app/evaluation/frameworks/{fw}/rules"),
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
            &[("hx-request", "true")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("data-testid=\"rules-error\"") && r.body.contains("threshold"),
        "{}",
        r.body
    );
    let sat = a.get(&format!("{base}?indicator=CQ-SAT")).await.json();
    let yoy = sat
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["indicator"] == "CQ-SAT" && r["kind"] == "yoy")
        .cloned()
        .unwrap();
    assert_eq!(yoy["threshold"], 12.5);
    let yid = yoy["id"].as_i64().unwrap();
    let form = format!("_csrf={csrf}&indicator=CQ-SAT&threshold=20&op=save");
    let r = a
        .request(
            "POST",
            &format!("/app/evaluation/frameworks/{fw}/rules/{yid}"),
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
            &[("hx-request", "true")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, y) = send(&mut a, "GET", &format!("{base}/{yid}"), None).await;
    assert_eq!(
        (y["threshold"].clone(), y["active"].clone()),
        (json!(20.0), json!(false)),
        "save without the checkbox disables"
    );
    let r = a
        .post_form(
            &format!("/app/evaluation/frameworks/{fw}/rules/{yid}"),
            &[("indicator", "CQ-SAT"), ("op", "toggle")],
        )
        .await;
    assert_eq!(r.status, 303);
    let (_, y) = send(&mut a, "GET", &format!("{base}/{yid}"), None).await;
    assert_eq!(y["active"], true);
    let r = a
        .post_form(
            &format!("/app/evaluation/frameworks/{fw}/rules/{yid}"),
            &[("indicator", "CQ-SAT"), ("op", "delete")],
        )
        .await;
    assert_eq!(r.status, 303);
    let (s, _) = send(&mut a, "GET", &format!("{base}/{yid}"), None).await;
    assert_eq!(s, 404);
    // officers see the page read-only and cannot post to it
    let page = o
        .get(&format!(
            "/app/evaluation/frameworks/{fw}/rules?indicator=CQ-SAT"
        ))
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("data-testid=\"rule-new\""));
    let r = o
        .post_form(
            &format!("/app/evaluation/frameworks/{fw}/rules"),
            &[("indicator", "CQ-SAT"), ("kind", "yoy"), ("threshold", "5")],
        )
        .await;
    assert_eq!(r.status, 403);
    // english
    a.get("/lang?set=en&next=/app/evaluation").await;
    let page = a
        .get(&format!("/app/evaluation/frameworks/{fw}/rules"))
        .await;
    assert!(page.body.contains("Framework defaults"), "{}", page.body);
}

/// Saves (as drafts) values for four districts × 2023–2024 of seven indicators.
async fn draft_panel(a: &mut TestClient, fw: i64) {
    let inds = [
        "CQ-PROD-PASS",
        "CQ-ENERGY-GDP",
        "CQ-SAT",
        "CQ-AIR-GOOD",
        "CQ-ELEV-TRAP",
        "CQ-GOV-ONLINE",
        "CQ-GREEN",
    ];
    for (k, r) in ["990101", "990102", "990103", "990104"].iter().enumerate() {
        for y in 2023..=2024 {
            for (j, i) in inds.iter().enumerate() {
                let base = [90.0, 0.6, 75.0, 80.0, 3.0, 80.0, 35.0][j];
                let step = [1.0, -0.03, 1.5, 2.0, -0.3, 3.0, 0.5][j];
                let x = base
                    + step * ((y - 2022) as f64)
                    + (k as f64 - 1.5) * step.abs() * 1.3
                    + ((j * 7 + k * 3) % 5) as f64 * 0.1 * step.abs();
                let (s, v) = save(a, fw, i, r, y, (x * 100.0).round() / 100.0).await;
                assert_eq!(s, 200, "{v}");
            }
        }
    }
}

fn node_of(tree: &Value, code: &str) -> Option<Value> {
    tree["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == code)
        .cloned()
}

fn sum_of(tree: &Value, parent: &str) -> Value {
    tree["weights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["parent"] == parent)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn audit_actions(e: &Env, entity: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    e.t.db
        .query_all_raw(Statement::from_string(
            e.t.db.get_database_backend(),
            format!("SELECT action FROM audit_log WHERE entity = '{entity}' ORDER BY action"),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "action").unwrap())
        .collect()
}

async fn structure_is_edited_and_past_runs_keep_their_copy(b: Backend) {
    let e = env(b).await;
    let mut a = client(&e, "analyst").await;
    let fw = install_cq(&mut a).await;
    let base = format!("/api/v1/evaluation/frameworks/{fw}/nodes");
    // a past run, computed before any structure edit
    draft_panel(&mut a, fw).await;
    let new_run = json!({"framework_id": fw, "name": "before", "years": [2023, 2024], "statuses": ["draft"], "uncertainty_n": 0, "seed": 3});
    let r = a.post_json("/api/v1/evaluation/runs", &new_run).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let run1 = r.json()["id"].as_i64().unwrap();
    let before = wait_run(&mut a, run1).await;
    assert_eq!(before["run"]["status"], "finished", "{before}");
    let run_page_before = a.get(&format!("/app/evaluation/runs/{run1}")).await.body;
    assert!(run_page_before.contains("经济发展质量"));

    // the tree with the weight sums per parent (the catalogue's weights are relative: 1 each)
    let t = a.get(&base).await.json();
    assert_eq!(sum_of(&t, "CQ-D-ECON")["sums_to_one"], false);
    assert!(
        sum_of(&t, "CQ-SAT").is_null(),
        "an indicator has no children"
    );

    // add a dimension under the index, and indicators under it with their passports
    let (s, d) = send(
        &mut a,
        "POST",
        &base,
        Some(&json!({"parent": "CQ", "kind": "dimension", "code": "CQ-D-NEW", "name_zh": "新维度", "name_en": "New dimension", "weight": 0.5})),
    )
    .await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(
        (
            d["level"].clone(),
            d["kind"].clone(),
            d["parent"].clone(),
            d["weight"].clone()
        ),
        (json!(2), json!("dimension"), json!("CQ"), json!(0.5))
    );
    let (s, i) = send(
        &mut a,
        "POST",
        &base,
        Some(&json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "CQ-NEW-1", "name_zh": "新指标", "name_en": "New indicator", "direction": -1, "unit": "%", "band_low": 0.0, "band_high": 50.0, "department": "质量发展处", "computation": "ratio", "numerator": "a", "denominator": "b", "factor": 100.0, "target": 10.0, "target_year": 2030, "definition_zh": "定义"})),
    )
    .await;
    assert_eq!(s, 201, "{i}");
    assert_eq!(
        (
            i["level"].clone(),
            i["direction"].clone(),
            i["computation"].clone(),
            i["factor"].clone(),
            i["band_high"].clone(),
            i["target_year"].clone(),
            i["weight"].clone()
        ),
        (
            json!(1),
            json!(-1),
            json!("ratio"),
            json!(100.0),
            json!(50.0),
            json!(2030),
            json!(1.0)
        )
    );
    let (s, _) = send(
        &mut a,
        "POST",
        &base,
        Some(&json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "CQ-NEW-2", "name_zh": "新指标二"})),
    )
    .await;
    assert_eq!(s, 201);
    // the new indicator takes values (a ratio computed from its passport) and rules
    let r = a
        .post_json("/api/v1/evaluation/values", &json!({"framework_id": fw, "indicator": "CQ-NEW-1", "region_code": "990101", "year": 2024, "numerator": 1.0, "denominator": 8.0}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["value"]["value"], 12.5);
    let rules = format!("/api/v1/evaluation/frameworks/{fw}/rules");
    let (s, _) = send(
        &mut a,
        "POST",
        &rules,
        Some(&json!({"indicator": "CQ-NEW-2", "kind": "range", "min": 0.0})),
    )
    .await;
    assert_eq!(s, 201);
    // bad additions name their field; a used code is a conflict
    for (body, status, field) in [
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "CQ-SAT", "name_zh": "x"}),
            409,
            "",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "cq-sat", "name_zh": "x"}),
            409,
            "",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "new code", "name_zh": "x"}),
            422,
            "code",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "", "name_zh": "x"}),
            422,
            "code",
        ),
        (
            json!({"parent": "CQ-SAT", "kind": "indicator", "code": "X1", "name_zh": "x"}),
            422,
            "parent",
        ),
        (
            json!({"parent": "CQ", "kind": "indicator", "code": "X1", "name_zh": "x"}),
            422,
            "parent",
        ),
        (
            json!({"parent": "CQ-D-ECON", "kind": "dimension", "code": "X1", "name_zh": "x"}),
            422,
            "parent",
        ),
        (
            json!({"parent": "NOPE", "kind": "indicator", "code": "X1", "name_zh": "x"}),
            422,
            "parent",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "group", "code": "X1", "name_zh": "x"}),
            422,
            "kind",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "X1", "name_zh": " "}),
            422,
            "name_zh",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "X1", "name_zh": "x", "weight": -1.0}),
            422,
            "weight",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "X1", "name_zh": "x", "direction": 2}),
            422,
            "direction",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "X1", "name_zh": "x", "band_low": 5.0, "band_high": 1.0}),
            422,
            "band_high",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "X1", "name_zh": "x", "computation": "sum"}),
            422,
            "computation",
        ),
        (
            json!({"parent": "CQ-D-NEW", "kind": "indicator", "code": "X1", "name_zh": "x", "factor": 0.0}),
            422,
            "factor",
        ),
    ] {
        let (s, p) = send(&mut a, "POST", &base, Some(&body)).await;
        assert_eq!(s, status, "{body}: {p}");
        if status == 409 {
            assert_eq!(p["code"], "conflict", "{p}");
            assert!(p["detail"].to_string().contains("code"), "{p}");
        } else {
            assert_eq!(p["field"], field, "{body}: {p}");
        }
    }
    let (s, _) = send(
        &mut a,
        "POST",
        "/api/v1/evaluation/frameworks/12345/nodes",
        Some(&json!({"parent": "CQ", "kind": "dimension", "code": "X1", "name_zh": "x"})),
    )
    .await;
    assert_eq!(s, 404);
    // officers and viewers read the structure but cannot change it
    let mut o = client(&e, "officer").await;
    let (s, _) = send(
        &mut o,
        "POST",
        &base,
        Some(&json!({"parent": "CQ", "kind": "dimension", "code": "X1", "name_zh": "x"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = send(
        &mut o,
        "PATCH",
        &format!("{base}/CQ-SAT"),
        Some(&json!({"weight": 3.0})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = send(&mut o, "DELETE", &format!("{base}/CQ-NEW-2"), None).await;
    assert_eq!(s, 403);
    let (s, _) = send(&mut o, "POST", &format!("{base}/CQ-D-NEW/equalise"), None).await;
    assert_eq!(s, 403);
    let mut vw = client(&e, "viewer").await;
    let (s, one) = send(&mut vw, "GET", &format!("{base}/CQ-NEW-1"), None).await;
    assert_eq!((s, one["department"].clone()), (200, json!("质量发展处")));
    let (s, _) = send(&mut vw, "GET", &format!("{base}/NOPE"), None).await;
    assert_eq!(s, 404);

    // edit names, weight and direction
    let (s, n) = send(
        &mut a,
        "PATCH",
        &format!("{base}/CQ-D-ECON"),
        Some(&json!({"name_zh": "经济质量（新）", "name_en": "Economy (new)", "weight": 2.0, "direction": -1})),
    )
    .await;
    assert_eq!(s, 200, "{n}");
    assert_eq!(
        (
            n["name_zh"].clone(),
            n["name_en"].clone(),
            n["weight"].clone(),
            n["direction"].clone()
        ),
        (
            json!("经济质量（新）"),
            json!("Economy (new)"),
            json!(2.0),
            json!(-1)
        )
    );
    for (body, field) in [
        (json!({"name_zh": ""}), "name_zh"),
        (json!({"weight": -0.5}), "weight"),
        (json!({"direction": 0}), "direction"),
    ] {
        let (s, p) = send(&mut a, "PATCH", &format!("{base}/CQ-D-ECON"), Some(&body)).await;
        assert_eq!((s, p["field"].clone()), (422, json!(field)), "{body}: {p}");
    }
    // move an indicator (with its values) to the new dimension
    let (s, m) = send(
        &mut a,
        "PATCH",
        &format!("{base}/CQ-SAT"),
        Some(&json!({"parent": "CQ-D-NEW"})),
    )
    .await;
    assert_eq!((s, m["parent"].clone()), (200, json!("CQ-D-NEW")), "{m}");
    // refused moves: a cycle, under an indicator, a level skipped, the index, an unknown parent
    for (code, to, needle) in [
        ("CQ-D-NEW", "CQ-NEW-1", "cycle"),
        ("CQ-D-NEW", "CQ-D-NEW", "cycle"),
        ("CQ-NEW-2", "CQ-SAT", "cannot take children"),
        ("CQ-NEW-2", "CQ", "dimension"),
        ("CQ-D-NEW", "CQ-D-ECON", "index"),
        ("CQ", "CQ-D-ECON", "index"),
        ("CQ-NEW-2", "NOPE", "NOPE"),
    ] {
        let (s, p) = send(
            &mut a,
            "PATCH",
            &format!("{base}/{code}"),
            Some(&json!({"parent": to})),
        )
        .await;
        assert_eq!(
            (s, p["field"].clone()),
            (422, json!("parent")),
            "{code} → {to}: {p}"
        );
        assert!(
            p["detail"].to_string().contains(needle),
            "{code} → {to}: {p}"
        );
    }
    let t = a.get(&base).await.json();
    assert_eq!(node_of(&t, "CQ-D-NEW").unwrap()["parent"], "CQ");
    assert_eq!(node_of(&t, "CQ-NEW-2").unwrap()["parent"], "CQ-D-NEW");

    // weights: equalise the new dimension's three children
    assert_eq!(sum_of(&t, "CQ-D-NEW")["sum"], 3.0);
    let (s, kids) = send(&mut a, "POST", &format!("{base}/CQ-D-NEW/equalise"), None).await;
    assert_eq!(s, 200, "{kids}");
    assert_eq!(kids.as_array().unwrap().len(), 3);
    let t = a.get(&base).await.json();
    let w = sum_of(&t, "CQ-D-NEW");
    assert_eq!(
        (w["children"].clone(), w["sums_to_one"].clone()),
        (json!(3), json!(true)),
        "{w}"
    );
    assert!((node_of(&t, "CQ-SAT").unwrap()["weight"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    let (s, p) = send(&mut a, "POST", &format!("{base}/CQ-SAT/equalise"), None).await;
    assert_eq!((s, p["field"].clone()), (422, json!("parent")));

    // delete: refused for the index, for data values (own or below), for a run's nodes
    let (s, p) = send(&mut a, "DELETE", &format!("{base}/CQ"), None).await;
    assert_eq!((s, p["code"].clone()), (409, json!("conflict")), "{p}");
    for code in ["CQ-NEW-1", "CQ-D-NEW", "CQ-SAT"] {
        let (s, p) = send(&mut a, "DELETE", &format!("{base}/{code}"), None).await;
        assert_eq!(s, 409, "{code}: {p}");
        assert!(
            p["detail"].as_str().unwrap().contains("data value"),
            "{code}: {p}"
        );
    }
    // CQ-MFG-QCI has no values, but the stored run used it
    let (s, p) = send(&mut a, "DELETE", &format!("{base}/CQ-MFG-QCI"), None).await;
    assert_eq!(s, 409, "{p}");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("index run") && detail.contains("before"),
        "{p}"
    );
    // an indicator added since, without values: deleted with its rule
    let (s, d) = send(&mut a, "DELETE", &format!("{base}/CQ-NEW-2"), None).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (d["nodes"].clone(), d["rules"].clone()),
        (json!(["CQ-NEW-2"]), json!(1))
    );
    let left = a.get(&format!("{rules}?indicator=CQ-NEW-2")).await.json();
    assert!(
        left.as_array()
            .unwrap()
            .iter()
            .all(|r| r["indicator"] == ""),
        "{left}"
    );
    let (s, _) = send(&mut a, "DELETE", &format!("{base}/CQ-NEW-2"), None).await;
    assert_eq!(s, 404);
    // a whole subtree goes at once
    let (s, _) = send(
        &mut a,
        "POST",
        &base,
        Some(&json!({"parent": "CQ", "kind": "dimension", "code": "CQ-D-TMP", "name_zh": "临时"})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = send(&mut a, "POST", &base, Some(&json!({"parent": "CQ-D-TMP", "kind": "indicator", "code": "CQ-TMP-1", "name_zh": "临时指标"}))).await;
    assert_eq!(s, 201);
    let (s, _) = send(
        &mut a,
        "POST",
        &rules,
        Some(&json!({"indicator": "CQ-TMP-1", "kind": "yoy", "threshold": 5.0})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, d) = send(&mut a, "DELETE", &format!("{base}/CQ-D-TMP"), None).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (d["nodes"].clone(), d["rules"].clone()),
        (json!(["CQ-D-TMP", "CQ-TMP-1"]), json!(1))
    );
    let t = a.get(&base).await.json();
    assert!(node_of(&t, "CQ-D-TMP").is_none() && node_of(&t, "CQ-TMP-1").is_none());

    // every change is audited; refused ones are not
    assert_eq!(
        audit_actions(&e, "eval_node").await,
        [
            "create", "create", "create", "create", "create", "delete", "delete", "equalise",
            "move", "update"
        ]
        .map(|v| format!("evaluation.node.{v}"))
    );

    // the past run keeps its own copy: same results, same spec, reproducible, old names
    let after = wait_run(&mut a, run1).await;
    assert_eq!(after["results"], before["results"]);
    assert_eq!(after["spec_toml"], before["spec_toml"]);
    let r = a
        .post_json(
            &format!("/api/v1/evaluation/runs/{run1}/reproduce"),
            &json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["identical"].clone()),
        (200, json!(true)),
        "{}",
        r.body
    );
    let run_page_after = a.get(&format!("/app/evaluation/runs/{run1}")).await.body;
    assert!(run_page_after.contains("经济发展质量") && !run_page_after.contains("经济质量（新）"));
    assert!(
        !before["results"]["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "CQ-D-NEW")
    );
    // ... while a new run sees the edited framework
    let r = a.post_json("/api/v1/evaluation/runs", &json!({"framework_id": fw, "name": "after", "years": [2023, 2024], "statuses": ["draft"], "uncertainty_n": 0, "seed": 3})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let now = wait_run(&mut a, r.json()["id"].as_i64().unwrap()).await;
    assert_eq!(now["run"]["status"], "finished", "{now}");
    assert!(
        now["results"]["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "CQ-D-NEW"),
        "{}",
        now["results"]["dimensions"]
    );
    assert_ne!(now["results"]["years"], before["results"]["years"]);
    // the OpenAPI document describes the routes
    let doc = a.get("/api/v1/openapi.json").await.json();
    for path in [
        "/api/v1/evaluation/frameworks/{id}/nodes",
        "/api/v1/evaluation/frameworks/{id}/nodes/{code}",
        "/api/v1/evaluation/frameworks/{id}/nodes/{code}/equalise",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    assert!(doc["paths"]["/api/v1/evaluation/frameworks/{id}/nodes/{code}"]["delete"]["responses"]["409"].is_object());
}

async fn structure_page_adds_edits_and_refuses(b: Backend) {
    let e = env(b).await;
    let mut a = client(&e, "analyst").await;
    let fw = install_cq(&mut a).await;
    let api = format!("/api/v1/evaluation/frameworks/{fw}/nodes");
    let page_url = format!("/app/evaluation/frameworks/{fw}/structure");
    // reachable from the framework tree
    let tree = a.get(&format!("/app/evaluation/frameworks/{fw}")).await;
    assert!(tree.body.contains(&format!("href=\"{page_url}\"")));
    let page = a.get(&page_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("data-testid=\"structure-table\"")
            && page.body.contains("data-testid=\"node-new\"")
            && page.body.contains("指标体系结构")
    );
    // the catalogue's economic dimension has relative weights (1 each): not summing to 1
    let econ_kids = a.get(&api).await.json()["weights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["parent"] == "CQ-D-ECON")
        .unwrap()["children"]
        .as_u64()
        .unwrap();
    assert!(
        page.body.contains(&format!("Σ = {econ_kids} ≠ 1")),
        "{}",
        page.body
    );
    // add an indicator through the plain form
    let r = a
        .post_form(
            &page_url,
            &[
                ("kind", "indicator"),
                ("parent", "CQ-D-ECON"),
                ("code", "CQ-PAGE-1"),
                ("name_zh", "页面指标"),
                ("name_en", "Page indicator"),
                ("direction", "-1"),
                ("weight", "0.5"),
                ("unit", "%"),
                ("band_low", ""),
                ("band_high", ""),
                ("target", "5"),
                ("target_year", "2028"),
                ("computation", "raw"),
                ("factor", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().unwrap().contains("msg="), "{:?}", r.location());
    let (s, n) = send(&mut a, "GET", &format!("{api}/CQ-PAGE-1"), None).await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            n["parent"].clone(),
            n["direction"].clone(),
            n["weight"].clone(),
            n["target_year"].clone()
        ),
        (json!("CQ-D-ECON"), json!(-1), json!(0.5), json!(2028))
    );
    // htmx: a used code and a bad number come back in the panel, naming the field
    let csrf = a.csrf.clone().unwrap();
    let hx = |body: String| (body, [("hx-request", "true")]);
    let (form, h) = hx(format!(
        "_csrf={csrf}&kind=indicator&parent=CQ-D-ECON&code=CQ-PAGE-1&name_zh=x&weight=1"
    ));
    let r = a
        .request(
            "POST",
            &page_url,
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
            &h,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("data-testid=\"structure-error\"") && r.body.contains("code"),
        "{}",
        r.body
    );
    let (form, h) = hx(format!(
        "_csrf={csrf}&kind=indicator&parent=CQ-D-ECON&code=CQ-PAGE-2&name_zh=x&weight=abc"
    ));
    let r = a
        .request(
            "POST",
            &page_url,
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
            &h,
        )
        .await;
    assert!(
        r.body.contains("data-testid=\"structure-error\"") && r.body.contains("weight"),
        "{}",
        r.body
    );
    // htmx: equalise the economic dimension
    let (form, h) = hx(format!("_csrf={csrf}&op=equalise"));
    let r = a
        .request(
            "POST",
            &format!("{page_url}/CQ-D-ECON"),
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
            &h,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("structure-error"), "{}", r.body);
    let t = a.get(&api).await.json();
    assert_eq!(sum_of(&t, "CQ-D-ECON")["sums_to_one"], true, "{t}");
    // htmx: rename and move the new indicator to another dimension
    let (form, h) = hx(format!(
        "_csrf={csrf}&op=save&name_zh=%E6%94%B9%E5%90%8D&name_en=Renamed&weight=0.25&direction=1&parent=CQ-D-SOC"
    ));
    let r = a
        .request(
            "POST",
            &format!("{page_url}/CQ-PAGE-1"),
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
            &h,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, n) = send(&mut a, "GET", &format!("{api}/CQ-PAGE-1"), None).await;
    assert_eq!(
        (
            n["name_zh"].clone(),
            n["parent"].clone(),
            n["weight"].clone(),
            n["direction"].clone()
        ),
        (json!("改名"), json!("CQ-D-SOC"), json!(0.25), json!(1)),
        "{n}"
    );
    // htmx: deleting an indicator with data is refused with the reason
    let (s, v) = save(&mut a, fw, "CQ-SAT", "990101", 2024, 80.0).await;
    assert_eq!(s, 200, "{v}");
    let (form, h) = hx(format!("_csrf={csrf}&op=delete"));
    let r = a
        .request(
            "POST",
            &format!("{page_url}/CQ-SAT"),
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
            &h,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("data-testid=\"structure-error\"") && r.body.contains("data value"),
        "{}",
        r.body
    );
    // plain delete of the new indicator
    let r = a
        .post_form(&format!("{page_url}/CQ-PAGE-1"), &[("op", "delete")])
        .await;
    assert_eq!(r.status, 303);
    assert!(r.location().unwrap().contains("msg="), "{:?}", r.location());
    let (s, _) = send(&mut a, "GET", &format!("{api}/CQ-PAGE-1"), None).await;
    assert_eq!(s, 404);
    // officers see the structure read-only and cannot post to it
    let mut o = client(&e, "officer").await;
    let page = o.get(&page_url).await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("data-testid=\"node-new\"")
            && !page.body.contains("data-testid=\"equalise\"")
    );
    let r = o
        .post_form(
            &page_url,
            &[
                ("kind", "dimension"),
                ("parent", "CQ"),
                ("code", "X"),
                ("name_zh", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    // english
    a.get("/lang?set=en&next=/app/evaluation").await;
    let page = a.get(&page_url).await;
    assert!(
        page.body.contains("Framework structure") && page.body.contains("Equalise"),
        "{}",
        page.body
    );
    assert_eq!(
        audit_actions(&e, "eval_node").await,
        ["create", "delete", "equalise", "move"].map(|v| format!("evaluation.node.{v}"))
    );
}
