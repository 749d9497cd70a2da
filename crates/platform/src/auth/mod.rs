//! Authentication and authorisation: roles, the principal behind a request, region scope,
//! password hashing, sessions, API tokens, login throttling.

pub mod password;
pub mod principal;
pub mod role;
pub mod scope;
pub mod session;
pub mod throttle;
pub mod token;
pub mod token_cache;

pub use principal::{AuthVia, Forbidden, Principal};
pub use role::{Capability, Role};
pub use scope::RegionScope;
