//! The register of market entities (市场主体) through the real router, on SQLite and (with
//! `QCITY_TEST_POSTGRES_URL`) PostgreSQL: credit-code validation (422 naming `credit_code`),
//! duplicates (409), region scope (a district sees and patches only its own: 404 otherwise),
//! audited writes, import all-or-nothing with row and column, the export's formula guard, the
//! pages (add, the error for a bad code, search, edit) and the module hook on the view page.

use qcity_platform::auth::{Role, token};
use qcity_platform::enterprise::EnterpriseSection;
use qcity_platform::enterprise::uscc::with_check_char;
use qcity_platform::i18n::Tr;
use qcity_platform::module::HookError;
use qcity_platform::testing::{Backend, TestClient, TestDb, app, seed_small_city};
use qcity_platform::web::AppState;
use qcity_platform::{Module, enterprise::EnterpriseItem};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use std::sync::Arc;

use qcity_platform::on_both_backends;

on_both_backends!(
    create_validates_the_credit_code_and_refuses_a_duplicate,
    a_district_sees_and_patches_only_its_own_enterprises,
    patch_changes_given_fields_and_is_audited,
    import_is_all_or_nothing_and_names_row_and_column,
    export_neutralises_formulas,
    pages_add_show_the_code_error_search_and_edit,
    the_view_page_shows_every_module_hook,
);

/// Published valid codes (checked by hand in `enterprise::uscc`'s tests).
const VALID: &str = "91350100M000100Y43";
const ALIBABA: &str = "91330100799655058B";
const TENCENT: &str = "9144030071526726XG";

/// A valid code with body `91990101MA{seq:07}` (the check character computed).
fn code(seq: u32) -> String {
    with_check_char(&format!("91990101MA{seq:07}"))
        .unwrap()
        .as_str()
        .to_string()
}

/// `code` with a wrong check character.
fn corrupted(code: &str) -> String {
    let mut c: Vec<char> = code.chars().collect();
    c[17] = if c[17] == '0' { '1' } else { '0' };
    c.into_iter().collect()
}

struct Env {
    t: TestDb,
    router: axum::Router,
    city: i64,
}

async fn env(b: Backend, modules: Vec<Arc<dyn Module>>) -> Env {
    let t = TestDb::migrated(b, &modules).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("admin", Role::Admin, "990100"),
            ("west", Role::Inspector, "990101"),
            ("east", Role::Inspector, "990102"),
            ("eastofficer", Role::DataOfficer, "990102"),
            ("viewer", Role::Viewer, "990100"),
            ("energy", Role::EnergyManager, "990100"),
        ],
    )
    .await;
    let (_, router) = app(&t, modules);
    Env { t, router, city }
}

impl Env {
    async fn bearer(&self, name: &str) -> TestClient {
        let u = qcity_platform::store::users::by_username(&self.t.db, self.city, name)
            .await
            .unwrap()
            .unwrap();
        let (_, tok) = token::issue(&self.t.db, self.city, u.id, "test")
            .await
            .unwrap();
        TestClient::with_bearer(self.router.clone(), &tok)
    }
    async fn count(&self, sql: &str) -> i64 {
        qcity_platform::store::sql::one(&self.t.db, sql, vec![self.city.into()])
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap()
    }
}

async fn patch(c: &mut TestClient, path: &str, v: &Value) -> qcity_platform::testing::TestResponse {
    c.request(
        "PATCH",
        path,
        Some("application/json"),
        v.to_string().into_bytes(),
        &[],
    )
    .await
}

fn is_problem(r: &qcity_platform::testing::TestResponse) -> bool {
    r.headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("") == "application/problem+json")
}

async fn create_validates_the_credit_code_and_refuses_a_duplicate(b: Backend) {
    let e = env(b, vec![]).await;
    let mut admin = e.bearer("admin").await;
    for good in [VALID, ALIBABA, TENCENT] {
        let r = admin
            .post_json(
                "/api/v1/enterprises",
                &json!({"credit_code": good, "name": format!("企业{good}"), "region_code": "990101", "industry": "C1513", "kind": "有限责任公司"}),
            )
            .await;
        assert_eq!(r.status, 201, "{good}: {}", r.body);
        let v = r.json();
        assert_eq!(v["credit_code"], good);
        assert!(v["id"].as_i64().is_some());
        assert_eq!(v["industry"], "C1513");
        assert!(v["address"].is_null());
    }
    for bad in [
        corrupted(VALID),
        corrupted(ALIBABA),
        "91350100M000100Y4".to_string(),
        "91350100MO00100Y43".to_string(),
        String::new(),
    ] {
        let r = admin
            .post_json(
                "/api/v1/enterprises",
                &json!({"credit_code": bad, "name": "坏代码", "region_code": "990101"}),
            )
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert!(is_problem(&r));
        assert_eq!(r.json()["field"], "credit_code", "{bad}");
        assert_eq!(r.json()["code"], "validation_failed");
    }
    // The same code again (lower case, padded: the same code) is 409 problem+json.
    let r = admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": format!(" {} ", VALID.to_lowercase()), "name": "又一个", "region_code": "990102"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(is_problem(&r));
    assert_eq!(r.json()["code"], "conflict");
    // A region that does not exist, an empty name.
    let r = admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": code(1), "name": "x", "region_code": "990199"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (422, json!("region_code"))
    );
    let r = admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": code(1), "name": " ", "region_code": "990101"}),
        )
        .await;
    assert_eq!((r.status, r.json()["field"].clone()), (422, json!("name")));
    // A missing field is a 422 naming it too (the platform's JSON extractor).
    let r = admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"name": "x", "region_code": "990101"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["field"], "credit_code");
    // Nothing but the three good ones was stored, and each creation is audited.
    assert_eq!(
        e.count("SELECT COUNT(*) AS n FROM enterprises WHERE city_id = ?")
            .await,
        3
    );
    assert_eq!(
        e.count("SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND action = 'platform.enterprise.create'").await,
        3
    );
    // Only those who keep the register write; a viewer reads; an energy manager does neither.
    let mut viewer = e.bearer("viewer").await;
    let r = viewer
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": code(2), "name": "x", "region_code": "990101"}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(viewer.get("/api/v1/enterprises").await.json()["total"], 3);
    assert_eq!(
        e.bearer("energy")
            .await
            .get("/api/v1/enterprises")
            .await
            .status,
        403
    );
    // Lookup by credit code.
    let r = admin
        .get(&format!("/api/v1/enterprises?credit_code={ALIBABA}"))
        .await;
    assert_eq!(r.json()["total"], 1);
    assert_eq!(r.json()["items"][0]["credit_code"], ALIBABA);
}

async fn a_district_sees_and_patches_only_its_own_enterprises(b: Backend) {
    let e = env(b, vec![]).await;
    let mut admin = e.bearer("admin").await;
    let mut ids = Vec::new();
    for (i, region) in ["990101", "990101001", "990102"].iter().enumerate() {
        let r = admin
            .post_json(
                "/api/v1/enterprises",
                &json!({"credit_code": code(10 + i as u32), "name": format!("企业{i}"), "region_code": region}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.json()["id"].as_i64().unwrap());
    }
    let mut west = e.bearer("west").await;
    let mut east = e.bearer("east").await;
    let names = |v: Value| {
        let mut n: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(
        names(west.get("/api/v1/enterprises").await.json()),
        ["企业0", "企业1"]
    );
    assert_eq!(
        names(east.get("/api/v1/enterprises").await.json()),
        ["企业2"]
    );
    // The region filter cannot widen the scope.
    assert_eq!(
        names(west.get("/api/v1/enterprises?region=990102").await.json()),
        Vec::<String>::new()
    );
    assert_eq!(
        names(
            admin
                .get("/api/v1/enterprises?region=990101001")
                .await
                .json()
        ),
        ["企业1"]
    );
    // Another district's enterprise: 404 to read, to patch, and by page; nothing changes.
    let other = ids[2];
    let r = west.get(&format!("/api/v1/enterprises/{other}")).await;
    assert_eq!(r.status, 404);
    assert!(is_problem(&r));
    let r = patch(
        &mut west,
        &format!("/api/v1/enterprises/{other}"),
        &json!({"name": "被改"}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(is_problem(&r));
    // Even for a role that may not write at all, outside the scope is 404 (existence not told).
    let r = patch(
        &mut e.bearer("viewer").await,
        "/api/v1/enterprises/1",
        &json!({}),
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        east.get(&format!("/api/v1/enterprises/{other}"))
            .await
            .json()["name"],
        "企业2"
    );
    // Moving one's own enterprise into another district is refused.
    let r = patch(
        &mut west,
        &format!("/api/v1/enterprises/{}", ids[0]),
        &json!({"region_code": "990102"}),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (422, json!("region_code"))
    );
    // Creating in another district is refused too.
    let r = west
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": code(20), "name": "越界", "region_code": "990102"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (422, json!("region_code"))
    );
    // The pages say the same.
    let mut page = TestClient::new(e.router.clone());
    page.login("west", "password-west").await;
    assert_eq!(
        page.get(&format!("/app/enterprises/{other}")).await.status,
        404
    );
    assert_eq!(
        page.get(&format!("/app/enterprises/{other}/edit"))
            .await
            .status,
        404
    );
    let r = page.get("/app/enterprises").await;
    assert!(
        r.body.contains("企业0") && !r.body.contains("企业2"),
        "{}",
        r.body
    );
    let r = page
        .post_form(
            &format!("/app/enterprises/{other}"),
            &[
                ("name", "被改"),
                ("credit_code", &code(12)),
                ("region_code", "990102"),
            ],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        east.get(&format!("/api/v1/enterprises/{other}"))
            .await
            .json()["name"],
        "企业2"
    );
}

async fn patch_changes_given_fields_and_is_audited(b: Backend) {
    let e = env(b, vec![]).await;
    let mut admin = e.bearer("admin").await;
    let r = admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": VALID, "name": "甲公司", "region_code": "990101", "address": "一路1号", "legal_rep": "张三"}),
        )
        .await;
    let id = r.json()["id"].as_i64().unwrap();
    admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": ALIBABA, "name": "乙公司", "region_code": "990101"}),
        )
        .await;
    let path = format!("/api/v1/enterprises/{id}");
    let r = patch(
        &mut admin,
        &path,
        &json!({"name": "甲公司（新）", "address": ""}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["name"], "甲公司（新）");
    assert!(v["address"].is_null(), "an empty string clears");
    assert_eq!(v["legal_rep"], "张三", "an absent field stays");
    assert_eq!(v["credit_code"], VALID);
    // A bad code, another's code, an unknown field.
    let r = patch(&mut admin, &path, &json!({"credit_code": corrupted(VALID)})).await;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (422, json!("credit_code"))
    );
    let r = patch(&mut admin, &path, &json!({"credit_code": ALIBABA})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(is_problem(&r));
    let r = patch(&mut admin, &path, &json!({"nmae": "typo"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = patch(&mut admin, "/api/v1/enterprises/not-a-number", &json!({})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(is_problem(&r));
    // One audited update, with the values before and after.
    let row = qcity_platform::store::sql::one(
        &e.t.db,
        "SELECT before, after, entity_id FROM audit_log WHERE city_id = ? AND action = 'platform.enterprise.update'",
        vec![e.city.into()],
    )
    .await
    .unwrap()
    .unwrap();
    let before: Value =
        serde_json::from_str(&row.try_get::<String>("", "before").unwrap()).unwrap();
    let after: Value = serde_json::from_str(&row.try_get::<String>("", "after").unwrap()).unwrap();
    assert_eq!(
        row.try_get::<String>("", "entity_id").unwrap(),
        id.to_string()
    );
    assert_eq!(
        (before["name"].clone(), after["name"].clone()),
        (json!("甲公司"), json!("甲公司（新）"))
    );
    assert_eq!(
        (before["address"].clone(), after["address"].clone()),
        (json!("一路1号"), Value::Null)
    );
    assert_eq!(
        e.count("SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND action = 'platform.enterprise.update'").await,
        1
    );
}

async fn import_is_all_or_nothing_and_names_row_and_column(b: Backend) {
    let e = env(b, vec![]).await;
    let mut admin = e.bearer("admin").await;
    admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": VALID, "name": "旧名", "region_code": "990101"}),
        )
        .await;

    // Row 3 has a corrupted code (column B: the columns are in another order than the
    // export's), row 4 repeats row 2's code, row 5 names a region that does not exist.
    let bad = format!(
        "name,credit_code,region_code,address\n甲,{a},990101,一路\n乙,{b},990102,二路\n丙,{a},990101,\n丁,{c},990199,\n",
        a = code(30),
        b = corrupted(&code(31)),
        c = code(32)
    );
    let r = upload(&mut admin, bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(is_problem(&r));
    let v = r.json();
    assert_eq!(
        (v["row"].clone(), v["column"].clone(), v["field"].clone()),
        (json!(3), json!("B"), json!("credit_code"))
    );
    let detail = v["detail"].as_str().unwrap();
    assert!(detail.contains("row 4, column B (credit_code)"), "{detail}");
    assert!(detail.contains("row 5, column C (region_code)"), "{detail}");
    // Nothing was stored, nothing audited.
    assert_eq!(
        e.count("SELECT COUNT(*) AS n FROM enterprises WHERE city_id = ?")
            .await,
        1
    );
    assert_eq!(
        e.count("SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND action = 'platform.enterprise.import'").await,
        0
    );
    // A missing required column names row 1.
    let r = upload(&mut admin, "name,region_code\n甲,990101\n".into()).await;
    assert_eq!(
        (r.status, r.json()["row"].clone(), r.json()["field"].clone()),
        (422, json!(1), json!("credit_code"))
    );
    // A good file with Chinese headers: one new, one update of the registered code.
    let good = format!(
        "统一社会信用代码,名称,区划代码,法定代表人\n{a},甲,990101001,李四\n{v},新名,990101,\n",
        a = code(30),
        v = VALID
    );
    let r = upload(&mut admin, good).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json(), json!({"created": 1, "updated": 1}));
    let r = admin
        .get(&format!("/api/v1/enterprises?credit_code={VALID}"))
        .await;
    assert_eq!(r.json()["items"][0]["name"], "新名");
    assert_eq!(
        e.count("SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND action = 'platform.enterprise.import'").await,
        1
    );
    // A district user cannot import into (or over) another district.
    let mut east = e.bearer("east").await;
    let r = upload(
        &mut east,
        format!("credit_code,name,region_code\n{},x,990101\n", code(40)),
    )
    .await;
    assert_eq!((r.status, r.json()["column"].clone()), (422, json!("C")));
    let r = upload(
        &mut east,
        format!("credit_code,name,region_code\n{VALID},x,990102\n"),
    )
    .await;
    assert_eq!(
        (
            r.status,
            r.json()["column"].clone(),
            r.json()["row"].clone()
        ),
        (422, json!("A"), json!(2))
    );
    assert_eq!(
        e.count("SELECT COUNT(*) AS n FROM enterprises WHERE city_id = ?")
            .await,
        2
    );
    // XLSX goes through the same path (the platform's upload module tells it apart).
    let sheet = qcity_platform::testing::sheet_xml(
        None,
        &[
            (
                1,
                &format!(
                    "{}{}{}",
                    qcity_platform::testing::text_cell("A1", "credit_code"),
                    qcity_platform::testing::text_cell("B1", "name"),
                    qcity_platform::testing::text_cell("C1", "region_code")
                ),
            ),
            (
                2,
                &format!(
                    "{}{}{}",
                    qcity_platform::testing::text_cell("A2", &code(41)),
                    qcity_platform::testing::text_cell("B2", "表格企业"),
                    qcity_platform::testing::text_cell("C2", "990102")
                ),
            ),
        ],
    );
    let xlsx = qcity_platform::testing::xlsx_with_sheet(&sheet);
    let r = east
        .request(
            "POST",
            "/api/v1/enterprises/import",
            Some("application/octet-stream"),
            xlsx,
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["created"], 1);
}

async fn export_neutralises_formulas(b: Backend) {
    let e = env(b, vec![]).await;
    let mut admin = e.bearer("admin").await;
    let r = admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": VALID, "name": "=HYPERLINK(\"http://evil.example\",\"点我\")", "region_code": "990101", "address": "@SUM(A1)", "legal_rep": "-1+2", "industry": "+cmd"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": ALIBABA, "name": "正常企业", "region_code": "990102"}),
        )
        .await;
    let r = admin.get("/api/v1/enterprises/export.csv").await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = r.body.trim_start_matches('\u{feff}');
    let mut rd = csv::Reader::from_reader(body.as_bytes());
    let head: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        head,
        [
            "credit_code",
            "name",
            "region_code",
            "address",
            "legal_rep",
            "industry",
            "kind"
        ]
    );
    let rows: Vec<Vec<String>> = rd
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    let evil = rows.iter().find(|r| r[0] == VALID).unwrap();
    assert_eq!(evil[1], "'=HYPERLINK(\"http://evil.example\",\"点我\")");
    assert_eq!(evil[3], "'@SUM(A1)");
    assert_eq!(evil[4], "'-1+2");
    assert_eq!(evil[5], "'+cmd");
    // The export is region-scoped and filtered like the list.
    let r = e
        .bearer("east")
        .await
        .get("/api/v1/enterprises/export.csv")
        .await;
    assert!(r.body.contains("正常企业") && !r.body.contains("HYPERLINK"));
    let r = admin
        .get("/api/v1/enterprises/export.csv?q=%E6%AD%A3%E5%B8%B8")
        .await;
    assert!(r.body.contains("正常企业") && !r.body.contains("HYPERLINK"));
    // And the file imports back (the quote stays part of the text: nothing runs).
    let r = admin
        .request(
            "POST",
            "/api/v1/enterprises/import",
            Some("text/csv"),
            body.as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["updated"], 2);
}

async fn pages_add_show_the_code_error_search_and_edit(b: Backend) {
    let e = env(b, vec![]).await;
    let mut c = TestClient::new(e.router.clone());
    c.login("eastofficer", "password-eastofficer").await;
    let r = c.get("/app/enterprises/new").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("name=\"_csrf\""));
    assert!(r.body.contains("统一社会信用代码"));
    // A bad code: the form comes back (422) with the error next to the code, values kept.
    let bad = corrupted(TENCENT);
    let r = c
        .post_form(
            "/app/enterprises",
            &[
                ("credit_code", &bad),
                ("name", "东湖电梯维保有限公司"),
                ("region_code", "990102"),
                ("address", ""),
                ("legal_rep", ""),
                ("industry", ""),
                ("kind", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("data-testid=\"error-credit_code\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("校验码"));
    assert!(r.body.contains("东湖电梯维保有限公司"), "the name is kept");
    // Without the CSRF token nothing happens.
    let r = c
        .post_form_raw(
            "/app/enterprises",
            &[
                ("credit_code".into(), TENCENT.into()),
                ("name".into(), "x".into()),
                ("region_code".into(), "990102".into()),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = c
        .post_form(
            "/app/enterprises",
            &[
                ("credit_code", TENCENT),
                ("name", "东湖电梯维保有限公司"),
                ("region_code", "990102"),
                ("address", "东湖路8号"),
                ("legal_rep", ""),
                ("industry", "O8111"),
                ("kind", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.location().unwrap().to_string();
    assert!(loc.starts_with("/app/enterprises/"), "{loc}");
    let r = c.get(&loc).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(TENCENT) && r.body.contains("东湖路8号"));
    // Twice: 409 on the form.
    c.get("/app/enterprises/new").await;
    let r = c
        .post_form(
            "/app/enterprises",
            &[
                ("credit_code", TENCENT),
                ("name", "重复"),
                ("region_code", "990102"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("已登记"));
    // Search by part of the name and by code; the English page too.
    let r = c.get("/app/enterprises?q=%E7%BB%B4%E4%BF%9D").await;
    assert!(r.body.contains("东湖电梯维保有限公司"), "{}", r.body);
    assert!(r.body.contains("data-testid=\"total\">1<"));
    let r = c
        .get(&format!("/app/enterprises?q={}", &TENCENT[..10]))
        .await;
    assert!(r.body.contains("东湖电梯维保有限公司"));
    let r = c.get("/app/enterprises?q=%E6%B2%A1%E6%9C%89").await;
    assert!(r.body.contains("data-testid=\"total\">0<"));
    c.get("/lang?set=en").await;
    let r = c.get("/app/enterprises").await;
    assert!(r.body.contains("Market entities") && r.body.contains("Unified social credit code"));
    // Edit through the form; audited.
    let id = loc.rsplit('/').next().unwrap();
    c.get(&format!("/app/enterprises/{id}/edit")).await;
    let r = c
        .post_form(
            &format!("/app/enterprises/{id}"),
            &[
                ("credit_code", TENCENT),
                ("name", "东湖电梯维保有限公司"),
                ("region_code", "990102"),
                ("address", "东湖路9号"),
                ("legal_rep", "王五"),
                ("industry", "O8111"),
                ("kind", "有限责任公司"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let v = e
        .bearer("admin")
        .await
        .get(&format!("/api/v1/enterprises/{id}"))
        .await
        .json();
    assert_eq!(
        (v["address"].clone(), v["legal_rep"].clone()),
        (json!("东湖路9号"), json!("王五"))
    );
    assert_eq!(
        e.count("SELECT COUNT(*) AS n FROM audit_log WHERE city_id = ? AND action LIKE 'platform.enterprise.%'").await,
        2
    );
    // The import page carries its form; a viewer gets none of the write pages.
    assert!(
        c.get("/app/enterprises/import")
            .await
            .body
            .contains("/api/v1/enterprises/import")
    );
    let mut v = TestClient::new(e.router.clone());
    v.login("viewer", "password-viewer").await;
    assert_eq!(v.get("/app/enterprises").await.status, 200);
    assert_eq!(v.get("/app/enterprises/new").await.status, 403);
    assert_eq!(v.get("/app/enterprises/import").await.status, 403);
}

/// A module that knows the enterprises it was told of (the hook as equipment and metering
/// implement it, without their tables).
struct Knows {
    name: &'static str,
    of: i64,
}

#[async_trait::async_trait]
impl Module for Knows {
    fn name(&self) -> &'static str {
        self.name
    }
    fn routes(&self) -> axum::Router<AppState> {
        axum::Router::new()
    }
    async fn enterprise_sections(
        &self,
        _db: &DatabaseConnection,
        _city_id: i64,
        region_prefix: &str,
        enterprise_id: i64,
        t: &Tr,
    ) -> Result<Vec<EnterpriseSection>, HookError> {
        if enterprise_id != self.of {
            return Ok(Vec::new());
        }
        if self.name == "broken" {
            return Err("the module's database is away".into());
        }
        Ok(vec![EnterpriseSection {
            title: format!("{}-{}-{}", self.name, t.code(), region_prefix),
            total: 3,
            items: vec![EnterpriseItem {
                label: format!("{} item", self.name),
                detail: "<b>escaped</b>".into(),
                href: Some("/app/somewhere/1".into()),
            }],
        }])
    }
}

async fn the_view_page_shows_every_module_hook(b: Backend) {
    // The ids are made before the modules are: create first, then build the router.
    let base = env(b, vec![]).await;
    let mut admin = base.bearer("admin").await;
    let a = admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": VALID, "name": "甲", "region_code": "990101"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let b_id = admin
        .post_json(
            "/api/v1/enterprises",
            &json!({"credit_code": ALIBABA, "name": "乙", "region_code": "990101"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let modules: Vec<Arc<dyn Module>> = vec![
        Arc::new(Knows {
            name: "alpha",
            of: a,
        }),
        Arc::new(Knows {
            name: "broken",
            of: a,
        }),
        Arc::new(Knows {
            name: "beta",
            of: a,
        }),
    ];
    let (_, router) = app(&base.t, modules);
    let mut c = TestClient::new(router);
    c.login("west", "password-west").await;
    let r = c.get(&format!("/app/enterprises/{a}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body.matches("data-testid=\"enterprise-section\"").count(),
        2,
        "{}",
        r.body
    );
    assert!(r.body.contains("alpha-zh-CN-990101") && r.body.contains("beta-zh-CN-990101"));
    assert!(r.body.contains("href=\"/app/somewhere/1\""));
    assert!(!r.body.contains("<b>escaped"), "{}", r.body);
    // 3 in all, 1 shown: the rest is counted.
    assert!(r.body.contains("另有 2"), "{}", r.body);
    let r = c.get(&format!("/app/enterprises/{b_id}")).await;
    assert!(r.body.contains("data-testid=\"enterprise-no-sections\""));
}

async fn upload(c: &mut TestClient, body: String) -> qcity_platform::testing::TestResponse {
    c.request(
        "POST",
        "/api/v1/enterprises/import",
        Some("text/csv"),
        body.into_bytes(),
        &[],
    )
    .await
}
