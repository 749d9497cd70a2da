//! Special-equipment safety (特种设备安全): registry, inspections, maintenance, elevator risk,
//! and the 96333 elevator emergency platform.

use axum::Router;
use qcity_platform::Module;
use qcity_platform::web::AppState;

/// The equipment module.
pub struct EquipmentModule;

#[async_trait::async_trait]
impl Module for EquipmentModule {
    fn name(&self) -> &'static str {
        "equipment"
    }
    fn routes(&self) -> Router<AppState> {
        Router::new()
    }
}
