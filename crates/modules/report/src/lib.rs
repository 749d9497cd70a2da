//! The annual city quality report (城市质量状况分析报告) and the public quality portal with
//! open data.

use axum::Router;
use qcity_platform::Module;
use qcity_platform::web::AppState;

/// The report module.
pub struct ReportModule;

#[async_trait::async_trait]
impl Module for ReportModule {
    fn name(&self) -> &'static str {
        "report"
    }
    fn routes(&self) -> Router<AppState> {
        Router::new()
    }
}
