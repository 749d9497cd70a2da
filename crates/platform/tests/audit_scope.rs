//! A district admin reads the audit entries made by the people of their district, not the
//! whole city's: through the real router (API and page).

use qcity_platform::audit::{self, Actor};
use qcity_platform::auth::{Role, token};
use qcity_platform::testing::{Backend, TestClient, TestDb, app, seed_small_city};

async fn district_admin_sees_only_their_subtree(b: Backend) {
    let t = TestDb::migrated(b, &[]).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("admin", Role::Admin, "990100"),
            ("eastadmin", Role::Admin, "990102"),
            ("westuser", Role::Analyst, "990101"),
            ("eastuser", Role::Analyst, "990102"),
        ],
    )
    .await;
    let id_of = |name: &'static str| {
        let db = t.db.clone();
        async move {
            qcity_platform::store::users::by_username(&db, city, name)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    for (who, action) in [
        ("westuser", "west.change"),
        ("eastuser", "east.change"),
        ("admin", "city.change"),
    ] {
        let actor = Actor::Principal {
            kind: "user",
            id: id_of(who).await,
            name: who.to_string(),
        };
        audit::record(&t.db, city, &actor, action, "thing", "1", None, None)
            .await
            .unwrap();
    }
    audit::record(
        &t.db,
        city,
        &Actor::System("cli".into()),
        "system.change",
        "thing",
        "2",
        None,
        None,
    )
    .await
    .unwrap();
    let (_st, router) = app(&t, vec![]);
    let actions = |v: serde_json::Value| {
        let mut a: Vec<String> = v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .filter(|a| a.contains(".change"))
            .collect();
        a.sort();
        a
    };
    let bearer = |name: &'static str| {
        let (db, router) = (t.db.clone(), router.clone());
        async move {
            let uid = qcity_platform::store::users::by_username(&db, city, name)
                .await
                .unwrap()
                .unwrap()
                .id;
            let (_, tok) = token::issue(&db, city, uid, "test").await.unwrap();
            TestClient::with_bearer(router, &tok)
        }
    };
    let r = bearer("admin").await.get("/api/v1/audit").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        actions(r.json()),
        ["city.change", "east.change", "system.change", "west.change"]
    );
    let r = bearer("eastadmin").await.get("/api/v1/audit").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(actions(r.json()), ["east.change"]);
    // The page shows the same.
    let mut page = TestClient::new(router.clone());
    assert_eq!(
        page.login("eastadmin", "password-eastadmin").await.status,
        303
    );
    let r = page.get("/app/admin/audit").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("east.change"), "{}", r.body);
    for other in ["west.change", "city.change", "system.change"] {
        assert!(!r.body.contains(other), "{other} shown to a district admin");
    }
}

#[tokio::test]
async fn district_admin_sees_only_their_subtree_sqlite() {
    district_admin_sees_only_their_subtree(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(not(qcity_pg), ignore = "needs QCITY_TEST_POSTGRES_URL")]
async fn district_admin_sees_only_their_subtree_postgres() {
    district_admin_sees_only_their_subtree(Backend::Postgres).await;
}
