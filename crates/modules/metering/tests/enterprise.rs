//! Key energy-consuming units and the platform's register of market entities (市场主体), on
//! SQLite and (with `QCITY_TEST_POSTGRES_URL`) PostgreSQL: the migration links today's units by
//! credit code (registering the enterprise when missing) or by exact name and leaves the rest
//! NULL; a new unit is linked (found or registered by its code); the enterprise's page shows
//! the units and their meters through the module hook.

use qcity_metering::MeteringModule;
use qcity_platform::Module;
use qcity_platform::auth::{Role, token};
use qcity_platform::enterprise::uscc::with_check_char;
use qcity_platform::migration;
use qcity_platform::store::sql;
use qcity_platform::testing::{Backend, TestClient, TestDb, all_migrations, app, seed_small_city};
use serde_json::json;
use std::sync::Arc;

use qcity_platform::on_both_backends;

on_both_backends!(
    the_migration_links_existing_units,
    new_units_are_linked_and_shown_on_the_enterprise_page,
);

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(MeteringModule)]
}

fn code(seq: u32) -> String {
    with_check_char(&format!("91990101MB{seq:07}"))
        .unwrap()
        .as_str()
        .to_string()
}

async fn one_i64(db: &sea_orm::DatabaseConnection, q: &str, v: Vec<sea_orm::Value>) -> Option<i64> {
    sql::one(db, q, v)
        .await
        .unwrap()
        .and_then(|r| r.try_get::<Option<i64>>("", "n").unwrap())
}

async fn the_migration_links_existing_units(b: Backend) {
    // The schema as it was before the register: every migration but metering's link step.
    let t = TestDb::new(b).await;
    let all = all_migrations(&modules());
    let before: Vec<_> = all_migrations(&modules())
        .into_iter()
        .filter(|m| m.name() != "m0504_metering_units_enterprise")
        .collect();
    assert_eq!(before.len() + 1, all.len());
    migration::migrate(&t.db, &before).await.unwrap();
    let city = seed_small_city(&t.db, &[]).await;
    // One enterprise already registered (by code), one by name only.
    let known = code(1);
    sql::exec(
        &t.db,
        "INSERT INTO enterprises (city_id, id, credit_code, name, region_code, created_at, updated_at) VALUES (?, 100, ?, '已登记啤酒厂', '990101', ?, ?), (?, 200, ?, '同名纸业', '990102', ?, ?)",
        vec![
            city.into(), known.clone().into(), chrono::Utc::now().into(), chrono::Utc::now().into(),
            city.into(), code(2).into(), chrono::Utc::now().into(), chrono::Utc::now().into(),
        ],
    )
    .await
    .unwrap();
    // Units as today's rows: a registered code, a code the register lacks, a bad code whose
    // name matches one enterprise exactly, and a bad code with no name match.
    let bad = {
        let mut c: Vec<char> = code(9).chars().collect();
        c[17] = if c[17] == '0' { '1' } else { '0' };
        c.into_iter().collect::<String>()
    };
    for (id, uscc, name, region) in [
        (1i64, known.clone(), "啤酒厂（旧名）", "990101"),
        (2, code(3), "新登记化工", "990101001"),
        (3, bad.clone(), "同名纸业", "990102"),
        (4, format!("{}X", &bad[..17]), "无从关联", "990102"),
    ] {
        sql::exec(
            &t.db,
            "INSERT INTO mt_units (city_id, id, uscc, name_zh, name_en, industry, region_code, address, output_unit, value_added_10k_yuan, annual_tce, created_at) VALUES (?, ?, ?, ?, '', '', ?, '', '', NULL, NULL, ?)",
            vec![city.into(), id.into(), uscc.into(), name.into(), region.into(), chrono::Utc::now().into()],
        )
        .await
        .unwrap();
    }
    let ran = migration::migrate(&t.db, &all).await.unwrap();
    assert_eq!(ran, ["m0504_metering_units_enterprise"]);
    let linked = |id: i64| {
        let db = t.db.clone();
        async move {
            one_i64(
                &db,
                "SELECT enterprise_id AS n FROM mt_units WHERE city_id = ? AND id = ?",
                vec![city.into(), id.into()],
            )
            .await
        }
    };
    assert_eq!(linked(1).await, Some(100), "by credit code");
    let created = linked(2).await.expect("registered and linked");
    assert_eq!(linked(3).await, Some(200), "by exact name");
    assert_eq!(linked(4).await, None, "kept NULL");
    let r = sql::one(
        &t.db,
        "SELECT credit_code, name, region_code FROM enterprises WHERE city_id = ? AND id = ?",
        vec![city.into(), created.into()],
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(r.try_get::<String>("", "credit_code").unwrap(), code(3));
    assert_eq!(r.try_get::<String>("", "name").unwrap(), "新登记化工");
    assert_eq!(r.try_get::<String>("", "region_code").unwrap(), "990101001");
    // Only the one missing enterprise was registered, and that is audited as the migration.
    assert_eq!(
        one_i64(
            &t.db,
            "SELECT COUNT(*) AS n FROM enterprises WHERE city_id = ?",
            vec![city.into()]
        )
        .await,
        Some(3)
    );
    let r = sql::one(
        &t.db,
        "SELECT actor_kind, actor_name FROM audit_log WHERE city_id = ? AND action = 'platform.enterprise.create'",
        vec![city.into()],
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(r.try_get::<String>("", "actor_kind").unwrap(), "system");
    assert!(
        r.try_get::<String>("", "actor_name")
            .unwrap()
            .contains("m0504")
    );
    // Running the link again finds nothing left but the unlinkable row, and reports it.
    let report = qcity_metering::migration::link_units(&t.db).await.unwrap();
    assert_eq!(report.unlinked, vec![(4, "无从关联".to_string())]);
    assert_eq!((report.by_code, report.created, report.by_name), (0, 0, 0));
}

async fn new_units_are_linked_and_shown_on_the_enterprise_page(b: Backend) {
    let t = TestDb::migrated(b, &modules()).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("admin", Role::Admin, "990100"),
            ("east", Role::Inspector, "990102"),
        ],
    )
    .await;
    let (_, router) = app(&t, modules());
    let u = qcity_platform::store::users::by_username(&t.db, city, "admin")
        .await
        .unwrap()
        .unwrap();
    let (_, tok) = token::issue(&t.db, city, u.id, "t").await.unwrap();
    let mut admin = TestClient::with_bearer(router.clone(), &tok);
    // An enterprise already in the register: a unit with its code links to it.
    let r = admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": code(20), "name": "清泉啤酒有限公司", "region_code": "990101"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let ent = r.json()["id"].as_i64().unwrap();
    let r = admin
        .post_json(
            "/api/v1/metering/units",
            &json!({"uscc": code(20), "name_zh": "清泉啤酒厂", "industry": "C1513", "region_code": "990101"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["enterprise_id"], ent);
    let unit = r.json()["id"].as_i64().unwrap();
    for code in ["E1", "E2"] {
        let r = admin
            .post_json(
                "/api/v1/metering/meters",
                &json!({"unit_id": unit, "level": "site", "code": code, "name_zh": "总表", "energy_type": "electricity"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    // A unit whose code the register lacks: the enterprise is registered (and audited).
    let r = admin
        .post_json(
            "/api/v1/metering/units",
            &json!({"uscc": code(21), "name_zh": "东湖纸业", "region_code": "990102"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let new_ent = r.json()["enterprise_id"].as_i64().expect("linked");
    let v = admin
        .get(&format!("/api/v1/enterprises/{new_ent}"))
        .await
        .json();
    assert_eq!(
        (v["credit_code"].clone(), v["name"].clone()),
        (json!(code(21)), json!("东湖纸业"))
    );
    // The enterprise's page shows the unit and its two meters.
    let mut page = TestClient::new(router.clone());
    page.login("admin", "password-admin").await;
    let r = page.get(&format!("/app/enterprises/{ent}")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("重点用能单位"), "{}", r.body);
    assert!(
        r.body
            .contains(&format!("href=\"/app/metering/units/{unit}\"")),
        "{}",
        r.body
    );
    assert!(r.body.contains("计量器具 2"), "{}", r.body);
    // A district user sees the other enterprise's page, without units outside their district.
    let mut east = TestClient::new(router);
    east.login("east", "password-east").await;
    assert_eq!(
        east.get(&format!("/app/enterprises/{ent}")).await.status,
        404
    );
    let r = east.get(&format!("/app/enterprises/{new_ent}")).await;
    assert!(r.body.contains("东湖纸业") && r.body.contains("/app/metering/units/"));
}
