//! The survey demo's responses survive an interrupted start: stopped part-way, the next start
//! finishes them (the job showing meanwhile) and the responses equal those of a run that was
//! never interrupted; a database seeded before progress was recorded resumes from its data.

use qcity_platform::DemoContext;
use qcity_platform::auth::RegionScope;
use qcity_platform::demo_progress;
use qcity_platform::jobs::{JobState, Jobs};
use qcity_platform::testing::{Backend, TestDb, seed_small_city};
use qcity_survey::SurveyModule;
use qcity_survey::demo;
use sea_orm::{ConnectionTrait, Statement};
use std::sync::Arc;

async fn city() -> (TestDb, DemoContext) {
    let t = TestDb::migrated(Backend::Sqlite, &[Arc::new(SurveyModule)]).await;
    let city = seed_small_city(&t.db, &[]).await;
    let regions =
        qcity_platform::store::regions::list_visible(&t.db, &RegionScope::new(city, "990100"))
            .await
            .expect("regions");
    let ctx = DemoContext {
        db: t.db.clone(),
        city_id: city,
        city_code: "990100".into(),
        seed: 5,
        districts: regions
            .iter()
            .filter(|r| r.level == "district")
            .cloned()
            .collect(),
        streets: Vec::new(),
        jobs: Jobs::default(),
    };
    (t, ctx)
}

/// Response count and a digest of the responses (everything but ids and clock times).
async fn fingerprint(db: &sea_orm::DatabaseConnection) -> (u64, String) {
    let q = "SELECT w.year || '/' || w.status || '/' || r.status || '/' || r.source || '/' || r.mode || '/' || \
             COALESCE(r.region_code, '') || '/' || COALESCE(r.age_group, '') || '/' || COALESCE(r.sex, '') || '/' || \
             COALESCE(r.education, '') || '/' || COALESCE(r.residence, '') || '/' || COALESCE(r.respondent_key, '') || '/' || \
             COALESCE(r.external_id, '') || '/' || r.answers || '/' || r.flags || '/' || r.decision AS k \
             FROM survey_responses r JOIN survey_waves w ON w.city_id = r.city_id AND w.id = r.wave_id \
             ORDER BY w.year, COALESCE(r.external_id, r.respondent_key)";
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), q))
        .await
        .expect("query");
    let mut text = String::new();
    for r in &rows {
        text.push_str(&r.try_get::<String>("", "k").expect("key"));
        text.push('\n');
    }
    (rows.len() as u64, qcity_platform::ids::sha256_hex(&text))
}

async fn wait_finished(jobs: &Jobs) {
    let mut state = JobState::Running;
    for _ in 0..1200 {
        state = jobs
            .snapshot()
            .iter()
            .find(|j| j.name == "survey demo responses")
            .map(|j| j.state)
            .expect("job shown");
        if state != JobState::Running {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, JobState::Finished);
}

#[tokio::test]
async fn an_interrupted_survey_demo_resumes_to_the_same_responses() {
    let (a, ctx_a) = city().await;
    demo::seed_with(&ctx_a, false).await.expect("seed");
    let full = fingerprint(&a.db).await;
    // The fieldwork waves whole, and the open wave's answers that its quotas let in.
    assert!(
        full.0 > 1900 + 2100 && full.0 <= 1900 + 2100 + 60,
        "{}",
        full.0
    );

    // Stopped after 3 chunks of 500 (each chunk and its progress commit together).
    let (b, ctx_b) = city().await;
    demo_progress::interrupt_after(ctx_b.city_id, demo::GENERATOR, 3);
    demo::seed_with(&ctx_b, false).await.expect("seed");
    assert_eq!(fingerprint(&b.db).await.0, 1500);

    let ctx_c = DemoContext {
        jobs: Jobs::default(),
        ..ctx_b.clone()
    };
    demo::seed_with(&ctx_c, true).await.expect("resume");
    let shown = ctx_c.jobs.snapshot();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].done, 3, "the job resumes where the run stopped");
    wait_finished(&ctx_c.jobs).await;
    assert_eq!(fingerprint(&b.db).await, full);
}

#[tokio::test]
async fn a_demo_seeded_before_progress_was_recorded_resumes_from_its_data() {
    let (a, ctx_a) = city().await;
    demo::seed_with(&ctx_a, false).await.expect("seed");
    let full = fingerprint(&a.db).await;

    // As a binary without progress records left it: 1,000 responses, no progress row.
    let (b, ctx_b) = city().await;
    demo_progress::interrupt_after(ctx_b.city_id, demo::GENERATOR, 2);
    demo::seed_with(&ctx_b, false).await.expect("seed");
    b.db.execute_unprepared("DELETE FROM demo_progress")
        .await
        .expect("forget progress");
    let ctx_c = DemoContext {
        jobs: Jobs::default(),
        ..ctx_b.clone()
    };
    demo::seed_with(&ctx_c, false).await.expect("resume");
    assert_eq!(ctx_c.jobs.snapshot()[0].state, JobState::Finished);
    assert_eq!(
        fingerprint(&b.db).await,
        full,
        "no response twice, none missing"
    );
}
