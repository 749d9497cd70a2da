//! 96333 incidents: durable intake (idempotent), optimistic-concurrency transitions through the
//! pure state machine, the append-only timeline, the escalation scanner over stored deadlines,
//! IoT alarm ingest with de-duplication, and KPIs.

use crate::domain::{AlarmCode, haversine_km};
use crate::fsm::{Deadlines, FsmError, Machine, Milestones, State, Timers};
use crate::registry::{self, Equipment, Scope};
use crate::sql::{self, all, exec, like, one};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use qcity_platform::audit::{self, Actor as AuditActor};
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use qcity_platform::store::group_commit::GroupCommit;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, QueryResult, TransactionSession, TransactionTrait, Value,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

fn machine_of(i: &Incident, last_at: DateTime<Utc>) -> R<Machine> {
    Ok(Machine {
        state: State::parse(&i.state)
            .ok_or_else(|| StoreError::Conflict(format!("unknown state {}", i.state)))?,
        level: i.level,
        timers: i.timers,
        deadlines: i.deadlines,
        times: i.times,
        last_at,
    })
}

/// The timers that apply in a region: the most specific configured row along the region's
/// ancestry, else the defaults by `regions.urban`.
pub async fn timers_for(db: &impl ConnectionTrait, city_id: i64, region_code: &str) -> R<Timers> {
    let rows = all(
        db,
        "SELECT region_code, dispatch_secs, ack_secs, arrive_secs FROM eq_timers WHERE city_id = ?",
        vec![city_id.into()],
    )
    .await?;
    let mut best = BestTimers::default();
    for r in rows {
        best.offer(
            region_code,
            &r.try_get::<String>("", "region_code")?,
            || timers_from(&r, ""),
        )?;
    }
    if let Some(t) = best.timers() {
        return Ok(t);
    }
    // The district (6-digit) decides urban vs county.
    let district: String = region_code.chars().take(6).collect();
    let urban: bool = one(
        db,
        "SELECT urban FROM regions WHERE city_id = ? AND code = ?",
        vec![city_id.into(), district.into()],
    )
    .await?
    .map(|r| r.try_get("", "urban"))
    .transpose()?
    .unwrap_or(true);
    Ok(Timers::default_for(urban))
}

/// `dispatch_secs`, `ack_secs`, `arrive_secs` of an `eq_timers` row (columns prefixed `pre`).
fn timers_from(r: &QueryResult, pre: &str) -> R<Timers> {
    Ok(Timers {
        dispatch_secs: r.try_get::<i32>("", &format!("{pre}dispatch_secs"))? as i64,
        ack_secs: r.try_get::<i32>("", &format!("{pre}ack_secs"))? as i64,
        arrive_secs: r.try_get::<i32>("", &format!("{pre}arrive_secs"))? as i64,
    })
}

/// The most specific configured timers row along a region's ancestry.
#[derive(Default)]
struct BestTimers(Option<(usize, Timers)>);

impl BestTimers {
    /// Considers the row configured for `row_region` (its timers read only if it applies).
    fn offer(
        &mut self,
        region_code: &str,
        row_region: &str,
        timers: impl FnOnce() -> R<Timers>,
    ) -> R<()> {
        let p = qcity_platform::auth::scope::scope_prefix(row_region);
        if region_code.starts_with(&p) && self.0.as_ref().is_none_or(|(l, _)| p.len() > *l) {
            self.0 = Some((p.len(), timers()?));
        }
        Ok(())
    }

    fn timers(&self) -> Option<Timers> {
        self.0.map(|(_, t)| t)
    }
}

/// Sets a region's timers.
pub async fn set_timers(
    db: &impl ConnectionTrait,
    city_id: i64,
    region_code: &str,
    t: Timers,
) -> R<()> {
    for (f, v) in [
        ("dispatch_secs", t.dispatch_secs),
        ("ack_secs", t.ack_secs),
        ("arrive_secs", t.arrive_secs),
    ] {
        if !(1..=86_400).contains(&v) {
            return Err(StoreError::invalid(f, "must be 1 s to 24 h"));
        }
    }
    let exists = one(
        db,
        "SELECT code FROM regions WHERE city_id = ? AND code = ?",
        vec![city_id.into(), region_code.into()],
    )
    .await?;
    if exists.is_none() {
        return Err(StoreError::invalid(
            "region_code",
            format!("unknown region `{region_code}`"),
        ));
    }
    exec(
        db,
        "DELETE FROM eq_timers WHERE city_id = ? AND region_code = ?",
        vec![city_id.into(), region_code.into()],
    )
    .await?;
    exec(
        db,
        "INSERT INTO eq_timers (city_id, region_code, dispatch_secs, ack_secs, arrive_secs) VALUES (?,?,?,?,?)",
        vec![city_id.into(), region_code.into(), (t.dispatch_secs as i32).into(), (t.ack_secs as i32).into(), (t.arrive_secs as i32).into()],
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_event(
    db: &impl ConnectionTrait,
    city_id: i64,
    incident_id: i64,
    seq: i32,
    at: DateTime<Utc>,
    kind: &str,
    from: Option<&str>,
    to: &str,
    actor: &str,
    channel: &str,
    note: &str,
) -> R<()> {
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

/// Local (China Standard Time) hour of a UTC time.
pub fn local_hour(t: DateTime<Utc>) -> i32 {
    qcity_platform::time::local(t).hour() as i32
}

/// Options of an intake beyond the body.
#[derive(Debug, Clone, Default)]
pub struct IntakeOpts {
    pub idem_key: Option<String>,
    pub alarm_code: Option<String>,
    /// Guard against a second open IoT incident for the same elevator.
    pub open_guard: bool,
    /// Time of receipt (demo history); `None` = now.
    pub at: Option<DateTime<Utc>>,
}

/// An intake validated and resolved (elevator, timers, state machine) outside any write
/// transaction: what [`write_intake`] stores.
#[derive(Debug, Clone)]
pub struct PreparedIntake {
    scope: Scope,
    who: AuditActor,
    actor: String,
    id: i64,
    equipment: Equipment,
    rescue: String,
    channel: String,
    caller_phone: String,
    timers: Timers,
    machine: Machine,
    at: DateTime<Utc>,
    idem_key: Option<String>,
    guard: Option<String>,
    alarm_code: Option<String>,
}

/// What [`prepare_intake`] found.
#[derive(Debug)]
pub enum Intake {
    /// An incident already stored under this idempotency key (a committed retry).
    Existing(Box<Incident>),
    /// A new incident, ready to be written.
    New(Box<PreparedIntake>),
}

/// What [`write_intake`] did.
#[derive(Debug)]
pub enum Written {
    /// The incident, its first two timeline events and its audit entry were inserted.
    Created(i64),
    /// Another incident holds the idempotency key (or the open guard) — committed, or written
    /// earlier in the same transaction (a retry in the same group); nothing was written.
    Existing(i64),
}

/// The elevator of an intake with what the intake needs besides, in one statement: the
/// contracted company (as [`registry::by_rescue_code`]), the district's `urban` flag and every
/// configured timers row of the city (one result row each; usually a handful), from which the
/// most specific one along the region's ancestry is picked as [`timers_for`] does.
const INTAKE_ELEVATOR: &str = "SELECT e.*, c.name_zh AS c_name_zh, c.name_en AS c_name_en, c.duty_phone AS c_duty_phone, \
     (SELECT r.urban FROM regions r WHERE r.city_id = e.city_id AND r.code = substr(e.region_code, 1, 6)) AS r_urban, \
     t.region_code AS t_region_code, t.dispatch_secs AS t_dispatch_secs, t.ack_secs AS t_ack_secs, t.arrive_secs AS t_arrive_secs \
     FROM eq_equipment e LEFT JOIN eq_companies c ON c.city_id = e.city_id AND c.id = e.company_id \
     LEFT JOIN eq_timers t ON t.city_id = e.city_id";

/// The elevator with `rescue` in scope and the timers of its region (one query).
async fn intake_elevator(
    db: &impl ConnectionTrait,
    s: &Scope,
    rescue: &str,
) -> R<Option<(Equipment, Timers)>> {
    let f = registry::EquipmentFilter {
        rescue_code: Some(rescue.to_string()),
        ..Default::default()
    };
    let (w, v) = registry::where_clause(s, &f)?;
    let rows = all(db, &format!("{INTAKE_ELEVATOR}{w}"), v).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let e = registry::equipment_from(first, registry::today())?;
    let mut best = BestTimers::default();
    for r in &rows {
        if let Some(code) = r.try_get::<Option<String>>("", "t_region_code")? {
            best.offer(&e.region_code, &code, || timers_from(r, "t_"))?;
        }
    }
    let timers = match best.timers() {
        Some(t) => t,
        None => {
            let urban: Option<bool> = first.try_get("", "r_urban")?;
            Timers::default_for(urban.unwrap_or(true))
        }
    };
    Ok(Some((e, timers)))
}

/// Validates an intake and resolves everything it needs from the database, without writing:
/// one query (the elevator, its company and its timers). An idempotency key is checked by the
/// insert's unique index ([`write_intake`]), not here; only an intake that fails validation
/// looks for an incident already stored under its key (a replay is answered with the original
/// even if the elevator has since left the caller's reach).
pub async fn prepare_intake(
    db: &impl ConnectionTrait,
    s: &Scope,
    who: &AuditActor,
    n: &NewIncident,
    opts: &IntakeOpts,
) -> R<Intake> {
    if let Some(k) = &opts.idem_key
        && (k.is_empty() || k.len() > 200)
    {
        return Err(StoreError::invalid("Idempotency-Key", "1–200 characters"));
    }
    match resolve_intake(db, s, who, n, opts).await {
        Ok(p) => Ok(Intake::New(Box::new(p))),
        Err(err) => match &opts.idem_key {
            Some(k) => match by_idem_key(db, s, k).await? {
                Some(i) => Ok(Intake::Existing(Box::new(i))),
                None => Err(err),
            },
            None => Err(err),
        },
    }
}

async fn resolve_intake(
    db: &impl ConnectionTrait,
    s: &Scope,
    who: &AuditActor,
    n: &NewIncident,
    opts: &IntakeOpts,
) -> R<PreparedIntake> {
    if !CHANNELS.contains(&n.channel.as_str()) {
        return Err(StoreError::invalid("channel", "phone, in_car or iot"));
    }
    if n.caller_phone.len() > 32 {
        return Err(StoreError::invalid("caller_phone", "too long"));
    }
    let rescue = crate::domain::parse_rescue_code(&n.rescue_code)
        .map_err(|e| StoreError::invalid("rescue_code", e.to_string()))?;
    let (e, timers) = intake_elevator(db, s, &rescue).await?.ok_or_else(|| {
        StoreError::invalid(
            "rescue_code",
            format!("no elevator with rescue code {rescue} in your region"),
        )
    })?;
    let at = opts.at.unwrap_or_else(sql::now);
    let mut m = Machine::received(at, timers);
    m.apply(State::Located, at).map_err(fsm_conflict)?;
    let guard = opts.open_guard.then(|| format!("elev:{}", e.id));
    Ok(PreparedIntake {
        scope: s.clone(),
        who: who.clone(),
        actor: actor_name(who),
        id: qcity_platform::ids::new_id(),
        equipment: e,
        rescue,
        channel: n.channel.clone(),
        caller_phone: n.caller_phone.trim().to_string(),
        timers,
        machine: m,
        at,
        idem_key: opts.idem_key.clone(),
        guard,
        alarm_code: opts.alarm_code.clone(),
    })
}

/// Writes a prepared intake in `txn`: the incident row (state, deadlines, idempotency key, open
/// guard), its first timeline events (received, located; one statement) and the audit entry.
/// The insert does nothing when the idempotency key or the open guard is already held — by a
/// committed incident, by one written earlier in the same transaction (two retries in one group
/// commit), or, on PostgreSQL, by a concurrent writer, which it waits for — and the holder is
/// then looked up in the same transaction.
pub async fn write_intake(txn: &impl ConnectionTrait, p: &PreparedIntake) -> R<Written> {
    let city_id = p.scope.city_id;
    let (e, m, timers, at, id) = (&p.equipment, &p.machine, p.timers, p.at, p.id);
    let actor = p.actor.as_str();
    let r = exec(
        txn,
        "INSERT INTO eq_incidents (city_id, id, equipment_id, region_code, rescue_code, channel, caller_phone, state, level, l1_company_id, company_id, version, dispatch_secs, ack_limit_secs, arrive_limit_secs, received_at, located_at, last_event_at, dispatch_by, arrival_alerted, propose_l3, idem_key, open_guard, alarm_code, received_hour, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        vec![
            city_id.into(),
            id.into(),
            e.id.into(),
            e.region_code.clone().into(),
            p.rescue.clone().into(),
            p.channel.clone().into(),
            p.caller_phone.clone().into(),
            m.state.as_str().into(),
            m.level.into(),
            e.company_id.into(),
            e.company_id.into(),
            1i32.into(),
            (timers.dispatch_secs as i32).into(),
            (timers.ack_secs as i32).into(),
            (timers.arrive_secs as i32).into(),
            at.into(),
            m.times.located_at.into(),
            at.into(),
            m.deadlines.dispatch_by.into(),
            false.into(),
            false.into(),
            p.idem_key.clone().into(),
            p.guard.clone().into(),
            p.alarm_code.clone().into(),
            local_hour(at).into(),
            actor.into(),
        ],
    )
    .await?;
    if r.rows_affected() == 0 {
        for (col, v) in [("idem_key", &p.idem_key), ("open_guard", &p.guard)] {
            if let Some(v) = v
                && let Some(r) = one(
                    txn,
                    &format!("SELECT id FROM eq_incidents WHERE city_id = ? AND {col} = ?"),
                    vec![city_id.into(), v.clone().into()],
                )
                .await?
            {
                return Ok(Written::Existing(r.try_get("", "id")?));
            }
        }
        // Neither the key nor the guard: the (random) id itself collided.
        return Err(StoreError::Conflict(
            "incident id already taken; retry".into(),
        ));
    }
    exec(
        txn,
        "INSERT INTO eq_incident_events (city_id, incident_id, seq, at, kind, from_state, to_state, actor, channel, note) VALUES (?,?,?,?,?,?,?,?,?,?), (?,?,?,?,?,?,?,?,?,?)",
        first_events(p)
            .into_iter()
            .flat_map(|ev| {
                [
                    city_id.into(),
                    id.into(),
                    ev.seq.into(),
                    ev.at.into(),
                    ev.kind.into(),
                    ev.from.into(),
                    ev.to.into(),
                    ev.actor.into(),
                    ev.channel.into(),
                    ev.note.into(),
                ]
            })
            .collect(),
    )
    .await?;
    audit::record(txn, city_id, &p.who, "incident.create", "eq_incident", &id.to_string(), None, Some(serde_json::json!({"rescue_code": p.rescue, "channel": p.channel, "idempotency_key": p.idem_key}))).await?;
    Ok(Written::Created(id))
}

/// The first two timeline events of an intake: received, then located (at the elevator's
/// address).
fn first_events(p: &PreparedIntake) -> [TimelineEvent; 2] {
    let ev = |seq, from: Option<&str>, to: &str, note: &str| TimelineEvent {
        seq,
        at: p.at,
        kind: "transition".into(),
        from: from.map(str::to_string),
        to: to.into(),
        actor: p.actor.clone(),
        channel: p.channel.clone(),
        note: note.into(),
    };
    [
        ev(1, None, "received", ""),
        ev(2, Some("received"), "located", &p.equipment.address),
    ]
}

/// The incident [`write_intake`] stored, built from what it inserted (the same as reading it
/// back: no statement).
fn created_incident(p: &PreparedIntake) -> Incident {
    let (e, m) = (&p.equipment, &p.machine);
    Incident {
        id: p.id,
        equipment_id: e.id,
        rescue_code: p.rescue.clone(),
        region_code: e.region_code.clone(),
        channel: p.channel.clone(),
        caller_phone: p.caller_phone.clone(),
        state: m.state.as_str().to_string(),
        level: m.level,
        version: 1,
        l1_company_id: e.company_id,
        company_id: e.company_id,
        company_name_zh: e.company_name_zh.clone(),
        company_name_en: e.company_name_en.clone(),
        company_duty_phone: e.company_duty_phone.clone(),
        address: e.address.clone(),
        use_unit: e.use_unit.clone(),
        timers: p.timers,
        times: Milestones {
            received_at: Some(p.at),
            located_at: m.times.located_at,
            ..Default::default()
        },
        deadlines: Deadlines {
            dispatch_by: m.deadlines.dispatch_by,
            ack_by: None,
            arrive_by: None,
        },
        arrival_alerted: false,
        propose_l3: false,
        cause_code: None,
        alarm_code: p.alarm_code.clone(),
        ack_secs: None,
        arrive_secs: None,
        rescue_secs: None,
        created_by: p.actor.clone(),
        timeline: Some(first_events(p).into()),
        next: m
            .state
            .next()
            .iter()
            .map(|n| n.as_str().to_string())
            .collect(),
    }
}

/// The incident a prepared intake's write led to, after its commit: `(incident, created)`.
/// A new incident is answered from what was written; an existing one is read.
async fn written_incident(
    db: &impl ConnectionTrait,
    p: &PreparedIntake,
    w: Written,
) -> R<(Incident, bool)> {
    let id = match w {
        Written::Created(_) => return Ok((created_incident(p), true)),
        Written::Existing(id) => id,
    };
    match get(db, &p.scope, id, true).await? {
        Some(i) => Ok((i, false)),
        // The key is held by an incident the caller may not see.
        None => Err(StoreError::Conflict(
            "Idempotency-Key already used for another incident".into(),
        )),
    }
}

/// Creates an incident as received → located, durably, in its own transaction. With an
/// idempotency key (or an open guard) a repeat returns the existing incident and `false`.
/// Request paths use [`create_grouped`] (one fsync for many intakes); this is for batch paths
/// that already hold their own serialisation (IoT ingest, demo data).
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    s: &Scope,
    who: &AuditActor,
    n: &NewIncident,
    opts: &IntakeOpts,
) -> R<(Incident, bool)> {
    let p = match prepare_intake(db, s, who, n, opts).await? {
        Intake::Existing(i) => return Ok((*i, false)),
        Intake::New(p) => p,
    };
    let txn = db.begin_write().await?;
    let w = write_intake(&txn, &p).await?;
    if matches!(w, Written::Created(_)) {
        txn.commit().await?;
    } else {
        txn.rollback().await?;
    }
    written_incident(db, &p, w).await
}

/// The 96333 intake's group-commit writer on this server (its own lane: survey imports or
/// other modules' writes never sit in front of a trapped passenger's call).
pub fn intake_writer(st: &qcity_platform::web::AppState) -> std::sync::Arc<GroupCommit> {
    GroupCommit::for_server(st, "equipment.incidents")
}

/// [`create`] through a group-commit writer ([`GroupCommit`]): validation and look-ups run
/// concurrently before, the writes run in the writer's next group (a savepoint each), and the
/// answer comes only after that group is durably committed — also for a retry answered with an
/// incident written earlier in the same group.
pub async fn create_grouped(
    gc: &GroupCommit,
    db: &DatabaseConnection,
    s: &Scope,
    who: &AuditActor,
    n: &NewIncident,
    opts: &IntakeOpts,
) -> R<(Incident, bool)> {
    let p = match prepare_intake(db, s, who, n, opts).await? {
        Intake::Existing(i) => return Ok((*i, false)),
        Intake::New(p) => p,
    };
    let p = std::sync::Arc::new(*p);
    let job = p.clone();
    let w = gc
        .run(move |txn| {
            Box::pin(async move {
                // A found incident is kept (nothing written) so that the answer waits for the
                // commit of whatever wrote it (possibly an earlier job of this group).
                let w = write_intake(txn, &job).await?;
                Ok::<_, StoreError>((w, true))
            })
        })
        .await?;
    written_incident(db, &p, w).await
}

/// The incident stored under an idempotency key, if the caller may see it.
async fn by_idem_key(db: &impl ConnectionTrait, s: &Scope, key: &str) -> R<Option<Incident>> {
    let r = one(
        db,
        "SELECT id FROM eq_incidents WHERE city_id = ? AND idem_key = ?",
        vec![s.city_id.into(), key.into()],
    )
    .await?;
    match r {
        Some(r) => get(db, s, r.try_get("", "id")?, true).await,
        None => Ok(None),
    }
}

fn scope_sql(s: &Scope) -> (String, Vec<Value>) {
    let mut w = String::from(" WHERE i.city_id = ? AND i.region_code LIKE ?");
    let mut v: Vec<Value> = vec![s.city_id.into(), like(&s.prefix).into()];
    if let Some(c) = s.company_id {
        w.push_str(" AND i.company_id = ?");
        v.push(c.into());
    }
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
        i.timeline = Some(timeline(db, s.city_id, id).await?);
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

fn fsm_conflict(e: FsmError) -> StoreError {
    match e {
        FsmError::Illegal { from, to } => StoreError::ConflictCode {
            code: "illegal_transition",
            detail: format!("{from} → {to} is not allowed"),
        },
        FsmError::NotMonotone { .. } => StoreError::ConflictCode {
            code: "illegal_transition",
            detail: e.to_string(),
        },
    }
}

/// The name an audit actor goes by on the timeline.
pub fn actor_name(a: &AuditActor) -> String {
    match a {
        AuditActor::Principal { name, .. } => name.clone(),
        AuditActor::System(n) => n.clone(),
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
        return Err(StoreError::ConflictCode {
            code: "stale_version",
            detail: format!(
                "the incident is at version {}, you sent {v}; reload",
                cur.version
            ),
        });
    }
    let last: DateTime<Utc> = one(
        db,
        "SELECT last_event_at FROM eq_incidents WHERE city_id = ? AND id = ?",
        vec![s.city_id.into(), id.into()],
    )
    .await?
    .map(|r| r.try_get("", "last_event_at"))
    .transpose()?
    .unwrap_or_else(sql::now);
    // Clock skew between servers must not make the timeline go backwards.
    let at = sql::now().max(last);
    apply(db, s.city_id, &cur, last, to, at, actor, req).await
}

#[allow(clippy::too_many_arguments)]
async fn apply<C: ConnectionTrait + TransactionTrait>(
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
        return Err(StoreError::ConflictCode {
            code: "stale_version",
            detail: "the incident was changed by someone else; reload".into(),
        });
    }
    let seq = next_seq(&txn, city_id, cur.id).await?;
    insert_event(
        &txn,
        city_id,
        cur.id,
        seq,
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
        "incident.transition",
        "eq_incident",
        &cur.id.to_string(),
        Some(serde_json::json!({"state": from.as_str(), "version": cur.version})),
        Some(serde_json::json!({"state": to.as_str(), "version": cur.version + 1, "note": note})),
    )
    .await?;
    txn.commit().await?;
    let s = Scope {
        city_id,
        prefix: String::new(),
        company_id: None,
    };
    get(db, &s, cur.id, true)
        .await?
        .ok_or_else(|| StoreError::NotFound("incident".into()))
}

/// Records an alert on the timeline (flags set, version bumped), with the same version check.
async fn alert<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    city_id: i64,
    cur: &Incident,
    set: &str,
    note: &str,
    at: DateTime<Utc>,
) -> R<bool> {
    let txn = db.begin_write().await?;
    let res = exec(&txn, &format!("UPDATE eq_incidents SET {set}, version = version + 1, last_event_at = ? WHERE city_id = ? AND id = ? AND version = ?"), vec![at.into(), city_id.into(), cur.id.into(), cur.version.into()]).await?;
    if res.rows_affected() != 1 {
        txn.rollback().await.ok();
        return Ok(false);
    }
    let seq = next_seq(&txn, city_id, cur.id).await?;
    insert_event(
        &txn,
        city_id,
        cur.id,
        seq,
        at,
        "alert",
        Some(&cur.state),
        &cur.state,
        "system",
        "timer",
        note,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// What one scan did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanReport {
    pub escalated_l2: usize,
    pub ack_alerts: usize,
    pub arrival_alerts: usize,
}

/// Scans stored deadlines of every city and acts: a missed acknowledgement escalates to level 2
/// (nearest other maintenance unit); a missed level-2 acknowledgement or a missed arrival alerts
/// the dispatcher and proposes level 3. Safe to run from several processes (version checks).
pub async fn scan<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> R<ScanReport> {
    let mut rep = ScanReport::default();
    let sys = Actor {
        name: "system".into(),
        audit: AuditActor::System("96333 timer".into()),
        maintainer: false,
        channel: "timer".into(),
    };
    let rows = all(db, &format!("{INC_SELECT} WHERE i.state IN ('dispatched','escalated_l2') AND i.ack_by IS NOT NULL AND i.ack_by < ? LIMIT 500"), vec![now.into()]).await?;
    for r in rows {
        let cur = incident_from(&r)?;
        let city_id: i64 = r.try_get("", "city_id")?;
        let last: DateTime<Utc> = r.try_get("", "last_event_at")?;
        if cur.state == "dispatched" {
            let req = TransitionReq {
                to: "escalated_l2".into(),
                version: Some(cur.version),
                note: "确认超时, 自动升级".into(),
                cause_code: None,
                company_id: None,
            };
            match apply(
                db,
                city_id,
                &cur,
                last,
                State::EscalatedL2,
                now.max(last),
                &sys,
                &req,
            )
            .await
            {
                Ok(_) => rep.escalated_l2 += 1,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        } else if alert(
            db,
            city_id,
            &cur,
            "ack_by = NULL, propose_l3 = TRUE",
            "二级响应确认超时: 建议启动三级响应",
            now.max(last),
        )
        .await?
        {
            rep.ack_alerts += 1;
        }
    }
    let rows = all(db, &format!("{INC_SELECT} WHERE i.state IN ('dispatched','acknowledged','escalated_l2','escalated_l3') AND i.arrive_by IS NOT NULL AND i.arrive_by < ? AND i.arrival_alerted = ? LIMIT 500"), vec![now.into(), false.into()]).await?;
    for r in rows {
        let cur = incident_from(&r)?;
        let city_id: i64 = r.try_get("", "city_id")?;
        let last: DateTime<Utc> = r.try_get("", "last_event_at")?;
        if alert(
            db,
            city_id,
            &cur,
            "arrival_alerted = TRUE, propose_l3 = TRUE",
            "到场超时: 建议启动三级响应 (110/119)",
            now.max(last),
        )
        .await?
        {
            rep.arrival_alerts += 1;
        }
    }
    Ok(rep)
}

// ---------------------------------------------------------------- IoT alarms

/// An alarm frame from an elevator monitor.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AlarmFrame {
    pub rescue_code: String,
    /// Alarm code per GB/T 24476 practice: `01` … `0d`, `10` (hex).
    pub alarm_code: String,
    /// When the device raised it.
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    pub device_id: String,
}

/// What became of an alarm frame.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlarmOutcome {
    /// `created`, `duplicate`, `not_trapped`, `unknown_elevator` or `invalid`.
    pub outcome: String,
    pub incident_id: Option<i64>,
    pub alarm_id: i64,
}

/// Ingests one frame (see [`ingest_batch`]).
pub async fn ingest_alarm<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    city_id: i64,
    city_prefix: &str,
    f: &AlarmFrame,
    source: &str,
) -> R<AlarmOutcome> {
    let mut v = ingest_batch(db, city_id, city_prefix, std::slice::from_ref(f), source).await?;
    v.pop()
        .ok_or_else(|| StoreError::NotFound("alarm outcome".into()))
}

/// States in which passengers may still be waiting (an IoT alarm then is a duplicate).
const OPEN_STATES: &str = "('received','located','reassured','dispatched','acknowledged','escalated_l2','escalated_l3','on_scene')";

/// Ingests a batch of frames of one city, in order, with a few statements for the whole batch:
/// every frame is recorded (one multi-row insert in one transaction); a trapped-type alarm on
/// a known elevator creates an incident unless one is already open for that elevator, from
/// the database or from an earlier frame of the batch (de-duplication). Incidents are created
/// (and durably committed) before the frames that refer to them. Callers serialise batches
/// per process ([`crate::ingest_batch`]); the open-incident guard covers other processes.
pub async fn ingest_batch<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    city_id: i64,
    city_prefix: &str,
    frames: &[AlarmFrame],
    source: &str,
) -> R<Vec<AlarmOutcome>> {
    if frames.is_empty() {
        return Ok(Vec::new());
    }
    let s = Scope::city(city_id, city_prefix);
    let parsed: Vec<(Option<AlarmCode>, Option<String>)> = frames
        .iter()
        .map(|f| {
            (
                AlarmCode::parse(&f.alarm_code),
                crate::domain::parse_rescue_code(&f.rescue_code).ok(),
            )
        })
        .collect();
    // Known elevators among the batch's rescue codes.
    let mut codes: Vec<&str> = parsed
        .iter()
        .filter(|(c, _)| c.is_some())
        .filter_map(|(_, r)| r.as_deref())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let mut elevators: std::collections::HashMap<String, i64> = Default::default();
    for chunk in codes.chunks(500) {
        let mut v: Vec<Value> = vec![city_id.into(), like(&s.prefix).into()];
        v.extend(chunk.iter().map(|c| Value::from(*c)));
        for r in all(
            db,
            &format!(
                "SELECT id, rescue_code FROM eq_equipment WHERE city_id = ? AND region_code LIKE ? AND rescue_code IN {}",
                sql::placeholders(chunk.len())
            ),
            v,
        )
        .await?
        {
            elevators.insert(r.try_get("", "rescue_code")?, r.try_get("", "id")?);
        }
    }
    // Open incidents of the elevators with a trapped-type alarm.
    let mut trapped: Vec<i64> = parsed
        .iter()
        .filter(|(c, _)| c.is_some_and(|c| c.trapped()))
        .filter_map(|(_, r)| r.as_ref().and_then(|r| elevators.get(r)).copied())
        .collect();
    trapped.sort_unstable();
    trapped.dedup();
    let mut open: std::collections::HashMap<i64, i64> = Default::default();
    for chunk in trapped.chunks(500) {
        let mut v: Vec<Value> = vec![city_id.into()];
        v.extend(chunk.iter().map(|c| Value::from(*c)));
        for r in all(
            db,
            &format!(
                "SELECT equipment_id, id FROM eq_incidents WHERE city_id = ? AND state IN {OPEN_STATES} AND equipment_id IN {}",
                sql::placeholders(chunk.len())
            ),
            v,
        )
        .await?
        {
            open.insert(r.try_get("", "equipment_id")?, r.try_get("", "id")?);
        }
    }
    let received = sql::now();
    let mut out = Vec::with_capacity(frames.len());
    let mut rows: Vec<Vec<Value>> = Vec::with_capacity(frames.len());
    for (f, (code, rescue)) in frames.iter().zip(parsed) {
        let mut outcome = "invalid";
        let mut incident_id = None;
        if let (Some(code), Some(rescue)) = (code, rescue) {
            match elevators.get(&rescue).copied() {
                None => outcome = "unknown_elevator",
                Some(_) if !code.trapped() => outcome = "not_trapped",
                Some(eid) => {
                    if let Some(i) = open.get(&eid) {
                        outcome = "duplicate";
                        incident_id = Some(*i);
                    } else {
                        let n = NewIncident {
                            rescue_code: rescue.clone(),
                            channel: "iot".into(),
                            caller_phone: String::new(),
                        };
                        let opts = IntakeOpts {
                            open_guard: true,
                            alarm_code: Some(code.as_str()),
                            ..Default::default()
                        };
                        let actor = AuditActor::System(format!(
                            "iot {}",
                            f.device_id.chars().take(64).collect::<String>()
                        ));
                        let (i, created) = create(db, &s, &actor, &n, &opts).await?;
                        outcome = if created { "created" } else { "duplicate" };
                        incident_id = Some(i.id);
                        open.insert(eid, i.id);
                    }
                }
            }
        }
        if outcome == "unknown_elevator" {
            tracing::warn!(rescue_code = %f.rescue_code, device = %f.device_id, "IoT alarm from an unknown elevator recorded");
        }
        let alarm_id = qcity_platform::ids::new_id();
        rows.push(vec![
            city_id.into(),
            alarm_id.into(),
            received.into(),
            f.rescue_code.chars().take(32).collect::<String>().into(),
            f.device_id.chars().take(64).collect::<String>().into(),
            f.alarm_code.chars().take(8).collect::<String>().into(),
            f.timestamp.into(),
            code.is_some_and(|c| c.trapped()).into(),
            incident_id.into(),
            outcome.into(),
            source.into(),
        ]);
        out.push(AlarmOutcome {
            outcome: outcome.into(),
            incident_id,
            alarm_id,
        });
    }
    let txn = db.begin_write().await?;
    sql::insert_many(
        &txn,
        "eq_iot_alarms",
        &[
            "city_id",
            "id",
            "received_at",
            "rescue_code",
            "device_id",
            "alarm_code",
            "alarm_at",
            "trapped",
            "incident_id",
            "outcome",
            "source",
        ],
        rows,
        500,
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

// ---------------------------------------------------------------- KPIs

/// A month `YYYY-MM` as a UTC range of China Standard Time days.
pub fn month_range(month: &str) -> R<(DateTime<Utc>, DateTime<Utc>)> {
    let d = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| StoreError::invalid("month", "YYYY-MM"))?;
    let years = qcity_platform::web::api_extract::YEARS;
    if !years.contains(&d.year()) {
        return Err(StoreError::invalid(
            "month",
            format!("the year must lie in {}–{}", years.start(), years.end()),
        ));
    }
    let out_of_range = || StoreError::invalid("month", "out of range");
    let next = d
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(out_of_range)?;
    let start = |d: NaiveDate| qcity_platform::time::start_of_day(d).ok_or_else(out_of_range);
    Ok((start(d)?, start(next)?))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyKpi {
    pub company_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub trappings: i64,
    pub ack_3min_rate: Option<f64>,
    pub arrive_30min_rate: Option<f64>,
    pub mean_arrival_min: Option<f64>,
    /// Rank 1 = best (arrival rate, then acknowledgement rate, then mean arrival).
    pub rank: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ElevatorKpis {
    pub region: String,
    /// The period: `YYYY-MM`, or `YYYY` for a year.
    pub period: String,
    pub elevators: i64,
    pub incidents: i64,
    pub trappings: i64,
    /// Trappings per 10,000 elevators per month.
    pub trapping_rate_per_10k: Option<f64>,
    /// Share of dispatches acknowledged within 3 minutes (%).
    pub ack_3min_rate: Option<f64>,
    /// Share of trappings with the rescuer on scene within 30 minutes of dispatch (%).
    pub arrive_30min_rate: Option<f64>,
    pub mean_arrival_min: Option<f64>,
    pub p90_arrival_min: Option<f64>,
    pub mean_rescue_min: Option<f64>,
    pub p90_rescue_min: Option<f64>,
    /// Level 1/2/3 counts.
    pub level_mix: BTreeMap<String, i64>,
    pub cause_mix: BTreeMap<String, i64>,
    /// Trappings by local hour 0–23.
    pub hour_mix: Vec<i64>,
    pub companies: Vec<CompanyKpi>,
}

fn pct(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| (n as f64 * 1000.0 / d as f64).round() / 10.0)
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let k = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[k.clamp(1, sorted.len()) - 1])
}

fn r1(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 10.0).round() / 10.0)
}

/// `AND {col} …` restricting a region-code column to a region prefix: `LIKE 'prefix%'`, and for
/// a prefix of digits (region codes are) also the equivalent range `>= prefix AND < next`, which
/// an index on the column can use on both backends (SQLite's `LIKE` is case-insensitive and
/// PostgreSQL's follows the collation, so neither uses a plain index for it).
fn region_filter(col: &str, prefix: &str, v: &mut Vec<Value>) -> String {
    let mut w = String::new();
    if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) {
        w.push_str(&format!(" AND {col} >= ?"));
        v.push(prefix.into());
        // The smallest string above every string starting with `prefix`: drop trailing 9s and
        // increment the last other digit (none left: no upper bound).
        let t = prefix.trim_end_matches('9');
        if let Some(last) = t.bytes().last() {
            let next = format!("{}{}", &t[..t.len() - 1], (last + 1) as char);
            w.push_str(&format!(" AND {col} < ?"));
            v.push(next.into());
        }
    }
    w.push_str(&format!(" AND {col} LIKE ?"));
    v.push(like(prefix).into());
    w
}

/// States that end an incident without anyone trapped: not counted as trappings.
const NOT_TRAPPED: &str = "('cancelled','false_alarm','not_trapped')";

/// KPIs for a region prefix over `[from, to)` spanning `months` months.
///
/// Computed in the database in a few passes over the period's incidents (index
/// `ix_eq_incidents_kpi` covers every column they read): one grouped by contracted company
/// (counts, rates, sums), one grouped by level, cause and hour (the mixes), and the nearest-rank
/// 90th percentiles of arrival and rescue times (`ORDER BY … LIMIT 1 OFFSET k-1`). The
/// elevator count reads only `ix_eq_equipment_kpi`.
pub async fn kpis(
    db: &impl ConnectionTrait,
    s: &Scope,
    region: &str,
    period: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    months: i64,
) -> R<ElevatorKpis> {
    let prefix = qcity_platform::auth::scope::scope_prefix(region);
    if !prefix.starts_with(&s.prefix) {
        return Err(StoreError::NotFound("region".into()));
    }
    let mut v: Vec<Value> = vec![s.city_id.into()];
    let mut w = String::from(
        "FROM eq_equipment WHERE city_id = ? AND category = '3000' AND status = 'in_use'",
    );
    w.push_str(&region_filter("region_code", &prefix, &mut v));
    if let Some(c) = s.company_id {
        w.push_str(" AND company_id = ?");
        v.push(c.into());
    }
    let elevators: i64 = one(db, &format!("SELECT COUNT(*) AS n {w}"), v)
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);

    // The period's incidents in scope: `FROM eq_incidents WHERE …` and its values.
    let mut v: Vec<Value> = vec![s.city_id.into(), from.into(), to.into()];
    let mut w = String::from(
        "FROM eq_incidents WHERE city_id = ? AND received_at >= ? AND received_at < ?",
    );
    w.push_str(&region_filter("region_code", &prefix, &mut v));
    if let Some(c) = s.company_id {
        w.push_str(" AND l1_company_id = ?");
        v.push(c.into());
    }

    // Per contracted company, in one pass.
    let rows = all(
        db,
        &format!(
            "SELECT l1_company_id AS comp, COUNT(*) AS n, SUM(tr) AS trappings, \
             SUM(CASE WHEN tr = 1 AND dispatched_at IS NOT NULL THEN 1 ELSE 0 END) AS dispatched, \
             SUM(CASE WHEN tr = 1 AND dispatched_at IS NOT NULL AND ack_secs <= 180 THEN 1 ELSE 0 END) AS ack_ok, \
             SUM(CASE WHEN tr = 1 AND arrive_secs IS NOT NULL THEN 1 ELSE 0 END) AS arr_n, \
             SUM(CASE WHEN tr = 1 AND arrive_secs <= 1800 THEN 1 ELSE 0 END) AS arr_ok, \
             SUM(CASE WHEN tr = 1 THEN arrive_secs END) AS arr_sum, \
             SUM(CASE WHEN tr = 1 AND rescue_secs IS NOT NULL THEN 1 ELSE 0 END) AS res_n, \
             SUM(CASE WHEN tr = 1 THEN rescue_secs END) AS res_sum \
             FROM (SELECT l1_company_id, dispatched_at, ack_secs, arrive_secs, rescue_secs, \
             CASE WHEN state IN {NOT_TRAPPED} THEN 0 ELSE 1 END AS tr {w}) x GROUP BY l1_company_id"
        ),
        v.clone(),
    )
    .await?;
    let mut incidents = 0;
    let mut trappings = 0;
    let (mut dispatched, mut ack_ok, mut arr_n, mut arr_ok) = (0i64, 0i64, 0i64, 0i64);
    let (mut arr_sum, mut res_n, mut res_sum) = (0i64, 0i64, 0i64);
    // company → (trappings, dispatched, ack ok, arrival n, arrival ok, arrival sum in s)
    let mut per: BTreeMap<i64, (i64, i64, i64, i64, i64, i64)> = BTreeMap::new();
    for r in rows {
        let n = |c: &str| -> R<i64> { Ok(r.try_get::<Option<i64>>("", c)?.unwrap_or(0)) };
        incidents += n("n")?;
        let e = (
            n("trappings")?,
            n("dispatched")?,
            n("ack_ok")?,
            n("arr_n")?,
            n("arr_ok")?,
            n("arr_sum")?,
        );
        trappings += e.0;
        dispatched += e.1;
        ack_ok += e.2;
        arr_n += e.3;
        arr_ok += e.4;
        arr_sum += e.5;
        res_n += n("res_n")?;
        res_sum += n("res_sum")?;
        if e.0 > 0 {
            let comp: Option<i64> = r.try_get("", "comp")?;
            let t = per.entry(comp.unwrap_or(0)).or_insert((0, 0, 0, 0, 0, 0));
            t.0 += e.0;
            t.1 += e.1;
            t.2 += e.2;
            t.3 += e.3;
            t.4 += e.4;
            t.5 += e.5;
        }
    }

    // Level, cause and hour mixes of the trappings, in one pass.
    let mut level_mix = BTreeMap::new();
    let mut cause_mix = BTreeMap::new();
    let mut hours = vec![0i64; 24];
    if trappings > 0 {
        for r in all(
            db,
            &format!("SELECT level, cause_code, received_hour, COUNT(*) AS n {w} AND state NOT IN {NOT_TRAPPED} GROUP BY level, cause_code, received_hour"),
            v.clone(),
        )
        .await?
        {
            let n: i64 = r.try_get("", "n")?;
            let level: i32 = r.try_get("", "level")?;
            *level_mix.entry(format!("L{level}")).or_insert(0) += n;
            if let Some(c) = r.try_get::<Option<String>>("", "cause_code")? {
                *cause_mix.entry(c).or_insert(0) += n;
            }
            let h: i32 = r.try_get("", "received_hour")?;
            hours[h.clamp(0, 23) as usize] += n;
        }
    }

    // Nearest-rank 90th percentile (minutes) of a duration column over the trappings.
    let p90 = async |col: &str, n: i64| -> R<Option<f64>> {
        if n == 0 {
            return Ok(None);
        }
        let k = ((0.9 * n as f64).ceil() as i64).clamp(1, n);
        let r = one(
            db,
            &format!("SELECT {col} AS v {w} AND state NOT IN {NOT_TRAPPED} AND {col} IS NOT NULL ORDER BY {col} LIMIT 1 OFFSET {}", k - 1),
            v.clone(),
        )
        .await?;
        Ok(r.map(|r| r.try_get::<i32>("", "v"))
            .transpose()?
            .map(|x| x as f64 / 60.0))
    };
    let p90_arrival = p90("arrive_secs", arr_n).await?;
    let p90_rescue = p90("rescue_secs", res_n).await?;
    let mean_min = |sum: i64, n: i64| (n > 0).then(|| sum as f64 / 60.0 / n as f64);

    let names: BTreeMap<i64, (String, String)> = registry::companies(db, s.city_id)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.name_zh, c.name_en)))
        .collect();
    let mut companies: Vec<CompanyKpi> = per
        .into_iter()
        .filter(|(id, _)| *id != 0)
        .map(|(id, e)| {
            let (zh, en) = names.get(&id).cloned().unwrap_or_default();
            CompanyKpi {
                company_id: id,
                name_zh: zh,
                name_en: en,
                trappings: e.0,
                ack_3min_rate: pct(e.2, e.1),
                arrive_30min_rate: pct(e.4, e.3),
                mean_arrival_min: r1(mean_min(e.5, e.3)),
                rank: 0,
            }
        })
        .collect();
    companies.sort_by(|a, b| {
        b.arrive_30min_rate
            .unwrap_or(0.0)
            .total_cmp(&a.arrive_30min_rate.unwrap_or(0.0))
            .then(
                b.ack_3min_rate
                    .unwrap_or(0.0)
                    .total_cmp(&a.ack_3min_rate.unwrap_or(0.0)),
            )
            .then(
                a.mean_arrival_min
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.mean_arrival_min.unwrap_or(f64::MAX)),
            )
            .then(a.company_id.cmp(&b.company_id))
    });
    for (i, c) in companies.iter_mut().enumerate() {
        c.rank = i + 1;
    }
    Ok(ElevatorKpis {
        region: region.to_string(),
        period: period.to_string(),
        elevators,
        incidents,
        trappings,
        trapping_rate_per_10k: (elevators > 0 && months > 0).then(|| {
            ((trappings as f64 * 10_000.0 / elevators as f64 / months as f64) * 100.0).round()
                / 100.0
        }),
        ack_3min_rate: pct(ack_ok, dispatched),
        arrive_30min_rate: pct(arr_ok, arr_n),
        mean_arrival_min: r1(mean_min(arr_sum, arr_n)),
        p90_arrival_min: r1(p90_arrival),
        mean_rescue_min: r1(mean_min(res_sum, res_n)),
        p90_rescue_min: r1(p90_rescue),
        level_mix,
        cause_mix,
        hour_mix: hours,
        companies,
    })
}

/// KPIs for a calendar year.
pub async fn kpis_year(
    db: &impl ConnectionTrait,
    s: &Scope,
    region: &str,
    year: i32,
) -> R<ElevatorKpis> {
    let (a, _) = month_range(&format!("{year:04}-01"))?;
    let (_, b) = month_range(&format!("{year:04}-12"))?;
    kpis(db, s, region, &year.to_string(), a, b, 12).await
}

/// Share (%) of in-use special equipment not overdue for inspection at the end of `year`
/// (or today, for the current year), for a region prefix.
pub async fn inspected_on_time(
    db: &impl ConnectionTrait,
    city_id: i64,
    prefix: &str,
    year: i32,
) -> R<Option<f64>> {
    let end = NaiveDate::from_ymd_opt(year, 12, 31)
        .unwrap_or_else(registry::today)
        .min(registry::today());
    let r = one(db, "SELECT COUNT(*) AS n, SUM(CASE WHEN next_inspection_due < ? THEN 1 ELSE 0 END) AS overdue FROM eq_equipment WHERE city_id = ? AND region_code LIKE ? AND status = 'in_use'", vec![end.into(), city_id.into(), like(prefix).into()]).await?;
    let Some(r) = r else { return Ok(None) };
    let n: i64 = r.try_get("", "n")?;
    let o: i64 = r.try_get::<Option<i64>>("", "overdue")?.unwrap_or(0);
    Ok(pct(n - o, n))
}

/// Does the year have data at all?
pub fn year_of(t: DateTime<Utc>) -> i32 {
    qcity_platform::time::local(t).year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 90.0), Some(9.0));
        assert_eq!(percentile(&v, 100.0), Some(10.0));
        assert_eq!(percentile(&[], 90.0), None);
        assert_eq!(percentile(&[3.0], 90.0), Some(3.0));
    }

    #[test]
    fn months_are_china_standard_time() {
        let (a, b) = month_range("2026-03").unwrap();
        assert_eq!(a.to_rfc3339(), "2026-02-28T16:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2026-03-31T16:00:00+00:00");
        assert!(month_range("2026-13").is_err());
        assert_eq!(local_hour(a), 0);
    }
}
