//! Special-equipment safety (特种设备安全): registry, inspections, maintenance, elevator risk,
//! and the 96333 elevator emergency platform.

pub mod alarm_log;
pub mod api;
pub mod board;
pub mod demo;
pub mod domain;
pub mod enterprise;
pub mod fsm;
pub mod incidents;
pub mod migration;
pub mod mqtt;
pub mod pages;
pub mod registry;
pub mod schedule;
pub mod service;
pub mod sql;

use axum::Router;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::feeds::{FedValue, ReportChart, ReportFigure, ReportSection, ReportTable};
use qcity_platform::i18n::Tr;
use qcity_platform::module::HookError;
use qcity_platform::web::{AppState, NavItem, Pillar};
use qcity_platform::{CityId, DemoContext, Module, Scope, Tile};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use std::time::Duration;

/// The equipment module.
pub struct EquipmentModule;

/// How often the escalation scanner reads the stored deadlines.
pub const SCAN_INTERVAL: Duration = Duration::from_secs(2);

static INGEST_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Ingests one alarm frame. Ingests are serialised per process, so a flood for one elevator
/// yields one incident even before the database guard is reached.
pub async fn ingest<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    s: &Scope,
    f: &incidents::AlarmFrame,
    source: &str,
) -> Result<incidents::AlarmOutcome, qcity_platform::store::StoreError> {
    let _g = INGEST_LOCK.lock().await;
    incidents::ingest_alarm(db, s, f, source).await
}

/// Ingests a batch of alarm frames of one city in order (few statements, one commit for the
/// frames), serialised with every other ingest of this process.
pub async fn ingest_batch<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    s: &Scope,
    frames: &[incidents::AlarmFrame],
    source: &str,
) -> Result<Vec<incidents::AlarmOutcome>, qcity_platform::store::StoreError> {
    let _g = INGEST_LOCK.lock().await;
    incidents::ingest_batch(db, s, frames, source).await
}

/// Starts the escalation scanner over stored deadlines.
pub fn spawn_scanner(db: DatabaseConnection) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SCAN_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match incidents::scan(&db, sql::now()).await {
                Ok(r) if r != incidents::ScanReport::default() => tracing::info!(
                    escalated_l2 = r.escalated_l2,
                    ack_alerts = r.ack_alerts,
                    arrival_alerts = r.arrival_alerts,
                    "96333 timers"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "96333 timer scan failed"),
            }
        }
    })
}

#[async_trait::async_trait]
impl Module for EquipmentModule {
    fn name(&self) -> &'static str {
        "equipment"
    }
    fn migrations(&self) -> Vec<Box<dyn qcity_platform::migration::MigrationTrait>> {
        vec![
            Box::new(migration::Migration),
            Box::new(migration::MigrationT7001),
            Box::new(migration::MigrationKpiIndexes),
            Box::new(migration::MigrationEnterprise),
        ]
    }
    async fn enterprise_sections(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
        region_prefix: &str,
        enterprise_id: i64,
        t: &Tr,
    ) -> Result<Vec<qcity_platform::enterprise::EnterpriseSection>, HookError> {
        Ok(enterprise::sections(db, city_id, region_prefix, enterprise_id, t).await?)
    }
    fn routes(&self) -> Router<AppState> {
        pages::routes()
    }
    fn api(&self) -> utoipa_axum::router::OpenApiRouter<AppState> {
        api::api()
    }
    fn nav(&self) -> Vec<NavItem> {
        let item = |label_key, href, cap| NavItem {
            pillar: Pillar::Safety,
            label_key,
            href,
            capability: cap,
        };
        vec![
            item(
                "equipment-nav-registry",
                "/app/equipment/registry",
                Some(Capability::ViewAll),
            ),
            item(
                "equipment-nav-intake",
                "/app/equipment/intake",
                Some(Capability::DispatchIncidents),
            ),
            item(
                "equipment-nav-board",
                "/app/equipment/board",
                Some(Capability::DispatchIncidents),
            ),
            item(
                "equipment-nav-jobs",
                "/app/equipment/jobs",
                Some(Capability::RespondIncidents),
            ),
            item(
                "equipment-nav-inspections",
                "/app/equipment/inspections",
                Some(Capability::ViewAll),
            ),
            item(
                "equipment-nav-risk",
                "/app/equipment/risk",
                Some(Capability::ViewAll),
            ),
            item(
                "equipment-nav-kpi",
                "/app/equipment/kpi",
                Some(Capability::ViewAll),
            ),
        ]
    }
    async fn dashboard_tiles(&self, st: &AppState, p: &Principal, t: &Tr) -> Vec<Tile> {
        let Ok(s) = api::view(p) else {
            return Vec::new();
        };
        let mut tiles = Vec::new();
        let elevators = registry::list_equipment(
            &st.db,
            &s,
            &registry::EquipmentFilter {
                category: Some("3000".into()),
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .map(|x| x.1)
        .unwrap_or(0);
        let overdue = registry::list_equipment(
            &st.db,
            &s,
            &registry::EquipmentFilter {
                due: Some("overdue".into()),
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .map(|x| x.1)
        .unwrap_or(0);
        let open = incidents::list(&st.db, &s, &incidents::IncidentFilter::default())
            .await
            .map(|v| v.len())
            .unwrap_or(0);
        tiles.push(Tile {
            title: t.t("equipment-tile-elevators"),
            value: qcity_platform::web::render::format_thousands(elevators as i64),
            note: String::new(),
            href: Some("/app/equipment/registry?category=3000".into()),
        });
        tiles.push(Tile {
            title: t.t("equipment-tile-overdue"),
            value: qcity_platform::web::render::format_thousands(overdue as i64),
            note: String::new(),
            href: Some("/app/equipment/inspections?due=overdue".into()),
        });
        tiles.push(Tile {
            title: t.t("equipment-tile-open-incidents"),
            value: open.to_string(),
            note: String::new(),
            href: Some("/app/equipment/board".into()),
        });
        tiles
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
        spawn_scanner(st.db.clone());
        if !st.config.mqtt.url.is_empty() {
            tokio::spawn(mqtt::run_with(
                st.db.clone(),
                mqtt::options(
                    &st.config.mqtt.url,
                    &st.config.mqtt.client_id,
                    Some(st.metrics.clone()),
                ),
            ));
        }
        Ok(())
    }
    async fn seed_demo(&self, ctx: &DemoContext) -> Result<(), HookError> {
        demo::seed(ctx).await.map_err(|e| Box::new(e) as HookError)
    }
}

async fn city_regions(
    db: &DatabaseConnection,
    city_id: i64,
) -> Result<(String, Vec<(String, String, String)>), qcity_platform::store::StoreError> {
    let rows = sql::all(
        db,
        "SELECT code, level, name_zh, name_en FROM regions WHERE city_id = ? AND level IN ('city','district') ORDER BY code",
        vec![city_id.into()],
    )
    .await?;
    let mut city = String::new();
    let mut districts = Vec::new();
    for r in rows {
        let code: String = r.try_get("", "code")?;
        let level: String = r.try_get("", "level")?;
        if level == "city" {
            city = code;
        } else {
            districts.push((code, r.try_get("", "name_zh")?, r.try_get("", "name_en")?));
        }
    }
    Ok((city, districts))
}

/// CQ-ELEV-TRAP, CQ-ELEV-ARRIVE30 and CQ-SE-INSPECT for the city and each district.
pub async fn feed(
    db: &DatabaseConnection,
    city_id: i64,
    year: i32,
) -> Result<Vec<FedValue>, qcity_platform::store::StoreError> {
    let (city, districts) = city_regions(db, city_id).await?;
    if city.is_empty() {
        return Ok(Vec::new());
    }
    let s = Scope::city(CityId(city_id));
    let mut out = Vec::new();
    let mut codes = vec![city.clone()];
    codes.extend(districts.into_iter().map(|d| d.0));
    for code in codes {
        let k = incidents::kpis_year(db, &s, &code, year).await?;
        if k.trappings > 0 || k.elevators > 0 {
            if let Some(v) = k.trapping_rate_per_10k {
                out.push(FedValue {
                    indicator: "CQ-ELEV-TRAP".into(),
                    region_code: code.clone(),
                    year,
                    value: v,
                    source: format!("96333 incidents {year}"),
                });
            }
            if let Some(v) = k.arrive_30min_rate {
                out.push(FedValue {
                    indicator: "CQ-ELEV-ARRIVE30".into(),
                    region_code: code.clone(),
                    year,
                    value: v,
                    source: format!("96333 incidents {year}"),
                });
            }
        }
        if let Some(v) = incidents::inspected_on_time(
            db,
            city_id,
            &qcity_platform::auth::scope::scope_prefix(&code),
            year,
        )
        .await?
        {
            out.push(FedValue {
                indicator: "CQ-SE-INSPECT".into(),
                region_code: code.clone(),
                year,
                value: v,
                source: "special-equipment registry".into(),
            });
        }
    }
    Ok(out)
}

/// The elevator-safety section of the annual report.
pub async fn report(
    db: &DatabaseConnection,
    city_id: i64,
    year: i32,
) -> Result<Vec<ReportSection>, qcity_platform::store::StoreError> {
    let (city, districts) = city_regions(db, city_id).await?;
    if city.is_empty() {
        return Ok(Vec::new());
    }
    let s = Scope::city(CityId(city_id));
    let k = incidents::kpis_year(db, &s, &city, year).await?;
    let prev = incidents::kpis_year(db, &s, &city, year - 1).await?;
    if k.elevators == 0 && k.trappings == 0 {
        return Ok(Vec::new());
    }
    let fig = |key: &str,
               zh: &str,
               en: &str,
               v: Option<f64>,
               p: Option<f64>,
               uzh: &str,
               uen: &str,
               hib: bool| ReportFigure {
        key: key.into(),
        label_zh: zh.into(),
        label_en: en.into(),
        value: v,
        previous: p,
        unit_zh: uzh.into(),
        unit_en: uen.into(),
        decimals: 1,
        higher_is_better: hib,
        ci: None,
    };
    let mut rows = Vec::new();
    let mut map_data = Vec::new();
    for (code, zh, en) in &districts {
        let d = incidents::kpis_year(db, &s, code, year).await?;
        let f = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into());
        rows.push(vec![
            format!("{zh} / {en}"),
            d.elevators.to_string(),
            d.trappings.to_string(),
            f(d.trapping_rate_per_10k),
            f(d.arrive_30min_rate),
            f(d.mean_arrival_min),
        ]);
        map_data.push(serde_json::json!({"name": code, "value": d.trapping_rate_per_10k}));
    }
    let hours: Vec<i64> = k.hour_mix.clone();
    Ok(vec![ReportSection {
        key: "equipment.elevators".into(),
        order: 40,
        title_zh: "电梯安全与96333应急处置".into(),
        title_en: "Elevator safety and the 96333 emergency platform".into(),
        figures: vec![
            fig("elevators", "在用电梯", "Elevators in use", Some(k.elevators as f64), Some(prev.elevators as f64), "台", "units", true),
            fig("trap_rate", "困人率", "Trapping rate", k.trapping_rate_per_10k, prev.trapping_rate_per_10k, "起/万台·月", "per 10,000 per month", false),
            fig("arrive30", "30分钟到场率", "Arrival within 30 min", k.arrive_30min_rate, prev.arrive_30min_rate, "%", "%", true),
            fig("ack3", "3分钟响应率", "Acknowledged within 3 min", k.ack_3min_rate, prev.ack_3min_rate, "%", "%", true),
            fig("mean_arrival", "平均到场时间", "Mean arrival time", k.mean_arrival_min, prev.mean_arrival_min, "分钟", "min", false),
            fig("mean_rescue", "平均救援时间", "Mean on-site rescue time", k.mean_rescue_min, prev.mean_rescue_min, "分钟", "min", false),
        ],
        tables: vec![ReportTable {
            key: "equipment.by_district".into(),
            title_zh: "各区县电梯困人与到场情况".into(),
            title_en: "Trappings and arrival by district".into(),
            columns: vec![
                ("区县".into(), "District".into()),
                ("电梯数".into(), "Elevators".into()),
                ("困人次数".into(), "Trappings".into()),
                ("困人率(万台·月)".into(), "Rate per 10k/month".into()),
                ("30分钟到场率%".into(), "Arrival ≤30 min %".into()),
                ("平均到场(分钟)".into(), "Mean arrival (min)".into()),
            ],
            rows,
        }],
        charts: vec![
            ReportChart {
                key: "equipment.hours".into(),
                title_zh: "困人事件时段分布".into(),
                title_en: "Trappings by hour of day".into(),
                option: serde_json::json!({
                    "tooltip": {"trigger": "axis"},
                    "xAxis": {"type": "category", "data": (0..24).map(|h| format!("{h:02}")).collect::<Vec<_>>()},
                    "yAxis": {"type": "value"},
                    "series": [{"type": "bar", "data": hours}]
                }),
                needs_map: false,
            },
            ReportChart {
                key: "equipment.map".into(),
                title_zh: "各区县困人率".into(),
                title_en: "Trapping rate by district".into(),
                option: serde_json::json!({
                    "tooltip": {"trigger": "item"},
                    "visualMap": {"min": 0, "max": 100, "calculable": true},
                    "series": [{"type": "map", "map": "districts", "data": map_data}]
                }),
                needs_map: true,
            },
        ],
        method_zh: "困人率 = 困人事件数 ÷ 在用电梯数 ÷ 月数 × 10000 (不含取消、误报和非困人故障); 到场时间自派单起计; 3分钟响应率 = 派单后3分钟内确认的比例。".into(),
        method_en: "Trapping rate = trappings ÷ elevators in use ÷ months × 10,000 (cancelled, false alarms and non-trapping faults excluded); arrival time counts from dispatch; 3-minute rate = share of dispatches acknowledged within 3 minutes.".into(),
    }])
}
