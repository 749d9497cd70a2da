//! Editing a framework's structure, through the API and the page.

use qcity_platform::on_both_backends;
use qcity_platform::testing::Backend;
use serde_json::json;

use super::common::*;

on_both_backends!(
    structure_is_edited_and_past_runs_keep_their_copy,
    structure_page_adds_edits_and_refuses
);

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
