//! The authenticated principal behind a request.

use super::{Capability, RegionScope, Role};

/// How the principal authenticated.
#[derive(Debug, Clone)]
pub enum AuthVia {
    /// Browser session; state-changing requests must carry this CSRF token.
    Session { csrf_token: String },
    /// `Authorization: Bearer` API token (no cookies, so no CSRF).
    Token { token_id: i64 },
}

/// Who is asking, in which city, with which role and scope.
#[derive(Debug, Clone)]
pub struct Principal {
    pub city_id: i64,
    pub city_code: String,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: RegionScope,
    pub company_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub via: AuthVia,
}

/// A request refused because the principal's role lacks the capability (403 wherever shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not permitted")]
pub struct Forbidden;

impl Principal {
    pub fn can(&self, cap: Capability) -> bool {
        self.role.can(cap)
    }

    /// `Ok` when the role holds `cap`: the one permission check of every handler and service.
    pub fn require(&self, cap: Capability) -> Result<(), Forbidden> {
        if self.can(cap) {
            Ok(())
        } else {
            Err(Forbidden)
        }
    }

    /// `Ok` when the role holds any of `caps` (a page several roles may read).
    pub fn require_any(&self, caps: &[Capability]) -> Result<(), Forbidden> {
        if caps.iter().any(|c| self.can(*c)) {
            Ok(())
        } else {
            Err(Forbidden)
        }
    }

    /// Name recorded in the audit log.
    pub fn actor_name(&self) -> String {
        match self.via {
            AuthVia::Session { .. } => self.username.clone(),
            AuthVia::Token { token_id } => format!("{} (token {token_id})", self.username),
        }
    }

    pub fn csrf_token(&self) -> Option<&str> {
        match &self.via {
            AuthVia::Session { csrf_token } => Some(csrf_token),
            AuthVia::Token { .. } => None,
        }
    }
}
