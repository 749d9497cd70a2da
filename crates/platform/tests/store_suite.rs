//! One behavioural store suite, run against SQLite always and against PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set (a fresh database per test).

use chrono::{Duration, Utc};
use qcity_platform::auth::session::{self, SessionPolicy};
use qcity_platform::auth::{RegionScope, Role, token};
use qcity_platform::migration::{self, MigrateError};
use qcity_platform::store::{self, StoreError, regions::NewRegion};
use qcity_platform::testing::{Backend, TestDb, all_migrations, seed_small_city};
use qcity_platform::{audit, audit::Actor};
use sea_orm::{ConnectionTrait, Statement};

use qcity_platform::on_both_backends;

on_both_backends!(
    migrations_apply_once_and_rerun_as_noop,
    newer_schema_is_refused,
    regions_form_a_scoped_tree,
    users_are_unique_per_city,
    sessions_expire_idle_and_absolute,
    tokens_are_hashed_and_revocable,
    audit_log_is_append_only,
    tenant_keys_lead_with_city_id,
    concurrent_read_then_write_transactions_all_commit,
);

/// Writers that read before they write, many at once (the shape of every intake: look up, then
/// insert): with `begin_write` all commit. A deferred SQLite `BEGIN` failed some of them at once
/// with "database is locked" when another writer committed between their read and their write.
async fn concurrent_read_then_write_transactions_all_commit(b: Backend) {
    use qcity_platform::db::BeginWrite;
    let t = TestDb::new(b).await;
    let db = t.db.clone();
    db.execute_unprepared("CREATE TABLE counter_rows (n BIGINT NOT NULL)")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                let txn = db.begin_write().await?;
                let n = txn
                    .query_one_raw(Statement::from_string(
                        txn.get_database_backend(),
                        "SELECT COUNT(*) AS n FROM counter_rows",
                    ))
                    .await?
                    .map(|r| r.try_get::<i64>("", "n"))
                    .transpose()?
                    .unwrap_or(0);
                tokio::task::yield_now().await;
                txn.execute_unprepared(&format!("INSERT INTO counter_rows (n) VALUES ({n})"))
                    .await?;
                txn.commit().await?;
            }
            Ok::<_, sea_orm::DbErr>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("every writer commits");
    }
    let r = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n, COUNT(DISTINCT n) AS d FROM counter_rows",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.try_get::<i64>("", "n").unwrap(), 160);
    if b == Backend::Sqlite {
        // Serialised by the write lock: each writer saw all the commits before it.
        assert_eq!(r.try_get::<i64>("", "d").unwrap(), 160);
    }
}

async fn migrations_apply_once_and_rerun_as_noop(b: Backend) {
    let t = TestDb::new(b).await;
    let migs = all_migrations(&[]);
    let first = migration::migrate(&t.db, &migs).await.expect("first run");
    assert_eq!(first.len(), migs.len());
    let second = migration::migrate(&t.db, &migs).await.expect("second run");
    assert!(second.is_empty(), "re-run applied {second:?}");
    migration::check_schema(&t.db, &migs)
        .await
        .expect("schema is current");
}

async fn newer_schema_is_refused(b: Backend) {
    let t = TestDb::migrated(b, &[]).await;
    t.db.execute_unprepared("INSERT INTO qcity_migrations (name) VALUES ('m9999_from_the_future')")
        .await
        .unwrap();
    let migs = all_migrations(&[]);
    assert!(matches!(
        migration::check_schema(&t.db, &migs).await,
        Err(MigrateError::SchemaTooNew(_))
    ));
    assert!(matches!(
        migration::migrate(&t.db, &migs).await,
        Err(MigrateError::SchemaTooNew(_))
    ));
}

async fn regions_form_a_scoped_tree(b: Backend) {
    let t = TestDb::migrated(b, &[]).await;
    let city = seed_small_city(&t.db, &[]).await;
    // Shape and parentage are checked.
    let bad = NewRegion {
        code: "99010".into(),
        parent_code: Some("990100".into()),
        name_zh: "x".into(),
        name_en: "x".into(),
        urban: true,
        population: None,
        area_km2: None,
        boundary: None,
    };
    assert!(matches!(
        store::regions::upsert(&t.db, city, &bad).await,
        Err(StoreError::Invalid { .. })
    ));
    let stray = NewRegion {
        code: "990102001".into(),
        parent_code: Some("990101".into()),
        ..bad.clone()
    };
    assert!(matches!(
        store::regions::upsert(&t.db, city, &stray).await,
        Err(StoreError::Invalid { .. })
    ));
    let not_geo = NewRegion {
        code: "990102001".into(),
        parent_code: Some("990102".into()),
        boundary: Some("{\"type\":\"Point\",\"coordinates\":[0,0]}".into()),
        ..bad.clone()
    };
    assert!(matches!(
        store::regions::upsert(&t.db, city, &not_geo).await,
        Err(StoreError::Invalid { .. })
    ));

    let whole = store::regions::list_visible(&t.db, &RegionScope::new(city, "990100"))
        .await
        .unwrap();
    assert_eq!(whole.len(), 4);
    let district = RegionScope::new(city, "990101");
    let codes: Vec<String> = store::regions::list_visible(&t.db, &district)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(codes, vec!["990101", "990101001"]);
    assert!(matches!(
        store::regions::get_visible(&t.db, &district, "990102").await,
        Err(StoreError::NotFound(_))
    ));
    // Another city never sees this one's regions.
    let other = RegionScope::new(city + 1, "990100");
    assert!(
        store::regions::list_visible(&t.db, &other)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn users_are_unique_per_city(b: Backend) {
    let t = TestDb::migrated(b, &[]).await;
    let city = seed_small_city(&t.db, &[("alice", Role::Analyst, "990101")]).await;
    let again = store::users::create(
        &t.db,
        city,
        store::users::NewUser {
            username: store::users::Username::parse("alice").unwrap(),
            display_name: String::new(),
            password_hash: "x".into(),
            role: Role::Viewer,
            region_code: "990100".into(),
            company_id: None,
            enterprise_id: None,
        },
    )
    .await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })));
    let nowhere = store::users::create(
        &t.db,
        city,
        store::users::NewUser {
            username: store::users::Username::parse("bob").unwrap(),
            display_name: String::new(),
            password_hash: "x".into(),
            role: Role::Viewer,
            region_code: "110101".into(),
            company_id: None,
            enterprise_id: None,
        },
    )
    .await;
    assert!(matches!(nowhere, Err(StoreError::Invalid { .. })));
    let in_district = store::users::list_visible(&t.db, &RegionScope::new(city, "990102"))
        .await
        .unwrap();
    assert!(in_district.is_empty());
    assert_eq!(
        store::users::list_visible(&t.db, &RegionScope::new(city, "990100"))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn sessions_expire_idle_and_absolute(b: Backend) {
    let t = TestDb::migrated(b, &[]).await;
    let city = seed_small_city(&t.db, &[("alice", Role::Analyst, "990101")]).await;
    let u = store::users::by_username(&t.db, city, "alice")
        .await
        .unwrap()
        .unwrap();
    let policy = SessionPolicy {
        idle: Duration::minutes(30),
        absolute: Duration::hours(12),
    };
    let (c, _) = session::create(&t.db, city, u.id, policy).await.unwrap();
    let now = Utc::now();
    assert!(
        session::load(&t.db, &c, policy, now)
            .await
            .unwrap()
            .is_some()
    );
    // Idle: 31 minutes without a request ends it (and deletes it).
    assert!(
        session::load(&t.db, &c, policy, now + Duration::minutes(31))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        session::load(&t.db, &c, policy, now)
            .await
            .unwrap()
            .is_none()
    );
    // Absolute: even an active session ends after 12 hours.
    let (c2, _) = session::create(&t.db, city, u.id, policy).await.unwrap();
    let tight = SessionPolicy {
        idle: Duration::hours(100),
        absolute: Duration::hours(12),
    };
    assert!(
        session::load(&t.db, &c2, tight, now + Duration::hours(13))
            .await
            .unwrap()
            .is_none()
    );
    // The stored id is a digest, never the cookie secret.
    let rows =
        t.db.query_all_raw(Statement::from_string(
            t.db.get_database_backend(),
            "SELECT id_hash FROM sessions",
        ))
        .await
        .unwrap();
    for r in rows {
        let h: String = r.try_get("", "id_hash").unwrap();
        assert_ne!(h, c.secret);
    }
}

async fn tokens_are_hashed_and_revocable(b: Backend) {
    let t = TestDb::migrated(b, &[]).await;
    let city = seed_small_city(&t.db, &[("robot", Role::Viewer, "990100")]).await;
    let u = store::users::by_username(&t.db, city, "robot")
        .await
        .unwrap()
        .unwrap();
    let (row, secret) = token::issue(&t.db, city, u.id, "gateway").await.unwrap();
    assert_ne!(row.token_hash, secret);
    assert!(!row.token_hash.contains(&secret));
    let bt = token::BearerToken::parse(&secret).unwrap();
    assert_eq!(token::lookup(&t.db, &bt).await.unwrap().unwrap().id, row.id);
    assert!(token::revoke(&t.db, city, row.id).await.unwrap());
    assert!(token::lookup(&t.db, &bt).await.unwrap().is_none());
    assert!(
        !token::revoke(&t.db, city, row.id).await.unwrap(),
        "revoking twice reports nothing revoked"
    );
}

async fn audit_log_is_append_only(b: Backend) {
    let t = TestDb::migrated(b, &[]).await;
    let city = seed_small_city(&t.db, &[]).await;
    audit::record(
        &t.db,
        city,
        &Actor::System("test".into()),
        "create",
        "thing",
        "1",
        None,
        Some(serde_json::json!({"a": 1})),
    )
    .await
    .unwrap();
    let (rows, total) = audit::browse(&t.db, city, &Default::default())
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(rows[0].after.as_deref(), Some("{\"a\":1}"));
    assert!(
        t.db.execute_unprepared("UPDATE audit_log SET action = 'forged'")
            .await
            .is_err()
    );
    assert!(
        t.db.execute_unprepared("DELETE FROM audit_log")
            .await
            .is_err()
    );
    assert_eq!(
        audit::browse(&t.db, city, &Default::default())
            .await
            .unwrap()
            .1,
        1
    );
}

/// Citus readiness: every tenant table has `city_id` first in its primary key and in each
/// foreign key, and no unique index without it.
async fn tenant_keys_lead_with_city_id(b: Backend) {
    let t = TestDb::migrated(b, &[]).await;
    let problems = qcity_platform::testing::citus_problems(&t.db, &[]).await;
    assert!(
        problems.is_empty(),
        "tenant tables not ready for distribution by city_id:\n{}",
        problems.join("\n")
    );
}
