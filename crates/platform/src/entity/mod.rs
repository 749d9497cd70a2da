//! SeaORM entities of the platform's own tables. Every tenant table has `city_id` first in its
//! primary key (Citus distribution column).

pub mod api_token;
pub mod audit_log;
pub mod city;
pub mod region;
pub mod session;
pub mod user;
