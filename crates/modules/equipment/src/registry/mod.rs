//! The registry: maintenance companies, equipment, inspection cycles, inspections, maintenance,
//! and the elevator risk score. Every function takes the city and the caller's scope.
//!
//! One file per part, each re-exported here so that every item is `crate::registry::X`:
//! `companies` (维保单位), `equipment` (the register itself), `transfer` (CSV / XLSX import and
//! export), `cycles` (检验周期 and the elevator schedule), `inspections` (检验, 整改),
//! `maintenance` (维保) and `risk` (the elevator risk score). This file holds what they share:
//! the caller's [`Scope`] and the bureau's working day.

mod companies;
mod cycles;
mod equipment;
mod inspections;
mod maintenance;
mod risk;
mod transfer;

pub use companies::*;
pub use cycles::*;
pub use equipment::*;
pub use inspections::*;
pub use maintenance::*;
pub use risk::*;
pub use transfer::*;

use chrono::NaiveDate;
use qcity_platform::auth::{Principal, Role};
use qcity_platform::store::StoreError;

type R<T> = Result<T, StoreError>;

/// What a caller may see: a region subtree of one city, and for maintenance engineers only
/// their own company's equipment and incidents.
#[derive(Debug, Clone)]
pub struct Scope {
    pub city_id: i64,
    pub prefix: String,
    pub company_id: Option<i64>,
}

impl Scope {
    pub fn of(p: &Principal) -> Self {
        Self {
            city_id: p.city_id,
            prefix: p.scope.prefix.clone(),
            company_id: if p.role == Role::Maintainer {
                // A maintainer bound to no company sees nothing.
                Some(p.company_id.unwrap_or(-1))
            } else {
                None
            },
        }
    }
    /// The whole city (background jobs, hooks).
    pub fn city(city_id: i64, city_prefix: &str) -> Self {
        Self {
            city_id,
            prefix: city_prefix.to_string(),
            company_id: None,
        }
    }
}

/// Today in China time (the bureau's working day).
pub fn today() -> NaiveDate {
    qcity_platform::time::today()
}
