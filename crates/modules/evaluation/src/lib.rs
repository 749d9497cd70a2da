//! City quality evaluation (城市质量评价): indicator frameworks with passports, governed data,
//! and composite-index runs on the `qcity-index` engine.

use axum::Router;
use qcity_platform::Module;
use qcity_platform::web::AppState;

/// The evaluation module.
pub struct EvaluationModule;

#[async_trait::async_trait]
impl Module for EvaluationModule {
    fn name(&self) -> &'static str {
        "evaluation"
    }
    fn routes(&self) -> Router<AppState> {
        Router::new()
    }
}
