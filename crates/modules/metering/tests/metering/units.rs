//! Units and the meter tree, scoping, the tenant keys and the pages.

use qcity_platform::on_both_backends;
use qcity_platform::testing::{Backend, TestClient, TestDb, citus_problems, seed_small_city};
use serde_json::{Value, json};

use super::common::*;

on_both_backends!(
    tenant_keys_lead_with_city_id,
    units_meters_coverage_and_scoping,
    pages_render_in_both_languages_and_respect_scope
);

/// The migration that clusters the hot tables on their primary key (SQLite) keeps every reading
/// and rollup of a database created before it, bit for bit, and leaves keys and foreign keys as
/// they were.
#[tokio::test]
async fn clustering_migration_keeps_every_row() {
    use qcity_platform::migration::migrate;
    use qcity_platform::testing::all_migrations;
    use sea_orm::ConnectionTrait;
    let t = TestDb::new(Backend::Sqlite).await;
    let all = all_migrations(&modules());
    let last = "m0503_metering_hot_tables_clustered";
    // The schema as it was then: without this step and the ones after it.
    let before: Vec<_> = all_migrations(&modules())
        .into_iter()
        .take_while(|m| m.name() != last)
        .collect();
    migrate(&t.db, &before).await.unwrap();
    let city = seed_small_city(&t.db, &[]).await;
    let now = "2025-01-01T00:00:00Z";
    t.db.execute_unprepared(&format!(
        "INSERT INTO mt_units VALUES ({city}, 1, 'u', '单位', 'Unit', 'C', '990101', '', 't', NULL, NULL, '{now}');
         INSERT INTO mt_meters VALUES ({city}, 7, 1, NULL, 'main', 'M', '总表', 'Main', 'electricity', 'kWh', 15, 1.0, NULL, 'installed', '990101', '{now}');"
    ))
    .await
    .unwrap();
    let mut values = Vec::new();
    for k in 0..2000_i64 {
        let v = if k % 97 == 0 {
            "NULL".to_string()
        } else {
            format!("{}", k as f64 / 7.0)
        };
        values.push(format!(
            "({city}, 7, {}, {}, {v}, 'valid', NULL, 1)",
            1_735_660_800 + k * 900,
            k as f64 / 7.0
        ));
    }
    t.db.execute_unprepared(&format!(
        "INSERT INTO mt_readings VALUES {}",
        values.join(",")
    ))
    .await
    .unwrap();
    t.db.execute_unprepared(
        "INSERT INTO mt_rollups SELECT city_id, meter_id, 'h', ts - ts % 3600, COALESCE(SUM(value), 0), COUNT(value) FROM mt_readings GROUP BY city_id, meter_id, ts - ts % 3600",
    )
    .await
    .unwrap();
    let snapshot = |q: &'static str| {
        let db = t.db.clone();
        async move {
            let rows = db
                .query_all_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    q,
                ))
                .await
                .unwrap();
            rows.iter()
                .map(|r| {
                    (
                        r.try_get_by_index::<i64>(0).unwrap(),
                        r.try_get_by_index::<Option<f64>>(1)
                            .unwrap()
                            .map(f64::to_bits),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let readings_q = "SELECT ts, value FROM mt_readings ORDER BY city_id, meter_id, ts";
    let rollups_q =
        "SELECT bucket, value FROM mt_rollups ORDER BY city_id, meter_id, grain, bucket";
    let (r0, u0) = (snapshot(readings_q).await, snapshot(rollups_q).await);
    assert_eq!((r0.len(), u0.len()), (2000, 500));
    let ran = migrate(&t.db, &all).await.unwrap();
    assert_eq!(ran[0], last);
    assert_eq!(snapshot(readings_q).await, r0);
    assert_eq!(snapshot(rollups_q).await, u0);
    for table in ["mt_readings", "mt_rollups"] {
        let sql =
            t.db.query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                format!("SELECT sql FROM sqlite_master WHERE name = '{table}'"),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap();
        assert!(
            sql.starts_with(&format!("CREATE TABLE \"{table}\"")),
            "{sql}"
        );
        assert!(sql.ends_with("WITHOUT ROWID"), "{sql}");
        assert!(sql.contains("REFERENCES \"mt_meters\""), "{sql}");
    }
    assert_eq!(citus_problems(&t.db, &[]).await, Vec::<String>::new());
    // The foreign key still holds.
    let orphan =
        t.db.execute_unprepared(&format!(
            "INSERT INTO mt_readings VALUES ({city}, 999, 0, 1, 1, 'valid', NULL, 1)"
        ))
        .await;
    assert!(
        orphan.is_err(),
        "a reading of an unknown meter was accepted"
    );
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
