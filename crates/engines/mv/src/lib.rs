//! qcity-mv — the measurement-and-verification engine (能源计量数据处理与节能量核定).
//!
//! Pure library: processing chain per channel ([`chain`]), VEE ([`vee`]), CalTRACK 2.0
//! daily/billing ([`caltrack`]) and hourly TOWT ([`hourly`]) baselines, fit metrics and
//! savings uncertainty ([`metrics`]), avoided energy use ([`savings`]), ISO 50006 EnPI
//! ([`enpi`]), GB/T 2589 standard-coal conversion ([`coal`]) and leak/waste detection
//! ([`leak`]); [`baseline`] is the serialisable `model.json` document of the CLI.

pub mod baseline;
pub mod caltrack;
pub mod chain;
pub mod coal;
pub mod enpi;
pub mod error;
pub mod hourly;
pub mod leak;
pub mod linalg;
pub mod metrics;
pub mod savings;
pub mod series;
pub mod vee;
pub mod warning;

pub use error::{MvError, Result};
