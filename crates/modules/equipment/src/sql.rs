//! Module-specific SQL helpers beside the platform's backend-neutral `stmt`/`all`/`one`/`exec`
//! (re-exported here so call sites keep `sql::…`).

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbErr, Value};

pub use qcity_platform::store::sql::{all, exec, one, stmt};

/// Now, truncated to milliseconds (stored text timestamps then sort correctly on SQLite).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// `LIKE` pattern for a region prefix.
pub fn like(prefix: &str) -> String {
    format!("{prefix}%")
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(e: &DbErr) -> bool {
    let s = e.to_string().to_lowercase();
    s.contains("unique") || s.contains("duplicate key")
}

/// `(?, ?, …)` with `n` placeholders.
pub fn placeholders(n: usize) -> String {
    let mut s = String::from("(");
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s.push(')');
    s
}

/// Inserts many rows with one statement per `chunk` rows.
pub async fn insert_many(
    db: &impl ConnectionTrait,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<Value>>,
    chunk: usize,
) -> Result<(), DbErr> {
    let one_row = placeholders(cols.len());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<Vec<Value>> = rows.by_ref().take(chunk).collect();
        let mut s = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
        for i in 0..batch.len() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&one_row);
        }
        let values: Vec<Value> = batch.into_iter().flatten().collect();
        exec(db, &s, values).await?;
    }
    Ok(())
}
