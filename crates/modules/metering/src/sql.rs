//! Module-specific SQL helpers beside the platform's backend-neutral `stmt`/`all`/`one`/`exec`
//! (re-exported here so call sites keep `sql::…`).

use sea_orm::{ConnectionTrait, DbBackend, DbErr};

pub use qcity_platform::store::sql::{all, exec, one, stmt};

/// `LIKE` pattern for a region prefix.
pub fn like(prefix: &str) -> String {
    format!("{prefix}%")
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(e: &DbErr) -> bool {
    let s = e.to_string().to_lowercase();
    s.contains("unique") || s.contains("duplicate key")
}

/// `IS DISTINCT FROM` on PostgreSQL, `IS NOT` on SQLite (null-safe inequality).
pub fn distinct(db: &impl ConnectionTrait) -> &'static str {
    if db.get_database_backend() == DbBackend::Postgres {
        "IS DISTINCT FROM"
    } else {
        "IS NOT"
    }
}
