//! User administration: create, disable, enable, reset password.

use super::{Flash, flash_err};
use crate::audit::Actor;
use crate::auth::{Capability, Principal, Role, password};
use crate::store::{
    self,
    users::{NewUser, UserView, Username},
};
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
use serde::Deserialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/admin/users", get(users_page).post(user_create))
        .route("/app/admin/users/{id}/disable", post(user_disable))
        .route("/app/admin/users/{id}/enable", post(user_enable))
        .route("/app/admin/users/{id}/password", post(user_password))
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    ctx: PageCtx,
    users: Vec<UserView>,
    roles: Vec<(&'static str, String)>,
    regions: Vec<(String, String)>,
    message: String,
    error: String,
}

async fn users_page(
    Page(st, p, lang, csrf): Page,
    Query(fl): Query<Flash>,
) -> Result<Html<String>, PageError> {
    p.require(Capability::ManageUsers)?;
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/admin/users", "admin-users").await?;
    let t = lang.tr();
    let users = store::users::list_visible(&st.db, &p.scope)
        .await?
        .iter()
        .map(UserView::from)
        .collect();
    let regions = st
        .visible_regions(&p.scope)
        .await?
        .into_iter()
        .filter(|r| r.level != "community")
        .map(|r| {
            (
                r.code.clone(),
                format!("{} {}", r.code, t.pick(&r.name_zh, &r.name_en)),
            )
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .map(|r| (r.as_str(), t.t(&format!("role-{}", r.as_str()))))
        .collect();
    render(&UsersPage {
        ctx,
        users,
        roles,
        regions,
        message: fl.msg.map(|m| t.t(&m)).unwrap_or_default(),
        error: fl.err.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct NewUserForm {
    username: String,
    display_name: String,
    role: String,
    region: String,
    password: String,
}

async fn user_create(
    Page(st, p, ..): Page,
    Form(f): Form<NewUserForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageUsers)?;
    let r: Result<(), AppError> = async {
        let username = Username::parse(&f.username)?;
        let role: Role = f
            .role
            .parse()
            .map_err(|e: crate::auth::role::UnknownRole| {
                AppError::validation("role", e.to_string())
            })?;
        if !p.scope.contains(p.city_id, &f.region) {
            return Err(AppError::validation("region", "outside your scope"));
        }
        let hash = password::hash_async(f.password.clone())
            .await
            .map_err(|e| AppError::validation("password", e.to_string()))?;
        crate::admin::create_user(
            &st.db,
            &Actor::from(&p),
            p.city_id,
            NewUser {
                username,
                display_name: f.display_name.trim().to_string(),
                password_hash: hash,
                role,
                region_code: f.region.clone(),
                company_id: None,
                enterprise_id: None,
            },
        )
        .await?;
        Ok(())
    }
    .await;
    Ok(match r {
        Ok(()) => Redirect::to("/app/admin/users?msg=admin-user-created").into_response(),
        Err(e) => flash_err("/app/admin/users", &e),
    })
}

async fn set_disabled(
    st: &AppState,
    p: &Principal,
    id: i64,
    disabled: bool,
) -> Result<Response, PageError> {
    p.require(Capability::ManageUsers)?;
    let before = store::users::by_id(&st.db, p.city_id, id)
        .await?
        .filter(|u| p.scope.contains(u.city_id, &u.region_code))
        .ok_or_else(|| AppError::NotFound("user".into()))?;
    if before.id == p.user_id {
        return Ok(flash_err(
            "/app/admin/users",
            &AppError::validation("user", "you cannot disable yourself"),
        ));
    }
    crate::admin::set_disabled(&st.db, &Actor::from(p), &before, disabled).await?;
    // After the commit: cached principals (and any read racing with this change) are dropped.
    st.tokens.invalidate_all();
    Ok(Redirect::to("/app/admin/users?msg=admin-saved").into_response())
}

async fn user_disable(Page(st, p, ..): Page, Path(id): Path<i64>) -> Result<Response, PageError> {
    set_disabled(&st, &p, id, true).await
}

async fn user_enable(Page(st, p, ..): Page, Path(id): Path<i64>) -> Result<Response, PageError> {
    set_disabled(&st, &p, id, false).await
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
}

async fn user_password(
    Page(st, p, ..): Page,
    Path(id): Path<i64>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageUsers)?;
    let u = store::users::by_id(&st.db, p.city_id, id)
        .await?
        .filter(|u| p.scope.contains(u.city_id, &u.region_code))
        .ok_or_else(|| AppError::NotFound("user".into()))?;
    let hash = match password::hash_async(f.password).await {
        Ok(h) => h,
        Err(e) => {
            return Ok(flash_err(
                "/app/admin/users",
                &AppError::validation("password", e.to_string()),
            ));
        }
    };
    crate::admin::reset_password(&st.db, &Actor::from(&p), p.city_id, u.id, hash).await?;
    // After the commit: cached principals (and any read racing with this change) are dropped.
    st.tokens.invalidate_all();
    Ok(Redirect::to("/app/admin/users?msg=admin-saved").into_response())
}
