//! 维保: maintenance records, the maintenance interval (TSG T5002, 15 days unless set), and
//! overdue maintenance per company.

use super::{EQUIPMENT_OWNER, R, equipment, today};
use crate::sql::{all, exec, now, one};
use chrono::NaiveDate;
use qcity_platform::Scope;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, Value};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewMaintenance {
    pub done_on: NaiveDate,
    /// `half_month`, `quarter`, `half_year`, `year` or `repair`.
    pub kind: String,
    #[serde(default)]
    pub engineer: String,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Maintenance {
    pub id: i64,
    pub equipment_id: i64,
    pub company_id: i64,
    pub done_on: NaiveDate,
    pub kind: String,
    pub engineer: String,
    pub notes: String,
}

/// The maintenance interval in days (default 15, TSG T5002).
pub async fn maintenance_interval_days(db: &impl ConnectionTrait, city_id: i64) -> R<i64> {
    Ok(one(
        db,
        "SELECT value FROM eq_settings WHERE city_id = ? AND key = 'maintenance_interval_days'",
        vec![city_id.into()],
    )
    .await?
    .and_then(|r| r.try_get::<String>("", "value").ok())
    .and_then(|v| v.parse().ok())
    .unwrap_or(15))
}

pub async fn set_setting(db: &impl ConnectionTrait, city_id: i64, key: &str, value: &str) -> R<()> {
    exec(
        db,
        "DELETE FROM eq_settings WHERE city_id = ? AND key = ?",
        vec![city_id.into(), key.into()],
    )
    .await?;
    exec(
        db,
        "INSERT INTO eq_settings (city_id, key, value) VALUES (?,?,?)",
        vec![city_id.into(), key.into(), value.into()],
    )
    .await?;
    Ok(())
}

/// Records maintenance by the equipment's maintenance company.
pub async fn record_maintenance(
    db: &impl ConnectionTrait,
    s: &Scope,
    equipment_id: i64,
    n: &NewMaintenance,
) -> R<Maintenance> {
    let e = equipment(db, s, equipment_id)
        .await?
        .ok_or_else(|| StoreError::NotFound("equipment".into()))?;
    let company_id = e
        .company_id
        .ok_or_else(|| StoreError::invalid("company_id", "equipment has no maintenance company"))?;
    if !matches!(
        n.kind.as_str(),
        "half_month" | "quarter" | "half_year" | "year" | "repair"
    ) {
        return Err(StoreError::invalid(
            "kind",
            "half_month, quarter, half_year, year or repair",
        ));
    }
    if n.done_on > today() {
        return Err(StoreError::invalid("done_on", "in the future"));
    }
    let id = qcity_platform::ids::new_id();
    exec(db, "INSERT INTO eq_maintenance (city_id, id, equipment_id, company_id, done_on, kind, engineer, notes, created_at) VALUES (?,?,?,?,?,?,?,?,?)", vec![s.region.city_id.into(), id.into(), equipment_id.into(), company_id.into(), n.done_on.into(), n.kind.clone().into(), n.engineer.trim().into(), n.notes.trim().into(), now().into()]).await?;
    if e.last_maintenance_on.is_none_or(|d| d < n.done_on) {
        exec(
            db,
            "UPDATE eq_equipment SET last_maintenance_on = ? WHERE city_id = ? AND id = ?",
            vec![
                n.done_on.into(),
                s.region.city_id.into(),
                equipment_id.into(),
            ],
        )
        .await?;
    }
    Ok(Maintenance {
        id,
        equipment_id,
        company_id,
        done_on: n.done_on,
        kind: n.kind.clone(),
        engineer: n.engineer.trim().into(),
        notes: n.notes.trim().into(),
    })
}

/// Overdue maintenance per company: elevators in use whose last maintenance is older than
/// the interval.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyMaintenance {
    pub company_id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub elevators: i64,
    pub overdue: i64,
    pub overdue_pct: f64,
}

pub async fn maintenance_overdue_by_company(
    db: &impl ConnectionTrait,
    s: &Scope,
) -> R<Vec<CompanyMaintenance>> {
    let days = maintenance_interval_days(db, s.region.city_id).await?;
    let cutoff = today() - chrono::Duration::days(days);
    let mut v: Vec<Value> = vec![cutoff.into()];
    let w = s.clause("e", EQUIPMENT_OWNER, &mut v);
    let rows = all(db, &format!("SELECT c.id, c.name_zh, c.name_en, COUNT(*) AS n, SUM(CASE WHEN e.last_maintenance_on IS NULL OR e.last_maintenance_on < ? THEN 1 ELSE 0 END) AS overdue FROM eq_equipment e JOIN eq_companies c ON c.city_id = e.city_id AND c.id = e.company_id WHERE{w} AND e.category = '3000' AND e.status = 'in_use' GROUP BY c.id, c.name_zh, c.name_en"), v).await?;
    let mut out: Vec<CompanyMaintenance> = rows
        .iter()
        .map(|r| {
            let n: i64 = r.try_get("", "n")?;
            let o: i64 = r.try_get::<Option<i64>>("", "overdue")?.unwrap_or(0);
            Ok(CompanyMaintenance {
                company_id: r.try_get("", "id")?,
                name_zh: r.try_get("", "name_zh")?,
                name_en: r.try_get("", "name_en")?,
                elevators: n,
                overdue: o,
                overdue_pct: if n > 0 {
                    (o as f64 * 1000.0 / n as f64).round() / 10.0
                } else {
                    0.0
                },
            })
        })
        .collect::<R<_>>()?;
    out.sort_by(|a, b| {
        b.overdue_pct
            .total_cmp(&a.overdue_pct)
            .then(a.company_id.cmp(&b.company_id))
    });
    Ok(out)
}
