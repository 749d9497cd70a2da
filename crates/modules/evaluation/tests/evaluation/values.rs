//! Frameworks, region scope, the value workflow and imports.

use qcity_platform::on_both_backends;
use qcity_platform::testing::{Backend, citus_problems};
use serde_json::json;

use super::common::*;

on_both_backends!(
    schema_is_citus_ready_and_catalogue_installs,
    officer_sees_only_own_district,
    status_workflow_follows_roles,
    import_is_all_or_nothing_with_row_errors
);

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
