//! API tokens: list, create (shown once), revoke.

use super::{Flash, flash_err};
use crate::audit::Actor;
use crate::auth::{Capability, Principal};
use crate::entity::api_token;
use crate::store::{self};
use crate::web::error::{AppError, PageError};
use crate::web::extract::Page;
use crate::web::layout::PageCtx;
use crate::web::render::{page_ctx, render};
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Path, Query};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/admin/tokens", get(tokens_page).post(token_create))
        .route("/app/admin/tokens/{id}/revoke", post(token_revoke))
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    tokens: Vec<(api_token::Model, String)>,
    new_token: String,
    error: String,
}

async fn tokens_list(
    st: &AppState,
    p: &Principal,
) -> Result<Vec<(api_token::Model, String)>, PageError> {
    let users: std::collections::HashMap<i64, String> =
        store::users::list_visible(&st.db, &p.scope)
            .await?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect();
    let mut q = api_token::Entity::find().filter(api_token::Column::CityId.eq(p.city_id));
    if !p.can(Capability::ManageUsers) {
        q = q.filter(api_token::Column::UserId.eq(p.user_id));
    }
    Ok(q.order_by_desc(api_token::Column::CreatedAt)
        .all(&st.db)
        .await?
        .into_iter()
        .filter_map(|t| users.get(&t.user_id).cloned().map(|u| (t, u)))
        .collect())
}

async fn tokens_page(
    Page(st, p, lang, csrf): Page,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    p.require(Capability::ManageTokens)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/tokens", "admin-tokens").await?;
    render(&TokensPage {
        ctx,
        tokens: tokens_list(&st, &p).await?,
        new_token: String::new(),
        error: fl.err.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct NewTokenForm {
    name: String,
    username: String,
}

async fn token_create(
    Page(st, p, lang, csrf): Page,
    Form(f): Form<NewTokenForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageTokens)?;
    let Some(u) = store::users::by_username(&st.db, p.city_id, f.username.trim())
        .await?
        .filter(|u| p.scope.contains(u.city_id, &u.region_code))
    else {
        return Ok(flash_err(
            "/app/admin/tokens",
            &AppError::validation("username", "no such user in your scope"),
        ));
    };
    let name = if f.name.trim().is_empty() {
        "api".to_string()
    } else {
        f.name.trim().to_string()
    };
    let (_, secret) = crate::admin::issue_token(&st.db, &Actor::from(&p), &u, &name).await?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/tokens", "admin-tokens").await?;
    Ok(render(&TokensPage {
        ctx,
        tokens: tokens_list(&st, &p).await?,
        new_token: secret,
        error: String::new(),
    })?
    .into_response())
}

async fn token_revoke(Page(st, p, ..): Page, Path(id): Path<i64>) -> Result<Response, PageError> {
    p.require(Capability::ManageTokens)?;
    let visible = tokens_list(&st, &p)
        .await?
        .into_iter()
        .any(|(t, _)| t.id == id);
    if !visible {
        return Err(PageError(AppError::NotFound("token".into())));
    }
    crate::admin::revoke_token(&st.db, &Actor::from(&p), p.city_id, id).await?;
    // After the commit: cached principals (and any read racing with this change) are dropped.
    st.tokens.invalidate_all();
    Ok(Redirect::to("/app/admin/tokens").into_response())
}
