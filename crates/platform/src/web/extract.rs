//! Extractors: the principal (for pages and for the API), the request language, the CSRF token,
//! and [`Page`], all that a page handler needs in one.

use crate::auth::Principal;
use crate::i18n::{Lang, Tr};
use crate::web::error::{ApiError, AppError, PageError};
use crate::web::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// A signed-in principal for an API handler (401 problem+json otherwise).
pub struct ApiUser(pub Principal);

/// A signed-in principal for a page handler (redirect to login otherwise).
pub struct PageUser(pub Principal);

/// The language chosen for this request.
#[derive(Debug, Clone, Copy)]
pub struct ReqLang(pub Lang);

impl ReqLang {
    pub fn tr(self) -> Tr {
        Tr::new(self.0)
    }
}

/// The CSRF token forms on this page must carry.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// What every page handler needs: the server state, the signed-in principal (else a redirect to
/// the login page), the request language and the CSRF token its forms carry.
///
/// Handlers destructure it in that order: `Page(st, p, lang, csrf): Page`, or
/// `Page(st, p, ..): Page` when the handler needs only the first two.
pub struct Page(pub AppState, pub Principal, pub ReqLang, pub CsrfToken);

impl FromRequestParts<AppState> for Page {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let PageUser(user) = PageUser::from_request_parts(parts, st).await?;
        let Ok(lang) = ReqLang::from_request_parts(parts, st).await;
        let Ok(csrf) = CsrfToken::from_request_parts(parts, st).await;
        Ok(Page(st.clone(), user, lang, csrf))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(ApiUser)
            .ok_or(ApiError(AppError::Unauthenticated))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageUser {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(PageUser)
            .ok_or(PageError(AppError::Unauthenticated))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ReqLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ReqLang>()
            .copied()
            .unwrap_or(ReqLang(Lang::ZhCn)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or(CsrfToken(String::new())))
    }
}
