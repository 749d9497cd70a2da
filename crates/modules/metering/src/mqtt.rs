//! MQTT consumer of meter readings: topic `qcity/{city}/meter/{meter_id}/reading`, payload
//! `{"ts": "2025-01-01T00:15:00+08:00", "value": 12.5}` or an array of such objects.
//! Messages are batched (≤ 5 000 readings or 200 ms idle), stored in
//! one transaction, and only then acknowledged (manual QoS 1 acks), so a reading the broker
//! delivered is never lost. Throughput is bounded by the broker's in-flight window per client
//! (mosquitto `max_inflight_messages`, default 20) times readings per message: gateways should
//! publish arrays of readings, and brokers feeding qcity should raise the window (and
//! `max_queued_messages`, default 1000, beyond which mosquitto drops QoS 1 messages for a
//! persistent session).
//! Unreadable messages and rejected rows are logged with their reason and acknowledged.

use crate::store::{self, Parsed, Reject, Scope};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// The subscription filter.
pub const TOPIC_FILTER: &str = "qcity/+/meter/+/reading";

/// `(city code, meter id)` of a reading topic.
pub fn parse_topic(topic: &str) -> Option<(&str, i64)> {
    let parts: Vec<&str> = topic.split('/').collect();
    match parts.as_slice() {
        ["qcity", city, "meter", id, "reading"] if !city.is_empty() => {
            Some((city, id.parse().ok()?))
        }
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(alias = "timestamp")]
    ts: serde_json::Value,
    value: serde_json::Value,
}

/// Readings of one message, or why it is unreadable.
pub fn parse_message(topic: &str, payload: &[u8]) -> Result<(String, Vec<Parsed>), String> {
    let (city, meter) = parse_topic(topic).ok_or_else(|| format!("unexpected topic {topic}"))?;
    let items: Vec<Payload> = match serde_json::from_slice::<serde_json::Value>(payload)
        .map_err(|e| format!("payload is not JSON: {e}"))?
    {
        serde_json::Value::Array(a) => a
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("payload item: {e}"))?,
        v => vec![serde_json::from_value(v).map_err(|e| format!("payload: {e}"))?],
    };
    let raw: Vec<store::RawReading> = items
        .into_iter()
        .map(|p| store::RawReading {
            meter_id: meter.into(),
            ts: p.ts,
            value: p.value,
        })
        .collect();
    let (ok, bad) = store::parse_json_rows(&raw);
    if let Some(b) = bad.first() {
        return Err(format!("{}: {}", b.field, b.reason));
    }
    Ok((city.to_string(), ok.into_iter().map(|x| x.1).collect()))
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

/// Stores a batch per city; returns readings stored.
pub async fn flush(
    db: &DatabaseConnection,
    cities: &mut HashMap<String, Option<i64>>,
    batch: &mut Vec<(String, Parsed)>,
) -> Result<usize, qcity_platform::store::StoreError> {
    let mut by_city: HashMap<String, Vec<(usize, Parsed)>> = HashMap::new();
    for (i, (c, p)) in batch.drain(..).enumerate() {
        by_city.entry(c).or_default().push((i + 1, p));
    }
    let mut n = 0;
    for (code, rows) in by_city {
        if !cities.contains_key(&code) {
            let id = qcity_platform::store::cities::by_code(db, &code)
                .await?
                .map(|c| c.id);
            cities.insert(code.clone(), id);
        }
        let Some(Some(city_id)) = cities.get(&code).copied() else {
            tracing::warn!(city = %code, rows = rows.len(), "MQTT readings for an unknown city skipped");
            continue;
        };
        let rep = store::ingest(db, &Scope::city(city_id), rows, Vec::<Reject>::new()).await?;
        for r in &rep.rejects {
            tracing::warn!(row = r.row, field = %r.field, reason = %r.reason, "MQTT reading rejected");
        }
        n += rep.accepted;
    }
    Ok(n)
}

/// Runs the consumer forever (reconnecting with back-off).
pub async fn run(db: DatabaseConnection, url: String, client_id: String) {
    let Some((host, port)) = parse_url(&url) else {
        tracing::error!(%url, "mqtt.url is not mqtt://host:port; MQTT meter ingest off");
        return;
    };
    let id = format!(
        "{}-metering-{}",
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
    opts.set_manual_acks(true);
    opts.set_max_packet_size(4 * 1024 * 1024, 4 * 1024 * 1024);
    let (client, mut eventloop) = AsyncClient::new(opts, 10_000);
    let mut cities = HashMap::new();
    let mut batch: Vec<(String, Parsed)> = Vec::new();
    let mut pending: Vec<Publish> = Vec::new();
    let mut backoff = 1u64;
    loop {
        let ev = tokio::time::timeout(Duration::from_millis(200), eventloop.poll()).await;
        let timed_out = ev.is_err();
        match ev {
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                backoff = 1;
                tracing::info!(%url, "MQTT connected; subscribing to {TOPIC_FILTER}");
                if let Err(e) = client.subscribe(TOPIC_FILTER, QoS::AtLeastOnce).await {
                    tracing::error!(error = %e, "MQTT subscribe failed");
                }
            }
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                match parse_message(&p.topic, &p.payload) {
                    Ok((city, rows)) => batch.extend(rows.into_iter().map(|r| (city.clone(), r))),
                    Err(e) => {
                        tracing::warn!(topic = %p.topic, error = %e, "unreadable MQTT meter reading skipped")
                    }
                }
                pending.push(p);
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "MQTT connection error; retrying in {backoff} s");
                tokio::time::sleep(Duration::from_secs(backoff)).await;
                backoff = (backoff * 2).min(30);
                continue;
            }
            Err(_) => {}
        }
        if !pending.is_empty() && (batch.len() >= 5000 || pending.len() >= 5000 || timed_out) {
            match flush(&db, &mut cities, &mut batch).await {
                Ok(_) => {
                    for p in pending.drain(..) {
                        if let Err(e) = client.ack(&p).await {
                            tracing::warn!(error = %e, "MQTT ack failed");
                        }
                    }
                }
                Err(e) => {
                    // Not acknowledged: the broker redelivers after reconnect.
                    tracing::error!(error = %e, "MQTT batch store failed; messages left unacknowledged");
                    pending.clear();
                    batch.clear();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn topics_and_payloads() {
        assert_eq!(
            parse_topic("qcity/990100/meter/42/reading"),
            Some(("990100", 42))
        );
        assert_eq!(parse_topic("qcity/990100/meter/x/reading"), None);
        let (c, r) = parse_message(
            "qcity/990100/meter/42/reading",
            br#"[{"ts":"2025-01-01T00:15:00+08:00","value":1.5},{"ts":1735661700,"value":"2"}]"#,
        )
        .unwrap();
        assert_eq!(c, "990100");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].raw, 2.0);
        assert!(
            parse_message(
                "qcity/990100/meter/42/reading",
                b"{\"ts\":\"x\",\"value\":1}"
            )
            .is_err()
        );
        assert_eq!(
            parse_url("mqtt://127.0.0.1:1883"),
            Some(("127.0.0.1".into(), 1883))
        );
    }
}
