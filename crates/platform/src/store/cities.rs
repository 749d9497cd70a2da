//! Cities (tenants).

use super::StoreError;
use crate::entity::city;
use crate::ids;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// Every city served by this deployment (a cross-tenant listing).
pub async fn list_all_cities(db: &impl ConnectionTrait) -> Result<Vec<city::Model>, StoreError> {
    Ok(city::Entity::find()
        .order_by_asc(city::Column::Code)
        .all(db)
        .await?)
}

pub async fn by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<city::Model>, StoreError> {
    Ok(city::Entity::find()
        .filter(city::Column::Code.eq(code))
        .one(db)
        .await?)
}

pub async fn by_id(
    db: &impl ConnectionTrait,
    city_id: i64,
) -> Result<Option<city::Model>, StoreError> {
    Ok(city::Entity::find_by_id(city_id).one(db).await?)
}

/// Creates a city (its root region is created separately) or returns the existing one.
pub async fn ensure_city(
    db: &impl ConnectionTrait,
    code: &str,
    name_zh: &str,
    name_en: &str,
) -> Result<city::Model, StoreError> {
    if crate::auth::scope::level_of(code) != Some("city") {
        return Err(StoreError::invalid(
            "code",
            format!("`{code}` is not a six-digit city code ending in 00"),
        ));
    }
    if let Some(c) = by_code(db, code).await? {
        return Ok(c);
    }
    Ok(city::ActiveModel {
        id: Set(ids::new_id()),
        code: Set(code.to_string()),
        name_zh: Set(name_zh.to_string()),
        name_en: Set(name_en.to_string()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?)
}
