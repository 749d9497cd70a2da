//! Integration tests of qcity-mv, compiled into one test binary (one link per crate).

mod caltrack_reference;
mod caltrack_rules;
mod chain_properties;
mod eemeter_samples;
mod hourly;
mod vee_properties;
