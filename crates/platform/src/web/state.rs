//! Shared application state.

use crate::auth::session::SessionPolicy;
use crate::auth::throttle::LoginThrottle;
use crate::auth::token_cache::TokenCache;
use crate::cache::TtlCache;
use crate::config::Config;
use crate::entity::region;
use crate::jobs::Jobs;
use crate::module::{Module, Tile};
use crate::web::extensions::Extensions;
use crate::web::live::Shutdown;
use crate::web::metrics::Metrics;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub modules: Arc<Vec<Arc<dyn Module>>>,
    pub throttle: Arc<LoginThrottle>,
    pub metrics: Arc<Metrics>,
    pub jobs: Jobs,
    /// Home-dashboard tiles of the modules, per city, role, region scope and company.
    pub dashboard_tiles: Arc<TtlCache<String, Vec<Tile>>>,
    /// Each city's region tree (read on most pages), reused for `server.dashboard_cache_seconds`
    /// and cleared when an admin edits a region.
    pub regions: Arc<TtlCache<i64, Arc<Vec<region::Model>>>>,
    /// Modules' own per-server state (writer tasks, caches), one value per type.
    pub extensions: Arc<Extensions>,
    /// The principals behind recently used API tokens (`security.token_cache_seconds`).
    pub tokens: Arc<TokenCache>,
    /// Triggered when the server stops: long-lived streams and background loops end on it.
    pub shutdown: Shutdown,
}

impl AppState {
    /// The regions `scope` may see, in code order, from the city's cached region tree.
    pub async fn visible_regions(
        &self,
        scope: &crate::auth::RegionScope,
    ) -> Result<Vec<region::Model>, crate::store::StoreError> {
        let db = self.db.clone();
        let city_id = scope.city_id;
        let all = self
            .regions
            .try_get_or_compute(city_id, move || async move {
                let city = crate::auth::RegionScope {
                    city_id,
                    root: String::new(),
                    prefix: String::new(),
                };
                crate::store::regions::list_visible(&db, &city)
                    .await
                    .map(Arc::new)
            })
            .await?;
        Ok(all
            .iter()
            .filter(|r| r.code.starts_with(&scope.prefix))
            .cloned()
            .collect())
    }

    pub fn new(db: DatabaseConnection, config: Config, modules: Vec<Arc<dyn Module>>) -> Self {
        let throttle = LoginThrottle::new(
            config.security.login_max_failures,
            config.security.login_max_failures_per_ip,
            std::time::Duration::from_secs(config.security.login_window_minutes as u64 * 60),
        );
        let tiles_ttl = std::time::Duration::from_secs(config.server.dashboard_cache_seconds);
        Self {
            db,
            dashboard_tiles: Arc::new(TtlCache::new(tiles_ttl, 10_000)),
            regions: Arc::new(TtlCache::new(tiles_ttl, 1_000)),
            extensions: Arc::new(Extensions::default()),
            tokens: Arc::new(TokenCache::new(
                std::time::Duration::from_secs(config.security.token_cache_seconds),
                10_000,
            )),
            config: Arc::new(config),
            modules: Arc::new(modules),
            throttle: Arc::new(throttle),
            metrics: Arc::new(Metrics::default()),
            jobs: Jobs::default(),
            shutdown: Shutdown::default(),
        }
    }

    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy {
            idle: chrono::Duration::minutes(self.config.security.session_idle_minutes),
            absolute: chrono::Duration::hours(self.config.security.session_absolute_hours),
        }
    }
}
