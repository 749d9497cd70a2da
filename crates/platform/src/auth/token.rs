//! API tokens: `qct_{city_id}_{secret}`, stored as SHA-256, shown once.

use crate::entity::api_token;
use crate::ids;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// A parsed bearer token.
#[derive(Debug, Clone)]
pub struct BearerToken {
    pub city_id: i64,
    pub full: String,
}

impl BearerToken {
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("qct_")?;
        let (city, secret) = rest.split_once('_')?;
        let city_id = city.parse().ok()?;
        if secret.len() < 32 {
            return None;
        }
        Some(Self {
            city_id,
            full: s.to_string(),
        })
    }
}

/// Issues a token for a user; returns the stored row and the token (shown once).
pub async fn issue(
    db: &impl ConnectionTrait,
    city_id: i64,
    user_id: i64,
    name: &str,
) -> Result<(api_token::Model, String), sea_orm::DbErr> {
    let token = format!("qct_{city_id}_{}", ids::random_token(32));
    let row = api_token::ActiveModel {
        city_id: Set(city_id),
        id: Set(ids::new_id()),
        user_id: Set(user_id),
        name: Set(name.to_string()),
        token_hash: Set(ids::sha256_hex(&token)),
        prefix: Set(token.chars().take(14).collect()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((row, token))
}

/// The live (not revoked) token row for a bearer token.
pub async fn lookup(
    db: &impl ConnectionTrait,
    t: &BearerToken,
) -> Result<Option<api_token::Model>, sea_orm::DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::CityId.eq(t.city_id))
        .filter(api_token::Column::TokenHash.eq(ids::sha256_hex(&t.full)))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await
}

/// Revokes a token by id; returns whether a live token was revoked.
pub async fn revoke(
    db: &impl ConnectionTrait,
    city_id: i64,
    token_id: i64,
) -> Result<bool, sea_orm::DbErr> {
    let r = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(api_token::Column::CityId.eq(city_id))
        .filter(api_token::Column::Id.eq(token_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parse_tokens() {
        assert!(BearerToken::parse("qct_12_abcdefghijklmnopqrstuvwxyz0123456789AB").is_some());
        assert!(BearerToken::parse("qct_x_abcdefghijklmnopqrstuvwxyz0123456789AB").is_none());
        assert!(BearerToken::parse("qct_12_short").is_none());
        assert!(BearerToken::parse("Bearer").is_none());
    }
}
