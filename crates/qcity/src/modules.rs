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

    /// The navigation each role finds on every page (zh-CN): which pages a role reaches is what
    /// its people are trained on, so a change to who sees what shows in review as a diff.
    #[tokio::test]
    async fn navigation_of_each_role() {
        use qcity_platform::auth::{AuthVia, Principal, RegionScope, Role};
        use qcity_platform::i18n::Lang;
        use qcity_platform::web::layout::PageCtx;
        let db = qcity_platform::testing::TestDb::sqlite().await;
        let (st, _) = qcity_platform::testing::app(&db, super::all());
        let mut by_role = serde_json::Map::new();
        for role in Role::ALL {
            let p = Principal {
                city_id: 1,
                city_code: "990100".into(),
                user_id: 1,
                username: "u".into(),
                display_name: "u".into(),
                role,
                scope: RegionScope::new(1, "990100"),
                company_id: Some(1),
                enterprise_id: Some(1),
                via: AuthVia::Token { token_id: 1 },
            };
            let ctx = PageCtx::new(
                &st,
                &p,
                Lang::ZhCn,
                "",
                "/app",
                String::new(),
                String::new(),
            );
            let link = |l: &qcity_platform::web::layout::NavLink| format!("{} {}", l.label, l.href);
            let groups: Vec<serde_json::Value> = ctx
                .nav
                .iter()
                .filter(|g| !g.items.is_empty())
                .map(|g| serde_json::json!({ g.label.clone(): g.items.iter().map(link).collect::<Vec<_>>() }))
                .collect();
            let admin: Vec<String> = ctx.admin_nav.iter().map(link).collect();
            by_role.insert(
                role.as_str().into(),
                serde_json::json!({"pillars": groups, "admin": admin}),
            );
        }
        insta::assert_json_snapshot!(by_role);
    }
}
