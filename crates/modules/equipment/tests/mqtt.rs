//! MQTT ingest against a real broker (Mosquitto), run when `QCITY_TEST_MQTT_URL` is set
//! (e.g. `mqtt://127.0.0.1:1883`): a flood of duplicate trapped-alarm frames creates one
//! incident; an unknown elevator is recorded and a garbage frame dead-lettered, and the consumer
//! keeps running. With `QCITY_TEST_POSTGRES_URL` too, PostgreSQL goes away (hangs, or refuses
//! connections) behind a TCP proxy while alarms are published, and every alarm is stored once.

mod common;
#[path = "support/pg_proxy.rs"]
mod pg_proxy;

use common::{company, count, modules};
use qcity_equipment::mqtt;
use qcity_equipment::registry::{self, NewEquipment};
use qcity_platform::testing::{Backend, TestDb, seed_small_city};
use qcity_platform::{CityId, Scope};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use std::time::Duration;

#[tokio::test]
#[cfg_attr(
    not(qcity_mqtt),
    ignore = "set QCITY_TEST_MQTT_URL to run against a real broker"
)]
async fn duplicate_alarm_flood_makes_one_incident() {
    let url =
        std::env::var("QCITY_TEST_MQTT_URL").unwrap_or_else(|_| "mqtt://127.0.0.1:1883".into());
    let t = TestDb::migrated(Backend::Sqlite, &modules()).await;
    // A rescue code unique to this run, so retained or stray messages of other runs do not count.
    let rescue = city_with_elevator(&t.db).await;

    let consumer = tokio::spawn(mqtt::run(
        t.db.clone(),
        url.clone(),
        format!("qcity-test-{rescue}"),
    ));
    let (host, port) = mqtt::parse_url(&url).unwrap();
    let mut opts = MqttOptions::new(format!("pub-{rescue}"), host, port);
    opts.set_keep_alive(Duration::from_secs(10));
    let (client, mut ev) = AsyncClient::new(opts, 500);
    tokio::spawn(async move { while ev.poll().await.is_ok() {} });
    // Give the consumer time to subscribe.
    let mut subscribed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        client
            .publish(
                format!("qcity/990100/elevator/{rescue}/alarm"),
                QoS::AtLeastOnce,
                false,
                br#"{"alarm_code":"05","device_id":"probe"}"#.to_vec(),
            )
            .await
            .unwrap();
        let n = count(
            &t.db,
            &format!("SELECT COUNT(*) AS n FROM eq_iot_alarms WHERE rescue_code = '{rescue}'"),
        )
        .await;
        if n > 0 {
            subscribed = true;
            break;
        }
    }
    assert!(subscribed, "consumer never received a message");
    for i in 0..200 {
        let body = format!(
            r#"{{"alarm_code":"02","timestamp":"2026-01-01T08:00:{:02}Z","device_id":"gw-1"}}"#,
            i % 60
        );
        client
            .publish(
                format!("qcity/990100/elevator/{rescue}/alarm"),
                QoS::AtLeastOnce,
                false,
                body.into_bytes(),
            )
            .await
            .unwrap();
    }
    client
        .publish(
            "qcity/990100/elevator/99999999/alarm",
            QoS::AtLeastOnce,
            false,
            br#"{"alarm_code":"02","device_id":"stranger"}"#.to_vec(),
        )
        .await
        .unwrap();
    client
        .publish(
            format!("qcity/990100/elevator/{rescue}/alarm"),
            QoS::AtLeastOnce,
            false,
            b"not json".to_vec(),
        )
        .await
        .unwrap();
    let mut n = 0;
    for _ in 0..300 {
        n = count(&t.db, &format!("SELECT COUNT(*) AS n FROM eq_iot_alarms WHERE rescue_code = '{rescue}' AND alarm_code = '02'")).await;
        if n >= 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(n, 200, "every trapped-alarm frame recorded");
    let incidents = count(
        &t.db,
        &format!("SELECT COUNT(*) AS n FROM eq_incidents WHERE rescue_code = '{rescue}'"),
    )
    .await;
    assert_eq!(incidents, 1, "a flood of duplicates is one incident");
    let dups = count(&t.db, &format!("SELECT COUNT(*) AS n FROM eq_iot_alarms WHERE rescue_code = '{rescue}' AND outcome = 'duplicate'")).await;
    assert_eq!(dups, 199);
    for _ in 0..50 {
        if count(&t.db, "SELECT COUNT(*) AS n FROM eq_iot_alarms WHERE rescue_code = '99999999' AND outcome = 'unknown_elevator'").await >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(count(&t.db, "SELECT COUNT(*) AS n FROM eq_iot_alarms WHERE rescue_code = '99999999' AND outcome = 'unknown_elevator'").await >= 1);
    assert!(
        !consumer.is_finished(),
        "the consumer survived the garbage frame"
    );
    consumer.abort();
}

/// Publishes to the test broker.
fn publisher(url: &str, id: &str) -> AsyncClient {
    let (host, port) = mqtt::parse_url(url).expect("broker URL");
    let mut opts = MqttOptions::new(id, host, port);
    opts.set_keep_alive(Duration::from_secs(10));
    let (client, mut ev) = AsyncClient::new(opts, 1000);
    tokio::spawn(async move {
        loop {
            if ev.poll().await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    client
}

/// A city with one elevator under a rescue code unique to this run; returns the code.
async fn city_with_elevator(db: &sea_orm::DatabaseConnection) -> String {
    let city = seed_small_city(db, &[]).await;
    let c = registry::create_company(db, city, &company("甲", "L", "990101"))
        .await
        .unwrap();
    let rescue = format!(
        "{}",
        10_000_000 + (qcity_platform::ids::new_id().rem_euclid(89_999_999))
    );
    registry::create_equipment(
        db,
        &Scope::city(CityId(city)),
        &NewEquipment {
            category: "3000".into(),
            variety: "3110".into(),
            rescue_code: Some(rescue.clone()),
            name: "1号梯".into(),
            use_unit: "物业".into(),
            company_id: Some(c.id),
            address: "幸福路1号".into(),
            region_code: "990101".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    rescue
}

/// Polls `q` until it returns at least `n` (or 30 s pass); returns the last count.
async fn wait_count(db: &sea_orm::DatabaseConnection, q: &str, n: i64) -> i64 {
    let mut got = 0;
    for _ in 0..300 {
        got = count(db, q).await;
        if got >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got
}

/// Publishes `frame` every 300 ms until the consumer has made `q` count at least 1 (it is
/// subscribed then).
async fn until_subscribed(
    db: &sea_orm::DatabaseConnection,
    client: &AsyncClient,
    topic: &str,
    frame: &[u8],
    q: &str,
) {
    for _ in 0..50 {
        client
            .publish(topic, QoS::AtLeastOnce, false, frame.to_vec())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        if count(db, q).await > 0 {
            return;
        }
    }
    panic!("the consumer never received a frame");
}

/// Alarms published while PostgreSQL is away for over 10 s (behind a proxy in `outage` mode)
/// are all stored once it is back, none twice. The consumer has not looked the city up before the
/// outage, so its first lookup fails too (before: "unknown city", frames skipped and acked).
async fn alarms_survive_an_outage(outage: pg_proxy::Mode) {
    let url = std::env::var("QCITY_TEST_MQTT_URL").expect("QCITY_TEST_MQTT_URL");
    let t = TestDb::migrated(Backend::Postgres, &modules()).await;
    let rescue = city_with_elevator(&t.db).await;
    // qcity's pool reaches PostgreSQL through the proxy, with timeouts that end a hung attempt
    // in seconds.
    let authority = t
        .url
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap();
    let host_port = authority.rsplit('@').next().unwrap();
    let upstream = tokio::net::lookup_host(host_port)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = pg_proxy::Proxy::start(upstream).await;
    let proxied_url = t.url.replacen(host_port, &proxy.addr.to_string(), 1);
    let mut co = sea_orm::ConnectOptions::new(proxied_url);
    co.max_connections(4)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(2))
        .sqlx_logging(false);
    let pool = sea_orm::Database::connect(co).await.unwrap();
    let metrics = std::sync::Arc::new(qcity_platform::web::metrics::Metrics::default());
    let mut opts = mqtt::options(
        &url,
        &format!("qcity-outage-{rescue}"),
        Some(metrics.clone()),
    );
    opts.attempt_timeout = Duration::from_secs(3);
    opts.backoff = (Duration::from_millis(100), Duration::from_secs(1));
    let consumer = tokio::spawn(mqtt::run_with(pool, opts));
    let client = publisher(&url, &format!("pub-outage-{rescue}"));
    // Subscribed once a frame for a city no one has is dead-lettered (990100 stays unlooked-up).
    until_subscribed(
        &t.db,
        &client,
        &format!("qcity/990900/elevator/{rescue}/alarm"),
        br#"{"alarm_code":"02"}"#,
        "SELECT COUNT(*) AS n FROM mqtt_dead_letters WHERE city_code = '990900'",
    )
    .await;

    proxy.set(outage);
    let topic = format!("qcity/990100/elevator/{rescue}/alarm");
    const N: usize = 120;
    let started = std::time::Instant::now();
    for i in 0..N {
        // A steady stream over 12 s.
        let body = format!(r#"{{"alarm_code":"02","device_id":"gw-{i}"}}"#);
        client
            .publish(&topic, QoS::AtLeastOnce, false, body.into_bytes())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let q_all = format!("SELECT COUNT(*) AS n FROM eq_iot_alarms WHERE rescue_code = '{rescue}'");
    assert_eq!(
        count(&t.db, &q_all).await,
        0,
        "nothing stored while the database is away"
    );
    assert!(started.elapsed() >= Duration::from_secs(10));
    assert!(!consumer.is_finished(), "the consumer survives the outage");
    proxy.set(pg_proxy::Mode::Pass);

    let n = wait_count(&t.db, &q_all, N as i64).await;
    assert_eq!(
        n, N as i64,
        "every alarm published during the outage stored"
    );
    // Late redeliveries would show up now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rows = qcity_platform::store::sql::all(
        &t.db,
        "SELECT device_id, COUNT(*) AS n FROM eq_iot_alarms WHERE rescue_code = ? GROUP BY device_id ORDER BY device_id",
        vec![rescue.clone().into()],
    )
    .await
    .unwrap();
    let mut got: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "device_id").unwrap(),
                r.try_get("", "n").unwrap(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, i64)> = (0..N).map(|i| (format!("gw-{i}"), 1)).collect();
    want.sort();
    assert_eq!(got, want, "exactly the published alarms, each once");
    // Only this test's frames (`gw-N`): the broker is shared with the other tests of this
    // binary, whose deliberately malformed frames a consumer here may take and dead-letter.
    let dead: Vec<String> = qcity_platform::store::sql::all(
        &t.db,
        "SELECT reason FROM mqtt_dead_letters WHERE city_code = '990100' AND payload_text LIKE '%\"gw-%'",
        vec![],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get("", "reason").unwrap())
    .collect();
    assert!(dead.is_empty(), "none of ours dead-lettered: {dead:?}");
    assert_eq!(
        count(
            &t.db,
            &format!("SELECT COUNT(*) AS n FROM eq_incidents WHERE rescue_code = '{rescue}'")
        )
        .await,
        1
    );
    assert!(
        metrics
            .render()
            .contains("qcity_equipment_mqtt_retries_total"),
        "retries are counted on /metrics"
    );
    consumer.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(qcity_pg, qcity_mqtt)),
    ignore = "set QCITY_TEST_POSTGRES_URL and QCITY_TEST_MQTT_URL"
)]
async fn postgres_mqtt_alarms_survive_a_hung_database() {
    alarms_survive_an_outage(pg_proxy::Mode::Blackhole).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(qcity_pg, qcity_mqtt)),
    ignore = "set QCITY_TEST_POSTGRES_URL and QCITY_TEST_MQTT_URL"
)]
async fn postgres_mqtt_alarms_survive_a_refusing_database() {
    alarms_survive_an_outage(pg_proxy::Mode::Refuse).await;
}

/// A bad-JSON frame and a frame for an unknown city land in the dead-letter table and are
/// acknowledged: a second consumer resuming the same persistent sessions gets neither again.
#[tokio::test]
#[cfg_attr(
    not(qcity_mqtt),
    ignore = "set QCITY_TEST_MQTT_URL to run against a real broker"
)]
async fn mqtt_bad_frames_are_dead_lettered_and_acked() {
    let url = std::env::var("QCITY_TEST_MQTT_URL").expect("QCITY_TEST_MQTT_URL");
    let t = TestDb::migrated(Backend::Sqlite, &modules()).await;
    let rescue = city_with_elevator(&t.db).await;
    let id = format!("qcity-dead-{rescue}");
    // The first consumer runs on its own runtime, so that stopping it closes its connections
    // without a DISCONNECT (the broker keeps the sessions, as after a crash).
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (db_url, u, i) = (t.url.clone(), url.clone(), id.clone());
    let first = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let db = qcity_platform::db::connect_url(&db_url, 4, "normal")
                .await
                .unwrap();
            tokio::select! {
                _ = mqtt::run(db, u, i) => {}
                _ = stopped => {}
            }
        });
    });
    let client = publisher(&url, &format!("pub-dead-{rescue}"));
    let topic = format!("qcity/990100/elevator/{rescue}/alarm");
    let q_alarms =
        format!("SELECT COUNT(*) AS n FROM eq_iot_alarms WHERE rescue_code = '{rescue}'");
    until_subscribed(&t.db, &client, &topic, br#"{"alarm_code":"05"}"#, &q_alarms).await;
    let alarms = count(&t.db, &q_alarms).await;
    client
        .publish(&topic, QoS::AtLeastOnce, false, b"{not json".to_vec())
        .await
        .unwrap();
    client
        .publish(
            format!("qcity/990800/elevator/{rescue}/alarm"),
            QoS::AtLeastOnce,
            false,
            br#"{"alarm_code":"02"}"#.to_vec(),
        )
        .await
        .unwrap();
    let q_dead =
        format!("SELECT COUNT(*) AS n FROM mqtt_dead_letters WHERE topic LIKE '%/{rescue}/alarm'");
    assert_eq!(wait_count(&t.db, &q_dead, 2).await, 2);
    let rows = qcity_platform::store::sql::all(
        &t.db,
        &format!("SELECT city_code, city_id, payload_text, reason, consumer FROM mqtt_dead_letters WHERE topic LIKE '%/{rescue}/alarm' ORDER BY city_code"),
        vec![],
    )
    .await
    .unwrap();
    type Row = (Option<String>, Option<i64>, Option<String>, String, String);
    let bad: Vec<Row> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "city_code").unwrap(),
                r.try_get("", "city_id").unwrap(),
                r.try_get("", "payload_text").unwrap(),
                r.try_get("", "reason").unwrap(),
                r.try_get("", "consumer").unwrap(),
            )
        })
        .collect();
    assert_eq!(bad[0].0.as_deref(), Some("990100"));
    assert!(bad[0].1.is_some(), "the known city is kept");
    assert_eq!(bad[0].2.as_deref(), Some("{not json"));
    assert!(bad[0].3.contains("JSON"), "{}", bad[0].3);
    assert_eq!(bad[1].0.as_deref(), Some("990800"));
    assert_eq!(bad[1].1, None);
    assert!(bad[1].3.contains("unknown city"), "{}", bad[1].3);
    assert_eq!(bad[1].4, "equipment");

    // Stop the first consumer and resume its sessions with a second one: had the frames not
    // been acknowledged, the broker would redeliver them now.
    stop.send(()).unwrap();
    first.join().unwrap();
    let second = tokio::spawn(mqtt::run(t.db.clone(), url.clone(), id));
    // The second consumer is connected once a new frame is stored.
    until_subscribed(
        &t.db,
        &client,
        &topic,
        br#"{"alarm_code":"05","device_id":"after"}"#,
        &format!("SELECT COUNT(*) AS n FROM eq_iot_alarms WHERE rescue_code = '{rescue}' AND device_id = 'after'"),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        count(&t.db, &q_dead).await,
        2,
        "dead-lettered frames were acknowledged"
    );
    assert!(count(&t.db, &q_alarms).await > alarms);
    second.abort();
}
