//! The public questionnaire at `/s/{token}`: no sign-in, mobile-first, accessible; paged by
//! section with answers saved as the respondent goes (resume by invitation or browser cookie);
//! a response is committed before the thank-you page is shown.

use crate::collect::{self, Outcome, Submission};
use crate::model::{QuestionKind, QuestionnaireDef, RawAnswer, is_shown, value_text};
use crate::store::{self, LinkTarget};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::{TimeZone, Utc};
use qcity_platform::db::BeginWrite;
use qcity_platform::i18n::Tr;
use qcity_platform::store::group_commit::GroupCommit;
use qcity_platform::web::layout::PageCtx;
use qcity_platform::web::render::render;
use qcity_platform::web::{AppError, AppState, CsrfToken, PageError, ReqLang, cookies};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Cookie naming a browser's respondent key for open links (duplicate prevention, resume).
pub const RESPONDENT_COOKIE: &str = "qcity_sv";

/// Cookie carrying the link token after the first visit, so that redirects and links inside
/// the form (`/s/form?page=…`, `/s/thanks`, the language switch) never put the token in a URL
/// (browser history, proxy logs, `Referer`). Renewed on every visit and submission.
pub const LINK_COOKIE: &str = "qcity_sl";
/// Lifetime of [`LINK_COOKIE`]: long enough to answer, short enough not to linger.
const LINK_COOKIE_MAX_AGE: i64 = 4 * 3600;
/// Where the form lives after the first visit.
const FORM_PATH: &str = "/s/form";
const THANKS_PATH: &str = "/s/thanks";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(FORM_PATH, get(form_resume))
        .route(THANKS_PATH, get(thanks_page))
        .route("/s/{token}", get(form_page).post(form_submit))
}

/// One answer option on the page.
pub struct OptView {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// One question on the page.
pub struct QView {
    pub code: String,
    pub kind: &'static str,
    pub text: String,
    pub required: bool,
    pub options: Vec<OptView>,
    pub value: String,
    pub show_if_q: String,
    pub show_if_values: String,
    pub error: String,
    pub min: String,
    pub max: String,
    pub hidden: bool,
}

#[derive(Template)]
#[template(path = "survey_form.html")]
struct FormPage {
    ctx: PageCtx,
    token: String,
    title: String,
    page: u32,
    page_index: usize,
    pages: usize,
    last: bool,
    first: bool,
    questions: Vec<QView>,
    error: String,
    t0: i64,
}

#[derive(Template)]
#[template(path = "survey_message.html")]
struct MessagePage {
    ctx: PageCtx,
    heading: String,
    message: String,
    kind: &'static str,
}

fn message(
    lang: ReqLang,
    csrf: &CsrfToken,
    path: &str,
    key: &str,
    kind: &'static str,
    status: StatusCode,
) -> Result<Response, PageError> {
    let t = lang.tr();
    let page = MessagePage {
        ctx: PageCtx::public(lang.0, &csrf.0, path, t.t(&format!("{key}-title"))),
        heading: t.t(&format!("{key}-title")),
        message: t.t(&format!("{key}-text")),
        kind,
    };
    Ok((status, render(&page)?).into_response())
}

fn likert_labels(t: &Tr, scale: u8) -> Vec<(String, String)> {
    let (lo, hi) = if scale == 11 {
        (0, 10)
    } else {
        (1, scale as i32)
    };
    (lo..=hi)
        .map(|v| {
            let label = if scale == 5 {
                t.t(&format!("survey-likert5-{v}"))
            } else if v == lo {
                format!("{v} · {}", t.t("survey-likert-low"))
            } else if v == hi {
                format!("{v} · {}", t.t("survey-likert-high"))
            } else {
                v.to_string()
            };
            (v.to_string(), label)
        })
        .collect()
}

fn view(
    def: &QuestionnaireDef,
    page: u32,
    answers: &BTreeMap<String, Value>,
    districts: &[(String, String, String)],
    t: &Tr,
    error_field: Option<(&str, &str)>,
) -> Vec<QView> {
    view_inner(def, page, answers, districts, t, error_field, false)
}

/// Every question of a page, unanswered, conditional ones included (the builder's preview).
pub(crate) fn view_all(
    def: &QuestionnaireDef,
    page: u32,
    districts: &[(String, String, String)],
    t: &Tr,
) -> Vec<QView> {
    view_inner(def, page, &BTreeMap::new(), districts, t, None, true)
}

fn view_inner(
    def: &QuestionnaireDef,
    page: u32,
    answers: &BTreeMap<String, Value>,
    districts: &[(String, String, String)],
    t: &Tr,
    error_field: Option<(&str, &str)>,
    preview: bool,
) -> Vec<QView> {
    def.questions
        .iter()
        .filter(|q| q.page == page)
        .map(|q| {
            let current = answers.get(&q.code);
            let chosen: Vec<String> = match current {
                Some(Value::Array(xs)) => xs.iter().map(value_text).collect(),
                Some(v) => vec![value_text(v)],
                None => vec![],
            };
            let mut options: Vec<OptView> = match q.kind {
                QuestionKind::Likert => likert_labels(t, q.scale.unwrap_or(5))
                    .into_iter()
                    .map(|(v, l)| OptView {
                        checked: chosen.contains(&v),
                        value: v,
                        label: l,
                    })
                    .collect(),
                QuestionKind::Single | QuestionKind::Multiple => q
                    .options
                    .iter()
                    .map(|o| OptView {
                        checked: chosen.contains(&o.code),
                        value: o.code.clone(),
                        label: t.pick(&o.label_zh, &o.label_en).to_string(),
                    })
                    .collect(),
                QuestionKind::District => districts
                    .iter()
                    .map(|(c, zh, en)| OptView {
                        checked: chosen.contains(c),
                        value: c.clone(),
                        label: t.pick(zh, en).to_string(),
                    })
                    .collect(),
                _ => vec![],
            };
            if q.kind == QuestionKind::Likert && q.dont_know {
                options.push(OptView {
                    checked: chosen.iter().any(|c| c == "dk"),
                    value: "dk".into(),
                    label: t.t("survey-dont-know"),
                });
            }
            // Questions whose condition is on an earlier page and not met are not shown at all.
            let cond_on_page = q
                .show_if
                .as_ref()
                .is_some_and(|c| def.question(&c.question).is_some_and(|x| x.page == page));
            QView {
                code: q.code.clone(),
                kind: q.kind.as_str(),
                text: t.pick(&q.text_zh, &q.text_en).to_string(),
                required: q.required,
                options,
                value: if matches!(q.kind, QuestionKind::Text | QuestionKind::Numeric) {
                    chosen.first().cloned().unwrap_or_default()
                } else {
                    String::new()
                },
                show_if_q: q
                    .show_if
                    .as_ref()
                    .map(|c| c.question.clone())
                    .unwrap_or_default(),
                show_if_values: q
                    .show_if
                    .as_ref()
                    .map(|c| c.any_of.join(" "))
                    .unwrap_or_default(),
                error: match error_field {
                    Some((f, m)) if f == q.code => m.to_string(),
                    _ => String::new(),
                },
                min: q.min.map(|x| x.to_string()).unwrap_or_default(),
                max: q.max.map(|x| x.to_string()).unwrap_or_default(),
                hidden: !preview && !cond_on_page && !is_shown(q, answers),
            }
        })
        .filter(|v| !v.hidden)
        .collect()
}

struct Ctx {
    target: LinkTarget,
    def: QuestionnaireDef,
    districts: Vec<(String, String, String)>,
    key: Option<String>,
    set_cookie: Option<axum::http::HeaderValue>,
    link_cookie: axum::http::HeaderValue,
}

async fn load(st: &AppState, token: &str, headers: &HeaderMap) -> Result<Option<Ctx>, AppError> {
    let Some(target) = store::resolve_token(&st.db, token).await? else {
        return Ok(None);
    };
    let q = store::get_questionnaire_lite(&st.db, target.city_id, target.wave.questionnaire_id)
        .await?
        .ok_or_else(|| AppError::NotFound("questionnaire".into()))?;
    let districts = crate::api::districts(st, target.city_id).await?;
    let (key, set_cookie) = if target.invitation.is_some() {
        (None, None)
    } else {
        match cookies::get(headers, RESPONDENT_COOKIE).filter(|v| v.len() >= 16 && v.len() <= 64) {
            Some(k) => (Some(k), None),
            None => {
                let k = qcity_platform::ids::random_token(18);
                let c = cookies::set(
                    RESPONDENT_COOKIE,
                    &k,
                    Some(31_536_000),
                    st.config.secure_cookies(),
                    true,
                );
                (Some(k), Some(c))
            }
        }
    };
    let link_cookie = cookies::set(
        LINK_COOKIE,
        token,
        Some(LINK_COOKIE_MAX_AGE),
        st.config.secure_cookies(),
        true,
    );
    Ok(Some(Ctx {
        target,
        def: q.definition,
        districts,
        key,
        set_cookie,
        link_cookie,
    }))
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<u32>,
}

/// This respondent's response to the wave (by invitation, else by browser key), if any.
async fn own_response(st: &AppState, c: &Ctx) -> Result<Option<store::Response>, AppError> {
    Ok(store::find_response(
        &st.db,
        c.target.city_id,
        c.target.wave.id,
        c.target.invitation.as_deref(),
        c.key.as_deref(),
    )
    .await?)
}

async fn gatekeep(
    c: &Ctx,
    st: &AppState,
    lang: ReqLang,
    csrf: &CsrfToken,
    path: &str,
) -> Result<Option<Response>, PageError> {
    if c.target.wave.status != "collecting" {
        return Ok(Some(message(
            lang,
            csrf,
            path,
            "survey-closed",
            "closed",
            StatusCode::GONE,
        )?));
    }
    // A used invitation, or this invitation / browser has a complete response already.
    let answered = c.target.invitation_used
        || own_response(st, c)
            .await?
            .is_some_and(|r| r.status == "complete");
    if answered {
        return Ok(Some(message(
            lang,
            csrf,
            path,
            "survey-already",
            "already",
            StatusCode::OK,
        )?));
    }
    Ok(None)
}

fn with_cookie(mut r: Response, c: &Ctx) -> Response {
    if let Some(v) = &c.set_cookie {
        r.headers_mut().append(header::SET_COOKIE, v.clone());
    }
    r.headers_mut()
        .append(header::SET_COOKIE, c.link_cookie.clone());
    r
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    st: &AppState,
    c: &Ctx,
    token: &str,
    lang: ReqLang,
    csrf: &CsrfToken,
    page: u32,
    answers: &BTreeMap<String, Value>,
    err: Option<(&str, &str)>,
    t0: i64,
) -> Result<Response, PageError> {
    let _ = st;
    let t = lang.tr();
    let pages = c.def.pages();
    let idx = pages.iter().position(|p| *p == page).unwrap_or(0);
    let page = pages.get(idx).copied().unwrap_or(1);
    let title = t
        .pick(&c.target.wave.name_zh, &c.target.wave.name_en)
        .to_string();
    let fp = FormPage {
        ctx: PageCtx::public(lang.0, &csrf.0, FORM_PATH, title.clone()),
        token: token.to_string(),
        title,
        page,
        page_index: idx + 1,
        pages: pages.len(),
        last: idx + 1 == pages.len(),
        first: idx == 0,
        questions: view(&c.def, page, answers, &c.districts, &t, err),
        error: err.map(|(f, m)| format!("{f}: {m}")).unwrap_or_default(),
        t0,
    };
    let status = if err.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(with_cookie((status, render(&fp)?).into_response(), c))
}

/// The first visit: `/s/{token}` from the invitation or the open link.
async fn form_page(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
    lang: ReqLang,
    csrf: CsrfToken,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    show_form(&st, &token, q, lang, csrf, &headers).await
}

/// Later visits (`/s/form?page=…`): the token comes from [`LINK_COOKIE`].
async fn form_resume(
    State(st): State<AppState>,
    Query(q): Query<PageQuery>,
    lang: ReqLang,
    csrf: CsrfToken,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let token = cookies::get(&headers, LINK_COOKIE).unwrap_or_default();
    show_form(&st, &token, q, lang, csrf, &headers).await
}

async fn show_form(
    st: &AppState,
    token: &str,
    q: PageQuery,
    lang: ReqLang,
    csrf: CsrfToken,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let path = FORM_PATH;
    let Some(c) = load(st, token, headers).await? else {
        return message(
            lang,
            &csrf,
            "/",
            "survey-notfound",
            "notfound",
            StatusCode::NOT_FOUND,
        );
    };
    if let Some(r) = gatekeep(&c, st, lang, &csrf, path).await? {
        return Ok(with_cookie(r, &c));
    }
    let existing = own_response(st, &c).await?;
    let answers = existing
        .as_ref()
        .map(|r| r.answers.clone())
        .unwrap_or_default();
    let t0 = existing
        .as_ref()
        .map(|r| r.started_at.timestamp())
        .unwrap_or_else(|| Utc::now().timestamp());
    let page = q
        .page
        .unwrap_or_else(|| c.def.pages().first().copied().unwrap_or(1));
    render_form(st, &c, token, lang, &csrf, page, &answers, None, t0).await
}

fn raw_from_form(fields: &[(String, String)]) -> BTreeMap<String, RawAnswer> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in fields {
        if let Some(code) = k.strip_prefix("q_") {
            m.entry(code.to_string()).or_default().push(v.clone());
        }
    }
    m.into_iter()
        .map(|(k, v)| {
            (
                k,
                if v.len() == 1 {
                    RawAnswer::Text(v[0].clone())
                } else {
                    RawAnswer::Many(v)
                },
            )
        })
        .collect()
}

async fn form_submit(
    State(st): State<AppState>,
    Path(token): Path<String>,
    lang: ReqLang,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let path = FORM_PATH;
    let Some(c) = load(&st, &token, &headers).await? else {
        return message(
            lang,
            &csrf,
            "/",
            "survey-notfound",
            "notfound",
            StatusCode::NOT_FOUND,
        );
    };
    if let Some(r) = gatekeep(&c, &st, lang, &csrf, path).await? {
        return Ok(with_cookie(r, &c));
    }
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let pages = c.def.pages();
    let page: u32 = field("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| pages.contains(p))
        .unwrap_or(pages[0]);
    let action = field("action").unwrap_or_else(|| "next".into());
    let t0: i64 = field("t0")
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp());
    let started = Utc
        .timestamp_opt(t0, 0)
        .single()
        .filter(|s| *s <= Utc::now())
        .unwrap_or_else(Utc::now);
    let raw = raw_from_form(&fields);
    let idx = pages.iter().position(|p| *p == page).unwrap_or(0);
    if action == "back" {
        let prev = pages.get(idx.saturating_sub(1)).copied().unwrap_or(page);
        return Ok(with_cookie(
            Redirect::to(&format!("{path}?page={prev}")).into_response(),
            &c,
        ));
    }
    let city = c.target.city_id;
    let w = &c.target.wave;
    let codes: Vec<String> = c.districts.iter().map(|d| d.0.clone()).collect();
    let last = idx + 1 == pages.len();
    let finish = last && action != "save";
    // Through the group-commit writer: the redirect (and the thank-you page) come only after
    // the commit.
    let (w, def, inv, key) = (
        w.clone(),
        c.def.clone(),
        c.target.invitation.clone(),
        c.key.clone(),
    );
    let enforce = action != "save";
    let raw2 = raw.clone();
    // A refusal that rests on other respondents' answers ("already answered", "quota full")
    // may rest on a write of an earlier job of the same group: it waits for the group's commit
    // too (keep = true), with its own writes rolled back (a nested savepoint), so that nobody
    // is turned away on the strength of a response that was never stored.
    let step = GroupCommit::for_server(&st, "survey")
        .run::<_, crate::store::StoreError, _>(move |txn| {
            Box::pin(async move {
                let sp = txn.begin_write().await?;
                let step = submit_step(
                    &sp, city, &w, &def, &codes, page, &raw2, inv, key, enforce, finish, started,
                )
                .await?;
                if matches!(step, Step::Refused(_)) {
                    sp.rollback().await?;
                } else {
                    sp.commit().await?;
                }
                let keep = step.waits_for_commit();
                Ok((step, keep))
            })
        })
        .await?;
    match step {
        Step::Refused(o) => outcome_page(&st, &c, &token, lang, &csrf, page, o, &raw, t0).await,
        Step::Saved if action == "save" => Ok(with_cookie(
            message(lang, &csrf, path, "survey-saved", "saved", StatusCode::OK)?,
            &c,
        )),
        Step::Saved => Ok(with_cookie(
            Redirect::to(&format!("{path}?page={}", pages[idx + 1])).into_response(),
            &c,
        )),
        Step::Accepted => Ok(with_cookie(Redirect::to(THANKS_PATH).into_response(), &c)),
    }
}

/// What became of one page of the public form.
enum Step {
    Refused(Outcome),
    Saved,
    Accepted,
}

impl Step {
    /// Whether the answer may be sent only after the group's commit: stored pages, and the
    /// refusals that depend on what others stored.
    fn waits_for_commit(&self) -> bool {
        !matches!(
            self,
            Step::Refused(Outcome::Invalid(_)) | Step::Refused(Outcome::Accepted(_))
        )
    }
}

/// Saves one page of the form and, on the last page, completes the response.
#[allow(clippy::too_many_arguments)]
async fn submit_step(
    txn: &impl ConnectionTrait,
    city: i64,
    w: &store::Wave,
    def: &QuestionnaireDef,
    codes: &[String],
    page: u32,
    raw: &BTreeMap<String, RawAnswer>,
    inv: Option<String>,
    key: Option<String>,
    enforce: bool,
    finish: bool,
    started: chrono::DateTime<Utc>,
) -> Result<Step, store::StoreError> {
    let saved = collect::save_partial(
        txn,
        city,
        w,
        def,
        codes,
        &[page],
        raw,
        inv.as_deref(),
        key.as_deref(),
        enforce,
    )
    .await?;
    let answers = match saved {
        Ok((_, answers)) => answers,
        Err(o) => return Ok(Step::Refused(o)),
    };
    if !finish {
        return Ok(Step::Saved);
    }
    let all_raw: BTreeMap<String, RawAnswer> = answers
        .iter()
        .map(|(k, v)| {
            let r = match v {
                Value::Array(xs) => RawAnswer::Many(xs.iter().map(value_text).collect()),
                v => RawAnswer::Text(value_text(v)),
            };
            (k.clone(), r)
        })
        .collect();
    let sub = Submission {
        raw: all_raw,
        mode: "web".into(),
        source: "web",
        invitation: inv,
        respondent_key: key,
        external_id: None,
        started_at: started,
        duration_s: None,
    };
    Ok(
        match collect::complete(txn, city, w, def, codes, &sub).await? {
            Outcome::Accepted(_) => Step::Accepted,
            o => Step::Refused(o),
        },
    )
}

#[allow(clippy::too_many_arguments)]
async fn outcome_page(
    st: &AppState,
    c: &Ctx,
    token: &str,
    lang: ReqLang,
    csrf: &CsrfToken,
    page: u32,
    o: Outcome,
    raw: &BTreeMap<String, RawAnswer>,
    t0: i64,
) -> Result<Response, PageError> {
    let path = FORM_PATH;
    match o {
        Outcome::QuotaFull(_) => Ok(with_cookie(
            message(
                lang,
                csrf,
                path,
                "survey-quotafull",
                "quota",
                StatusCode::OK,
            )?,
            c,
        )),
        Outcome::AlreadyAnswered => Ok(with_cookie(
            message(
                lang,
                csrf,
                path,
                "survey-already",
                "already",
                StatusCode::OK,
            )?,
            c,
        )),
        Outcome::Invalid(e) => {
            // Show the page again with what the respondent typed and the error at the question.
            let existing = own_response(st, c).await?;
            let mut answers = existing.map(|r| r.answers).unwrap_or_default();
            for (k, v) in raw {
                let val = match v {
                    RawAnswer::Text(s) => Value::String(s.clone()),
                    RawAnswer::Many(xs) => Value::from(xs.clone()),
                };
                answers.insert(k.clone(), val);
            }
            let t = lang.tr();
            let msg = if e.message == "this question is required" {
                t.t("survey-required-error")
            } else {
                e.message.clone()
            };
            let target_page = c.def.question(&e.field).map(|q| q.page).unwrap_or(page);
            render_form(
                st,
                c,
                token,
                lang,
                csrf,
                target_page,
                &answers,
                Some((&e.field, &msg)),
                t0,
            )
            .await
        }
        Outcome::Accepted(_) => Ok(Redirect::to(THANKS_PATH).into_response()),
    }
}

async fn thanks_page(lang: ReqLang, csrf: CsrfToken) -> Result<Response, PageError> {
    message(
        lang,
        &csrf,
        THANKS_PATH,
        "survey-thanks",
        "thanks",
        StatusCode::OK,
    )
}
