//! The equipment module through the real router, on SQLite always and on PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set: registry, CSV, scoping, the 96333 API (idempotency,
//! optimistic concurrency, illegal transitions), the escalation scanner, IoT de-duplication,
//! inspections, maintenance, risk, KPIs, hooks and pages.

#![allow(clippy::explicit_counter_loop)]

use chrono::Duration;
use qcity_equipment::{EquipmentModule, incidents, registry};
use qcity_platform::Module;
use qcity_platform::auth::{Role, token};
use qcity_platform::testing::{Backend, TestClient, TestDb, app, citus_problems, seed_small_city};
use serde_json::{Value, json};
use std::sync::Arc;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await
            }
            #[tokio::test]
            #[cfg_attr(not(qcity_pg), ignore = "set QCITY_TEST_POSTGRES_URL to run on PostgreSQL")]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await
            }
        }
    )*};
}

on_both_backends!(
    tenant_keys_lead_with_city_id,
    registry_validates_scopes_and_filters,
    csv_import_is_all_or_nothing_and_export_round_trips,
    incident_intake_is_idempotent_and_transitions_are_checked,
    concurrent_transitions_with_one_version_have_one_winner,
    scanner_escalates_missed_acknowledgement_and_alerts_late_arrival,
    iot_alarm_flood_makes_one_incident,
    maintainers_see_only_their_company,
    inspections_maintenance_risk_and_kpis,
    hooks_feed_indicators_and_report,
    pages_render_in_both_languages,
);

struct Env {
    _t: TestDb,
    db: sea_orm::DatabaseConnection,
    router: axum::Router,
    city: i64,
    company_a: i64,
    company_b: i64,
}

fn modules() -> Vec<Arc<dyn Module>> {
    vec![Arc::new(EquipmentModule)]
}

async fn setup(b: Backend) -> Env {
    let t = TestDb::migrated(b, &modules()).await;
    let city = seed_small_city(
        &t.db,
        &[
            ("admin", Role::Admin, "990100"),
            ("dispatcher", Role::Dispatcher, "990100"),
            ("inspector", Role::Inspector, "990100"),
            ("east", Role::Viewer, "990102"),
            ("fixer", Role::Maintainer, "990100"),
            ("fixer2", Role::Maintainer, "990100"),
            ("energy", Role::EnergyManager, "990100"),
        ],
    )
    .await;
    let (_, router) = app(&t, modules());
    let db = t.db.clone();
    let mut admin = client(&db, &router, city, "admin").await;
    let a = admin
        .post_json(
            "/api/v1/equipment/companies",
            &json!({"name_zh": "甲维保", "name_en": "A Lifts", "license_no": "LA", "duty_phone": "0599-1111111", "region_code": "990101", "lon": 118.10, "lat": 24.50, "engineers": 10}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let b_ = admin
        .post_json(
            "/api/v1/equipment/companies",
            &json!({"name_zh": "乙维保", "name_en": "B Lifts", "license_no": "LB", "duty_phone": "0599-2222222", "region_code": "990101", "lon": 118.11, "lat": 24.51}),
        )
        .await;
    let c_ = admin
        .post_json(
            "/api/v1/equipment/companies",
            &json!({"name_zh": "丙维保", "name_en": "C Lifts", "license_no": "LC", "duty_phone": "0599-3333333", "region_code": "990102", "lon": 118.50, "lat": 24.90}),
        )
        .await;
    assert_eq!(c_.status, 201);
    let company_a = a.json()["id"].as_i64().unwrap();
    let company_b = b_.json()["id"].as_i64().unwrap();
    for (name, comp) in [("fixer", company_a), ("fixer2", company_b)] {
        let u = qcity_platform::store::users::by_username(&db, city, name)
            .await
            .unwrap()
            .unwrap();
        qcity_platform::store::users::set_company_id(&db, city, u.id, Some(comp))
            .await
            .unwrap();
    }
    Env {
        _t: t,
        db,
        router,
        city,
        company_a,
        company_b,
    }
}

async fn client(
    db: &sea_orm::DatabaseConnection,
    r: &axum::Router,
    city: i64,
    name: &str,
) -> TestClient {
    let u = qcity_platform::store::users::by_username(db, city, name)
        .await
        .unwrap()
        .unwrap();
    let (_, tok) = token::issue(db, city, u.id, "test").await.unwrap();
    TestClient::with_bearer(r.clone(), &tok)
}

fn elevator(rescue: &str, region: &str, company: i64, seq: u32) -> Value {
    json!({
        "category": "3000", "variety": "3110",
        "equipment_code": format!("3110108902015{seq:05}"),
        "rescue_code": rescue,
        "name": format!("{rescue}号梯"), "use_unit": "幸福物业", "use_unit_phone": "0599-5555555",
        "company_id": company, "address": format!("幸福花园{seq}号楼"), "lon": 118.12, "lat": 24.52,
        "region_code": region, "manufacture_date": "2008-05-01", "install_date": "2008-10-01",
        "registration_date": "2008-11-01", "attributes": {"floors": 18}
    })
}

async fn add_elevator(
    c: &mut TestClient,
    rescue: &str,
    region: &str,
    company: i64,
    seq: u32,
) -> i64 {
    let r = c
        .post_json("/api/v1/equipment", &elevator(rescue, region, company, seq))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

async fn tenant_keys_lead_with_city_id(b: Backend) {
    let t = TestDb::migrated(b, &modules()).await;
    let problems = citus_problems(&t.db, &[]).await;
    assert!(problems.is_empty(), "{problems:#?}");
}

async fn registry_validates_scopes_and_filters(b: Backend) {
    let e = setup(b).await;
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    let id = add_elevator(&mut admin, "123456", "990101001", e.company_a, 1).await;
    add_elevator(&mut admin, "234567", "990102", e.company_b, 2).await;
    // The 18-character code is checked part by part.
    let mut bad = elevator("345678", "990101", e.company_a, 3);
    bad["equipment_code"] = json!("31101089X201500003");
    let r = admin.post_json("/api/v1/equipment", &bad).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "equipment_code");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("manufacturer")
    );
    bad["equipment_code"] = json!("311010890201500003");
    bad["variety"] = json!("4110");
    bad["category"] = json!("3000");
    assert_eq!(
        admin.post_json("/api/v1/equipment", &bad).await.json()["field"],
        "variety"
    );
    // Rescue codes are unique per city.
    let dup = admin
        .post_json(
            "/api/v1/equipment",
            &elevator("123456", "990101", e.company_a, 9),
        )
        .await;
    assert_eq!(dup.status, 409, "{}", dup.body);
    // A boiler with category attributes; a rescue code on a boiler is refused.
    let boiler = json!({"category": "1000", "variety": "1100", "name": "1号锅炉", "use_unit": "热电厂", "address": "工业路1号", "region_code": "990102", "attributes": {"rated_pressure_mpa": 1.25}, "registration_date": "2020-01-10"});
    let r = admin.post_json("/api/v1/equipment", &boiler).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["next_inspection_due"], "2021-01-10");
    let mut b2 = boiler.clone();
    b2["rescue_code"] = json!("99999");
    assert_eq!(admin.post_json("/api/v1/equipment", &b2).await.status, 422);

    let found = admin
        .get("/api/v1/equipment?rescue_code=123456")
        .await
        .json();
    assert_eq!(found["total"], 1);
    let item = &found["items"][0];
    assert_eq!(item["id"], id);
    assert_eq!(item["company_duty_phone"], "0599-1111111");
    assert_eq!(item["attributes"]["floors"], 18);
    assert_eq!(
        admin.get("/api/v1/equipment?category=3000").await.json()["total"],
        2
    );
    assert_eq!(
        admin.get("/api/v1/equipment?category=boiler").await.json()["total"],
        1
    );
    assert_eq!(
        admin.get("/api/v1/equipment?region=990101").await.json()["total"],
        1
    );
    assert_eq!(
        admin.get("/api/v1/equipment?status=in_use").await.json()["total"],
        3
    );
    assert_eq!(
        admin.get("/api/v1/equipment?category=nope").await.status,
        422
    );

    // A district viewer sees only their district; the other district's elevator is 404.
    let mut east = client(&e.db, &e.router, e.city, "east").await;
    assert_eq!(east.get("/api/v1/equipment").await.json()["total"], 2);
    assert_eq!(
        east.get(&format!("/api/v1/equipment/{id}")).await.status,
        404
    );
    assert_eq!(
        east.get("/api/v1/equipment?rescue_code=123456")
            .await
            .json()["total"],
        0
    );
    assert_eq!(
        east.post_json(
            "/api/v1/equipment",
            &elevator("555555", "990102", e.company_a, 5)
        )
        .await
        .status,
        403
    );
    let mut energy = client(&e.db, &e.router, e.city, "energy").await;
    assert_eq!(energy.get("/api/v1/equipment").await.status, 403);

    // Status lifecycle.
    let r = admin
        .post_json(
            &format!("/api/v1/equipment/{id}/status"),
            &json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(r.json()["status"], "suspended");
    let r = admin
        .post_json(
            &format!("/api/v1/equipment/{id}/status"),
            &json!({"status": "registered"}),
        )
        .await;
    assert_eq!(r.status, 409);
}

async fn csv_import_is_all_or_nothing_and_export_round_trips(b: Backend) {
    let e = setup(b).await;
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    let head = registry::CSV_COLUMNS.join(",");
    let good = "3000,3110,311010890201500011,,,111111,1号梯,甲物业,,LA,甲路1号,118.1,24.5,990101,2010-01-01,,2010-03-01,in_use,,,,";
    let bad_date = "3000,3110,311010890201500012,,,111112,2号梯,甲物业,,LA,甲路2号,118.1,24.5,990101,2010-13-01,,,in_use,,,,";
    let bad_region = "3000,3110,311010890201500013,,,111111,3号梯,甲物业,,LZ,甲路3号,abc,24.5,990199,,,,in_use,,,,";
    let body = format!("{head}\n{good}\n{bad_date}\n{bad_region}\n");
    let r = admin
        .request(
            "POST",
            "/api/v1/equipment/import",
            Some("text/csv"),
            body.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let detail = r.json()["detail"].as_str().unwrap().to_string();
    for want in [
        "row 3, column manufacture_date",
        "row 4, column region_code",
        "row 4, column lon",
        "row 4, column company_license_no",
        "row 4, column rescue_code",
    ] {
        assert!(detail.contains(want), "{want} missing in {detail}");
    }
    assert_eq!(
        admin.get("/api/v1/equipment").await.json()["total"],
        0,
        "nothing half-imported"
    );
    let ok = format!(
        "{head}\n{good}\n3000,3110,311010890201500012,,,111112,2号梯,甲物业,,LB,甲路2号,118.1,24.5,990102,2010-01-01,,,in_use,,,\"{{\"\"floors\"\":9}}\",2026-01-01\n"
    );
    let r = admin
        .request(
            "POST",
            "/api/v1/equipment/import",
            Some("text/csv"),
            ok.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["imported"], 2);
    let exp = admin.get("/api/v1/equipment/export.csv").await;
    assert_eq!(exp.status, 200);
    assert!(exp.body.contains("311010890201500012") && exp.body.contains("LB"));
    // The export re-imports into another city format-for-format (here: duplicates are named).
    let r = admin
        .request(
            "POST",
            "/api/v1/equipment/import",
            Some("text/csv"),
            exp.body.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("already registered")
    );
}

async fn incident_intake_is_idempotent_and_transitions_are_checked(b: Backend) {
    let e = setup(b).await;
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    add_elevator(&mut admin, "123456", "990101001", e.company_a, 1).await;
    let mut d = client(&e.db, &e.router, e.city, "dispatcher").await;
    let body = json!({"rescue_code": "123456", "channel": "phone", "caller_phone": "13900000000"});
    let r = d
        .request(
            "POST",
            "/api/v1/incidents",
            Some("application/json"),
            body.to_string().into_bytes(),
            &[("idempotency-key", "call-1")],
        )
        .await;
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
    // The same key again: the same incident, not a new one.
    let again = d
        .request(
            "POST",
            "/api/v1/incidents",
            Some("application/json"),
            body.to_string().into_bytes(),
            &[("idempotency-key", "call-1")],
        )
        .await;
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
    assert_eq!(r.json()["code"], "conflict");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("illegal_transition")
    );
    let r = d.post_json(&path, &tr("dispatched", 1)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    assert_eq!(j["version"], 2);
    assert!(j["deadlines"]["ack_by"].is_string() && j["deadlines"]["arrive_by"].is_string());
    // Stale version.
    let r = d.post_json(&path, &tr("acknowledged", 1)).await;
    assert_eq!(r.status, 409);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("stale_version")
    );
    let mut v = 2;
    for to in ["acknowledged", "on_scene", "released", "confirmed"] {
        let r = d.post_json(&path, &tr(to, v)).await;
        assert_eq!(r.status, 200, "{to}: {}", r.body);
        v += 1;
    }
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
        audit.body.contains("incident.transition") && audit.body.contains("incident.create"),
        "{}",
        audit.body
    );
}

async fn incidents_sql(db: &sea_orm::DatabaseConnection, sql: &str) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(sql).await.map(|_| ())
}

async fn concurrent_transitions_with_one_version_have_one_winner(b: Backend) {
    let e = setup(b).await;
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let mut d1 = client(&e.db, &e.router, e.city, "dispatcher").await;
    let mut d2 = client(&e.db, &e.router, e.city, "admin").await;
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
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    add_elevator(&mut admin, "123456", "990101001", e.company_a, 1).await;
    let r = admin
        .post_json(
            "/api/v1/equipment/timers",
            &json!({"region_code": "990101", "ack_secs": 60, "arrive_secs": 600}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut d = client(&e.db, &e.router, e.city, "dispatcher").await;
    let id = d
        .post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": "123456", "channel": "phone"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let r = d
        .post_json(
            &format!("/api/v1/incidents/{id}/transitions"),
            &json!({"to": "dispatched", "version": 1}),
        )
        .await;
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
    let r = d
        .post_json(
            &format!("/api/v1/incidents/{id}/transitions"),
            &json!({"to": "escalated_l3", "version": v}),
        )
        .await;
    assert_eq!(r.json()["level"], 3);
}

async fn iot_alarm_flood_makes_one_incident(b: Backend) {
    let e = setup(b).await;
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let d = client(&e.db, &e.router, e.city, "dispatcher").await;
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
    let mut v = 1;
    for to in ["dispatched", "on_scene", "released"] {
        assert_eq!(
            d.post_json(
                &format!("/api/v1/incidents/{id}/transitions"),
                &json!({"to": to, "version": v})
            )
            .await
            .status,
            200
        );
        v += 1;
    }
    let r = d.post_json("/api/v1/iot/elevator-alarms", &frame).await;
    assert_eq!(r.json()[0]["outcome"], "created");
}

async fn maintainers_see_only_their_company(b: Backend) {
    let e = setup(b).await;
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    let ea = add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    add_elevator(&mut admin, "234567", "990101", e.company_b, 2).await;
    let mut d = client(&e.db, &e.router, e.city, "dispatcher").await;
    let ia = d
        .post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": "123456", "channel": "phone"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let ib = d
        .post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": "234567", "channel": "phone"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    for id in [ia, ib] {
        assert_eq!(
            d.post_json(
                &format!("/api/v1/incidents/{id}/transitions"),
                &json!({"to": "dispatched", "version": 1})
            )
            .await
            .status,
            200
        );
    }
    let mut fixer = client(&e.db, &e.router, e.city, "fixer").await;
    let mine = fixer.get("/api/v1/incidents").await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], ia);
    assert_eq!(
        fixer.get(&format!("/api/v1/incidents/{ib}")).await.status,
        404
    );
    assert_eq!(
        fixer
            .post_json(
                &format!("/api/v1/incidents/{ib}/transitions"),
                &json!({"to": "acknowledged", "version": 2})
            )
            .await
            .status,
        404
    );
    // Only the engineer's steps.
    assert_eq!(
        fixer
            .post_json(
                &format!("/api/v1/incidents/{ia}/transitions"),
                &json!({"to": "cancelled", "version": 2})
            )
            .await
            .status,
        422
    );
    let r = fixer
        .post_json(
            &format!("/api/v1/incidents/{ia}/transitions"),
            &json!({"to": "acknowledged", "version": 2}),
        )
        .await;
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

async fn inspections_maintenance_risk_and_kpis(b: Backend) {
    let e = setup(b).await;
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    let id = add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let id2 = add_elevator(&mut admin, "234567", "990101", e.company_a, 2).await;
    let mut insp = client(&e.db, &e.router, e.city, "inspector").await;
    let today = registry::today();
    let r = insp.post_json(&format!("/api/v1/equipment/{id}/inspections"), &json!({"inspected_on": today.to_string(), "conclusion": "fail", "defects": ["层门门锁啮合长度不足"], "inspector": "李工"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let iid = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json()["rectification"], "open");
    let eq = insp.get(&format!("/api/v1/equipment/{id}")).await.json();
    assert_eq!(eq["must_not_use"], true);
    let r = insp.post_json(&format!("/api/v1/equipment/{id2}/inspections"), &json!({"inspected_on": (today - Duration::days(400)).to_string(), "conclusion": "pass"})).await;
    assert_eq!(r.status, 201);
    let overdue = insp.get("/api/v1/equipment?due=overdue").await.json();
    assert_eq!(overdue["total"], 1);
    assert_eq!(overdue["items"][0]["id"], id2);
    assert_eq!(
        insp.get("/api/v1/equipment?due=90").await.json()["total"],
        1,
        "the failed one is due today"
    );
    assert_eq!(
        insp.post_json(
            &format!("/api/v1/equipment/{id}/inspections"),
            &json!({"inspected_on": today.to_string(), "conclusion": "ok"})
        )
        .await
        .status,
        422
    );
    let r = insp
        .post_json(
            &format!("/api/v1/equipment/inspections/{iid}/rectify"),
            &json!({"rectified_on": today.to_string()}),
        )
        .await;
    assert_eq!(r.json()["rectification"], "closed");
    let r = insp
        .post_json(
            &format!("/api/v1/equipment/{id}/inspections"),
            &json!({"inspected_on": today.to_string(), "conclusion": "recheck_pass"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        insp.get(&format!("/api/v1/equipment/{id}")).await.json()["must_not_use"],
        false
    );
    // Cycles are data and editable.
    let cycles = insp.get("/api/v1/equipment/cycles").await.json();
    let elev = cycles
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "3000")
        .unwrap()
        .clone();
    assert_eq!(elev["interval_months"], 12);
    assert_eq!(
        admin
            .post_json(
                &format!("/api/v1/equipment/cycles/{}", elev["id"]),
                &json!({"first_after_months": 12, "interval_months": 1})
            )
            .await
            .status,
        422
    );
    // Maintenance: both elevators overdue (never maintained) for company A.
    let m = admin
        .get("/api/v1/equipment/maintenance/overdue")
        .await
        .json();
    assert_eq!(m[0]["company_id"], e.company_a);
    assert_eq!(m[0]["overdue"], 2);
    // Risk: components shown, old elevator scores the age points.
    let risk = admin.get("/api/v1/equipment/risk").await.json();
    let row = &risk[0];
    assert!(row["age_years"].as_i64().unwrap() >= 15);
    assert!(row["points_age"].as_i64().unwrap() >= 25);
    assert_eq!(
        row["score"].as_i64().unwrap(),
        [
            "points_age",
            "points_trappings",
            "points_faults",
            "points_inspections",
            "points_maintenance",
            "points_overdue_inspection",
            "points_renovation"
        ]
        .iter()
        .map(|k| row[*k].as_i64().unwrap())
        .sum::<i64>()
        .max(0)
    );
    // KPIs over a closed incident.
    let mut d = client(&e.db, &e.router, e.city, "dispatcher").await;
    let iid = d
        .post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": "123456", "channel": "phone"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut v = 1;
    for to in ["dispatched", "acknowledged", "on_scene", "released"] {
        assert_eq!(
            d.post_json(
                &format!("/api/v1/incidents/{iid}/transitions"),
                &json!({"to": to, "version": v})
            )
            .await
            .status,
            200
        );
        v += 1;
    }
    let month = today.format("%Y-%m").to_string();
    let k = d
        .get(&format!(
            "/api/v1/kpis/elevators?region=990100&month={month}"
        ))
        .await;
    assert_eq!(k.status, 200, "{}", k.body);
    let k = k.json();
    assert_eq!(k["trappings"], 1);
    assert_eq!(k["elevators"], 2);
    assert_eq!(k["trapping_rate_per_10k"], 5000.0);
    assert_eq!(k["ack_3min_rate"], 100.0);
    assert_eq!(k["arrive_30min_rate"], 100.0);
    assert_eq!(k["level_mix"]["L1"], 1);
    assert_eq!(k["hour_mix"].as_array().unwrap().len(), 24);
    assert_eq!(k["companies"][0]["company_id"], e.company_a);
    assert_eq!(
        d.get("/api/v1/kpis/elevators?region=990100&month=2026-13")
            .await
            .status,
        422
    );
    let mut east = client(&e.db, &e.router, e.city, "east").await;
    assert_eq!(
        east.get("/api/v1/kpis/elevators?region=990101")
            .await
            .status,
        404
    );
}

async fn hooks_feed_indicators_and_report(b: Backend) {
    let e = setup(b).await;
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let mut d = client(&e.db, &e.router, e.city, "dispatcher").await;
    let iid = d
        .post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": "123456", "channel": "phone"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut v = 1;
    for to in ["dispatched", "on_scene"] {
        d.post_json(
            &format!("/api/v1/incidents/{iid}/transitions"),
            &json!({"to": to, "version": v}),
        )
        .await;
        v += 1;
    }
    let year = incidents::year_of(chrono::Utc::now());
    let feed = EquipmentModule
        .indicator_feed(&e.db, e.city, year)
        .await
        .unwrap();
    let get = |ind: &str, region: &str| {
        feed.iter()
            .find(|f| f.indicator == ind && f.region_code == region)
            .map(|f| f.value)
    };
    assert_eq!(
        get("CQ-ELEV-TRAP", "990100"),
        Some(10_000.0 / 12.0 * 100.0_f64).map(|x| (x).round() / 100.0)
    );
    assert_eq!(get("CQ-ELEV-ARRIVE30", "990101"), Some(100.0));
    assert!(get("CQ-SE-INSPECT", "990100").is_some());
    let sections = EquipmentModule
        .report_sections(&e.db, e.city, year)
        .await
        .unwrap();
    assert_eq!(sections[0].key, "equipment.elevators");
    assert_eq!(sections[0].tables[0].rows.len(), 2);
}

async fn pages_render_in_both_languages(b: Backend) {
    let e = setup(b).await;
    let mut admin = client(&e.db, &e.router, e.city, "admin").await;
    let id = add_elevator(&mut admin, "123456", "990101", e.company_a, 1).await;
    let mut d = client(&e.db, &e.router, e.city, "dispatcher").await;
    let iid = d
        .post_json(
            "/api/v1/incidents",
            &json!({"rescue_code": "123456", "channel": "phone"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut browser = TestClient::new(e.router.clone());
    let r = browser.login("admin", "password-admin").await;
    assert!(r.status == 303 || r.status == 200);
    for (path, want) in [
        ("/app/equipment/registry".to_string(), "123456"),
        (format!("/app/equipment/registry/{id}"), "0599-1111111"),
        ("/app/equipment/intake?q=123456".to_string(), "0599-1111111"),
        ("/app/equipment/board".to_string(), "data-board"),
        (format!("/app/equipment/incidents/{iid}"), "located"),
        ("/app/equipment/inspections".to_string(), "overdue"),
        ("/app/equipment/risk".to_string(), "123456"),
        ("/app/equipment/kpi".to_string(), "data-chart"),
        ("/app/equipment/jobs".to_string(), "<html"),
    ] {
        let r = browser.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(r.body.contains(want), "{path} lacks {want}");
        assert!(
            !r.body.contains("equipment-"),
            "{path} has an untranslated key"
        );
    }
    browser.get("/lang?set=en&next=/app").await;
    let r = browser.get("/app/equipment/registry").await;
    assert!(
        r.body.contains("Registry") || r.body.contains("registry"),
        "English page"
    );
    // A district viewer gets 404 for another district's elevator page.
    let mut east = TestClient::new(e.router.clone());
    east.login("east", "password-east").await;
    assert_eq!(
        east.get(&format!("/app/equipment/registry/{id}"))
            .await
            .status,
        404
    );
    let _ = e.company_b;
}
