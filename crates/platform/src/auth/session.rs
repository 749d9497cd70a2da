//! Server-side sessions stored in the database. The cookie value is `{city_id}.{secret}`; the
//! database keeps only SHA-256(secret). Login always issues a new id (no fixation); sessions end
//! after the idle timeout or the absolute timeout, whichever comes first.

use crate::entity::session;
use crate::ids;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};

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

/// Deletes the sessions of every city that have ended by `now` (absolute or idle timeout, the
/// same rule as [`load`]); returns how many. Without it a session whose cookie never comes
/// back stays in the table for ever. Run hourly by [`crate::jobs::start_housekeeping`].
pub async fn purge_expired_all_cities(
    db: &impl ConnectionTrait,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let res = session::Entity::delete_many()
        .filter(
            Condition::any()
                .add(session::Column::ExpiresAt.lte(now))
                .add(session::Column::LastSeenAt.lte(now - policy.idle)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::testing::{Backend, TestDb, seed_small_city};

    async fn purge_deletes_only_ended_sessions(b: Backend) {
        let t = TestDb::migrated(b, &[]).await;
        let city = seed_small_city(&t.db, &[("uu", Role::Viewer, "990100")]).await;
        let uid = crate::store::users::by_username(&t.db, city, "uu")
            .await
            .unwrap()
            .unwrap()
            .id;
        let policy = SessionPolicy {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        };
        let (fresh, _) = create(&t.db, city, uid, policy).await.unwrap();
        let (idle, _) = create(&t.db, city, uid, policy).await.unwrap();
        let (old, _) = create(&t.db, city, uid, policy).await.unwrap();
        let now = Utc::now();
        let set = |c: &SessionCookie, col: session::Column, at: DateTime<Utc>| {
            session::Entity::update_many()
                .col_expr(col, sea_orm::sea_query::Expr::value(at))
                .filter(session::Column::IdHash.eq(ids::sha256_hex(&c.secret)))
        };
        set(
            &idle,
            session::Column::LastSeenAt,
            now - Duration::minutes(31),
        )
        .exec(&t.db)
        .await
        .unwrap();
        set(&old, session::Column::ExpiresAt, now - Duration::seconds(1))
            .exec(&t.db)
            .await
            .unwrap();
        assert_eq!(
            purge_expired_all_cities(&t.db, policy, now).await.unwrap(),
            2
        );
        assert_eq!(session::Entity::find().all(&t.db).await.unwrap().len(), 1);
        assert!(load(&t.db, &fresh, policy, now).await.unwrap().is_some());
        assert_eq!(
            purge_expired_all_cities(&t.db, policy, now).await.unwrap(),
            0,
            "a live session stays"
        );
    }

    #[tokio::test]
    async fn purge_deletes_only_ended_sessions_sqlite() {
        purge_deletes_only_ended_sessions(Backend::Sqlite).await;
    }

    #[tokio::test]
    #[cfg_attr(not(qcity_pg), ignore = "needs QCITY_TEST_POSTGRES_URL")]
    async fn purge_deletes_only_ended_sessions_postgres() {
        purge_deletes_only_ended_sessions(Backend::Postgres).await;
    }
}
