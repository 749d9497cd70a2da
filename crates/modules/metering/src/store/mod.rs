//! Store functions of the metering module. The city and the caller's scope are explicit
//! parameters; every query filters by `city_id`, the region prefix and, for energy managers,
//! their own enterprise.
//!
//! This module holds the scope and the shared row helper; each seam is a file of its own and is
//! re-exported here, so `store::X` names every item.

mod coverage;
mod ingest;
mod meters;
mod parse;
mod rollups;
mod series;
mod units;

pub use coverage::*;
pub use ingest::*;
pub use meters::*;
pub use parse::*;
pub use rollups::*;
pub use series::*;
pub use units::*;

use qcity_platform::auth::{Capability, Principal, Role};
use qcity_platform::store::StoreError;
use sea_orm::{QueryResult, Value};

/// Who may see what: city, region prefix and (energy managers) one enterprise.
/// Metering's rows are scoped by the platform's [`Scope`]: a unit's energy manager (能源管理员)
/// sees only their unit (用能单位), bureau staff their region.
pub use qcity_platform::Scope;

/// The scope of a principal, or `None` when the role may not see metering data.
pub fn scope_of(p: &Principal) -> Option<Scope> {
    (p.role == Role::EnergyManager
        || p.require_any(&[Capability::ViewAll, Capability::ManageMetering])
            .is_ok())
    .then(|| Scope::of(p))
}

/// `city_id`, region and unit test over a table alias whose unit column is `unit_col`.
pub fn unit_clause(s: &Scope, alias: &str, unit_col: &str, vals: &mut Vec<Value>) -> String {
    let owners = qcity_platform::OwnerColumns {
        company: None,
        enterprise: Some(unit_col),
    };
    s.clause(alias, owners, vals)
}

fn g<T: sea_orm::TryGetable>(r: &QueryResult, c: &str) -> Result<T, StoreError> {
    r.try_get("", c).map_err(StoreError::from)
}
