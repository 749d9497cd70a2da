//! The extension point every module plugs into: tables (migrations), routes, API description,
//! navigation, dashboard tiles and demo data.

use crate::auth::Principal;
use crate::enterprise::EnterpriseSection;
use crate::entity::region;
use crate::feeds::{FedValue, OpenDataset, PublicLink, ReportSection};
use crate::i18n::Tr;
use crate::jobs::Jobs;
use crate::web::{AppState, NavItem};
use axum::Router;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigrationTrait;
use utoipa_axum::router::OpenApiRouter;

/// Error type of module hooks that run outside a request (demo seeding).
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// What a module hands the demo seeder.
#[derive(Clone)]
pub struct DemoContext {
    pub db: DatabaseConnection,
    pub city_id: i64,
    pub city_code: String,
    /// Seed of the deterministic generators.
    pub seed: u64,
    /// District-level regions of the demo city.
    pub districts: Vec<region::Model>,
    /// Street-level regions of the demo city.
    pub streets: Vec<region::Model>,
    /// Where long-running generation reports progress (it must not block start-up).
    pub jobs: Jobs,
}

/// A headline figure on the city home dashboard.
#[derive(Debug, Clone)]
pub struct Tile {
    pub title: String,
    pub value: String,
    pub note: String,
    pub href: Option<String>,
}

/// A vertical slice of qcity.
#[async_trait::async_trait]
pub trait Module: Send + Sync + 'static {
    /// Short name, e.g. `equipment`.
    fn name(&self) -> &'static str;
    /// Schema migrations of the module's own tables, in order.
    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
    /// The module's pages (and any route the OpenAPI document does not describe).
    fn routes(&self) -> Router<AppState>;
    /// The module's `/api/v1` routes with their OpenAPI paths and schemas, declared once
    /// (`utoipa_axum::routes!` over `#[utoipa::path]` handlers).
    fn api(&self) -> OpenApiRouter<AppState> {
        OpenApiRouter::new()
    }
    /// Navigation entries under the four pillars.
    fn nav(&self) -> Vec<NavItem> {
        Vec::new()
    }
    /// Headline figures for the home dashboard, scoped to the principal, in the reader's language.
    async fn dashboard_tiles(&self, _state: &AppState, _p: &Principal, _t: &Tr) -> Vec<Tile> {
        Vec::new()
    }
    /// Sections of the annual report for a city and year, from the module's own data.
    async fn report_sections(
        &self,
        _db: &DatabaseConnection,
        _city_id: i64,
        _year: i32,
    ) -> Result<Vec<ReportSection>, HookError> {
        Ok(Vec::new())
    }
    /// Indicator values the module feeds into the evaluation framework for a city and year.
    async fn indicator_feed(
        &self,
        _db: &DatabaseConnection,
        _city_id: i64,
        _year: i32,
    ) -> Result<Vec<FedValue>, HookError> {
        Ok(Vec::new())
    }
    /// Published datasets for the open-data portal (never unpublished values).
    async fn open_data(
        &self,
        _db: &DatabaseConnection,
        _city_id: i64,
    ) -> Result<Vec<OpenDataset>, HookError> {
        Ok(Vec::new())
    }
    /// Links for the public portal (e.g. an open survey wave).
    async fn public_links(
        &self,
        _db: &DatabaseConnection,
        _city_id: i64,
    ) -> Result<Vec<PublicLink>, HookError> {
        Ok(Vec::new())
    }
    /// What the module knows of an enterprise of the register (equipment it uses or maintains,
    /// its meters, …), limited to the reader's region subtree `region_prefix`, in the reader's
    /// language; shown as sections of the enterprise's page.
    async fn enterprise_sections(
        &self,
        _db: &DatabaseConnection,
        _city_id: i64,
        _region_prefix: &str,
        _enterprise_id: i64,
        _t: &Tr,
    ) -> Result<Vec<EnterpriseSection>, HookError> {
        Ok(Vec::new())
    }
    /// Starts the module's long-running tasks (MQTT consumers, timers) once the server runs.
    async fn start_background(&self, _state: &AppState) -> Result<(), HookError> {
        Ok(())
    }
    /// Adds the module's demo data (idempotent: does nothing if already present). Bulky data
    /// is generated in a background task that reports through `ctx.jobs`.
    async fn seed_demo(&self, _ctx: &DemoContext) -> Result<(), HookError> {
        Ok(())
    }
}
