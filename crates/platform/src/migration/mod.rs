//! Schema migrations and the runner that applies every module's migrations in order.
//!
//! Each module contributes `Vec<Box<dyn MigrationTrait>>` (sea-orm-migration); the runner records
//! applied names in `qcity_migrations`, applies each pending one in its own transaction, and
//! refuses a database that has migrations this binary does not know (a newer schema).

mod m0001_core;
mod m0002_mqtt_dead_letters;
mod m0003_demo_progress;
mod m0004_enterprises;
pub mod schema;

use crate::db::BeginWrite;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
pub use sea_orm_migration::MigrationTrait;
use sea_orm_migration::SchemaManager;

pub use m0001_core::PG_TENANT_REFERENCE_TABLES;
pub use schema::append_only_triggers;

/// The platform's own migrations (cities, regions, users, sessions, tokens, audit log, MQTT
/// dead letters, the register of market entities).
pub fn platform_migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m0001_core::Migration),
        Box::new(m0002_mqtt_dead_letters::Migration),
        Box::new(m0003_demo_progress::Migration),
        Box::new(m0004_enterprises::Migration),
    ]
}

/// Migration problems.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error(
        "the database schema is newer than this qcity knows (unknown migrations: {0}); upgrade qcity"
    )]
    SchemaTooNew(String),
    #[error("the database schema is not up to date ({0} pending migrations); run `qcity migrate`")]
    Pending(usize),
}

async fn ensure_table(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "CREATE TABLE IF NOT EXISTS qcity_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        }
        _ => {
            "CREATE TABLE IF NOT EXISTS qcity_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        }
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}

async fn applied(db: &DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM qcity_migrations ORDER BY name",
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<String>("", "name"))
        .collect()
}

fn unknown(applied: &[String], known: &[Box<dyn MigrationTrait>]) -> Vec<String> {
    applied
        .iter()
        .filter(|a| !known.iter().any(|m| m.name() == a.as_str()))
        .cloned()
        .collect()
}

/// Applies every pending migration; a second run is a no-op. Returns the names applied.
pub async fn migrate(
    db: &DatabaseConnection,
    migrations: &[Box<dyn MigrationTrait>],
) -> Result<Vec<String>, MigrateError> {
    ensure_table(db).await?;
    let done = applied(db).await?;
    let unknown = unknown(&done, migrations);
    if !unknown.is_empty() {
        return Err(MigrateError::SchemaTooNew(unknown.join(", ")));
    }
    let mut ran = Vec::new();
    for m in migrations {
        if done.iter().any(|d| d == m.name()) {
            continue;
        }
        let txn = db.begin_write().await?;
        {
            let manager = SchemaManager::new(&txn);
            m.up(&manager).await?;
        }
        txn.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                DbBackend::Postgres => "INSERT INTO qcity_migrations (name) VALUES ($1)",
                _ => "INSERT INTO qcity_migrations (name) VALUES (?)",
            },
            [m.name().into()],
        ))
        .await?;
        txn.commit().await?;
        tracing::info!(migration = m.name(), "applied migration");
        ran.push(m.name().to_string());
    }
    Ok(ran)
}

/// Checks that the database is exactly at the schema this binary knows: refuses a newer one
/// and one with pending migrations.
pub async fn check_schema(
    db: &DatabaseConnection,
    migrations: &[Box<dyn MigrationTrait>],
) -> Result<(), MigrateError> {
    ensure_table(db).await?;
    let done = applied(db).await?;
    let unknown = unknown(&done, migrations);
    if !unknown.is_empty() {
        return Err(MigrateError::SchemaTooNew(unknown.join(", ")));
    }
    let pending = migrations
        .iter()
        .filter(|m| !done.iter().any(|d| d == m.name()))
        .count();
    if pending > 0 {
        return Err(MigrateError::Pending(pending));
    }
    Ok(())
}
