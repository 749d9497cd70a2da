//! The modules wired into this binary, in the order their migrations and demo data run.

use qcity_platform::Module;
use qcity_platform::migration::{MigrationTrait, platform_migrations};
use std::sync::Arc;

/// Every module of this build.
pub fn all() -> Vec<Arc<dyn Module>> {
    vec![
        Arc::new(qcity_evaluation::EvaluationModule),
        Arc::new(qcity_survey::SurveyModule),
        Arc::new(qcity_equipment::EquipmentModule),
        Arc::new(qcity_metering::MeteringModule),
        // The report reads every other module's sections, so it comes last.
        Arc::new(qcity_report::ReportModule),
    ]
}

/// The platform's migrations followed by every module's.
pub fn migrations(mods: &[Arc<dyn Module>]) -> Vec<Box<dyn MigrationTrait>> {
    let mut v = platform_migrations();
    for m in mods {
        v.extend(m.migrations());
    }
    v
}

#[cfg(test)]
mod tests {
    /// No two modules define a component schema of the same name differently (the merged
    /// document would keep one and describe the other's responses wrongly).
    #[test]
    fn openapi_schema_names_are_unique_across_modules() {
        let (_, clashes) = qcity_platform::web::api::merge_documents(
            super::all().iter().map(|m| m.api().into_openapi()),
        );
        assert_eq!(clashes, Vec::<String>::new());
    }

    /// The whole product's OpenAPI document: other programs are written against it, so every
    /// change to a path, a field or a status code shows in review as a snapshot diff.
    #[test]
    fn openapi_document() {
        let (doc, _) = qcity_platform::web::api::merge_documents(
            super::all().iter().map(|m| m.api().into_openapi()),
        );
        insta::assert_json_snapshot!(qcity_platform::web::openapi::complete(&doc));
    }
}
