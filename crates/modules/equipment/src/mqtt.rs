//! MQTT consumer of elevator-monitor alarms: topic `qcity/{city}/elevator/{rescue_code}/alarm`,
//! JSON payload `{"alarm_code": "02", "timestamp": "…", "device_id": "…"}`. Bad frames and
//! unknown elevators are recorded and logged; nothing stops the consumer.

use crate::incidents::AlarmFrame;
use chrono::{DateTime, Utc};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
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

/// Runs the consumer forever (reconnecting with back-off).
pub async fn run(db: DatabaseConnection, url: String, client_id: String) {
    let Some((host, port)) = parse_url(&url) else {
        tracing::error!(%url, "mqtt.url is not mqtt://host:port; MQTT ingest off");
        return;
    };
    let id = format!(
        "{}-equipment-{}",
        if client_id.is_empty() {
            "qcity"
        } else {
            &client_id
        },
        std::process::id()
    );
    let mut opts = MqttOptions::new(id, host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_clean_session(false);
    let (client, mut eventloop) = AsyncClient::new(opts, 1000);
    let mut cities: HashMap<String, (i64, String)> = HashMap::new();
    let mut backoff = 1u64;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = 1;
                tracing::info!(%url, "MQTT connected; subscribing to {TOPIC_FILTER}");
                if let Err(e) = client.subscribe(TOPIC_FILTER, QoS::AtLeastOnce).await {
                    tracing::error!(error = %e, "MQTT subscribe failed");
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                handle(&db, &mut cities, &p.topic, &p.payload).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "MQTT connection error; retrying in {backoff} s");
                tokio::time::sleep(Duration::from_secs(backoff)).await;
                backoff = (backoff * 2).min(30);
            }
        }
    }
}

/// Handles one message; never panics, never stops the loop.
pub async fn handle(
    db: &DatabaseConnection,
    cities: &mut HashMap<String, (i64, String)>,
    topic: &str,
    payload: &[u8],
) {
    let (city, frame) = match parse_message(topic, payload) {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(%topic, error = %e, "unreadable MQTT alarm frame skipped");
            return;
        }
    };
    if !cities.contains_key(&city) {
        match qcity_platform::store::cities::by_code(db, &city).await {
            Ok(Some(c)) => {
                let prefix = qcity_platform::auth::scope::scope_prefix(&c.code);
                cities.insert(city.clone(), (c.id, prefix));
            }
            Ok(None) => {
                tracing::warn!(%topic, "MQTT alarm for an unknown city skipped");
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "city lookup failed");
                return;
            }
        }
    }
    let Some((city_id, prefix)) = cities.get(&city).cloned() else {
        return;
    };
    if let Err(e) = crate::ingest(db, city_id, &prefix, &frame, "mqtt").await {
        tracing::error!(%topic, error = %e, "MQTT alarm ingest failed");
    }
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
    }
}
