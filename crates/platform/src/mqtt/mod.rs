//! The MQTT batch consumer every module's ingest uses (elevator alarms, meter readings).
//!
//! Guarantees: a QoS 1 frame is acknowledged only after the module's handler stored it or the
//! consumer durably recorded it as rejected in the dead-letter table ([`dead_letter`]); a
//! database outage of any length loses nothing (the same batch is retried with capped
//! exponential back-off, nothing is acknowledged meanwhile, so the broker stops delivering past
//! its in-flight window, and the consumer resumes when the database is back); an ack never
//! crosses connections ([`ack`]). The event loop of each connection runs in its own task that is
//! never cancelled.

pub mod ack;
pub mod cities;
mod connection;
pub mod consumer;
pub mod dead_letter;
pub mod url;
mod writer;

pub use cities::{CityCache, CityRef};
pub use consumer::{Frame, Handler, Options, Outcome, Rejected, Transient, run};
pub use url::{broker_address, broker_options};
