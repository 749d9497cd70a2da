//! 检验周期: the city's inspection-cycle table (defaults and edits), the TSG T7001-2023 elevator
//! schedule and the due dates it sets, and an elevator's inspection plan.

use super::{Equipment, NewEquipment, R, today};
use crate::domain::Category;
use crate::schedule::Schedule;
use crate::sql::{self, all, exec};
use chrono::{Datelike, Months, NaiveDate};
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, Value};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// 检验周期: one row of the cycle table, as data.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cycle {
    pub id: i64,
    pub category: String,
    /// Variety-code prefix this row applies to (`""` = the whole category, `43` = tower cranes).
    pub variety: String,
    pub safety_grade: Option<i32>,
    /// First periodic inspection this many months after entering use.
    pub first_after_months: i32,
    pub interval_months: i32,
    /// The inspector may shorten the cycle, never below this.
    pub min_interval_months: i32,
    pub note: String,
    /// Elevators (TSG T7001-2023): inspection years counted from the latest supervision-
    /// inspection pass, e.g. `1,4,7,9,11,13,15`; after the last one every `interval_months`.
    /// The years between are self-testing (自行检测) years. `None` = a fixed interval.
    pub schedule_years: Option<String>,
    /// With a schedule: how many months early an inspection on request may be without moving
    /// the next due date.
    pub early_months: Option<i32>,
}

impl Cycle {
    /// The T7001-2023 schedule of this row, if it has one.
    pub fn schedule(&self) -> Option<Schedule> {
        let years = Schedule::parse_years(self.schedule_years.as_deref()?).ok()?;
        Some(Schedule {
            years,
            after_interval_months: self.interval_months.max(1) as u32,
            early_months: self.early_months.unwrap_or(0).max(0) as u32,
        })
    }
}

/// The note of the elevator cycle row.
pub const ELEVATOR_CYCLE_NOTE: &str = "TSG T7001-2023: 自监督检验合格起第1、4、7、9、11、13、15年定期检验, 其余年份自行检测(TSG T7008); 超过15年每年检验(待核实, 可配置); 检验月份为最近一次监督检验合格的月份; 申请提前2个月内检验不改变下次检验日期";

/// One default cycle row: category, variety prefix, safety grade, first-after, interval and
/// minimum interval in months, note.
pub type CycleDefault = (
    &'static str,
    &'static str,
    Option<i32>,
    i32,
    i32,
    i32,
    &'static str,
);

/// The defaults of the domain brief (§1.2).
pub fn default_cycles() -> Vec<CycleDefault> {
    vec![
        (
            "1000",
            "",
            None,
            12,
            12,
            12,
            "锅炉外部检验每年; 内部检验一般每2年",
        ),
        (
            "2000",
            "21",
            None,
            36,
            72,
            12,
            "固定式压力容器: 投用3年内首检",
        ),
        (
            "2000",
            "21",
            Some(1),
            36,
            72,
            12,
            "安全状况等级1–2级: 每6年",
        ),
        (
            "2000",
            "21",
            Some(2),
            36,
            72,
            12,
            "安全状况等级1–2级: 每6年",
        ),
        ("2000", "21", Some(3), 36, 36, 12, "安全状况等级3级: 3–6年"),
        (
            "2000",
            "21",
            Some(4),
            36,
            12,
            6,
            "安全状况等级4级: 监控使用, 累计不超过3年",
        ),
        (
            "2000",
            "22",
            None,
            12,
            60,
            12,
            "移动式压力容器: 汽车罐车5年",
        ),
        ("2000", "23", None, 36, 36, 24, "气瓶: 一般3年"),
        ("3000", "", None, 12, 12, 12, ELEVATOR_CYCLE_NOTE),
        ("4000", "", None, 24, 24, 6, "桥式、门式等起重机每2年"),
        ("4000", "43", None, 12, 12, 6, "塔式起重机每年"),
        ("4000", "44", None, 12, 12, 6, "流动式起重机每年"),
        ("4000", "48", None, 12, 12, 6, "升降机每年"),
        ("5000", "", None, 12, 12, 12, "场(厂)内专用机动车辆每年"),
        ("6000", "", None, 12, 12, 12, "大型游乐设施每年"),
        (
            "8000",
            "",
            None,
            36,
            36,
            12,
            "压力管道: 安全状况等级3级≤3年",
        ),
        ("8000", "", Some(1), 36, 72, 12, "安全状况等级1–2级≤6年"),
        ("8000", "", Some(2), 36, 72, 12, "安全状况等级1–2级≤6年"),
        ("9000", "", None, 12, 12, 12, "客运索道每年"),
    ]
}

/// The city's cycle table; the defaults are stored the first time it is read.
pub async fn cycles(db: &impl ConnectionTrait, city_id: i64) -> R<Vec<Cycle>> {
    let read = || async {
        all(
            db,
            "SELECT * FROM eq_cycles WHERE city_id = ? ORDER BY category, variety, safety_grade",
            vec![city_id.into()],
        )
        .await
    };
    let mut rows = read().await?;
    if rows.is_empty() {
        for (cat, var, grade, first, interval, min, note) in default_cycles() {
            // The elevator row carries the T7001-2023 schedule.
            let sched = (cat == "3000" && var.is_empty()).then(Schedule::t7001_2023);
            exec(
                db,
                "INSERT INTO eq_cycles (city_id, id, category, variety, safety_grade, first_after_months, interval_months, min_interval_months, note, schedule_years, early_months) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                vec![
                    city_id.into(),
                    qcity_platform::ids::new_id().into(),
                    cat.into(),
                    var.into(),
                    grade.into(),
                    first.into(),
                    interval.into(),
                    min.into(),
                    note.into(),
                    sched.as_ref().map(|s| s.years_text()).into(),
                    sched.as_ref().map(|s| s.early_months as i32).into(),
                ],
            )
            .await?;
        }
        rows = read().await?;
    }
    rows.iter()
        .map(|r| {
            Ok(Cycle {
                id: r.try_get("", "id")?,
                category: r.try_get("", "category")?,
                variety: r.try_get("", "variety")?,
                safety_grade: r.try_get("", "safety_grade")?,
                first_after_months: r.try_get("", "first_after_months")?,
                interval_months: r.try_get("", "interval_months")?,
                min_interval_months: r.try_get("", "min_interval_months")?,
                note: r.try_get("", "note")?,
                schedule_years: r.try_get("", "schedule_years")?,
                early_months: r.try_get("", "early_months")?,
            })
        })
        .collect()
}

/// An edit of one cycle row.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CycleEdit {
    pub first_after_months: i32,
    pub interval_months: i32,
    /// Rows with a schedule only: the inspection years, e.g. `1,4,7,9,11,13,15`.
    pub schedule_years: Option<String>,
    /// Rows with a schedule only: months early allowed on request (0–6).
    pub early_months: Option<i32>,
}

/// Edits one cycle row (interval bounded below by its minimum). Editing a scheduled row
/// recomputes the next due dates of the equipment it governs.
pub async fn update_cycle(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    ed: &CycleEdit,
) -> R<()> {
    let cs = cycles(db, city_id).await?;
    let c = cs
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| StoreError::NotFound("cycle".into()))?;
    if ed.interval_months < c.min_interval_months || ed.interval_months > 144 {
        return Err(StoreError::invalid(
            "interval_months",
            format!("must be between {} and 144", c.min_interval_months),
        ));
    }
    if !(1..=144).contains(&ed.first_after_months) {
        return Err(StoreError::invalid("first_after_months", "must be 1–144"));
    }
    let mut years = c.schedule_years.clone();
    let mut early = c.early_months;
    if c.schedule_years.is_some() {
        if let Some(y) = ed.schedule_years.as_deref() {
            let parsed =
                Schedule::parse_years(y).map_err(|m| StoreError::invalid("schedule_years", m))?;
            years = Some(
                Schedule {
                    years: parsed,
                    after_interval_months: 12,
                    early_months: 0,
                }
                .years_text(),
            );
        }
        if let Some(e) = ed.early_months {
            if !(0..=6).contains(&e) {
                return Err(StoreError::invalid("early_months", "must be 0–6"));
            }
            early = Some(e);
        }
    } else if ed.schedule_years.is_some() || ed.early_months.is_some() {
        return Err(StoreError::invalid(
            "schedule_years",
            "only the elevator row has an inspection-year schedule",
        ));
    }
    exec(
        db,
        "UPDATE eq_cycles SET first_after_months = ?, interval_months = ?, schedule_years = ?, early_months = ? WHERE city_id = ? AND id = ?",
        vec![ed.first_after_months.into(), ed.interval_months.into(), years.clone().into(), early.into(), city_id.into(), id.into()],
    )
    .await?;
    if years.is_some() {
        recompute_scheduled_dues(db, Some(city_id)).await?;
    }
    Ok(())
}

/// The schedule anchor of a piece of equipment: the latest supervision-inspection pass, else
/// the installation date, else the registration date.
pub fn schedule_anchor(
    supervised_on: Option<NaiveDate>,
    install_date: Option<NaiveDate>,
    registration_date: Option<NaiveDate>,
) -> Option<NaiveDate> {
    supervised_on.or(install_date).or(registration_date)
}

/// Recomputes `next_inspection_due` of every piece of equipment whose cycle row has a
/// schedule (elevators), in one city or all: from the anchor and the latest passing periodic
/// inspection. Equipment whose last inspection failed stays due at once. Returns the rows set.
pub async fn recompute_scheduled_dues(db: &impl ConnectionTrait, city_id: Option<i64>) -> R<u64> {
    let (w, v): (&str, Vec<Value>) = match city_id {
        Some(c) => (" AND e.city_id = ?", vec![c.into()]),
        None => ("", vec![]),
    };
    let cities: Vec<i64> = all(
        db,
        &format!("SELECT DISTINCT e.city_id FROM eq_equipment e WHERE e.category = '3000'{w}"),
        v.clone(),
    )
    .await?
    .iter()
    .map(|r| r.try_get("", "city_id"))
    .collect::<Result<_, _>>()?;
    let mut set = 0u64;
    for cid in cities {
        let cs = cycles(db, cid).await?;
        // Latest passing periodic inspection per elevator.
        let mut passes: HashMap<i64, NaiveDate> = HashMap::new();
        for r in all(
            db,
            "SELECT i.equipment_id, i.inspected_on FROM eq_inspections i JOIN eq_equipment e ON e.city_id = i.city_id AND e.id = i.equipment_id WHERE i.city_id = ? AND e.category = '3000' AND i.kind = 'periodic' AND i.conclusion IN ('pass','recheck_pass')",
            vec![cid.into()],
        )
        .await?
        {
            let d: NaiveDate = r.try_get("", "inspected_on")?;
            let last = passes.entry(r.try_get("", "equipment_id")?).or_insert(d);
            *last = (*last).max(d);
        }
        let rows = all(db, "SELECT id, category, variety, safety_grade, supervised_on, install_date, registration_date, last_inspection_on, last_conclusion FROM eq_equipment WHERE city_id = ? AND category = '3000'", vec![cid.into()]).await?;
        let mut by_due: HashMap<Option<NaiveDate>, Vec<i64>> = HashMap::new();
        for r in rows {
            let cat: String = r.try_get("", "category")?;
            let var: String = r.try_get("", "variety")?;
            let Some(sched) = cycle_for(&cs, &cat, &var, r.try_get("", "safety_grade")?)
                .and_then(Cycle::schedule)
            else {
                continue;
            };
            if r.try_get::<Option<String>>("", "last_conclusion")?
                .as_deref()
                == Some("fail")
            {
                continue;
            }
            let id: i64 = r.try_get("", "id")?;
            let Some(anchor) = schedule_anchor(
                r.try_get("", "supervised_on")?,
                r.try_get("", "install_date")?,
                r.try_get("", "registration_date")?,
            ) else {
                continue;
            };
            // Without inspection records (imported or older data) the stored last date counts.
            let last = passes
                .get(&id)
                .copied()
                .or(r.try_get::<Option<NaiveDate>>("", "last_inspection_on")?);
            by_due
                .entry(sched.next_due(anchor, last))
                .or_default()
                .push(id);
        }
        for (due, ids) in by_due {
            for chunk in ids.chunks(500) {
                let mut vals: Vec<Value> = vec![due.into(), cid.into()];
                vals.extend(chunk.iter().map(|i| Value::from(*i)));
                let r = exec(
                    db,
                    &format!(
                        "UPDATE eq_equipment SET next_inspection_due = ? WHERE city_id = ? AND id IN {}",
                        sql::placeholders(chunk.len())
                    ),
                    vals,
                )
                .await?;
                set += r.rows_affected();
            }
        }
    }
    Ok(set)
}

/// One use year of an elevator's inspection plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanYear {
    /// Use year counted from the schedule anchor (1 = the first year).
    pub year: u32,
    /// `periodic` (定期检验) or `self_test` (自行检测, TSG T7008-2023).
    pub kind: String,
    /// The due month's last day (periodic years) or the year's anniversary month end.
    pub due: Option<NaiveDate>,
}

/// An elevator's inspection plan under TSG T7001-2023.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InspectionPlan {
    /// The latest supervision-inspection pass (or installation / registration date).
    pub anchor: NaiveDate,
    /// The use year today falls in.
    pub current_year: u32,
    /// Its kind: `periodic` or `self_test`.
    pub current_kind: String,
    pub next_due: Option<NaiveDate>,
    /// Use years 1 … current + 5.
    pub years: Vec<PlanYear>,
}

/// The inspection plan of a piece of equipment, if its cycle row has a schedule.
pub async fn inspection_plan(
    db: &impl ConnectionTrait,
    city_id: i64,
    e: &Equipment,
) -> R<Option<InspectionPlan>> {
    let cs = cycles(db, city_id).await?;
    let Some(sched) =
        cycle_for(&cs, &e.category, &e.variety, e.safety_grade).and_then(Cycle::schedule)
    else {
        return Ok(None);
    };
    let Some(anchor) = schedule_anchor(e.supervised_on, e.install_date, e.registration_date) else {
        return Ok(None);
    };
    Ok(Some(plan_of(
        &sched,
        anchor,
        e.next_inspection_due,
        today(),
    )))
}

/// The plan for `anchor` as seen on `today` (pure).
pub fn plan_of(
    sched: &Schedule,
    anchor: NaiveDate,
    next_due: Option<NaiveDate>,
    today: NaiveDate,
) -> InspectionPlan {
    let current = crate::schedule::use_year(anchor, today);
    let base = anchor.with_day(1).unwrap_or(anchor);
    let years = (1..=current.max(1) + 5)
        .map(|k| PlanYear {
            year: k,
            kind: sched.year_kind(k).as_str().into(),
            due: base
                .checked_add_months(Months::new(12 * k + 1))
                .and_then(|d| d.pred_opt()),
        })
        .collect();
    InspectionPlan {
        anchor,
        current_year: current,
        current_kind: sched.year_kind(current.max(1)).as_str().into(),
        next_due,
        years,
    }
}

/// The most specific cycle for a category, variety and grade.
pub fn cycle_for<'a>(
    cs: &'a [Cycle],
    category: &str,
    variety: &str,
    grade: Option<i32>,
) -> Option<&'a Cycle> {
    let cat = Category::parse(category)
        .map(|c| c.code())
        .unwrap_or(category);
    cs.iter()
        .filter(|c| c.category == cat && variety.starts_with(&c.variety))
        .filter(|c| c.safety_grade.is_none() || c.safety_grade == grade)
        .max_by_key(|c| (c.variety.len(), c.safety_grade.is_some()))
}

pub(super) fn first_due(cs: &[Cycle], e: &NewEquipment) -> Option<NaiveDate> {
    let c = cycle_for(cs, &e.category, e.variety.trim(), e.safety_grade)?;
    if let Some(sched) = c.schedule() {
        let anchor = schedule_anchor(e.supervised_on, e.install_date, e.registration_date)?;
        return sched.next_due(anchor, None);
    }
    let start = e.registration_date.or(e.install_date)?;
    start.checked_add_months(Months::new(c.first_after_months as u32))
}
