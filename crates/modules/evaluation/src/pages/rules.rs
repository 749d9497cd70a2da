//! The validation-rules page (校验规则) of a framework: listing, creating and changing
//! rules.

use super::{app_to_eval, enc, opt_f};
use crate::rules::{self, NewRule, RulePatch, RuleView};
use crate::store::{self, FrameworkView};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::web::Page;
use qcity_platform::web::render::{page_ctx, render};
use qcity_platform::web::{AppError, AppState, CsrfToken, PageCtx, PageError, ReqLang};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub(super) struct RulesQuery {
    indicator: Option<String>,
    msg: Option<String>,
    err: Option<String>,
}

/// One row of the rules table.
struct RuleRow {
    rule: RuleView,
    /// Indicator name, or empty for a framework default.
    scope: String,
}

#[derive(Template)]
#[template(path = "evaluation_rules.html")]
struct RulesPage {
    ctx: PageCtx,
    fw: FrameworkView,
    /// The indicator the page is about (empty = the framework's defaults and every rule).
    indicator: String,
    indicator_name: String,
    indicators: Vec<(String, String)>,
    rows: Vec<RuleRow>,
    can_edit: bool,
    msg: String,
    err: String,
}

#[allow(clippy::too_many_arguments)]
async fn render_rules(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    id: i64,
    indicator: &str,
    msg: String,
    err: String,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let fw = store::framework_view(&st.db, p.city_id, id).await?;
    let ctx = page_ctx(
        st,
        p,
        lang,
        csrf,
        "/app/evaluation",
        "evaluation-rules-title",
    )
    .await?;
    let t = lang.tr();
    let nodes = store::nodes(&st.db, p.city_id, id).await?;
    let indicators: Vec<(String, String)> = nodes
        .iter()
        .filter(|n| n.level == 1)
        .map(|n| (n.code.clone(), t.pick(&n.name_zh, &n.name_en).to_string()))
        .collect();
    let name_of = |c: &str| {
        indicators
            .iter()
            .find(|x| x.0 == c)
            .map(|x| x.1.clone())
            .unwrap_or_else(|| c.to_string())
    };
    let indicator = if indicators.iter().any(|x| x.0 == indicator) {
        indicator.to_string()
    } else {
        String::new()
    };
    let rows = rules::list_rules(&st.db, p, id, Some(indicator.as_str()))
        .await?
        .iter()
        .map(|r| RuleRow {
            rule: RuleView::from(r),
            scope: if r.indicator_code.is_empty() {
                String::new()
            } else {
                name_of(&r.indicator_code)
            },
        })
        .collect();
    render(&RulesPage {
        ctx,
        indicator_name: if indicator.is_empty() {
            String::new()
        } else {
            name_of(&indicator)
        },
        indicator,
        indicators,
        fw,
        rows,
        can_edit: p.can(Capability::EditFrameworks),
        msg: if msg.is_empty() { msg } else { t.t(&msg) },
        err,
    })
}

pub(super) async fn rules_page(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
    Query(q): Query<RulesQuery>,
) -> Result<Html<String>, PageError> {
    render_rules(
        &st,
        &p,
        lang,
        &csrf,
        id,
        q.indicator.as_deref().unwrap_or(""),
        q.msg.unwrap_or_default(),
        q.err.unwrap_or_default(),
    )
    .await
}

/// The rules form (create and edit share it). Numbers are blank for "none".
#[derive(Deserialize, Default)]
pub(super) struct RuleForm {
    /// The indicator page the form is on (empty = framework defaults page).
    #[serde(default)]
    indicator: String,
    /// `indicator` (default when on an indicator page) or `default` (the framework default).
    #[serde(default)]
    scope: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    min: String,
    #[serde(default)]
    max: String,
    #[serde(default)]
    threshold: String,
    /// Checkbox: present when checked.
    active: Option<String>,
    /// `save`, `toggle` or `delete`.
    #[serde(default)]
    op: String,
}

/// After a rules form: htmx gets the re-rendered page (it swaps the rules panel); a plain form
/// post is redirected back to the page.
#[allow(clippy::too_many_arguments)]
async fn rules_done(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    headers: &HeaderMap,
    id: i64,
    indicator: &str,
    outcome: Result<(), crate::store::EvalError>,
) -> Result<Response, PageError> {
    let (msg, err) = match outcome {
        Ok(()) => ("evaluation-saved".to_string(), String::new()),
        Err(crate::store::EvalError::Forbidden) => return Err(PageError(AppError::Forbidden)),
        Err(crate::store::EvalError::NotFound(w)) => {
            return Err(PageError(AppError::NotFound(w)));
        }
        Err(e) => (String::new(), e.to_string()),
    };
    if qcity_platform::web::htmx::is_htmx(headers) {
        return Ok(render_rules(st, p, lang, csrf, id, indicator, msg, err)
            .await?
            .into_response());
    }
    Ok(Redirect::to(&format!(
        "/app/evaluation/frameworks/{id}/rules?indicator={}&msg={}&err={}",
        enc(indicator),
        enc(&msg),
        enc(&err)
    ))
    .into_response())
}

pub(super) async fn rule_create(
    Page(st, p, lang, csrf): Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<RuleForm>,
) -> Result<Response, PageError> {
    p.require(Capability::EditFrameworks)?;
    let outcome = async {
        let input = NewRule {
            indicator: Some(if f.scope == "default" {
                String::new()
            } else {
                f.indicator.clone()
            }),
            kind: f.kind.clone(),
            min: opt_f(&f.min, "min").map_err(app_to_eval)?,
            max: opt_f(&f.max, "max").map_err(app_to_eval)?,
            threshold: opt_f(&f.threshold, "threshold").map_err(app_to_eval)?,
            active: Some(true),
        };
        rules::create_rule(&st.db, &p, id, &input).await.map(|_| ())
    }
    .await;
    rules_done(&st, &p, lang, &csrf, &headers, id, &f.indicator, outcome).await
}

pub(super) async fn rule_change(
    Page(st, p, lang, csrf): Page,
    headers: HeaderMap,
    Path((id, rule_id)): Path<(i64, i64)>,
    Form(f): Form<RuleForm>,
) -> Result<Response, PageError> {
    p.require(Capability::EditFrameworks)?;
    let outcome = async {
        match f.op.as_str() {
            "delete" => rules::delete_rule(&st.db, &p, id, rule_id).await,
            "toggle" => {
                let r = rules::get_rule(&st.db, &p, id, rule_id).await?;
                let patch = RulePatch {
                    active: Some(!r.active),
                    ..Default::default()
                };
                rules::update_rule(&st.db, &p, id, rule_id, &patch)
                    .await
                    .map(|_| ())
            }
            _ => {
                let patch = RulePatch {
                    min: Some(opt_f(&f.min, "min").map_err(app_to_eval)?),
                    max: Some(opt_f(&f.max, "max").map_err(app_to_eval)?),
                    threshold: Some(opt_f(&f.threshold, "threshold").map_err(app_to_eval)?),
                    active: Some(f.active.is_some()),
                };
                rules::update_rule(&st.db, &p, id, rule_id, &patch)
                    .await
                    .map(|_| ())
            }
        }
    }
    .await;
    rules_done(&st, &p, lang, &csrf, &headers, id, &f.indicator, outcome).await
}
