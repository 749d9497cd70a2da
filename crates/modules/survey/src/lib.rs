//! Citizen quality-satisfaction survey (市民质量满意度测评): questionnaires, waves, collection,
//! weighting and analysis on the `qcity-surveystat` engine.

use axum::Router;
use qcity_platform::Module;
use qcity_platform::web::AppState;

/// The survey module.
pub struct SurveyModule;

#[async_trait::async_trait]
impl Module for SurveyModule {
    fn name(&self) -> &'static str {
        "survey"
    }
    fn routes(&self) -> Router<AppState> {
        Router::new()
    }
}
