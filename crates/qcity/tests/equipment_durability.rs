//! 96333 reliability on the real binary: concurrent intakes, `kill -9` mid-load, restart, and
//! count: every incident answered `201` is there, no idempotency key has two incidents; the
//! acknowledgement deadline that passed while the server was down escalates after restart; two
//! concurrent transitions with the same version have exactly one winner.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

mod support;
use support::{Server, city_with_users, get_json};

struct Setup {
    _dir: qcity_platform::testing::TempDir,
    dispatcher: String,
    admin: String,
}

fn setup() -> Setup {
    let (dir, tokens) = city_with_users("eq-durable", &[("disp", "dispatcher"), ("boss", "admin")]);
    Setup {
        dispatcher: tokens[0].clone(),
        admin: tokens[1].clone(),
        _dir: dir,
    }
}

#[tokio::test]
async fn accepted_incidents_survive_kill_9_and_timers_resume() {
    let s = setup();
    let d = s._dir.0.clone();
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let mut server = Server::start(&c, &d, &[]).await;
    let base = server.base.clone();

    // Two companies and 50 elevators.
    let mut companies = Vec::new();
    for (i, lon) in [118.1, 118.2].iter().enumerate() {
        let r = c.post(format!("{base}/api/v1/equipment/companies")).bearer_auth(&s.admin)
            .json(&serde_json::json!({"name_zh": format!("维保{i}"), "license_no": format!("L{i}"), "duty_phone": "0599-1234567", "region_code": "990101", "lon": lon, "lat": 24.5}))
            .send().await.unwrap();
        assert_eq!(r.status(), 201);
        companies.push(
            r.json::<serde_json::Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for i in 0..50u32 {
        let r = c.post(format!("{base}/api/v1/equipment")).bearer_auth(&s.admin)
            .json(&serde_json::json!({"category": "3000", "variety": "3110", "rescue_code": format!("{}", 200_000 + i), "name": format!("{i}号梯"), "use_unit": "物业", "company_id": companies[0], "address": format!("幸福路{i}号"), "region_code": "990101", "lon": 118.1, "lat": 24.5}))
            .send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let r = c
        .post(format!("{base}/api/v1/equipment/timers"))
        .bearer_auth(&s.admin)
        .json(&serde_json::json!({"region_code": "990101", "ack_secs": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // An incident whose acknowledgement deadline will pass while the server is down.
    let r = c
        .post(format!("{base}/api/v1/incidents"))
        .bearer_auth(&s.dispatcher)
        .json(&serde_json::json!({"rescue_code": "200049", "channel": "phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let timed: i64 = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = c
        .post(format!("{base}/api/v1/incidents/{timed}/transitions"))
        .bearer_auth(&s.dispatcher)
        .json(&serde_json::json!({"to": "dispatched", "version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Concurrent intakes, each key sent twice at once; the server is killed mid-load.
    let mut tasks = Vec::new();
    for i in 0..160u32 {
        for _dup in 0..2 {
            let c = c.clone();
            let url = format!("{base}/api/v1/incidents");
            let tok = s.dispatcher.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("k-{i}");
                let r = c.post(url).bearer_auth(tok).header("Idempotency-Key", &key)
                    .json(&serde_json::json!({"rescue_code": format!("{}", 200_000 + (i % 49)), "channel": "phone", "caller_phone": "13800000000"}))
                    .timeout(Duration::from_secs(20))
                    .send().await;
                match r {
                    Ok(r) if r.status() == 201 || r.status() == 200 => {
                        let st = r.status().as_u16();
                        let j: serde_json::Value = r.json().await.unwrap_or_default();
                        Some((key, st, j["id"].as_i64().unwrap_or(0)))
                    }
                    _ => None,
                }
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.kill(); // SIGKILL
    let mut acked: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut created = 0;
    for t in tasks {
        if let Some((key, st, id)) = t.await.unwrap() {
            if st == 201 {
                created += 1;
            }
            acked.entry(key).or_default().insert(id);
        }
    }
    for (k, ids) in &acked {
        assert_eq!(ids.len(), 1, "key {k} answered with two incidents {ids:?}");
    }
    // Down past the acknowledgement deadline.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let server = Server::start(&c, &d, &[]).await;
    let base2 = server.base.clone();
    let all = get_json(
        &c,
        &format!("{base2}/api/v1/incidents?state=all&limit=2000"),
        &s.dispatcher,
    )
    .await;
    let all = all.as_array().unwrap();
    let stored: BTreeSet<i64> = all.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    let lost: Vec<i64> = acked
        .values()
        .flatten()
        .filter(|id| !stored.contains(id))
        .copied()
        .collect();
    assert!(lost.is_empty(), "accepted but lost: {lost:?}");
    eprintln!(
        "answered {} keys ({created} created) before kill -9; {} incidents stored; 0 lost",
        acked.len(),
        stored.len()
    );
    // Zero duplicated: each key's retries produced one incident — and after restart, retrying
    // every key (answered or not) creates nothing twice.
    for i in 0..160u32 {
        let key = format!("k-{i}");
        let r = c.post(format!("{base2}/api/v1/incidents")).bearer_auth(&s.dispatcher).header("Idempotency-Key", &key)
            .json(&serde_json::json!({"rescue_code": format!("{}", 200_000 + (i % 49)), "channel": "phone"})).send().await.unwrap();
        assert!(r.status() == 200 || r.status() == 201);
        let id = r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        if let Some(ids) = acked.get(&key) {
            assert!(ids.contains(&id), "key {key} now maps to another incident");
        }
    }
    let all = get_json(
        &c,
        &format!("{base2}/api/v1/incidents?state=all&limit=2000"),
        &s.dispatcher,
    )
    .await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 161, "one incident per key plus the timed one");

    // The stored deadline passed while down: the scanner escalates after restart.
    let mut escalated = serde_json::Value::Null;
    for _ in 0..50 {
        let j = get_json(
            &c,
            &format!("{base2}/api/v1/incidents/{timed}"),
            &s.dispatcher,
        )
        .await;
        if j["state"] == "escalated_l2" {
            escalated = j;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        escalated["state"], "escalated_l2",
        "timer did not resume after restart"
    );
    assert_eq!(escalated["company_id"], companies[1]);

    // Two dispatchers, one version: exactly one wins.
    let r = c
        .post(format!("{base2}/api/v1/incidents"))
        .bearer_auth(&s.dispatcher)
        .json(&serde_json::json!({"rescue_code": "200048", "channel": "phone"}))
        .send()
        .await
        .unwrap();
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let url = format!("{base2}/api/v1/incidents/{id}/transitions");
    let (a, b) = tokio::join!(
        c.post(&url)
            .bearer_auth(&s.dispatcher)
            .json(&serde_json::json!({"to": "dispatched", "version": 1}))
            .send(),
        c.post(&url)
            .bearer_auth(&s.admin)
            .json(&serde_json::json!({"to": "false_alarm", "version": 1}))
            .send(),
    );
    let mut st = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    st.sort();
    assert_eq!(st, [200, 409]);
}
