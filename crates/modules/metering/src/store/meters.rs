//! The meter tree (计量器具) of a unit: adding a node under its parent, and reading meters
//! in scope.

use super::{Scope, g, unit};
use crate::domain;
use crate::sql;
use chrono::Utc;
use qcity_platform::store::ConflictCode;
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, QueryResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewMeter {
    pub unit_id: i64,
    pub parent_id: Option<i64>,
    /// site | building | line | device
    pub level: String,
    pub code: String,
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    /// electricity | steam | raw_coal | natural_gas | water | compressed_air | heat | diesel
    pub energy_type: String,
    /// Physical unit; defaults to the energy type's unit.
    #[serde(default)]
    pub measure_unit: String,
    /// Interval minutes (default 15).
    pub interval_min: Option<i32>,
    /// CT/PT or pulse multiplier applied to raw values (default 1).
    pub multiplier: Option<f64>,
    pub high_limit: Option<f64>,
    /// installed | planned | virtual (default installed)
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Meter {
    pub id: i64,
    pub unit_id: i64,
    pub parent_id: Option<i64>,
    pub level: String,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub energy_type: String,
    pub measure_unit: String,
    pub interval_min: i32,
    pub multiplier: f64,
    pub high_limit: Option<f64>,
    pub status: String,
    pub region_code: String,
}

const METER_COLS: &str = "m.id, m.unit_id, m.parent_id, m.level, m.code, m.name_zh, m.name_en, m.energy_type, m.measure_unit, m.interval_min, m.multiplier, m.high_limit, m.status, m.region_code";

fn meter_of(r: &QueryResult) -> Result<Meter, StoreError> {
    Ok(Meter {
        id: g(r, "id")?,
        unit_id: g(r, "unit_id")?,
        parent_id: g(r, "parent_id")?,
        level: g(r, "level")?,
        code: g(r, "code")?,
        name_zh: g(r, "name_zh")?,
        name_en: g(r, "name_en")?,
        energy_type: g(r, "energy_type")?,
        measure_unit: g(r, "measure_unit")?,
        interval_min: g(r, "interval_min")?,
        multiplier: g(r, "multiplier")?,
        high_limit: g(r, "high_limit")?,
        status: g(r, "status")?,
        region_code: g(r, "region_code")?,
    })
}

/// Adds a node to a unit's meter tree (the unit must be in scope; the parent in the same unit
/// and one level up or higher).
pub async fn create_meter(
    db: &impl ConnectionTrait,
    s: &Scope,
    m: &NewMeter,
) -> Result<Meter, StoreError> {
    let u = unit(db, s, m.unit_id)
        .await?
        .ok_or_else(|| StoreError::invalid("unit_id", "用能单位不存在 / unknown unit"))?;
    let lvl = domain::LEVELS
        .iter()
        .position(|l| *l == m.level)
        .ok_or_else(|| StoreError::invalid("level", "must be site, building, line or device"))?;
    let unit_default = domain::ENERGY_TYPES
        .iter()
        .find(|e| e.0 == m.energy_type)
        .map(|e| e.2)
        .ok_or_else(|| {
            StoreError::invalid(
                "energy_type",
                "must be electricity, steam, raw_coal, natural_gas, water, compressed_air, heat or diesel",
            )
        })?;
    if m.code.trim().is_empty() {
        return Err(StoreError::invalid(
            "code",
            "表计编号必填 / meter number is required",
        ));
    }
    if m.name_zh.trim().is_empty() {
        return Err(StoreError::invalid(
            "name_zh",
            "名称必填 / name is required",
        ));
    }
    let interval = m.interval_min.unwrap_or(15);
    if interval <= 0 || 1440 % interval != 0 {
        return Err(StoreError::invalid(
            "interval_min",
            "must divide a day (e.g. 15, 60)",
        ));
    }
    let mult = m.multiplier.unwrap_or(1.0);
    if !(mult.is_finite() && mult > 0.0) {
        return Err(StoreError::invalid("multiplier", "must be > 0"));
    }
    let status = if m.status.is_empty() {
        "installed"
    } else {
        m.status.as_str()
    };
    if !["installed", "planned", "virtual"].contains(&status) {
        return Err(StoreError::invalid(
            "status",
            "must be installed, planned or virtual",
        ));
    }
    if let Some(pid) = m.parent_id {
        let p = meter(db, s, pid)
            .await?
            .filter(|p| p.unit_id == u.id)
            .ok_or_else(|| {
                StoreError::invalid("parent_id", "上级节点不存在 / unknown parent in this unit")
            })?;
        let plvl = domain::LEVELS
            .iter()
            .position(|l| *l == p.level)
            .unwrap_or(0);
        if plvl >= lvl {
            return Err(StoreError::invalid(
                "level",
                "下级节点层级须低于上级 / a child must be below its parent's level",
            ));
        }
    }
    let id = qcity_platform::ids::new_id();
    let mu = if m.measure_unit.trim().is_empty() {
        unit_default.to_string()
    } else {
        m.measure_unit.trim().to_string()
    };
    let r = sql::exec(
        db,
        "INSERT INTO mt_meters (city_id, id, unit_id, parent_id, level, code, name_zh, name_en, energy_type, measure_unit, interval_min, multiplier, high_limit, status, region_code, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            s.region.city_id.into(),
            id.into(),
            u.id.into(),
            m.parent_id.into(),
            m.level.clone().into(),
            m.code.trim().into(),
            m.name_zh.trim().into(),
            m.name_en.trim().into(),
            m.energy_type.clone().into(),
            mu.into(),
            interval.into(),
            mult.into(),
            m.high_limit.into(),
            status.into(),
            u.region_code.clone().into(),
            Utc::now().into(),
        ],
    )
    .await;
    match r {
        Err(e) if sql::is_unique_violation(&e) => Err(StoreError::conflict(
            ConflictCode::Conflict,
            format!(
                "表计编号 {} 已存在 / meter number already used in this unit",
                m.code.trim()
            ),
        )),
        Err(e) => Err(e.into()),
        Ok(_) => meter(db, s, id)
            .await?
            .ok_or_else(|| StoreError::NotFound("meter".into())),
    }
}

pub async fn meter(
    db: &impl ConnectionTrait,
    s: &Scope,
    id: i64,
) -> Result<Option<Meter>, StoreError> {
    let mut v = Vec::new();
    let c = crate::store::unit_clause(s, "m", "unit_id", &mut v);
    v.push(id.into());
    sql::one(
        db,
        &format!("SELECT {METER_COLS} FROM mt_meters m WHERE{c} AND m.id = ?"),
        v,
    )
    .await?
    .map(|r| meter_of(&r))
    .transpose()
}

/// Meters in scope, optionally of one unit.
pub async fn meters(
    db: &impl ConnectionTrait,
    s: &Scope,
    unit_id: Option<i64>,
) -> Result<Vec<Meter>, StoreError> {
    let mut v = Vec::new();
    let mut c = crate::store::unit_clause(s, "m", "unit_id", &mut v);
    if let Some(u) = unit_id {
        v.push(u.into());
        c.push_str(" AND m.unit_id = ?");
    }
    sql::all(
        db,
        &format!(
            "SELECT {METER_COLS} FROM mt_meters m WHERE{c} ORDER BY m.unit_id, m.level, m.code"
        ),
        v,
    )
    .await?
    .iter()
    .map(meter_of)
    .collect()
}
