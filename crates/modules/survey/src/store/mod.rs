//! Store functions of the survey module. The city is always an explicit argument; reads that a
//! principal makes also take the region scope and filter by it in the query.
//!
//! This module holds the store's error and the statement helpers; each seam is a file of its own
//! and is re-exported here, so `store::X` names every item.

mod invitations;
mod margins;
mod questionnaires;
mod quotas;
mod responses;
mod waves;

pub use invitations::*;
pub use margins::*;
pub use questionnaires::*;
pub use quotas::*;
pub use responses::*;
pub use waves::*;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};

/// Errors of the survey store.
#[derive(Debug, thiserror::Error)]
pub enum SurveyStoreError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

impl SurveyStoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<SurveyStoreError> for qcity_platform::web::AppError {
    fn from(e: SurveyStoreError) -> Self {
        use qcity_platform::web::AppError;
        match e {
            SurveyStoreError::Db(e) => AppError::internal(e),
            SurveyStoreError::Invalid { field, message } => AppError::Validation { field, message },
            SurveyStoreError::NotFound(w) => AppError::NotFound(w),
            SurveyStoreError::Conflict(m) => AppError::Conflict(m),
        }
    }
}

pub type Result<T> = std::result::Result<T, SurveyStoreError>;

/// A statement with `?` placeholders, rewritten to `$n` on PostgreSQL.
pub fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
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

pub async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64> {
    Ok(db.execute_raw(stmt(db, sql, values)).await?.rows_affected())
}

pub async fn all(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>> {
    Ok(db.query_all_raw(stmt(db, sql, values)).await?)
}

pub async fn one(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>> {
    Ok(db.query_one_raw(stmt(db, sql, values)).await?)
}

pub fn get<T: sea_orm::TryGetable>(r: &QueryResult, col: &str) -> Result<T> {
    Ok(r.try_get::<T>("", col)?)
}

fn count_of(r: Option<QueryResult>) -> Result<i64> {
    match r {
        Some(r) => get::<i64>(&r, "n"),
        None => Ok(0),
    }
}
