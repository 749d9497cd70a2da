//! MQTT consumer of elevator-monitor alarms: topic `qcity/{city}/elevator/{rescue_code}/alarm`,
//! JSON payload `{"alarm_code": "02", "timestamp": "…", "device_id": "…"}`. Bad frames and
//! unknown elevators are recorded and logged; nothing stops the consumer.

use crate::incidents::AlarmFrame;
use chrono::{DateTime, Utc};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// The subscription filter.
pub const TOPIC_FILTER: &str = "qcity/+/elevator/+/alarm";

/// `(city code, rescue code)` of an alarm topic.
pub fn parse_topic(topic: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = topic.split('/').collect();
    match parts.as_slice() {
        ["qcity", city, "elevator", rescue, "alarm"] if !city.is_empty() && !rescue.is_empty() => {
            Some((city, rescue))
        }
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
struct Payload {
    alarm_code: Option<serde_json::Value>,
    timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    device_id: String,
}

/// The frame of a message, or why it is unreadable.
pub fn parse_message(topic: &str, payload: &[u8]) -> Result<(String, AlarmFrame), String> {
    let (city, rescue) = parse_topic(topic).ok_or_else(|| format!("unexpected topic {topic}"))?;
    let p: Payload = serde_json::from_slice(payload)
        .map_err(|e| format!("payload is not the alarm JSON: {e}"))?;
    let code = match p.alarm_code {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    Ok((
        city.to_string(),
        AlarmFrame {
            rescue_code: rescue.to_string(),
            alarm_code: code,
            timestamp: p.timestamp,
            device_id: p.device_id,
        },
    ))
}

/// Host and port of `mqtt://host:port` (or `tcp://`, or bare `host:port`).
pub fn parse_url(url: &str) -> Option<(String, u16)> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((rest.to_string(), 1883)),
    }
}

/// Connections to the broker sharing one subscription (`$share/…`): the broker keeps at most
/// a few unacknowledged frames in flight per connection (Mosquitto: 20), and frames are only
/// acknowledged after their batch is committed, so several connections keep the pipe full.
pub const CONNECTIONS: usize = 4;
/// Frames per batch at most (one commit each).
pub const MAX_BATCH: usize = 2000;

/// The shared-subscription filter of a consumer group.
pub fn shared_filter(group: &str) -> String {
    format!("$share/{group}/{TOPIC_FILTER}")
}

/// Runs the consumer forever: [`CONNECTIONS`] connections (reconnecting with back-off) feed
/// one writer that stores frames in batches and acknowledges (QoS 1 PUBACK) each frame only
/// after its batch is committed, so a crash loses nothing: unacknowledged frames are
/// redelivered to the persistent session (stable client ids) after restart.
pub async fn run(db: DatabaseConnection, url: String, client_id: String) {
    let Some((host, port)) = parse_url(&url) else {
        tracing::error!(%url, "mqtt.url is not mqtt://host:port; MQTT ingest off");
        return;
    };
    let base = if client_id.is_empty() {
        "qcity"
    } else {
        &client_id
    };
    let group = format!("{base}-equipment");
    let (tx, rx) = tokio::sync::mpsc::channel::<(usize, Publish)>(MAX_BATCH * 2);
    let mut clients = Vec::with_capacity(CONNECTIONS);
    let mut pollers = Vec::with_capacity(CONNECTIONS);
    for k in 0..CONNECTIONS {
        let mut opts = MqttOptions::new(format!("{group}-{k}"), host.clone(), port);
        opts.set_keep_alive(Duration::from_secs(30));
        opts.set_clean_session(false);
        opts.set_manual_acks(true);
        let (client, eventloop) = AsyncClient::new(opts, 10_000);
        clients.push(client.clone());
        pollers.push(tokio::spawn(poll(
            k,
            client,
            eventloop,
            url.clone(),
            shared_filter(&group),
            tx.clone(),
        )));
    }
    drop(tx);
    write(&db, &clients, rx).await;
    for p in pollers {
        p.abort();
    }
}

/// Reads one connection's events and hands frames to the writer.
async fn poll(
    k: usize,
    client: AsyncClient,
    mut eventloop: EventLoop,
    url: String,
    filter: String,
    tx: tokio::sync::mpsc::Sender<(usize, Publish)>,
) {
    let mut backoff = 1u64;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = 1;
                tracing::info!(%url, connection = k, "MQTT connected; subscribing to {filter}");
                if let Err(e) = client.subscribe(filter.as_str(), QoS::AtLeastOnce).await {
                    tracing::error!(error = %e, "MQTT subscribe failed");
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                if tx.send((k, p)).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, connection = k, "MQTT connection error; retrying in {backoff} s");
                tokio::time::sleep(Duration::from_secs(backoff)).await;
                backoff = (backoff * 2).min(30);
            }
        }
    }
}

/// Takes what has arrived (up to [`MAX_BATCH`]), stores it, then acknowledges it.
async fn write(
    db: &DatabaseConnection,
    clients: &[AsyncClient],
    mut rx: tokio::sync::mpsc::Receiver<(usize, Publish)>,
) {
    let mut cities: HashMap<String, Option<(i64, String)>> = HashMap::new();
    let mut batch: Vec<(usize, Publish)> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(x) => batch.push(x),
                Err(_) => break,
            }
        }
        store(db, &mut cities, &batch).await;
        for (k, p) in batch.drain(..) {
            if let Err(e) = clients[k].ack(&p).await {
                tracing::warn!(error = %e, "MQTT ack failed");
            }
        }
    }
}

/// Stores a batch: unreadable frames and unknown cities are logged and skipped; the frames of
/// each city are ingested together. A failing batch is retried (the database may be briefly
/// busy or down); after three failures its frames are stored one by one, and a frame that
/// still cannot be stored is logged in full and dropped, so one bad frame cannot stall the
/// consumer. Never panics.
pub async fn store(
    db: &DatabaseConnection,
    cities: &mut HashMap<String, Option<(i64, String)>>,
    batch: &[(usize, Publish)],
) {
    let mut by_city: HashMap<String, Vec<AlarmFrame>> = HashMap::new();
    for (_, p) in batch {
        match parse_message(&p.topic, &p.payload) {
            Ok((city, frame)) => by_city.entry(city).or_default().push(frame),
            Err(e) => {
                tracing::warn!(topic = %p.topic, error = %e, "unreadable MQTT alarm frame skipped")
            }
        }
    }
    for (city, frames) in by_city {
        if !cities.contains_key(&city) {
            match qcity_platform::store::cities::by_code(db, &city).await {
                Ok(c) => {
                    let v = c.map(|c| (c.id, qcity_platform::auth::scope::scope_prefix(&c.code)));
                    cities.insert(city.clone(), v);
                }
                Err(e) => {
                    tracing::error!(error = %e, "city lookup failed");
                }
            }
        }
        let Some(Some((city_id, prefix))) = cities.get(&city).cloned() else {
            tracing::warn!(city = %city, frames = frames.len(), "MQTT alarms for an unknown city skipped");
            continue;
        };
        let mut wait = Duration::from_millis(100);
        let mut stored = false;
        for attempt in 1..=3 {
            match crate::ingest_batch(db, city_id, &prefix, &frames, "mqtt").await {
                Ok(_) => {
                    stored = true;
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, attempt, frames = frames.len(), "MQTT alarm batch not stored; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 4;
                }
            }
        }
        if !stored {
            for f in &frames {
                if let Err(e) = crate::ingest(db, city_id, &prefix, f, "mqtt").await {
                    tracing::error!(error = %e, frame = ?f, "MQTT alarm frame could not be stored; dropped");
                }
            }
        }
    }
}

/// Handles one message; never panics, never stops the loop.
pub async fn handle(
    db: &DatabaseConnection,
    cities: &mut HashMap<String, Option<(i64, String)>>,
    topic: &str,
    payload: &[u8],
) {
    let p = Publish::new(topic, QoS::AtMostOnce, payload.to_vec());
    store(db, cities, &[(0, p)]).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_payloads() {
        assert_eq!(
            parse_topic("qcity/990100/elevator/123456/alarm"),
            Some(("990100", "123456"))
        );
        assert_eq!(parse_topic("qcity/990100/elevator/123456/status"), None);
        assert_eq!(parse_topic("qcity//elevator/1/alarm"), None);
        let (c, f) = parse_message(
            "qcity/990100/elevator/123456/alarm",
            br#"{"alarm_code":"02","timestamp":"2026-01-01T00:00:00Z","device_id":"d1"}"#,
        )
        .unwrap();
        assert_eq!(c, "990100");
        assert_eq!(f.rescue_code, "123456");
        assert_eq!(f.alarm_code, "02");
        assert!(parse_message("qcity/990100/elevator/123456/alarm", b"garbage").is_err());
        assert_eq!(
            parse_url("mqtt://127.0.0.1:1883"),
            Some(("127.0.0.1".into(), 1883))
        );
        assert_eq!(parse_url("broker"), Some(("broker".into(), 1883)));
        assert_eq!(
            shared_filter("qcity-equipment"),
            "$share/qcity-equipment/qcity/+/elevator/+/alarm"
        );
    }
}
