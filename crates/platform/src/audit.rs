//! Append-only audit log: who changed what, when, before and after. 审计日志

use crate::auth::Principal;
use crate::entity::{audit_log, user};
use crate::ids;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

/// Who made a change.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A signed-in person or an API token.
    Principal {
        kind: &'static str,
        id: i64,
        name: String,
    },
    /// The command line or a background job.
    System(String),
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        let kind = match p.via {
            crate::auth::AuthVia::Session { .. } => "user",
            crate::auth::AuthVia::Token { .. } => "token",
        };
        Actor::Principal {
            kind,
            id: p.user_id,
            name: p.actor_name(),
        }
    }
}

/// Records a change the principal `p` made (its city, its name), inside the change's transaction:
/// what a service calls after changing.
pub async fn record_by(
    txn: &impl ConnectionTrait,
    p: &Principal,
    action: &str,
    entity: &str,
    entity_id: impl std::fmt::Display,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), sea_orm::DbErr> {
    record(
        txn,
        p.city_id,
        &Actor::from(p),
        action,
        entity,
        &entity_id.to_string(),
        before,
        after,
    )
    .await
}

/// Records one change. Call it inside the transaction that makes the change, so that the change
/// and its record commit together.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    db: &impl ConnectionTrait,
    city_id: i64,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), sea_orm::DbErr> {
    let (kind, id, name) = match actor {
        Actor::Principal { kind, id, name } => (*kind, Some(*id), name.clone()),
        Actor::System(n) => ("system", None, n.clone()),
    };
    // Written without reading the row back (on SQLite `insert` would add a SELECT): the audit
    // record is on every write path, including 96333 intake and survey submissions.
    let row = audit_log::ActiveModel {
        city_id: Set(city_id),
        id: Set(ids::new_id()),
        at: Set(Utc::now()),
        actor_kind: Set(kind.to_string()),
        actor_id: Set(id),
        actor_name: Set(name),
        action: Set(action.to_string()),
        entity: Set(entity.to_string()),
        entity_id: Set(entity_id.to_string()),
        before: Set(before.map(|v| v.to_string())),
        after: Set(after.map(|v| v.to_string())),
    };
    audit_log::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Filter for browsing the log.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub page: Option<u64>,
}

/// The audit filter as a query string (`?actor=…&entity=…&from=YYYY-MM-DD…`), shared by the
/// page and the API.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub action: Option<String>,
    /// `YYYY-MM-DD` or RFC 3339.
    pub from: Option<String>,
    pub to: Option<String>,
    /// 0-based page (a page is 50 entries).
    #[param(format = Int64, maximum = 4294967295_u64)]
    pub page: Option<u32>,
}

impl AuditQuery {
    pub fn to_filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.clone(),
            entity: self.entity.clone(),
            action: self.action.clone(),
            from: self.from.as_deref().and_then(parse_day),
            to: self.to.as_deref().and_then(parse_day),
            page: self.page.map(u64::from),
        }
    }
}

/// Parses a `YYYY-MM-DD` day or an RFC 3339 time.
pub fn parse_day(s: &str) -> Option<DateTime<Utc>> {
    if s.is_empty() {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

/// One row as shown to admins.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub const PAGE_SIZE: u64 = 50;

/// A page of the city's log as `p` may see it, newest first, and the total count matching the
/// filter.
///
/// A principal whose scope is the whole city sees every entry. One scoped to part of the city
/// (a district admin) sees the entries made by people (session or API token) whose account
/// belongs to their region subtree: the log records who acted, not where the object lies, so
/// "made by users of my subtree" is the rule the table supports. Entries of background jobs
/// and the command line (no person) are for city-wide eyes only.
pub async fn browse_for(
    db: &impl ConnectionTrait,
    p: &Principal,
    f: &AuditFilter,
) -> Result<(Vec<AuditEntry>, u64), sea_orm::DbErr> {
    let actors = (!p.scope.contains(p.city_id, &p.city_code)).then(|| p.scope.like_pattern());
    browse_where(db, p.city_id, actors.as_deref(), f).await
}

/// A page of the city's whole log, newest first (the command line, city-wide admins).
pub async fn browse(
    db: &impl ConnectionTrait,
    city_id: i64,
    f: &AuditFilter,
) -> Result<(Vec<AuditEntry>, u64), sea_orm::DbErr> {
    browse_where(db, city_id, None, f).await
}

/// `actors`: only entries made by users whose region code matches this `LIKE` pattern.
async fn browse_where(
    db: &impl ConnectionTrait,
    city_id: i64,
    actors: Option<&str>,
    f: &AuditFilter,
) -> Result<(Vec<AuditEntry>, u64), sea_orm::DbErr> {
    let mut q = audit_log::Entity::find().filter(audit_log::Column::CityId.eq(city_id));
    if let Some(pattern) = actors {
        q = q.filter(
            audit_log::Column::ActorId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user::Column::Id)
                    .from(user::Entity)
                    .and_where(user::Column::CityId.eq(city_id))
                    .and_where(user::Column::RegionCode.like(pattern))
                    .to_owned(),
            ),
        );
    }
    if let Some(a) = f.actor.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::Column::ActorName.contains(a));
    }
    if let Some(e) = f.entity.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::Column::Entity.eq(e));
    }
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::Column::Action.eq(a));
    }
    if let Some(from) = f.from {
        q = q.filter(audit_log::Column::At.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(audit_log::Column::At.lt(to));
    }
    let total = q.clone().count(db).await?;
    let page = f.page.unwrap_or(0);
    let rows = q
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .offset(page.saturating_mul(PAGE_SIZE).min(i64::MAX as u64))
        .limit(PAGE_SIZE)
        .all(db)
        .await?;
    Ok((
        rows.into_iter()
            .map(|r| AuditEntry {
                at: r.at,
                actor_kind: r.actor_kind,
                actor_name: r.actor_name,
                action: r.action,
                entity: r.entity,
                entity_id: r.entity_id,
                before: r.before,
                after: r.after,
            })
            .collect(),
        total,
    ))
}
