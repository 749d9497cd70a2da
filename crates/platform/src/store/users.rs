//! User accounts.

use super::StoreError;
use crate::auth::{RegionScope, Role};
use crate::entity::{region, user};
use crate::ids;
use crate::store::ConflictCode;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;

/// A validated user name: 2–64 characters of letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let s = s.trim();
        let ok = (2..=64).contains(&s.chars().count())
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(StoreError::invalid(
                "username",
                "2–64 letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub region_code: String,
    pub company_id: Option<i64>,
    pub enterprise_id: Option<i64>,
}

/// A user as lists show it (never the hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub region_code: String,
    pub disabled: bool,
}

impl From<&user::Model> for UserView {
    fn from(u: &user::Model) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.clone(),
            region_code: u.region_code.clone(),
            disabled: u.disabled,
        }
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    city_id: i64,
    u: NewUser,
) -> Result<user::Model, StoreError> {
    region::Entity::find_by_id((city_id, u.region_code.clone()))
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::invalid(
                "region",
                format!("region `{}` does not exist in this city", u.region_code),
            )
        })?;
    if u.role == Role::Maintainer && u.company_id.is_none() {
        tracing::debug!("maintainer created without a company; bind it before it sees rescue jobs");
    }
    if by_username(db, city_id, u.username.as_str())
        .await?
        .is_some()
    {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            format!("user `{}` already exists", u.username.as_str()),
        ));
    }
    let now = Utc::now();
    Ok(user::ActiveModel {
        city_id: Set(city_id),
        id: Set(ids::new_id()),
        username: Set(u.username.as_str().to_string()),
        display_name: Set(if u.display_name.is_empty() {
            u.username.as_str().to_string()
        } else {
            u.display_name
        }),
        password_hash: Set(u.password_hash),
        role: Set(u.role.as_str().to_string()),
        region_code: Set(u.region_code),
        company_id: Set(u.company_id),
        enterprise_id: Set(u.enterprise_id),
        disabled: Set(false),
        lang: Set(None),
        created_at: Set(now),
        password_changed_at: Set(now),
    }
    .insert(db)
    .await?)
}

pub async fn by_username(
    db: &impl ConnectionTrait,
    city_id: i64,
    username: &str,
) -> Result<Option<user::Model>, StoreError> {
    Ok(user::Entity::find()
        .filter(user::Column::CityId.eq(city_id))
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?)
}

/// Accounts with this name in any city (login looks the name up before the city is known).
pub async fn by_username_any_city(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Vec<user::Model>, StoreError> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .all(db)
        .await?)
}

pub async fn by_id(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
) -> Result<Option<user::Model>, StoreError> {
    Ok(user::Entity::find_by_id((city_id, id)).one(db).await?)
}

/// Users whose scope lies inside `scope` (an admin of a district sees that district's users).
pub async fn list_visible(
    db: &impl ConnectionTrait,
    scope: &RegionScope,
) -> Result<Vec<user::Model>, StoreError> {
    Ok(user::Entity::find()
        .filter(user::Column::CityId.eq(scope.city_id))
        .filter(user::Column::RegionCode.starts_with(&scope.prefix))
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?)
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    hash: String,
) -> Result<(), StoreError> {
    let u = by_id(db, city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
    let mut am = u.into_active_model();
    am.password_hash = Set(hash);
    am.password_changed_at = Set(Utc::now());
    am.update(db).await?;
    crate::auth::session::destroy_all_for_user(db, city_id, id).await?;
    Ok(())
}

pub async fn set_disabled(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    disabled: bool,
) -> Result<user::Model, StoreError> {
    let u = by_id(db, city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
    let mut am = u.into_active_model();
    am.disabled = Set(disabled);
    let u = am.update(db).await?;
    if disabled {
        crate::auth::session::destroy_all_for_user(db, city_id, id).await?;
    }
    Ok(u)
}

/// Binds a maintenance engineer to their company (维保单位), or unbinds with `None`.
pub async fn set_company_id(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    company_id: Option<i64>,
) -> Result<user::Model, StoreError> {
    let u = by_id(db, city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
    let mut am = u.into_active_model();
    am.company_id = Set(company_id);
    Ok(am.update(db).await?)
}

/// Binds an energy manager to their enterprise (a key energy-consuming unit of the metering
/// module), or unbinds with `None`.
pub async fn set_enterprise_id(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    enterprise_id: Option<i64>,
) -> Result<user::Model, StoreError> {
    let u = by_id(db, city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
    let mut am = u.into_active_model();
    am.enterprise_id = Set(enterprise_id);
    Ok(am.update(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn usernames() {
        assert!(Username::parse("zhang.san").is_ok());
        assert!(Username::parse("张三").is_ok());
        assert!(Username::parse("a").is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("x'; drop").is_err());
    }
}
