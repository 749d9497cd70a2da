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

use crate::sql;
use qcity_platform::auth::{Capability, Principal, Role};
use qcity_platform::store::StoreError;
use sea_orm::{QueryResult, Value};

/// Who may see what: city, region prefix and (energy managers) one enterprise.
#[derive(Debug, Clone)]
pub struct Scope {
    pub city_id: i64,
    pub prefix: String,
    /// `Some(id)`: only this unit (an energy manager; `-1` when they are bound to none).
    pub unit: Option<i64>,
}

impl Scope {
    /// The scope of a principal, or `None` when the role may not see metering data.
    pub fn of(p: &Principal) -> Option<Scope> {
        if p.role == Role::EnergyManager {
            return Some(Scope {
                city_id: p.city_id,
                prefix: p.scope.prefix.clone(),
                unit: Some(p.enterprise_id.unwrap_or(-1)),
            });
        }
        if p.can(Capability::ViewAll) || p.can(Capability::ManageMetering) {
            return Some(Scope {
                city_id: p.city_id,
                prefix: p.scope.prefix.clone(),
                unit: None,
            });
        }
        None
    }
    /// The whole city (system processes: MQTT, hooks).
    pub fn city(city_id: i64) -> Scope {
        Scope {
            city_id,
            prefix: String::new(),
            unit: None,
        }
    }
    /// `AND …` clause over a table alias with `city_id`, `region_code` and the unit column.
    pub fn clause(&self, alias: &str, unit_col: &str, vals: &mut Vec<Value>) -> String {
        vals.push(self.city_id.into());
        vals.push(sql::like(&self.prefix).into());
        let mut s = format!(" {alias}.city_id = ? AND {alias}.region_code LIKE ?");
        if let Some(u) = self.unit {
            vals.push(u.into());
            s.push_str(&format!(" AND {alias}.{unit_col} = ?"));
        }
        s
    }
}

fn g<T: sea_orm::TryGetable>(r: &QueryResult, c: &str) -> Result<T, StoreError> {
    r.try_get("", c).map_err(StoreError::from)
}
