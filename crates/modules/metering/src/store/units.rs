//! Key energy-consuming units (重点用能单位): creating one inside the caller's region scope,
//! linked to the enterprise register by its credit code, and reading them.

use super::{Scope, g};
use crate::domain::Uscc;
use crate::sql;
use chrono::Utc;
use qcity_platform::store::ConflictCode;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, QueryResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewUnit {
    pub uscc: String,
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub industry: String,
    pub region_code: String,
    #[serde(default)]
    pub address: String,
    /// Unit of the production output, e.g. `hl` (百升) or `t`.
    #[serde(default)]
    pub output_unit: String,
    /// Industrial value added, 10,000 yuan per year (for energy per 10,000 yuan GDP).
    pub value_added_10k_yuan: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: i64,
    pub uscc: String,
    pub name_zh: String,
    pub name_en: String,
    pub industry: String,
    pub region_code: String,
    pub address: String,
    pub output_unit: String,
    pub value_added_10k_yuan: Option<f64>,
    /// The enterprise of the platform's register (市场主体) this unit is.
    pub enterprise_id: Option<i64>,
}

const UNIT_COLS: &str = "u.id, u.uscc, u.name_zh, u.name_en, u.industry, u.region_code, u.address, u.output_unit, u.value_added_10k_yuan, u.enterprise_id";

fn unit_of(r: &QueryResult) -> Result<Unit, StoreError> {
    Ok(Unit {
        id: g(r, "id")?,
        uscc: g(r, "uscc")?,
        name_zh: g(r, "name_zh")?,
        name_en: g(r, "name_en")?,
        industry: g(r, "industry")?,
        region_code: g(r, "region_code")?,
        address: g(r, "address")?,
        output_unit: g(r, "output_unit")?,
        value_added_10k_yuan: g(r, "value_added_10k_yuan")?,
        enterprise_id: g(r, "enterprise_id")?,
    })
}

async fn region_exists(
    db: &impl ConnectionTrait,
    city_id: i64,
    code: &str,
) -> Result<bool, StoreError> {
    Ok(sql::one(
        db,
        "SELECT code FROM regions WHERE city_id = ? AND code = ?",
        vec![city_id.into(), code.into()],
    )
    .await?
    .is_some())
}

/// Creates a key energy-consuming unit inside the caller's region scope, linked to the
/// enterprise of the platform's register with its credit code (registered by `actor`, and
/// audited, when the register does not have it yet).
pub async fn create_unit(
    db: &impl ConnectionTrait,
    s: &Scope,
    actor: &qcity_platform::audit::Actor,
    u: &NewUnit,
) -> Result<Unit, StoreError> {
    let uscc = Uscc::parse(&u.uscc).map_err(|m| StoreError::invalid("uscc", m))?;
    if u.name_zh.trim().is_empty() {
        return Err(StoreError::invalid(
            "name_zh",
            "名称必填 / name is required",
        ));
    }
    if !u.region_code.starts_with(&s.region.prefix)
        || !region_exists(db, s.region.city_id, &u.region_code).await?
    {
        return Err(StoreError::invalid(
            "region_code",
            "区划不存在或不在您的范围内 / unknown region or outside your scope",
        ));
    }
    if let Some(v) = u.value_added_10k_yuan
        && !(v.is_finite() && v >= 0.0)
    {
        return Err(StoreError::invalid("value_added_10k_yuan", "must be ≥ 0"));
    }
    let id = qcity_platform::ids::new_id();
    let enterprise_id = qcity_platform::enterprise::store::link(
        db,
        s.region.city_id,
        actor,
        Some(uscc.as_str()),
        "uscc",
        u.name_zh.trim(),
        &u.region_code,
    )
    .await?;
    let r = sql::exec(
        db,
        "INSERT INTO mt_units (city_id, id, uscc, name_zh, name_en, industry, region_code, address, output_unit, value_added_10k_yuan, annual_tce, created_at, enterprise_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
        vec![
            s.region.city_id.into(),
            id.into(),
            uscc.as_str().into(),
            u.name_zh.trim().into(),
            u.name_en.trim().into(),
            u.industry.trim().into(),
            u.region_code.clone().into(),
            u.address.trim().into(),
            u.output_unit.trim().into(),
            u.value_added_10k_yuan.into(),
            Utc::now().into(),
            enterprise_id.into(),
        ],
    )
    .await;
    match r {
        Err(e) if sql::is_unique_violation(&e) => Err(StoreError::conflict(
            ConflictCode::Conflict,
            format!(
                "统一社会信用代码 {} 已登记 / already registered",
                uscc.as_str()
            ),
        )),
        Err(e) => Err(e.into()),
        Ok(_) => unit(db, s, id)
            .await?
            .ok_or_else(|| StoreError::NotFound("unit".into())),
    }
}

pub async fn unit(
    db: &impl ConnectionTrait,
    s: &Scope,
    id: i64,
) -> Result<Option<Unit>, StoreError> {
    let mut v = Vec::new();
    let c = crate::store::unit_clause(s, "u", "id", &mut v);
    v.push(id.into());
    sql::one(
        db,
        &format!("SELECT {UNIT_COLS} FROM mt_units u WHERE{c} AND u.id = ?"),
        v,
    )
    .await?
    .map(|r| unit_of(&r))
    .transpose()
}

pub async fn units(db: &impl ConnectionTrait, s: &Scope) -> Result<Vec<Unit>, StoreError> {
    let mut v = Vec::new();
    let c = crate::store::unit_clause(s, "u", "id", &mut v);
    sql::all(
        db,
        &format!("SELECT {UNIT_COLS} FROM mt_units u WHERE{c} ORDER BY u.region_code, u.name_zh"),
        v,
    )
    .await?
    .iter()
    .map(unit_of)
    .collect()
}
