//! The administration services (users, API tokens, regions): each change and its audit entry in
//! one transaction, actions named `platform.entity.verb`. The admin pages and the `qcity` command
//! line both call these; they only parse their input and show the result.
//!
//! A server that calls them empties its token cache afterwards (`AppState::tokens`).

use crate::audit::{self, Actor};
use crate::auth::token;
use crate::db::BeginWrite;
use crate::entity::{api_token, region, user};
use crate::store::users::{NewUser, UserView};
use crate::store::{self, StoreError};
use sea_orm::DatabaseConnection;
use serde_json::json;

fn view(u: &user::Model) -> serde_json::Value {
    serde_json::to_value(UserView::from(u)).unwrap_or_default()
}

/// Creates a user (`platform.user.create`).
pub async fn create_user(
    db: &DatabaseConnection,
    actor: &Actor,
    city_id: i64,
    new: NewUser,
) -> Result<user::Model, StoreError> {
    let txn = db.begin_write().await?;
    let u = store::users::create(&txn, city_id, new).await?;
    audit::record(
        &txn,
        city_id,
        actor,
        "platform.user.create",
        "user",
        &u.id.to_string(),
        None,
        Some(view(&u)),
    )
    .await?;
    txn.commit().await?;
    Ok(u)
}

/// Sets a user's password hash; their sessions end (`platform.user.reset_password`).
pub async fn reset_password(
    db: &DatabaseConnection,
    actor: &Actor,
    city_id: i64,
    user_id: i64,
    hash: String,
) -> Result<(), StoreError> {
    let txn = db.begin_write().await?;
    store::users::set_password_hash(&txn, city_id, user_id, hash).await?;
    audit::record(
        &txn,
        city_id,
        actor,
        "platform.user.reset_password",
        "user",
        &user_id.to_string(),
        None,
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Disables or enables a user (`platform.user.disable` / `platform.user.enable`).
pub async fn set_disabled(
    db: &DatabaseConnection,
    actor: &Actor,
    before: &user::Model,
    disabled: bool,
) -> Result<user::Model, StoreError> {
    let txn = db.begin_write().await?;
    let after = store::users::set_disabled(&txn, before.city_id, before.id, disabled).await?;
    audit::record(
        &txn,
        before.city_id,
        actor,
        if disabled {
            "platform.user.disable"
        } else {
            "platform.user.enable"
        },
        "user",
        &before.id.to_string(),
        Some(view(before)),
        Some(view(&after)),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Issues an API token for a user; returns the row and the secret, shown once
/// (`platform.token.create`).
pub async fn issue_token(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: &user::Model,
    name: &str,
) -> Result<(api_token::Model, String), StoreError> {
    let txn = db.begin_write().await?;
    let (row, secret) = token::issue(&txn, owner.city_id, owner.id, name).await?;
    audit::record(
        &txn,
        owner.city_id,
        actor,
        "platform.token.create",
        "api_token",
        &row.id.to_string(),
        None,
        Some(json!({"user": owner.username, "name": name, "prefix": row.prefix})),
    )
    .await?;
    txn.commit().await?;
    Ok((row, secret))
}

/// Revokes a live token; `false` when there is none with this id (`platform.token.revoke`).
pub async fn revoke_token(
    db: &DatabaseConnection,
    actor: &Actor,
    city_id: i64,
    id: i64,
) -> Result<bool, StoreError> {
    let txn = db.begin_write().await?;
    let revoked = token::revoke(&txn, city_id, id).await?;
    if revoked {
        audit::record(
            &txn,
            city_id,
            actor,
            "platform.token.revoke",
            "api_token",
            &id.to_string(),
            None,
            None,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(revoked)
}

/// Renames a region (`platform.region.rename`); returns the row after.
pub async fn rename_region(
    db: &DatabaseConnection,
    actor: &Actor,
    city_id: i64,
    code: &str,
    name_zh: &str,
    name_en: &str,
) -> Result<region::Model, StoreError> {
    let txn = db.begin_write().await?;
    let (before, after) = store::regions::rename(&txn, city_id, code, name_zh, name_en).await?;
    audit::record(
        &txn,
        city_id,
        actor,
        "platform.region.rename",
        "region",
        code,
        Some(json!({"name_zh": before.name_zh, "name_en": before.name_en})),
        Some(json!({"name_zh": after.name_zh, "name_en": after.name_en})),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
