//! The registry: maintenance companies, equipment, inspection cycles, inspections, maintenance,
//! and the elevator risk score. Every function takes the city and the caller's scope.

use crate::domain::{Category, EquipmentCode, EquipmentStatus, parse_rescue_code};
use crate::schedule::Schedule;
use crate::sql::{self, all, exec, like, now, one};
use chrono::{Datelike, Months, NaiveDate};
use qcity_platform::auth::{Principal, Role};
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use qcity_platform::upload::{self, Limits, UploadError, UploadErrorKind};
use sea_orm::{ConnectionTrait, QueryResult, TransactionSession, TransactionTrait, Value};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

type R<T> = Result<T, StoreError>;

/// What a caller may see: a region subtree of one city, and for maintenance engineers only
/// their own company's equipment and incidents.
#[derive(Debug, Clone)]
pub struct Scope {
    pub city_id: i64,
    pub prefix: String,
    pub company_id: Option<i64>,
}

impl Scope {
    pub fn of(p: &Principal) -> Self {
        Self {
            city_id: p.city_id,
            prefix: p.scope.prefix.clone(),
            company_id: if p.role == Role::Maintainer {
                // A maintainer bound to no company sees nothing.
                Some(p.company_id.unwrap_or(-1))
            } else {
                None
            },
        }
    }
    /// The whole city (background jobs, hooks).
    pub fn city(city_id: i64, city_prefix: &str) -> Self {
        Self {
            city_id,
            prefix: city_prefix.to_string(),
            company_id: None,
        }
    }
}

/// Today in China time (the bureau's working day).
pub fn today() -> NaiveDate {
    qcity_platform::time::today()
}

// ---------------------------------------------------------------- companies

/// 维保单位: a maintenance company (or rescue station).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Company {
    pub id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub license_no: String,
    /// 24-hour duty phone (24小时值班电话).
    pub duty_phone: String,
    pub contract_until: Option<NaiveDate>,
    pub engineers: i32,
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub region_code: String,
    /// The enterprise of the platform's register (市场主体) this company is.
    pub enterprise_id: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewCompany {
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    pub license_no: String,
    pub duty_phone: String,
    pub contract_until: Option<NaiveDate>,
    #[serde(default)]
    pub engineers: i32,
    #[serde(default)]
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub region_code: String,
    /// 统一社会信用代码: links the company to the register (found, or registered when new).
    #[serde(default)]
    pub credit_code: Option<String>,
}

fn company_from(r: &QueryResult) -> R<Company> {
    Ok(Company {
        id: r.try_get("", "id")?,
        name_zh: r.try_get("", "name_zh")?,
        name_en: r.try_get("", "name_en")?,
        license_no: r.try_get("", "license_no")?,
        duty_phone: r.try_get("", "duty_phone")?,
        contract_until: r.try_get("", "contract_until")?,
        engineers: r.try_get("", "engineers")?,
        address: r.try_get("", "address")?,
        lon: r.try_get("", "lon")?,
        lat: r.try_get("", "lat")?,
        region_code: r.try_get("", "region_code")?,
        enterprise_id: r.try_get("", "enterprise_id")?,
    })
}

pub async fn create_company(db: &impl ConnectionTrait, city_id: i64, c: &NewCompany) -> R<Company> {
    if c.name_zh.trim().is_empty() {
        return Err(StoreError::invalid("name_zh", "required"));
    }
    if c.duty_phone.trim().len() < 5 {
        return Err(StoreError::invalid(
            "duty_phone",
            "a 24-hour duty phone is required",
        ));
    }
    region_exists(db, city_id, &c.region_code, "region_code").await?;
    let id = qcity_platform::ids::new_id();
    exec(
        db,
        "INSERT INTO eq_companies (city_id, id, name_zh, name_en, license_no, duty_phone, contract_until, engineers, address, lon, lat, region_code, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        vec![
            city_id.into(),
            id.into(),
            c.name_zh.trim().into(),
            c.name_en.trim().into(),
            c.license_no.trim().into(),
            c.duty_phone.trim().into(),
            c.contract_until.into(),
            c.engineers.into(),
            c.address.trim().into(),
            c.lon.into(),
            c.lat.into(),
            c.region_code.trim().into(),
            now().into(),
        ],
    )
    .await?;
    company(db, city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("company".into()))
}

pub async fn company(db: &impl ConnectionTrait, city_id: i64, id: i64) -> R<Option<Company>> {
    let r = one(
        db,
        "SELECT * FROM eq_companies WHERE city_id = ? AND id = ?",
        vec![city_id.into(), id.into()],
    )
    .await?;
    r.as_ref().map(company_from).transpose()
}

pub async fn companies(db: &impl ConnectionTrait, city_id: i64) -> R<Vec<Company>> {
    all(
        db,
        "SELECT * FROM eq_companies WHERE city_id = ? ORDER BY name_zh",
        vec![city_id.into()],
    )
    .await?
    .iter()
    .map(company_from)
    .collect()
}

async fn region_exists(
    db: &impl ConnectionTrait,
    city_id: i64,
    code: &str,
    field: &str,
) -> R<bool> {
    let r = one(
        db,
        "SELECT urban FROM regions WHERE city_id = ? AND code = ?",
        vec![city_id.into(), code.trim().into()],
    )
    .await?;
    match r {
        Some(r) => Ok(r.try_get("", "urban")?),
        None => Err(StoreError::invalid(
            field,
            format!("unknown region code `{}`", code.trim()),
        )),
    }
}

// ---------------------------------------------------------------- equipment

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

const EQ_SELECT: &str = "SELECT e.*, c.name_zh AS c_name_zh, c.name_en AS c_name_en, c.duty_phone AS c_duty_phone FROM eq_equipment e LEFT JOIN eq_companies c ON c.city_id = e.city_id AND c.id = e.company_id";

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
fn check_new(e: &NewEquipment) -> Vec<(&'static str, String)> {
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

async fn insert_equipment(
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
        Err(err) if sql::is_unique_violation(&err) => Err(StoreError::Conflict(
            "rescue_code or equipment_code already registered in this city".into(),
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
    region_exists(db, s.city_id, &e.region_code, "region_code").await?;
    if !e.region_code.trim().starts_with(&s.prefix) {
        return Err(StoreError::invalid("region_code", "outside your region"));
    }
    if let Some(c) = e.company_id
        && company(db, s.city_id, c).await?.is_none()
    {
        return Err(StoreError::invalid(
            "company_id",
            "unknown maintenance company",
        ));
    }
    let cycles = cycles(db, s.city_id).await?;
    let id = insert_equipment(db, s.city_id, e, &cycles).await?;
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
    let mut w = String::from(" WHERE e.city_id = ? AND e.region_code LIKE ?");
    let mut v: Vec<Value> = vec![s.city_id.into(), like(&s.prefix).into()];
    if let Some(c) = s.company_id {
        w.push_str(" AND e.company_id = ?");
        v.push(c.into());
    }
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
        return Err(StoreError::Conflict(format!(
            "status {} cannot become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    exec(
        db,
        "UPDATE eq_equipment SET status = ?, updated_at = ? WHERE city_id = ? AND id = ?",
        vec![
            to.as_str().into(),
            now().into(),
            s.city_id.into(),
            id.into(),
        ],
    )
    .await?;
    let after = equipment(db, s, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("equipment".into()))?;
    Ok((before, after))
}

// ---------------------------------------------------------------- CSV import / export

pub const CSV_COLUMNS: [&str; 23] = [
    "category",
    "variety",
    "equipment_code",
    "registration_code",
    "use_cert_no",
    "rescue_code",
    "name",
    "use_unit",
    "use_unit_phone",
    "company_license_no",
    "address",
    "lon",
    "lat",
    "region_code",
    "manufacture_date",
    "install_date",
    "registration_date",
    "status",
    "safety_grade",
    "renovated_year",
    "attributes",
    "next_inspection_due",
    "supervised_on",
];

/// An uploaded registry table: the header row and the data rows with their spreadsheet row
/// numbers (the header is row 1), each row's cells or why it could not be read.
#[derive(Debug, Clone, Default)]
pub struct UploadTable {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Result<Vec<String>, String>)>,
    /// Column letters of the headers (XLSX), to name `A`, `B`, … in errors.
    pub letters: Option<Vec<String>>,
}

/// Reads a CSV upload (UTF-8 with or without BOM, or GBK; quoted fields as the `csv` crate
/// reads them) within `limits`; every row must have the header's width.
pub fn read_csv(data: &[u8], limits: &Limits) -> Result<UploadTable, UploadError> {
    let t = upload::csv::read_csv(data, limits)?;
    let mut it = t.rows.into_iter().enumerate();
    let headers: Vec<String> = match it.next() {
        Some((_, h)) => h
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect(),
        None => {
            return Err(UploadError::new(UploadErrorKind::Invalid, "the file is empty").at_row(1));
        }
    };
    let width = headers.len();
    let rows = it
        .filter(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()))
        .map(|(i, r)| {
            let cells = if r.len() == width {
                Ok(r.iter().map(|c| c.trim().to_string()).collect())
            } else {
                Err(format!(
                    "found record with {} fields, but the header has {width} fields",
                    r.len()
                ))
            };
            (i + 1, cells)
        })
        .collect();
    Ok(UploadTable {
        headers,
        rows,
        letters: None,
    })
}

/// The spreadsheet letter of a 0-based column (`A`, …, `Z`, `AA`, …).
pub fn column_letter(c: usize) -> String {
    upload::column_letter(c)
}

/// Reads the first sheet of an XLSX workbook (streamed, within `limits`; see
/// [`qcity_platform::upload::xlsx`]). Date cells become `YYYY-MM-DD`; whole numbers lose
/// their `.0` (a rescue code typed as a number stays `110001`); empty rows are skipped.
pub fn read_xlsx(data: &[u8], limits: &Limits) -> Result<UploadTable, UploadError> {
    let t = upload::xlsx::read_xlsx(data, limits)?;
    let first = t
        .rows
        .iter()
        .position(|r| r.iter().any(|c| !c.trim().is_empty()))
        .ok_or_else(|| UploadError::malformed("the first sheet is empty").with_field("xlsx"))?;
    if first != 0 {
        return Err(UploadError::new(
            UploadErrorKind::Invalid,
            "the header row must be the first row of the sheet",
        )
        .at_row(1));
    }
    let headers: Vec<String> = t.rows[0].iter().map(|h| h.trim().to_string()).collect();
    let rows = t
        .data_rows()
        .map(|(i, r)| (i, Ok(r.iter().map(|c| c.trim().to_string()).collect())))
        .collect();
    let letters = (0..headers.len()).map(column_letter).collect();
    Ok(UploadTable {
        headers,
        rows,
        letters: Some(letters),
    })
}

/// Whether an upload is an XLSX workbook (a zip file) rather than CSV text.
pub fn is_xlsx(data: &[u8]) -> bool {
    upload::xlsx::is_zip(data)
}

/// Reads a CSV or XLSX upload, told apart by its first bytes, within `limits`; the table goes
/// to [`import_table`].
pub fn read_upload(data: &[u8], limits: &Limits) -> Result<UploadTable, UploadError> {
    if is_xlsx(data) {
        read_xlsx(data, limits)
    } else {
        read_csv(data, limits)
    }
}

/// Imports a table of equipment (CSV or XLSX, the export's columns): every row is checked,
/// every problem is reported by row (the header is row 1) and column, and nothing is stored
/// unless every row is good. Returns the number imported.
pub async fn import_table<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    s: &Scope,
    t: UploadTable,
) -> R<usize> {
    let headers = &t.headers;
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let col_label = |name: &str| match (&t.letters, col(name)) {
        (Some(l), Some(i)) => format!("{name} ({})", l[i]),
        _ => name.to_string(),
    };
    for required in [
        "category",
        "variety",
        "name",
        "use_unit",
        "address",
        "region_code",
    ] {
        if col(required).is_none() {
            return Err(StoreError::invalid(
                "row 1",
                format!("missing column `{required}`"),
            ));
        }
    }
    let regions: HashMap<String, bool> = all(
        db,
        "SELECT code, urban FROM regions WHERE city_id = ?",
        vec![s.city_id.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.try_get("", "code")?, r.try_get("", "urban")?)))
    .collect::<R<_>>()?;
    let companies: HashMap<String, i64> = companies(db, s.city_id)
        .await?
        .into_iter()
        .map(|c| (c.license_no, c.id))
        .collect();
    let existing_rescue: HashSet<String> = all(
        db,
        "SELECT rescue_code FROM eq_equipment WHERE city_id = ? AND rescue_code IS NOT NULL",
        vec![s.city_id.into()],
    )
    .await?
    .iter()
    .filter_map(|r| r.try_get::<String>("", "rescue_code").ok())
    .collect();
    let existing_codes: HashSet<String> = all(
        db,
        "SELECT equipment_code FROM eq_equipment WHERE city_id = ? AND equipment_code IS NOT NULL",
        vec![s.city_id.into()],
    )
    .await?
    .iter()
    .filter_map(|r| r.try_get::<String>("", "equipment_code").ok())
    .collect();
    let mut seen_rescue: HashMap<String, usize> = HashMap::new();
    let mut seen_code: HashMap<String, usize> = HashMap::new();
    let mut errors: Vec<String> = Vec::new();
    let mut rows: Vec<(NewEquipment, Option<NaiveDate>)> = Vec::new();
    for (rowno, rec) in t.rows.iter() {
        let rowno = *rowno;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("row {rowno}: {e}"));
                continue;
            }
        };
        let get = |name: &str| -> String {
            col(name)
                .and_then(|c| rec.get(c))
                .map(|v| v.trim())
                .unwrap_or("")
                .to_string()
        };
        let mut row_err =
            |c: &str, m: String| errors.push(format!("row {rowno}, column {}: {m}", col_label(c)));
        let date = |name: &str, row_err: &mut dyn FnMut(&str, String)| -> Option<NaiveDate> {
            let v = get(name);
            if v.is_empty() {
                return None;
            }
            // A spreadsheet date cell with a time of day: the date is what counts.
            let day = match v.split_once(' ') {
                Some((d, t)) if t.len() == 8 && t.as_bytes()[2] == b':' => d,
                _ => v.as_str(),
            };
            match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    row_err(name, format!("`{v}` is not a date (YYYY-MM-DD)"));
                    None
                }
            }
        };
        let num = |name: &str, row_err: &mut dyn FnMut(&str, String)| -> Option<f64> {
            let v = get(name);
            if v.is_empty() {
                return None;
            }
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Some(x),
                _ => {
                    row_err(name, format!("`{v}` is not a number"));
                    None
                }
            }
        };
        let int = |name: &str, row_err: &mut dyn FnMut(&str, String)| -> Option<i32> {
            let v = get(name);
            if v.is_empty() {
                return None;
            }
            match v.parse::<i32>() {
                Ok(x) => Some(x),
                Err(_) => {
                    row_err(name, format!("`{v}` is not a whole number"));
                    None
                }
            }
        };
        let nonempty = |v: String| if v.is_empty() { None } else { Some(v) };
        let company_id = match get("company_license_no") {
            l if l.is_empty() => None,
            l => match companies.get(&l) {
                Some(id) => Some(*id),
                None => {
                    row_err(
                        "company_license_no",
                        format!("no maintenance company with licence `{l}`"),
                    );
                    None
                }
            },
        };
        let attributes = match get("attributes") {
            a if a.is_empty() => None,
            a => match serde_json::from_str::<serde_json::Value>(&a) {
                Ok(v) if v.is_object() => Some(v),
                _ => {
                    row_err("attributes", "must be a JSON object".into());
                    None
                }
            },
        };
        let e = NewEquipment {
            category: get("category"),
            variety: get("variety"),
            equipment_code: nonempty(get("equipment_code")),
            registration_code: nonempty(get("registration_code")),
            use_cert_no: nonempty(get("use_cert_no")),
            rescue_code: nonempty(get("rescue_code")),
            name: get("name"),
            use_unit: get("use_unit"),
            use_unit_credit_code: None,
            use_unit_phone: get("use_unit_phone"),
            company_id,
            address: get("address"),
            lon: num("lon", &mut row_err),
            lat: num("lat", &mut row_err),
            region_code: get("region_code"),
            manufacture_date: date("manufacture_date", &mut row_err),
            install_date: date("install_date", &mut row_err),
            registration_date: date("registration_date", &mut row_err),
            supervised_on: date("supervised_on", &mut row_err),
            status: nonempty(get("status")),
            safety_grade: int("safety_grade", &mut row_err),
            renovated_year: int("renovated_year", &mut row_err),
            attributes,
        };
        let due = date("next_inspection_due", &mut row_err);
        for (f, m) in check_new(&e) {
            row_err(f, m);
        }
        if !regions.contains_key(&e.region_code) {
            row_err(
                "region_code",
                format!("unknown region code `{}`", e.region_code),
            );
        } else if !e.region_code.starts_with(&s.prefix) {
            row_err("region_code", "outside your region".into());
        }
        if let Some(rc) = &e.rescue_code {
            if existing_rescue.contains(rc) {
                row_err("rescue_code", format!("`{rc}` is already registered"));
            } else if let Some(prev) = seen_rescue.insert(rc.clone(), rowno) {
                row_err("rescue_code", format!("`{rc}` repeats row {prev}"));
            }
        }
        if let Some(c) = &e.equipment_code {
            if existing_codes.contains(c) {
                row_err("equipment_code", format!("`{c}` is already registered"));
            } else if let Some(prev) = seen_code.insert(c.clone(), rowno) {
                row_err("equipment_code", format!("`{c}` repeats row {prev}"));
            }
        }
        rows.push((e, due));
    }
    if !errors.is_empty() {
        let n = errors.len();
        let mut msg = errors.into_iter().take(50).collect::<Vec<_>>().join("; ");
        if n > 50 {
            msg.push_str(&format!("; … {} more", n - 50));
        }
        return Err(StoreError::invalid(
            "file",
            format!("nothing imported: {msg}"),
        ));
    }
    if rows.is_empty() {
        return Err(StoreError::invalid("file", "no data rows"));
    }
    let cycles = cycles(db, s.city_id).await?;
    let txn = db.begin_write().await?;
    for (e, due) in &rows {
        let id = insert_equipment(&txn, s.city_id, e, &cycles).await?;
        if let Some(d) = due {
            exec(
                &txn,
                "UPDATE eq_equipment SET next_inspection_due = ? WHERE city_id = ? AND id = ?",
                vec![(*d).into(), s.city_id.into(), id.into()],
            )
            .await?;
        }
    }
    // Imported use units are linked to the register by exact name (the file has no codes).
    crate::enterprise::link_use_units_by_name(&txn, s.city_id).await?;
    txn.commit().await?;
    Ok(rows.len())
}

/// Columns the export adds after the import columns (ignored on import).
pub const EXPORT_EXTRA_COLUMNS: [&str; 5] = [
    "id",
    "must_not_use",
    "last_inspection_on",
    "last_conclusion",
    "last_maintenance_on",
];

/// The registry (filtered, whole result, not just a page) as text rows in the import format,
/// plus computed columns: the header and the rows.
pub async fn export_rows(
    db: &impl ConnectionTrait,
    s: &Scope,
    f: &EquipmentFilter,
) -> R<(Vec<&'static str>, Vec<Vec<String>>)> {
    let (w, v) = where_clause(s, f)?;
    let rows = all(
        db,
        &format!("{EQ_SELECT}{w} ORDER BY e.region_code, e.id"),
        v,
    )
    .await?;
    let lic: HashMap<i64, String> = companies(db, s.city_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.license_no))
        .collect();
    let mut head: Vec<&'static str> = CSV_COLUMNS.to_vec();
    head.extend(EXPORT_EXTRA_COLUMNS);
    let t = today();
    let d = |x: Option<NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
    let o = |x: Option<String>| x.unwrap_or_default();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let e = equipment_from(r, t)?;
        out.push(vec![
            e.category.clone(),
            e.variety.clone(),
            o(e.equipment_code.clone()),
            o(e.registration_code.clone()),
            o(e.use_cert_no.clone()),
            o(e.rescue_code.clone()),
            e.name.clone(),
            e.use_unit.clone(),
            e.use_unit_phone.clone(),
            e.company_id
                .and_then(|c| lic.get(&c).cloned())
                .unwrap_or_default(),
            e.address.clone(),
            e.lon.map(|x| x.to_string()).unwrap_or_default(),
            e.lat.map(|x| x.to_string()).unwrap_or_default(),
            e.region_code.clone(),
            d(e.manufacture_date),
            d(e.install_date),
            d(e.registration_date),
            e.status.clone(),
            e.safety_grade.map(|x| x.to_string()).unwrap_or_default(),
            e.renovated_year.map(|x| x.to_string()).unwrap_or_default(),
            e.attributes.to_string(),
            d(e.next_inspection_due),
            d(e.supervised_on),
            e.id.to_string(),
            e.must_not_use.to_string(),
            d(e.last_inspection_on),
            o(e.last_conclusion.clone()),
            d(e.last_maintenance_on),
        ]);
    }
    Ok((head, out))
}

/// The registry as CSV (UTF-8 with BOM, for spreadsheet programs) in the import format.
pub async fn export_csv(db: &impl ConnectionTrait, s: &Scope, f: &EquipmentFilter) -> R<Vec<u8>> {
    let (head, rows) = export_rows(db, s, f).await?;
    csv_bytes(&head, &rows)
}

fn csv_bytes(head: &[&str], rows: &[Vec<String>]) -> R<Vec<u8>> {
    let err = |e: csv::Error| StoreError::invalid("csv", e.to_string());
    let mut out = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    qcity_platform::upload::export::write_record(&mut out, head).map_err(err)?;
    for r in rows {
        qcity_platform::upload::export::write_record(&mut out, r).map_err(err)?;
    }
    out.into_inner()
        .map_err(|e| StoreError::invalid("csv", e.to_string()))
}

/// Columns written as numbers in XLSX (the rest, codes included, are text).
const NUMERIC_COLUMNS: [&str; 4] = ["lon", "lat", "safety_grade", "renovated_year"];

/// Writes a header and rows as an XLSX sheet `equipment` (pure; run it off the async runtime).
/// Codes stay text (an 18-digit 设备代码 would lose digits as a number); coordinates, grades
/// and years are numbers; dates are `YYYY-MM-DD` text, as the import reads them.
pub fn xlsx_bytes(head: &[&str], rows: &[Vec<String>], help: bool) -> R<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| StoreError::invalid("xlsx", e.to_string());
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("equipment").map_err(err)?;
    for (j, h) in head.iter().enumerate() {
        let c = j as u16;
        ws.write_string_with_format(0, c, *h, &bold).map_err(err)?;
        if !NUMERIC_COLUMNS.contains(h) {
            // Typed values stay text (codes keep their leading zeros and all 18 digits).
            ws.set_column_format(c, &text).map_err(err)?;
        }
        ws.set_column_width(c, (h.len().max(10) + 2) as f64)
            .map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    for (i, r) in rows.iter().enumerate() {
        let row = (i + 1) as u32;
        for (j, v) in r.iter().enumerate() {
            let c = j as u16;
            if v.is_empty() {
                continue;
            }
            match head
                .get(j)
                .filter(|h| NUMERIC_COLUMNS.contains(*h))
                .and(v.parse::<f64>().ok())
            {
                Some(x) => ws.write_number(row, c, x).map_err(err)?,
                None => ws.write_string_with_format(row, c, v, &text).map_err(err)?,
            };
        }
    }
    if help {
        let hs = wb.add_worksheet();
        hs.set_name("说明 help").map_err(err)?;
        hs.set_column_width(0, 22).map_err(err)?;
        hs.set_column_width(1, 90).map_err(err)?;
        hs.write_string_with_format(0, 0, "column", &bold)
            .map_err(err)?;
        hs.write_string_with_format(0, 1, "说明 / meaning", &bold)
            .map_err(err)?;
        for (i, (c, m)) in COLUMN_HELP.iter().enumerate() {
            hs.write_string((i + 1) as u32, 0, *c).map_err(err)?;
            hs.write_string((i + 1) as u32, 1, *m).map_err(err)?;
        }
    }
    wb.save_to_buffer().map_err(err)
}

/// What each import column means (the template's help sheet).
pub const COLUMN_HELP: [(&str, &str); 23] = [
    (
        "category",
        "必填 required: 类别代码 1000 锅炉, 2000 压力容器, 3000 电梯, 4000 起重机械, 5000 场(厂)内机动车辆, 6000 大型游乐设施, 8000 压力管道, 9000 客运索道",
    ),
    (
        "variety",
        "必填 required: 品种代码, 4 位, 首位与类别一致 (e.g. 3110 曳引驱动乘客电梯)",
    ),
    (
        "equipment_code",
        "设备代码, 18 位 = 品种4 + 制造单位5 + 年份4 + 流水号5 (e.g. 311010890201500123)",
    ),
    ("registration_code", "注册代码 (legacy registration code)"),
    ("use_cert_no", "使用登记证编号 (e.g. 梯11闽E3622(16))"),
    (
        "rescue_code",
        "电梯应急救援识别码, 5–8 位数字, 市内唯一 (elevators only)",
    ),
    ("name", "必填 required: 设备名称"),
    ("use_unit", "必填 required: 使用单位"),
    ("use_unit_phone", "使用单位电话"),
    (
        "company_license_no",
        "维保单位许可证号 (must match a registered maintenance company)",
    ),
    ("address", "必填 required: 地址"),
    ("lon", "经度 longitude (number)"),
    ("lat", "纬度 latitude (number)"),
    (
        "region_code",
        "必填 required: 行政区划代码 (within your region)",
    ),
    ("manufacture_date", "制造日期 YYYY-MM-DD"),
    ("install_date", "安装日期 YYYY-MM-DD"),
    ("registration_date", "使用登记日期 YYYY-MM-DD"),
    (
        "status",
        "registered, in_use (default), suspended, scrapped",
    ),
    ("safety_grade", "安全状况等级 1–5"),
    ("renovated_year", "改造年份 (year of modification)"),
    ("attributes", "JSON object, e.g. {\"floors\": 18}"),
    (
        "next_inspection_due",
        "下次检验日期 YYYY-MM-DD (optional; default from the cycle table)",
    ),
    (
        "supervised_on",
        "监督检验合格日期 YYYY-MM-DD (elevators: the TSG T7001-2023 schedule counts from it; default the installation date)",
    ),
];

/// The registry as XLSX, same columns as the CSV export.
pub async fn export_xlsx(db: &impl ConnectionTrait, s: &Scope, f: &EquipmentFilter) -> R<Vec<u8>> {
    let (head, rows) = export_rows(db, s, f).await?;
    tokio::task::spawn_blocking(move || xlsx_bytes(&head, &rows, false))
        .await
        .map_err(|e| StoreError::invalid("xlsx", e.to_string()))?
}

/// The import template: the import columns and a help sheet (XLSX), or the header (CSV).
pub fn template(xlsx: bool) -> R<Vec<u8>> {
    if xlsx {
        xlsx_bytes(&CSV_COLUMNS, &[], true)
    } else {
        csv_bytes(&CSV_COLUMNS, &[])
    }
}

// ---------------------------------------------------------------- inspection cycles

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

fn first_due(cs: &[Cycle], e: &NewEquipment) -> Option<NaiveDate> {
    let c = cycle_for(cs, &e.category, e.variety.trim(), e.safety_grade)?;
    if let Some(sched) = c.schedule() {
        let anchor = schedule_anchor(e.supervised_on, e.install_date, e.registration_date)?;
        return sched.next_due(anchor, None);
    }
    let start = e.registration_date.or(e.install_date)?;
    start.checked_add_months(Months::new(c.first_after_months as u32))
}

// ---------------------------------------------------------------- inspections

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
    let cs = cycles(db, s.city_id).await?;
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
        let earlier: Option<NaiveDate> = one(db, "SELECT inspected_on FROM eq_inspections WHERE city_id = ? AND equipment_id = ? AND kind = 'periodic' AND conclusion IN ('pass','recheck_pass') ORDER BY inspected_on DESC LIMIT 1", vec![s.city_id.into(), equipment_id.into()])
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
            s.city_id.into(),
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
            s.city_id.into(),
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
    let r = one(db, "SELECT i.* FROM eq_inspections i JOIN eq_equipment e ON e.city_id = i.city_id AND e.id = i.equipment_id WHERE i.city_id = ? AND i.id = ? AND e.region_code LIKE ?", vec![s.city_id.into(), inspection_id.into(), like(&s.prefix).into()])
        .await?
        .ok_or_else(|| StoreError::NotFound("inspection".into()))?;
    let mut i = inspection_from(&r)?;
    if i.rectification != "open" {
        return Err(StoreError::Conflict("no open rectification".into()));
    }
    if on < i.inspected_on {
        return Err(StoreError::invalid("rectified_on", "before the inspection"));
    }
    exec(db, "UPDATE eq_inspections SET rectification = 'closed', rectified_on = ? WHERE city_id = ? AND id = ?", vec![on.into(), s.city_id.into(), inspection_id.into()]).await?;
    let open: i64 = one(db, "SELECT COUNT(*) AS n FROM eq_inspections WHERE city_id = ? AND equipment_id = ? AND rectification = 'open'", vec![s.city_id.into(), i.equipment_id.into()])
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    exec(
        db,
        "UPDATE eq_equipment SET open_defects = ? WHERE city_id = ? AND id = ?",
        vec![(open > 0).into(), s.city_id.into(), i.equipment_id.into()],
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

// ---------------------------------------------------------------- maintenance

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
    exec(db, "INSERT INTO eq_maintenance (city_id, id, equipment_id, company_id, done_on, kind, engineer, notes, created_at) VALUES (?,?,?,?,?,?,?,?,?)", vec![s.city_id.into(), id.into(), equipment_id.into(), company_id.into(), n.done_on.into(), n.kind.clone().into(), n.engineer.trim().into(), n.notes.trim().into(), now().into()]).await?;
    if e.last_maintenance_on.is_none_or(|d| d < n.done_on) {
        exec(
            db,
            "UPDATE eq_equipment SET last_maintenance_on = ? WHERE city_id = ? AND id = ?",
            vec![n.done_on.into(), s.city_id.into(), equipment_id.into()],
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
    let days = maintenance_interval_days(db, s.city_id).await?;
    let cutoff = today() - chrono::Duration::days(days);
    let mut v: Vec<Value> = vec![cutoff.into(), s.city_id.into(), like(&s.prefix).into()];
    let mut extra = String::new();
    if let Some(c) = s.company_id {
        extra = " AND e.company_id = ?".into();
        v.push(c.into());
    }
    let rows = all(db, &format!("SELECT c.id, c.name_zh, c.name_en, COUNT(*) AS n, SUM(CASE WHEN e.last_maintenance_on IS NULL OR e.last_maintenance_on < ? THEN 1 ELSE 0 END) AS overdue FROM eq_equipment e JOIN eq_companies c ON c.city_id = e.city_id AND c.id = e.company_id WHERE e.city_id = ? AND e.region_code LIKE ? AND e.category = '3000' AND e.status = 'in_use'{extra} GROUP BY c.id, c.name_zh, c.name_en"), v).await?;
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

// ---------------------------------------------------------------- risk

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
    let prefix = match region.filter(|r| !r.is_empty()) {
        Some(r) => qcity_platform::auth::scope::scope_prefix(r),
        None => s.prefix.clone(),
    };
    if !prefix.starts_with(&s.prefix) {
        return Ok(Vec::new());
    }
    let year_ago = sql::now() - chrono::Duration::days(365);
    let counts = all(db, "SELECT i.equipment_id, SUM(CASE WHEN i.state <> 'not_trapped' THEN 1 ELSE 0 END) AS trap, SUM(CASE WHEN i.state = 'not_trapped' THEN 1 ELSE 0 END) AS fault FROM eq_incidents i WHERE i.city_id = ? AND i.region_code LIKE ? AND i.received_at >= ? AND i.state NOT IN ('cancelled','false_alarm') GROUP BY i.equipment_id", vec![s.city_id.into(), like(&prefix).into(), year_ago.into()]).await?;
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
    let failed = all(db, "SELECT i.equipment_id, COUNT(*) AS n FROM eq_inspections i JOIN eq_equipment e ON e.city_id = i.city_id AND e.id = i.equipment_id WHERE i.city_id = ? AND e.region_code LIKE ? AND i.conclusion = 'fail' AND i.inspected_on >= ? GROUP BY i.equipment_id", vec![s.city_id.into(), like(&prefix).into(), three_y.into()]).await?;
    let mut fails: HashMap<i64, i64> = HashMap::new();
    for r in failed {
        fails.insert(r.try_get("", "equipment_id")?, r.try_get("", "n")?);
    }
    let days = maintenance_interval_days(db, s.city_id).await?;
    let cutoff = t - chrono::Duration::days(days);
    let mut v: Vec<Value> = vec![s.city_id.into(), like(&prefix).into()];
    let mut extra = String::new();
    if let Some(c) = s.company_id {
        extra = " AND company_id = ?".into();
        v.push(c.into());
    }
    let rows = all(db, &format!("SELECT id, rescue_code, address, region_code, use_unit, manufacture_date, renovated_year, last_maintenance_on, next_inspection_due FROM eq_equipment WHERE city_id = ? AND region_code LIKE ? AND category = '3000' AND status = 'in_use'{extra}"), v).await?;
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
