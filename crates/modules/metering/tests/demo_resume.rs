//! The demo's meter readings survive an interrupted start: stopped part-way, the next start
//! finishes them (the job showing on the dashboard meanwhile) and the data equal, row for row,
//! those of a run that was never interrupted.

use qcity_metering::MeteringModule;
use qcity_metering::demo::{self, DemoSize};
use qcity_platform::DemoContext;
use qcity_platform::demo_progress;
use qcity_platform::jobs::{JobState, Jobs};
use qcity_platform::testing::{Backend, TestDb};
use sea_orm::{ConnectionTrait, Statement};
use std::sync::Arc;

const SIZE: DemoSize = DemoSize {
    other_units: 3,
    days: 62,
};

async fn city() -> (TestDb, DemoContext) {
    let t = TestDb::migrated(Backend::Sqlite, &[Arc::new(MeteringModule)]).await;
    let c = qcity_platform::demo::seed_demo_city(&t.db, 11)
        .await
        .expect("demo city");
    let ctx = DemoContext {
        db: t.db.clone(),
        city_id: c.city_id,
        city_code: qcity_platform::demo::DEMO_CITY_CODE.into(),
        seed: 11,
        districts: c.districts,
        streets: c.streets,
        jobs: Jobs::default(),
    };
    (t, ctx)
}

/// Row count and a digest of everything the generator writes, keyed by what does not depend
/// on generated ids (unit USCC and meter code).
async fn fingerprint(db: &sea_orm::DatabaseConnection) -> (u64, String) {
    let queries = [
        "SELECT u.uscc || '/' || m.code || '/' || r.ts || '/' || COALESCE(r.raw_value, 'n') || '/' || COALESCE(r.value, 'n') || '/' || r.quality || '/' || COALESCE(r.rule_id, '') AS k \
         FROM mt_readings r JOIN mt_meters m ON m.city_id = r.city_id AND m.id = r.meter_id \
         JOIN mt_units u ON u.city_id = m.city_id AND u.id = m.unit_id ORDER BY u.uscc, m.code, r.ts",
        "SELECT u.uscc || '/' || m.code || '/' || x.grain || '/' || x.bucket || '/' || x.value || '/' || x.n AS k \
         FROM mt_rollups x JOIN mt_meters m ON m.city_id = x.city_id AND m.id = x.meter_id \
         JOIN mt_units u ON u.city_id = m.city_id AND u.id = m.unit_id ORDER BY u.uscc, m.code, x.grain, x.bucket",
        "SELECT u.uscc || '/' || p.day || '/' || p.output AS k FROM mt_production p \
         JOIN mt_units u ON u.city_id = p.city_id AND u.id = p.unit_id ORDER BY u.uscc, p.day",
        "SELECT w.grain || '/' || w.ts || '/' || w.temperature_c AS k FROM mt_weather w ORDER BY w.grain, w.ts",
        "SELECT m.code || '/' || a.kind || '/' || a.start_ts || '/' || a.end_ts AS k FROM mt_alerts a \
         JOIN mt_meters m ON m.city_id = a.city_id AND m.id = a.meter_id ORDER BY m.code, a.kind, a.start_ts",
    ];
    let mut rows = 0u64;
    let mut text = String::new();
    for q in queries {
        for r in db
            .query_all_raw(Statement::from_string(db.get_database_backend(), q))
            .await
            .expect("query")
        {
            let k: String = r.try_get("", "k").expect("key");
            text.push_str(&k);
            text.push('\n');
            rows += 1;
        }
        text.push_str("--\n");
    }
    (rows, qcity_platform::ids::sha256_hex(&text))
}

async fn readings(db: &sea_orm::DatabaseConnection) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM mt_readings",
    ))
    .await
    .expect("count")
    .expect("row")
    .try_get("", "n")
    .expect("n")
}

const LABEL: &str = "metering: two years of meter readings / 两年计量数据";

#[tokio::test]
async fn an_interrupted_demo_resumes_to_the_same_data() {
    // A run never interrupted.
    let (a, ctx_a) = city().await;
    demo::seed_with(&ctx_a, SIZE, false).await.expect("seed");
    let job = ctx_a.jobs.snapshot();
    assert_eq!(job[0].state, JobState::Finished, "{job:?}");
    let full = fingerprint(&a.db).await;
    assert!(full.0 > 40_000, "{}", full.0);

    // A run stopped after 7 steps (as a kill would stop it: the steps committed stay).
    let (b, ctx_b) = city().await;
    demo_progress::interrupt_after(ctx_b.city_id, demo::GENERATOR, 7);
    demo::seed_with(&ctx_b, SIZE, false).await.expect("seed");
    assert_eq!(ctx_b.jobs.snapshot()[0].state, JobState::Failed);
    let part = readings(&b.db).await;
    assert!(part > 0 && (part as u64) < full.0 / 2, "{part}");
    let p = demo_progress::load(&b.db, ctx_b.city_id, demo::GENERATOR)
        .await
        .expect("load")
        .expect("recorded");
    assert_eq!(p.done, 7);
    assert!(!p.finished);

    // The next start (a new process: a new jobs registry) finishes it in the background, and
    // the dashboard shows the job resuming where it stopped.
    let ctx_c = DemoContext {
        jobs: Jobs::default(),
        ..ctx_b.clone()
    };
    demo::seed_with(&ctx_c, SIZE, true).await.expect("resume");
    let shown = ctx_c.jobs.snapshot();
    let j = shown.iter().find(|j| j.name == LABEL).expect("job shown");
    assert!(j.done >= 7 && j.total == p.total, "{j:?}");
    let mut state = j.state;
    for _ in 0..1200 {
        state = ctx_c
            .jobs
            .snapshot()
            .iter()
            .find(|j| j.name == LABEL)
            .map(|j| j.state)
            .expect("job");
        if state != JobState::Running {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, JobState::Finished);
    assert_eq!(
        fingerprint(&b.db).await,
        full,
        "resumed data equal uninterrupted data"
    );

    // Finished: a further start changes nothing and starts no job.
    let ctx_d = DemoContext {
        jobs: Jobs::default(),
        ..ctx_b.clone()
    };
    demo::seed_with(&ctx_d, SIZE, true).await.expect("again");
    assert!(ctx_d.jobs.snapshot().is_empty());
    assert_eq!(fingerprint(&b.db).await, full);
}
