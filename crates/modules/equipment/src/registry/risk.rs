//! The elevator risk score (老旧电梯更新改造 priority): its published rule and the ranked list of
//! the elevators in scope.

use super::{EQUIPMENT_OWNER, R, maintenance_interval_days, today, years_between};
use crate::sql::{self, all};
use chrono::{Datelike, NaiveDate};
use qcity_platform::Scope;
use sea_orm::{ConnectionTrait, Value};
use serde::Serialize;
use std::collections::HashMap;

/// A transparent elevator risk score and its components (老旧电梯更新改造 priority).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RiskRow {
    pub equipment_id: i64,
    pub rescue_code: Option<String>,
    pub address: String,
    pub region_code: String,
    pub use_unit: String,
    pub age_years: i32,
    pub trappings_12m: i64,
    pub faults_12m: i64,
    pub failed_inspections_3y: i64,
    pub maintenance_overdue: bool,
    pub inspection_overdue: bool,
    pub renovated_year: Option<i32>,
    /// Points per component: age, trappings, faults, failed inspections, overdue maintenance,
    /// overdue inspection, renovation (negative).
    pub points_age: i32,
    pub points_trappings: i32,
    pub points_faults: i32,
    pub points_inspections: i32,
    pub points_maintenance: i32,
    pub points_overdue_inspection: i32,
    pub points_renovation: i32,
    pub score: i32,
}

/// The scoring rule, published on the risk page.
#[allow(clippy::too_many_arguments)]
pub fn risk_points(
    age: i32,
    trappings: i64,
    faults: i64,
    failed: i64,
    maint_overdue: bool,
    insp_overdue: bool,
    renovated_year: Option<i32>,
    this_year: i32,
) -> [i32; 7] {
    let age_p = if age >= 15 {
        (25 + (age - 15)).min(40)
    } else if age >= 10 {
        10
    } else {
        0
    };
    let trap_p = (trappings as i32 * 8).min(30);
    let fault_p = (faults as i32 * 3).min(15);
    let insp_p = (failed as i32 * 10).min(20);
    let maint_p = if maint_overdue { 10 } else { 0 };
    let overdue_p = if insp_overdue { 10 } else { 0 };
    let renov_p = match renovated_year {
        Some(y) if this_year - y <= 10 => -15,
        _ => 0,
    };
    [age_p, trap_p, fault_p, insp_p, maint_p, overdue_p, renov_p]
}

/// Elevators in scope ranked by risk score (highest first).
pub async fn risk_list(
    db: &impl ConnectionTrait,
    s: &Scope,
    region: Option<&str>,
    limit: usize,
) -> R<Vec<RiskRow>> {
    let t = today();
    let s = match region.filter(|r| !r.is_empty()) {
        Some(r) => match s.within(r) {
            Some(narrow) => narrow,
            None => return Ok(Vec::new()),
        },
        None => s.clone(),
    };
    let (city, pattern) = (s.region.city_id, s.region.like_pattern());
    let year_ago = sql::now() - chrono::Duration::days(365);
    let counts = all(db, "SELECT i.equipment_id, SUM(CASE WHEN i.state <> 'not_trapped' THEN 1 ELSE 0 END) AS trap, SUM(CASE WHEN i.state = 'not_trapped' THEN 1 ELSE 0 END) AS fault FROM eq_incidents i WHERE i.city_id = ? AND i.region_code LIKE ? AND i.received_at >= ? AND i.state NOT IN ('cancelled','false_alarm') GROUP BY i.equipment_id", vec![city.into(), pattern.clone().into(), year_ago.into()]).await?;
    let mut inc: HashMap<i64, (i64, i64)> = HashMap::new();
    for r in counts {
        inc.insert(
            r.try_get("", "equipment_id")?,
            (
                r.try_get::<Option<i64>>("", "trap")?.unwrap_or(0),
                r.try_get::<Option<i64>>("", "fault")?.unwrap_or(0),
            ),
        );
    }
    let three_y = t - chrono::Duration::days(3 * 365);
    let failed = all(db, "SELECT i.equipment_id, COUNT(*) AS n FROM eq_inspections i JOIN eq_equipment e ON e.city_id = i.city_id AND e.id = i.equipment_id WHERE i.city_id = ? AND e.region_code LIKE ? AND i.conclusion = 'fail' AND i.inspected_on >= ? GROUP BY i.equipment_id", vec![city.into(), pattern.into(), three_y.into()]).await?;
    let mut fails: HashMap<i64, i64> = HashMap::new();
    for r in failed {
        fails.insert(r.try_get("", "equipment_id")?, r.try_get("", "n")?);
    }
    let days = maintenance_interval_days(db, city).await?;
    let cutoff = t - chrono::Duration::days(days);
    let mut v: Vec<Value> = Vec::new();
    let w = s.clause("e", EQUIPMENT_OWNER, &mut v);
    let rows = all(db, &format!("SELECT e.id, e.rescue_code, e.address, e.region_code, e.use_unit, e.manufacture_date, e.renovated_year, e.last_maintenance_on, e.next_inspection_due FROM eq_equipment e WHERE{w} AND e.category = '3000' AND e.status = 'in_use'"), v).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("", "id")?;
        let m: Option<NaiveDate> = r.try_get("", "manufacture_date")?;
        let age = m.map(|m| years_between(m, t)).unwrap_or(0);
        let (trap, fault) = inc.get(&id).copied().unwrap_or((0, 0));
        let failed = fails.get(&id).copied().unwrap_or(0);
        let lm: Option<NaiveDate> = r.try_get("", "last_maintenance_on")?;
        let due: Option<NaiveDate> = r.try_get("", "next_inspection_due")?;
        let maint_overdue = lm.is_none_or(|d| d < cutoff);
        let insp_overdue = due.is_some_and(|d| d < t);
        let renovated_year: Option<i32> = r.try_get("", "renovated_year")?;
        let p = risk_points(
            age,
            trap,
            fault,
            failed,
            maint_overdue,
            insp_overdue,
            renovated_year,
            t.year(),
        );
        out.push(RiskRow {
            equipment_id: id,
            rescue_code: r.try_get("", "rescue_code")?,
            address: r.try_get("", "address")?,
            region_code: r.try_get("", "region_code")?,
            use_unit: r.try_get("", "use_unit")?,
            age_years: age,
            trappings_12m: trap,
            faults_12m: fault,
            failed_inspections_3y: failed,
            maintenance_overdue: maint_overdue,
            inspection_overdue: insp_overdue,
            renovated_year,
            points_age: p[0],
            points_trappings: p[1],
            points_faults: p[2],
            points_inspections: p[3],
            points_maintenance: p[4],
            points_overdue_inspection: p[5],
            points_renovation: p[6],
            score: p.iter().sum::<i32>().max(0),
        });
    }
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(b.age_years.cmp(&a.age_years))
            .then(a.equipment_id.cmp(&b.equipment_id))
    });
    out.truncate(limit);
    Ok(out)
}
