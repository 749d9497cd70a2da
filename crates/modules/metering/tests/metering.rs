//! The metering module through the real router, on SQLite always and on PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set: units and meter tree, scoping (energy managers see only their
//! enterprise; out-of-scope is 404), ingest idempotency, late data and rollup consistency, bad rows,
//! VEE edit trail, detectors and audited acknowledgement, savings and hooks.

use qcity_metering::{MeteringModule, domain};
use qcity_platform::Module;
use qcity_platform::auth::{Role, token};
use qcity_platform::testing::{Backend, TestClient, TestDb, app, citus_problems, seed_small_city};
use serde_json::{Value, json};
use std::sync::Arc;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await
            }
            #[tokio::test]
            #[cfg_attr(not(qcity_pg), ignore = "set QCITY_TEST_POSTGRES_URL to run on PostgreSQL")]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await
            }
        }
    )*};
}

on_both_backends!(
    tenant_keys_lead_with_city_id,
    units_meters_coverage_and_scoping,
    ingest_is_idempotent_and_late_data_keeps_rollups_consistent,
    vee_detectors_alert_ack_and_hooks,
    pages_render_in_both_languages_and_respect_scope,
);

struct Env {
    _t: TestDb,
    db: sea_orm::DatabaseConnection,
    router: axum::Router,
    city: i64,
}

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(MeteringModule)]
}

fn uscc(seq: u32) -> String {
    let first = format!("913501007{seq:08}");
    format!("{first}{}", domain::check_char(&first).unwrap())
}

async fn setup(b: Backend) -> Env {
    let t = TestDb::migrated(b, &modules()).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("admin", Role::Admin, "990100"),
            ("analyst", Role::Analyst, "990100"),
            ("east", Role::Viewer, "990102"),
            ("energy", Role::EnergyManager, "990100"),
            ("energy2", Role::EnergyManager, "990100"),
            ("fixer", Role::Maintainer, "990100"),
        ],
    )
    .await;
    let (_, router) = app(&t, modules());
    let db = t.db.clone();
    Env {
        _t: t,
        db,
        router,
        city,
    }
}

async fn client(e: &Env, name: &str) -> TestClient {
    let u = qcity_platform::store::users::by_username(&e.db, e.city, name)
        .await
        .unwrap()
        .unwrap();
    let (_, tok) = token::issue(&e.db, e.city, u.id, "test").await.unwrap();
    TestClient::with_bearer(e.router.clone(), &tok)
}

async fn bind(e: &Env, name: &str, unit: i64) {
    let u = qcity_platform::store::users::by_username(&e.db, e.city, name)
        .await
        .unwrap()
        .unwrap();
    qcity_platform::store::users::set_enterprise_id(&e.db, e.city, u.id, Some(unit))
        .await
        .unwrap();
}

async fn post(c: &mut TestClient, path: &str, v: Value) -> Value {
    let r = c.post_json(path, &v).await;
    assert!(
        r.status == 201 || r.status == 200,
        "{path}: {} {}",
        r.status,
        r.body
    );
    r.json()
}

/// Two units (A in 990101 with a small tree, B in 990102 with one meter).
async fn two_units(e: &Env) -> (i64, i64, i64, i64, i64) {
    let mut admin = client(e, "admin").await;
    let a = post(&mut admin, "/api/v1/metering/units", json!({"uscc": uscc(1), "name_zh": "甲啤酒厂", "name_en": "A Brewery", "industry": "C1513", "region_code": "990101001", "output_unit": "hl", "value_added_10k_yuan": 1000.0})).await["id"].as_i64().unwrap();
    let b = post(&mut admin, "/api/v1/metering/units", json!({"uscc": uscc(2), "name_zh": "乙纸业", "region_code": "990102", "value_added_10k_yuan": 500.0})).await["id"].as_i64().unwrap();
    let site = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "level": "site", "code": "E0", "name_zh": "总进线", "energy_type": "electricity", "multiplier": 2.0})).await["id"].as_i64().unwrap();
    let water = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "level": "site", "code": "W0", "name_zh": "总水表", "energy_type": "water"})).await["id"].as_i64().unwrap();
    let mb = post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": b, "level": "site", "code": "E0", "name_zh": "总表", "energy_type": "electricity", "high_limit": 100.0})).await["id"].as_i64().unwrap();
    (a, b, site, water, mb)
}

async fn tenant_keys_lead_with_city_id(b: Backend) {
    let t = TestDb::migrated(b, &modules()).await;
    let problems = citus_problems(&t.db, &[]).await;
    assert!(problems.is_empty(), "{problems:#?}");
}

async fn units_meters_coverage_and_scoping(b: Backend) {
    let e = setup(b).await;
    let (a, ub, site, _water, mb) = two_units(&e).await;
    let mut admin = client(&e, "admin").await;
    // Bad credit code: named field, reason.
    let mut bad = uscc(3);
    bad.replace_range(17.., if bad.ends_with('0') { "1" } else { "0" });
    let r = admin
        .post_json(
            "/api/v1/metering/units",
            &json!({"uscc": bad, "name_zh": "丙", "region_code": "990101"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["field"], "uscc");
    // Duplicate credit code: 409.
    let r = admin
        .post_json(
            "/api/v1/metering/units",
            &json!({"uscc": uscc(1), "name_zh": "重复", "region_code": "990101"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // Tree rules: a child must sit below its parent; unknown energy type is refused.
    let r = admin.post_json("/api/v1/metering/meters", &json!({"unit_id": a, "parent_id": site, "level": "site", "code": "X", "name_zh": "x", "energy_type": "electricity"})).await;
    assert_eq!(r.json()["field"], "level");
    let r = admin.post_json("/api/v1/metering/meters", &json!({"unit_id": a, "level": "device", "code": "Y", "name_zh": "y", "energy_type": "plutonium"})).await;
    assert_eq!(r.json()["field"], "energy_type");
    post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "parent_id": site, "level": "building", "code": "E1", "name_zh": "酿造车间", "energy_type": "electricity"})).await;
    post(&mut admin, "/api/v1/metering/meters", json!({"unit_id": a, "parent_id": site, "level": "building", "code": "E2", "name_zh": "包装车间", "energy_type": "electricity", "status": "planned"})).await;
    // Coverage: electricity sub-unit tier 1 of 2 installed = 50 % < 100 % required.
    let d = admin
        .get(&format!("/api/v1/metering/units/{a}"))
        .await
        .json();
    let rows = d["coverage"]["rows"].as_array().unwrap();
    let sub = rows
        .iter()
        .find(|r| r["energy_type"] == "electricity" && r["tier"] == 1)
        .unwrap();
    assert_eq!(sub["rate"], 50.0);
    assert_eq!(sub["ok"], false);
    assert_eq!(d["coverage"]["compliant"], false);
    assert_eq!(d["meters"].as_array().unwrap().len(), 4);

    // Energy manager bound to A sees A only; B is 404 by URL; B's meter is refused at ingest.
    bind(&e, "energy", a).await;
    let mut em = client(&e, "energy").await;
    let units = em.get("/api/v1/metering/units").await.json();
    assert_eq!(units.as_array().unwrap().len(), 1);
    assert_eq!(units[0]["id"], a);
    assert_eq!(
        em.get(&format!("/api/v1/metering/units/{ub}")).await.status,
        404
    );
    assert_eq!(
        em.get(&format!("/api/v1/metering/meters/{mb}"))
            .await
            .status,
        404
    );
    assert_eq!(
        em.get(&format!("/api/v1/metering/meters/{mb}/series"))
            .await
            .status,
        404
    );
    assert_eq!(
        em.get(&format!("/api/v1/metering/meters/{site}"))
            .await
            .status,
        200
    );
    let r = em.post_json("/api/v1/meters/readings", &json!([{"meter_id": mb, "ts": "2025-01-01T00:00:00+08:00", "value": 1}, {"meter_id": site, "ts": "2025-01-01T00:00:00+08:00", "value": 1}])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["accepted"], 1);
    assert_eq!(r.json()["rejects"][0]["row"], 1);
    assert_eq!(r.json()["rejects"][0]["field"], "meter_id");
    // An energy manager may not register units, nor add meters to another enterprise.
    assert_eq!(
        em.post_json(
            "/api/v1/metering/units",
            &json!({"uscc": uscc(9), "name_zh": "x", "region_code": "990101"})
        )
        .await
        .status,
        403
    );
    let r = em.post_json("/api/v1/metering/meters", &json!({"unit_id": ub, "level": "site", "code": "Z", "name_zh": "z", "energy_type": "water"})).await;
    assert_eq!(r.status, 422);
    // An unbound energy manager sees nothing.
    let mut em2 = client(&e, "energy2").await;
    assert_eq!(
        em2.get("/api/v1/metering/units")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        em2.get(&format!("/api/v1/metering/units/{a}")).await.status,
        404
    );
    // A district viewer sees their district only; a maintainer is forbidden.
    let mut east = client(&e, "east").await;
    let units = east.get("/api/v1/metering/units").await.json();
    assert_eq!(units.as_array().unwrap().len(), 1);
    assert_eq!(units[0]["id"], ub);
    assert_eq!(
        east.get(&format!("/api/v1/metering/meters/{site}"))
            .await
            .status,
        404
    );
    assert_eq!(
        client(&e, "fixer")
            .await
            .get("/api/v1/metering/units")
            .await
            .status,
        403
    );
    // Viewer may not ingest.
    assert_eq!(
        east.post_json("/api/v1/meters/readings", &json!([]))
            .await
            .status,
        403
    );
}

fn day_of(meter: i64, day: &str, f: impl Fn(usize) -> f64) -> Vec<Value> {
    (0..96)
        .map(|i| json!({"meter_id": meter, "ts": format!("{day}T{:02}:{:02}:00+08:00", i / 4, (i % 4) * 15), "value": f(i)}))
        .collect()
}

async fn ingest_is_idempotent_and_late_data_keeps_rollups_consistent(b: Backend) {
    let e = setup(b).await;
    let (_a, _ub, site, _water, mb) = two_units(&e).await;
    let mut admin = client(&e, "admin").await;
    // Day 1 and day 3 of March, out of order; multiplier 2 applies.
    let mut rows = day_of(site, "2025-03-03", |_| 1.0);
    rows.extend(day_of(site, "2025-03-01", |_| 1.0));
    let r = admin
        .post_json("/api/v1/meters/readings", &Value::Array(rows.clone()))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["accepted"], 192);
    assert_eq!(r.json()["changed"], 192);
    // Re-sending the same batch changes nothing.
    let r = admin
        .post_json("/api/v1/meters/readings", &Value::Array(rows))
        .await;
    assert_eq!(r.json()["accepted"], 192);
    assert_eq!(r.json()["changed"], 0);
    let days = admin
        .get(&format!(
            "/api/v1/metering/meters/{site}/series?grain=d&from=2025-03-01&to=2025-04-01"
        ))
        .await
        .json();
    assert_eq!(days.as_array().unwrap().len(), 2);
    assert_eq!(days[0]["value"], 192.0);
    // Late data: day 2 arrives afterwards, and a correction of one interval on day 1.
    let r = admin
        .post_json(
            "/api/v1/meters/readings",
            &Value::Array(day_of(
                site,
                "2025-03-02",
                |i| if i < 48 { 1.0 } else { 0.5 },
            )),
        )
        .await;
    assert_eq!(r.json()["changed"], 96);
    let r = admin
        .post_json(
            "/api/v1/meters/readings",
            &json!([{"meter_id": site, "ts": "2025-03-01T10:00:00+08:00", "value": 11.0}]),
        )
        .await;
    assert_eq!(r.json()["changed"], 1);
    let hours = admin
        .get(&format!(
            "/api/v1/metering/meters/{site}/series?grain=h&from=2025-03-01&to=2025-03-02"
        ))
        .await
        .json();
    assert_eq!(hours.as_array().unwrap().len(), 24);
    assert_eq!(hours[10]["value"], 2.0 * (11.0 + 3.0));
    let months = admin
        .get(&format!(
            "/api/v1/metering/meters/{site}/series?grain=m&from=2025-01-01&to=2026-01-01"
        ))
        .await
        .json();
    assert_eq!(months.as_array().unwrap().len(), 1);
    let expect = 192.0 + 20.0 + 96.0 + 48.0 + 192.0;
    assert_eq!(months[0]["value"], expect);
    let checks = admin
        .get(&format!(
            "/api/v1/metering/meters/{site}/checks?from=2025-03-01&to=2025-03-05"
        ))
        .await
        .json();
    let c = &checks["consistency"][0];
    assert_eq!(c["ok"], true);
    assert_eq!(c["daily_sum"], expect);
    assert_eq!(c["interval_sum"], expect);
    let comp = checks["completeness"].as_array().unwrap();
    assert_eq!(comp.len(), 4);
    assert_eq!(comp[0]["valid"], 96);
    assert_eq!(comp[0]["ok"], true);
    assert_eq!(comp[3]["ok"], false);

    // CSV: header, a bad timestamp, a bad value, an unknown meter, an over-limit value (stored,
    // flagged, kept out of the rollup); the good rows are stored.
    let csv = format!(
        "meter_id,timestamp,value\n{mb},2025-03-01 00:00,5\n{mb},yesterday,5\n{mb},2025-03-01 00:15,abc\n999,2025-03-01 00:30,1\n{mb},2025-03-01 00:45,500\n{mb},2025-03-01 01:00,7\n"
    );
    let r = admin
        .request(
            "POST",
            "/api/v1/meters/readings",
            Some("text/csv"),
            csv.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["received"], 6);
    assert_eq!(j["accepted"], 3);
    assert_eq!(j["flagged"], 1);
    assert_eq!(j["rejected"], 3);
    let rej: Vec<(i64, String)> = j["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap(),
                r["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rej,
        vec![
            (2, "timestamp".into()),
            (3, "value".into()),
            (4, "meter_id".into())
        ]
    );
    let d = admin
        .get(&format!(
            "/api/v1/metering/meters/{mb}/series?grain=d&from=2025-03-01&to=2025-03-02"
        ))
        .await
        .json();
    assert_eq!(d[0]["value"], 12.0);
    assert_eq!(d[0]["n"], 2);
    // A JSON body that is not an array is a 422 naming the body.
    let r = admin
        .post_json("/api/v1/meters/readings", &json!({"x": 1}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "body");
    // A bad CSV header is a 422 naming the header.
    let r = admin
        .request(
            "POST",
            "/api/v1/meters/readings",
            Some("text/csv"),
            b"a,b\n1,2\n".to_vec(),
            &[],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "header");
}

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

async fn pages_render_in_both_languages_and_respect_scope(b: Backend) {
    let e = setup(b).await;
    let (a, ub, site, water, mb) = two_units(&e).await;
    bind(&e, "energy", a).await;
    let mut admin = client(&e, "admin").await;
    let mut rows = day_of(water, "2025-06-02", |_| 0.5);
    rows.extend(day_of(water, "2025-06-03", |_| 0.5));
    rows.extend(day_of(site, "2025-06-02", |i| 10.0 + (i % 3) as f64));
    admin
        .post_json("/api/v1/meters/readings", &Value::Array(rows))
        .await;
    admin
        .post_json(
            &format!("/api/v1/metering/meters/{water}/detect?from=2025-06-02&to=2025-06-04"),
            &json!({}),
        )
        .await;
    let mut browser = TestClient::new(e.router.clone());
    let r = browser.login("admin", "password-admin").await;
    assert!(r.status == 303 || r.status == 200);
    for lang in ["zh-CN", "en"] {
        if lang == "en" {
            browser.get("/lang?set=en&next=/app").await;
        }
        for (path, want) in [
            ("/app/metering".to_string(), "990101001"),
            (
                format!("/app/metering/units/{a}"),
                "data-chart=\"chart-sankey\"",
            ),
            (
                format!("/app/metering/meters/{site}"),
                "data-chart=\"chart-heat\"",
            ),
            (
                format!("/app/metering/meters/{water}"),
                "data-chart=\"chart-load\"",
            ),
            ("/app/metering/alerts".to_string(), "/ack"),
        ] {
            let r = browser.get(&path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            assert!(r.body.contains(want), "{path} lacks {want}");
            assert!(
                !r.body.contains(">metering-"),
                "{path} has an untranslated key"
            );
        }
    }
    let r = browser.get(&format!("/app/metering/units/{a}")).await;
    assert!(r.body.contains("Unit boundary"), "English coverage tiers");
    // The energy manager of A gets 404 for B's unit and meter pages; a maintainer 403.
    let mut em = TestClient::new(e.router.clone());
    em.login("energy", "password-energy").await;
    assert_eq!(
        em.get(&format!("/app/metering/units/{a}")).await.status,
        200
    );
    assert_eq!(
        em.get(&format!("/app/metering/units/{ub}")).await.status,
        404
    );
    assert_eq!(
        em.get(&format!("/app/metering/meters/{mb}")).await.status,
        404
    );
    let mut fixer = TestClient::new(e.router.clone());
    fixer.login("fixer", "password-fixer").await;
    assert_eq!(fixer.get("/app/metering").await.status, 403);
    // Acknowledge through the page form (CSRF-protected), recorded in the audit log.
    let alerts = admin.get("/api/v1/metering/alerts").await.json();
    let id = alerts[0]["id"].as_i64().unwrap();
    let r = em
        .post_form(
            &format!("/app/metering/alerts/{id}/ack"),
            &[("note", "已关阀")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let all = admin.get("/api/v1/metering/alerts?status=all").await.json();
    let a0 = all
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(a0["status"], "acked");
    assert_eq!(a0["acked_by"], "energy");
}

/// MQTT end to end against a real broker (`QCITY_TEST_MQTT_URL=mqtt://127.0.0.1:1883`).
#[tokio::test]
#[ignore = "set QCITY_TEST_MQTT_URL and run with --ignored"]
async fn mqtt_readings_are_stored_once() {
    let Ok(url) = std::env::var("QCITY_TEST_MQTT_URL") else {
        return;
    };
    let e = setup(Backend::Sqlite).await;
    let (_a, _ub, site, _water, _mb) = two_units(&e).await;
    tokio::spawn(qcity_metering::mqtt::run(
        e.db.clone(),
        url.clone(),
        format!("t{}", std::process::id()),
    ));
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let (host, port) = qcity_metering::mqtt::parse_url(&url).unwrap();
    let mut o = rumqttc::MqttOptions::new(format!("pub{}", std::process::id()), host, port);
    o.set_keep_alive(std::time::Duration::from_secs(5));
    let (c, mut ev) = rumqttc::AsyncClient::new(o, 100);
    tokio::spawn(async move { while ev.poll().await.is_ok() {} });
    let topic = format!("qcity/990100/meter/{site}/reading");
    for i in 0..10 {
        let body = json!([{"ts": 1_740_000_000 + i * 900, "value": 1.0}]).to_string();
        c.publish(&topic, rumqttc::QoS::AtLeastOnce, false, body.clone())
            .await
            .unwrap();
        // Re-sent duplicates must not double count.
        c.publish(&topic, rumqttc::QoS::AtLeastOnce, false, body)
            .await
            .unwrap();
    }
    let mut n: i64 = 0;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let r = qcity_metering::sql::one(
            &e.db,
            "SELECT COUNT(*) AS n FROM mt_readings WHERE city_id = ? AND meter_id = ?",
            vec![e.city.into(), site.into()],
        )
        .await
        .unwrap()
        .unwrap();
        n = r.try_get("", "n").unwrap();
        if n == 10 {
            break;
        }
    }
    assert_eq!(n, 10);
}
