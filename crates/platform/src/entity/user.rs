//! A person's account. 用户
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub city_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub role: String,
    /// Root of the region subtree the user may see.
    pub region_code: String,
    /// Maintenance company a `maintainer` is bound to (维保单位).
    pub company_id: Option<i64>,
    /// Enterprise an `energy_manager` is bound to (重点用能单位).
    pub enterprise_id: Option<i64>,
    pub disabled: bool,
    pub lang: Option<String>,
    pub created_at: DateTimeUtc,
    pub password_changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
