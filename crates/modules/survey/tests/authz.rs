//! Survey write rules, link tokens kept out of redirect URLs, and refusals that wait for the
//! group's commit: through the real router on SQLite (and PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set).

mod common;

use common::*;
use qcity_platform::auth::Role;
use qcity_platform::module::Module;
use qcity_platform::store::group_commit::GroupCommit;
use qcity_platform::testing::{Backend, TestClient, TestDb, app, seed_small_city};
use qcity_survey::SurveyModule;
use sea_orm::{ConnectionTrait, DbErr, Statement};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

use qcity_platform::on_both_backends;

on_both_backends!(
    district_analyst_cannot_manage_the_city_wave,
    open_token_only_for_who_manages_the_wave,
    link_tokens_never_travel_in_a_location_header,
    refusal_waits_for_the_group_commit,
);

/// The survey env with a district analyst (990102) beside the city analyst, and the state.
async fn env_with_state(b: Backend) -> (Env, qcity_platform::web::AppState) {
    let modules: Vec<Arc<dyn Module>> = vec![Arc::new(SurveyModule)];
    let t = TestDb::migrated(b, &modules).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("analyst", Role::Analyst, "990100"),
            ("danalyst", Role::Analyst, "990102"),
            ("officer", Role::DataOfficer, "990102"),
        ],
    )
    .await;
    let (st, router) = app(&t, modules);
    (
        Env {
            db: t.db.clone(),
            _t: t,
            router,
            city,
        },
        st,
    )
}

async fn status_of(e: &Env, wid: i64) -> String {
    let r = qcity_survey::store::get_wave(&e.db, e.city, wid)
        .await
        .unwrap()
        .unwrap();
    r.status
}

async fn district_analyst_cannot_manage_the_city_wave(b: Backend) {
    let (e, _st) = env_with_state(b).await;
    let mut city = signed_in(&e, "analyst").await;
    let (qid, w) = collecting_wave(&mut city, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    let quotas = json!({"quotas": [{"district": "990101", "target": 5}, {"district": "990102", "target": 5}]});
    let r = city
        .post_json(&format!("/api/v1/survey/waves/{wid}/quotas"), &quotas)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let quota_rows = "SELECT COUNT(*) AS n FROM survey_quotas";
    assert_eq!(count(&e.db, quota_rows).await, 2);

    let mut d = signed_in(&e, "danalyst").await;
    // The district analyst sees the city's wave…
    let r = d.get(&format!("/api/v1/survey/waves/{wid}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // …but may not close, publish or re-weight it, wipe its quotas, invite or upload.
    for (path, body) in [
        ("status", json!({"status": "closed"})),
        ("status", json!({"status": "published"})),
        (
            "margins",
            json!({"margins": [{"variable": "district", "category": "990101", "total": 1.0}]}),
        ),
        ("quotas", json!({"quotas": []})),
        ("invitations", json!({"count": 3})),
        (
            "responses",
            json!({"responses": [{"external_id": "x", "answers": {"D1": "990102", "D2": "old", "P01": 4}}]}),
        ),
    ] {
        let r = d
            .post_json(&format!("/api/v1/survey/waves/{wid}/{path}"), &body)
            .await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
    }
    // The pages refuse the same.
    let r = d
        .post_form(
            &format!("/app/survey/waves/{wid}/status"),
            &[("status", "closed")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = d
        .post_form(
            &format!("/app/survey/waves/{wid}/invitations"),
            &[("count", "5")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // Nor edit the questionnaire the city's wave uses (an edit in place changes its form).
    let mut edited = small_def();
    edited["title_zh"] = json!("改过的问卷");
    let r = d
        .post_json(
            &format!("/api/v1/survey/questionnaires/{qid}/revise"),
            &edited,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let q = city
        .get(&format!("/api/v1/survey/questionnaires/{qid}"))
        .await
        .json();
    assert_eq!(q["title_zh"], json!("测试问卷"));
    // Nothing changed.
    assert_eq!(status_of(&e, wid).await, "collecting");
    assert_eq!(count(&e.db, quota_rows).await, 2);
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM survey_margins").await,
        0
    );
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM survey_invitations").await,
        0
    );
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM survey_responses").await,
        0
    );
    // A wave of their own district is theirs to manage.
    let mut def = small_def();
    def["code"] = json!("T2");
    let (_, own) = collecting_wave(&mut d, def, 2026).await;
    let own_id = own["id"].as_i64().unwrap();
    assert_eq!(own["region_code"], json!("990102"));
    set_status(&mut d, own_id, "closed").await;
    assert_eq!(status_of(&e, own_id).await, "closed");
    // The city analyst still manages the city's wave.
    set_status(&mut city, wid, "closed").await;
}

async fn open_token_only_for_who_manages_the_wave(b: Backend) {
    let (e, _st) = env_with_state(b).await;
    let mut city = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut city, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    let token = w["open_token"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    let listed = |v: Value| {
        v["waves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == json!(wid))
            .unwrap()["open_token"]
            .clone()
    };
    assert_eq!(
        listed(city.get("/api/v1/survey/waves").await.json()),
        json!(token)
    );
    for user in ["danalyst", "officer"] {
        let mut c = signed_in(&e, user).await;
        let r = c.get("/api/v1/survey/waves").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!r.body.contains(&token), "{user} sees the open token");
        assert_eq!(listed(r.json()), json!(""));
        let r = c.get(&format!("/api/v1/survey/waves/{wid}")).await;
        assert!(!r.body.contains(&token), "{user} sees the open token");
        let r = c.get(&format!("/app/survey/waves/{wid}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!r.body.contains(&token), "{user} sees the open link");
    }
}

async fn link_tokens_never_travel_in_a_location_header(b: Backend) {
    let (e, _st) = env_with_state(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let wid = w["id"].as_i64().unwrap();
    // Invitations minted on the page are shown in the response, not put in a redirect.
    let page = format!("/app/survey/waves/{wid}");
    c.get(&page).await;
    let r = c
        .post_form(&format!("{page}/invitations"), &[("count", "2")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.location().is_none());
    assert!(r.body.contains("data-testid=\"invitation-links\""));
    let tokens: Vec<String> =
        qcity_survey::store::all(&e.db, "SELECT token FROM survey_invitations", vec![])
            .await
            .unwrap()
            .iter()
            .map(|r| qcity_survey::store::get::<String>(r, "token").unwrap())
            .collect();
    assert_eq!(tokens.len(), 2);
    for t in &tokens {
        assert!(r.body.contains(&format!("/s/{t}")), "link {t} shown");
    }
    // A respondent on an invitation: every redirect leads to a token-free URL.
    let token = &tokens[0];
    let link = format!("/s/{token}");
    let mut a = TestClient::new(e.router.clone());
    let r = a.get(&link).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut locations = Vec::new();
    let r = a
        .post_form(
            &link,
            &[("page", "1"), ("q_D1", "990102"), ("q_D2", "young")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    locations.push(r.location().unwrap().to_string());
    let r = a
        .post_form(&link, &[("page", "2"), ("action", "back")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    locations.push(r.location().unwrap().to_string());
    // Later pages are served without the token in the URL (it is in a cookie).
    let r = a.get("/s/form?page=2").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("name=\"q_P01\""), "{}", r.body);
    let r = a
        .post_form(
            &link,
            &[("page", "2"), ("action", "submit"), ("q_P01", "3")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    locations.push(r.location().unwrap().to_string());
    assert_eq!(locations, ["/s/form?page=2", "/s/form?page=1", "/s/thanks"]);
    for l in &locations {
        assert!(!l.contains(token.as_str()), "{l} carries the token");
    }
    let r = a.get("/s/thanks").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        count(
            &e.db,
            "SELECT COUNT(*) AS n FROM survey_responses WHERE status = 'complete'"
        )
        .await,
        1
    );
    // Without the cookie, `/s/form` knows no link.
    let r = TestClient::new(e.router.clone()).get("/s/form").await;
    assert_eq!(r.status, 404);
}

fn sql(db: &impl ConnectionTrait, s: &str) -> Statement {
    Statement::from_string(db.get_database_backend(), s.to_string())
}

async fn until_queued(gc: &GroupCommit, n: usize) {
    for _ in 0..2000 {
        if gc.queued() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("jobs never queued");
}

/// Two submissions of the same respondent (a double click) and a third job whose write makes
/// the group's commit fail: the first submission is lost with the group, so the second must
/// not be told "already answered" (it was, before: refusals did not wait for the commit).
async fn refusal_waits_for_the_group_commit(b: Backend) {
    let (e, st) = env_with_state(b).await;
    let mut c = signed_in(&e, "analyst").await;
    let (_, w) = collecting_wave(&mut c, small_def(), 2025).await;
    let link = format!("/s/{}", w["open_token"].as_str().unwrap());
    let mut a = TestClient::new(e.router.clone());
    a.get(&link).await;
    let r = a
        .post_form(&link, &[("page", "1"), ("q_D1", "990101"), ("q_D2", "old")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // A deferred foreign key lets a job's insert pass and fails the group's commit.
    e.db.execute_raw(sql(&e.db, "CREATE TABLE t_parent (id BIGINT PRIMARY KEY)"))
        .await
        .unwrap();
    e.db.execute_raw(sql(
        &e.db,
        "CREATE TABLE t_orphan (id BIGINT PRIMARY KEY, parent BIGINT REFERENCES t_parent(id) DEFERRABLE INITIALLY DEFERRED)",
    ))
    .await
    .unwrap();

    let gc = GroupCommit::for_server(&st, "survey");
    // Hold the writer so that the next three jobs form one group.
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let (started, is_started) = tokio::sync::oneshot::channel::<()>();
    let hold = tokio::spawn({
        let gc = gc.clone();
        async move {
            gc.run::<_, DbErr, _>(move |_txn| {
                Box::pin(async move {
                    let _ = started.send(());
                    let _ = wait.await;
                    Ok(((), false))
                })
            })
            .await
        }
    });
    is_started.await.unwrap();
    let submit = |cl: &TestClient| {
        let mut cl = TestClient {
            router: cl.router.clone(),
            cookies: cl.cookies.clone(),
            bearer: None,
            csrf: cl.csrf.clone(),
            peer: cl.peer,
        };
        let link = link.clone();
        tokio::spawn(async move {
            cl.post_form(
                &link,
                &[("page", "2"), ("action", "submit"), ("q_P01", "4")],
            )
            .await
        })
    };
    let first = submit(&a);
    until_queued(&gc, 1).await;
    let second = submit(&a);
    until_queued(&gc, 2).await;
    let failing = tokio::spawn({
        let gc = gc.clone();
        async move {
            gc.run::<_, DbErr, _>(move |txn| {
                Box::pin(async move {
                    txn.execute_raw(sql(txn, "INSERT INTO t_orphan (id, parent) VALUES (1, 99)"))
                        .await?;
                    Ok(((), true))
                })
            })
            .await
        }
    });
    until_queued(&gc, 3).await;
    go.send(()).unwrap();
    hold.await.unwrap().unwrap();
    assert!(failing.await.unwrap().is_err(), "the group's commit fails");
    let first = first.await.unwrap();
    let second = second.await.unwrap();
    assert!(first.status >= 500, "{} {}", first.status, first.body);
    assert!(
        !second.body.contains("data-testid=\"survey-already\""),
        "told `already answered` on a response that was never stored"
    );
    assert!(second.status >= 500, "{} {}", second.status, second.body);
    assert_eq!(
        count(
            &e.db,
            "SELECT COUNT(*) AS n FROM survey_responses WHERE status = 'complete'"
        )
        .await,
        0
    );
    // Submitting again now succeeds.
    let r = submit(&a).await.unwrap();
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), Some("/s/thanks"));
}
