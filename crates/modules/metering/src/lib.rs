//! Energy metering and management (能源计量): key energy-consuming units, meters, ingest, VEE,
//! monitoring, waste detection and verified savings on the `qcity-mv` engine.

use axum::Router;
use qcity_platform::Module;
use qcity_platform::web::AppState;

/// The metering module.
pub struct MeteringModule;

#[async_trait::async_trait]
impl Module for MeteringModule {
    fn name(&self) -> &'static str {
        "metering"
    }
    fn routes(&self) -> Router<AppState> {
        Router::new()
    }
}
