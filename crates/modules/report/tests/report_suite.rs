//! The report module through the real router, on SQLite always and on PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set. Other modules are stood in for by a fake module that
//! implements the report hooks.

use qcity_platform::Module;
use qcity_platform::auth::Role;
use qcity_platform::feeds::{
    OpenDataset, PublicLink, ReportChart, ReportFigure, ReportSection, ReportTable,
};
use qcity_platform::module::HookError;
use qcity_platform::testing::{Backend, TestClient, TestDb, app, citus_problems, seed_small_city};
use qcity_report::ReportModule;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use qcity_platform::on_both_backends;

on_both_backends!(
    tenant_keys_lead_with_city_id,
    workflow_and_immutability,
    roles_and_scope,
    edits_survive_or_go_stale,
    public_pages_show_only_published,
    open_data_formats,
);

/// Stands in for the evaluation and survey modules. `bump` changes the data.
struct Fake {
    bump: Arc<AtomicU32>,
    fail: bool,
}

/// The composite index of a year: 2024 → 76.8, 2025 → 91.7 (distinctive), 2026 → 55.5.
fn index_of(year: i32) -> f64 {
    match year {
        2023 => 75.2,
        2024 => 76.8,
        2025 => 91.7,
        2026 => 55.5,
        _ => 60.0,
    }
}

fn fig(key: &str, zh: &str, en: &str, v: f64, p: Option<f64>) -> ReportFigure {
    ReportFigure {
        key: key.into(),
        label_zh: zh.into(),
        label_en: en.into(),
        value: Some(v),
        previous: p,
        unit_zh: "分".into(),
        unit_en: "points".into(),
        decimals: 1,
        higher_is_better: true,
        ci: None,
    }
}

#[async_trait::async_trait]
impl Module for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn routes(&self) -> axum::Router<qcity_platform::web::AppState> {
        axum::Router::new()
    }
    async fn report_sections(
        &self,
        _db: &DatabaseConnection,
        _city_id: i64,
        year: i32,
    ) -> Result<Vec<ReportSection>, HookError> {
        if self.fail {
            return Err("fake failure".into());
        }
        let bump = self.bump.load(Ordering::SeqCst) as f64;
        let idx = index_of(year) + bump;
        Ok(vec![
            ReportSection {
                key: "evaluation.index".into(),
                order: 10,
                title_zh: "城市质量发展指数".into(),
                title_en: "City quality development index".into(),
                figures: vec![ReportFigure {
                    unit_zh: String::new(),
                    unit_en: String::new(),
                    ..fig(
                        "CQI",
                        "质量发展指数",
                        "Quality development index",
                        idx,
                        Some(index_of(year - 1)),
                    )
                }],
                tables: vec![ReportTable {
                    key: "districts".into(),
                    title_zh: "各区指数".into(),
                    title_en: "Index by district".into(),
                    columns: vec![
                        ("区".into(), "District".into()),
                        ("指数".into(), "Index".into()),
                    ],
                    rows: vec![
                        vec!["中心区".into(), format!("{idx:.1}")],
                        vec!["东湖区".into(), "70.2".into()],
                    ],
                }],
                charts: vec![
                    ReportChart {
                        key: "map".into(),
                        title_zh: "各区指数地图".into(),
                        title_en: "Index map".into(),
                        option: json!({"series": [{"type": "map", "map": "districts", "data": [{"name": "990101", "value": idx}, {"name": "990102", "value": 70.2}]}]}),
                        needs_map: true,
                    },
                    ReportChart {
                        key: "bar".into(),
                        title_zh: "各区指数".into(),
                        title_en: "Index by district".into(),
                        option: json!({"xAxis": {"type": "category", "data": ["中心区", "东湖区"]}, "yAxis": {"type": "value"}, "series": [{"type": "bar", "data": [idx, 70.2]}]}),
                        needs_map: false,
                    },
                ],
                method_zh: "熵权法加权，几何平均聚合。".into(),
                method_en: "Entropy weights, geometric aggregation.".into(),
            },
            ReportSection {
                key: "survey.satisfaction".into(),
                order: 20,
                title_zh: "市民质量满意度".into(),
                title_en: "Citizen quality satisfaction".into(),
                figures: vec![
                    fig(
                        "CQ-SAT",
                        "市民质量满意度",
                        "Citizen quality satisfaction",
                        82.3,
                        Some(80.7),
                    ),
                    fig("P", "产品质量", "Product quality", 85.1, None),
                    fig("C", "工程质量", "Construction quality", 79.4, None),
                    fig("S", "服务质量", "Service quality", 83.0, None),
                    fig("E", "环境质量", "Environmental quality", 80.2, None),
                    fig("G", "公共管理", "Public management", 76.0, None),
                ],
                tables: vec![],
                charts: vec![ReportChart {
                    key: "domains".into(),
                    title_zh: "五大领域满意度".into(),
                    title_en: "Satisfaction by domain".into(),
                    option: json!({"radar": {"indicator": [{"name": "产品"}, {"name": "工程"}, {"name": "服务"}]}, "series": [{"type": "radar", "data": [{"name": "2025", "value": [85.1, 79.4, 83.0]}]}]}),
                    needs_map: false,
                }],
                method_zh: "样本量1200，有效样本量980。".into(),
                method_en: "n = 1200, n_eff = 980.".into(),
            },
        ])
    }
    async fn open_data(
        &self,
        _db: &DatabaseConnection,
        _city_id: i64,
    ) -> Result<Vec<OpenDataset>, HookError> {
        Ok(vec![OpenDataset {
            key: "CQ-SAT".into(),
            title_zh: "市民质量满意度".into(),
            title_en: "Citizen quality satisfaction".into(),
            passport: json!({"definition_zh": "满意度得分", "definition_en": "satisfaction score", "unit_zh": "分", "unit_en": "points", "source_zh": "满意度测评", "source_en": "survey"}),
            columns: vec!["region_code".into(), "year".into(), "value".into()],
            rows: vec![vec![json!("990100"), json!(2024), json!(82.3)]],
        }])
    }
    async fn public_links(
        &self,
        _db: &DatabaseConnection,
        _city_id: i64,
    ) -> Result<Vec<PublicLink>, HookError> {
        Ok(vec![PublicLink {
            title_zh: "参与2026年质量满意度调查".into(),
            title_en: "Take the 2026 satisfaction survey".into(),
            href: "/s/990100/wave-2026".into(),
        }])
    }
}

struct Env {
    t: TestDb,
    router: axum::Router,
    bump: Arc<AtomicU32>,
}

async fn env(b: Backend) -> Env {
    let bump = Arc::new(AtomicU32::new(0));
    let mods: Vec<Arc<dyn Module>> = vec![
        Arc::new(Fake {
            bump: bump.clone(),
            fail: false,
        }),
        Arc::new(Fake {
            bump: bump.clone(),
            fail: true,
        }),
        Arc::new(ReportModule),
    ];
    let t = TestDb::migrated(b, &mods).await;
    seed_small_city(
        &t.db,
        &[
            ("analyst", Role::Analyst, "990100"),
            ("officer", Role::DataOfficer, "990102"),
            ("inspector", Role::Inspector, "990100"),
        ],
    )
    .await;
    let (_st, router) = app(&t, mods);
    Env { t, router, bump }
}

async fn signed_in(e: &Env, who: &str) -> TestClient {
    let mut c = TestClient::new(e.router.clone());
    let r = c.login(who, &format!("password-{who}")).await;
    assert_eq!(r.status, 303, "login {who}: {}", r.body);
    // A page with the session's CSRF token.
    c.get("/app").await;
    c
}

async fn create(c: &mut TestClient, year: i32, note: &str) -> String {
    let r = c
        .post_json(
            "/api/v1/reports",
            &json!({"year": year, "change_note": note}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

async fn step(c: &mut TestClient, id: &str, action: &str) -> qcity_platform::testing::TestResponse {
    c.post_json(
        &format!("/api/v1/reports/{id}/workflow"),
        &json!({"action": action}),
    )
    .await
}

async fn publish(c: &mut TestClient, year: i32, note: &str) -> String {
    let id = create(c, year, note).await;
    assert_eq!(step(c, &id, "submit").await.status, 200);
    let r = step(c, &id, "publish").await;
    assert_eq!(r.status, 200, "{}", r.body);
    id
}

/// The raw bytes of a GET (the test client's body is text).
async fn get_bytes(router: &axum::Router, path: &str, lang: &str) -> (u16, Vec<u8>) {
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .uri(path)
        .header("cookie", format!("qcity_lang={lang}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

/// Every file of a zip as text.
fn unzip_text(bytes: &[u8]) -> Vec<(String, String)> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            (f.name().unwrap().to_string(), text)
        })
        .collect()
}

async fn tenant_keys_lead_with_city_id(b: Backend) {
    let e = env(b).await;
    let problems = citus_problems(&e.t.db, &[]).await;
    assert!(problems.is_empty(), "{problems:?}");
}

async fn workflow_and_immutability(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let id = create(&mut c, 2025, "").await;
    let v = c.get(&format!("/api/v1/reports/{id}")).await.json();
    assert_eq!(v["status"], "draft");
    assert_eq!(v["version"], 1);
    // The failing module is named, the others' sections are there.
    assert_eq!(v["snapshot"]["unavailable"], json!(["fake"]));
    assert_eq!(v["snapshot"]["sections"].as_array().unwrap().len(), 2);
    // Narrative generated from the figures, both languages.
    let overview = &v["narrative"][0];
    assert_eq!(overview["key"], "overview");
    assert!(
        overview["text_zh"]
            .as_str()
            .unwrap()
            .starts_with("2025年全市质量发展指数为91.7，比上年提高14.9"),
        "{overview}"
    );
    assert!(
        overview["text_en"]
            .as_str()
            .unwrap()
            .contains("quality development index was 91.7, up 14.9")
    );
    // Publishing straight from draft is refused; a second open version too.
    assert_eq!(step(&mut c, &id, "publish").await.status, 409);
    let r = c.post_json("/api/v1/reports", &json!({"year": 2025})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(step(&mut c, &id, "submit").await.status, 200);
    // In review the text is frozen.
    let r = c
        .post_json(
            &format!("/api/v1/reports/{id}/narrative"),
            &json!({"key": "overview", "text_zh": "x", "text_en": "y"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(step(&mut c, &id, "return").await.status, 200);
    assert_eq!(step(&mut c, &id, "submit").await.status, 200);
    let r = step(&mut c, &id, "publish").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "published");
    // Published: every change is refused, by the store and by the database itself.
    for action in ["submit", "return", "publish"] {
        assert_eq!(step(&mut c, &id, action).await.status, 409, "{action}");
    }
    let r = c
        .post_json(
            &format!("/api/v1/reports/{id}/narrative"),
            &json!({"key": "overview", "text_zh": "x", "text_en": "y"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        c.post_json(&format!("/api/v1/reports/{id}/regenerate"), &json!({}))
            .await
            .status,
        409
    );
    let db = &e.t.db;
    let backend = db.get_database_backend();
    let upd = db
        .execute_unprepared(&format!(
            "UPDATE report_versions SET change_note = 'tampered' WHERE id = {id}"
        ))
        .await;
    assert!(upd.is_err(), "the database let a published version change");
    let del = db
        .execute_unprepared(&format!("DELETE FROM report_versions WHERE id = {id}"))
        .await;
    assert!(
        del.is_err(),
        "the database let a published version be deleted"
    );
    // A correction needs a change note and becomes version 2.
    let r = c.post_json("/api/v1/reports", &json!({"year": 2025})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["field"], "change_note");
    let id2 = create(&mut c, 2025, "更正东湖区数据").await;
    let v2 = c.get(&format!("/api/v1/reports/{id2}")).await.json();
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["change_note"], "更正东湖区数据");
    // Bad input names the field.
    let r = c.post_json("/api/v1/reports", &json!({"year": 1800})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "year");
    // Every step is in the audit log.
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'report_version'".to_string(),
        ))
        .await
        .unwrap();
    let n: i64 = rows[0].try_get("", "n").unwrap();
    assert!(n >= 6, "audit rows: {n}");
}

async fn roles_and_scope(b: Backend) {
    let e = env(b).await;
    let mut analyst = signed_in(&e, "analyst").await;
    let id = create(&mut analyst, 2025, "").await;
    assert_eq!(step(&mut analyst, &id, "submit").await.status, 200);
    // A district officer does not see city reports at all: 404 by URL and by API.
    let mut officer = signed_in(&e, "officer").await;
    assert_eq!(
        officer.get(&format!("/api/v1/reports/{id}")).await.status,
        404
    );
    assert_eq!(officer.get("/api/v1/reports").await.status, 404);
    assert_eq!(officer.get(&format!("/app/reports/{id}")).await.status, 404);
    assert_eq!(officer.get("/app/reports").await.status, 404);
    assert_eq!(step(&mut officer, &id, "publish").await.status, 404);
    // A city-wide inspector may read but neither edit nor publish.
    let mut insp = signed_in(&e, "inspector").await;
    assert_eq!(insp.get(&format!("/api/v1/reports/{id}")).await.status, 200);
    assert_eq!(step(&mut insp, &id, "publish").await.status, 403);
    assert_eq!(
        insp.post_json("/api/v1/reports", &json!({"year": 2024}))
            .await
            .status,
        403
    );
    // Unknown and malformed ids are 404.
    assert_eq!(analyst.get("/api/v1/reports/123").await.status, 404);
    assert_eq!(analyst.get("/api/v1/reports/abc").await.status, 404);
    // Not signed in: 401 for the API, the login page for pages.
    let mut anon = TestClient::new(e.router.clone());
    assert_eq!(anon.get("/api/v1/reports").await.status, 401);
    assert_eq!(anon.get(&format!("/app/reports/{id}")).await.status, 303);
}

async fn edits_survive_or_go_stale(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let id = create(&mut c, 2025, "").await;
    // Edit the survey block through the page form.
    let page = c.get(&format!("/app/reports/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("在5项中，产品质量最高"),
        "ranking sentence missing"
    );
    let r = c
        .post_form(
            &format!("/app/reports/{id}/narrative"),
            &[
                ("key", "survey.satisfaction"),
                ("text_zh", "分析员改写的满意度段落。"),
                ("text_en", "The analyst's paragraph."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = c
        .post_json(
            &format!("/api/v1/reports/{id}/narrative"),
            &json!({"key": "overview", "text_zh": "总体改写。", "text_en": "Rewritten overview."}),
        )
        .await;
    assert_eq!(r.status, 200);
    // Regenerating with the same data keeps both edits.
    let v = c
        .post_json(&format!("/api/v1/reports/{id}/regenerate"), &json!({}))
        .await
        .json();
    let block = |v: &serde_json::Value, k: &str| {
        v["narrative"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(
        block(&v, "survey.satisfaction")["text_zh"],
        "分析员改写的满意度段落。"
    );
    assert_eq!(block(&v, "overview")["text_en"], "Rewritten overview.");
    assert_eq!(v["stale_blocks"], 0);
    // The index changes: the overview (which quotes it) goes stale, the survey edit stays.
    e.bump.store(2, Ordering::SeqCst);
    let v = c
        .post_json(&format!("/api/v1/reports/{id}/regenerate"), &json!({}))
        .await
        .json();
    let o = block(&v, "overview");
    assert_eq!(o["stale"], true);
    assert_eq!(o["previous_en"], "Rewritten overview.");
    assert!(o["text_zh"].as_str().unwrap().contains("93.7"), "{o}");
    assert_eq!(
        block(&v, "survey.satisfaction")["text_zh"],
        "分析员改写的满意度段落。"
    );
    assert_eq!(v["stale_blocks"], 1);
    // The analyst is told, and cannot submit until the block is reviewed.
    let page = c.get(&format!("/app/reports/{id}")).await;
    assert!(page.body.contains("data-testid=\"stale-warning\""));
    let r = step(&mut c, &id, "submit").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["field"], "narrative");
    // Accepting the generated text clears it.
    let r = c
        .post_form(
            &format!("/app/reports/{id}/narrative"),
            &[("key", "overview"), ("reset", "1")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(step(&mut c, &id, "submit").await.status, 200);
    // Workflow through the page forms.
    let r = c
        .post_form(
            &format!("/app/reports/{id}/workflow"),
            &[("action", "publish")],
        )
        .await;
    assert_eq!(r.status, 303);
    let v = c.get(&format!("/api/v1/reports/{id}")).await.json();
    assert_eq!(v["status"], "published");
    let list = c.get("/app/reports").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("data-status=\"published\""));
}

async fn public_pages_show_only_published(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    publish(&mut c, 2024, "").await;
    // 2025: draft (its index 91.7 must never be public); 2026: in review (55.5).
    create(&mut c, 2025, "").await;
    let id26 = create(&mut c, 2026, "").await;
    assert_eq!(step(&mut c, &id26, "submit").await.status, 200);
    // A correction of 2024 in draft with changed data (78.8) is not public either.
    e.bump.store(2, Ordering::SeqCst);
    create(&mut c, 2024, "修订").await;

    let mut anon = TestClient::new(e.router.clone());
    let r = anon.get("/").await;
    assert!(matches!(r.status, 303 | 307 | 308), "{}", r.status);
    assert_eq!(r.location(), Some("/p/990100"));
    let home = anon.get("/p/990100").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("76.8"), "published headline missing");
    assert!(
        home.body.contains("/s/990100/wave-2026"),
        "survey link missing"
    );
    assert!(
        home.body
            .contains("data-geo=\"/p/990100/districts.geojson\"")
    );
    for secret in ["91.7", "55.5", "78.8"] {
        assert!(
            !home.body.contains(secret),
            "unpublished {secret} on the portal"
        );
    }
    let rep = anon.get("/p/990100/reports/2024").await;
    assert_eq!(rep.status, 200);
    assert!(
        rep.body
            .contains("2024年全市质量发展指数为76.8，比上年提高1.6")
    );
    assert!(!rep.body.contains("78.8"));
    // The cached page carries this visitor's CSRF token, never the placeholder.
    assert!(!home.body.contains(qcity_report::cache::CSRF_SLOT));
    let token = anon.cookies.get("qcity_csrf").cloned().unwrap_or_default();
    assert!(
        token.len() >= 32 && home.body.contains(&token),
        "csrf token"
    );
    let mut other = TestClient::new(e.router.clone());
    let home2 = other.get("/p/990100").await;
    let token2 = other.cookies.get("qcity_csrf").cloned().unwrap_or_default();
    assert!(token2 != token && home2.body.contains(&token2) && !home2.body.contains(&token));
    for url in [
        "/p/990100/reports/2025",
        "/p/990100/reports/2025.pdf",
        "/p/990100/reports/2026",
        "/p/990100/reports/2026.pdf",
        "/p/990100/reports/2023",
        "/p/990100/reports/+2025",
        "/p/990100/reports/%32%30%32%35",
        "/p/990100/reports/2025.PDF",
        "/p/990100/reports/2025.pdf.pdf",
        "/p/990100/reports/abc",
        "/p/990100/reports/2024.exe",
        "/p/999900",
        "/p/abc",
        "/p/990100%00",
        "/p/999900/reports/2024",
        "/p/999900/data",
        "/p/999900/data/all.zip",
        "/p/999900/districts.geojson",
        "/p/990100/data/report-2025-evaluation.index-figures.csv",
        "/p/990100/data/report-2026-evaluation.index-figures.json",
        "/p/990100/data/report-2025-survey.satisfaction-figures.xlsx",
        "/p/990100/data/report-2026-evaluation.index-chart-map.csv",
        "/p/990100/data/report-2024-evaluation.index-figures.pdf",
        "/p/990100/data/..%2Freport-2025-evaluation.index-figures.csv",
        "/p/990100/data/nothing.csv",
        "/api/v1/public/999900/indicators",
    ] {
        assert_eq!(anon.get(url).await.status, 404, "{url}");
    }
    let api = anon.get("/api/v1/public/990100/indicators").await;
    assert_eq!(api.status, 200);
    let body = api.body.clone();
    assert!(body.contains("76.8"));
    for secret in ["91.7", "55.5", "78.8", "report-2025", "report-2026"] {
        assert!(!body.contains(secret), "unpublished {secret} in open data");
    }
    let data = anon.get("/p/990100/data").await;
    assert_eq!(data.status, 200);
    assert!(data.body.contains("report-2024-evaluation.index-figures"));
    assert!(!data.body.contains("report-2025"));
    let geo = anon.get("/p/990100/districts.geojson").await;
    assert_eq!(geo.status, 200);
    assert_eq!(geo.json()["type"], "FeatureCollection");
    // The zip of all open data: published datasets only, in every file.
    let (status, zip) = get_bytes(&e.router, "/p/990100/data/all.zip", "zh-CN").await;
    assert_eq!(status, 200);
    let files = unzip_text(&zip);
    assert!(
        files
            .iter()
            .any(|(n, _)| n == "report-2024-evaluation.index-figures.csv")
    );
    for (name, text) in &files {
        for secret in ["91.7", "55.5", "78.8", "report-2025", "report-2026"] {
            assert!(
                !name.contains(secret) && !text.contains(secret),
                "unpublished {secret} in {name}"
            );
        }
    }

    // Publishing invalidates the portal's cache at once: the pages read above are cached,
    // and the 2026 report (in review until now) shows on the next request.
    let r = step(&mut c, &id26, "publish").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let home = anon.get("/p/990100").await;
    assert!(
        home.body.contains("55.5"),
        "new publication not on the portal"
    );
    assert_eq!(anon.get("/p/990100/reports/2026").await.status, 200);
    let api = anon.get("/api/v1/public/990100/indicators").await.body;
    assert!(api.contains("report-2026") && api.contains("55.5"));
    let data = anon.get("/p/990100/data").await;
    assert!(data.body.contains("report-2026-evaluation.index-figures"));
    let (_, zip) = get_bytes(&e.router, "/p/990100/data/all.zip", "zh-CN").await;
    assert!(
        unzip_text(&zip)
            .iter()
            .any(|(n, _)| n == "report-2026-evaluation.index-figures.csv")
    );
    // Still nothing of the 2025 draft or the 2024 correction (91.7 is now public as the
    // 2026 report's previous-year value).
    for body in [&home.body, &api, &data.body] {
        for secret in ["78.8", "report-2025"] {
            assert!(
                !body.contains(secret),
                "unpublished {secret} after a publication"
            );
        }
    }
    for url in ["/p/990100/reports/2025", "/p/990100/reports/2025.pdf"] {
        assert_eq!(anon.get(url).await.status, 404, "{url}");
    }
    // The language switch applies to the public pages.
    anon.cookies.insert("qcity_lang".into(), "en".into());
    let en = anon.get("/p/990100/reports/2024").await;
    assert!(
        en.body
            .contains("In 2024 the city&#39;s quality development index was 76.8")
            || en
                .body
                .contains("In 2024 the city's quality development index was 76.8"),
        "english narrative missing"
    );

    // The PDF: typeset (with the `pdf` feature); without it, a clear server error.
    anon.cookies.remove("qcity_lang");
    let pdf = anon
        .request("GET", "/p/990100/reports/2024.pdf", None, Vec::new(), &[])
        .await;
    if pdf.status == 500 && !qcity_report::pdf::font_path().exists() {
        eprintln!(
            "SKIPPED PDF check: no CJK font in {}",
            qcity_report::pdf::font_path().display()
        );
        return;
    }
    if cfg!(feature = "pdf") {
        assert_eq!(pdf.status, 200, "{}", pdf.body);
        assert_eq!(pdf.headers["content-type"], "application/pdf");
    } else {
        assert_eq!(pdf.status, 500);
    }
}

async fn open_data_formats(b: Backend) {
    let e = env(b).await;
    let mut c = signed_in(&e, "analyst").await;
    publish(&mut c, 2024, "").await;
    let mut anon = TestClient::new(e.router.clone());
    let csv = anon
        .get("/p/990100/data/report-2024-evaluation.index-figures.csv")
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with('\u{feff}'), "CSV without BOM");
    assert!(csv.body.contains("indicator,label_zh,label_en,year,value"));
    assert!(
        csv.body
            .contains("CQI,质量发展指数,Quality development index,2024,76.8,75.2")
    );
    let j = anon.get("/p/990100/data/CQ-SAT.json").await.json();
    assert_eq!(j["passport"]["unit_zh"], "分");
    let chart = anon
        .get("/p/990100/data/report-2024-evaluation.index-chart-map.csv")
        .await;
    assert_eq!(chart.status, 200);
    assert!(chart.body.contains("中心区,76.8"), "{}", chart.body);
    let x = anon
        .get("/p/990100/data/report-2024-evaluation.index-districts.xlsx")
        .await;
    assert_eq!(x.status, 200);
    assert!(x.body.as_bytes().starts_with(b"PK"));
    let z = anon.get("/p/990100/data/all.zip").await;
    assert_eq!(z.status, 200);
    assert!(z.body.as_bytes().starts_with(b"PK"));
}

/// The values of the headline tiles of a report page (`<div class="v" data-key=…>VALUE</div>`
/// inside `data-testid="headlines"`).
fn headline_values(page: &str) -> Vec<String> {
    let start = page
        .find("data-testid=\"headlines\"")
        .expect("headlines on the page");
    let block = &page[start..];
    let block = &block[..block.find("</section>").unwrap_or(block.len())];
    block
        .split("<div class=\"v\" data-key=\"")
        .skip(1)
        .filter_map(|p| {
            let p = &p[p.find("\">")? + 2..];
            Some(p[..p.find("</div>")?].trim().to_string())
        })
        .collect()
}

/// The PDF's extracted text contains the headline figures of the HTML page, in Chinese and in
/// English (needs `pdftotext` and the CJK font; skipped with a message otherwise).
#[cfg(feature = "pdf")]
#[tokio::test]
async fn pdf_text_has_headline_figures() {
    if std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: pdftotext (poppler-utils) is not installed");
        return;
    }
    if !qcity_report::pdf::font_path().exists() {
        eprintln!(
            "SKIPPED: no CJK font at {} (fonts-noto-cjk)",
            qcity_report::pdf::font_path().display()
        );
        return;
    }
    let e = env(Backend::Sqlite).await;
    let mut c = signed_in(&e, "analyst").await;
    publish(&mut c, 2024, "").await;
    for (lang, must) in [
        (
            "zh-CN",
            vec![
                "示范市2024年城市质量状况分析报告",
                "目录",
                "质量发展指数",
                "2024年全市质量发展指数为76.8",
                "方法说明",
                "熵权法加权",
                "各区指数",
                "中心区",
            ],
        ),
        (
            "en",
            vec![
                "Demo City Quality Report 2024",
                "Contents",
                "quality development index was 76.8",
                "Method notes",
                "Entropy weights",
            ],
        ),
    ] {
        let (status, page) = get_bytes(&e.router, "/p/990100/reports/2024", lang).await;
        assert_eq!(status, 200);
        let heads = headline_values(&String::from_utf8(page).unwrap());
        assert_eq!(heads.len(), 2, "{heads:?}");
        if lang == "zh-CN" {
            assert_eq!(heads, vec!["76.8".to_string(), "82.3分".to_string()]);
        } else {
            assert_eq!(heads, vec!["76.8".to_string(), "82.3 points".to_string()]);
        }
        let (status, bytes) = get_bytes(&e.router, "/p/990100/reports/2024.pdf", lang).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        assert!(bytes.starts_with(b"%PDF"));
        let dir =
            std::env::temp_dir().join(format!("qcity-report-pdf-{}-{lang}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.pdf");
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new("pdftotext")
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let nospace: String = text.split_whitespace().collect();
        for m in heads.iter().map(String::as_str).chain(must) {
            let m_nospace: String = m.split_whitespace().collect();
            assert!(
                flat.contains(m) || nospace.contains(&m_nospace),
                "PDF ({lang}) lacks `{m}`:\n{text}"
            );
        }
        // Page numbers: several pages, and the contents page lists a section with its page.
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .collect();
        assert!(pages.len() >= 3, "{} pages", pages.len());
        let last_line_numbers: Vec<String> = pages
            .iter()
            .skip(1)
            .filter_map(|p| p.lines().rev().find(|l| !l.trim().is_empty()))
            .map(|l| l.trim().to_string())
            .collect();
        assert!(
            last_line_numbers.iter().any(|l| l == "2")
                && last_line_numbers.iter().any(|l| l == "3"),
            "page numbers missing: {last_line_numbers:?}"
        );
        // The charts are images (SVG, with their labels as text): the district names appear
        // in the chart of the map data as well as the table.
        assert!(
            nospace.matches("中心区").count() >= 2 || lang == "en",
            "chart labels missing"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
