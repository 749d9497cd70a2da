//! qcity platform: what every module shares — configuration, database and migrations,
//! authentication, sessions, role and region scoping, the audit log, translations, the page
//! frame, embedded assets, API errors, the OpenAPI document, the MQTT batch consumer and the
//! register of market entities.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod demo;
pub mod demo_progress;
pub mod enterprise;
pub mod entity;
pub mod feeds;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod migration;
pub mod module;
pub mod mqtt;
pub mod scope;
pub mod store;
pub mod upload;
pub mod web;

#[doc(hidden)]
pub mod testing;
pub mod time;

pub use module::{DemoContext, Module, Tile};
pub use scope::{CityId, Owner, OwnerColumns, Scope};
pub use sea_orm_migration;
