//! MQTT ingest against a real broker (Mosquitto), run when `QCITY_TEST_MQTT_URL` is set
//! (e.g. `mqtt://127.0.0.1:1883`): a flood of duplicate trapped-alarm frames creates one
//! incident; an unknown elevator and a garbage frame are recorded or skipped, and the consumer
//! keeps running.

mod common;

use common::{company, count, modules};
use qcity_equipment::mqtt;
use qcity_equipment::registry::{self, NewEquipment, Scope};
use qcity_platform::testing::{Backend, TestDb, seed_small_city};
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
    let city = seed_small_city(&t.db, &[]).await;
    let c = registry::create_company(&t.db, city, &company("甲", "L", "990101"))
        .await
        .unwrap();
    // A rescue code unique to this run, so retained or stray messages of other runs do not count.
    let rescue = format!(
        "{}",
        10_000_000 + (qcity_platform::ids::new_id().rem_euclid(89_999_999))
    );
    let s = Scope::city(city, "9901");
    registry::create_equipment(
        &t.db,
        &s,
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
