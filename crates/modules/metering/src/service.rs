//! The metering module's changes: each one takes the person who makes it, makes the change
//! through the store and writes its audit entry (`metering.entity.verb`) in one transaction.
//! The JSON API and the pages call these; they only parse their input, check the caller's
//! permission and render the result.

use crate::analysis::{self, Alert, DayHours, VeeReport};
use crate::retention::Settings;
use crate::store::{self, Meter, NewMeter, NewUnit, Scope, Unit};
use crate::weather::{TempRow, WeatherReport};
use qcity_platform::audit::Actor;
use qcity_platform::audit::record_by as record;
use qcity_platform::auth::Principal;
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use sea_orm::DatabaseConnection;
use serde_json::json;

/// Registers a key energy-consuming unit (重点用能单位) in `p`'s region, linked to the
/// enterprise register by its 统一社会信用代码 (`metering.unit.create`).
pub async fn create_unit(
    db: &DatabaseConnection,
    p: &Principal,
    new: &NewUnit,
) -> Result<Unit, StoreError> {
    let txn = db.begin_write().await?;
    let u = store::create_unit(&txn, &Scope::of(p), &Actor::from(p), new).await?;
    record(
        &txn,
        p,
        "metering.unit.create",
        "mt_unit",
        u.id,
        None,
        serde_json::to_value(&u).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(u)
}

/// Adds a meter (计量器具) to a unit's meter tree (`metering.meter.create`).
pub async fn create_meter(
    db: &DatabaseConnection,
    p: &Principal,
    new: &NewMeter,
) -> Result<Meter, StoreError> {
    let txn = db.begin_write().await?;
    let m = store::create_meter(&txn, &Scope::of(p), new).await?;
    record(
        &txn,
        p,
        "metering.meter.create",
        "mt_meter",
        m.id,
        None,
        serde_json::to_value(&m).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(m)
}

/// Validates, estimates and edits a meter's readings in `[from, to)` (VEE)
/// (`metering.readings.vee`).
pub async fn run_vee(
    db: &DatabaseConnection,
    p: &Principal,
    m: &Meter,
    from: i64,
    to: i64,
) -> Result<VeeReport, StoreError> {
    let txn = db.begin_write().await?;
    let r = analysis::run_vee_for(&txn, p.city_id, m, from, to, &p.actor_name()).await?;
    record(
        &txn,
        p,
        "metering.readings.vee",
        "mt_meter",
        m.id,
        None,
        Some(json!({"from": from, "to": to, "estimated": r.estimated, "edits": r.edits})),
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

/// Runs anomaly detection on a meter in `[from, to)`, storing new alerts; returns how many
/// (`metering.meter.detect`).
pub async fn detect(
    db: &DatabaseConnection,
    p: &Principal,
    m: &Meter,
    from: i64,
    to: i64,
) -> Result<usize, StoreError> {
    let txn = db.begin_write().await?;
    let n = analysis::detect(&txn, p.city_id, m, from, to).await?;
    record(
        &txn,
        p,
        "metering.meter.detect",
        "mt_meter",
        m.id,
        None,
        Some(json!({"from": from, "to": to, "new_alerts": n})),
    )
    .await?;
    txn.commit().await?;
    Ok(n)
}

/// Acknowledges an open alert in `p`'s scope with a note (`metering.alert.ack`): not found
/// outside the scope, a conflict when it is already acknowledged.
pub async fn ack_alert(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    note: &str,
) -> Result<Alert, StoreError> {
    let s = Scope::of(p);
    let note = note.trim();
    let txn = db.begin_write().await?;
    analysis::ack(&txn, &s, &p.actor_name(), id, note).await?;
    record(
        &txn,
        p,
        "metering.alert.ack",
        "mt_alert",
        id,
        Some(json!({"status": "open"})),
        Some(json!({"status": "acked", "note": note})),
    )
    .await?;
    txn.commit().await?;
    analysis::alert(db, &s, id).await
}

/// Replaces a unit's 作息时间 (operating hours, 7 days, Monday first) (`metering.unit.hours`).
pub async fn set_hours(
    db: &DatabaseConnection,
    p: &Principal,
    unit_id: i64,
    days: &[DayHours],
) -> Result<[DayHours; 7], StoreError> {
    let txn = db.begin_write().await?;
    let before = analysis::operating_hours(&txn, p.city_id, unit_id).await?;
    let after = analysis::set_operating_hours(&txn, &Scope::of(p), unit_id, days).await?;
    record(
        &txn,
        p,
        "metering.unit.hours",
        "mt_unit",
        unit_id,
        serde_json::to_value(before).ok(),
        serde_json::to_value(after).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Stores the city's metering settings (raw-data retention, imbalance tolerance)
/// (`metering.settings.update`).
pub async fn update_settings(
    db: &DatabaseConnection,
    p: &Principal,
    new: &Settings,
) -> Result<Settings, StoreError> {
    let txn = db.begin_write().await?;
    let before = crate::retention::settings(&txn, p.city_id).await?;
    let after = crate::retention::set_settings(&txn, p.city_id, new).await?;
    record(
        &txn,
        p,
        "metering.settings.update",
        "mt_settings",
        p.city_id,
        serde_json::to_value(&before).ok(),
        serde_json::to_value(&after).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Imports outdoor temperatures for `p`'s city, all or nothing: with any row rejected nothing
/// is stored (and nothing audited); otherwise `metering.weather.import`.
pub async fn import_weather(
    db: &DatabaseConnection,
    p: &Principal,
    rows: &[TempRow],
    rejects: Vec<store::Reject>,
) -> Result<WeatherReport, StoreError> {
    let txn = db.begin_write().await?;
    let rep = crate::weather::import(&txn, p.city_id, rows, rejects).await?;
    if rep.stored > 0 {
        record(
            &txn,
            p,
            "metering.weather.import",
            "mt_weather",
            p.city_id,
            None,
            Some(json!({"received": rep.received, "stored": rep.stored})),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(rep)
}
