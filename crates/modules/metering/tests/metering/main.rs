//! The metering module through the real router, on SQLite always and on PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set: units and meter tree, scoping (energy managers see only their
//! enterprise; out-of-scope is 404), ingest idempotency, late data and rollup consistency, bad rows,
//! VEE edit trail, detectors and audited acknowledgement, savings and hooks.
//! One test binary, one file per part of the module.

mod analysis;
mod common;
mod ingest;
mod units;
