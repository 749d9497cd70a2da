//! What a module supplies (a [`Handler`]) and how a consumer is tuned ([`Options`]).

use crate::web::metrics::Metrics;
use chrono::{DateTime, Utc};
use rumqttc::Publish;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::Duration;

/// A frame as the handler sees it: the publish, when it arrived, and what the module's parser
/// made of it (parsed on the connection's task, off the writer's path).
#[derive(Debug)]
pub struct Frame<P> {
    pub publish: Publish,
    pub received_at: DateTime<Utc>,
    pub parsed: P,
    pub(crate) connection: usize,
    pub(crate) generation: u64,
}

/// Why a frame is durably refused; recorded in the dead-letter table, then acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub reason: String,
    pub city_code: Option<String>,
    pub city_id: Option<i64>,
}

/// What became of one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Committed by the module.
    Stored,
    /// Refused for good (bad JSON, unknown city, invalid payload).
    Rejected(Rejected),
}

impl Outcome {
    /// A rejection without a known city.
    pub fn rejected(reason: impl Into<String>, city_code: Option<&str>) -> Self {
        Outcome::Rejected(Rejected {
            reason: reason.into(),
            city_code: city_code.map(str::to_string),
            city_id: None,
        })
    }
}

/// The call failed for a reason that passes (the database is away, a lookup failed): nothing of
/// the call was committed, and the same frames are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct Transient(pub String);

impl<E: std::fmt::Display> From<E> for Transient {
    fn from(e: E) -> Self {
        Transient(e.to_string())
    }
}

/// A module's part of a consumer.
#[async_trait::async_trait]
pub trait Handler: Send + 'static {
    /// What the parser makes of a frame.
    type Parsed: Send + Sync + 'static;
    /// Parses a frame; never panics (an unreadable frame is a value the handler rejects).
    fn parse(topic: &str, payload: &[u8]) -> Self::Parsed;
    /// Frames of one group go to one [`Handler::handle`] call, and a transient failure retries
    /// only its group (groups already committed are not handled twice). Usually the city code.
    fn group(parsed: &Self::Parsed) -> &str;
    /// How much a frame counts towards [`Options::max_weight`] (e.g. readings in it).
    fn weight(_parsed: &Self::Parsed) -> usize {
        1
    }
    /// Stores the frames of one group, all or nothing, returning one outcome per frame in
    /// order; `Err` when nothing was committed and the call should be retried.
    async fn handle(&mut self, frames: &[&Frame<Self::Parsed>]) -> Result<Vec<Outcome>, Transient>;
}

/// How a consumer connects and batches.
#[derive(Clone)]
pub struct Options {
    /// The module (`equipment`, `metering`): client id suffix, dead-letter `consumer`, and the
    /// prefix of its `/metrics` counters (`qcity_{name}_mqtt_*_total`).
    pub name: String,
    /// Broker URL (`mqtt://host:1883`).
    pub url: String,
    /// Base of the client ids (`mqtt.client_id`); ids are `{base}-{name}` or `{base}-{name}-{k}`.
    pub client_id: String,
    /// Topic filter.
    pub filter: String,
    /// Connections; more than one share the subscription (`$share/{base}-{name}/…`).
    pub connections: usize,
    /// Frames per batch at most.
    pub max_frames: usize,
    /// Weight per batch at most (a batch closes once it reaches this).
    pub max_weight: usize,
    /// How long a started batch waits for more frames.
    pub linger: Duration,
    /// Frames buffered between the connections and the writer.
    pub channel: usize,
    /// One handler call at most (a hung database connection must not hang the consumer).
    pub attempt_timeout: Duration,
    /// First and longest wait between retries of a failed batch.
    pub backoff: (Duration, Duration),
    /// Largest packet accepted.
    pub max_packet: usize,
    pub metrics: Option<Arc<Metrics>>,
}

impl Options {
    /// Defaults for a module's consumer.
    pub fn new(name: &str, url: &str, client_id: &str, filter: &str) -> Self {
        Self {
            name: name.to_string(),
            url: url.to_string(),
            client_id: if client_id.is_empty() {
                "qcity".to_string()
            } else {
                client_id.to_string()
            },
            filter: filter.to_string(),
            connections: 1,
            max_frames: 2_000,
            max_weight: usize::MAX,
            linger: Duration::ZERO,
            channel: 10_000,
            attempt_timeout: Duration::from_secs(60),
            backoff: (Duration::from_millis(250), Duration::from_secs(10)),
            max_packet: 4 * 1024 * 1024,
            metrics: None,
        }
    }

    /// Counts `by` on `/metrics` as `qcity_{name}_mqtt_{what}_total`.
    pub(crate) fn count(&self, what: &str, by: usize) {
        if let Some(m) = &self.metrics
            && by > 0
        {
            m.incr(&format!("{}_mqtt_{what}_total", self.name), by as u64);
        }
    }
}

/// Runs a consumer forever: connections (reconnecting with back-off) feed one writer that hands
/// batches to `handler` and acknowledges each frame once it is stored or dead-lettered.
pub async fn run<H: Handler>(db: DatabaseConnection, handler: H, opts: Options) {
    let group = format!("{}-{}", opts.client_id, opts.name);
    let shared = opts.connections > 1;
    let filter = if shared {
        format!("$share/{group}/{}", opts.filter)
    } else {
        opts.filter.clone()
    };
    let (tx, rx) = tokio::sync::mpsc::channel(opts.channel.max(1));
    let mut links = Vec::with_capacity(opts.connections.max(1));
    for k in 0..opts.connections.max(1) {
        let id = if shared {
            format!("{group}-{k}")
        } else {
            group.clone()
        };
        let mqtt = match super::url::broker_options(&opts.url, &id) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, consumer = %opts.name, "MQTT ingest off");
                return;
            }
        };
        links.push(super::connection::spawn::<H>(
            k,
            mqtt,
            &opts,
            filter.clone(),
            tx.clone(),
        ));
    }
    drop(tx);
    super::writer::write(db, handler, opts, links, rx).await
}
