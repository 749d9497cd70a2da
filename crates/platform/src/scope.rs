//! What rows a request may touch: one city (the tenant), a region subtree in it, and for roles
//! that act for a market entity (a maintenance company's staff, a unit's energy manager) only that
//! entity's rows. One type for every module, and one SQL clause builder.

use crate::auth::{Principal, RegionScope, Role};
use sea_orm::Value;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A city's id: the tenant that scopes every row and every query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CityId(pub i64);

impl fmt::Display for CityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<CityId> for Value {
    fn from(c: CityId) -> Value {
        c.0.into()
    }
}

/// Whose rows, within the region, a principal sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Every row of the region (bureau staff, background jobs).
    Any,
    /// Only rows of this maintenance company (维保单位), by its id in the equipment register.
    Company(i64),
    /// Only rows of this unit (用能单位/市场主体), by its id.
    Enterprise(i64),
    /// Nothing: a role acting for an entity but bound to none.
    Nobody,
}

/// The rows a request may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region: RegionScope,
    pub owner: Owner,
}

/// The columns holding the owner of a table's rows, as a module names them (`None`: the table
/// has no such owner, so a principal limited to one sees none of its rows).
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnerColumns<'a> {
    pub company: Option<&'a str>,
    pub enterprise: Option<&'a str>,
}

impl Scope {
    /// The scope of a principal: its region subtree, and its company or unit when its role acts
    /// for one.
    pub fn of(p: &Principal) -> Scope {
        let owner = match p.role {
            Role::Maintainer => p.company_id.map_or(Owner::Nobody, Owner::Company),
            Role::EnergyManager => p.enterprise_id.map_or(Owner::Nobody, Owner::Enterprise),
            _ => Owner::Any,
        };
        Scope {
            region: p.scope.clone(),
            owner,
        }
    }

    /// The whole city (background jobs, MQTT ingest, hooks): every region code of the city.
    pub fn city(city: CityId) -> Scope {
        Scope {
            region: RegionScope::new(city.0, ""),
            owner: Owner::Any,
        }
    }

    pub fn city_id(&self) -> CityId {
        CityId(self.region.city_id)
    }

    /// The region code prefix of the subtree.
    pub fn prefix(&self) -> &str {
        &self.region.prefix
    }

    /// The part of this scope under region `code` (a region picked to narrow the view), or
    /// `None` when that region lies outside it.
    pub fn within(&self, code: &str) -> Option<Scope> {
        let region = RegionScope::new(self.region.city_id, code);
        let inside = region.prefix.starts_with(self.prefix());
        inside.then_some(Scope {
            region,
            owner: self.owner,
        })
    }

    /// Whether a row of `city` in region `code` owned by (`company`, `enterprise`) is in scope.
    pub fn admits(
        &self,
        city: CityId,
        code: &str,
        company: Option<i64>,
        enterprise: Option<i64>,
    ) -> bool {
        self.region.contains(city.0, code)
            && match self.owner {
                Owner::Any => true,
                Owner::Company(c) => company == Some(c),
                Owner::Enterprise(e) => enterprise == Some(e),
                Owner::Nobody => false,
            }
    }

    /// ` alias.city_id = ? AND alias.region_code LIKE ?` and, for an owner-limited scope, the
    /// owner test, with the values pushed onto `vals` in order (`?` placeholders, see
    /// [`crate::store::sql`]).
    pub fn clause(&self, alias: &str, owners: OwnerColumns<'_>, vals: &mut Vec<Value>) -> String {
        vals.push(self.region.city_id.into());
        vals.push(self.region.like_pattern().into());
        let mut s = format!(" {alias}.city_id = ? AND {alias}.region_code LIKE ?");
        let owner = match self.owner {
            Owner::Any => None,
            Owner::Company(id) => Some((owners.company, id)),
            Owner::Enterprise(id) => Some((owners.enterprise, id)),
            Owner::Nobody => Some((None, 0)),
        };
        match owner {
            None => {}
            Some((Some(col), id)) => {
                vals.push(id.into());
                s.push_str(&format!(" AND {alias}.{col} = ?"));
            }
            Some((None, _)) => s.push_str(" AND 1 = 0"),
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_narrows_inside_and_refuses_outside() {
        let s = Scope::of(&principal(Role::Maintainer, Some(3), None));
        let n = s.within("990102001").expect("inside");
        assert!(n.prefix().starts_with("990102") && n.prefix() != s.prefix());
        assert_eq!(n.owner, Owner::Company(3));
        assert!(s.within("990103").is_none());
        assert!(s.within("9901").is_none(), "wider than the scope");
    }
    use crate::auth::AuthVia;

    fn principal(role: Role, company: Option<i64>, enterprise: Option<i64>) -> Principal {
        Principal {
            city_id: 7,
            city_code: "990100".into(),
            user_id: 1,
            username: "u".into(),
            display_name: String::new(),
            role,
            scope: RegionScope::new(7, "990102"),
            company_id: company,
            enterprise_id: enterprise,
            via: AuthVia::Token { token_id: 1 },
        }
    }

    const EQUIPMENT: OwnerColumns<'static> = OwnerColumns {
        company: Some("company_id"),
        enterprise: Some("use_unit_id"),
    };

    #[test]
    fn staff_see_their_region_of_their_city() {
        let s = Scope::of(&principal(Role::Analyst, None, None));
        assert_eq!(s.owner, Owner::Any);
        assert!(s.admits(CityId(7), "990102001", None, None));
        assert!(!s.admits(CityId(7), "990103", None, None));
        assert!(!s.admits(CityId(8), "990102", None, None));
        let mut v = Vec::new();
        assert_eq!(
            s.clause("e", EQUIPMENT, &mut v),
            " e.city_id = ? AND e.region_code LIKE ?"
        );
        assert_eq!(v, vec![Value::from(7_i64), Value::from("990102%")]);
    }

    #[test]
    fn a_maintainer_sees_only_their_company_and_without_one_nothing() {
        let s = Scope::of(&principal(Role::Maintainer, Some(3), None));
        assert_eq!(s.owner, Owner::Company(3));
        assert!(s.admits(CityId(7), "990102", Some(3), None));
        assert!(!s.admits(CityId(7), "990102", Some(4), None));
        let mut v = Vec::new();
        assert!(
            s.clause("e", EQUIPMENT, &mut v)
                .ends_with(" AND e.company_id = ?")
        );
        assert_eq!(v.last(), Some(&Value::from(3_i64)));

        let none = Scope::of(&principal(Role::Maintainer, None, None));
        assert_eq!(none.owner, Owner::Nobody);
        assert!(!none.admits(CityId(7), "990102", None, None));
        assert!(
            none.clause("e", EQUIPMENT, &mut Vec::new())
                .ends_with(" AND 1 = 0")
        );
    }

    #[test]
    fn an_owner_the_table_does_not_record_sees_none_of_it() {
        let s = Scope::of(&principal(Role::EnergyManager, None, Some(9)));
        assert_eq!(s.owner, Owner::Enterprise(9));
        let no_enterprise = OwnerColumns {
            company: Some("company_id"),
            enterprise: None,
        };
        assert!(
            s.clause("e", no_enterprise, &mut Vec::new())
                .ends_with(" AND 1 = 0")
        );
    }

    #[test]
    fn the_whole_city() {
        let s = Scope::city(CityId(7));
        assert_eq!(s.owner, Owner::Any);
        assert!(s.admits(CityId(7), "990205001", None, None));
        assert!(!s.admits(CityId(8), "990205001", None, None));
        assert_eq!(s.city_id(), CityId(7));
    }
}
