//! MQTT consumer of elevator-monitor alarms: topic `qcity/{city}/elevator/{rescue_code}/alarm`,
//! JSON payload `{"alarm_code": "02", "timestamp": "…", "device_id": "…"}`, on the platform's
//! batch consumer ([`qcity_platform::mqtt`]): each frame is acknowledged only once its batch is
//! committed or it is recorded in the dead-letter table (unreadable frame, unknown city); while
//! the database is away the batch is retried, never dropped.

use crate::incidents::AlarmFrame;
use chrono::{DateTime, Utc};
use qcity_platform::mqtt::{
    self, CityCache, Frame, Handler, Options, Outcome, Rejected, Transient,
};
use qcity_platform::store::StoreError;
use qcity_platform::web::metrics::Metrics;
use qcity_platform::{CityId, Scope};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use std::sync::Arc;

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
    mqtt::broker_address(url)
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

/// A parsed frame: its topic's city code (empty if the topic has none) and the frame or why it
/// is unreadable.
pub struct Parsed {
    city: String,
    frame: Result<AlarmFrame, String>,
}

/// Stores alarm frames, one commit per city and batch.
pub struct AlarmHandler {
    db: DatabaseConnection,
    cities: CityCache,
}

impl AlarmHandler {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            cities: CityCache::default(),
        }
    }
}

#[async_trait::async_trait]
impl Handler for AlarmHandler {
    type Parsed = Parsed;

    fn parse(topic: &str, payload: &[u8]) -> Parsed {
        let city = parse_topic(topic)
            .map(|(c, _)| c.to_string())
            .unwrap_or_default();
        Parsed {
            city,
            frame: parse_message(topic, payload).map(|(_, f)| f),
        }
    }

    fn group(p: &Parsed) -> &str {
        &p.city
    }

    async fn handle(&mut self, frames: &[&Frame<Parsed>]) -> Result<Vec<Outcome>, Transient> {
        let code = frames.first().map(|f| f.parsed.city.as_str()).unwrap_or("");
        let known = if code.is_empty() {
            None
        } else {
            // A failed lookup is a transient failure, not an unknown city.
            self.cities.get(&self.db, code).await?
        };
        let mut out: Vec<Outcome> = Vec::with_capacity(frames.len());
        let mut readable: Vec<AlarmFrame> = Vec::new();
        for f in frames {
            match &f.parsed.frame {
                Err(e) => out.push(Outcome::Rejected(Rejected {
                    reason: e.clone(),
                    city_code: Some(code.to_string()).filter(|c| !c.is_empty()),
                    city_id: known.as_ref().map(|c| c.id),
                })),
                Ok(_) if known.is_none() => out.push(Outcome::rejected(
                    format!("unknown city code {code}"),
                    Some(code),
                )),
                Ok(a) => {
                    readable.push(a.clone());
                    out.push(Outcome::Stored);
                }
            }
        }
        if let Some(city) = known
            && !readable.is_empty()
        {
            match crate::ingest_batch(&self.db, &Scope::city(CityId(city.id)), &readable, "mqtt")
                .await
            {
                Ok(_) => {}
                Err(StoreError::Db(e)) => return Err(Transient(e.to_string())),
                Err(e) => {
                    // Not the database being away: the frames themselves are refused.
                    for o in out.iter_mut().filter(|o| **o == Outcome::Stored) {
                        *o = Outcome::Rejected(Rejected {
                            reason: e.to_string(),
                            city_code: Some(city.code.clone()),
                            city_id: Some(city.id),
                        });
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The consumer's settings: [`CONNECTIONS`] connections sharing the subscription, batches of at
/// most [`MAX_BATCH`] frames. Tests tighten the timeouts.
pub fn options(url: &str, client_id: &str, metrics: Option<Arc<Metrics>>) -> Options {
    let mut o = Options::new("equipment", url, client_id, TOPIC_FILTER);
    o.connections = CONNECTIONS;
    o.max_frames = MAX_BATCH;
    o.channel = MAX_BATCH * 2;
    o.metrics = metrics;
    o
}

/// Runs the consumer forever with [`options`]; persistent sessions under the stable client ids
/// `{client_id}-equipment-{k}`, so a restarted qcity gets what it had not acknowledged.
pub async fn run(db: DatabaseConnection, url: String, client_id: String) {
    run_with(db, options(&url, &client_id, None)).await
}

/// Runs the consumer forever with the given settings.
pub async fn run_with(db: DatabaseConnection, opts: Options) {
    mqtt::run(db.clone(), AlarmHandler::new(db), opts).await
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

    use proptest::prelude::*;

    /// A JSON value of any shape, for payload fields.
    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,40}".prop_map(serde_json::Value::from),
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
            let p = AlarmHandler::parse(&topic, &payload);
            if let Err(reason) = &p.frame {
                prop_assert!(!reason.is_empty());
            }
            if parse_topic(&topic).is_none() {
                prop_assert!(p.frame.is_err(), "a frame on a foreign topic is rejected");
            }
        }

        /// Alarm-shaped JSON with fields of any type: parsed or rejected with a reason, never a panic.
        #[test]
        fn alarm_shaped_json_is_classified(code in any_json(), ts in any_json(), dev in any_json(), extra in any_json()) {
            let body = serde_json::json!({"alarm_code": code, "timestamp": ts, "device_id": dev, "x": extra});
            let bytes = serde_json::to_vec(&body).unwrap();
            match parse_message("qcity/990100/elevator/12345678/alarm", &bytes) {
                Ok((city, f)) => {
                    prop_assert_eq!(city, "990100");
                    prop_assert_eq!(f.rescue_code, "12345678");
                }
                Err(reason) => prop_assert!(reason.contains("alarm JSON")),
            }
        }
    }
}
