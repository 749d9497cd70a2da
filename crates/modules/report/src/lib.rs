//! The annual city quality report (城市质量状况分析报告) and the public quality portal with
//! open data.
//!
//! A report for a (city, year) is assembled from every module's `report_sections` into a stored
//! snapshot with a narrative generated from its figures in zh-CN and en; it goes draft → review
//! → published, and a published version is immutable (a correction is a new version with a
//! change note). The public portal under `/p/{city}` shows only published data.

pub mod cache;
pub mod charts;
pub mod entity;
pub mod migration;
pub mod narrative;
pub mod opendata;
pub mod pdf;
pub mod portal;
pub mod store;
pub mod view;
pub mod web;
pub mod workflow;

use axum::Router;
use axum::routing::{get, post};
use qcity_platform::audit::Actor;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::i18n::Tr;
use qcity_platform::module::HookError;
use qcity_platform::sea_orm_migration::MigrationTrait;
use qcity_platform::web::{AppState, NavItem, Pillar};
use qcity_platform::{DemoContext, Module, Tile};
use std::sync::Mutex;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The report module.
pub struct ReportModule;

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    store::VersionSummary,
    store::Status,
    store::Action,
    web::VersionDetail,
    web::CreateBody,
    web::NarrativeBody,
    web::WorkflowBody
)))]
struct ApiDoc;

/// Cities whose demo reports are still to be assembled (set by `seed_demo`, done by
/// `start_background`, which has every module at hand).
static DEMO_PENDING: Mutex<Vec<i64>> = Mutex::new(Vec::new());

#[async_trait::async_trait]
impl Module for ReportModule {
    fn name(&self) -> &'static str {
        "report"
    }

    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(migration::M0400ReportCore)]
    }

    fn routes(&self) -> Router<AppState> {
        Router::new()
            // staff
            .route("/app/reports", get(web::list_page).post(web::create_submit))
            .route("/app/reports/{id}", get(web::view_page))
            .route("/app/reports/{id}/regenerate", post(web::regenerate_submit))
            .route("/app/reports/{id}/narrative", post(web::narrative_submit))
            .route("/app/reports/{id}/workflow", post(web::workflow_submit))
            .route("/app/reports/{id}/pdf", get(web::staff_pdf))
            // public
            .route("/", get(portal::root))
            .route("/p/{city}", get(portal::home))
            .route(
                "/p/{city}/districts.geojson",
                get(portal::districts_geojson),
            )
            .route("/p/{city}/reports/{file}", get(portal::report))
            .route("/p/{city}/data", get(portal::data_page))
            .route("/p/{city}/data/{file}", get(portal::data_file))
    }

    fn api(&self) -> OpenApiRouter<AppState> {
        use utoipa::OpenApi;
        OpenApiRouter::with_openapi(ApiDoc::openapi())
            .routes(routes!(web::api_list, web::api_create))
            .routes(routes!(web::api_get))
            .routes(routes!(web::api_narrative))
            .routes(routes!(web::api_regenerate))
            .routes(routes!(web::api_workflow))
            .routes(routes!(portal::api_indicators))
    }

    fn nav(&self) -> Vec<NavItem> {
        vec![NavItem {
            pillar: Pillar::Develop,
            label_key: "report-nav",
            href: "/app/reports",
            capability: Some(Capability::EditReports),
        }]
    }

    async fn dashboard_tiles(&self, st: &AppState, p: &Principal, t: &Tr) -> Vec<Tile> {
        if !web::may_view(p) {
            return Vec::new();
        }
        match store::list(&st.db, p.city_id).await {
            Ok(rows) => {
                let latest = rows.iter().find(|r| r.status == "published");
                let open = rows.iter().filter(|r| r.status != "published").count();
                vec![Tile {
                    title: t.t("report-tile-title"),
                    value: latest
                        .map(|r| format!("{} v{}", r.year, r.version))
                        .unwrap_or_else(|| "–".into()),
                    note: format!("{open} {}", t.t("report-tile-note")),
                    href: Some("/app/reports".into()),
                }]
            }
            Err(e) => {
                tracing::warn!(error = %e, "report tile");
                Vec::new()
            }
        }
    }

    async fn start_background(&self, st: &AppState) -> Result<(), HookError> {
        let pending: Vec<i64> = DEMO_PENDING
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for city_id in pending {
            let st = st.clone();
            tokio::spawn(async move {
                if let Err(e) = seed_demo_reports(&st, city_id).await {
                    tracing::error!(error = %e, "demo reports");
                }
            });
        }
        Ok(())
    }

    async fn seed_demo(&self, ctx: &DemoContext) -> Result<(), HookError> {
        // The reports need every module's sections, which only `start_background` can reach
        // (it receives the state with the module list); it runs right after the seeding.
        if store::list(&ctx.db, ctx.city_id).await?.is_empty()
            && let Ok(mut v) = DEMO_PENDING.lock()
        {
            v.push(ctx.city_id);
        }
        Ok(())
    }
}

/// The demo city's reports: 2024 and 2025 published, and a draft correction of 2025. Waits
/// (up to two minutes) for the other modules' background generation so the sections are
/// complete, then assembles whatever the modules provide.
pub async fn seed_demo_reports(st: &AppState, city_id: i64) -> Result<(), HookError> {
    let started = std::time::Instant::now();
    loop {
        let running = st
            .jobs
            .snapshot()
            .iter()
            .any(|j| j.state == qcity_platform::jobs::JobState::Running);
        if !running || started.elapsed() > std::time::Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    if !store::list(&st.db, city_id).await?.is_empty() {
        return Ok(());
    }
    let job = st.jobs.start("report: demo annual reports", 3);
    let actor = Actor::System("demo".into());
    for (i, year) in [2024, 2025].into_iter().enumerate() {
        let v = store::create(&st.db, &st.modules, &actor, city_id, year, "").await?;
        crate::workflow::transition(st, &actor, city_id, v.row.id, store::Action::Submit, false)
            .await?;
        crate::workflow::transition(st, &actor, city_id, v.row.id, store::Action::Publish, true)
            .await?;
        job.set_done(i as u64 + 1);
    }
    store::create(
        &st.db,
        &st.modules,
        &actor,
        city_id,
        2025,
        "修订：按最新数据重新汇集各章节 / Correction: sections re-assembled from the latest data",
    )
    .await?;
    job.set_done(3);
    job.finish();
    Ok(())
}
