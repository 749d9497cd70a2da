//! IoT alarms from elevator monitors: every frame recorded, a trapped-type alarm on a known
//! elevator made an incident unless one is already open for it (de-duplication).

use super::{IntakeOpts, NewIncident, R, create};
use crate::domain::AlarmCode;
use crate::registry::EQUIPMENT_OWNER;
use crate::sql::{self, all};
use chrono::{DateTime, Utc};
use qcity_platform::Scope;
use qcity_platform::audit::Actor as AuditActor;
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait, Value};
use serde::{Deserialize, Serialize};

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
    s: &Scope,
    f: &AlarmFrame,
    source: &str,
) -> R<AlarmOutcome> {
    let mut v = ingest_batch(db, s, std::slice::from_ref(f), source).await?;
    v.pop()
        .ok_or_else(|| StoreError::NotFound("alarm outcome".into()))
}

/// States in which passengers may still be waiting (an IoT alarm then is a duplicate).
const OPEN_STATES: &str = "('received','located','reassured','dispatched','acknowledged','escalated_l2','escalated_l3','on_scene')";

/// Ingests a batch of frames of one city, in order, with a few statements for the whole batch
/// (the elevators are looked up in `s`: the city, or the region of the caller posting them):
/// every frame is recorded (one multi-row insert in one transaction); a trapped-type alarm on
/// a known elevator creates an incident unless one is already open for that elevator, from
/// the database or from an earlier frame of the batch (de-duplication). Incidents are created
/// (and durably committed) before the frames that refer to them. Callers serialise batches
/// per process ([`crate::ingest_batch`]); the open-incident guard covers other processes.
pub async fn ingest_batch<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    s: &Scope,
    frames: &[AlarmFrame],
    source: &str,
) -> R<Vec<AlarmOutcome>> {
    if frames.is_empty() {
        return Ok(Vec::new());
    }
    let city_id = s.region.city_id;
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
        let mut v: Vec<Value> = Vec::new();
        let w = s.clause("e", EQUIPMENT_OWNER, &mut v);
        v.extend(chunk.iter().map(|c| Value::from(*c)));
        for r in all(
            db,
            &format!(
                "SELECT e.id, e.rescue_code FROM eq_equipment e WHERE{w} AND e.rescue_code IN {}",
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
                        let (i, created) = create(db, s, &actor, &n, &opts).await?;
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
