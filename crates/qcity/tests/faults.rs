//! Fault injection on the real binary (the 96333 intake's `kill -9` is in
//! `equipment_durability.rs`; the database outage under MQTT load in the equipment and metering
//! PostgreSQL suites):
//! - `kill -9` while citizens submit the survey: every submission answered with the thank-you
//!   redirect is a complete response after restart;
//! - a full disk on SQLite (`database.sqlite_max_page_count`): writes are refused with a clear
//!   `507 storage_full`, reads go on, nothing is half-written, the file passes
//!   `PRAGMA integrity_check`, and with room again writes resume;
//! - the served OpenAPI document of the whole product declares every path parameter and names no
//!   operation twice.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::{Server, city_with_users, get_json};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A questionnaire of two pages and a collecting wave; returns (wave id, open-link token).
async fn collecting_wave(c: &reqwest::Client, base: &str, admin: &str) -> (i64, String) {
    let def = json!({
        "code": "F", "title_zh": "故障测试问卷", "title_en": "Faults",
        "questions": [
            {"code": "D1", "kind": "district", "demographic": "district", "text_zh": "区", "required": true, "page": 1},
            {"code": "D2", "kind": "single", "demographic": "age_group", "text_zh": "年龄", "required": true, "page": 1,
             "options": [{"code": "young", "label_zh": "青"}, {"code": "old", "label_zh": "老"}]},
            {"code": "P01", "kind": "likert", "scale": 5, "domain": "product", "text_zh": "食品", "required": true, "page": 2}
        ]
    });
    let r = c
        .post(format!("{base}/api/v1/survey/questionnaires"))
        .bearer_auth(admin)
        .json(&def)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let qid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = c.post(format!("{base}/api/v1/survey/waves")).bearer_auth(admin)
        .json(&json!({"questionnaire_id": qid, "year": 2026, "name_zh": "2026年测评", "modes": ["web"], "target_n": 1000}))
        .send().await.unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = c
        .post(format!("{base}/api/v1/survey/waves/{id}/status"))
        .bearer_auth(admin)
        .json(&json!({"status": "collecting"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let w = r.json::<Value>().await.unwrap();
    (id, w["open_token"].as_str().unwrap().to_string())
}

fn csrf_of(page: &str) -> Option<String> {
    let i = page.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    Some(page[i..].split('"').next()?.to_string())
}

/// One citizen answers both pages in a fresh browser (own cookies); true when the submission
/// was answered with the thank-you redirect.
async fn citizen(base: String, token: String, age: &'static str) -> bool {
    let Ok(c) = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
    else {
        return false;
    };
    let link = format!("{base}/s/{token}");
    let Ok(r) = c.get(&link).send().await else {
        return false;
    };
    let Some(csrf) = r.text().await.ok().as_deref().and_then(csrf_of) else {
        return false;
    };
    let page1 = [
        ("_csrf", csrf.as_str()),
        ("page", "1"),
        ("action", "next"),
        ("q_D1", "990101"),
        ("q_D2", age),
    ];
    if !c
        .post(&link)
        .form(&page1)
        .send()
        .await
        .is_ok_and(|r| r.status() == 303)
    {
        return false;
    }
    let page2 = [
        ("_csrf", csrf.as_str()),
        ("page", "2"),
        ("action", "submit"),
        ("q_P01", "4"),
    ];
    match c.post(&link).form(&page2).send().await {
        Ok(r) => {
            r.status() == 303
                && r.headers()
                    .get("location")
                    .is_some_and(|l| l.as_bytes() == b"/s/thanks")
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn survey_submissions_answered_before_kill_9_are_all_kept() {
    let (dir, tokens) = city_with_users("faults-survey", &[("boss", "admin")]);
    let (d, admin) = (&dir.0, &tokens[0]);
    let c = client();
    let mut server = Server::start(&c, d, &[]).await;
    let base = server.base.clone();
    let (wave, token) = collecting_wave(&c, &base, admin).await;
    // Citizens keep arriving; the server is killed while they submit.
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let (b, t) = (base.clone(), token.clone());
        let age = if i % 2 == 0 { "young" } else { "old" };
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(u64::from(i) * 5)).await;
            citizen(b, t, age).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    server.kill();
    let mut thanked = 0i64;
    for t in tasks {
        thanked += i64::from(t.await.unwrap());
    }
    let server = Server::start(&c, d, &[]).await;
    let base2 = server.base.clone();
    let w = get_json(&c, &format!("{base2}/api/v1/survey/waves/{wave}"), admin).await;
    let completed = w["wave"]["completed"].as_i64().unwrap();
    eprintln!("{thanked} submissions thanked before kill -9; {completed} complete after restart");
    assert!(thanked > 0, "the kill came before any submission");
    assert!(
        completed >= thanked,
        "thanked {thanked} but only {completed} complete after restart"
    );
    // The collection goes on after the restart.
    assert!(citizen(base2, token, "old").await);
}

#[tokio::test]
async fn a_full_sqlite_disk_refuses_writes_clearly_and_corrupts_nothing() {
    let (dir, tokens) = city_with_users("faults-disk", &[("boss", "admin")]);
    let (d, admin) = (&dir.0, &tokens[0]);
    let db = d.join("qcity.sqlite");
    let pages = std::fs::metadata(&db).unwrap().len() / 4096;
    // Room for a little more than what the file holds. Pages still in the WAL count too once
    // checkpointed, and the server's start writes some: with only 40 pages to spare the first
    // elevator was sometimes refused (about one run in three).
    let cap = (pages + 400).to_string();
    let c = client();
    let mut server = Server::start(
        &c,
        d,
        &[("QCITY_DATABASE__SQLITE_MAX_PAGE_COUNT", cap.as_str())],
    )
    .await;
    let base = server.base.clone();
    let company = json!({"name_zh": "维保公司", "license_no": "L0", "duty_phone": "0599-1234567", "region_code": "990101", "lon": 118.1, "lat": 24.5});
    let r = c
        .post(format!("{base}/api/v1/equipment/companies"))
        .bearer_auth(admin)
        .json(&company)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Fill it: elevators with long addresses until the database refuses.
    let pad = "幸福路".repeat(300);
    let mut created = Vec::new();
    let mut refusal = None;
    for i in 0..5000u32 {
        let r = c.post(format!("{base}/api/v1/equipment")).bearer_auth(admin)
            .json(&json!({"category": "3000", "variety": "3110", "rescue_code": format!("{}", 300_000 + i), "name": format!("{i}号梯"), "use_unit": "物业", "company_id": cid, "address": format!("{pad}{i}号"), "region_code": "990101", "lon": 118.1, "lat": 24.5}))
            .send().await.unwrap();
        match r.status().as_u16() {
            201 => created.push(300_000 + i),
            _ => {
                let status = r.status().as_u16();
                let ct = r.headers()["content-type"].to_str().unwrap().to_string();
                refusal = Some((status, ct, r.json::<Value>().await.unwrap()));
                break;
            }
        }
    }
    let (status, ct, body) = refusal.expect("the database never filled up");
    eprintln!("{} elevators stored, then: {status} {body}", created.len());
    assert_eq!(status, 507, "{body}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(body["code"], "storage_full");
    assert!(!created.is_empty());
    // Reads go on; the server stays up.
    let r = c
        .get(format!("{base}/api/v1/equipment?limit=1"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    server.kill();

    // With room again: nothing lost, nothing half-written, the file is sound, writes resume.
    let mut server = Server::start(&c, d, &[]).await;
    let base2 = server.base.clone();
    let list = get_json(&c, &format!("{base2}/api/v1/equipment?limit=1"), admin).await;
    assert_eq!(
        list["total"].as_u64(),
        Some(created.len() as u64),
        "exactly the accepted ones"
    );
    let r = c
        .post(format!("{base2}/api/v1/equipment"))
        .bearer_auth(admin)
        .json(&json!({"category": "3000", "variety": "3110", "rescue_code": "399999", "name": "新梯", "use_unit": "物业", "company_id": cid, "address": "幸福路1号", "region_code": "990101", "lon": 118.1, "lat": 24.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    server.kill();
    use sea_orm::{ConnectionTrait, Statement};
    let conn = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", db.display()))
        .await
        .unwrap();
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap();
    let verdict: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    assert_eq!(verdict, vec!["ok".to_string()]);
}

#[tokio::test]
async fn the_whole_products_openapi_declares_every_path_parameter() {
    let (dir, _) = city_with_users("faults-openapi", &[]);
    let c = client();
    let server = Server::start(&c, &dir.0, &[]).await;
    let doc: Value = c
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    use qcity_platform::web::openapi::{duplicate_operation_ids, undeclared_path_parameters};
    assert!(doc["paths"].as_object().unwrap().len() > 50);
    assert_eq!(undeclared_path_parameters(&doc), Vec::<String>::new());
    assert_eq!(duplicate_operation_ids(&doc), Vec::<String>::new());
}
