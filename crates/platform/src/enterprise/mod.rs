//! The register of market entities (市场主体登记): one row per enterprise of a city, keyed by its
//! unified social credit code (GB 32100-2015). The enterprise is the subject of everything the
//! bureau regulates — an elevator's use unit and maintenance company, a key energy-consuming
//! unit, a sampled producer — and modules reference it by id ([`store::link`]).
//!
//! An enterprise's page shows what every module knows of it through the
//! [`Module::enterprise_sections`](crate::Module::enterprise_sections) hook; the platform never
//! reads a module's tables.

pub mod api;
pub mod pages;
pub mod store;
pub mod uscc;

pub use store::{Enterprise, EnterprisePatch, NewEnterprise};
pub use uscc::Uscc;

/// What one module knows of an enterprise, shown as a section of its page.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EnterpriseSection {
    /// Heading in the reader's language, e.g. "使用的特种设备".
    pub title: String,
    /// How many there are in all (`items` may show only the first ones).
    pub total: u64,
    pub items: Vec<EnterpriseItem>,
}

/// One thing a module knows of an enterprise (an elevator, a meter, …).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EnterpriseItem {
    pub label: String,
    pub detail: String,
    /// The module's own page of it.
    pub href: Option<String>,
}
