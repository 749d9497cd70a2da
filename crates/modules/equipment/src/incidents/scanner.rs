//! The escalation scanner over stored deadlines: a missed acknowledgement escalates to level 2,
//! a missed level-2 acknowledgement or arrival alerts the dispatcher and proposes level 3
//! (三级响应, 110/119).

use super::{Actor, INC_SELECT, Incident, R, TransitionReq, append_event, apply, incident_from};
use crate::fsm::State;
use crate::sql::{all, exec};
use chrono::{DateTime, Utc};
use qcity_platform::audit::Actor as AuditActor;
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait};

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
    append_event(
        &txn,
        city_id,
        cur.id,
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
                Err(StoreError::Conflict { .. }) => {}
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
