//! 检验: recording an inspection (the next due date from the cycle table; a failure with
//! defects opens a rectification, 整改, and is due again at once) and closing the rectification.

use super::{Cycle, EQUIPMENT_OWNER, R, cycle_for, cycles, equipment, schedule_anchor, today};
use crate::sql::{all, exec, now, one};
use chrono::{Months, NaiveDate};
use qcity_platform::Scope;
use qcity_platform::store::ConflictCode;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, QueryResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewInspection {
    pub inspected_on: NaiveDate,
    /// `pass` (合格), `recheck_pass` (复检合格) or `fail` (不合格).
    pub conclusion: String,
    #[serde(default)]
    pub defects: Vec<String>,
    #[serde(default)]
    pub inspector: String,
    /// `periodic` (定期检验, default) or `supervision` (监督检验 after installation,
    /// modification or major repair: a pass restarts an elevator's schedule).
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Inspection {
    pub id: i64,
    pub equipment_id: i64,
    pub inspected_on: NaiveDate,
    /// `periodic` or `supervision`.
    pub kind: String,
    pub conclusion: String,
    pub defects: Vec<String>,
    /// `none`, `open` or `closed`.
    pub rectification: String,
    pub rectified_on: Option<NaiveDate>,
    pub inspector: String,
    pub next_due: Option<NaiveDate>,
}

fn inspection_from(r: &QueryResult) -> R<Inspection> {
    let d: String = r.try_get("", "defects")?;
    Ok(Inspection {
        id: r.try_get("", "id")?,
        equipment_id: r.try_get("", "equipment_id")?,
        inspected_on: r.try_get("", "inspected_on")?,
        kind: r.try_get("", "kind")?,
        conclusion: r.try_get("", "conclusion")?,
        defects: serde_json::from_str(&d).unwrap_or_default(),
        rectification: r.try_get("", "rectification")?,
        rectified_on: r.try_get("", "rectified_on")?,
        inspector: r.try_get("", "inspector")?,
        next_due: r.try_get("", "next_due")?,
    })
}

/// Records an inspection: the next due date follows the cycle table; a failure with defects
/// opens a rectification and is due again at once (禁止使用 until re-inspected).
pub async fn record_inspection(
    db: &impl ConnectionTrait,
    s: &Scope,
    equipment_id: i64,
    n: &NewInspection,
) -> R<Inspection> {
    let e = equipment(db, s, equipment_id)
        .await?
        .ok_or_else(|| StoreError::NotFound("equipment".into()))?;
    if !matches!(n.conclusion.as_str(), "pass" | "recheck_pass" | "fail") {
        return Err(StoreError::invalid(
            "conclusion",
            "must be pass (合格), recheck_pass (复检合格) or fail (不合格)",
        ));
    }
    if n.inspected_on > today() {
        return Err(StoreError::invalid("inspected_on", "in the future"));
    }
    let kind = n.kind.as_deref().map(str::trim).unwrap_or("periodic");
    if !matches!(kind, "periodic" | "supervision") {
        return Err(StoreError::invalid(
            "kind",
            "must be periodic (定期检验) or supervision (监督检验)",
        ));
    }
    let cs = cycles(db, s.region.city_id).await?;
    let cycle = cycle_for(&cs, &e.category, &e.variety, e.safety_grade);
    let failed = n.conclusion == "fail";
    // A passed supervision inspection (installation, modification, major repair) is the new
    // anchor of the schedule.
    let supervised_on = if kind == "supervision" && !failed {
        Some(
            e.supervised_on
                .map_or(n.inspected_on, |d| d.max(n.inspected_on)),
        )
    } else {
        e.supervised_on
    };
    let next_due = if failed {
        Some(n.inspected_on)
    } else if let Some(sched) = cycle.and_then(Cycle::schedule) {
        let anchor = schedule_anchor(supervised_on, e.install_date, e.registration_date)
            .unwrap_or(n.inspected_on);
        let earlier: Option<NaiveDate> = one(db, "SELECT inspected_on FROM eq_inspections WHERE city_id = ? AND equipment_id = ? AND kind = 'periodic' AND conclusion IN ('pass','recheck_pass') ORDER BY inspected_on DESC LIMIT 1", vec![s.region.city_id.into(), equipment_id.into()])
            .await?
            .map(|r| r.try_get::<NaiveDate>("", "inspected_on"))
            .transpose()?;
        let this = (kind == "periodic").then_some(n.inspected_on);
        sched.next_due(anchor, earlier.max(this))
    } else {
        let interval = cycle.map(|c| c.interval_months).unwrap_or(12);
        n.inspected_on
            .checked_add_months(Months::new(interval as u32))
    };
    let defects: Vec<String> = n
        .defects
        .iter()
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect();
    let rect = if defects.is_empty() { "none" } else { "open" };
    let id = qcity_platform::ids::new_id();
    exec(
        db,
        "INSERT INTO eq_inspections (city_id, id, equipment_id, inspected_on, kind, conclusion, defects, rectification, rectified_on, inspector, next_due, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        vec![
            s.region.city_id.into(),
            id.into(),
            equipment_id.into(),
            n.inspected_on.into(),
            kind.into(),
            n.conclusion.clone().into(),
            serde_json::to_string(&defects).unwrap_or_default().into(),
            rect.into(),
            Option::<NaiveDate>::None.into(),
            n.inspector.trim().into(),
            next_due.into(),
            now().into(),
        ],
    )
    .await?;
    exec(
        db,
        "UPDATE eq_equipment SET last_inspection_on = ?, last_conclusion = ?, next_inspection_due = ?, supervised_on = ?, open_defects = ?, updated_at = ? WHERE city_id = ? AND id = ?",
        vec![
            n.inspected_on.into(),
            n.conclusion.clone().into(),
            next_due.into(),
            supervised_on.into(),
            (!defects.is_empty()).into(),
            now().into(),
            s.region.city_id.into(),
            equipment_id.into(),
        ],
    )
    .await?;
    Ok(Inspection {
        id,
        equipment_id,
        inspected_on: n.inspected_on,
        kind: kind.into(),
        conclusion: n.conclusion.clone(),
        defects,
        rectification: rect.into(),
        rectified_on: None,
        inspector: n.inspector.trim().into(),
        next_due,
    })
}

/// Closes the rectification of an inspection's defects.
pub async fn close_rectification(
    db: &impl ConnectionTrait,
    s: &Scope,
    inspection_id: i64,
    on: NaiveDate,
) -> R<Inspection> {
    let mut v = Vec::new();
    let w = s.clause("e", EQUIPMENT_OWNER, &mut v);
    v.push(inspection_id.into());
    let r = one(db, &format!("SELECT i.* FROM eq_inspections i JOIN eq_equipment e ON e.city_id = i.city_id AND e.id = i.equipment_id WHERE{w} AND i.id = ?"), v)
        .await?
        .ok_or_else(|| StoreError::NotFound("inspection".into()))?;
    let mut i = inspection_from(&r)?;
    if i.rectification != "open" {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            "no open rectification",
        ));
    }
    if on < i.inspected_on {
        return Err(StoreError::invalid("rectified_on", "before the inspection"));
    }
    exec(db, "UPDATE eq_inspections SET rectification = 'closed', rectified_on = ? WHERE city_id = ? AND id = ?", vec![on.into(), s.region.city_id.into(), inspection_id.into()]).await?;
    let open: i64 = one(db, "SELECT COUNT(*) AS n FROM eq_inspections WHERE city_id = ? AND equipment_id = ? AND rectification = 'open'", vec![s.region.city_id.into(), i.equipment_id.into()])
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    exec(
        db,
        "UPDATE eq_equipment SET open_defects = ? WHERE city_id = ? AND id = ?",
        vec![
            (open > 0).into(),
            s.region.city_id.into(),
            i.equipment_id.into(),
        ],
    )
    .await?;
    i.rectification = "closed".into();
    i.rectified_on = Some(on);
    Ok(i)
}

pub async fn inspections_of(
    db: &impl ConnectionTrait,
    city_id: i64,
    equipment_id: i64,
) -> R<Vec<Inspection>> {
    all(db, "SELECT * FROM eq_inspections WHERE city_id = ? AND equipment_id = ? ORDER BY inspected_on DESC", vec![city_id.into(), equipment_id.into()])
        .await?
        .iter()
        .map(inspection_from)
        .collect()
}
