//! Survey module behaviour through the real router, on SQLite always and on PostgreSQL when
//! `QCITY_TEST_POSTGRES_URL` is set (a fresh database per test). One test binary, one file per
//! part of the module; the helpers are the survey tests' common ones.

mod analysis;
mod builder;
mod collection;
#[path = "../common/mod.rs"]
mod common;
