//! The register of special equipment (特种设备): the record as shown, the checks of a new one,
//! registration, the scoped list and its filters, look-up by 应急救援识别码, and the status
//! lifecycle.

use super::{Cycle, EQUIPMENT_OWNER, R, company, cycles, first_due, region_exists, today};
use crate::domain::{Category, EquipmentCode, EquipmentStatus, parse_rescue_code};
use crate::sql::{self, all, exec, like, now, one};
use chrono::{Datelike, NaiveDate};
use qcity_platform::Scope;
use qcity_platform::store::ConflictCode;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, QueryResult, Value};
use serde::{Deserialize, Serialize};

/// One piece of special equipment as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Equipment {
    pub id: i64,
    /// Category code (1000 … 9000).
    pub category: String,
    pub category_name_zh: String,
    pub category_name_en: String,
    /// Variety code (品种代码, 4 characters).
    pub variety: String,
    /// 设备代码 (18 characters).
    pub equipment_code: Option<String>,
    /// Legacy 注册代码.
    pub registration_code: Option<String>,
    /// 使用登记证编号.
    pub use_cert_no: Option<String>,
    /// 应急救援识别码 (elevators).
    pub rescue_code: Option<String>,
    pub name: String,
    /// 使用单位.
    pub use_unit: String,
    /// The use unit's enterprise in the platform's register (市场主体).
    pub use_unit_enterprise_id: Option<i64>,
    pub use_unit_phone: String,
    pub company_id: Option<i64>,
    pub company_name_zh: Option<String>,
    pub company_name_en: Option<String>,
    pub company_duty_phone: Option<String>,
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub region_code: String,
    pub manufacture_date: Option<NaiveDate>,
    pub install_date: Option<NaiveDate>,
    pub registration_date: Option<NaiveDate>,
    /// 监督检验合格日期: the latest supervision-inspection pass (installation, modification or
    /// major repair); the elevator inspection schedule counts from it.
    pub supervised_on: Option<NaiveDate>,
    pub status: String,
    pub safety_grade: Option<i32>,
    pub renovated_year: Option<i32>,
    /// Category- and variety-specific attributes (floors, rated load, pressure, …).
    pub attributes: serde_json::Value,
    pub last_inspection_on: Option<NaiveDate>,
    /// `pass`, `recheck_pass` or `fail`.
    pub last_conclusion: Option<String>,
    pub next_inspection_due: Option<NaiveDate>,
    pub last_maintenance_on: Option<NaiveDate>,
    pub open_defects: bool,
    /// Overdue for inspection or failed with open defects: 禁止使用.
    pub must_not_use: bool,
    pub age_years: Option<i32>,
}

pub(super) const EQ_SELECT: &str = "SELECT e.*, c.name_zh AS c_name_zh, c.name_en AS c_name_en, c.duty_phone AS c_duty_phone FROM eq_equipment e LEFT JOIN eq_companies c ON c.city_id = e.city_id AND c.id = e.company_id";

pub(crate) fn equipment_from(r: &QueryResult, today: NaiveDate) -> R<Equipment> {
    let category: String = r.try_get("", "category")?;
    let cat = Category::parse(&category);
    let next_due: Option<NaiveDate> = r.try_get("", "next_inspection_due")?;
    let last_conclusion: Option<String> = r.try_get("", "last_conclusion")?;
    let open_defects: bool = r.try_get("", "open_defects")?;
    let status: String = r.try_get("", "status")?;
    let manufacture: Option<NaiveDate> = r.try_get("", "manufacture_date")?;
    let attrs: String = r.try_get("", "attributes")?;
    let in_service = status == "in_use" || status == "registered";
    Ok(Equipment {
        id: r.try_get("", "id")?,
        category_name_zh: cat.map(|c| c.name_zh()).unwrap_or("").into(),
        category_name_en: cat.map(|c| c.name_en()).unwrap_or("").into(),
        category,
        variety: r.try_get("", "variety")?,
        equipment_code: r.try_get("", "equipment_code")?,
        registration_code: r.try_get("", "registration_code")?,
        use_cert_no: r.try_get("", "use_cert_no")?,
        rescue_code: r.try_get("", "rescue_code")?,
        name: r.try_get("", "name")?,
        use_unit: r.try_get("", "use_unit")?,
        use_unit_enterprise_id: r.try_get("", "use_unit_enterprise_id")?,
        use_unit_phone: r.try_get("", "use_unit_phone")?,
        company_id: r.try_get("", "company_id")?,
        company_name_zh: r.try_get("", "c_name_zh")?,
        company_name_en: r.try_get("", "c_name_en")?,
        company_duty_phone: r.try_get("", "c_duty_phone")?,
        address: r.try_get("", "address")?,
        lon: r.try_get("", "lon")?,
        lat: r.try_get("", "lat")?,
        region_code: r.try_get("", "region_code")?,
        manufacture_date: manufacture,
        install_date: r.try_get("", "install_date")?,
        registration_date: r.try_get("", "registration_date")?,
        supervised_on: r.try_get("", "supervised_on")?,
        safety_grade: r.try_get("", "safety_grade")?,
        renovated_year: r.try_get("", "renovated_year")?,
        attributes: serde_json::from_str(&attrs).unwrap_or(serde_json::Value::Null),
        last_inspection_on: r.try_get("", "last_inspection_on")?,
        must_not_use: in_service
            && (next_due.is_some_and(|d| d < today)
                || (last_conclusion.as_deref() == Some("fail") && open_defects)),
        last_conclusion,
        next_inspection_due: next_due,
        last_maintenance_on: r.try_get("", "last_maintenance_on")?,
        open_defects,
        status,
        age_years: manufacture.map(|m| years_between(m, today)),
    })
}

pub fn years_between(from: NaiveDate, to: NaiveDate) -> i32 {
    let mut y = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        y -= 1;
    }
    y.max(0)
}

/// A new piece of equipment (API body, CSV row after parsing).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewEquipment {
    pub category: String,
    pub variety: String,
    pub equipment_code: Option<String>,
    pub registration_code: Option<String>,
    pub use_cert_no: Option<String>,
    pub rescue_code: Option<String>,
    pub name: String,
    pub use_unit: String,
    /// The use unit's 统一社会信用代码: links it to the register (found, or registered when new);
    /// without it the use unit is linked by exact name when one enterprise has that name.
    #[serde(default)]
    pub use_unit_credit_code: Option<String>,
    #[serde(default)]
    pub use_unit_phone: String,
    pub company_id: Option<i64>,
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub region_code: String,
    pub manufacture_date: Option<NaiveDate>,
    pub install_date: Option<NaiveDate>,
    pub registration_date: Option<NaiveDate>,
    /// 监督检验合格日期 (elevators: the schedule's anchor; default the installation date).
    pub supervised_on: Option<NaiveDate>,
    pub status: Option<String>,
    pub safety_grade: Option<i32>,
    pub renovated_year: Option<i32>,
    pub attributes: Option<serde_json::Value>,
}

/// Checks a new record; returns (field, message) problems.
pub(super) fn check_new(e: &NewEquipment) -> Vec<(&'static str, String)> {
    let mut errs = Vec::new();
    let max_year = today().year() + 1;
    let cat = Category::parse(&e.category);
    if cat.is_none() {
        errs.push((
            "category",
            format!(
                "unknown category `{}` (1000, 2000, 3000, 4000, 5000, 6000, 8000, 9000)",
                e.category
            ),
        ));
    }
    let v = e.variety.trim();
    if v.len() != 4 || !v.is_ascii() {
        errs.push(("variety", "must be a 4-character variety code".into()));
    } else if let Some(c) = cat
        && Category::of_variety(v) != Some(c)
    {
        errs.push((
            "variety",
            format!("variety `{v}` is not in category {}", c.code()),
        ));
    }
    if let Some(code) = e.equipment_code.as_deref().filter(|s| !s.trim().is_empty()) {
        match EquipmentCode::parse(code, max_year) {
            Ok(c) if v.len() == 4 && c.variety != v => errs.push((
                "equipment_code",
                format!("variety part `{}` differs from variety `{v}`", c.variety),
            )),
            Ok(_) => {}
            Err(err) => errs.push(("equipment_code", err.to_string())),
        }
    }
    if let Some(rc) = e.rescue_code.as_deref().filter(|s| !s.trim().is_empty()) {
        if let Err(err) = parse_rescue_code(rc) {
            errs.push(("rescue_code", err.to_string()));
        } else if cat != Some(Category::Elevator) {
            errs.push(("rescue_code", "only elevators carry a rescue code".into()));
        }
    }
    if e.name.trim().is_empty() {
        errs.push(("name", "required".into()));
    }
    if e.use_unit.trim().is_empty() {
        errs.push(("use_unit", "required".into()));
    }
    if let Some(s) = &e.status
        && EquipmentStatus::parse(s).is_none()
    {
        errs.push((
            "status",
            format!("unknown status `{s}` (registered, in_use, suspended, scrapped)"),
        ));
    }
    if let Some(lat) = e.lat
        && !(-90.0..=90.0).contains(&lat)
    {
        errs.push(("lat", "latitude out of range".into()));
    }
    if let Some(lon) = e.lon
        && !(-180.0..=180.0).contains(&lon)
    {
        errs.push(("lon", "longitude out of range".into()));
    }
    if let (Some(m), Some(i)) = (e.manufacture_date, e.install_date)
        && i < m
    {
        errs.push(("install_date", "before the manufacture date".into()));
    }
    if let Some(g) = e.safety_grade
        && !(1..=5).contains(&g)
    {
        errs.push(("safety_grade", "must be 1 to 5".into()));
    }
    errs
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
}

pub(super) async fn insert_equipment(
    db: &impl ConnectionTrait,
    city_id: i64,
    e: &NewEquipment,
    cycles: &[Cycle],
) -> R<i64> {
    let id = qcity_platform::ids::new_id();
    let t = now();
    let status = e.status.clone().unwrap_or_else(|| "in_use".into());
    let due = first_due(cycles, e);
    let r = exec(
        db,
        "INSERT INTO eq_equipment (city_id, id, category, variety, equipment_code, registration_code, use_cert_no, rescue_code, name, use_unit, use_unit_phone, company_id, address, lon, lat, region_code, manufacture_date, install_date, registration_date, supervised_on, status, safety_grade, renovated_year, attributes, last_inspection_on, last_conclusion, next_inspection_due, last_maintenance_on, open_defects, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        vec![
            city_id.into(),
            id.into(),
            Category::parse(&e.category).map(|c| c.code()).unwrap_or("").into(),
            e.variety.trim().into(),
            opt(&e.equipment_code).into(),
            opt(&e.registration_code).into(),
            opt(&e.use_cert_no).into(),
            opt(&e.rescue_code).into(),
            e.name.trim().into(),
            e.use_unit.trim().into(),
            e.use_unit_phone.trim().into(),
            e.company_id.into(),
            e.address.trim().into(),
            e.lon.into(),
            e.lat.into(),
            e.region_code.trim().into(),
            e.manufacture_date.into(),
            e.install_date.into(),
            e.registration_date.into(),
            e.supervised_on.into(),
            status.into(),
            e.safety_grade.into(),
            e.renovated_year.into(),
            e.attributes
                .clone()
                .unwrap_or(serde_json::json!({}))
                .to_string()
                .into(),
            Option::<NaiveDate>::None.into(),
            Option::<String>::None.into(),
            due.into(),
            Option::<NaiveDate>::None.into(),
            false.into(),
            t.into(),
            t.into(),
        ],
    )
    .await;
    match r {
        Ok(_) => Ok(id),
        Err(err) if sql::is_unique_violation(&err) => Err(StoreError::conflict(
            ConflictCode::Conflict,
            "rescue_code or equipment_code already registered in this city",
        )),
        Err(err) => Err(err.into()),
    }
}

/// Registers one piece of equipment (region must lie in the caller's scope).
pub async fn create_equipment(
    db: &impl ConnectionTrait,
    s: &Scope,
    e: &NewEquipment,
) -> R<Equipment> {
    if let Some((f, m)) = check_new(e).into_iter().next() {
        return Err(StoreError::invalid(f, m));
    }
    let city = s.region.city_id;
    region_exists(db, city, &e.region_code, "region_code").await?;
    if !e.region_code.trim().starts_with(s.prefix()) {
        return Err(StoreError::invalid("region_code", "outside your region"));
    }
    if let Some(c) = e.company_id
        && company(db, city, c).await?.is_none()
    {
        return Err(StoreError::invalid(
            "company_id",
            "unknown maintenance company",
        ));
    }
    let cycles = cycles(db, city).await?;
    let id = insert_equipment(db, city, e, &cycles).await?;
    equipment(db, s, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("equipment".into()))
}

/// Filters of the registry list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EquipmentFilter {
    pub rescue_code: Option<String>,
    pub equipment_code: Option<String>,
    /// Category code or slug.
    pub category: Option<String>,
    /// Region code (narrows the caller's scope).
    pub region: Option<String>,
    pub status: Option<String>,
    /// `overdue`, or a number of days (30, 60, 90): inspection due within that window.
    pub due: Option<String>,
    pub company_id: Option<i64>,
    /// Free text: address, name, use unit, codes.
    pub q: Option<String>,
    /// 0-based page.
    #[param(format = Int64, maximum = 4294967295_u64)]
    pub page: Option<u32>,
    /// Rows per page, 1–1000 (default 50).
    #[param(format = Int64, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
}

pub(crate) fn where_clause(s: &Scope, f: &EquipmentFilter) -> R<(String, Vec<Value>)> {
    let mut v: Vec<Value> = Vec::new();
    let mut w = format!(" WHERE{}", s.clause("e", EQUIPMENT_OWNER, &mut v));
    if let Some(rc) = f.rescue_code.as_deref().filter(|x| !x.is_empty()) {
        w.push_str(" AND e.rescue_code = ?");
        v.push(rc.trim().into());
    }
    if let Some(rc) = f.equipment_code.as_deref().filter(|x| !x.is_empty()) {
        w.push_str(" AND e.equipment_code = ?");
        v.push(rc.trim().into());
    }
    if let Some(c) = f.category.as_deref().filter(|x| !x.is_empty()) {
        let cat = Category::parse(c)
            .ok_or_else(|| StoreError::invalid("category", format!("unknown category `{c}`")))?;
        w.push_str(" AND e.category = ?");
        v.push(cat.code().into());
    }
    if let Some(r) = f.region.as_deref().filter(|x| !x.is_empty()) {
        let p = qcity_platform::auth::scope::scope_prefix(r.trim());
        w.push_str(" AND e.region_code LIKE ?");
        v.push(like(&p).into());
    }
    if let Some(st) = f.status.as_deref().filter(|x| !x.is_empty()) {
        let st = EquipmentStatus::parse(st)
            .ok_or_else(|| StoreError::invalid("status", format!("unknown status `{st}`")))?;
        w.push_str(" AND e.status = ?");
        v.push(st.as_str().into());
    }
    if let Some(d) = f.due.as_deref().filter(|x| !x.is_empty()) {
        let t = today();
        w.push_str(" AND e.status IN ('in_use','registered')");
        if d == "overdue" {
            w.push_str(" AND e.next_inspection_due < ?");
            v.push(t.into());
        } else {
            let days: i64 = d
                .parse()
                .ok()
                .filter(|n| (1..=366).contains(n))
                .ok_or_else(|| StoreError::invalid("due", "`overdue` or a number of days 1–366"))?;
            w.push_str(" AND e.next_inspection_due >= ? AND e.next_inspection_due <= ?");
            v.push(t.into());
            v.push((t + chrono::Duration::days(days)).into());
        }
    }
    if let Some(c) = f.company_id {
        w.push_str(" AND e.company_id = ?");
        v.push(c.into());
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        w.push_str(" AND (e.address LIKE ? OR e.name LIKE ? OR e.use_unit LIKE ? OR e.rescue_code = ? OR e.equipment_code = ?)");
        let pat = format!("%{q}%");
        v.push(pat.clone().into());
        v.push(pat.clone().into());
        v.push(pat.into());
        v.push(q.into());
        v.push(q.into());
    }
    Ok((w, v))
}

/// A page of the registry and the total count.
pub async fn list_equipment(
    db: &impl ConnectionTrait,
    s: &Scope,
    f: &EquipmentFilter,
) -> R<(Vec<Equipment>, u64)> {
    let (w, v) = where_clause(s, f)?;
    let total: i64 = one(
        db,
        &format!("SELECT COUNT(*) AS n FROM eq_equipment e{w}"),
        v.clone(),
    )
    .await?
    .map(|r| r.try_get("", "n"))
    .transpose()?
    .unwrap_or(0);
    let limit = u64::from(f.limit.unwrap_or(50).clamp(1, 1000));
    // A huge page number is an empty page, not an overflow.
    let offset = u64::from(f.page.unwrap_or(0)) * limit;
    let order = if f.due.is_some() {
        " ORDER BY e.next_inspection_due, e.id"
    } else {
        " ORDER BY e.region_code, e.id"
    };
    let rows = all(
        db,
        &format!("{EQ_SELECT}{w}{order} LIMIT {limit} OFFSET {offset}"),
        v,
    )
    .await?;
    let t = today();
    let items = rows
        .iter()
        .map(|r| equipment_from(r, t))
        .collect::<R<Vec<_>>>()?;
    Ok((items, total as u64))
}

/// One piece of equipment, if in scope (otherwise `None`, shown as 404).
pub async fn equipment(db: &impl ConnectionTrait, s: &Scope, id: i64) -> R<Option<Equipment>> {
    let (w, mut v) = where_clause(s, &EquipmentFilter::default())?;
    v.push(id.into());
    let r = one(db, &format!("{EQ_SELECT}{w} AND e.id = ?"), v).await?;
    r.as_ref().map(|r| equipment_from(r, today())).transpose()
}

/// An elevator by its rescue code, if in scope.
pub async fn by_rescue_code(
    db: &impl ConnectionTrait,
    s: &Scope,
    code: &str,
) -> R<Option<Equipment>> {
    let f = EquipmentFilter {
        rescue_code: Some(code.to_string()),
        ..Default::default()
    };
    let (w, v) = where_clause(s, &f)?;
    let r = one(db, &format!("{EQ_SELECT}{w}"), v).await?;
    r.as_ref().map(|r| equipment_from(r, today())).transpose()
}

/// Changes the status along the lifecycle.
pub async fn set_status(
    db: &impl ConnectionTrait,
    s: &Scope,
    id: i64,
    to: EquipmentStatus,
) -> R<(Equipment, Equipment)> {
    let before = equipment(db, s, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("equipment".into()))?;
    let from = EquipmentStatus::parse(&before.status).unwrap_or(EquipmentStatus::Registered);
    if !from.can_become(to) {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            format!("status {} cannot become {}", from.as_str(), to.as_str()),
        ));
    }
    exec(
        db,
        "UPDATE eq_equipment SET status = ?, updated_at = ? WHERE city_id = ? AND id = ?",
        vec![
            to.as_str().into(),
            now().into(),
            s.region.city_id.into(),
            id.into(),
        ],
    )
    .await?;
    let after = equipment(db, s, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("equipment".into()))?;
    Ok((before, after))
}
