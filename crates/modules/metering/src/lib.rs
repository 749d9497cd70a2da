//! Energy metering and management (能源计量): key energy-consuming units, meters, ingest, VEE,
//! monitoring, waste detection and verified savings on the `qcity-mv` engine.

pub mod analysis;
pub mod api;
pub mod demo;
pub mod domain;
pub mod migration;
pub mod mqtt;
pub mod pages;
pub mod retention;
pub mod service;
pub mod sql;
pub mod store;
pub mod weather;

use axum::Router;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::enterprise::{EnterpriseItem, EnterpriseSection};
use qcity_platform::feeds::{FedValue, ReportChart, ReportFigure, ReportSection, ReportTable};
use qcity_platform::i18n::Tr;
use qcity_platform::module::HookError;
use qcity_platform::store::StoreError;
use qcity_platform::web::{AppState, NavItem, Pillar};
use qcity_platform::{DemoContext, Module, Tile};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use std::collections::BTreeMap;
use store::Scope;

/// The metering module.
pub struct MeteringModule;

/// The key energy-consuming units that are this enterprise of the register (inside the reader's
/// region subtree), with their meters: a section of the enterprise's page.
pub async fn enterprise_units(
    db: &impl ConnectionTrait,
    city_id: i64,
    region_prefix: &str,
    enterprise_id: i64,
    t: &Tr,
) -> Result<Vec<EnterpriseSection>, StoreError> {
    let rows = sql::all(
        db,
        "SELECT u.id, u.name_zh, u.name_en, u.industry, (SELECT COUNT(*) FROM mt_meters m WHERE m.city_id = u.city_id AND m.unit_id = u.id) AS meters \
         FROM mt_units u WHERE u.city_id = ? AND u.enterprise_id = ? AND u.region_code LIKE ? ORDER BY u.name_zh",
        vec![city_id.into(), enterprise_id.into(), sql::like(region_prefix).into()],
    )
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get("", "id")?;
        let zh: String = r.try_get("", "name_zh")?;
        let en: String = r.try_get("", "name_en")?;
        let industry: String = r.try_get("", "industry")?;
        let meters: i64 = r.try_get("", "meters")?;
        items.push(EnterpriseItem {
            label: t.pick(&zh, &en).to_string(),
            detail: format!(
                "{} {meters} · {industry}",
                t.t("metering-enterprise-meters")
            ),
            href: Some(format!("/app/metering/units/{id}")),
        });
    }
    Ok(vec![EnterpriseSection {
        title: t.t("metering-enterprise-units"),
        total: items.len() as u64,
        items,
    }])
}

/// One district's (or the city's) energy figures for a year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CityRow {
    pub region_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub units: usize,
    pub total_tce: f64,
    /// Σ value added of units that report it, 10,000 yuan.
    pub value_added_10k_yuan: f64,
    /// tce per 10,000 yuan value added (units reporting value added only).
    pub tce_per_10k_yuan: Option<f64>,
    pub meters_installed: i64,
    pub meters_required: i64,
    /// GB 17167 metering coverage, %.
    pub coverage: Option<f64>,
    pub open_alerts: usize,
}

/// Per-district rows plus a city row (first) for a year, within the scope.
pub async fn city_rows(
    db: &impl ConnectionTrait,
    s: &Scope,
    year: i32,
) -> Result<Vec<CityRow>, StoreError> {
    let regions = sql::all(
        db,
        "SELECT code, level, name_zh, name_en FROM regions WHERE city_id = ? AND level IN ('city','district') ORDER BY code",
        vec![s.region.city_id.into()],
    )
    .await?;
    let mut rows: BTreeMap<String, CityRow> = BTreeMap::new();
    let mut city_code = String::new();
    for r in regions {
        let code: String = r.try_get("", "code")?;
        let level: String = r.try_get("", "level")?;
        if level == "city" {
            city_code = code.clone();
        }
        rows.insert(
            code.clone(),
            CityRow {
                region_code: code,
                name_zh: r.try_get("", "name_zh")?,
                name_en: r.try_get("", "name_en")?,
                units: 0,
                total_tce: 0.0,
                value_added_10k_yuan: 0.0,
                tce_per_10k_yuan: None,
                meters_installed: 0,
                meters_required: 0,
                coverage: None,
                open_alerts: 0,
            },
        );
    }
    let (from, to) = (domain::year_start(year), domain::year_start(year + 1));
    let mut tce_with_va: BTreeMap<String, f64> = BTreeMap::new();
    let alerts = analysis::alerts(db, s, true, None, 100_000).await?;
    for u in store::units(db, s).await? {
        let e = analysis::unit_energy(db, s, u.id, from, to).await?;
        let ms = store::meters(db, s, Some(u.id)).await?;
        let inst = ms.iter().filter(|m| m.status == "installed").count() as i64;
        let req = ms.iter().filter(|m| m.status != "virtual").count() as i64;
        let n_alerts = alerts.iter().filter(|a| a.unit_id == u.id).count();
        let district = u.region_code.get(..6).unwrap_or("").to_string();
        for code in [district.as_str(), city_code.as_str()] {
            if let Some(r) = rows.get_mut(code) {
                r.units += 1;
                r.total_tce += e.total_tce;
                r.meters_installed += inst;
                r.meters_required += req;
                r.open_alerts += n_alerts;
                if let Some(va) = u.value_added_10k_yuan.filter(|v| *v > 0.0) {
                    r.value_added_10k_yuan += va;
                    *tce_with_va.entry(code.to_string()).or_default() += e.total_tce;
                }
            }
        }
    }
    let mut out: Vec<CityRow> = rows
        .into_values()
        .filter(|r| r.units > 0 || r.region_code == city_code)
        .map(|mut r| {
            if r.value_added_10k_yuan > 0.0 {
                r.tce_per_10k_yuan = tce_with_va
                    .get(&r.region_code)
                    .map(|t| t / r.value_added_10k_yuan);
            }
            if r.meters_required > 0 {
                r.coverage = Some(r.meters_installed as f64 / r.meters_required as f64 * 100.0);
            }
            r
        })
        .collect();
    out.sort_by_key(|r| (r.region_code != city_code, r.region_code.clone()));
    Ok(out)
}

/// CQ-ENERGY-GDP and CQ-ENERGY-COVERAGE for the city and each district with units.
pub async fn feed(
    db: &DatabaseConnection,
    city_id: i64,
    year: i32,
) -> Result<Vec<FedValue>, StoreError> {
    let mut out = Vec::new();
    for r in city_rows(db, &Scope::city(qcity_platform::CityId(city_id)), year).await? {
        if r.total_tce <= 0.0 {
            continue;
        }
        if let Some(v) = r.tce_per_10k_yuan {
            out.push(FedValue {
                indicator: "CQ-ENERGY-GDP".into(),
                region_code: r.region_code.clone(),
                year,
                value: v,
                source: format!("online energy monitoring of key units {year} (GB/T 2589, electricity equivalent value)"),
            });
        }
        if let Some(v) = r.coverage {
            out.push(FedValue {
                indicator: "CQ-ENERGY-COVERAGE".into(),
                region_code: r.region_code.clone(),
                year,
                value: v,
                source: "GB 17167 metering coverage of key units".into(),
            });
        }
    }
    Ok(out)
}

/// The energy section of the annual report: city totals, intensity and verified savings.
pub async fn report(
    db: &DatabaseConnection,
    city_id: i64,
    year: i32,
) -> Result<Vec<ReportSection>, StoreError> {
    let s = Scope::city(qcity_platform::CityId(city_id));
    let rows = city_rows(db, &s, year).await?;
    let prev = city_rows(db, &s, year - 1).await?;
    let Some(city) = rows.first().filter(|c| c.total_tce > 0.0) else {
        return Ok(Vec::new());
    };
    let pc = prev.first();
    let mut saved = 0.0;
    let mut saved_rows = Vec::new();
    for p in analysis::projects(db, &s, None).await? {
        if domain::local_date(p.reporting_from)
            .format("%Y")
            .to_string()
            != year.to_string()
            && domain::local_date(p.reporting_to - 1)
                .format("%Y")
                .to_string()
                != year.to_string()
        {
            continue;
        }
        if let Ok(sv) = analysis::savings(db, &s, &p).await {
            saved += sv.savings_tce;
            saved_rows.push(vec![
                format!("{} / {}", p.name_zh, p.name_en),
                format!("{:.0}", sv.expected_tce),
                format!("{:.0}", sv.actual_tce),
                format!("{:.0}", sv.savings_tce),
                format!("{:.1}", sv.cvrmse * 100.0),
            ]);
        }
    }
    let fig = |key: &str,
               zh: &str,
               en: &str,
               v: Option<f64>,
               p: Option<f64>,
               uzh: &str,
               uen: &str,
               hib: bool,
               dec: u8| ReportFigure {
        key: key.into(),
        label_zh: zh.into(),
        label_en: en.into(),
        value: v,
        previous: p,
        unit_zh: uzh.into(),
        unit_en: uen.into(),
        decimals: dec,
        higher_is_better: hib,
        ci: None,
    };
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .skip(1)
        .map(|r| {
            vec![
                format!("{} / {}", r.name_zh, r.name_en),
                r.units.to_string(),
                format!("{:.0}", r.total_tce),
                r.tce_per_10k_yuan
                    .map(|v| format!("{v:.3}"))
                    .unwrap_or_else(|| "—".into()),
                r.coverage
                    .map(|v| format!("{v:.1}"))
                    .unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    let map: Vec<serde_json::Value> = rows
        .iter()
        .skip(1)
        .map(|r| serde_json::json!({"name": r.region_code, "value": (r.total_tce * 10.0).round() / 10.0}))
        .collect();
    Ok(vec![ReportSection {
        key: "metering.energy".into(),
        order: 60,
        title_zh: "重点用能单位能耗与节能".into(),
        title_en: "Energy use of key units and verified savings".into(),
        figures: vec![
            fig(
                "units",
                "在线监测重点用能单位",
                "Key units monitored online",
                Some(city.units as f64),
                pc.map(|p| p.units as f64),
                "家",
                "units",
                true,
                0,
            ),
            fig(
                "tce",
                "综合能源消费量",
                "Total energy consumption",
                Some(city.total_tce),
                pc.map(|p| p.total_tce).filter(|v| *v > 0.0),
                "吨标准煤",
                "tce",
                false,
                0,
            ),
            fig(
                "intensity",
                "万元增加值能耗",
                "Energy per 10,000 yuan value added",
                city.tce_per_10k_yuan,
                pc.and_then(|p| p.tce_per_10k_yuan),
                "吨标准煤/万元",
                "tce per 10,000 yuan",
                false,
                3,
            ),
            fig(
                "coverage",
                "能源计量器具配备率",
                "Metering coverage (GB 17167)",
                city.coverage,
                pc.and_then(|p| p.coverage),
                "%",
                "%",
                true,
                1,
            ),
            fig(
                "savings",
                "经核定节能量",
                "Verified savings",
                Some(saved),
                None,
                "吨标准煤",
                "tce",
                true,
                0,
            ),
        ],
        tables: vec![
            ReportTable {
                key: "metering.by_district".into(),
                title_zh: "各区县重点用能单位能耗".into(),
                title_en: "Key units' energy use by district".into(),
                columns: vec![
                    ("区县".into(), "District".into()),
                    ("单位数".into(), "Units".into()),
                    ("能耗(tce)".into(), "Energy (tce)".into()),
                    ("万元增加值能耗".into(), "tce per 10k yuan".into()),
                    ("配备率%".into(), "Coverage %".into()),
                ],
                rows: table_rows,
            },
            ReportTable {
                key: "metering.savings".into(),
                title_zh: "节能项目核定节能量".into(),
                title_en: "Verified savings of efficiency projects".into(),
                columns: vec![
                    ("项目".into(), "Project".into()),
                    ("基准能耗(tce)".into(), "Adjusted baseline (tce)".into()),
                    ("实际能耗(tce)".into(), "Actual (tce)".into()),
                    ("节能量(tce)".into(), "Savings (tce)".into()),
                    ("CV(RMSE)%".into(), "CV(RMSE) %".into()),
                ],
                rows: saved_rows,
            },
        ],
        charts: vec![ReportChart {
            key: "metering.map".into(),
            title_zh: "各区县重点用能单位能耗(tce)".into(),
            title_en: "Key units' energy use by district (tce)".into(),
            option: serde_json::json!({
                "tooltip": {"trigger": "item"},
                "visualMap": {"min": 0, "max": rows.iter().skip(1).map(|r| r.total_tce).fold(1.0, f64::max), "calculable": true},
                "series": [{"type": "map", "map": "districts", "data": map}]
            }),
            needs_map: true,
        }],
        method_zh: format!(
            "能耗按 GB/T 2589 折标准煤 (电力按当量值 0.1229 kgce/kWh; 系数表: {}); 万元增加值能耗仅计填报增加值的单位; 配备率 = 已安装 ÷ 应配备计量器具 (GB 17167-2006); 节能量按 ISO 50006 产量归一化基准 (IPMVP 方案C) 核定。",
            analysis::coal_table().version
        ),
        method_en: format!(
            "Energy converted to standard coal with GB/T 2589 (electricity at its equivalent value, 0.1229 kgce/kWh; table: {}); intensity counts units reporting value added only; coverage = meters installed ÷ meters required (GB 17167-2006); savings verified against an ISO 50006 production-normalised baseline (IPMVP Option C).",
            analysis::coal_table().version
        ),
    }])
}

#[async_trait::async_trait]
impl Module for MeteringModule {
    fn name(&self) -> &'static str {
        "metering"
    }
    fn migrations(&self) -> Vec<Box<dyn qcity_platform::migration::MigrationTrait>> {
        vec![
            Box::new(migration::Migration),
            Box::new(migration::Migration2),
            Box::new(migration::Migration3),
            Box::new(migration::Migration4),
            Box::new(migration::Migration5),
        ]
    }
    async fn enterprise_sections(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
        region_prefix: &str,
        enterprise_id: i64,
        t: &Tr,
    ) -> Result<Vec<EnterpriseSection>, HookError> {
        Ok(enterprise_units(db, city_id, region_prefix, enterprise_id, t).await?)
    }
    fn routes(&self) -> Router<AppState> {
        pages::routes()
    }
    fn api(&self) -> utoipa_axum::router::OpenApiRouter<AppState> {
        api::api()
    }
    fn nav(&self) -> Vec<NavItem> {
        vec![
            NavItem {
                pillar: Pillar::Foundation,
                label_key: "metering-nav-overview",
                href: "/app/metering",
                capability: None,
            },
            NavItem {
                pillar: Pillar::Foundation,
                label_key: "metering-nav-alerts",
                href: "/app/metering/alerts",
                capability: None,
            },
        ]
    }
    async fn dashboard_tiles(&self, st: &AppState, p: &Principal, t: &Tr) -> Vec<Tile> {
        let Some(s) = crate::store::scope_of(p) else {
            return Vec::new();
        };
        if !(p.can(Capability::ViewAll) || p.can(Capability::ManageMetering)) {
            return Vec::new();
        }
        let units = store::units(&st.db, &s).await.map(|v| v.len()).unwrap_or(0);
        let alerts = analysis::alerts(&st.db, &s, true, None, 100_000)
            .await
            .map(|v| v.len())
            .unwrap_or(0);
        vec![
            Tile {
                title: t.t("metering-tile-units"),
                value: units.to_string(),
                note: String::new(),
                href: Some("/app/metering".into()),
            },
            Tile {
                title: t.t("metering-tile-alerts"),
                value: alerts.to_string(),
                note: "跑冒滴漏 / leaks & waste".into(),
                href: Some("/app/metering/alerts".into()),
            },
        ]
    }
    async fn indicator_feed(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
        year: i32,
    ) -> Result<Vec<FedValue>, HookError> {
        feed(db, city_id, year)
            .await
            .map_err(|e| Box::new(e) as HookError)
    }
    async fn report_sections(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
        year: i32,
    ) -> Result<Vec<ReportSection>, HookError> {
        report(db, city_id, year)
            .await
            .map_err(|e| Box::new(e) as HookError)
    }
    async fn start_background(&self, st: &AppState) -> Result<(), HookError> {
        tokio::spawn(retention::run(
            st.db.clone(),
            std::time::Duration::from_secs(3600),
        ));
        if !st.config.mqtt.url.is_empty() {
            tokio::spawn(mqtt::run_counted(
                st.db.clone(),
                st.config.mqtt.url.clone(),
                st.config.mqtt.client_id.clone(),
                Some(st.metrics.clone()),
            ));
        }
        Ok(())
    }
    async fn seed_demo(&self, ctx: &DemoContext) -> Result<(), HookError> {
        demo::seed(ctx).await.map_err(|e| Box::new(e) as HookError)
    }
}
