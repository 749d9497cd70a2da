//! 维保单位: the maintenance companies (and rescue stations) of a city, and the region-code
//! check that the registry's writes share.

use super::R;
use crate::sql::{all, exec, now, one};
use chrono::NaiveDate;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, QueryResult};
use serde::{Deserialize, Serialize};

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

pub(super) async fn region_exists(
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
