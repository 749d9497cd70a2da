//! The changes a person makes to the equipment register, each one service function: it takes
//! the principal making it (their scope decides what they may touch, their name goes into the
//! audit log), opens the write transaction, makes the change, writes the audit entry
//! (`equipment.<entity>.<verb>`) and commits. The JSON API and the pages only parse, check the
//! permission, call one of these and render what it returns.
//!
//! The 96333 incidents have theirs in [`crate::incidents`], because system jobs (IoT alarms,
//! the escalation scanner) make them too: [`incidents::create_grouped`] and
//! [`incidents::create`] (`equipment.incident.create`, written in the intake's group commit)
//! and [`incidents::transition`] (`equipment.incident.transition`).

use crate::domain::EquipmentStatus;
use crate::fsm::Timers;
use crate::incidents::{self, TimersReq};
use crate::registry::{
    self, Company, Cycle, CycleEdit, Equipment, Inspection, Maintenance, NewCompany, NewEquipment,
    NewInspection, NewMaintenance, UploadTable,
};
use chrono::NaiveDate;
use qcity_platform::Scope;
use qcity_platform::audit::Actor;
use qcity_platform::audit::record_by as record;
use qcity_platform::auth::Principal;
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use sea_orm::DatabaseConnection;
use serde_json::json;

type R<T> = Result<T, StoreError>;

/// Registers a maintenance company and links it to the register of market entities, by its
/// credit code or else its name (`equipment.company.create`).
pub async fn create_company(db: &DatabaseConnection, p: &Principal, n: &NewCompany) -> R<Company> {
    let txn = db.begin_write().await?;
    let c = registry::create_company(&txn, p.city_id, n).await?;
    let actor = Actor::from(p);
    crate::enterprise::link_company(&txn, p.city_id, &actor, c.id, n.credit_code.as_deref())
        .await?;
    let c = registry::company(&txn, p.city_id, c.id)
        .await?
        .ok_or_else(|| StoreError::NotFound("company".into()))?;
    let after = serde_json::to_value(&c).ok();
    record(
        &txn,
        p,
        "equipment.company.create",
        "eq_company",
        &c.id.to_string(),
        None,
        after,
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

/// Registers a piece of equipment in the principal's region and links its use unit to the
/// register of market entities (`equipment.equipment.create`).
pub async fn create_equipment(
    db: &DatabaseConnection,
    p: &Principal,
    n: &NewEquipment,
) -> R<Equipment> {
    let s = Scope::of(p);
    let txn = db.begin_write().await?;
    let e = registry::create_equipment(&txn, &s, n).await?;
    crate::enterprise::link_use_unit(
        &txn,
        p.city_id,
        &Actor::from(p),
        e.id,
        &e.use_unit,
        &e.region_code,
        n.use_unit_credit_code.as_deref(),
    )
    .await?;
    let e = registry::equipment(&txn, &s, e.id)
        .await?
        .ok_or_else(|| StoreError::NotFound("equipment".into()))?;
    let after = serde_json::to_value(&e).ok();
    record(
        &txn,
        p,
        "equipment.equipment.create",
        "eq_equipment",
        &e.id.to_string(),
        None,
        after,
    )
    .await?;
    txn.commit().await?;
    Ok(e)
}

/// Imports a registry table read from an upload, all or nothing (`equipment.equipment.import`,
/// its entity id the file's `format`, `csv` or `xlsx`). Returns the number imported.
pub async fn import_equipment(
    db: &DatabaseConnection,
    p: &Principal,
    format: &str,
    table: UploadTable,
) -> R<usize> {
    let txn = db.begin_write().await?;
    let n = registry::import_table(&txn, &Scope::of(p), table).await?;
    let after = Some(json!({ "imported": n }));
    record(
        &txn,
        p,
        "equipment.equipment.import",
        "eq_equipment",
        format,
        None,
        after,
    )
    .await?;
    txn.commit().await?;
    Ok(n)
}

/// Moves a piece of equipment along its status lifecycle (`equipment.equipment.status`).
pub async fn set_status(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    to: EquipmentStatus,
) -> R<Equipment> {
    let txn = db.begin_write().await?;
    let (before, after) = registry::set_status(&txn, &Scope::of(p), id, to).await?;
    record(
        &txn,
        p,
        "equipment.equipment.status",
        "eq_equipment",
        &id.to_string(),
        Some(json!({ "status": before.status })),
        Some(json!({ "status": after.status })),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Edits a row of the city's inspection-cycle table and returns the table
/// (`equipment.cycle.update`). Whether the principal may change city-wide configuration is the
/// caller's check.
pub async fn update_cycle(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    ed: &CycleEdit,
) -> R<Vec<Cycle>> {
    let txn = db.begin_write().await?;
    registry::update_cycle(&txn, p.city_id, id, ed).await?;
    let after = json!({
        "first_after_months": ed.first_after_months,
        "interval_months": ed.interval_months,
        "schedule_years": ed.schedule_years,
        "early_months": ed.early_months,
    });
    record(
        &txn,
        p,
        "equipment.cycle.update",
        "eq_cycle",
        &id.to_string(),
        None,
        Some(after),
    )
    .await?;
    txn.commit().await?;
    registry::cycles(db, p.city_id).await
}

/// Sets the 96333 timers of a region in the principal's scope; values left out keep the ones
/// that apply now (`equipment.timers.set`). A region outside the scope is not found.
pub async fn set_timers(db: &DatabaseConnection, p: &Principal, r: &TimersReq) -> R<Timers> {
    if !p.scope.contains(p.city_id, &r.region_code) {
        return Err(StoreError::NotFound("region".into()));
    }
    let cur = incidents::timers_for(db, p.city_id, &r.region_code).await?;
    let t = Timers {
        dispatch_secs: r.dispatch_secs.unwrap_or(cur.dispatch_secs),
        ack_secs: r.ack_secs.unwrap_or(cur.ack_secs),
        arrive_secs: r.arrive_secs.unwrap_or(cur.arrive_secs),
    };
    let txn = db.begin_write().await?;
    incidents::set_timers(&txn, p.city_id, &r.region_code, t).await?;
    record(
        &txn,
        p,
        "equipment.timers.set",
        "eq_timers",
        &r.region_code,
        serde_json::to_value(cur).ok(),
        serde_json::to_value(t).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(t)
}

/// Records an inspection of a piece of equipment in scope (`equipment.inspection.record`).
pub async fn record_inspection(
    db: &DatabaseConnection,
    p: &Principal,
    equipment_id: i64,
    n: &NewInspection,
) -> R<Inspection> {
    let txn = db.begin_write().await?;
    let i = registry::record_inspection(&txn, &Scope::of(p), equipment_id, n).await?;
    let after = serde_json::to_value(&i).ok();
    record(
        &txn,
        p,
        "equipment.inspection.record",
        "eq_inspection",
        &i.id.to_string(),
        None,
        after,
    )
    .await?;
    txn.commit().await?;
    Ok(i)
}

/// Closes the rectification (整改) an inspection opened (`equipment.inspection.rectified`).
pub async fn close_rectification(
    db: &DatabaseConnection,
    p: &Principal,
    inspection_id: i64,
    on: NaiveDate,
) -> R<Inspection> {
    let txn = db.begin_write().await?;
    let i = registry::close_rectification(&txn, &Scope::of(p), inspection_id, on).await?;
    let after = serde_json::to_value(&i).ok();
    let id = inspection_id.to_string();
    record(
        &txn,
        p,
        "equipment.inspection.rectified",
        "eq_inspection",
        &id,
        None,
        after,
    )
    .await?;
    txn.commit().await?;
    Ok(i)
}

/// Records maintenance of a piece of equipment in scope by its maintenance company
/// (`equipment.maintenance.record`).
pub async fn record_maintenance(
    db: &DatabaseConnection,
    p: &Principal,
    equipment_id: i64,
    n: &NewMaintenance,
) -> R<Maintenance> {
    let txn = db.begin_write().await?;
    let m = registry::record_maintenance(&txn, &Scope::of(p), equipment_id, n).await?;
    let after = serde_json::to_value(&m).ok();
    let id = m.id.to_string();
    record(
        &txn,
        p,
        "equipment.maintenance.record",
        "eq_maintenance",
        &id,
        None,
        after,
    )
    .await?;
    txn.commit().await?;
    Ok(m)
}
