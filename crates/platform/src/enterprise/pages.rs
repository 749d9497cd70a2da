//! The register's pages (zh-CN / en): search and list, view (with what every module knows of the
//! enterprise), add, edit and import. Writes go through the same store functions as the API and
//! are audited in the same transaction.

use super::EnterpriseSection;
use super::api::may_view;
use super::store::{self, Enterprise, EnterpriseFilter, EnterprisePatch, NewEnterprise};
use crate::audit::Actor;
use crate::auth::{Capability, Principal};
use crate::db::BeginWrite;
use crate::i18n::Tr;
use crate::store::StoreError;
use crate::web::error::{AppError, PageError};
use crate::web::extract::{CsrfToken, Page, ReqLang};
use crate::web::layout::PageCtx;
use crate::web::render::{page_ctx, render};
use crate::web::state::AppState;
use crate::web::urlencode;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/enterprises", get(list_page).post(create_submit))
        .route("/app/enterprises/new", get(new_page))
        .route("/app/enterprises/import", get(import_page))
        .route("/app/enterprises/{id}", get(view_page).post(edit_submit))
        .route("/app/enterprises/{id}/edit", get(edit_page))
}

fn need_view(p: &Principal) -> Result<(), PageError> {
    if may_view(p) {
        Ok(())
    } else {
        Err(PageError(AppError::Forbidden))
    }
}

/// (code, "code name") of the districts and streets the principal may see, for the selects.
async fn region_options(
    st: &AppState,
    p: &Principal,
    t: &Tr,
) -> Result<Vec<(String, String)>, PageError> {
    Ok(st
        .visible_regions(&p.scope)
        .await?
        .iter()
        .filter(|r| matches!(r.level.as_str(), "district" | "street"))
        .map(|r| {
            let indent = if r.level == "street" { "　" } else { "" };
            (
                r.code.clone(),
                format!("{indent}{} {}", r.code, t.pick(&r.name_zh, &r.name_en)),
            )
        })
        .collect())
}

// ---------------------------------------------------------------- list

#[derive(Template)]
#[template(path = "enterprise_list.html")]
struct ListTpl {
    ctx: PageCtx,
    items: Vec<Enterprise>,
    total: u64,
    page: u64,
    pages: u64,
    q: String,
    region: String,
    regions: Vec<(String, String)>,
    /// The filter as a query string (for the pager and the export link).
    query: String,
    can_manage: bool,
}

async fn list_page(Page(st, p, lang, csrf): Page, Query(f): Query<EnterpriseFilter>) -> PageResult {
    need_view(&p)?;
    let t = lang.tr();
    let ctx = page_ctx(&st, &p, lang, &csrf, "/app/enterprises", "enterprise-title").await?;
    let page = store::list(&st.db, p.city_id, &p.scope.prefix, &f).await?;
    let q = f.q.clone().unwrap_or_default();
    let region = f.region.clone().unwrap_or_default();
    Ok(render(&ListTpl {
        ctx,
        pages: page.total.div_ceil(page.page_size).max(1),
        total: page.total,
        page: u64::from(page.page),
        items: page.items,
        query: format!("q={}&region={}", urlencode(&q), urlencode(&region)),
        q,
        region,
        regions: region_options(&st, &p, &t).await?,
        can_manage: p.can(Capability::ManageEnterprises),
    })?
    .into_response())
}

// ---------------------------------------------------------------- view

#[derive(Template)]
#[template(path = "enterprise_view.html")]
struct ViewTpl {
    ctx: PageCtx,
    e: Enterprise,
    region_name: String,
    sections: Vec<EnterpriseSection>,
    can_manage: bool,
}

async fn view_page(Page(st, p, lang, csrf): Page, Path(id): Path<i64>) -> PageResult {
    need_view(&p)?;
    let t = lang.tr();
    let e = store::get(&st.db, p.city_id, &p.scope.prefix, id)
        .await?
        .ok_or_else(|| AppError::NotFound("enterprise".into()))?;
    let mut ctx = page_ctx(&st, &p, lang, &csrf, "/app/enterprises", "enterprise-title").await?;
    ctx.title = e.name.clone();
    let mut sections = Vec::new();
    for m in st.modules.iter() {
        match m
            .enterprise_sections(&st.db, p.city_id, &p.scope.prefix, id, &t)
            .await
        {
            Ok(s) => sections.extend(s),
            // One module failing must not hide the enterprise or the other modules.
            Err(err) => {
                tracing::error!(module = m.name(), error = %err, "enterprise hook failed");
            }
        }
    }
    let region_name = st
        .visible_regions(&p.scope)
        .await?
        .iter()
        .find(|r| r.code == e.region_code)
        .map(|r| t.pick(&r.name_zh, &r.name_en).to_string())
        .unwrap_or_default();
    Ok(render(&ViewTpl {
        ctx,
        e,
        region_name,
        sections,
        can_manage: p.can(Capability::ManageEnterprises),
    })?
    .into_response())
}

// ---------------------------------------------------------------- add and edit

/// The add / edit form as entered.
#[derive(Debug, Clone, Default, Deserialize)]
struct EnterpriseForm {
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region_code: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    legal_rep: String,
    #[serde(default)]
    industry: String,
    #[serde(default)]
    kind: String,
}

impl EnterpriseForm {
    fn of(e: &Enterprise) -> Self {
        let o = |s: &Option<String>| s.clone().unwrap_or_default();
        Self {
            credit_code: e.credit_code.clone(),
            name: e.name.clone(),
            region_code: e.region_code.clone(),
            address: o(&e.address),
            legal_rep: o(&e.legal_rep),
            industry: o(&e.industry),
            kind: o(&e.kind),
        }
    }
    fn to_new(&self) -> NewEnterprise {
        let o = |s: &str| Some(s.to_string());
        NewEnterprise {
            credit_code: self.credit_code.clone(),
            name: self.name.clone(),
            region_code: self.region_code.clone(),
            address: o(&self.address),
            legal_rep: o(&self.legal_rep),
            industry: o(&self.industry),
            kind: o(&self.kind),
        }
    }
    fn to_patch(&self) -> EnterprisePatch {
        let o = |s: &str| Some(s.to_string());
        EnterprisePatch {
            credit_code: o(&self.credit_code),
            name: o(&self.name),
            region_code: o(&self.region_code),
            address: o(&self.address),
            legal_rep: o(&self.legal_rep),
            industry: o(&self.industry),
            kind: o(&self.kind),
        }
    }
}

#[derive(Template)]
#[template(path = "enterprise_form.html")]
struct FormTpl {
    ctx: PageCtx,
    /// `None` when adding.
    id: Option<i64>,
    f: EnterpriseForm,
    regions: Vec<(String, String)>,
    /// The field in error (empty: none, or not one field) and the message.
    error_field: String,
    error: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    id: Option<i64>,
    f: EnterpriseForm,
    error: Option<(String, String)>,
    status: StatusCode,
) -> PageResult {
    let t = lang.tr();
    let key = if id.is_some() {
        "enterprise-edit"
    } else {
        "enterprise-add"
    };
    let ctx = page_ctx(st, p, lang, csrf, "/app/enterprises", key).await?;
    let (error_field, error) = error.unwrap_or_default();
    let html = render(&FormTpl {
        ctx,
        id,
        f,
        regions: region_options(st, p, &t).await?,
        error_field,
        error,
    })?;
    Ok((status, html).into_response())
}

/// A store error shown on the form: a field's problem (422) or a duplicate code (409).
fn form_error(e: StoreError, t: &Tr) -> Result<(String, String, StatusCode), PageError> {
    match e {
        StoreError::Invalid { field, message } => {
            Ok((field, message, StatusCode::UNPROCESSABLE_ENTITY))
        }
        StoreError::Conflict { detail: m, .. } => Ok((
            "credit_code".into(),
            format!("{} ({m})", t.t("enterprise-duplicate")),
            StatusCode::CONFLICT,
        )),
        other => Err(PageError(other.into())),
    }
}

async fn new_page(Page(st, p, lang, csrf): Page) -> PageResult {
    p.require(Capability::ManageEnterprises)?;
    render_form(
        &st,
        &p,
        lang,
        &csrf,
        None,
        EnterpriseForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn create_submit(Page(st, p, lang, csrf): Page, Form(f): Form<EnterpriseForm>) -> PageResult {
    p.require(Capability::ManageEnterprises)?;
    let txn = st.db.begin_write().await?;
    match store::create(
        &txn,
        p.city_id,
        &p.scope.prefix,
        &Actor::from(&p),
        &f.to_new(),
    )
    .await
    {
        Ok(e) => {
            txn.commit().await?;
            Ok(Redirect::to(&format!("/app/enterprises/{}", e.id)).into_response())
        }
        Err(e) => {
            drop(txn);
            let (field, message, status) = form_error(e, &lang.tr())?;
            render_form(
                &st,
                &p,
                lang,
                &csrf,
                None,
                f,
                Some((field, message)),
                status,
            )
            .await
        }
    }
}

async fn edit_page(Page(st, p, lang, csrf): Page, Path(id): Path<i64>) -> PageResult {
    let e = store::get(&st.db, p.city_id, &p.scope.prefix, id)
        .await?
        .ok_or_else(|| AppError::NotFound("enterprise".into()))?;
    p.require(Capability::ManageEnterprises)?;
    let f = EnterpriseForm::of(&e);
    render_form(&st, &p, lang, &csrf, Some(id), f, None, StatusCode::OK).await
}

async fn edit_submit(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
    Form(f): Form<EnterpriseForm>,
) -> PageResult {
    if store::get(&st.db, p.city_id, &p.scope.prefix, id)
        .await?
        .is_none()
    {
        return Err(PageError(AppError::NotFound("enterprise".into())));
    }
    p.require(Capability::ManageEnterprises)?;
    let txn = st.db.begin_write().await?;
    let r = store::update(
        &txn,
        p.city_id,
        &p.scope.prefix,
        &Actor::from(&p),
        id,
        &f.to_patch(),
    )
    .await;
    match r {
        Ok(_) => {
            txn.commit().await?;
            Ok(Redirect::to(&format!("/app/enterprises/{id}")).into_response())
        }
        Err(e) => {
            drop(txn);
            let (field, message, status) = form_error(e, &lang.tr())?;
            render_form(
                &st,
                &p,
                lang,
                &csrf,
                Some(id),
                f,
                Some((field, message)),
                status,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- import

#[derive(Template)]
#[template(path = "enterprise_import.html")]
struct ImportTpl {
    ctx: PageCtx,
    columns: Vec<(&'static str, &'static str)>,
}

async fn import_page(Page(st, p, lang, csrf): Page) -> PageResult {
    p.require(Capability::ManageEnterprises)?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/enterprises",
        "enterprise-import",
    )
    .await?;
    Ok(render(&ImportTpl {
        ctx,
        columns: store::COLUMNS.to_vec(),
    })?
    .into_response())
}
