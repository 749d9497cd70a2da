//! MQTT consumer of meter readings: topic `qcity/{city}/meter/{meter_id}/reading`, payload
//! `{"ts": "2025-01-01T00:15:00+08:00", "value": 12.5}` or an array of such objects.
//!
//! Two tasks. The **poller** owns the rumqttc event loop and is never cancelled (cancelling
//! `EventLoop::poll` part-way through a read can lose a publish that is then never acknowledged
//! and holds a slot of the broker's in-flight window for good); it parses each publish and
//! forwards it over a bounded channel (back-pressure: when the writer is behind, the poller stops
//! reading the socket). The **writer** takes what has arrived (≤ [`MAX_MESSAGES`] messages /
//! [`MAX_READINGS`] readings, waiting at most [`LINGER`] for more), stores it in one transaction
//! per city, and only after the commit acknowledges each message (manual QoS 1 acks), so a reading
//! the broker delivered is never lost: if the store fails, the batch is retried; if qcity stops
//! first, the broker redelivers on reconnect (persistent session, stable client id
//! `{mqtt.client_id}-metering`). Storage is idempotent on (meter, ts), so redeliveries are harmless.
//!
//! Throughput is bounded by the broker's in-flight window per client (mosquitto
//! `max_inflight_messages`, default 20) times readings per message: gateways should publish arrays
//! of readings, and brokers feeding qcity should raise the window (and `max_queued_messages`,
//! default 1000, beyond which mosquitto drops QoS 1 messages for a persistent session).
//! Unreadable messages and rejected rows are logged with their reason, counted
//! (`qcity_metering_mqtt_*` on `/metrics`) and acknowledged.

use crate::store::{self, Parsed, Reject, Scope};
use qcity_platform::web::metrics::Metrics;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

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

/// Most messages committed in one batch.
pub const MAX_MESSAGES: usize = 5_000;
/// Most readings committed in one batch (a batch closes once it reaches this).
pub const MAX_READINGS: usize = 100_000;
/// How long the writer waits for more messages once a batch has started and the channel is empty.
pub const LINGER: Duration = Duration::from_millis(2);
/// Capacity of the channel from the poller to the writer, in messages.
const CHANNEL: usize = 10_000;
/// Capacity of rumqttc's request channel (acks and the subscription). Acks are sent with
/// `try_ack` and retried, so a full channel never blocks the writer.
const REQUESTS: usize = 2 * (CHANNEL + MAX_MESSAGES);

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Flushed {
    /// Readings stored (new, corrected or identical re-sends).
    pub stored: usize,
    /// Readings refused by the store (unknown meter, out of range, …), each logged with its reason.
    pub rejected: usize,
    /// Readings for a city code this deployment does not know.
    pub unknown_city: usize,
}

/// Stores a batch, one transaction per city; the batch is left untouched, so a caller can retry
/// it after an error (storage is idempotent on (meter, ts)).
pub async fn flush(
    db: &DatabaseConnection,
    cities: &mut HashMap<String, Option<i64>>,
    batch: &[(String, Parsed)],
) -> Result<Flushed, qcity_platform::store::StoreError> {
    let mut by_city: HashMap<&str, Vec<(usize, Parsed)>> = HashMap::new();
    for (i, (c, p)) in batch.iter().enumerate() {
        by_city.entry(c.as_str()).or_default().push((i + 1, *p));
    }
    let mut out = Flushed::default();
    for (code, rows) in by_city {
        if !cities.contains_key(code) {
            let id = qcity_platform::store::cities::by_code(db, code)
                .await?
                .map(|c| c.id);
            cities.insert(code.to_string(), id);
        }
        let Some(Some(city_id)) = cities.get(code).copied() else {
            tracing::warn!(city = %code, rows = rows.len(), "MQTT readings for an unknown city skipped");
            out.unknown_city += rows.len();
            continue;
        };
        let rep = store::ingest(db, &Scope::city(city_id), rows, Vec::<Reject>::new()).await?;
        for r in &rep.rejects {
            tracing::warn!(row = r.row, field = %r.field, reason = %r.reason, "MQTT reading rejected");
        }
        out.stored += rep.accepted;
        out.rejected += rep.rejected;
    }
    Ok(out)
}

/// A publish as the poller forwards it: parsed, and tagged with the connection it came on.
struct Delivery {
    /// Connection generation (bumped at every disconnect): a message is only acknowledged on the
    /// connection that delivered it. After a reconnect the broker redelivers what was not
    /// acknowledged (under the same packet id), and rumqttc drops queued acks at a disconnect;
    /// acknowledging an old delivery on the new connection could acknowledge a different message
    /// that the broker has since put under that packet id.
    generation: u64,
    publish: Publish,
    parsed: Result<(String, Vec<Parsed>), String>,
}

/// Counts `name` on `/metrics` (as `qcity_{name}`).
fn count(metrics: &Option<Arc<Metrics>>, name: &str, by: usize) {
    if let Some(m) = metrics
        && by > 0
    {
        m.incr(name, by as u64);
    }
}

/// Runs the consumer forever (reconnecting with back-off), without `/metrics` counters.
pub async fn run(db: DatabaseConnection, url: String, client_id: String) {
    run_counted(db, url, client_id, None).await
}

/// Runs the consumer forever; counts messages, stored, rejected and unreadable readings on
/// `metrics` (`qcity_metering_mqtt_messages_total`, `…_readings_stored_total`,
/// `…_readings_rejected_total`, `…_unreadable_total`, `…_unknown_city_total`).
pub async fn run_counted(
    db: DatabaseConnection,
    url: String,
    client_id: String,
    metrics: Option<Arc<Metrics>>,
) {
    let Some((host, port)) = parse_url(&url) else {
        tracing::error!(%url, "mqtt.url is not mqtt://host:port; MQTT meter ingest off");
        return;
    };
    // A stable id, so that after a restart the broker resumes the persistent session and
    // redelivers what the previous process had not acknowledged.
    let id = format!(
        "{}-metering",
        if client_id.is_empty() {
            "qcity"
        } else {
            &client_id
        }
    );
    let mut opts = MqttOptions::new(id, host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_clean_session(false);
    opts.set_manual_acks(true);
    opts.set_max_packet_size(4 * 1024 * 1024, 4 * 1024 * 1024);
    let (client, eventloop) = AsyncClient::new(opts, REQUESTS);
    let generation = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel(CHANNEL);
    tokio::spawn(poll(eventloop, client.clone(), tx, generation.clone(), url));
    write(db, client, rx, generation, metrics).await
}

/// Owns the event loop: never cancelled, it polls, subscribes on every connection, parses each
/// publish and forwards it (waiting while the channel is full).
async fn poll(
    mut eventloop: EventLoop,
    client: AsyncClient,
    tx: mpsc::Sender<Delivery>,
    generation: Arc<AtomicU64>,
    url: String,
) {
    let mut backoff = 1u64;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = 1;
                tracing::info!(%url, "MQTT connected; subscribing to {TOPIC_FILTER}");
                // Not `subscribe().await`: this task is the one that drains the request channel.
                let c = client.clone();
                tokio::spawn(async move {
                    if let Err(e) = c.subscribe(TOPIC_FILTER, QoS::AtLeastOnce).await {
                        tracing::error!(error = %e, "MQTT subscribe failed");
                    }
                });
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let parsed = parse_message(&p.topic, &p.payload);
                let d = Delivery {
                    generation: generation.load(Ordering::SeqCst),
                    publish: p,
                    parsed,
                };
                if tx.send(d).await.is_err() {
                    return; // the writer is gone
                }
            }
            Ok(_) => {}
            Err(e) => {
                generation.fetch_add(1, Ordering::SeqCst);
                tracing::warn!(error = %e, "MQTT connection error; retrying in {backoff} s");
                tokio::time::sleep(Duration::from_secs(backoff)).await;
                backoff = (backoff * 2).min(30);
            }
        }
    }
}

/// Takes the next batch: waits for a first message, then takes what has arrived, waiting at most
/// [`LINGER`] for more. `None` when the poller is gone.
async fn next_batch(rx: &mut mpsc::Receiver<Delivery>, wait: Duration) -> Option<Vec<Delivery>> {
    let first = match tokio::time::timeout(wait, rx.recv()).await {
        Ok(Some(d)) => d,
        Ok(None) => return None,
        Err(_) => return Some(Vec::new()),
    };
    let mut readings = first.parsed.as_ref().map(|r| r.1.len()).unwrap_or(0);
    let mut out = vec![first];
    let deadline = tokio::time::Instant::now() + LINGER;
    while out.len() < MAX_MESSAGES && readings < MAX_READINGS {
        let d = match rx.try_recv() {
            Ok(d) => d,
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            // recv is cancel-safe: a timeout loses nothing.
            Err(mpsc::error::TryRecvError::Empty) => {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(d)) => d,
                    _ => break,
                }
            }
        };
        readings += d.parsed.as_ref().map(|r| r.1.len()).unwrap_or(0);
        out.push(d);
    }
    Some(out)
}

/// Stores batches and acknowledges each message only after its batch is committed.
async fn write(
    db: DatabaseConnection,
    client: AsyncClient,
    mut rx: mpsc::Receiver<Delivery>,
    generation: Arc<AtomicU64>,
    metrics: Option<Arc<Metrics>>,
) {
    let mut cities = HashMap::new();
    // Committed messages whose ack did not fit in rumqttc's request channel yet.
    let mut unacked: Vec<Delivery> = Vec::new();
    loop {
        send_acks(&client, &generation, &mut unacked);
        let wait = if unacked.is_empty() {
            Duration::from_secs(3600)
        } else {
            Duration::from_millis(10)
        };
        let Some(msgs) = next_batch(&mut rx, wait).await else {
            return;
        };
        if msgs.is_empty() {
            continue;
        }
        let mut batch: Vec<(String, Parsed)> = Vec::new();
        let mut unreadable = 0;
        for d in &msgs {
            match &d.parsed {
                Ok((city, rows)) => batch.extend(rows.iter().map(|r| (city.clone(), *r))),
                Err(e) => {
                    unreadable += 1;
                    tracing::warn!(topic = %d.publish.topic, error = %e, "unreadable MQTT meter reading skipped");
                }
            }
        }
        let mut backoff = 1u64;
        let done = loop {
            match flush(&db, &mut cities, &batch).await {
                Ok(f) => break f,
                Err(e) => {
                    // Nothing is acknowledged until the batch is stored: retry it.
                    tracing::error!(error = %e, readings = batch.len(), "MQTT batch store failed; retrying in {backoff} s (messages stay unacknowledged)");
                    tokio::time::sleep(Duration::from_secs(backoff)).await;
                    backoff = (backoff * 2).min(30);
                }
            }
        };
        count(&metrics, "metering_mqtt_messages_total", msgs.len());
        count(&metrics, "metering_mqtt_unreadable_total", unreadable);
        count(&metrics, "metering_mqtt_readings_stored_total", done.stored);
        count(
            &metrics,
            "metering_mqtt_readings_rejected_total",
            done.rejected,
        );
        count(
            &metrics,
            "metering_mqtt_unknown_city_total",
            done.unknown_city,
        );
        unacked.extend(msgs);
    }
}

/// Acknowledges committed messages (each packet id once per connection; messages of an earlier
/// connection are left to the broker's redelivery), keeping those that did not fit.
fn send_acks(client: &AsyncClient, generation: &AtomicU64, unacked: &mut Vec<Delivery>) {
    if unacked.is_empty() {
        return;
    }
    let current = generation.load(Ordering::SeqCst);
    let mut seen = HashSet::new();
    let mut rest = Vec::new();
    let mut full = false;
    for d in unacked.drain(..) {
        if d.generation != current || !seen.insert(d.publish.pkid) {
            continue;
        }
        if full || client.try_ack(&d.publish).is_err() {
            full = true;
            rest.push(d);
        }
    }
    *unacked = rest;
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
