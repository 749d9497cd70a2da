//! Maintenance companies and use units and the platform's register of market entities (市场主体),
//! on SQLite and (with `QCITY_TEST_POSTGRES_URL`) PostgreSQL: the migration links today's rows by
//! exact name and leaves the rest NULL (reported); new companies and equipment are linked (found
//! or registered by credit code, else by name); the enterprise's page shows the equipment it
//! uses and maintains through the module hook, inside the reader's region.

mod common;

use common::*;
use qcity_platform::audit::Actor;
use qcity_platform::enterprise::uscc::with_check_char;
use qcity_platform::migration;
use qcity_platform::store::sql;
use qcity_platform::testing::{Backend, TestClient, TestDb, all_migrations, seed_small_city};
use serde_json::json;

use qcity_platform::on_both_backends;

on_both_backends!(
    the_migration_links_companies_and_use_units_by_name,
    new_rows_are_linked_and_the_enterprise_page_shows_the_equipment,
);

fn code(seq: u32) -> String {
    with_check_char(&format!("91990101MC{seq:07}"))
        .unwrap()
        .as_str()
        .to_string()
}

async fn the_migration_links_companies_and_use_units_by_name(b: Backend) {
    let t = TestDb::new(b).await;
    let all = all_migrations(&modules());
    let before: Vec<_> = all_migrations(&modules())
        .into_iter()
        .filter(|m| m.name() != "m0303_equipment_enterprise")
        .collect();
    assert_eq!(before.len() + 1, all.len());
    migration::migrate(&t.db, &before).await.unwrap();
    let city = seed_small_city(&t.db, &[]).await;
    let now = chrono::Utc::now();
    // The register: a company, a use unit, and a name two enterprises share.
    for (id, seq, name, region) in [
        (100i64, 1u32, "甲维保", "990101"),
        (200, 2, "幸福物业", "990101"),
        (300, 3, "重名物业", "990101"),
        (301, 4, "重名物业", "990102"),
    ] {
        sql::exec(
            &t.db,
            "INSERT INTO enterprises (city_id, id, credit_code, name, region_code, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![city.into(), id.into(), code(seq).into(), name.into(), region.into(), now.into(), now.into()],
        )
        .await
        .unwrap();
    }
    for (id, name) in [(1i64, "甲维保"), (2, "未登记维保")] {
        sql::exec(
            &t.db,
            "INSERT INTO eq_companies (city_id, id, name_zh, name_en, license_no, duty_phone, contract_until, engineers, address, lon, lat, region_code, created_at) VALUES (?, ?, ?, '', ?, '0599-1', NULL, 1, '', NULL, NULL, '990101', ?)",
            vec![city.into(), id.into(), name.into(), format!("L{id}").into(), now.into()],
        )
        .await
        .unwrap();
    }
    for (id, use_unit) in [
        (11i64, "幸福物业"),
        (12, "幸福物业"),
        (13, "重名物业"),
        (14, "无名物业"),
    ] {
        sql::exec(
            &t.db,
            "INSERT INTO eq_equipment (city_id, id, category, variety, name, use_unit, use_unit_phone, company_id, address, region_code, status, attributes, open_defects, created_at, updated_at) VALUES (?, ?, '3000', '3110', '梯', ?, '', 1, '', '990101', 'in_use', '{}', ?, ?, ?)",
            vec![city.into(), id.into(), use_unit.into(), false.into(), now.into(), now.into()],
        )
        .await
        .unwrap();
    }
    let ran = migration::migrate(&t.db, &all).await.unwrap();
    assert_eq!(ran, ["m0303_equipment_enterprise"]);
    let col = |table: &'static str, col: &'static str, id: i64| {
        let db = t.db.clone();
        async move {
            sql::one(
                &db,
                &format!("SELECT {col} AS n FROM {table} WHERE city_id = ? AND id = ?"),
                vec![city.into(), id.into()],
            )
            .await
            .unwrap()
            .unwrap()
            .try_get::<Option<i64>>("", "n")
            .unwrap()
        }
    };
    assert_eq!(col("eq_companies", "enterprise_id", 1).await, Some(100));
    assert_eq!(col("eq_companies", "enterprise_id", 2).await, None);
    assert_eq!(
        col("eq_equipment", "use_unit_enterprise_id", 11).await,
        Some(200)
    );
    assert_eq!(
        col("eq_equipment", "use_unit_enterprise_id", 12).await,
        Some(200)
    );
    assert_eq!(
        col("eq_equipment", "use_unit_enterprise_id", 13).await,
        None,
        "two of that name"
    );
    assert_eq!(
        col("eq_equipment", "use_unit_enterprise_id", 14).await,
        None
    );
    // Nothing was registered (these rows have no credit code), and the rest is reported.
    let n: i64 = sql::one(&t.db, "SELECT COUNT(*) AS n FROM enterprises", vec![])
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(n, 4);
    let report = qcity_equipment::enterprise::link_by_name(&t.db, &Actor::System("test".into()))
        .await
        .unwrap();
    assert_eq!(
        report.companies.unlinked,
        vec![(2, "未登记维保".to_string())]
    );
    assert_eq!(
        report.use_units_unlinked,
        vec![("无名物业".to_string(), 1), ("重名物业".to_string(), 1)]
    );
    assert_eq!(report.use_units_linked, 2);
}

async fn new_rows_are_linked_and_the_enterprise_page_shows_the_equipment(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    // A company with a credit code: registered in the register and linked.
    let r = admin
        .post_json(
            "/api/v1/equipment/companies",
            &json!({"name_zh": "丁电梯维保有限公司", "license_no": "LD", "duty_phone": "0599-4444444", "region_code": "990101", "credit_code": code(10)}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let company = r.json()["id"].as_i64().unwrap();
    let maint = r.json()["enterprise_id"].as_i64().expect("linked");
    let v = admin
        .get(&format!("/api/v1/enterprises/{maint}"))
        .await
        .json();
    assert_eq!(
        (v["credit_code"].clone(), v["name"].clone()),
        (json!(code(10)), json!("丁电梯维保有限公司"))
    );
    // A bad credit code names its field, and nothing is stored.
    let r = admin
        .post_json(
            "/api/v1/equipment/companies",
            &json!({"name_zh": "坏码", "license_no": "LX", "duty_phone": "0599-4444444", "region_code": "990101", "credit_code": "91350100M000100Y44"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (422, json!("credit_code"))
    );
    assert!(
        !admin
            .get("/api/v1/equipment/companies")
            .await
            .body
            .contains("坏码")
    );
    // An elevator whose use unit gives its code: the use unit is registered and linked.
    let mut body = elevator("31001", "990101", company, 1);
    body["use_unit"] = json!("幸福物业服务有限公司");
    body["use_unit_credit_code"] = json!(code(11));
    let r = admin.post_json("/api/v1/equipment", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let user = r.json()["use_unit_enterprise_id"].as_i64().expect("linked");
    let first = r.json()["id"].as_i64().unwrap();
    // A second one without a code, same name: linked by name. One in the other district too.
    let mut body = elevator("31002", "990101", company, 2);
    body["use_unit"] = json!("幸福物业服务有限公司");
    let r = admin.post_json("/api/v1/equipment", &body).await;
    assert_eq!(r.json()["use_unit_enterprise_id"], user);
    let mut body = elevator("31003", "990102", company, 3);
    body["use_unit"] = json!("幸福物业服务有限公司");
    let r = admin.post_json("/api/v1/equipment", &body).await;
    assert_eq!(r.json()["use_unit_enterprise_id"], user);
    // A bad use-unit code names its field.
    let mut body = elevator("31004", "990101", company, 4);
    body["use_unit_credit_code"] = json!("9135010 M000100Y43");
    let r = admin.post_json("/api/v1/equipment", &body).await;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (422, json!("use_unit_credit_code"))
    );
    // The use unit's page: 3 elevators it uses; the company's page: 3 it maintains.
    let mut page = TestClient::new(e.router.clone());
    page.login("admin", "password-admin").await;
    let r = page.get(&format!("/app/enterprises/{user}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("使用的特种设备 <span class=\"badge\">3</span>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(&format!("href=\"/app/equipment/registry/{first}\""))
    );
    assert!(r.body.contains("31001"));
    let r = page.get(&format!("/app/enterprises/{maint}")).await;
    assert!(
        r.body
            .contains("维保的特种设备 <span class=\"badge\">3</span>"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("使用的特种设备"));
    // A reader of district 990102 sees the use unit's elevator in their district only... and
    // not the enterprise itself, which is registered in 990101.
    let mut east = TestClient::new(e.router.clone());
    east.login("east", "password-east").await;
    assert_eq!(
        east.get(&format!("/app/enterprises/{user}")).await.status,
        404
    );
}
