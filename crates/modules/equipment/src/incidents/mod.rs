//! 96333 incidents: durable intake (idempotent), optimistic-concurrency transitions through the
//! pure state machine, the append-only timeline, the escalation scanner over stored deadlines,
//! IoT alarm ingest with de-duplication, and KPIs.
//!
//! One file per part, each re-exported here so that every item is `crate::incidents::X`:
//! `intake` (接警: validation, the durable write, group commit), `transitions` (the state
//! machine applied with a version check), `timers` (the response time limits per region),
//! `scanner` (escalation over stored deadlines), `alarms` (IoT alarm frames) and `kpis`. This
//! file holds what they share: the incident as the API shows it, its reads, and the timeline.

mod alarms;
mod intake;
mod kpis;
mod scanner;
mod timers;
mod transitions;

pub use alarms::*;
pub use intake::*;
pub use kpis::*;
pub use scanner::*;
pub use timers::*;
pub use transitions::*;

use crate::fsm::{Deadlines, Milestones, State, Timers};
use crate::sql::{all, exec, like, one};
use chrono::{DateTime, Utc};
use qcity_platform::audit::Actor as AuditActor;
use qcity_platform::store::StoreError;
use qcity_platform::{OwnerColumns, Scope};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use serde::{Deserialize, Serialize};

type R<T> = Result<T, StoreError>;

/// How the call came in.
pub const CHANNELS: [&str; 3] = ["phone", "in_car", "iot"];

/// Fault-cause codes (after CPASE M 001-2015 annex D and the Jiangsu 2023 split).
pub const CAUSES: [(&str, &str, &str); 7] = [
    ("misuse", "使用不当", "Improper use"),
    ("door", "门系统故障", "Door system"),
    ("control", "控制系统故障", "Control system"),
    ("traction", "曳引/驱动系统故障", "Traction / drive"),
    ("external", "外部原因(停电等)", "External (power cut etc.)"),
    ("maintenance", "维保不当", "Poor maintenance"),
    ("other", "其他", "Other"),
];

/// Intake body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewIncident {
    /// 应急救援识别码 of the elevator.
    pub rescue_code: String,
    /// `phone`, `in_car` or `iot`.
    pub channel: String,
    #[serde(default)]
    pub caller_phone: String,
}

/// One entry of the append-only timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineEvent {
    pub seq: i32,
    pub at: DateTime<Utc>,
    /// `transition` or `alert`.
    pub kind: String,
    pub from: Option<String>,
    pub to: String,
    pub actor: String,
    pub channel: String,
    pub note: String,
}

/// An incident as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: i64,
    pub equipment_id: i64,
    pub rescue_code: String,
    pub region_code: String,
    pub channel: String,
    pub caller_phone: String,
    pub state: String,
    /// Response level 1–3.
    pub level: i32,
    pub version: i32,
    /// Contracted maintenance company (level 1).
    pub l1_company_id: Option<i64>,
    /// Unit currently responsible.
    pub company_id: Option<i64>,
    pub company_name_zh: Option<String>,
    pub company_name_en: Option<String>,
    pub company_duty_phone: Option<String>,
    pub address: String,
    pub use_unit: String,
    pub timers: Timers,
    pub times: Milestones,
    pub deadlines: Deadlines,
    pub arrival_alerted: bool,
    /// The scanner proposes a level-3 (110/119) response.
    pub propose_l3: bool,
    pub cause_code: Option<String>,
    pub alarm_code: Option<String>,
    pub ack_secs: Option<i32>,
    pub arrive_secs: Option<i32>,
    pub rescue_secs: Option<i32>,
    pub created_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineEvent>>,
    /// The legal next states.
    pub next: Vec<String>,
}

const INC_SELECT: &str = "SELECT i.*, c.name_zh AS c_name_zh, c.name_en AS c_name_en, c.duty_phone AS c_duty_phone, e.address AS e_address, e.use_unit AS e_use_unit FROM eq_incidents i JOIN eq_equipment e ON e.city_id = i.city_id AND e.id = i.equipment_id LEFT JOIN eq_companies c ON c.city_id = i.city_id AND c.id = i.company_id";

fn incident_from(r: &QueryResult) -> R<Incident> {
    let state: String = r.try_get("", "state")?;
    let next = State::parse(&state)
        .map(|s| s.next().iter().map(|n| n.as_str().to_string()).collect())
        .unwrap_or_default();
    Ok(Incident {
        id: r.try_get("", "id")?,
        equipment_id: r.try_get("", "equipment_id")?,
        rescue_code: r.try_get("", "rescue_code")?,
        region_code: r.try_get("", "region_code")?,
        channel: r.try_get("", "channel")?,
        caller_phone: r.try_get("", "caller_phone")?,
        state,
        level: r.try_get("", "level")?,
        version: r.try_get("", "version")?,
        l1_company_id: r.try_get("", "l1_company_id")?,
        company_id: r.try_get("", "company_id")?,
        company_name_zh: r.try_get("", "c_name_zh")?,
        company_name_en: r.try_get("", "c_name_en")?,
        company_duty_phone: r.try_get("", "c_duty_phone")?,
        address: r.try_get("", "e_address")?,
        use_unit: r.try_get("", "e_use_unit")?,
        timers: Timers {
            dispatch_secs: r.try_get::<i32>("", "dispatch_secs")? as i64,
            ack_secs: r.try_get::<i32>("", "ack_limit_secs")? as i64,
            arrive_secs: r.try_get::<i32>("", "arrive_limit_secs")? as i64,
        },
        times: Milestones {
            received_at: Some(r.try_get("", "received_at")?),
            located_at: r.try_get("", "located_at")?,
            dispatched_at: r.try_get("", "dispatched_at")?,
            acknowledged_at: r.try_get("", "acknowledged_at")?,
            on_scene_at: r.try_get("", "on_scene_at")?,
            released_at: r.try_get("", "released_at")?,
            confirmed_at: r.try_get("", "confirmed_at")?,
            closed_at: r.try_get("", "closed_at")?,
        },
        deadlines: Deadlines {
            dispatch_by: r.try_get("", "dispatch_by")?,
            ack_by: r.try_get("", "ack_by")?,
            arrive_by: r.try_get("", "arrive_by")?,
        },
        arrival_alerted: r.try_get("", "arrival_alerted")?,
        propose_l3: r.try_get("", "propose_l3")?,
        cause_code: r.try_get("", "cause_code")?,
        alarm_code: r.try_get("", "alarm_code")?,
        ack_secs: r.try_get("", "ack_secs")?,
        arrive_secs: r.try_get("", "arrive_secs")?,
        rescue_secs: r.try_get("", "rescue_secs")?,
        created_by: r.try_get("", "created_by")?,
        timeline: None,
        next,
    })
}

/// Appends an event to an incident's timeline, numbered after the last one (in the caller's
/// transaction, after the version-checked update of the incident that serialises writers).
#[allow(clippy::too_many_arguments)]
async fn append_event(
    db: &impl ConnectionTrait,
    city_id: i64,
    incident_id: i64,
    at: DateTime<Utc>,
    kind: &str,
    from: Option<&str>,
    to: &str,
    actor: &str,
    channel: &str,
    note: &str,
) -> R<()> {
    let seq = next_seq(db, city_id, incident_id).await?;
    exec(
        db,
        "INSERT INTO eq_incident_events (city_id, incident_id, seq, at, kind, from_state, to_state, actor, channel, note) VALUES (?,?,?,?,?,?,?,?,?,?)",
        vec![
            city_id.into(),
            incident_id.into(),
            seq.into(),
            at.into(),
            kind.into(),
            from.map(str::to_string).into(),
            to.into(),
            actor.into(),
            channel.into(),
            note.into(),
        ],
    )
    .await?;
    Ok(())
}

async fn next_seq(db: &impl ConnectionTrait, city_id: i64, id: i64) -> R<i32> {
    Ok(one(db, "SELECT COALESCE(MAX(seq), 0) AS s FROM eq_incident_events WHERE city_id = ? AND incident_id = ?", vec![city_id.into(), id.into()])
        .await?
        .map(|r| r.try_get::<i32>("", "s"))
        .transpose()?
        .unwrap_or(0)
        + 1)
}

/// The owner column of `eq_incidents` for [`Scope::clause`]: a maintenance company's staff see
/// the incidents their company is currently responsible for.
pub const INCIDENT_OWNER: OwnerColumns<'static> = OwnerColumns {
    company: Some("company_id"),
    enterprise: None,
};

fn scope_sql(s: &Scope) -> (String, Vec<Value>) {
    let mut v: Vec<Value> = Vec::new();
    let w = format!(" WHERE{}", s.clause("i", INCIDENT_OWNER, &mut v));
    (w, v)
}

/// One incident (with its timeline when asked), if in scope.
pub async fn get(
    db: &impl ConnectionTrait,
    s: &Scope,
    id: i64,
    with_timeline: bool,
) -> R<Option<Incident>> {
    let (w, mut v) = scope_sql(s);
    v.push(id.into());
    let Some(r) = one(db, &format!("{INC_SELECT}{w} AND i.id = ?"), v).await? else {
        return Ok(None);
    };
    let mut i = incident_from(&r)?;
    if with_timeline {
        i.timeline = Some(timeline(db, s.region.city_id, id).await?);
    }
    Ok(Some(i))
}

pub async fn timeline(db: &impl ConnectionTrait, city_id: i64, id: i64) -> R<Vec<TimelineEvent>> {
    all(
        db,
        "SELECT * FROM eq_incident_events WHERE city_id = ? AND incident_id = ? ORDER BY seq",
        vec![city_id.into(), id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TimelineEvent {
            seq: r.try_get("", "seq")?,
            at: r.try_get("", "at")?,
            kind: r.try_get("", "kind")?,
            from: r.try_get("", "from_state")?,
            to: r.try_get("", "to_state")?,
            actor: r.try_get("", "actor")?,
            channel: r.try_get("", "channel")?,
            note: r.try_get("", "note")?,
        })
    })
    .collect()
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentFilter {
    /// `open` (not final), `all`, or a state name.
    pub state: Option<String>,
    pub region: Option<String>,
    /// Most incidents returned, 1–2000 (default 200).
    #[param(format = Int64, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
}

pub async fn list(db: &impl ConnectionTrait, s: &Scope, f: &IncidentFilter) -> R<Vec<Incident>> {
    let (mut w, mut v) = scope_sql(s);
    match f.state.as_deref().unwrap_or("open") {
        "all" => {}
        "open" => {
            w.push_str(" AND i.state NOT IN ('closed','cancelled','false_alarm','not_trapped')")
        }
        st => {
            let st = State::parse(st)
                .ok_or_else(|| StoreError::invalid("state", format!("unknown state `{st}`")))?;
            w.push_str(" AND i.state = ?");
            v.push(st.as_str().into());
        }
    }
    if let Some(r) = f.region.as_deref().filter(|r| !r.is_empty()) {
        w.push_str(" AND i.region_code LIKE ?");
        v.push(like(&qcity_platform::auth::scope::scope_prefix(r)).into());
    }
    let limit = f.limit.unwrap_or(200).clamp(1, 2000);
    all(
        db,
        &format!("{INC_SELECT}{w} ORDER BY i.received_at DESC, i.id DESC LIMIT {limit}"),
        v,
    )
    .await?
    .iter()
    .map(incident_from)
    .collect()
}

/// The name an audit actor goes by on the timeline.
pub fn actor_name(a: &AuditActor) -> String {
    match a {
        AuditActor::Principal { name, .. } => name.clone(),
        AuditActor::System(n) => n.clone(),
    }
}
