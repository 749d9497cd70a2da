//! The IoT alarm log as a principal may see it: frame counts by outcome and the latest frames
//! from unknown elevators.
//!
//! A frame belongs to the elevator its rescue code (96333 救援识别码) names, so a district user
//! sees the frames of their district's elevators and a maintenance engineer those of the
//! elevators their company maintains. Frames from unknown elevators belong to no region: only a
//! principal whose scope is the whole city, bound to no company, sees them.

use crate::registry::EQUIPMENT_OWNER;
use crate::sql::{self, all};
use chrono::{DateTime, Duration, Utc};
use qcity_platform::store::StoreError;
use qcity_platform::{Owner, Scope};
use sea_orm::{ConnectionTrait, Value};
use std::collections::BTreeMap;

type R<T> = Result<T, StoreError>;

/// Whether the scope sees every frame of the city, unknown elevators' included.
fn sees_all(s: &Scope, whole_city: bool) -> bool {
    whole_city && s.owner == Owner::Any
}

/// Which frames a scope sees: `(SQL condition on alias a, its values)`.
fn visible(s: &Scope, whole_city: bool) -> (String, Vec<Value>) {
    if sees_all(s, whole_city) {
        return (String::new(), vec![]);
    }
    let mut v: Vec<Value> = Vec::new();
    let w = format!(
        " AND EXISTS (SELECT 1 FROM eq_equipment e WHERE{} AND e.city_id = a.city_id AND e.rescue_code = a.rescue_code)",
        s.clause("e", EQUIPMENT_OWNER, &mut v)
    );
    (w, v)
}

/// Frames received in the last `days` days, counted by outcome.
pub async fn summary(
    db: &impl ConnectionTrait,
    s: &Scope,
    whole_city: bool,
    days: i64,
) -> R<BTreeMap<String, i64>> {
    let since = sql::now() - Duration::days(days);
    let (w, extra) = visible(s, whole_city);
    let mut v: Vec<Value> = vec![s.region.city_id.into(), since.into()];
    v.extend(extra);
    let mut out = BTreeMap::new();
    for r in all(
        db,
        &format!("SELECT a.outcome, COUNT(*) AS n FROM eq_iot_alarms a WHERE a.city_id = ? AND a.received_at >= ?{w} GROUP BY a.outcome"),
        v,
    )
    .await?
    {
        out.insert(r.try_get("", "outcome")?, r.try_get("", "n")?);
    }
    Ok(out)
}

/// The 50 latest frames from unknown elevators: `(received_at, rescue_code, device_id,
/// alarm_code)`; empty unless the scope is the whole city.
pub async fn unknown(
    db: &impl ConnectionTrait,
    s: &Scope,
    whole_city: bool,
) -> R<Vec<(DateTime<Utc>, String, String, String)>> {
    if !sees_all(s, whole_city) {
        return Ok(Vec::new());
    }
    all(db, "SELECT received_at, rescue_code, device_id, alarm_code FROM eq_iot_alarms WHERE city_id = ? AND outcome = 'unknown_elevator' ORDER BY received_at DESC LIMIT 50", vec![s.region.city_id.into()])
        .await?
        .iter()
        .map(|r| Ok((r.try_get("", "received_at")?, r.try_get("", "rescue_code")?, r.try_get("", "device_id")?, r.try_get("", "alarm_code")?)))
        .collect()
}
