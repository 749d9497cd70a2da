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
