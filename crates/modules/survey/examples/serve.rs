//! Serves the survey module alone over a small seeded city (for looking at the pages without
//! building the whole binary): `cargo run -p qcity-survey --example serve` → 127.0.0.1:18102.
//! Accounts: analyst / password-analyst.

use qcity_platform::auth::{RegionScope, Role};
use qcity_platform::module::{DemoContext, Module};
use qcity_platform::testing::{TestDb, app, seed_small_city};
use std::sync::Arc;

#[tokio::main]
async fn main() {
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(qcity_survey::SurveyModule)];
    let t = TestDb::migrated(qcity_platform::testing::Backend::Sqlite, &modules).await;
    let city = seed_small_city(&t.db, &[("analyst", Role::Analyst, "990100")]).await;
    let regions =
        qcity_platform::store::regions::list_visible(&t.db, &RegionScope::new(city, "990100"))
            .await
            .expect("regions");
    let (st, router) = app(&t, modules.clone());
    let ctx = DemoContext {
        db: t.db.clone(),
        city_id: city,
        city_code: "990100".into(),
        seed: 1,
        districts: regions
            .iter()
            .filter(|r| r.level == "district")
            .cloned()
            .collect(),
        streets: vec![],
        jobs: st.jobs.clone(),
    };
    modules[0].seed_demo(&ctx).await.expect("demo");
    let l = tokio::net::TcpListener::bind("127.0.0.1:18102")
        .await
        .expect("bind");
    println!("http://127.0.0.1:18102/app/survey (analyst / password-analyst)");
    axum::serve(l, router).await.expect("serve");
}
