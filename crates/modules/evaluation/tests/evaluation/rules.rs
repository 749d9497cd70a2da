//! Validation rules and the warnings they give at submit.

use qcity_platform::on_both_backends;
use qcity_platform::testing::Backend;
use serde_json::{Value, json};

use super::common::*;

on_both_backends!(rules_are_managed_and_change_submit_warnings);

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
