//! The evaluation module's behaviour through the real router, on SQLite always and on
//! PostgreSQL when `QCITY_TEST_POSTGRES_URL` is set (a fresh database per test). One test
//! binary, one file per part of the module.

mod common;
mod pages;
mod rules;
mod runs;
mod structure;
mod values;
