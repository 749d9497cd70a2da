//! The page frame every page shares: navigation by the four pillars, language switch, user menu.

use crate::auth::{Capability, Principal};
use crate::i18n::{Lang, Tr};
use crate::web::state::AppState;

/// The speech's four "musts", the top level of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pillar {
    /// 发展 Develop: measure, survey, report.
    Develop,
    /// 安全 Safety: special equipment, 96333, product safety.
    Safety,
    /// 基础 Foundation: metrology, energy metering.
    Foundation,
    /// 共治 Co-governance: citizens' reports and complaints.
    CoGovernance,
}

impl Pillar {
    pub const ALL: [Pillar; 4] = [
        Pillar::Develop,
        Pillar::Safety,
        Pillar::Foundation,
        Pillar::CoGovernance,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Pillar::Develop => "nav-pillar-develop",
            Pillar::Safety => "nav-pillar-safety",
            Pillar::Foundation => "nav-pillar-foundation",
            Pillar::CoGovernance => "nav-pillar-cogovernance",
        }
    }
}

/// One navigation entry a module contributes.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub pillar: Pillar,
    /// Fluent key of the label.
    pub label_key: &'static str,
    pub href: &'static str,
    /// Shown only to roles with this capability (`None`: every signed-in user).
    pub capability: Option<Capability>,
}

/// A rendered navigation group.
#[derive(Debug, Clone)]
pub struct NavGroup {
    pub label: String,
    pub items: Vec<NavLink>,
}

#[derive(Debug, Clone)]
pub struct NavLink {
    pub label: String,
    pub href: String,
    pub active: bool,
}

/// What the layout template needs on every page.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub t: Tr,
    pub title: String,
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_label: String,
    pub path: String,
    pub csrf: String,
    pub user_name: String,
    pub role_label: String,
    pub city_name: String,
    pub nav: Vec<NavGroup>,
    pub admin_nav: Vec<NavLink>,
    pub signed_in: bool,
}

impl PageCtx {
    /// The frame for a signed-in page.
    pub fn new(
        st: &AppState,
        p: &Principal,
        lang: Lang,
        csrf: &str,
        path: &str,
        title: String,
        city_name: String,
    ) -> Self {
        let t = Tr::new(lang);
        let mut nav = Vec::new();
        let items: Vec<NavItem> = st.modules.iter().flat_map(|m| m.nav()).collect();
        for pillar in Pillar::ALL {
            let links: Vec<NavLink> = items
                .iter()
                .filter(|i| i.pillar == pillar && i.capability.is_none_or(|c| p.can(c)))
                .map(|i| NavLink {
                    label: t.t(i.label_key),
                    href: i.href.to_string(),
                    active: path.starts_with(i.href),
                })
                .collect();
            nav.push(NavGroup {
                label: t.t(pillar.key()),
                items: links,
            });
        }
        let mut admin_nav = Vec::new();
        let mut add = |cap: Capability, key: &str, href: &str| {
            if p.can(cap) {
                admin_nav.push(NavLink {
                    label: t.t(key),
                    href: href.to_string(),
                    active: path.starts_with(href),
                });
            }
        };
        add(Capability::ViewAll, "enterprise-title", "/app/enterprises");
        add(Capability::ManageUsers, "admin-users", "/app/admin/users");
        add(
            Capability::ManageRegions,
            "admin-regions",
            "/app/admin/regions",
        );
        add(
            Capability::ManageTokens,
            "admin-tokens",
            "/app/admin/tokens",
        );
        add(Capability::ViewAudit, "admin-audit", "/app/admin/audit");
        add(
            Capability::ViewAudit,
            "admin-dead-letters",
            "/app/admin/mqtt",
        );
        Self {
            t,
            title,
            lang: lang.code(),
            other_lang: lang.other().code(),
            other_lang_label: t.t("lang-switch"),
            path: path.to_string(),
            csrf: csrf.to_string(),
            user_name: p.display_name.clone(),
            role_label: t.t(&format!("role-{}", p.role.as_str())),
            city_name,
            nav,
            admin_nav,
            signed_in: true,
        }
    }

    /// The frame for a public page (login, portal).
    pub fn public(lang: Lang, csrf: &str, path: &str, title: String) -> Self {
        let t = Tr::new(lang);
        Self {
            t,
            title,
            lang: lang.code(),
            other_lang: lang.other().code(),
            other_lang_label: t.t("lang-switch"),
            path: path.to_string(),
            csrf: csrf.to_string(),
            user_name: String::new(),
            role_label: String::new(),
            city_name: String::new(),
            nav: Vec::new(),
            admin_nav: Vec::new(),
            signed_in: false,
        }
    }
}
