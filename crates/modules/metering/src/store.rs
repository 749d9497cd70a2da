//! Store functions of the metering module. The city and the caller's scope are explicit
//! parameters; every query filters by `city_id`, the region prefix and, for energy managers,
//! their own enterprise.

use crate::domain::{self, Uscc};
use crate::sql;
use chrono::Utc;
use qcity_platform::auth::{Capability, Principal, Role};
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use qcity_platform::upload::{self, Limits, UploadError, UploadErrorKind};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Who may see what: city, region prefix and (energy managers) one enterprise.
#[derive(Debug, Clone)]
pub struct Scope {
    pub city_id: i64,
    pub prefix: String,
    /// `Some(id)`: only this unit (an energy manager; `-1` when they are bound to none).
    pub unit: Option<i64>,
}

impl Scope {
    /// The scope of a principal, or `None` when the role may not see metering data.
    pub fn of(p: &Principal) -> Option<Scope> {
        if p.role == Role::EnergyManager {
            return Some(Scope {
                city_id: p.city_id,
                prefix: p.scope.prefix.clone(),
                unit: Some(p.enterprise_id.unwrap_or(-1)),
            });
        }
        if p.can(Capability::ViewAll) || p.can(Capability::ManageMetering) {
            return Some(Scope {
                city_id: p.city_id,
                prefix: p.scope.prefix.clone(),
                unit: None,
            });
        }
        None
    }
    /// The whole city (system processes: MQTT, hooks).
    pub fn city(city_id: i64) -> Scope {
        Scope {
            city_id,
            prefix: String::new(),
            unit: None,
        }
    }
    /// `AND …` clause over a table alias with `city_id`, `region_code` and the unit column.
    pub fn clause(&self, alias: &str, unit_col: &str, vals: &mut Vec<Value>) -> String {
        vals.push(self.city_id.into());
        vals.push(sql::like(&self.prefix).into());
        let mut s = format!(" {alias}.city_id = ? AND {alias}.region_code LIKE ?");
        if let Some(u) = self.unit {
            vals.push(u.into());
            s.push_str(&format!(" AND {alias}.{unit_col} = ?"));
        }
        s
    }
}

fn g<T: sea_orm::TryGetable>(r: &QueryResult, c: &str) -> Result<T, StoreError> {
    r.try_get("", c).map_err(StoreError::from)
}

// ---------------------------------------------------------------- units

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
    if !u.region_code.starts_with(&s.prefix)
        || !region_exists(db, s.city_id, &u.region_code).await?
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
        s.city_id,
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
            s.city_id.into(),
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
        Err(e) if sql::is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "统一社会信用代码 {} 已登记 / already registered",
            uscc.as_str()
        ))),
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
    let c = s.clause("u", "id", &mut v);
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
    let c = s.clause("u", "id", &mut v);
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

// ---------------------------------------------------------------- meters

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
            s.city_id.into(),
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
        Err(e) if sql::is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "表计编号 {} 已存在 / meter number already used in this unit",
            m.code.trim()
        ))),
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
    let c = s.clause("m", "unit_id", &mut v);
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
    let mut c = s.clause("m", "unit_id", &mut v);
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

// ---------------------------------------------------------------- coverage (GB 17167)

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoverageRow {
    pub energy_type: String,
    /// 0 unit (进出用能单位), 1 sub-unit (次级用能单位), 2 main equipment (主要用能设备).
    pub tier: usize,
    pub installed: i64,
    pub required: i64,
    /// installed / required × 100.
    pub rate: f64,
    /// GB 17167-2006 minimum for this energy type and tier.
    pub required_rate: f64,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub rows: Vec<CoverageRow>,
    /// Installed / required over all tiers and energy types, %.
    pub overall: Option<f64>,
    /// Every row meets its GB 17167 rate.
    pub compliant: bool,
}

/// The 配备率 of a unit: installed meters / meters required (installed + planned) per energy
/// type and tier, against the GB 17167 minimum.
pub fn coverage_of(ms: &[Meter]) -> Coverage {
    let mut acc: BTreeMap<(String, usize), (i64, i64)> = BTreeMap::new();
    for m in ms.iter().filter(|m| m.status != "virtual") {
        let e = acc
            .entry((m.energy_type.clone(), domain::tier(&m.level)))
            .or_default();
        e.1 += 1;
        if m.status == "installed" {
            e.0 += 1;
        }
    }
    let (mut inst, mut req) = (0, 0);
    let rows: Vec<CoverageRow> = acc
        .into_iter()
        .map(|((et, tier), (i, r))| {
            inst += i;
            req += r;
            let rq = domain::gb17167_required(&et);
            let need = [rq.0, rq.1, rq.2][tier.min(2)];
            let rate = if r > 0 {
                i as f64 / r as f64 * 100.0
            } else {
                100.0
            };
            CoverageRow {
                energy_type: et,
                tier,
                installed: i,
                required: r,
                rate,
                required_rate: need,
                ok: rate + 1e-9 >= need,
            }
        })
        .collect();
    Coverage {
        compliant: rows.iter().all(|r| r.ok),
        overall: (req > 0).then(|| inst as f64 / req as f64 * 100.0),
        rows,
    }
}

// ---------------------------------------------------------------- ingest

/// One reading as received (JSON body, CSV row or MQTT payload).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RawReading {
    pub meter_id: serde_json::Value,
    /// ISO 8601 with offset, local `YYYY-MM-DD HH:MM`, or epoch seconds.
    #[serde(alias = "timestamp")]
    pub ts: serde_json::Value,
    pub value: serde_json::Value,
}

/// A rejected row and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, PartialEq)]
pub struct Reject {
    /// 1-based row (CSV: data row, header excluded).
    pub row: usize,
    pub field: String,
    pub reason: String,
}

/// Outcome of an ingest call.
#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
pub struct IngestReport {
    pub received: usize,
    /// Rows stored (new, corrected or identical re-sends).
    pub accepted: usize,
    /// Rows that changed the stored data (new or corrected values).
    pub changed: u64,
    /// Stored but flagged (negative value, above the high limit): value withheld from rollups.
    pub flagged: usize,
    pub rejected: usize,
    pub rejects: Vec<Reject>,
}

/// A parsed reading ready to store.
#[derive(Debug, Clone, Copy)]
pub struct Parsed {
    pub meter_id: i64,
    pub ts: i64,
    pub raw: f64,
}

fn as_i64(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parsed rows (with their 1-based row number) and the rejected ones.
pub type ParsedRows = (Vec<(usize, Parsed)>, Vec<Reject>);

/// Parses JSON readings; rows that fail are returned as rejects.
pub fn parse_json_rows(rows: &[RawReading]) -> (Vec<(usize, Parsed)>, Vec<Reject>) {
    let mut ok = Vec::with_capacity(rows.len());
    let mut bad = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let row = i + 1;
        let Some(meter_id) = as_i64(&r.meter_id) else {
            bad.push(Reject {
                row,
                field: "meter_id".into(),
                reason: "不是表计编号 / not a meter id".into(),
            });
            continue;
        };
        let ts = match &r.ts {
            serde_json::Value::Number(n) => n.as_i64().ok_or_else(|| "not an integer".to_string()),
            serde_json::Value::String(s) => domain::parse_ts(s),
            _ => Err("缺少时间 / missing timestamp".to_string()),
        };
        let ts = match ts {
            Ok(t) => t,
            Err(e) => {
                bad.push(Reject {
                    row,
                    field: "ts".into(),
                    reason: e,
                });
                continue;
            }
        };
        let value = match &r.value {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match value {
            Some(v) if v.is_finite() => ok.push((
                row,
                Parsed {
                    meter_id,
                    ts,
                    raw: v,
                },
            )),
            _ => bad.push(Reject {
                row,
                field: "value".into(),
                reason: "不是有效数值 / not a finite number".into(),
            }),
        }
    }
    (ok, bad)
}

/// Limits of a meter-reading upload: the configured ones, widened to the bulk ingest's own
/// body size ([`READINGS_MAX_BYTES`]) and the rows such a body holds.
pub fn readings_limits(configured: &Limits) -> Limits {
    configured
        .with_max_bytes(configured.max_bytes.max(READINGS_MAX_BYTES))
        .with_max_rows(configured.max_rows.max(READINGS_MAX_BYTES / 16))
}

/// Largest meter-reading upload (64 MiB ≈ 1.5 million CSV rows).
pub const READINGS_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Parses CSV `meter_id,timestamp,value` (header required; UTF-8, GBK or with a BOM; quoted
/// fields may hold commas) within the default [`readings_limits`].
pub fn parse_csv(bytes: &[u8]) -> Result<ParsedRows, UploadError> {
    parse_csv_within(bytes, &readings_limits(&Limits::default()))
}

/// [`parse_csv`] within `limits`. Rows are numbered by the line they start on, the header
/// excluded (the first data line is row 1; blank lines count).
pub fn parse_csv_within(bytes: &[u8], limits: &Limits) -> Result<ParsedRows, UploadError> {
    // About 25 bytes a row: one allocation for the whole body.
    let mut ok = Vec::with_capacity(bytes.len().min(limits.max_bytes) / 24 + 1);
    let mut bad = Vec::new();
    let mut idx: Option<(usize, usize, usize)> = None;
    upload::csv::for_each_record(bytes, limits, |n, rec| {
        let Some((mi, ti, vi)) = idx else {
            debug_assert_eq!(n, 1);
            let cols: Vec<String> = rec.iter().map(|c| c.trim().to_ascii_lowercase()).collect();
            let find = |names: &[&str]| cols.iter().position(|c| names.contains(&c.as_str()));
            let (Some(mi), Some(ti), Some(vi)) = (
                find(&["meter_id", "meter", "表计"]),
                find(&["timestamp", "ts", "time", "时间"]),
                find(&["value", "数值", "reading"]),
            ) else {
                return Err(UploadError::new(
                    UploadErrorKind::Invalid,
                    "CSV 表头须含 meter_id,timestamp,value / header must name meter_id, timestamp and value",
                )
                .with_field("header"));
            };
            idx = Some((mi, ti, vi));
            return Ok(());
        };
        let row = rec
            .position()
            .map(|p| p.line() as usize - 1)
            .unwrap_or(n - 1);
        let get = |k: usize| rec.get(k).map(str::trim).unwrap_or("");
        if rec.iter().all(|f| f.trim().is_empty()) {
            return Ok(());
        }
        let (m, t, v) = (get(mi), get(ti), get(vi));
        let Ok(meter_id) = m.parse::<i64>() else {
            bad.push(Reject {
                row,
                field: "meter_id".into(),
                reason: format!("`{m}` 不是表计编号 / not a meter id"),
            });
            return Ok(());
        };
        let ts = match domain::parse_ts(t) {
            Ok(t) => t,
            Err(e) => {
                bad.push(Reject {
                    row,
                    field: "timestamp".into(),
                    reason: e,
                });
                return Ok(());
            }
        };
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => ok.push((
                row,
                Parsed {
                    meter_id,
                    ts,
                    raw: x,
                },
            )),
            _ => bad.push(Reject {
                row,
                field: "value".into(),
                reason: format!("`{v}` 不是有效数值 / not a finite number"),
            }),
        }
        Ok(())
    })?;
    if idx.is_none() {
        return Err(UploadError::new(
            UploadErrorKind::Invalid,
            "CSV 表头须含 meter_id,timestamp,value / header must name meter_id, timestamp and value",
        )
        .with_field("header"));
    }
    Ok((ok, bad))
}

/// (meter, ts, raw, validated value, quality, rule) of a row to store.
type Good = (
    i64,
    i64,
    f64,
    Option<f64>,
    &'static str,
    Option<&'static str>,
);

/// Rows per multi-row INSERT: 4 bound values each (meter, ts, raw, value; the city, receipt
/// time, quality and rule are SQL literals), under SQLite's 32 766 variable limit. Every full
/// chunk has the same SQL text, so the driver's statement cache prepares it once per connection.
const CHUNK: usize = 8000;

/// Meters per `IN (…)` list of the set-wise rollup statements.
const METER_CHUNK: usize = 500;

/// Stores parsed readings in ONE transaction (committed before returning): checks each row's
/// meter against the scope, applies the multiplier, flags negative and over-limit values,
/// refuses rows older than the city's raw-data retention horizon (their day's raw data may be
/// purged, so the rollups could not be recomputed), upserts on (city, meter, ts) and recomputes
/// the affected hourly/daily/monthly rollups set-wise.
pub async fn ingest(
    db: &DatabaseConnection,
    s: &Scope,
    rows: Vec<(usize, Parsed)>,
    mut rejects: Vec<Reject>,
) -> Result<IngestReport, StoreError> {
    let t_start = std::time::Instant::now();
    let received = rows.len() + rejects.len();
    // Meters of the batch that the caller may write.
    let ids: BTreeSet<i64> = rows.iter().map(|r| r.1.meter_id).collect();
    let mut known: HashMap<i64, (f64, Option<f64>, String)> = HashMap::new();
    for chunk in ids.iter().copied().collect::<Vec<_>>().chunks(METER_CHUNK) {
        let mut v = Vec::new();
        let c = s.clause("m", "unit_id", &mut v);
        let ph = vec!["?"; chunk.len()].join(",");
        v.extend(chunk.iter().map(|i| Value::from(*i)));
        for r in sql::all(db, &format!("SELECT m.id, m.multiplier, m.high_limit, m.status FROM mt_meters m WHERE{c} AND m.id IN ({ph})"), v).await? {
            known.insert(g(&r, "id")?, (g(&r, "multiplier")?, g(&r, "high_limit")?, g(&r, "status")?));
        }
    }
    let now = domain::now_ts();
    let horizon = crate::retention::raw_horizon(db, s.city_id, now).await?;
    let mut good: Vec<Good> = Vec::with_capacity(rows.len());
    let mut flagged = 0;
    for (row, p) in rows {
        let Some((mult, high, status)) = known.get(&p.meter_id) else {
            rejects.push(Reject {
                row,
                field: "meter_id".into(),
                reason: format!(
                    "表计 {} 不存在或无权限 / unknown meter {}",
                    p.meter_id, p.meter_id
                ),
            });
            continue;
        };
        if status != "installed" {
            rejects.push(Reject {
                row,
                field: "meter_id".into(),
                reason: format!(
                    "表计 {} 未安装 / meter {} is {status}",
                    p.meter_id, p.meter_id
                ),
            });
            continue;
        }
        if p.ts > now + 86400 {
            rejects.push(Reject {
                row,
                field: "ts".into(),
                reason: "时间晚于当前超过一天 / timestamp more than a day in the future".into(),
            });
            continue;
        }
        if p.ts < 946_684_800 {
            rejects.push(Reject {
                row,
                field: "ts".into(),
                reason: "时间早于2000年 / timestamp before 2000".into(),
            });
            continue;
        }
        if horizon.is_some_and(|h| p.ts < h) {
            rejects.push(Reject {
                row,
                field: "ts".into(),
                reason: "早于原始数据保留期 / older than the raw-data retention period".into(),
            });
            continue;
        }
        let v = p.raw * mult;
        let (value, quality, rule) = if v < 0.0 {
            flagged += 1;
            (None, "suspect", Some("negative"))
        } else if high.is_some_and(|h| v > h) {
            flagged += 1;
            (None, "suspect", Some("high_limit"))
        } else {
            (Some(v), "valid", None)
        };
        good.push((p.meter_id, p.ts, p.raw, value, quality, rule));
    }
    let accepted = good.len();
    // Last value wins within one batch for a repeated (meter, ts): a stable sort keeps arrival
    // order among equal keys, then the last of each run is kept.
    good.sort_by_key(|r| (r.0, r.1));
    let mut keep: Vec<Good> = Vec::with_capacity(good.len());
    for r in good {
        match keep.last_mut() {
            Some(l) if (l.0, l.1) == (r.0, r.1) => *l = r,
            _ => keep.push(r),
        }
    }
    // PostgreSQL, large batches: COPY into the staging table first (outside the transaction;
    // staged rows are not "accepted" until the transaction below commits).
    let staged = if db.get_database_backend() == DbBackend::Postgres && keep.len() >= PG_COPY_MIN {
        Some(stage_pg(db, s.city_id, &keep).await?)
    } else {
        None
    };
    let t_prep = t_start.elapsed();
    // SQLite, no staging: the hourly and daily rollups of days that no earlier reading of the
    // meter falls in (a backfill's new days) are aggregated here from the sorted batch instead of
    // re-read and re-sorted through SQL; days that may hold earlier readings are recomputed from
    // `mt_readings` as before.
    let fresh_path = staged.is_none() && db.get_database_backend() == DbBackend::Sqlite;
    let stored = async {
        let t_write = std::time::Instant::now();
        // Days touched per meter: `keep` is sorted by (meter, ts), so one pass that only
        // inserts when the day changes (a backfill touches thousands of days, not 500,000 keys).
        let mut days: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        let mut last = (i64::MIN, i64::MIN);
        for r in &keep {
            let d = domain::day_bucket(r.1);
            if (r.0, d) != last {
                days.entry(r.0).or_default().insert(d);
                last = (r.0, d);
            }
        }
        let txn = db.begin_write().await?;
        let changed;
        let t_rollups;
        if fresh_path {
            let plan = RollupPlan::of(&days);
            // The first statement writes, so the transaction holds SQLite's write lock before it
            // reads the meters' latest readings (no other writer can add one in between).
            plan.clear_hours_days(&txn, s.city_id).await?;
            let before = latest_ts(&txn, s.city_id, days.keys().copied()).await?;
            changed = write_readings(&txn, s.city_id, &keep, now).await?;
            t_rollups = std::time::Instant::now();
            // First local day of each meter with no earlier reading.
            let fresh_from: HashMap<i64, i64> = days
                .keys()
                .map(|m| {
                    let f = before
                        .get(m)
                        .map_or(i64::MIN, |t| domain::day_bucket(*t) + 86400);
                    (*m, f)
                })
                .collect();
            let mut old_days: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
            for (m, ds) in &days {
                let f = fresh_from.get(m).copied().unwrap_or(i64::MAX);
                let old: BTreeSet<i64> = ds.iter().copied().filter(|d| *d < f).collect();
                if !old.is_empty() {
                    old_days.insert(*m, old);
                }
            }
            RollupPlan::of(&old_days)
                .insert_hours_days_sql(&txn, s.city_id)
                .await?;
            let (hours, days_agg) = fresh_rollups(&keep, &fresh_from);
            insert_rollup_rows(&txn, s.city_id, "h", &hours).await?;
            insert_rollup_rows(&txn, s.city_id, "d", &days_agg).await?;
            plan.recompute_months(&txn, s.city_id).await?;
        } else {
            changed = match staged {
                Some(batch) => insert_from_stage(&txn, s.city_id, batch, now).await?,
                None => write_readings(&txn, s.city_id, &keep, now).await?,
            };
            t_rollups = std::time::Instant::now();
            recompute_rollup_days(&txn, s.city_id, days).await?;
        }
        let tr = std::time::Instant::now();
        txn.commit().await?;
        tracing::debug!(rows = keep.len(), fresh_path, prep = ?t_prep, write = ?(t_rollups - t_write), rollups = ?(tr - t_rollups), commit = ?tr.elapsed(), "metering ingest timings");
        Ok::<u64, StoreError>(changed)
    }
    .await;
    let changed = match stored {
        Ok(c) => c,
        Err(e) => {
            if let Some(batch) = staged {
                let _ = sql::exec(
                    db,
                    "DELETE FROM mt_readings_stage WHERE city_id = ? AND batch_id = ?",
                    vec![s.city_id.into(), batch.into()],
                )
                .await;
            }
            return Err(e);
        }
    };
    rejects.sort_by_key(|r| r.row);
    Ok(IngestReport {
        received,
        accepted,
        changed,
        flagged,
        rejected: rejects.len(),
        rejects,
    })
}

/// Batches from this size on go through COPY on PostgreSQL (below it a multi-row INSERT is as
/// fast and needs no staging round trip).
pub const PG_COPY_MIN: usize = 2000;

/// The `ON CONFLICT` tail of the readings upsert: a re-sent identical value changes nothing; a
/// different value (a correction) or a reading replacing an estimate is stored.
fn upsert_tail(db: &impl ConnectionTrait) -> String {
    format!(
        " ON CONFLICT (city_id, meter_id, ts) DO UPDATE SET raw_value = excluded.raw_value, value = excluded.value, quality = excluded.quality, rule_id = excluded.rule_id, received_at = excluded.received_at WHERE mt_readings.raw_value {} excluded.raw_value OR mt_readings.quality = 'estimated'",
        sql::distinct(db)
    )
}

/// Streams rows into `mt_readings_stage` with `COPY … FROM STDIN` (text format) on a pooled
/// PostgreSQL connection (sqlx's `PgCopyIn` on the pool sea-orm exposes); returns the batch id.
async fn stage_pg(db: &DatabaseConnection, city_id: i64, rows: &[Good]) -> Result<i64, StoreError> {
    use sea_orm::sqlx::postgres::PgPoolCopyExt;
    use std::fmt::Write;
    let err = |e: sea_orm::sqlx::Error| {
        StoreError::from(sea_orm::DbErr::Custom(format!(
            "COPY into mt_readings_stage: {e}"
        )))
    };
    let batch = qcity_platform::ids::new_id();
    let mut copy = db
        .get_postgres_connection_pool()
        .copy_in_raw("COPY mt_readings_stage (city_id, batch_id, meter_id, ts, raw_value, value, quality, rule_id) FROM STDIN")
        .await
        .map_err(err)?;
    let mut buf = String::with_capacity(1 << 20);
    for r in rows {
        let _ = write!(buf, "{city_id}\t{batch}\t{}\t{}\t{}\t", r.0, r.1, r.2);
        match r.3 {
            Some(v) => {
                let _ = write!(buf, "{v}");
            }
            None => buf.push_str("\\N"),
        }
        let _ = writeln!(buf, "\t{}\t{}", r.4, r.5.unwrap_or("\\N"));
        if buf.len() >= 1 << 20 {
            copy.send(buf.as_bytes()).await.map_err(err)?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await.map_err(err)?;
    }
    copy.finish().await.map_err(err)?;
    Ok(batch)
}

/// Moves a staged batch into `mt_readings` (upsert) and clears it from the staging table.
async fn insert_from_stage(
    db: &impl ConnectionTrait,
    city_id: i64,
    batch: i64,
    now: i64,
) -> Result<u64, StoreError> {
    let q = format!(
        "INSERT INTO mt_readings (city_id, meter_id, ts, raw_value, value, quality, rule_id, received_at) SELECT city_id, meter_id, ts, raw_value, value, quality, rule_id, {now} FROM mt_readings_stage WHERE city_id = ? AND batch_id = ?{}",
        upsert_tail(db)
    );
    let changed = sql::exec(db, &q, vec![city_id.into(), batch.into()])
        .await?
        .rows_affected();
    sql::exec(
        db,
        "DELETE FROM mt_readings_stage WHERE city_id = ? AND batch_id = ?",
        vec![city_id.into(), batch.into()],
    )
    .await?;
    Ok(changed)
}

/// SQL literal of a fixed quality flag or rule id (never user input).
fn lit(v: Option<&'static str>) -> std::borrow::Cow<'static, str> {
    match v {
        None => "NULL".into(),
        Some("valid") => "'valid'".into(),
        Some("suspect") => "'suspect'".into(),
        Some("negative") => "'negative'".into(),
        Some("high_limit") => "'high_limit'".into(),
        Some(s) => format!("'{s}'").into(),
    }
}

/// Upserts readings (sorted, unique on (meter, ts)) with multi-row `INSERT … ON CONFLICT`;
/// returns the rows that changed (new values, corrections, or estimates replaced by a reading).
async fn write_readings(
    db: &impl ConnectionTrait,
    city_id: i64,
    rows: &[Good],
    now: i64,
) -> Result<u64, StoreError> {
    let tail = upsert_tail(db);
    let head = format!("({city_id},?,?,?,?,");
    let now_s = format!(",{now})");
    let mut changed = 0;
    for chunk in rows.chunks(CHUNK) {
        let mut q = String::with_capacity(128 + chunk.len() * 48);
        q.push_str("INSERT INTO mt_readings (city_id, meter_id, ts, raw_value, value, quality, rule_id, received_at) VALUES ");
        let mut vals: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
        for (k, r) in chunk.iter().enumerate() {
            if k > 0 {
                q.push(',');
            }
            q.push_str(&head);
            q.push_str(&lit(Some(r.4)));
            q.push(',');
            q.push_str(&lit(r.5));
            q.push_str(&now_s);
            vals.extend([r.0.into(), r.1.into(), r.2.into(), r.3.into()]);
        }
        q.push_str(&tail);
        changed += sql::exec(db, &q, vals).await?.rows_affected();
    }
    Ok(changed)
}

/// Recomputes the hourly, daily and monthly rollups of every (meter, day) touched by `ts` values,
/// set-wise: meters that touched the same run of days share one statement per grain (a live
/// batch of thousands of meters for the same quarter hour is three statements plus two per
/// month, not thousands).
pub async fn recompute_rollups(
    db: &impl ConnectionTrait,
    city_id: i64,
    touched: &BTreeSet<(i64, i64)>,
) -> Result<(), StoreError> {
    let mut days: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for &(m, ts) in touched {
        days.entry(m).or_default().insert(domain::day_bucket(ts));
    }
    recompute_rollup_days(db, city_id, days).await
}

/// [`recompute_rollups`] for the local days (starts, epoch s) touched per meter.
pub async fn recompute_rollup_days(
    db: &impl ConnectionTrait,
    city_id: i64,
    days: BTreeMap<i64, BTreeSet<i64>>,
) -> Result<(), StoreError> {
    let plan = RollupPlan::of(&days);
    plan.clear_hours_days(db, city_id).await?;
    plan.insert_hours_days_sql(db, city_id).await?;
    plan.recompute_months(db, city_id).await
}

/// Set-wise rollup statements for the days touched per meter: meters that touched the same run
/// of contiguous days share one statement per grain, and meters that touched the same month
/// share its monthly statements.
struct RollupPlan {
    /// `[start, end)` of a run of contiguous local days → the meters that touched exactly it.
    by_range: BTreeMap<(i64, i64), Vec<i64>>,
    /// Local month bounds → the meters that touched a day in it.
    by_month: BTreeMap<(i64, i64), Vec<i64>>,
}

impl RollupPlan {
    fn of(days: &BTreeMap<i64, BTreeSet<i64>>) -> RollupPlan {
        let mut by_range: BTreeMap<(i64, i64), Vec<i64>> = BTreeMap::new();
        let mut by_month: BTreeMap<(i64, i64), Vec<i64>> = BTreeMap::new();
        for (&meter, ds) in days {
            let mut ranges: Vec<(i64, i64)> = Vec::new();
            for &d in ds {
                match ranges.last_mut() {
                    Some(r) if r.1 >= d => r.1 = d + 86400,
                    _ => ranges.push((d, d + 86400)),
                }
            }
            let mut months = BTreeSet::new();
            for (a, b) in ranges {
                by_range.entry((a, b)).or_default().push(meter);
                let mut d = a;
                while d < b {
                    months.insert(domain::month_bounds(d));
                    d += 86400;
                }
            }
            for mb in months {
                by_month.entry(mb).or_default().push(meter);
            }
        }
        RollupPlan { by_range, by_month }
    }

    /// Deletes the hourly and daily rollups of the touched days.
    async fn clear_hours_days(
        &self,
        db: &impl ConnectionTrait,
        city_id: i64,
    ) -> Result<(), StoreError> {
        for (&(a, b), meters) in &self.by_range {
            for ms in meters.chunks(METER_CHUNK) {
                let inl = ids_list(ms);
                sql::exec(db, &format!("DELETE FROM mt_rollups WHERE city_id = ? AND meter_id IN ({inl}) AND grain IN ('h', 'd') AND bucket >= ? AND bucket < ?"), vec![city_id.into(), a.into(), b.into()]).await?;
            }
        }
        Ok(())
    }

    /// Inserts the hourly rollups of the touched days from `mt_readings`, then their daily
    /// rollups from the hourly ones (after [`Self::clear_hours_days`]).
    async fn insert_hours_days_sql(
        &self,
        db: &impl ConnectionTrait,
        city_id: i64,
    ) -> Result<(), StoreError> {
        let o = domain::LOCAL_OFFSET;
        for (&(a, b), meters) in &self.by_range {
            for ms in meters.chunks(METER_CHUNK) {
                let inl = ids_list(ms);
                sql::exec(db, &format!("INSERT INTO mt_rollups (city_id, meter_id, grain, bucket, value, n) SELECT city_id, meter_id, 'h', ts - (ts % 3600), COALESCE(SUM(value), 0), COUNT(value) FROM mt_readings WHERE city_id = ? AND meter_id IN ({inl}) AND ts >= ? AND ts < ? GROUP BY city_id, meter_id, ts - (ts % 3600)"), vec![city_id.into(), a.into(), b.into()]).await?;
                sql::exec(db, &format!("INSERT INTO mt_rollups (city_id, meter_id, grain, bucket, value, n) SELECT city_id, meter_id, 'd', ((bucket + {o}) / 86400) * 86400 - {o}, SUM(value), SUM(n) FROM mt_rollups WHERE city_id = ? AND meter_id IN ({inl}) AND grain = 'h' AND bucket >= ? AND bucket < ? GROUP BY city_id, meter_id, ((bucket + {o}) / 86400) * 86400 - {o}"), vec![city_id.into(), a.into(), b.into()]).await?;
            }
        }
        Ok(())
    }

    /// Recomputes the monthly rollups of the touched months from the daily ones.
    async fn recompute_months(
        &self,
        db: &impl ConnectionTrait,
        city_id: i64,
    ) -> Result<(), StoreError> {
        for (&(a, b), meters) in &self.by_month {
            for ms in meters.chunks(METER_CHUNK) {
                let inl = ids_list(ms);
                sql::exec(db, &format!("DELETE FROM mt_rollups WHERE city_id = ? AND meter_id IN ({inl}) AND grain = 'm' AND bucket = ?"), vec![city_id.into(), a.into()]).await?;
                sql::exec(db, &format!("INSERT INTO mt_rollups (city_id, meter_id, grain, bucket, value, n) SELECT city_id, meter_id, 'm', ?, SUM(value), SUM(n) FROM mt_rollups WHERE city_id = ? AND meter_id IN ({inl}) AND grain = 'd' AND bucket >= ? AND bucket < ? GROUP BY city_id, meter_id"), vec![a.into(), city_id.into(), a.into(), b.into()]).await?;
            }
        }
        Ok(())
    }
}

/// Latest stored reading time per meter (meters without readings are absent).
async fn latest_ts(
    db: &impl ConnectionTrait,
    city_id: i64,
    meters: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, i64>, StoreError> {
    let ids: Vec<i64> = meters.collect();
    let mut out = HashMap::with_capacity(ids.len());
    for ms in ids.chunks(METER_CHUNK) {
        let inl = ids_list(ms);
        // A correlated MAX per meter: each is one seek to the end of the meter's primary-key run.
        for r in sql::all(db, &format!("SELECT m.id, (SELECT MAX(r.ts) FROM mt_readings r WHERE r.city_id = m.city_id AND r.meter_id = m.id) AS t FROM mt_meters m WHERE m.city_id = ? AND m.id IN ({inl})"), vec![city_id.into()]).await? {
            if let Some(t) = g::<Option<i64>>(&r, "t")? {
                out.insert(g(&r, "id")?, t);
            }
        }
    }
    Ok(out)
}

/// SQLite's `SUM` over floating-point values (Kahan–Babuška–Neumaier compensated summation, as
/// in SQLite 3.43+ `sumStep`/`sumFinalize`), so rollups aggregated in Rust are bit-identical to
/// the ones SQL computes from the same rows in the same order.
#[derive(Default, Clone, Copy)]
struct KbnSum {
    sum: f64,
    err: f64,
}

impl KbnSum {
    fn add(&mut self, r: f64) {
        let s = self.sum;
        let t = s + r;
        if s.abs() > r.abs() {
            self.err += (s - t) + r;
        } else {
            self.err += (r - t) + s;
        }
        self.sum = t;
    }
    fn value(self) -> f64 {
        if self.err.is_finite() {
            self.sum + self.err
        } else {
            self.sum
        }
    }
}

/// (meter, bucket, value, n) of an aggregated rollup row.
type RollupRow = (i64, i64, f64, i64);

/// (meter, bucket, running sum, n) of the hour or day being aggregated.
type RollupAcc = (i64, i64, KbnSum, i64);

/// Hourly and daily rollups of the rows of `keep` (sorted by meter, ts) on days at or after their
/// meter's `fresh_from` day: the same values the SQL recomputation gives (hour: compensated sum
/// of the non-null values, 0 when there are none, and their count; day: the sum of its hours).
fn fresh_rollups(
    keep: &[Good],
    fresh_from: &HashMap<i64, i64>,
) -> (Vec<RollupRow>, Vec<RollupRow>) {
    let mut hours: Vec<RollupRow> = Vec::new();
    let mut days: Vec<RollupRow> = Vec::new();
    // Current hour: (meter, bucket, sum, n); current day likewise over hours.
    let mut hour: Option<RollupAcc> = None;
    let mut day: Option<RollupAcc> = None;
    let close_hour = |h: RollupAcc,
                      hours: &mut Vec<RollupRow>,
                      day: &mut Option<RollupAcc>,
                      days: &mut Vec<RollupRow>| {
        let v = if h.3 > 0 { h.2.value() } else { 0.0 };
        hours.push((h.0, h.1, v, h.3));
        let d = domain::day_bucket(h.1);
        match day {
            Some(cur) if cur.0 == h.0 && cur.1 == d => {
                cur.2.add(v);
                cur.3 += h.3;
            }
            _ => {
                if let Some(cur) = day.take() {
                    days.push((cur.0, cur.1, cur.2.value(), cur.3));
                }
                let mut s = KbnSum::default();
                s.add(v);
                *day = Some((h.0, d, s, h.3));
            }
        }
    };
    let mut meter = i64::MIN;
    let mut from = i64::MAX;
    for r in keep {
        if r.0 != meter {
            meter = r.0;
            from = fresh_from.get(&meter).copied().unwrap_or(i64::MAX);
        }
        if domain::day_bucket(r.1) < from {
            continue;
        }
        let b = r.1 - r.1 % 3600;
        match &mut hour {
            Some(h) if h.0 == r.0 && h.1 == b => {
                if let Some(v) = r.3 {
                    h.2.add(v);
                    h.3 += 1;
                }
            }
            _ => {
                if let Some(h) = hour.take() {
                    close_hour(h, &mut hours, &mut day, &mut days);
                }
                let mut s = KbnSum::default();
                let mut n = 0;
                if let Some(v) = r.3 {
                    s.add(v);
                    n = 1;
                }
                hour = Some((r.0, b, s, n));
            }
        }
    }
    if let Some(h) = hour.take() {
        close_hour(h, &mut hours, &mut day, &mut days);
    }
    if let Some(cur) = day.take() {
        days.push((cur.0, cur.1, cur.2.value(), cur.3));
    }
    (hours, days)
}

/// Inserts aggregated rollup rows of one grain with multi-row `INSERT` (their days' rollups were
/// cleared first).
async fn insert_rollup_rows(
    db: &impl ConnectionTrait,
    city_id: i64,
    grain: &'static str,
    rows: &[RollupRow],
) -> Result<(), StoreError> {
    let head = format!("({city_id},'{grain}',?,?,?,?)");
    for chunk in rows.chunks(CHUNK) {
        let mut q = String::with_capacity(96 + chunk.len() * (head.len() + 1));
        q.push_str("INSERT INTO mt_rollups (city_id, grain, meter_id, bucket, value, n) VALUES ");
        let mut vals: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
        for (k, r) in chunk.iter().enumerate() {
            if k > 0 {
                q.push(',');
            }
            q.push_str(&head);
            vals.extend([r.0.into(), r.1.into(), r.2.into(), r.3.into()]);
        }
        sql::exec(db, &q, vals).await?;
    }
    Ok(())
}

/// Comma-separated integer ids for an `IN (…)` list (integers only, so safe to inline).
fn ids_list(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

// ---------------------------------------------------------------- series

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub ts: i64,
    pub value: f64,
    pub n: i64,
}

/// Rollup series of one meter (`grain` h, d or m) over `[from, to)`.
pub async fn rollup_series(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
    grain: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Point>, StoreError> {
    sql::all(db, "SELECT bucket, value, n FROM mt_rollups WHERE city_id = ? AND meter_id = ? AND grain = ? AND bucket >= ? AND bucket < ? ORDER BY bucket", vec![city_id.into(), meter_id.into(), grain.into(), from.into(), to.into()])
        .await?
        .iter()
        .map(|r| Ok(Point { ts: g(r, "bucket")?, value: g(r, "value")?, n: g(r, "n")? }))
        .collect()
}

/// Stored interval readings of one meter over `[from, to)`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredReading {
    pub ts: i64,
    pub raw_value: Option<f64>,
    pub value: Option<f64>,
    pub quality: String,
    pub rule_id: Option<String>,
}

pub async fn readings(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<StoredReading>, StoreError> {
    sql::all(db, "SELECT ts, raw_value, value, quality, rule_id FROM mt_readings WHERE city_id = ? AND meter_id = ? AND ts >= ? AND ts < ? ORDER BY ts", vec![city_id.into(), meter_id.into(), from.into(), to.into()])
        .await?
        .iter()
        .map(|r| Ok(StoredReading { ts: g(r, "ts")?, raw_value: g(r, "raw_value")?, value: g(r, "value")?, quality: g(r, "quality")?, rule_id: g(r, "rule_id")? }))
        .collect()
}

/// Latest reading time of a meter.
pub async fn last_ts(
    db: &impl ConnectionTrait,
    city_id: i64,
    meter_id: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(
        match sql::one(
            db,
            "SELECT MAX(ts) AS t FROM mt_readings WHERE city_id = ? AND meter_id = ?",
            vec![city_id.into(), meter_id.into()],
        )
        .await?
        {
            Some(r) => g::<Option<i64>>(&r, "t")?,
            None => None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns in any order, extra columns, CRLF, a BOM, blank lines, short rows and ISO / local /
    /// epoch timestamps: good rows parsed, bad rows rejected naming the (1-based data) row and field.
    #[test]
    fn csv_rows_and_rejects() {
        let body = "\u{feff}Value,extra,Timestamp,meter_id\r\n1.5,x,2025-03-01 00:15,7\r\n\r\n2, ,2025-03-01T00:30:00+08:00,7\r\n3,,1740759300,8\r\nabc,,2025-03-01 00:45,7\r\n4,,2025-02-30 00:00,7\r\n5,,2025-03-01 01:00,x\r\n6,\r\n";
        let (ok, bad) = parse_csv(body.as_bytes()).expect("csv");
        let t = |s: &str| domain::parse_ts(s).expect("ts");
        let got: Vec<(usize, i64, i64, f64)> = ok
            .iter()
            .map(|(r, p)| (*r, p.meter_id, p.ts, p.raw))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 7, t("2025-03-01T00:15:00+08:00"), 1.5),
                (3, 7, t("2025-03-01T00:30:00+08:00"), 2.0),
                (4, 8, 1_740_759_300, 3.0),
            ]
        );
        let bad: Vec<(usize, &str)> = bad.iter().map(|r| (r.row, r.field.as_str())).collect();
        assert_eq!(
            bad,
            vec![
                (5, "value"),
                (6, "timestamp"),
                (7, "meter_id"),
                (8, "meter_id"),
            ]
        );
        assert!(parse_csv(b"a,b\n1,2\n").is_err());
    }

    /// Quoted fields may hold commas and newlines; GBK headers are read.
    #[test]
    fn csv_quoted_fields_and_gbk() {
        let body = "meter_id,note,timestamp,value\n7,\"pump 1, north\",2025-03-01 00:15,1.5\n7,\"two\nlines\",2025-03-01 00:30,2\n";
        let (ok, bad) = parse_csv(body.as_bytes()).expect("csv");
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(
            ok.iter().map(|(r, p)| (*r, p.raw)).collect::<Vec<_>>(),
            vec![(1, 1.5), (2, 2.0)]
        );
        let gbk = encoding_rs::GBK
            .encode("表计,时间,数值\n7,2025-03-01 00:15,3\n")
            .0
            .into_owned();
        let (ok, _) = parse_csv(&gbk).expect("gbk csv");
        assert_eq!(ok.len(), 1);
    }
}
