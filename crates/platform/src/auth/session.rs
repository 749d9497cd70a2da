//! Server-side sessions stored in the database. The cookie value is `{city_id}.{secret}`; the
//! database keeps only SHA-256(secret). Login always issues a new id (no fixation); sessions end
//! after the idle timeout or the absolute timeout, whichever comes first.

use crate::entity::session;
use crate::ids;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

pub const COOKIE: &str = "qcity_session";

/// Timeouts of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

/// A parsed session cookie.
#[derive(Debug, Clone)]
pub struct SessionCookie {
    pub city_id: i64,
    pub secret: String,
}

impl SessionCookie {
    pub fn parse(value: &str) -> Option<Self> {
        let (city, secret) = value.split_once('.')?;
        let city_id = city.parse().ok()?;
        if secret.len() < 32
            || !secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        Some(Self {
            city_id,
            secret: secret.to_string(),
        })
    }

    pub fn value(&self) -> String {
        format!("{}.{}", self.city_id, self.secret)
    }
}

/// Creates a session for the user and returns its cookie.
pub async fn create(
    db: &impl ConnectionTrait,
    city_id: i64,
    user_id: i64,
    policy: SessionPolicy,
) -> Result<(SessionCookie, String), sea_orm::DbErr> {
    let secret = ids::random_token(32);
    let csrf = ids::random_token(32);
    let now = Utc::now();
    session::ActiveModel {
        city_id: Set(city_id),
        id_hash: Set(ids::sha256_hex(&secret)),
        user_id: Set(user_id),
        csrf_token: Set(csrf.clone()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + policy.absolute),
    }
    .insert(db)
    .await?;
    Ok((SessionCookie { city_id, secret }, csrf))
}

/// Looks a session up; `None` when unknown or expired (an expired one is deleted). Refreshes
/// `last_seen_at` at most once a minute.
pub async fn load(
    db: &impl ConnectionTrait,
    cookie: &SessionCookie,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<session::Model>, sea_orm::DbErr> {
    let hash = ids::sha256_hex(&cookie.secret);
    let Some(s) = session::Entity::find_by_id((cookie.city_id, hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if now >= s.expires_at || now - s.last_seen_at >= policy.idle {
        session::Entity::delete_by_id((s.city_id, s.id_hash.clone()))
            .exec(db)
            .await?;
        return Ok(None);
    }
    if now - s.last_seen_at >= Duration::minutes(1) {
        session::Entity::update_many()
            .col_expr(
                session::Column::LastSeenAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(session::Column::CityId.eq(s.city_id))
            .filter(session::Column::IdHash.eq(s.id_hash.clone()))
            .exec(db)
            .await?;
    }
    Ok(Some(s))
}

/// Ends a session.
pub async fn destroy(
    db: &impl ConnectionTrait,
    cookie: &SessionCookie,
) -> Result<(), sea_orm::DbErr> {
    session::Entity::delete_by_id((cookie.city_id, ids::sha256_hex(&cookie.secret)))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user (password change, account disabled).
pub async fn destroy_all_for_user(
    db: &impl ConnectionTrait,
    city_id: i64,
    user_id: i64,
) -> Result<(), sea_orm::DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::CityId.eq(city_id))
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
