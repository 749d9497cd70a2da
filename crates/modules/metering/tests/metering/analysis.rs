//! Analysis: VEE, detectors and alerts, settings, operating hours, imbalance, CalTRACK baselines.

use qcity_metering::{MeteringModule, domain};
use qcity_platform::Module;
use qcity_platform::on_both_backends;
use qcity_platform::testing::{Backend, TestClient};
use serde_json::{Value, json};

use super::common::*;

on_both_backends!(
    vee_detectors_alert_ack_and_hooks,
    settings_form_is_admin_only_validated_and_audited,
    operating_hours_gate_baseload_alerts,
    parent_children_imbalance_alerts,
    caltrack_temperature_baseline
);

async fn vee_detectors_alert_ack_and_hooks(b: Backend) {
    let e = setup(b).await;
    let (a, _ub, site, water, _mb) = two_units(&e).await;
    bind(&e, "energy", a).await;
    let mut admin = client(&e, "admin").await;
    // Water never drops to zero for two days (a leak); electricity with a 2-hour hole.
    let mut rows = day_of(water, "2025-06-02", |i| {
        if (8..72).contains(&i) { 3.0 } else { 0.4 }
    });
    rows.extend(day_of(water, "2025-06-03", |i| {
        if (8..72).contains(&i) { 3.0 } else { 0.4 }
    }));
    rows.extend(
        day_of(site, "2025-06-02", |i| 10.0 + (i % 2) as f64)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !(40..48).contains(i))
            .map(|x| x.1),
    );
    let r = admin
        .post_json("/api/v1/meters/readings", &Value::Array(rows))
        .await;
    assert_eq!(r.json()["accepted"], 96 * 2 + 88);
    // VEE fills the gap by linear interpolation, with an edit trail; raw values stay apart.
    let v = admin
        .post_json(
            &format!("/api/v1/metering/meters/{site}/vee?from=2025-06-02&to=2025-06-03"),
            &json!({}),
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.json()["estimated"], 8);
    assert_eq!(v.json()["edits"], 8);
    let d = admin
        .get(&format!(
            "/api/v1/metering/meters/{site}/series?grain=d&from=2025-06-02&to=2025-06-03"
        ))
        .await
        .json();
    assert_eq!(d[0]["n"], 96);
    let v = d[0]["value"].as_f64().unwrap();
    assert!(v > 2.0 * 88.0 * 10.0 && v < 2.0 * 96.0 * 11.0, "{v}");
    let edits: i64 = {
        let r = qcity_metering::sql::one(&e.db, "SELECT COUNT(*) AS n FROM mt_vee_edits WHERE city_id = ? AND meter_id = ? AND quality = 'estimated'", vec![e.city.into(), site.into()]).await.unwrap().unwrap();
        r.try_get("", "n").unwrap()
    };
    assert_eq!(edits, 8);
    // Detectors: the water leak becomes an alert; running again adds none.
    let r = admin
        .post_json(
            &format!("/api/v1/metering/meters/{water}/detect?from=2025-06-02&to=2025-06-04"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["new_alerts"].as_u64().unwrap() >= 1, "{}", r.body);
    let r = admin
        .post_json(
            &format!("/api/v1/metering/meters/{water}/detect?from=2025-06-02&to=2025-06-04"),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["new_alerts"], 0);
    let mut em = client(&e, "energy").await;
    let alerts = em.get("/api/v1/metering/alerts").await.json();
    let leak = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "continuous_flow")
        .expect("continuous flow alert")
        .clone();
    let id = leak["id"].as_i64().unwrap();
    // Another enterprise's manager and a viewer cannot acknowledge it.
    let mut east = client(&e, "east").await;
    assert_eq!(
        east.post_json(
            &format!("/api/v1/metering/alerts/{id}/ack"),
            &json!({"note": "x"})
        )
        .await
        .status,
        403
    );
    let r = em
        .post_json(
            &format!("/api/v1/metering/alerts/{id}/ack"),
            &json!({"note": "夜间补水阀未关"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "acked");
    assert_eq!(
        em.post_json(&format!("/api/v1/metering/alerts/{id}/ack"), &json!({}))
            .await
            .status,
        409
    );
    let audited: i64 = {
        let r = qcity_metering::sql::one(&e.db, "SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND action = 'metering.alert.ack' AND entity_id = ?", vec![e.city.into(), id.to_string().into()]).await.unwrap().unwrap();
        r.try_get("", "n").unwrap()
    };
    assert_eq!(audited, 1);
    // Energy and the hooks: the day's validated kWh (multiplier applied) × 0.1229 kgce/kWh.
    let en = admin
        .get(&format!(
            "/api/v1/metering/units/{a}/energy?from=2025-06-01&to=2025-07-01"
        ))
        .await
        .json();
    let elec = en["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["energy_type"] == "electricity")
        .unwrap()
        .clone();
    let q = elec["quantity"].as_f64().unwrap();
    assert_eq!(q, v);
    assert!((elec["tce"].as_f64().unwrap() - q * 0.1229 / 1000.0).abs() < 1e-9);
    assert_eq!(en["electricity_basis"], "equivalent");
    let feed = MeteringModule
        .indicator_feed(&e.db, e.city, 2025)
        .await
        .unwrap();
    let gdp = feed
        .iter()
        .find(|f| f.indicator == "CQ-ENERGY-GDP" && f.region_code == "990100")
        .expect("city CQ-ENERGY-GDP");
    assert!(gdp.value > 0.0);
    assert!(
        feed.iter()
            .any(|f| f.indicator == "CQ-ENERGY-COVERAGE" && f.region_code == "990101")
    );
    let sections = MeteringModule
        .report_sections(&e.db, e.city, 2025)
        .await
        .unwrap();
    assert_eq!(sections.len(), 1);
    assert_eq!(sections[0].key, "metering.energy");
}

/// The settings page: an administrator changes retention through the form (audited like the
/// API; bad values shown next to their field; the retention job's last run shown); anyone else
/// gets 403 for the page and the form.
async fn settings_form_is_admin_only_validated_and_audited(b: Backend) {
    let e = setup(b).await;
    let mut browser = TestClient::new(e.router.clone());
    browser.login("admin", "password-admin").await;
    let r = browser.get("/app/metering").await;
    assert!(r.body.contains("/app/metering/settings"), "admin link");
    let r = browser.get("/app/metering/settings").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("name=\"raw_retention_days\""));
    assert!(!r.body.contains(">metering-"), "untranslated key");
    // Bad values: 422 and the message beside the field; nothing stored, nothing audited.
    for (days, tol, field) in [
        ("abc", "", "raw_retention_days"),
        ("0", "", "raw_retention_days"),
        ("30", "1.5", "imbalance_tolerance"),
    ] {
        let r = browser
            .post_form(
                "/app/metering/settings",
                &[("raw_retention_days", days), ("imbalance_tolerance", tol)],
            )
            .await;
        assert_eq!(r.status, 422, "{days} {tol}: {}", r.body);
        assert!(
            r.body.contains(&format!("data-testid=\"{field}-error\"")),
            "{days} {tol}: no error beside {field}"
        );
        assert!(r.body.contains(&format!("value=\"{days}\"")), "keeps input");
    }
    let audits = |e: &Env| {
        let db = e.db.clone();
        let city = e.city;
        async move {
            let r = qcity_metering::sql::one(&db, "SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND action = 'metering.settings.update' AND actor_name = 'admin'", vec![city.into()]).await.unwrap().unwrap();
            r.try_get::<i64>("", "n").unwrap()
        }
    };
    assert_eq!(audits(&e).await, 0);
    let mut api = client(&e, "admin").await;
    assert_eq!(
        api.get("/api/v1/metering/settings").await.json()["raw_retention_days"],
        Value::Null
    );
    // A good change: stored, audited, shown again with a confirmation.
    let r = browser
        .post_form(
            "/app/metering/settings",
            &[("raw_retention_days", "45"), ("imbalance_tolerance", "0.1")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some("/app/metering/settings?saved=1"));
    let s = api.get("/api/v1/metering/settings").await.json();
    assert_eq!(s["raw_retention_days"], 45);
    assert_eq!(s["imbalance_tolerance"], 0.1);
    assert_eq!(audits(&e).await, 1);
    let r = browser.get("/app/metering/settings?saved=1").await;
    assert!(r.body.contains("data-testid=\"settings-saved\""));
    assert!(r.body.contains("value=\"45\""));
    // The retention job's last run (and what it removed) is shown once it has run.
    let now = domain::now_ts();
    qcity_metering::retention::apply_and_record(&e.db, e.city, now, 10)
        .await
        .unwrap();
    let run = qcity_metering::retention::last_run(&e.db, e.city)
        .await
        .unwrap();
    assert_eq!(run.ran_at, Some(now));
    assert_eq!(run.deleted, Some(0));
    let r = browser.get("/lang?set=en&next=/app").await;
    assert!(r.status < 400);
    let r = browser.get("/app/metering/settings").await;
    assert!(r.body.contains(&domain::fmt_local(now)), "last run shown");
    assert!(r.body.contains("Raw-data retention"), "English labels");
    // Empty fields: keep forever and the default tolerance.
    let r = browser
        .post_form(
            "/app/metering/settings",
            &[("raw_retention_days", ""), ("imbalance_tolerance", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let s = api.get("/api/v1/metering/settings").await.json();
    assert_eq!(s["raw_retention_days"], Value::Null);
    assert_eq!(audits(&e).await, 2);
    // Not an administrator: 403 for the page and the form, nothing changed, no link.
    let mut analyst = TestClient::new(e.router.clone());
    analyst.login("analyst", "password-analyst").await;
    let r = analyst.get("/app/metering").await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("/app/metering/settings"), "no link");
    assert_eq!(analyst.get("/app/metering/settings").await.status, 403);
    let r = analyst
        .post_form(
            "/app/metering/settings",
            &[("raw_retention_days", "7"), ("imbalance_tolerance", "")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let s = api.get("/api/v1/metering/settings").await.json();
    assert_eq!(s["raw_retention_days"], Value::Null);
    assert_eq!(audits(&e).await, 2);
}

async fn operating_hours_gate_baseload_alerts(b: Backend) {
    let e = setup(b).await;
    let (a, ub, _site, _water, _mb) = two_units(&e).await;
    let mut admin = client(&e, "admin").await;
    let ma = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "level": "building", "code": "E9", "name_zh": "办公楼", "energy_type": "electricity"})).await["id"].as_i64().unwrap();
    let mb = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": ub, "level": "building", "code": "E9", "name_zh": "办公楼", "energy_type": "electricity"})).await["id"].as_i64().unwrap();
    let mut rows = office_load(ma);
    rows.extend(office_load(mb));
    let r = admin
        .post_json("/api/v1/meters/readings", &Value::Array(rows))
        .await;
    assert_eq!(r.json()["accepted"], 2 * 29 * 96);
    // Default hours: Monday–Friday 08:00–18:00.
    let h = admin
        .get(&format!("/api/v1/metering/units/{a}/hours"))
        .await;
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(
        h.json()["days"][0],
        json!({"open_hour": 8, "close_hour": 18})
    );
    assert_eq!(
        h.json()["days"][6],
        json!({"open_hour": 0, "close_hour": 0})
    );
    // Unit B works until midnight every day: its evening load is in hours.
    let week: Vec<Value> = (0..7)
        .map(|_| json!({"open_hour": 6, "close_hour": 24}))
        .collect();
    let r = put(
        &mut admin,
        &format!("/api/v1/metering/units/{ub}/hours"),
        &json!({"days": week}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["days"][5]["close_hour"], 24);
    let bad = put(
        &mut admin,
        &format!("/api/v1/metering/units/{ub}/hours"),
        &json!({"days": [{"open_hour": 9, "close_hour": 8}]}),
    )
    .await;
    assert_eq!(bad.status, 422);
    let bad: Vec<Value> = (0..7)
        .map(|i| json!({"open_hour": if i == 2 { 19 } else { 8 }, "close_hour": 18}))
        .collect();
    let r = put(
        &mut admin,
        &format!("/api/v1/metering/units/{ub}/hours"),
        &json!({"days": bad}),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "days[2]");
    let detect =
        |m: i64| format!("/api/v1/metering/meters/{m}/detect?from=2025-06-04&to=2025-06-05");
    let r = admin.post_json(&detect(ma), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = admin.post_json(&detect(mb), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let kinds = |v: &Value, m: i64| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|x| x["meter_id"] == m)
            .map(|x| x["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let al = admin.get("/api/v1/metering/alerts").await.json();
    assert_eq!(kinds(&al, ma), vec!["baseload".to_string()], "{al}");
    assert!(kinds(&al, mb).is_empty(), "{al}");
    // Acknowledged like the other alerts (audited), once.
    let id = al
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["meter_id"] == ma)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = admin
        .post_json(
            &format!("/api/v1/metering/alerts/{id}/ack"),
            &json!({"note": "夜班 night shift"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "acked");
    let r = admin
        .post_json(&format!("/api/v1/metering/alerts/{id}/ack"), &json!({}))
        .await;
    assert_eq!(r.status, 409);
}

async fn parent_children_imbalance_alerts(b: Backend) {
    let e = setup(b).await;
    let (a, _ub, _site, _water, _mb) = two_units(&e).await;
    let mut admin = client(&e, "admin").await;
    let p = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "level": "building", "code": "P1", "name_zh": "车间总表", "energy_type": "electricity"})).await["id"].as_i64().unwrap();
    let c1 = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "parent_id": p, "level": "line", "code": "C1", "name_zh": "灌装线", "energy_type": "electricity"})).await["id"].as_i64().unwrap();
    let c2 = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "parent_id": p, "level": "line", "code": "C2", "name_zh": "制冷", "energy_type": "electricity"})).await["id"].as_i64().unwrap();
    let mut rows = Vec::new();
    // 1 June: 1 % unmetered (within 5 %); 2 June: 20 % lost; 3 June: child 2 half missing.
    for (day, c2v, c2n) in [
        ("2025-06-01", 4.9, 96),
        ("2025-06-02", 3.0, 96),
        ("2025-06-03", 3.0, 48),
    ] {
        rows.extend(day_of(p, day, |_| 10.0));
        rows.extend(day_of(c1, day, |_| 5.0));
        rows.extend(day_of(c2, day, |_| c2v).into_iter().take(c2n));
    }
    let r = admin
        .post_json("/api/v1/meters/readings", &Value::Array(rows))
        .await;
    assert_eq!(r.json()["rejected"], 0);
    let r = admin
        .post_json(
            &format!("/api/v1/metering/meters/{p}/detect?from=2025-06-01&to=2025-06-04"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let al = admin
        .get(&format!("/api/v1/metering/alerts?unit_id={a}"))
        .await
        .json();
    let imb: Vec<&Value> = al
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "imbalance")
        .collect();
    assert_eq!(imb.len(), 1, "{al}");
    assert_eq!(imb[0]["meter_id"], p);
    assert_eq!(
        imb[0]["start_ts"],
        domain::parse_ts("2025-06-02 00:00").unwrap()
    );
    // 960 − (480 + 288) = 192 kWh unmetered.
    assert!((imb[0]["magnitude"].as_f64().unwrap() - 192.0).abs() < 1e-6);
    // A wider tolerance (25 %) finds nothing on a fresh day with the same loss.
    let r = put(
        &mut admin,
        "/api/v1/metering/settings",
        &json!({"imbalance_tolerance": 0.25}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut rows = day_of(p, "2025-06-05", |_| 10.0);
    rows.extend(day_of(c1, "2025-06-05", |_| 5.0));
    rows.extend(day_of(c2, "2025-06-05", |_| 3.0));
    admin
        .post_json("/api/v1/meters/readings", &Value::Array(rows))
        .await;
    let r = admin
        .post_json(
            &format!("/api/v1/metering/meters/{p}/detect?from=2025-06-05&to=2025-06-06"),
            &json!({}),
        )
        .await;
    assert_eq!(r.json()["new_alerts"], 0, "{}", r.body);
    // Acknowledgement works on imbalance alerts too.
    let id = imb[0]["id"].as_i64().unwrap();
    let r = admin
        .post_json(
            &format!("/api/v1/metering/alerts/{id}/ack"),
            &json!({"note": "线损 line loss"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn caltrack_temperature_baseline(b: Backend) {
    let e = setup(b).await;
    let (a, _ub, _site, _water, _mb) = two_units(&e).await;
    let mut admin = client(&e, "admin").await;
    let m = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "level": "building", "code": "HVAC", "name_zh": "办公楼空调", "energy_type": "electricity", "interval_min": 1440})).await["id"].as_i64().unwrap();
    // Two years of daily temperatures (CSV, daily means) and use: 200 kWh + 30 kWh per °C
    // above 22 °C in 2023; 10 % less in 2024 (an efficiency project).
    let day0 = domain::parse_ts("2023-01-01 00:00").unwrap();
    let mut csv = String::from("timestamp,temperature_c\n");
    let mut rows = Vec::new();
    for d in 0..731 {
        let ts = day0 + d * 86400;
        let t = temp_c(d);
        csv.push_str(&format!("{},{t:.4}\n", domain::local_date(ts)));
        let use_ = 200.0 + 30.0 * (t - 22.0).max(0.0);
        let use_ = if d >= 365 { use_ * 0.9 } else { use_ };
        rows.push(json!({"meter_id": m, "ts": ts, "value": use_}));
    }
    // A bad row rejects the whole weather import, naming the row.
    let bad = format!("{csv}2025-01-01,hot\n");
    let r = admin
        .request(
            "POST",
            "/api/v1/metering/weather",
            Some("text/csv"),
            bad.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.json()["field"].as_str().unwrap().starts_with("row 732"),
        "{}",
        r.body
    );
    let w = admin
        .get("/api/v1/metering/weather?from=2023-01-01&to=2023-02-01")
        .await
        .json();
    assert_eq!(w.as_array().unwrap().len(), 0);
    let r = admin
        .request(
            "POST",
            "/api/v1/metering/weather",
            Some("text/csv"),
            csv.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["stored"], 731);
    let w = admin
        .get("/api/v1/metering/weather?from=2023-01-01&to=2023-02-01")
        .await
        .json();
    assert_eq!(w.as_array().unwrap().len(), 31);
    assert!((w[0]["temperature_c"].as_f64().unwrap() - temp_c(0)).abs() < 1e-3);
    let r = admin
        .post_json("/api/v1/meters/readings", &Value::Array(rows))
        .await;
    assert_eq!(r.json()["accepted"], 731);
    let r = admin
        .get(&format!("/api/v1/metering/meters/{m}/baseline?baseline_from=2023-01-01&baseline_to=2024-01-01&reporting_from=2024-01-01&reporting_to=2025-01-01"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert!(j["model_type"].as_str().unwrap().starts_with("cdd"), "{j}");
    let slope = j["cooling_slope_per_c"].as_f64().unwrap();
    assert!((slope - 30.0).abs() < 3.0, "{slope}");
    // The balance point lies on the engine's 1 °F grid next to 22 °C (71.6 °F).
    let bp = j["cooling_balance_point_c"].as_f64().unwrap();
    assert!((bp - 22.0).abs() < 0.6, "{bp}");
    assert!(j["r2_adj"].as_f64().unwrap() > 0.99, "{j}");
    assert_eq!(j["n"], 365);
    // Savings: 10 % of the adjusted baseline, within the grid's rounding.
    let fs = j["fractional_savings"].as_f64().unwrap();
    assert!((fs - 0.1).abs() < 0.01, "{fs}");
    let actual: f64 = j["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["actual"].as_f64().unwrap())
        .sum();
    assert!((actual - j["actual"].as_f64().unwrap()).abs() < 1e-6);
    assert_eq!(j["daily"].as_array().unwrap().len(), 366);
    // The unit page shows it (default periods: the last 365 days against the 365 before).
    let mut c = TestClient::new(e.router.clone());
    c.login("admin", "password-admin").await;
    let page = c.get(&format!("/app/metering/units/{a}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("metering-temp-baseline"),
        "{}",
        page.body
    );
    assert!(page.body.contains("cdd"));
    // Energy managers of another enterprise do not see it.
    bind(&e, "energy2", _ub).await;
    let mut other = client(&e, "energy2").await;
    let r = other
        .get(&format!("/api/v1/metering/meters/{m}/baseline"))
        .await;
    assert_eq!(r.status, 404);
}
