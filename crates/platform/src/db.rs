//! Database connection: SQLite (WAL, foreign keys on, durable commits) by default, PostgreSQL by URL.

use crate::config::Config;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use std::time::Duration;

/// Opens the configured database, creating the SQLite data directory when needed.
pub async fn connect(cfg: &Config) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let url = cfg.effective_database_url();
    if url.starts_with("sqlite:") && cfg.database.url.is_empty() {
        std::fs::create_dir_all(&cfg.database.data_dir).map_err(|e| {
            sea_orm::DbErr::Custom(format!(
                "cannot create data directory {}: {e}",
                cfg.database.data_dir.display()
            ))
        })?;
    }
    open(
        &url,
        cfg.database.max_connections,
        &cfg.database.sqlite_synchronous,
        cfg.database.sqlite_cache_mib,
        cfg.database.sqlite_max_page_count,
    )
    .await
}

/// SQLite page cache per connection (MiB) unless configured: a bulk write of a few hundred
/// thousand readings then works on cached B-tree pages instead of spilling to the WAL mid-way
/// (SQLite's own default is 2 MiB). Pages are allocated only as they are used.
pub const DEFAULT_SQLITE_CACHE_MIB: u32 = 32;

/// Opens a database by URL with the default SQLite page cache (tests and tools).
pub async fn connect_url(
    url: &str,
    max_connections: u32,
    sqlite_synchronous: &str,
) -> Result<DatabaseConnection, sea_orm::DbErr> {
    connect_url_with(
        url,
        max_connections,
        sqlite_synchronous,
        DEFAULT_SQLITE_CACHE_MIB,
    )
    .await
}

/// Opens a database by URL; `sqlite_cache_mib` is each SQLite connection's page-cache limit.
pub async fn connect_url_with(
    url: &str,
    max_connections: u32,
    sqlite_synchronous: &str,
    sqlite_cache_mib: u32,
) -> Result<DatabaseConnection, sea_orm::DbErr> {
    open(
        url,
        max_connections,
        sqlite_synchronous,
        sqlite_cache_mib,
        0,
    )
    .await
}

async fn open(
    url: &str,
    max_connections: u32,
    sqlite_synchronous: &str,
    sqlite_cache_mib: u32,
    sqlite_max_page_count: u32,
) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut opt = ConnectOptions::new(url.to_string());
    opt.max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let sync = match sqlite_synchronous {
        "normal" => sea_orm::sqlx::sqlite::SqliteSynchronous::Normal,
        "extra" => sea_orm::sqlx::sqlite::SqliteSynchronous::Extra,
        _ => sea_orm::sqlx::sqlite::SqliteSynchronous::Full,
    };
    opt.map_sqlx_sqlite_opts(move |o| {
        let o = o
            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .foreign_keys(true)
            .synchronous(sync)
            .busy_timeout(Duration::from_secs(30))
            .pragma(
                "cache_size",
                format!("-{}", u64::from(sqlite_cache_mib) * 1024),
            )
            .create_if_missing(true);
        if sqlite_max_page_count > 0 {
            o.pragma("max_page_count", sqlite_max_page_count.to_string())
        } else {
            o
        }
    });
    Database::connect(opt).await
}

/// Which backend a connection talks to, as a short name for logs and `/readyz`.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "postgres",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

/// Placeholder syntax for raw statements: `$n` on PostgreSQL, `?` on SQLite.
pub fn ph(db: &impl sea_orm::ConnectionTrait, n: usize) -> String {
    match db.get_database_backend() {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_string(),
    }
}

/// A write transaction: `BEGIN IMMEDIATE` on SQLite, a plain `BEGIN` on PostgreSQL.
///
/// SQLite's default `BEGIN` is deferred: the transaction takes the write lock at its first
/// write, and if another connection committed since its first read, the upgrade fails at once
/// with `SQLITE_BUSY` ("database is locked") without waiting out `busy_timeout`. Under
/// concurrent writers (96333 intake beside bulk readings, the demo's background seeding) that
/// turned requests into 500s. An immediate transaction waits its turn for the lock instead.
/// Every transaction that may write begins with this; a read-only one may use `begin()`.
/// Inside a transaction it opens a savepoint, as `begin()` does.
pub trait BeginWrite: sea_orm::TransactionTrait {
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<Self::Transaction, sea_orm::DbErr>>;
}

impl<C: sea_orm::TransactionTrait> BeginWrite for C {
    async fn begin_write(&self) -> Result<C::Transaction, sea_orm::DbErr> {
        self.begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
    }
}
