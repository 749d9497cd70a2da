//! The registry: maintenance companies, equipment, inspection cycles, inspections, maintenance,
//! and the elevator risk score. Every function takes the city and the caller's scope.
//!
//! One file per part, each re-exported here so that every item is `crate::registry::X`:
//! `companies` (维保单位), `equipment` (the register itself), `transfer` (CSV / XLSX import and
//! export), `cycles` (检验周期 and the elevator schedule), `inspections` (检验, 整改),
//! `maintenance` (维保) and `risk` (the elevator risk score). This file holds what they share:
//! the owner column the platform's [`Scope`](qcity_platform::Scope) filters by and the bureau's
//! working day.

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
use qcity_platform::OwnerColumns;
use qcity_platform::store::StoreError;

type R<T> = Result<T, StoreError>;

/// The owner column of `eq_equipment` for [`Scope::clause`](qcity_platform::Scope::clause): a maintenance company's staff
/// see the equipment their company maintains. No equipment role acts for a use unit, so a
/// scope limited to an enterprise sees none of it.
pub const EQUIPMENT_OWNER: OwnerColumns<'static> = OwnerColumns {
    company: Some("company_id"),
    enterprise: None,
};

/// Today in China time (the bureau's working day).
pub fn today() -> NaiveDate {
    qcity_platform::time::today()
}
