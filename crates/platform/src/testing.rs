//! Test support shared by every crate's tests: a fresh database per test on SQLite or
//! PostgreSQL, and an in-process router with helpers to sign in.

use crate::config::Config;
use crate::migration::{self, MigrationTrait};
use crate::module::Module;
use crate::web::{self, AppState};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::sync::Arc;

/// A fresh, empty database for one test.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    _dir: Option<TempDir>,
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "qcity-{tag}-{}-{}",
            std::process::id(),
            crate::ids::random_token(6)
        ));
        let _ = std::fs::create_dir_all(&p);
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Which backend a behavioural test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        }
    }

    /// A new SQLite file in a temporary directory (WAL, foreign keys on).
    pub async fn sqlite() -> TestDb {
        let dir = TempDir::new("db");
        let url = format!("sqlite://{}?mode=rwc", dir.0.join("t.sqlite").display());
        let db = crate::db::connect_url(&url, 4, "normal")
            .await
            .expect("open sqlite");
        TestDb {
            db,
            url,
            _dir: Some(dir),
        }
    }

    /// A new database on the server named by `QCITY_TEST_POSTGRES_URL`.
    pub async fn postgres() -> TestDb {
        let base = std::env::var("QCITY_TEST_POSTGRES_URL")
            .expect("QCITY_TEST_POSTGRES_URL must be set for PostgreSQL tests");
        let admin = crate::db::connect_url(&base, 1, "full")
            .await
            .expect("connect to PostgreSQL");
        let name = format!("qcity_t_{}", crate::ids::new_id());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = with_database(&base, &name);
        let db = crate::db::connect_url(&url, 4, "full")
            .await
            .expect("connect to test database");
        TestDb {
            db,
            url,
            _dir: None,
        }
    }

    /// Applies the platform's and the given modules' migrations.
    pub async fn migrated(backend: Backend, modules: &[Arc<dyn Module>]) -> TestDb {
        let t = TestDb::new(backend).await;
        migration::migrate(&t.db, &all_migrations(modules))
            .await
            .expect("migrate");
        t
    }
}

/// `url` with its database name replaced by `name` (query string kept).
/// Runs each named behaviour `async fn NAME(b: Backend)` as two tests, `NAME::sqlite` and
/// `NAME::postgres`: one behavioural suite for both backends. The PostgreSQL test is ignored
/// unless the calling crate was built with `QCITY_TEST_POSTGRES_URL` set (its build script
/// turns on `cfg(qcity_pg)`).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::testing::Backend::Sqlite).await
            }
            #[tokio::test]
            #[cfg_attr(not(qcity_pg), ignore = "set QCITY_TEST_POSTGRES_URL to run on PostgreSQL")]
            async fn postgres() {
                super::$name($crate::testing::Backend::Postgres).await
            }
        }
    )*};
}

/// Cases per property of a fuzz test: `PROPTEST_CASES` when set (long runs: `fuzz/run.sh`),
/// else `default` (what `cargo test` runs every time).
pub fn fuzz_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn with_database(url: &str, name: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let (head, rest) = url.split_at(after_scheme);
    let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    format!("{head}{authority}/{name}{query}")
}

/// Platform migrations followed by the modules'.
pub fn all_migrations(modules: &[Arc<dyn Module>]) -> Vec<Box<dyn MigrationTrait>> {
    let mut v = migration::platform_migrations();
    for m in modules {
        v.extend(m.migrations());
    }
    v
}

/// A test configuration (fast, deterministic).
pub fn test_config() -> Config {
    let mut c = Config::default();
    c.security.login_max_failures = 5;
    c
}

/// The application state and router over a migrated database.
pub fn app(db: &TestDb, modules: Vec<Arc<dyn Module>>) -> (AppState, axum::Router) {
    let st = AppState::new(db.db.clone(), test_config(), modules);
    let r = web::router(st.clone());
    (st, r)
}

/// Every violation of the tenant-key rule (Citus readiness): a tenant table whose primary key,
/// foreign keys or unique indexes do not lead with (or, for unique indexes, include) `city_id`.
/// `reference` names further shared tables without `city_id`.
pub async fn citus_problems(db: &DatabaseConnection, reference_extra: &[&str]) -> Vec<String> {
    use sea_orm::{DbBackend, Statement};
    let mut reference: Vec<&str> = crate::migration::PG_TENANT_REFERENCE_TABLES.to_vec();
    reference.extend_from_slice(reference_extra);
    let mut problems = Vec::new();
    let q = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_string());
    match db.get_database_backend() {
        DbBackend::Postgres => {
            // Primary keys, foreign keys and unique constraints with their column lists in order.
            let rows = db
                .query_all_raw(q("SELECT c.conrelid::regclass::text AS tbl, c.contype::text AS kind, c.conname AS name, \
                     (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) \
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS cols \
                     FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
                     WHERE n.nspname = 'public' AND c.contype IN ('p','f','u')"))
                .await
                .expect("catalog query");
            let mut tables_with_pk = std::collections::BTreeSet::new();
            for r in rows {
                let tbl: String = r.try_get("", "tbl").expect("catalog query");
                let kind: String = r.try_get("", "kind").expect("catalog query");
                let name: String = r.try_get("", "name").expect("catalog query");
                let cols: String = r.try_get("", "cols").expect("catalog query");
                if reference.contains(&tbl.as_str()) {
                    continue;
                }
                if kind == "p" {
                    tables_with_pk.insert(tbl.clone());
                }
                let first = cols.split(',').next().unwrap_or("");
                if first != "city_id" {
                    let what = match kind.as_str() {
                        "p" => "primary key",
                        "f" => "foreign key",
                        _ => "unique constraint",
                    };
                    problems.push(format!(
                        "{tbl}: {what} {name} ({cols}) does not start with city_id"
                    ));
                }
            }
            let idx = db
                .query_all_raw(q("SELECT tablename AS tbl, indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = 'public'"))
                .await
                .expect("catalog query");
            for r in idx {
                let tbl: String = r.try_get("", "tbl").expect("catalog query");
                let name: String = r.try_get("", "name").expect("catalog query");
                let def: String = r.try_get("", "def").expect("catalog query");
                if reference.contains(&tbl.as_str()) || !def.contains("UNIQUE") {
                    continue;
                }
                if !def.contains("city_id") {
                    problems.push(format!("{tbl}: unique index {name} without city_id"));
                }
            }
            let tables = db
                .query_all_raw(q("SELECT table_name AS tbl FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"))
                .await
                .expect("catalog query");
            for r in tables {
                let tbl: String = r.try_get("", "tbl").expect("catalog query");
                if !reference.contains(&tbl.as_str()) && !tables_with_pk.contains(&tbl) {
                    problems.push(format!("{tbl}: no primary key"));
                }
            }
        }
        _ => {
            let tables = db
                .query_all_raw(q("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
                .await
                .expect("catalog query");
            for r in tables {
                let tbl: String = r.try_get("", "name").expect("catalog query");
                if reference.contains(&tbl.as_str()) {
                    continue;
                }
                let cols = db
                    .query_all_raw(q(&format!(
                        "SELECT name, pk FROM pragma_table_info('{tbl}') WHERE pk > 0 ORDER BY pk"
                    )))
                    .await
                    .expect("catalog query");
                let first: Option<String> = cols
                    .first()
                    .map(|c| c.try_get("", "name").expect("catalog query"));
                if first.as_deref() != Some("city_id") {
                    problems.push(format!("{tbl}: primary key does not start with city_id"));
                }
                let fks = db.query_all_raw(q(&format!("SELECT id, \"from\" AS col FROM pragma_foreign_key_list('{tbl}') ORDER BY id, seq"))).await.expect("catalog query");
                let mut by_id: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
                for f in fks {
                    by_id
                        .entry(f.try_get("", "id").expect("catalog query"))
                        .or_default()
                        .push(f.try_get("", "col").expect("catalog query"));
                }
                for (id, cols) in by_id {
                    if cols.first().map(String::as_str) != Some("city_id") {
                        problems.push(format!(
                            "{tbl}: foreign key #{id} ({}) does not start with city_id",
                            cols.join(",")
                        ));
                    }
                }
                let idx = db
                    .query_all_raw(q(&format!(
                        "SELECT name FROM pragma_index_list('{tbl}') WHERE \"unique\" = 1"
                    )))
                    .await
                    .expect("catalog query");
                for i in idx {
                    let name: String = i.try_get("", "name").expect("catalog query");
                    let icols = db
                        .query_all_raw(q(&format!("SELECT name FROM pragma_index_info('{name}')")))
                        .await
                        .expect("catalog query");
                    let names: Vec<String> = icols
                        .iter()
                        .map(|c| c.try_get("", "name").expect("catalog query"))
                        .collect();
                    if !names.iter().any(|n| n == "city_id") {
                        problems.push(format!(
                            "{tbl}: unique index {name} ({}) without city_id",
                            names.join(",")
                        ));
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            super::with_database("postgres://u@127.0.0.1:5432/test", "x"),
            "postgres://u@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://127.0.0.1/test?sslmode=disable", "x"),
            "postgres://127.0.0.1/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://127.0.0.1", "x"),
            "postgres://127.0.0.1/x"
        );
    }
}

/// A response as tests see it.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(axum::http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
}

/// An in-process browser-like client: keeps cookies, sends the CSRF token of the last page it
/// saw with forms, or a bearer token.
pub struct TestClient {
    pub router: axum::Router,
    pub cookies: std::collections::BTreeMap<String, String>,
    pub bearer: Option<String>,
    pub csrf: Option<String>,
    /// The TCP peer the server sees (as `ConnectInfo`); none by default.
    pub peer: Option<std::net::SocketAddr>,
}

impl TestClient {
    pub fn new(router: axum::Router) -> Self {
        Self {
            router,
            cookies: Default::default(),
            bearer: None,
            csrf: None,
            peer: None,
        }
    }

    pub fn with_bearer(router: axum::Router, token: &str) -> Self {
        let mut c = Self::new(router);
        c.bearer = Some(token.to_string());
        c
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> TestResponse {
        use tower::ServiceExt;
        let mut b = axum::http::Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            b = b.header("cookie", c.join("; "));
        }
        if let Some(t) = &self.bearer {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        let mut req = b.body(axum::body::Body::from(body)).expect("request");
        if let Some(p) = self.peer {
            req.extensions_mut().insert(axum::extract::ConnectInfo(p));
        }
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        for sc in headers.get_all("set-cookie") {
            let s = sc.to_str().unwrap_or("");
            if let Some((kv, attrs)) = s.split_once(';').or(Some((s, "")))
                && let Some((k, v)) = kv.split_once('=')
            {
                if attrs.contains("Max-Age=0") {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies
                        .insert(k.trim().to_string(), v.trim().to_string());
                }
            }
        }
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(t) = find_csrf(&body) {
            self.csrf = Some(t);
        }
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.request("GET", path, None, Vec::new(), &[]).await
    }

    /// Posts a form, adding the CSRF token of the last page seen.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut all: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(t) = &self.csrf {
            all.push(("_csrf".into(), t.clone()));
        }
        self.post_form_raw(path, &all).await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_form_raw(&mut self, path: &str, fields: &[(String, String)]) -> TestResponse {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.request(
            "POST",
            path,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
            &[],
        )
        .await
    }

    pub async fn post_json(&mut self, path: &str, v: &serde_json::Value) -> TestResponse {
        let csrf = self.csrf.clone();
        let extra: Vec<(&str, &str)> = match (&self.bearer, &csrf) {
            (None, Some(t)) => vec![("x-csrf-token", t.as_str())],
            _ => vec![],
        };
        self.request(
            "POST",
            path,
            Some("application/json"),
            v.to_string().into_bytes(),
            &extra,
        )
        .await
    }

    /// Signs in through the login form.
    pub async fn login(&mut self, username: &str, password: &str) -> TestResponse {
        self.get("/login").await;
        self.post_form(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("next", "/app"),
            ],
        )
        .await
    }
}

fn find_csrf(body: &str) -> Option<String> {
    let i = body.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    let rest = &body[i..];
    Some(rest[..rest.find('"')?].to_string())
}

pub use crate::web::urlencode;

/// Creates a city with two districts and a street (codes 990100, 990101, 990102, 990101001)
/// and a user of each given (name, role, region); returns the city id. Passwords are
/// `password-{name}`.
pub async fn seed_small_city(
    db: &DatabaseConnection,
    users: &[(&str, crate::auth::Role, &str)],
) -> i64 {
    use crate::store::regions::NewRegion;
    let city = crate::store::cities::ensure_city(db, "990100", "示范市", "Demo City")
        .await
        .expect("city");
    for (code, parent, zh, en) in [
        ("990100", None, "示范市", "Demo City"),
        ("990101", Some("990100"), "中心区", "Central"),
        ("990102", Some("990100"), "东湖区", "Donghu"),
        ("990101001", Some("990101"), "朝阳街道", "Chaoyang"),
    ] {
        crate::store::regions::upsert(
            db,
            city.id,
            &NewRegion {
                code: code.into(),
                parent_code: parent.map(Into::into),
                name_zh: zh.into(),
                name_en: en.into(),
                urban: true,
                population: Some(1000),
                area_km2: Some(10.0),
                boundary: None,
            },
        )
        .await
        .expect("region");
    }
    for (name, role, region) in users {
        let hash = crate::auth::password::hash_blocking(&format!("password-{name}")).expect("hash");
        crate::store::users::create(
            db,
            city.id,
            crate::store::users::NewUser {
                username: crate::store::users::Username::parse(name).expect("name"),
                display_name: String::new(),
                password_hash: hash,
                role: *role,
                region_code: (*region).into(),
                company_id: None,
                enterprise_id: None,
            },
        )
        .await
        .expect("user");
    }
    city.id
}

/// The application state and router over a migrated database, with `config` instead of
/// [`test_config`] (e.g. small upload limits).
pub fn app_with_config(
    db: &TestDb,
    modules: Vec<Arc<dyn Module>>,
    config: Config,
) -> (AppState, axum::Router) {
    let st = AppState::new(db.db.clone(), config, modules);
    let r = web::router(st.clone());
    (st, r)
}

/// A minimal XLSX workbook whose one sheet is `sheet_xml` (inline strings, no shared strings),
/// built by hand so tests can make sheets no spreadsheet writer would (a huge `<dimension>`,
/// cells at XFD1048576, a sheet that unzips to far more than it weighs).
pub fn xlsx_with_sheet(sheet_xml: &[u8]) -> Vec<u8> {
    xlsx_with_sheet_parts(|w| std::io::Write::write_all(w, sheet_xml))
}

/// [`xlsx_with_sheet`] with the sheet XML written by `write` (streamed into the zip, so a test
/// can make a sheet of hundreds of megabytes without holding it).
pub fn xlsx_with_sheet_parts(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Vec<u8> {
    use std::io::Write;
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let parts: [(&str, &str); 4] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, body) in parts {
        z.start_file(name, opts).expect("zip entry");
        z.write_all(body.as_bytes()).expect("zip write");
    }
    z.start_file("xl/worksheets/sheet1.xml", opts)
        .expect("zip entry");
    write(&mut z).expect("sheet xml");
    z.finish().expect("zip").into_inner()
}

/// A sheet's XML around `cells` (`<c r="A1" t="inlineStr"><is><t>x</t></is></c>` …, each
/// in its own `<row>` element when `rows` says so), with an optional `<dimension ref=…>`.
pub fn sheet_xml(dimension: Option<&str>, rows: &[(u32, &str)]) -> Vec<u8> {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    );
    if let Some(d) = dimension {
        s.push_str(&format!(r#"<dimension ref="{d}"/>"#));
    }
    s.push_str("<sheetData>");
    for (r, cells) in rows {
        s.push_str(&format!(r#"<row r="{r}">{cells}</row>"#));
    }
    s.push_str("</sheetData></worksheet>");
    s.into_bytes()
}

/// An inline-string cell at `at` (e.g. `A1`).
pub fn text_cell(at: &str, text: &str) -> String {
    format!(r#"<c r="{at}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}
