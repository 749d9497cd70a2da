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

use qcity_platform::store::sql;
use sea_orm::{ConnectionTrait, QueryResult, Value};

/// The survey store's errors are the platform's store errors.
pub use qcity_platform::store::StoreError;

pub type Result<T> = std::result::Result<T, StoreError>;

/// [`sql::exec`] returning the rows affected.
pub async fn exec(db: &impl ConnectionTrait, q: &str, values: Vec<Value>) -> Result<u64> {
    Ok(sql::exec(db, q, values).await?.rows_affected())
}

pub async fn all(
    db: &impl ConnectionTrait,
    q: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>> {
    Ok(sql::all(db, q, values).await?)
}

pub async fn one(
    db: &impl ConnectionTrait,
    q: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>> {
    Ok(sql::one(db, q, values).await?)
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

/// The city's districts (code, zh, en), read from the regions table (the server's handlers
/// use its cached region tree, `api::districts`).
pub async fn city_districts(
    db: &impl ConnectionTrait,
    city_id: i64,
) -> Result<Vec<(String, String, String)>> {
    all(
        db,
        "SELECT code, name_zh, name_en FROM regions WHERE city_id = ? AND level = 'district' ORDER BY code",
        vec![city_id.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((get(r, "code")?, get(r, "name_zh")?, get(r, "name_en")?)))
    .collect()
}
