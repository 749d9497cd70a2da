//! Transitions of an incident through the pure state machine ([`crate::fsm`]): the optimistic
//! version check, level-2 escalation to the nearest other maintenance unit (二级响应), the cause
//! report, and the timeline and audit entries written with each step.

use super::{CAUSES, Incident, R, append_event, get};
use crate::domain::haversine_km;
use crate::fsm::{FsmError, Machine, State};
use crate::registry;
use crate::sql::{self, exec, one};
use chrono::{DateTime, Utc};
use qcity_platform::audit::{self, Actor as AuditActor};
use qcity_platform::auth::{Principal, Role};
use qcity_platform::db::BeginWrite;
use qcity_platform::store::ConflictCode;
use qcity_platform::store::StoreError;
use qcity_platform::{CityId, Scope};
use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait};
use serde::Deserialize;

/// Transition body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TransitionReq {
    /// Target state, e.g. `dispatched`, `acknowledged`, `on_scene`.
    #[schema(value_type = crate::fsm::State)]
    pub to: String,
    /// The version the client last saw (optimistic concurrency; or the `If-Match` header): a
    /// stale one is `409 stale_version`. Without it the transition applies to the current state.
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub note: String,
    /// For `cause_reported`: one of the cause codes.
    pub cause_code: Option<String>,
    /// For `escalated_l2`: the unit sent instead (default: the nearest other company).
    pub company_id: Option<i64>,
}

fn machine_of(i: &Incident, last_at: DateTime<Utc>) -> R<Machine> {
    Ok(Machine {
        state: State::parse(&i.state).ok_or_else(|| {
            StoreError::conflict(ConflictCode::Conflict, format!("unknown state {}", i.state))
        })?,
        level: i.level,
        timers: i.timers,
        deadlines: i.deadlines,
        times: i.times,
        last_at,
    })
}

pub(super) fn fsm_conflict(e: FsmError) -> StoreError {
    match e {
        FsmError::Illegal { from, to } => StoreError::conflict(
            ConflictCode::IllegalTransition,
            format!("{from} → {to} is not allowed"),
        ),
        FsmError::NotMonotone { .. } => {
            StoreError::conflict(ConflictCode::IllegalTransition, e.to_string())
        }
    }
}

/// Who is asking for a transition.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub audit: AuditActor,
    /// Maintenance engineers may only accept, arrive, release and report the cause.
    pub maintainer: bool,
    pub channel: String,
}

impl Actor {
    /// A signed-in principal asking through `channel` (`api`, `web`, or an `X-Channel` name).
    pub fn of(p: &Principal, channel: &str) -> Actor {
        Actor {
            name: p.actor_name(),
            audit: AuditActor::from(p),
            maintainer: p.role == Role::Maintainer,
            channel: channel.into(),
        }
    }
}

/// The nearest maintenance company other than `exclude`, by distance from the elevator.
pub async fn nearest_other_company(
    db: &impl ConnectionTrait,
    city_id: i64,
    e_lat: Option<f64>,
    e_lon: Option<f64>,
    region: &str,
    exclude: &[i64],
) -> R<Option<i64>> {
    let cs = registry::companies(db, city_id).await?;
    let mut best: Option<(f64, i64)> = None;
    for c in cs.iter().filter(|c| !exclude.contains(&c.id)) {
        let d = match (e_lat, e_lon, c.lat, c.lon) {
            (Some(a), Some(b), Some(x), Some(y)) => haversine_km(a, b, x, y),
            // Without coordinates: same district first.
            _ => {
                if c.region_code.get(..6) == region.get(..6) {
                    1e6
                } else {
                    2e6
                }
            }
        };
        if best.is_none_or(|(bd, bid)| d < bd || (d == bd && c.id < bid)) {
            best = Some((d, c.id));
        }
    }
    Ok(best.map(|b| b.1))
}

/// Applies a transition with an optimistic version check, in one transaction with its timeline
/// event. Illegal transitions and stale versions are conflicts.
pub async fn transition<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    s: &Scope,
    actor: &Actor,
    id: i64,
    req: &TransitionReq,
) -> R<Incident> {
    let to = State::parse(&req.to)
        .ok_or_else(|| StoreError::invalid("to", format!("unknown state `{}`", req.to)))?;
    if actor.maintainer
        && !matches!(
            to,
            State::Acknowledged | State::OnScene | State::Released | State::CauseReported
        )
    {
        return Err(StoreError::invalid(
            "to",
            "maintenance engineers may accept, arrive, release or report the cause",
        ));
    }
    let cur = get(db, s, id, false)
        .await?
        .ok_or_else(|| StoreError::NotFound("incident".into()))?;
    if let Some(v) = req.version
        && cur.version != v
    {
        return Err(StoreError::Conflict {
            code: ConflictCode::StaleVersion,
            detail: format!(
                "the incident is at version {}, you sent {v}; reload",
                cur.version
            ),
        });
    }
    let last: DateTime<Utc> = one(
        db,
        "SELECT last_event_at FROM eq_incidents WHERE city_id = ? AND id = ?",
        vec![s.region.city_id.into(), id.into()],
    )
    .await?
    .map(|r| r.try_get("", "last_event_at"))
    .transpose()?
    .unwrap_or_else(sql::now);
    // Clock skew between servers must not make the timeline go backwards.
    let at = sql::now().max(last);
    apply(db, s.region.city_id, &cur, last, to, at, actor, req).await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn apply<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    city_id: i64,
    cur: &Incident,
    last: DateTime<Utc>,
    to: State,
    at: DateTime<Utc>,
    actor: &Actor,
    req: &TransitionReq,
) -> R<Incident> {
    let mut m = machine_of(cur, last)?;
    let from = m.state;
    m.apply(to, at).map_err(fsm_conflict)?;
    let mut company_id = cur.company_id;
    let mut note = req.note.trim().to_string();
    let mut cause = cur.cause_code.clone();
    match to {
        State::Dispatched => company_id = cur.l1_company_id,
        State::EscalatedL2 => {
            let target = match req.company_id {
                Some(c) => {
                    registry::company(db, city_id, c)
                        .await?
                        .ok_or_else(|| StoreError::invalid("company_id", "unknown company"))?;
                    Some(c)
                }
                None => {
                    let e = one(
                        db,
                        "SELECT lat, lon FROM eq_equipment WHERE city_id = ? AND id = ?",
                        vec![city_id.into(), cur.equipment_id.into()],
                    )
                    .await?;
                    let (lat, lon) = match e {
                        Some(r) => (r.try_get("", "lat")?, r.try_get("", "lon")?),
                        None => (None, None),
                    };
                    let exclude: Vec<i64> = [cur.l1_company_id, cur.company_id]
                        .into_iter()
                        .flatten()
                        .collect();
                    nearest_other_company(db, city_id, lat, lon, &cur.region_code, &exclude).await?
                }
            };
            company_id = target.or(company_id);
            if let Some(c) = target {
                let name = registry::company(db, city_id, c)
                    .await?
                    .map(|c| c.name_zh)
                    .unwrap_or_default();
                note = if note.is_empty() {
                    format!("二级响应: {name}")
                } else {
                    format!("{note} (二级响应: {name})")
                };
            }
        }
        State::EscalatedL3 if note.is_empty() => {
            note = "三级响应: 已通知110/119".into();
        }
        State::CauseReported => {
            let c = req.cause_code.as_deref().unwrap_or("").trim();
            if !CAUSES.iter().any(|(k, _, _)| *k == c) {
                return Err(StoreError::invalid(
                    "cause_code",
                    format!(
                        "one of {}",
                        CAUSES.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            cause = Some(c.to_string());
        }
        _ => {}
    }
    let secs = |a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| match (a, b) {
        (Some(a), Some(b)) => Some((b - a).num_seconds().max(0) as i32),
        _ => None,
    };
    let t = m.times;
    let ack_secs = secs(t.dispatched_at, t.acknowledged_at);
    let arrive_secs = secs(t.dispatched_at, t.on_scene_at);
    let rescue_secs = secs(t.on_scene_at, t.released_at);
    let keep_guard = m.state.passengers_waiting();
    let txn = db.begin_write().await?;
    let res = exec(
        &txn,
        &format!(
            "UPDATE eq_incidents SET state = ?, level = ?, company_id = ?, version = version + 1, located_at = ?, dispatched_at = ?, acknowledged_at = ?, on_scene_at = ?, released_at = ?, confirmed_at = ?, closed_at = ?, last_event_at = ?, dispatch_by = ?, ack_by = ?, arrive_by = ?, cause_code = ?, ack_secs = ?, arrive_secs = ?, rescue_secs = ?{} WHERE city_id = ? AND id = ? AND version = ?",
            if keep_guard { "" } else { ", open_guard = NULL" }
        ),
        vec![
            m.state.as_str().into(),
            m.level.into(),
            company_id.into(),
            t.located_at.into(),
            t.dispatched_at.into(),
            t.acknowledged_at.into(),
            t.on_scene_at.into(),
            t.released_at.into(),
            t.confirmed_at.into(),
            t.closed_at.into(),
            at.into(),
            m.deadlines.dispatch_by.into(),
            m.deadlines.ack_by.into(),
            m.deadlines.arrive_by.into(),
            cause.into(),
            ack_secs.into(),
            arrive_secs.into(),
            rescue_secs.into(),
            city_id.into(),
            cur.id.into(),
            cur.version.into(),
        ],
    )
    .await?;
    if res.rows_affected() != 1 {
        txn.rollback().await.ok();
        return Err(StoreError::Conflict {
            code: ConflictCode::StaleVersion,
            detail: "the incident was changed by someone else; reload".into(),
        });
    }
    append_event(
        &txn,
        city_id,
        cur.id,
        at,
        "transition",
        Some(from.as_str()),
        to.as_str(),
        &actor.name,
        &actor.channel,
        &note,
    )
    .await?;
    audit::record(
        &txn,
        city_id,
        &actor.audit,
        "equipment.incident.transition",
        "eq_incident",
        &cur.id.to_string(),
        Some(serde_json::json!({"state": from.as_str(), "version": cur.version})),
        Some(serde_json::json!({"state": to.as_str(), "version": cur.version + 1, "note": note})),
    )
    .await?;
    txn.commit().await?;
    get(db, &Scope::city(CityId(city_id)), cur.id, true)
        .await?
        .ok_or_else(|| StoreError::NotFound("incident".into()))
}
