//! City quality evaluation (城市质量评价): indicator frameworks with passports, governed data,
//! and composite-index runs on the `qcity-index` engine.

pub mod api;
pub mod catalog;
pub mod demo;
pub mod entity;
pub mod hooks;
pub mod import;
pub mod migration;
pub mod nodes;
pub mod pages;
pub mod rules;
pub mod runs;
pub mod store;

use axum::Router;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::feeds::{OpenDataset, ReportSection};
use qcity_platform::i18n::Tr;
use qcity_platform::module::HookError;
use qcity_platform::web::{AppState, NavItem, Pillar};
use qcity_platform::{DemoContext, Module, Tile};
use sea_orm::DatabaseConnection;
use utoipa_axum::router::OpenApiRouter;

/// Who may read frameworks, their rules, values and results (the evaluation pages and API).
pub(crate) const READERS: &[Capability] = &[Capability::ViewAll, Capability::EnterData];

/// The evaluation module.
pub struct EvaluationModule;

#[async_trait::async_trait]
impl Module for EvaluationModule {
    fn name(&self) -> &'static str {
        "evaluation"
    }
    fn migrations(&self) -> Vec<Box<dyn qcity_platform::migration::MigrationTrait>> {
        vec![Box::new(migration::Migration)]
    }
    fn routes(&self) -> Router<AppState> {
        pages::routes()
    }
    fn api(&self) -> OpenApiRouter<AppState> {
        api::api()
    }
    fn nav(&self) -> Vec<NavItem> {
        vec![
            NavItem {
                pillar: Pillar::Develop,
                label_key: "evaluation-nav",
                href: "/app/evaluation",
                capability: Some(Capability::ViewAll),
            },
            NavItem {
                pillar: Pillar::Develop,
                label_key: "evaluation-nav-entry",
                href: "/app/evaluation/entry",
                capability: Some(Capability::EnterData),
            },
            NavItem {
                pillar: Pillar::Develop,
                label_key: "evaluation-nav-results",
                href: "/app/evaluation/runs",
                capability: Some(Capability::ViewAll),
            },
        ]
    }
    async fn dashboard_tiles(&self, st: &AppState, p: &Principal, t: &Tr) -> Vec<Tile> {
        hooks::tiles(st, p, t).await.unwrap_or_default()
    }
    async fn report_sections(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
        year: i32,
    ) -> Result<Vec<ReportSection>, HookError> {
        hooks::report_sections(db, city_id, year)
            .await
            .map_err(|e| Box::new(e) as HookError)
    }
    async fn open_data(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
    ) -> Result<Vec<OpenDataset>, HookError> {
        hooks::open_data(db, city_id)
            .await
            .map_err(|e| Box::new(e) as HookError)
    }
    async fn seed_demo(&self, ctx: &DemoContext) -> Result<(), HookError> {
        demo::seed(ctx).await.map_err(|e| Box::new(e) as HookError)
    }
}
