//! 接警: the intake of a 96333 call or alarm as received → located, validated and resolved
//! outside the write, stored durably and idempotently (an `Idempotency-Key`, the open-incident
//! guard), alone or through the group-commit writer.

use super::{
    BestTimers, CHANNELS, Incident, NewIncident, R, TimelineEvent, actor_name, fsm_conflict, get,
    local_hour, timers_from,
};
use crate::fsm::{Deadlines, Machine, Milestones, State, Timers};
use crate::registry::{self, Equipment};
use crate::sql::{self, all, exec, one};
use chrono::{DateTime, Utc};
use qcity_platform::Scope;
use qcity_platform::audit::{self, Actor as AuditActor};
use qcity_platform::db::BeginWrite;
use qcity_platform::store::ConflictCode;
use qcity_platform::store::StoreError;
use qcity_platform::store::group_commit::GroupCommit;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionSession, TransactionTrait};

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
/// most specific one along the region's ancestry is picked as
/// [`timers_for`](super::timers_for) does.
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
    let city_id = p.scope.region.city_id;
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
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            "incident id already taken; retry",
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
    audit::record(txn, city_id, &p.who, "equipment.incident.create", "eq_incident", &id.to_string(), None, Some(serde_json::json!({"rescue_code": p.rescue, "channel": p.channel, "idempotency_key": p.idem_key}))).await?;
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
        None => Err(StoreError::conflict(
            ConflictCode::Conflict,
            "Idempotency-Key already used for another incident",
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
        vec![s.region.city_id.into(), key.into()],
    )
    .await?;
    match r {
        Some(r) => get(db, s, r.try_get("", "id")?, true).await,
        None => Ok(None),
    }
}
