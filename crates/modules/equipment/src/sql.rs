//! Small helpers for raw, backend-neutral SQL: statements are written with `?` placeholders and
//! renumbered to `$n` on PostgreSQL.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement, Value};

/// The statement for `sql` (with `?` placeholders) on `db`'s backend.
pub fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

pub async fn all(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all_raw(stmt(db, sql, values)).await
}

pub async fn one(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>, DbErr> {
    db.query_one_raw(stmt(db, sql, values)).await
}

pub async fn exec(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<ExecResult, DbErr> {
    db.execute_raw(stmt(db, sql, values)).await
}

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
