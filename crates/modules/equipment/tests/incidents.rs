//! The 96333 incidents through the real router, on SQLite always and on PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set: idempotent intake (group commit included), optimistic
//! concurrency and illegal transitions, the escalation scanner, IoT de-duplication, and a
//! maintenance company's engineers seeing only their company's incidents.

mod common;

use chrono::Duration;
use common::*;
use qcity_equipment::{incidents, registry};
use qcity_platform::testing::{Backend, TestClient, TestResponse};
use serde_json::json;

use qcity_platform::on_both_backends;

/// POSTs `body` to `path` as `content_type`, with `headers`.
async fn post_as(
    c: &mut TestClient,
    path: &str,
    content_type: &str,
    body: impl Into<Vec<u8>>,
    headers: &[(&str, &str)],
) -> TestResponse {
    c.request("POST", path, Some(content_type), body.into(), headers)
        .await
}

/// An intake of `body` with an `Idempotency-Key`.
async fn intake_keyed(c: &mut TestClient, body: &serde_json::Value, key: &str) -> TestResponse {
    let headers = [("idempotency-key", key)];
    post_as(
        c,
        "/api/v1/incidents",
        "application/json",
        body.to_string(),
        &headers,
    )
    .await
}

on_both_backends!(
    incident_intake_is_idempotent_and_transitions_are_checked,
    retries_in_one_group_commit_make_one_incident,
    concurrent_transitions_with_one_version_have_one_winner,
    transition_body_is_to_with_an_optional_version,
    scanner_escalates_missed_acknowledgement_and_alerts_late_arrival,
    iot_alarm_flood_makes_one_incident,
    maintainers_see_only_their_company,
);

/// Two retries of one call (same `Idempotency-Key`) that both miss the committed-key check and
/// land in the same group commit: one incident, one `201`, one `200` replay with its id, and
/// neither answered before the group is committed.
async fn retries_in_one_group_commit_make_one_incident(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    add_elevator(&mut admin, "123456", "990101001", e.company_a, 1).await;
    // Clients first: issuing a token writes, and the held writer below holds SQLite's write lock.
    let mut dispatchers = vec![
        e.client("dispatcher").await,
        e.client("dispatcher").await,
        e.client("dispatcher").await,
    ];
    let gc = qcity_equipment::incidents::intake_writer(&e.st);
    // Hold the writer busy so that both retries queue up and form the next group together.
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let (started, is_started) = tokio::sync::oneshot::channel::<()>();
    let g = gc.clone();
    let holder = tokio::spawn(async move {
        g.run(move |_txn| {
            Box::pin(async move {
                let _ = started.send(());
                let _ = wait.await;
                Ok::<_, sea_orm::DbErr>(((), false))
            })
        })
        .await
    });
    is_started.await.unwrap();
    let body = json!({"rescue_code": "123456", "channel": "phone", "caller_phone": "13900000001"});
    let mut calls = Vec::new();
    for n in 0..2 {
        let mut d = dispatchers.remove(0);
        let body = body.clone();
        calls.push(tokio::spawn(async move {
            intake_keyed(&mut d, &body, "call-same-group").await
        }));
        for _ in 0..1000 {
            if gc.queued() > n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(gc.queued(), n + 1, "retry {n} is waiting for the writer");
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(
        calls.iter().all(|c| !c.is_finished()),
        "no answer before the group commits"
    );
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM eq_incidents").await,
        0
    );
    go.send(()).unwrap();
    holder.await.unwrap().unwrap();
    let mut answers = Vec::new();
    for c in calls {
        answers.push(c.await.unwrap());
    }
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 201], "{answers:?}");
    let id0 = answers[0].json()["id"].clone();
    assert_eq!(answers[1].json()["id"], id0);
    assert!(id0.is_string() || id0.is_i64());
    let replay = answers.iter().find(|r| r.status == 200).unwrap();
    assert_eq!(
        replay
            .headers
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM eq_incidents").await,
        1
    );
    assert_eq!(
        count(&e.db, "SELECT COUNT(*) AS n FROM eq_incident_events").await,
        2,
        "one received and one located event"
    );
    // The writer carries on: a new call gets a new incident.
    let mut d = dispatchers.remove(0);
    let r = intake_keyed(&mut d, &body, "call-next").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_ne!(r.json()["id"], id0);
}

async fn incident_intake_is_idempotent_and_transitions_are_checked(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    add_elevator(&mut admin, "123456", "990101001", e.company_a, 1).await;
    let mut d = e.client("dispatcher").await;
    let body = json!({"rescue_code": "123456", "channel": "phone", "caller_phone": "13900000000"});
    let r = intake_keyed(&mut d, &body, "call-1").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let inc = r.json();
    assert_eq!(inc["state"], "located");
    assert_eq!(inc["version"], 1);
    assert_eq!(inc["company_duty_phone"], "0599-1111111");
    let recv = chrono::DateTime::parse_from_rfc3339(inc["times"]["received_at"].as_str().unwrap())
        .unwrap();
    let dispatch_by =
        chrono::DateTime::parse_from_rfc3339(inc["deadlines"]["dispatch_by"].as_str().unwrap())
            .unwrap();
    assert_eq!(dispatch_by - recv, Duration::minutes(5));
    let id = inc["id"].as_i64().unwrap();
    // The answer is built from what was written, not read back: it is what a read shows.
    assert_eq!(d.get(&format!("/api/v1/incidents/{id}")).await.json(), inc);
    // The same key again: the same incident, not a new one.
    let again = intake_keyed(&mut d, &body, "call-1").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], id);
    assert_eq!(
        d.get("/api/v1/incidents?state=open")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Unknown rescue code, bad channel.
    assert_eq!(
        d.post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": "999999", "channel": "phone"})
        )
        .await
        .status,
        422
    );
    assert_eq!(
        d.post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": "123456", "channel": "fax"})
        )
        .await
        .json()["field"],
        "channel"
    );

    let tr = |to: &str, v: i64| json!({"to": to, "version": v});
    let path = format!("/api/v1/incidents/{id}/transitions");
    // Illegal: located → released.
    let r = d.post_json(&path, &tr("released", 1)).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["code"], "illegal_transition");
    let r = d.post_json(&path, &tr("dispatched", 1)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["version"], 2);
    assert!(j["deadlines"]["ack_by"].is_string() && j["deadlines"]["arrive_by"].is_string());
    // Stale version.
    let r = d.post_json(&path, &tr("acknowledged", 1)).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["code"], "stale_version");
    let mut v = walk(
        &mut d,
        id,
        &["acknowledged", "on_scene", "released", "confirmed"],
        2,
    )
    .await;
    let r = d
        .post_json(
            &path,
            &json!({"to": "cause_reported", "version": v, "cause_code": "sabotage"}),
        )
        .await;
    assert_eq!(r.json()["field"], "cause_code");
    let r = d
        .post_json(
            &path,
            &json!({"to": "cause_reported", "version": v, "cause_code": "door"}),
        )
        .await;
    assert_eq!(r.status, 200);
    v += 1;
    assert_eq!(d.post_json(&path, &tr("closed", v)).await.status, 200);
    let full = d.get(&format!("/api/v1/incidents/{id}")).await.json();
    assert_eq!(full["state"], "closed");
    assert!(full["arrive_secs"].is_number() && full["ack_secs"].is_number());
    let tl = full["timeline"].as_array().unwrap();
    let states: Vec<&str> = tl.iter().map(|e| e["to"].as_str().unwrap()).collect();
    assert_eq!(
        states,
        [
            "received",
            "located",
            "dispatched",
            "acknowledged",
            "on_scene",
            "released",
            "confirmed",
            "cause_reported",
            "closed"
        ]
    );
    assert!(tl.iter().all(|e| e["actor"].as_str().is_some_and(|a| !a.is_empty()) && e["channel"].is_string()));
    let times: Vec<&str> = tl.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let parsed: Vec<_> = times
        .iter()
        .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap())
        .collect();
    assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(
        d.get("/api/v1/incidents?state=open")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The timeline is append-only in the database itself.
    let upd = incidents_sql(&e.db, "UPDATE eq_incident_events SET note = 'x'").await;
    assert!(upd.is_err());
    // The audit log has the intake and each transition.
    let audit = admin.get("/api/v1/audit?entity=eq_incident").await;
    assert!(
        audit.body.contains("equipment.incident.transition")
            && audit.body.contains("equipment.incident.create"),
        "{}",
        audit.body
    );
}

async fn incidents_sql(db: &sea_orm::DatabaseConnection, sql: &str) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(sql).await.map(|_| ())
}

/// Issue 12 item 6: `{"to": STATE}` alone moves an incident; `version` (or `If-Match`) is an
/// optional guard whose staleness is `409 stale_version`; an illegal move is `409` with `code`
/// `illegal_transition`; a body without `to` is a `422` problem naming the field.
async fn transition_body_is_to_with_an_optional_version(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let mut d = e.client("dispatcher").await;
    let r = d
        .post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": "123456", "channel": "phone"}),
        )
        .await;
    let id = r.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/incidents/{id}/transitions");
    // No version: applies to the current state.
    let r = d.post_json(&path, &json!({"to": "dispatched"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["version"], 2);
    // Illegal, with a stable code rather than a prefix of the detail.
    let r = d.post_json(&path, &json!({"to": "received"})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.json()["code"], "illegal_transition");
    assert!(
        !r.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("illegal_transition")
    );
    // A stale version in the body, then in If-Match.
    let r = d
        .post_json(&path, &json!({"to": "acknowledged", "version": 1}))
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (409, json!("stale_version"))
    );
    let body = json!({"to": "acknowledged"}).to_string().into_bytes();
    let r = post_as(
        &mut d,
        &path,
        "application/json",
        body.clone(),
        &[("if-match", "\"1\"")],
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (409, json!("stale_version"))
    );
    let r = post_as(
        &mut d,
        &path,
        "application/json",
        body,
        &[("if-match", "\"2\"")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["state"], "acknowledged");
    // A body that does not match: 422 problem+json naming the field, not text/plain.
    let r = d.post_json(&path, &json!({"version": 3})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.json()["code"], "invalid_body");
    assert_eq!(r.json()["field"], "to");
    let r = d
        .post_json(&path, &json!({"to": "on_scene", "version": "3"}))
        .await;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (422, json!("version"))
    );
    // Not JSON at all, and not declared as JSON.
    let r = post_as(&mut d, &path, "application/json", b"{\"to\":".to_vec(), &[]).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("malformed_json"))
    );
    let r = post_as(&mut d, &path, "text/plain", b"to=on_scene".to_vec(), &[]).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (415, json!("unsupported_media_type"))
    );
    // A path id that is not a number.
    let r = d
        .post_json(
            "/api/v1/incidents/abc/transitions",
            &json!({"to": "on_scene"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("invalid_path"))
    );
    assert_eq!(r.json()["field"], "id");
}

async fn concurrent_transitions_with_one_version_have_one_winner(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let mut d1 = e.client("dispatcher").await;
    let mut d2 = e.client("admin").await;
    for round in 0..5 {
        let r = d1
            .post_json(
                "/api/v1/incidents",
                &json!({"rescue_code": "123456", "channel": "phone"}),
            )
            .await;
        let id = r.json()["id"].as_i64().unwrap();
        let path = format!("/api/v1/incidents/{id}/transitions");
        let (ja, jb) = (
            json!({"to": "dispatched", "version": 1}),
            json!({"to": "cancelled", "version": 1}),
        );
        let (a, b2) = tokio::join!(d1.post_json(&path, &ja), d2.post_json(&path, &jb));
        let mut codes = [a.status, b2.status];
        codes.sort();
        assert_eq!(codes, [200, 409], "round {round}: {} / {}", a.body, b2.body);
        let full = d1.get(&format!("/api/v1/incidents/{id}")).await.json();
        assert_eq!(full["version"], 2);
        assert_eq!(
            full["timeline"].as_array().unwrap().len(),
            3,
            "exactly one transition recorded"
        );
    }
}

async fn scanner_escalates_missed_acknowledgement_and_alerts_late_arrival(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    add_elevator(&mut admin, "123456", "990101001", e.company_a, 1).await;
    let r = admin
        .post_json(
            "/api/v1/equipment/timers",
            &json!({"region_code": "990101", "ack_secs": 60, "arrive_secs": 600}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut d = e.client("dispatcher").await;
    let id = open_incident(&mut d, "123456").await;
    let r = transition(&mut d, id, "dispatched", 1).await;
    assert_eq!(r.json()["company_id"], e.company_a);
    // Before the deadline nothing happens.
    let now = qcity_equipment::sql::now();
    assert_eq!(
        incidents::scan(&e.db, now).await.unwrap(),
        incidents::ScanReport::default()
    );
    // After it: level 2, the nearest other company (B is 1.5 km away, C 60 km).
    let rep = incidents::scan(&e.db, now + Duration::seconds(61))
        .await
        .unwrap();
    assert_eq!(rep.escalated_l2, 1);
    let j = d.get(&format!("/api/v1/incidents/{id}")).await.json();
    assert_eq!(j["state"], "escalated_l2");
    assert_eq!(j["level"], 2);
    assert_eq!(j["company_id"], e.company_b);
    assert_eq!(j["l1_company_id"], e.company_a);
    // The arrival limit passes: an alert proposing level 3, once.
    let rep = incidents::scan(&e.db, now + Duration::seconds(700))
        .await
        .unwrap();
    assert_eq!(rep.arrival_alerts, 1);
    let rep2 = incidents::scan(&e.db, now + Duration::seconds(800))
        .await
        .unwrap();
    assert_eq!(rep2.arrival_alerts, 0);
    let j = d.get(&format!("/api/v1/incidents/{id}")).await.json();
    assert_eq!(j["propose_l3"], true);
    assert!(
        j["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|ev| ev["kind"] == "alert")
    );
    let v = j["version"].as_i64().unwrap();
    let r = transition(&mut d, id, "escalated_l3", v).await;
    assert_eq!(r.json()["level"], 3);
}

async fn iot_alarm_flood_makes_one_incident(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let d = e.client("dispatcher").await;
    let frame = json!({"rescue_code": "123456", "alarm_code": "02", "timestamp": "2026-01-01T08:00:00Z", "device_id": "gw-1"});
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let mut c = TestClient::with_bearer(d.router.clone(), d.bearer.as_deref().unwrap());
        let f = frame.clone();
        tasks.push(tokio::spawn(async move {
            c.post_json("/api/v1/iot/elevator-alarms", &f).await
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        outcomes.push(r.json()[0]["outcome"].as_str().unwrap().to_string());
    }
    assert_eq!(
        outcomes.iter().filter(|o| *o == "created").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(outcomes.iter().filter(|o| *o == "duplicate").count(), 19);
    let mut d = d;
    let open = d.get("/api/v1/incidents?state=open").await.json();
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["channel"], "iot");
    assert_eq!(open[0]["alarm_code"], "02");
    // Non-trapping alarm, unknown elevator, garbage code: recorded, no incident, no crash.
    let r = d
        .post_json(
            "/api/v1/iot/elevator-alarms",
            &json!([
                {"rescue_code": "123456", "alarm_code": "05", "device_id": "gw-1"},
                {"rescue_code": "888888", "alarm_code": "02", "device_id": "gw-9"},
                {"rescue_code": "123456", "alarm_code": "zz", "device_id": "gw-1"}
            ]),
        )
        .await;
    let outs: Vec<&str> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["outcome"].as_str().unwrap().to_owned().leak() as &str)
        .collect();
    assert_eq!(outs, ["not_trapped", "unknown_elevator", "invalid"]);
    let sum = d.get("/api/v1/iot/elevator-alarms/summary").await.json();
    assert_eq!(sum["last_30_days"]["unknown_elevator"], 1);
    assert_eq!(sum["unknown_elevators"][0]["rescue_code"], "888888");
    // Once released, a new alarm opens a new incident.
    let id = open[0]["id"].as_i64().unwrap();
    walk(&mut d, id, &["dispatched", "on_scene", "released"], 1).await;
    let r = d.post_json("/api/v1/iot/elevator-alarms", &frame).await;
    assert_eq!(r.json()[0]["outcome"], "created");
    // One request is one batch: repeated frames within it are de-duplicated in order.
    add_elevator(&mut admin, "234567", "990101", e.company_a, 2).await;
    let f = |rescue: &str, code: &str| json!({"rescue_code": rescue, "alarm_code": code, "device_id": "gw-2"});
    let r = d
        .post_json(
            "/api/v1/iot/elevator-alarms",
            &json!([
                f("234567", "02"),
                f("234567", "02"),
                f("777777", "02"),
                f("234567", "05"),
                f("234567", "0a")
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let outs: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outs,
        [
            "created",
            "duplicate",
            "unknown_elevator",
            "not_trapped",
            "duplicate"
        ]
    );
    assert_eq!(v[0]["incident_id"], v[1]["incident_id"]);
    assert_eq!(v[0]["incident_id"], v[4]["incident_id"]);
    assert!(v[2]["incident_id"].is_null() && v[3]["incident_id"].is_null());
    let ids: std::collections::HashSet<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["alarm_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 5, "every frame recorded once");
}

async fn maintainers_see_only_their_company(b: Backend) {
    let e = setup(b).await;
    let mut admin = e.client("admin").await;
    let ea = add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    add_elevator(&mut admin, "234567", "990101", e.company_b, 2).await;
    let mut d = e.client("dispatcher").await;
    let ia = open_incident(&mut d, "123456").await;
    let ib = open_incident(&mut d, "234567").await;
    for id in [ia, ib] {
        assert_eq!(transition(&mut d, id, "dispatched", 1).await.status, 200);
    }
    let mut fixer = e.client("fixer").await;
    let mine = fixer.get("/api/v1/incidents").await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], ia);
    assert_eq!(
        fixer.get(&format!("/api/v1/incidents/{ib}")).await.status,
        404
    );
    assert_eq!(
        transition(&mut fixer, ib, "acknowledged", 2).await.status,
        404
    );
    // Only the engineer's steps.
    assert_eq!(transition(&mut fixer, ia, "cancelled", 2).await.status, 422);
    let r = transition(&mut fixer, ia, "acknowledged", 2).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fixer.get("/api/v1/equipment").await.json()["total"], 1);
    // Maintenance records by their own company.
    let r = fixer.post_json(&format!("/api/v1/equipment/{ea}/maintenance"), &json!({"done_on": registry::today().to_string(), "kind": "half_month", "engineer": "王工"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        fixer
            .post_json(
                "/api/v1/incidents",
                &json!({"rescue_code": "123456", "channel": "phone"})
            )
            .await
            .status,
        403
    );
}
