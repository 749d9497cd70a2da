//! MQTT consumer of meter readings: topic `qcity/{city}/meter/{meter_id}/reading`, payload
//! `{"ts": "2025-01-01T00:15:00+08:00", "value": 12.5}` or an array of such objects.
//!
//! Runs on the platform's batch consumer ([`qcity_platform::mqtt`]): the event loop in its own
//! never-cancelled task parses each publish and forwards it over a bounded channel; the writer
//! takes what has arrived (≤ [`MAX_MESSAGES`] messages / [`MAX_READINGS`] readings, waiting at
//! most [`LINGER`] for more), stores it in one transaction per city, and only after the commit
//! acknowledges each message (manual QoS 1 acks, bound to the connection that delivered it), so a
//! reading the broker delivered is never lost: if the store fails, the batch is retried; if qcity
//! stops first, the broker redelivers on reconnect (persistent session, stable client id
//! `{mqtt.client_id}-metering`). Storage is idempotent on (meter, ts), so redeliveries are harmless.
//!
//! Throughput is bounded by the broker's in-flight window per client (mosquitto
//! `max_inflight_messages`, default 20) times readings per message: gateways should publish arrays
//! of readings, and brokers feeding qcity should raise the window (and `max_queued_messages`,
//! default 1000, beyond which mosquitto drops QoS 1 messages for a persistent session).
//! Unreadable messages, messages for an unknown city and messages with readings the store refused
//! are recorded in the dead-letter table with their reason, counted (`qcity_metering_mqtt_*` on
//! `/metrics`) and acknowledged.

use crate::store::{self, Parsed, Reject, Scope};
use qcity_platform::mqtt::{
    self, CityCache, Frame, Handler, Options, Outcome, Rejected, Transient,
};
use qcity_platform::store::StoreError;
use qcity_platform::web::metrics::Metrics;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use std::sync::Arc;
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
    mqtt::broker_address(url)
}

/// Most messages committed in one batch.
pub const MAX_MESSAGES: usize = 5_000;
/// Most readings committed in one batch (a batch closes once it reaches this).
pub const MAX_READINGS: usize = 100_000;
/// How long the writer waits for more messages once a batch has started and the channel is empty.
pub const LINGER: Duration = Duration::from_millis(2);
/// Capacity of the channel from the connection to the writer, in messages.
const CHANNEL: usize = 10_000;

/// A parsed message: its topic's city code (empty if the topic has none) and its readings or why
/// it is unreadable.
pub struct Message {
    city: String,
    readings: Result<Vec<Parsed>, String>,
}

/// Stores readings, one transaction per city and batch, and counts them.
pub struct ReadingHandler {
    db: DatabaseConnection,
    cities: CityCache,
    metrics: Option<Arc<Metrics>>,
}

impl ReadingHandler {
    pub fn new(db: DatabaseConnection, metrics: Option<Arc<Metrics>>) -> Self {
        Self {
            db,
            cities: CityCache::default(),
            metrics,
        }
    }

    fn count(&self, name: &str, by: usize) {
        if let Some(m) = &self.metrics
            && by > 0
        {
            m.incr(name, by as u64);
        }
    }
}

#[async_trait::async_trait]
impl Handler for ReadingHandler {
    type Parsed = Message;

    fn parse(topic: &str, payload: &[u8]) -> Message {
        Message {
            city: parse_topic(topic)
                .map(|(c, _)| c.to_string())
                .unwrap_or_default(),
            readings: parse_message(topic, payload).map(|(_, r)| r),
        }
    }

    fn group(m: &Message) -> &str {
        &m.city
    }

    fn weight(m: &Message) -> usize {
        m.readings.as_ref().map(Vec::len).unwrap_or(0)
    }

    async fn handle(&mut self, frames: &[&Frame<Message>]) -> Result<Vec<Outcome>, Transient> {
        let code = frames.first().map(|f| f.parsed.city.as_str()).unwrap_or("");
        let city = if code.is_empty() {
            None
        } else {
            // A failed lookup is a transient failure, not an unknown city.
            self.cities.get(&self.db, code).await?
        };
        let city_code = Some(code.to_string()).filter(|c| !c.is_empty());
        let city_id = city.as_ref().map(|c| c.id);
        let reject = |reason: String| {
            Outcome::Rejected(Rejected {
                reason,
                city_code: city_code.clone(),
                city_id,
            })
        };
        let mut out: Vec<Outcome> = Vec::with_capacity(frames.len());
        // Readings to store, numbered from 1, and the frame each came in.
        let mut rows: Vec<(usize, Parsed)> = Vec::new();
        let mut row_frame: Vec<usize> = Vec::new();
        let (mut unreadable, mut unknown_city) = (0, 0);
        for (i, f) in frames.iter().enumerate() {
            match &f.parsed.readings {
                Err(e) => {
                    unreadable += 1;
                    out.push(reject(e.clone()));
                }
                Ok(r) if city.is_none() => {
                    unknown_city += r.len();
                    out.push(reject(format!("unknown city code {code}")));
                }
                Ok(r) => {
                    for p in r {
                        rows.push((rows.len() + 1, *p));
                        row_frame.push(i);
                    }
                    out.push(Outcome::Stored);
                }
            }
        }
        let (mut stored, mut rejected) = (0, 0);
        if let Some(c) = &city
            && !rows.is_empty()
        {
            match store::ingest(
                &self.db,
                &Scope::city(qcity_platform::CityId(c.id)),
                rows,
                Vec::<Reject>::new(),
            )
            .await
            {
                Ok(rep) => {
                    stored = rep.accepted;
                    rejected = rep.rejected;
                    // A message with refused readings is kept whole in the dead-letter table
                    // (its other readings are stored).
                    let mut why: Vec<Vec<String>> = vec![Vec::new(); frames.len()];
                    for r in &rep.rejects {
                        if let Some(&i) = r.row.checked_sub(1).and_then(|k| row_frame.get(k)) {
                            why[i].push(format!("{}: {}", r.field, r.reason));
                        }
                    }
                    for (i, reasons) in why.into_iter().enumerate() {
                        if !reasons.is_empty() {
                            let n = reasons.len();
                            out[i] =
                                reject(format!("{n} reading(s) refused: {}", reasons.join("; ")));
                        }
                    }
                }
                Err(StoreError::Db(e)) => return Err(Transient(e.to_string())),
                Err(e) => {
                    // Not the database being away: the readings themselves are refused.
                    for o in out.iter_mut().filter(|o| **o == Outcome::Stored) {
                        *o = reject(e.to_string());
                    }
                }
            }
        }
        self.count("metering_mqtt_unreadable_total", unreadable);
        self.count("metering_mqtt_readings_stored_total", stored);
        self.count("metering_mqtt_readings_rejected_total", rejected);
        self.count("metering_mqtt_unknown_city_total", unknown_city);
        Ok(out)
    }
}

/// The consumer's settings (one connection, batches of [`MAX_MESSAGES`] / [`MAX_READINGS`]).
pub fn options(url: &str, client_id: &str, metrics: Option<Arc<Metrics>>) -> Options {
    let mut o = Options::new("metering", url, client_id, TOPIC_FILTER);
    o.max_frames = MAX_MESSAGES;
    o.max_weight = MAX_READINGS;
    o.linger = LINGER;
    o.channel = CHANNEL;
    o.metrics = metrics;
    o
}

/// Runs the consumer forever (reconnecting with back-off), without `/metrics` counters.
pub async fn run(db: DatabaseConnection, url: String, client_id: String) {
    run_counted(db, url, client_id, None).await
}

/// Runs the consumer forever; counts messages, stored, rejected and unreadable readings on
/// `metrics` (`qcity_metering_mqtt_messages_total`, `…_readings_stored_total`,
/// `…_readings_rejected_total`, `…_unreadable_total`, `…_unknown_city_total`,
/// `…_dead_letters_total`, `…_retries_total`).
pub async fn run_counted(
    db: DatabaseConnection,
    url: String,
    client_id: String,
    metrics: Option<Arc<Metrics>>,
) {
    let handler = ReadingHandler::new(db.clone(), metrics.clone());
    mqtt::run(db, handler, options(&url, &client_id, metrics)).await
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

    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,40}".prop_map(serde_json::Value::from),
            // Timestamps near and far out of range.
            (-300_000i32..300_000, 1u32..13, 1u32..29).prop_map(|(y, m, d)| {
                serde_json::Value::from(format!("{y:04}-{m:02}-{d:02}T00:15:00+08:00"))
            }),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::hash_map("[a-z_]{1,12}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(qcity_platform::testing::fuzz_cases(2000)))]

        /// Arbitrary bytes on any topic never panic; what cannot be read is rejected with a reason.
        #[test]
        fn arbitrary_frames_never_panic(topic in ".{0,60}", payload in prop::collection::vec(any::<u8>(), 0..300)) {
            let m = ReadingHandler::parse(&topic, &payload);
            if let Err(reason) = &m.readings {
                prop_assert!(!reason.is_empty());
            }
            if parse_topic(&topic).is_none() {
                prop_assert!(m.readings.is_err(), "a frame on a foreign topic is rejected");
            }
        }

        /// Reading-shaped JSON (one object or an array) with fields of any type: finite readings
        /// or a rejection with a reason, never a panic.
        #[test]
        fn reading_shaped_json_is_classified(items in prop::collection::vec((any_json(), any_json()), 1..5), array in any::<bool>()) {
            let objs: Vec<serde_json::Value> = items
                .iter()
                .map(|(ts, v)| serde_json::json!({"ts": ts, "value": v}))
                .collect();
            let body = if array { serde_json::Value::from(objs.clone()) } else { objs[0].clone() };
            let bytes = serde_json::to_vec(&body).unwrap();
            match parse_message("qcity/990100/meter/42/reading", &bytes) {
                Ok((city, rs)) => {
                    prop_assert_eq!(city, "990100");
                    prop_assert_eq!(rs.len(), if array { objs.len() } else { 1 });
                    prop_assert!(rs.iter().all(|r| r.raw.is_finite() && r.meter_id == 42));
                }
                Err(reason) => prop_assert!(!reason.is_empty()),
            }
        }
    }
}
