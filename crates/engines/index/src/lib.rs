#![allow(clippy::needless_range_loop)] // index loops read like the formulas they implement
//! qcity-index: composite indicators to the OECD/JRC Handbook, after COINr.
//!
//! A pure library: no IO. Inputs are parsed from text ([`parse`]) into validated
//! types ([`model`]), run through a pipeline of named, replayable stages
//! ([`pipeline`]) configured by a [`spec::PipelineSpec`], then analysed
//! ([`diagnostics`], [`uncertainty`], [`results`]).

pub mod aggregate;
pub mod error;
pub mod impute;
pub mod linalg;
pub mod model;
pub mod normalise;
pub mod parse;
pub mod pipeline;
pub mod screen;
pub mod simplex;
pub mod spec;
pub mod stats;
pub mod topsis;
pub mod treat;
pub mod weights;

pub use error::{IndexError, Result};
pub use model::{Coin, Dataset, Direction, Framework, Indicator, IndicatorType, Unit};
pub use pipeline::{Run, Stage, regen, run};
pub use spec::PipelineSpec;
pub mod diagnostics;
pub mod results;
pub mod rng;
pub mod uncertainty;
