//! Roles and what each may do. 角色与权限

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's role. Every role is further limited to a region subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: users, regions, configuration.
    Admin,
    /// 质量发展处分析员: frameworks, index runs, survey analysis, reports.
    Analyst,
    /// 部门数据填报员: enters and imports indicator data.
    DataOfficer,
    /// 特种设备安全监察员: equipment registry, inspections, risk.
    Inspector,
    /// 96333 调度员: trapped-passenger incidents.
    Dispatcher,
    /// 维保单位人员: their company's rescue jobs and maintenance records.
    Maintainer,
    /// 企业能源管理员: their enterprise's meters and energy analysis.
    EnergyManager,
    /// 只读用户.
    Viewer,
}

/// Something a role may do; checked in handlers and store functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    ManageUsers,
    ManageRegions,
    ViewAudit,
    ManageTokens,
    EditFrameworks,
    EnterData,
    ApproveData,
    RunIndex,
    ManageSurvey,
    EditReports,
    PublishReports,
    ManageEquipment,
    RecordInspections,
    RecordMaintenance,
    DispatchIncidents,
    RespondIncidents,
    ManageMetering,
    /// Add, edit and import enterprises in the register of market entities (市场主体).
    ManageEnterprises,
    ViewAll,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Analyst,
        Role::DataOfficer,
        Role::Inspector,
        Role::Dispatcher,
        Role::Maintainer,
        Role::EnergyManager,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::DataOfficer => "data_officer",
            Role::Inspector => "inspector",
            Role::Dispatcher => "dispatcher",
            Role::Maintainer => "maintainer",
            Role::EnergyManager => "energy_manager",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role has `cap`.
    pub fn can(self, cap: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Admin => true,
            Role::Analyst => matches!(
                cap,
                EditFrameworks
                    | EnterData
                    | ApproveData
                    | RunIndex
                    | ManageSurvey
                    | EditReports
                    | PublishReports
                    | ViewAll
            ),
            Role::DataOfficer => matches!(cap, EnterData | ManageEnterprises | ViewAll),
            Role::Inspector => matches!(
                cap,
                ManageEquipment | RecordInspections | ManageEnterprises | ViewAll
            ),
            Role::Dispatcher => matches!(cap, DispatchIncidents | ViewAll),
            Role::Maintainer => matches!(cap, RecordMaintenance | RespondIncidents),
            Role::EnergyManager => matches!(cap, ManageMetering),
            Role::Viewer => matches!(cap, ViewAll),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown role name.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown role `{0}` (expected one of admin, analyst, data_officer, inspector, dispatcher, maintainer, energy_manager, viewer)"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_admin_manages_users() {
        for r in Role::ALL {
            assert_eq!(r.can(Capability::ManageUsers), r == Role::Admin);
        }
    }
}
