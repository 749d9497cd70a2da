//! The questionnaire builder (问卷编辑器): a server-rendered page (htmx for in-place updates, no
//! script of its own) listing the sections and questions with their domain and indicator, where
//! a survey manager adds, edits, reorders and deletes questions, sets the type (rating scale
//! 5/7/10/11, single or multiple choice with options, number with a range, open text,
//! demographics), the required flag, display logic and the zh-CN/en texts, and previews the
//! form. Every change goes through [`store::revise_questionnaire`]: in place while the version
//! has no responses, otherwise as a new version (the old one stays with its responses).

use crate::model::{
    Condition, DEMOGRAPHICS, DOMAINS, OptionDef, QuestionDef, QuestionKind, QuestionnaireDef,
    domain_names,
};
use crate::store;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::web::Page;
use qcity_platform::web::htmx::{form_error_status, is_htmx};
use qcity_platform::web::layout::PageCtx;
use qcity_platform::web::render::{page_ctx, render};
use qcity_platform::web::{AppError, AppState, CsrfToken, PageError, ReqLang};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/survey/questionnaires", post(create_blank))
        .route(
            "/app/survey/questionnaires/{id}",
            get(builder_page).post(revise_json),
        )
        .route("/app/survey/questionnaires/{id}/meta", post(save_meta))
        .route(
            "/app/survey/questionnaires/{id}/questions",
            post(save_question),
        )
        .route(
            "/app/survey/questionnaires/{id}/questions/{code}/move",
            post(move_question),
        )
        .route(
            "/app/survey/questionnaires/{id}/questions/{code}/delete",
            post(delete_question),
        )
        .route("/app/survey/questionnaires/{id}/preview", get(preview))
}

/// The question editor's fields, as text (what the form posts; also what it shows back after
/// an error).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuestionForm {
    /// Code of the question being edited; empty for a new one.
    #[serde(default)]
    pub original: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub scale: String,
    #[serde(default)]
    pub dont_know: Option<String>,
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub indicator_code: String,
    #[serde(default)]
    pub indicator_zh: String,
    #[serde(default)]
    pub indicator_en: String,
    #[serde(default)]
    pub text_zh: String,
    #[serde(default)]
    pub text_en: String,
    #[serde(default)]
    pub required: Option<String>,
    #[serde(default)]
    pub demographic: String,
    /// One option a line: `code|中文|English`.
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub min: String,
    #[serde(default)]
    pub max: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub show_if_question: String,
    /// Answers (option codes or scale points) that show the question, separated by commas.
    #[serde(default)]
    pub show_if_values: String,
}

fn fmt_num(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

impl QuestionForm {
    /// The editor filled with an existing question.
    pub fn from_question(q: &QuestionDef) -> Self {
        Self {
            original: q.code.clone(),
            code: q.code.clone(),
            kind: q.kind.as_str().to_string(),
            scale: q.scale.map(|s| s.to_string()).unwrap_or_default(),
            dont_know: q.dont_know.then(|| "1".into()),
            domain: q.domain.clone().unwrap_or_default(),
            indicator_code: q.indicator_code.clone().unwrap_or_default(),
            indicator_zh: q.indicator_zh.clone(),
            indicator_en: q.indicator_en.clone(),
            text_zh: q.text_zh.clone(),
            text_en: q.text_en.clone(),
            required: q.required.then(|| "1".into()),
            demographic: q.demographic.clone().unwrap_or_default(),
            options: q
                .options
                .iter()
                .map(|o| format!("{}|{}|{}", o.code, o.label_zh, o.label_en))
                .collect::<Vec<_>>()
                .join("\n"),
            min: fmt_num(q.min),
            max: fmt_num(q.max),
            page: q.page.to_string(),
            show_if_question: q
                .show_if
                .as_ref()
                .map(|c| c.question.clone())
                .unwrap_or_default(),
            show_if_values: q
                .show_if
                .as_ref()
                .map(|c| c.any_of.join(", "))
                .unwrap_or_default(),
        }
    }

    /// An empty editor for a new question (a required 5-point rating on the last page).
    pub fn blank(def: &QuestionnaireDef) -> Self {
        Self {
            kind: "likert".into(),
            scale: "5".into(),
            dont_know: Some("1".into()),
            required: Some("1".into()),
            page: def
                .questions
                .iter()
                .map(|q| q.page)
                .max()
                .unwrap_or(1)
                .to_string(),
            ..Default::default()
        }
    }

    /// Parses the editor into a question; errors name the form field.
    pub fn parse(&self) -> Result<QuestionDef, (String, String)> {
        let err = |f: &str, m: String| Err((f.to_string(), m));
        let kind = match self.kind.trim() {
            "likert" => QuestionKind::Likert,
            "single" => QuestionKind::Single,
            "multiple" => QuestionKind::Multiple,
            "numeric" => QuestionKind::Numeric,
            "text" => QuestionKind::Text,
            "district" => QuestionKind::District,
            k => return err("kind", format!("`{k}` is not a question type")),
        };
        let scale = if kind == QuestionKind::Likert {
            match self.scale.trim().parse::<u8>() {
                Ok(s @ (5 | 7 | 10 | 11)) => Some(s),
                _ => return err("scale", "a rating scale has 5, 7, 10 or 11 points".into()),
            }
        } else {
            None
        };
        let mut options = Vec::new();
        if matches!(kind, QuestionKind::Single | QuestionKind::Multiple) {
            for (i, line) in self.options.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let parts: Vec<&str> = line.split(['|', '｜']).map(str::trim).collect();
                let code = parts[0];
                if code.is_empty() {
                    return err(
                        "options",
                        format!("line {}: an option needs a code before `|`", i + 1),
                    );
                }
                options.push(OptionDef {
                    code: code.to_string(),
                    label_zh: parts.get(1).copied().unwrap_or(code).to_string(),
                    label_en: parts.get(2).copied().unwrap_or("").to_string(),
                });
            }
        }
        let num = |f: &str, v: &str| -> Result<Option<f64>, (String, String)> {
            let v = v.trim();
            if v.is_empty() {
                return Ok(None);
            }
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| (f.to_string(), format!("`{v}` is not a number")))
        };
        let (min, max) = if kind == QuestionKind::Numeric {
            (num("min", &self.min)?, num("max", &self.max)?)
        } else {
            (None, None)
        };
        let page = match self.page.trim() {
            "" => 1,
            p => match p.parse::<u32>() {
                Ok(n) if (1..=50).contains(&n) => n,
                _ => return err("page", "the section is a number from 1 to 50".into()),
            },
        };
        let show_if = match self.show_if_question.trim() {
            "" => None,
            q => {
                let any_of: Vec<String> = self
                    .show_if_values
                    .split([',', '，', ';', '；', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if any_of.is_empty() {
                    return err(
                        "show_if_values",
                        "name the answers that show the question".into(),
                    );
                }
                Some(Condition {
                    question: q.to_string(),
                    any_of,
                })
            }
        };
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let indicator_code = opt(&self.indicator_code);
        // An indicator picked from the standard catalogue brings its names along.
        let known = indicator_code.as_deref().and_then(|c| {
            crate::builtin::ITEMS
                .iter()
                .find(|(_, _, ind, _, _)| *ind == c)
        });
        type Entry = (
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
        );
        let pick = |given: &str, f: fn(&Entry) -> &'static str| {
            if given.trim().is_empty() {
                known.map(|k| f(k).to_string()).unwrap_or_default()
            } else {
                given.trim().to_string()
            }
        };
        Ok(QuestionDef {
            code: self.code.trim().to_string(),
            kind,
            domain: opt(&self.domain),
            indicator_zh: pick(&self.indicator_zh, |k| k.3),
            indicator_en: pick(&self.indicator_en, |k| k.4),
            indicator_code,
            text_zh: self.text_zh.trim().to_string(),
            text_en: self.text_en.trim().to_string(),
            required: self.required.is_some(),
            scale,
            dont_know: kind == QuestionKind::Likert && self.dont_know.is_some(),
            demographic: opt(&self.demographic),
            options,
            min,
            max,
            page,
            show_if,
        })
    }
}

/// Adds `q` (when `original` is empty) or replaces the question `original` with it; a renamed
/// question's display conditions follow it. New questions go after the last question of their
/// section.
pub fn upsert(
    def: &QuestionnaireDef,
    original: &str,
    q: QuestionDef,
) -> Result<QuestionnaireDef, (String, String)> {
    let mut d = def.clone();
    let clash = d
        .questions
        .iter()
        .any(|x| x.code == q.code && x.code != original);
    if clash {
        return Err((
            "code".into(),
            format!("the code `{}` is already used by another question", q.code),
        ));
    }
    if original.is_empty() {
        let at = d
            .questions
            .iter()
            .rposition(|x| x.page <= q.page)
            .map(|i| i + 1)
            .unwrap_or(0);
        d.questions.insert(at, q);
    } else {
        let i = d
            .questions
            .iter()
            .position(|x| x.code == original)
            .ok_or_else(|| ("original".to_string(), format!("no question `{original}`")))?;
        if q.code != original {
            for x in d.questions.iter_mut() {
                if let Some(c) = x.show_if.as_mut()
                    && c.question == original
                {
                    c.question = q.code.clone();
                }
            }
        }
        d.questions[i] = q;
    }
    Ok(d)
}

/// Moves a question one place up or down; across a section boundary it joins the neighbouring
/// section.
pub fn move_by(def: &QuestionnaireDef, code: &str, up: bool) -> Option<QuestionnaireDef> {
    let mut d = def.clone();
    let i = d.questions.iter().position(|x| x.code == code)?;
    let j = if up {
        i.checked_sub(1)?
    } else {
        (i + 1 < d.questions.len()).then_some(i + 1)?
    };
    if d.questions[i].page != d.questions[j].page {
        d.questions[i].page = d.questions[j].page;
    } else {
        d.questions.swap(i, j);
    }
    Some(d)
}

/// One question row of the builder.
struct Row {
    code: String,
    kind: String,
    domain: String,
    indicator: String,
    text: String,
    text_other: String,
    required: bool,
    logic: String,
    first: bool,
    last: bool,
}

/// A section (page) of the builder.
struct Section {
    page: u32,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "survey_builder.html")]
struct BuilderPage {
    ctx: PageCtx,
    q: store::Questionnaire,
    sections: Vec<Section>,
    manage: bool,
    error: String,
    notice: String,
    form: QuestionForm,
    editing: bool,
    codes: Vec<String>,
    domains: Vec<(String, String)>,
    demographics: Vec<String>,
    indicators: Vec<(String, String)>,
    json: String,
}

#[derive(Deserialize, Default)]
struct BuilderQuery {
    edit: Option<String>,
    notice: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn builder_view(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    id: i64,
    error: String,
    notice: String,
    form: Option<QuestionForm>,
    edit: Option<&str>,
    json_text: Option<String>,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let q = store::get_questionnaire(&st.db, p.city_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound("questionnaire".into()))?;
    let ctx = page_ctx(
        st,
        p,
        lang,
        csrf,
        "/app/survey",
        "survey-questionnaire-title",
    )
    .await?;
    let t = lang.tr();
    let n = q.definition.questions.len();
    let mut sections: Vec<Section> = Vec::new();
    for (i, x) in q.definition.questions.iter().enumerate() {
        let row = Row {
            code: x.code.clone(),
            kind: format!(
                "{}{}",
                t.t(&format!("survey-kind-{}", x.kind.as_str())),
                x.scale.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
            domain: x
                .domain
                .as_deref()
                .map(|d| t.pick(domain_names(d).0, domain_names(d).1).to_string())
                .or_else(|| x.demographic.as_ref().map(|_| t.t("survey-demographics")))
                .unwrap_or_default(),
            indicator: x
                .indicator_code
                .clone()
                .map(|c| format!("{c} {}", t.pick(&x.indicator_zh, &x.indicator_en)))
                .unwrap_or_default(),
            text: t.pick(&x.text_zh, &x.text_en).to_string(),
            text_other: t.pick(&x.text_en, &x.text_zh).to_string(),
            required: x.required,
            logic: x
                .show_if
                .as_ref()
                .map(|c| format!("{} ∈ {{{}}}", c.question, c.any_of.join(", ")))
                .unwrap_or_default(),
            first: i == 0,
            last: i + 1 == n,
        };
        match sections.last_mut() {
            Some(s) if s.page == x.page => s.rows.push(row),
            _ => sections.push(Section {
                page: x.page,
                rows: vec![row],
            }),
        }
    }
    let editing_q = edit.and_then(|c| q.definition.question(c));
    let form = form.unwrap_or_else(|| match editing_q {
        Some(x) => QuestionForm::from_question(x),
        None => QuestionForm::blank(&q.definition),
    });
    let editing = !form.original.is_empty();
    let json = json_text
        .unwrap_or_else(|| serde_json::to_string_pretty(&q.definition).unwrap_or_default());
    let mut domains: Vec<(String, String)> = DOMAINS
        .iter()
        .chain(std::iter::once(&"overall"))
        .map(|d| {
            (
                d.to_string(),
                t.pick(domain_names(d).0, domain_names(d).1).to_string(),
            )
        })
        .collect();
    domains.insert(0, (String::new(), t.t("survey-builder-none")));
    let indicators = crate::builtin::ITEMS
        .iter()
        .map(|(_, _, ind, zh, en)| (ind.to_string(), t.pick(zh, en).to_string()))
        .collect();
    render(&BuilderPage {
        ctx,
        codes: q
            .definition
            .questions
            .iter()
            .map(|x| x.code.clone())
            .collect(),
        q,
        sections,
        manage: p.can(Capability::ManageSurvey),
        error,
        notice,
        form,
        editing,
        domains,
        demographics: DEMOGRAPHICS.iter().map(|s| s.to_string()).collect(),
        indicators,
        json,
    })
}

async fn builder_page(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
    Query(qy): Query<BuilderQuery>,
) -> Result<Html<String>, PageError> {
    let t = lang.tr();
    let notice = match qy.notice.as_deref() {
        Some("new_version") => t.t("survey-builder-new-version"),
        Some("saved") => t.t("survey-builder-saved"),
        _ => String::new(),
    };
    builder_view(
        &st,
        &p,
        lang,
        &csrf,
        id,
        String::new(),
        notice,
        None,
        qy.edit.as_deref(),
        None,
    )
    .await
}

/// After a successful change: back to the builder (the new version's when one was made).
fn after_save(h: &HeaderMap, rev: &store::Revision) -> Response {
    let notice = if rev.new_version {
        "new_version"
    } else {
        "saved"
    };
    let to = format!("/app/survey/questionnaires/{}?notice={notice}", rev.id);
    if is_htmx(h) && rev.new_version {
        // A new version lives at a new address: let htmx navigate there.
        let mut r = StatusCode::OK.into_response();
        if let Ok(v) = HeaderValue::from_str(&to) {
            r.headers_mut().insert("HX-Redirect", v);
        }
        return r;
    }
    Redirect::to(&to).into_response()
}

/// Saves `def` as the next state of questionnaire `id` (audited by the service); `Err` for a
/// refusal that names the field.
async fn apply(
    st: &AppState,
    p: &Principal,
    id: i64,
    def: &QuestionnaireDef,
) -> Result<Result<store::Revision, (String, String)>, PageError> {
    crate::api::need_questionnaire_edit(st, p, id).await?;
    match crate::service::revise_questionnaire(&st.db, p, id, def).await {
        Ok(rev) => Ok(Ok(rev)),
        Err(store::StoreError::Invalid { field, message }) => Ok(Err((field, message))),
        Err(e) => Err(AppError::from(e).into()),
    }
}

async fn current(st: &AppState, p: &Principal, id: i64) -> Result<store::Questionnaire, PageError> {
    p.require(Capability::ManageSurvey)?;
    Ok(store::get_questionnaire(&st.db, p.city_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound("questionnaire".into()))?)
}

/// The builder again with an error (422; 200 for htmx, which swaps only successful answers).
#[allow(clippy::too_many_arguments)]
async fn refused(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    h: &HeaderMap,
    id: i64,
    (field, message): (String, String),
    form: Option<QuestionForm>,
    json_text: Option<String>,
) -> Result<Response, PageError> {
    let page = builder_view(
        st,
        p,
        lang,
        csrf,
        id,
        format!("{field}: {message}"),
        String::new(),
        form,
        None,
        json_text,
    )
    .await?;
    let status = form_error_status(h);
    Ok((status, page).into_response())
}

/// Saves `next` and answers as every builder action does: back to the builder, or the builder
/// again with the refusal (the question editor's `form` and the JSON box's `json_text` shown
/// as they were posted).
#[allow(clippy::too_many_arguments)]
async fn save(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    h: &HeaderMap,
    id: i64,
    next: &QuestionnaireDef,
    form: Option<QuestionForm>,
    json_text: Option<String>,
) -> Result<Response, PageError> {
    match apply(st, p, id, next).await? {
        Ok(rev) => Ok(after_save(h, &rev)),
        Err((field, message)) => {
            // Under the question editor, name its field rather than `questions[i].x`.
            let field = match form {
                Some(_) => field.rsplit('.').next().unwrap_or(&field).to_string(),
                None => field,
            };
            refused(st, p, lang, csrf, h, id, (field, message), form, json_text).await
        }
    }
}

async fn save_question(
    Page(st, p, lang, csrf): Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<QuestionForm>,
) -> Result<Response, PageError> {
    let q = current(&st, &p, id).await?;
    let next = f
        .parse()
        .and_then(|x| upsert(&q.definition, f.original.trim(), x));
    let next = match next {
        Ok(d) => d,
        Err(e) => return refused(&st, &p, lang, &csrf, &headers, id, e, Some(f), None).await,
    };
    save(&st, &p, lang, &csrf, &headers, id, &next, Some(f), None).await
}

#[derive(Deserialize)]
struct MoveForm {
    dir: String,
}

async fn move_question(
    Page(st, p, lang, csrf): Page,
    headers: HeaderMap,
    Path((id, code)): Path<(i64, String)>,
    Form(f): Form<MoveForm>,
) -> Result<Response, PageError> {
    let q = current(&st, &p, id).await?;
    let Some(next) = move_by(&q.definition, &code, f.dir == "up") else {
        return refused(
            &st,
            &p,
            lang,
            &csrf,
            &headers,
            id,
            ("dir".into(), format!("`{code}` cannot move {}", f.dir)),
            None,
            None,
        )
        .await;
    };
    save(&st, &p, lang, &csrf, &headers, id, &next, None, None).await
}

async fn delete_question(
    Page(st, p, lang, csrf): Page,
    headers: HeaderMap,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let q = current(&st, &p, id).await?;
    let mut next = q.definition.clone();
    next.questions.retain(|x| x.code != code);
    if let Some(dep) = next
        .questions
        .iter()
        .find(|x| x.show_if.as_ref().is_some_and(|c| c.question == code))
    {
        let e = (
            "show_if".to_string(),
            format!(
                "`{}` is shown depending on `{code}`: change its display condition first",
                dep.code
            ),
        );
        return refused(&st, &p, lang, &csrf, &headers, id, e, None, None).await;
    }
    save(&st, &p, lang, &csrf, &headers, id, &next, None, None).await
}

#[derive(Deserialize)]
struct MetaForm {
    title_zh: String,
    #[serde(default)]
    title_en: String,
}

async fn save_meta(
    Page(st, p, lang, csrf): Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<MetaForm>,
) -> Result<Response, PageError> {
    let q = current(&st, &p, id).await?;
    let mut next = q.definition.clone();
    next.title_zh = f.title_zh.trim().to_string();
    next.title_en = f.title_en.trim().to_string();
    save(&st, &p, lang, &csrf, &headers, id, &next, None, None).await
}

#[derive(Deserialize)]
struct ReviseForm {
    definition: String,
}

/// The whole definition as JSON (the builder's "advanced" box).
async fn revise_json(
    Page(st, p, lang, csrf): Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ReviseForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageSurvey)?;
    let def: QuestionnaireDef = match serde_json::from_str(&f.definition) {
        Ok(d) => d,
        Err(e) => {
            let e = ("JSON".to_string(), e.to_string());
            return refused(
                &st,
                &p,
                lang,
                &csrf,
                &headers,
                id,
                e,
                None,
                Some(f.definition),
            )
            .await;
        }
    };
    save(
        &st,
        &p,
        lang,
        &csrf,
        &headers,
        id,
        &def,
        None,
        Some(f.definition),
    )
    .await
}

#[derive(Deserialize)]
struct NewForm {
    code: String,
    title_zh: String,
    #[serde(default)]
    title_en: String,
}

/// A new questionnaire to build, starting with the district question (every city survey needs
/// it for weighting and quotas).
async fn create_blank(
    Page(st, p, lang, ..): Page,
    Form(f): Form<NewForm>,
) -> Result<Response, PageError> {
    p.require(Capability::ManageSurvey)?;
    let t = lang.tr();
    let mut d1 = QuestionForm {
        code: "D1".into(),
        kind: "district".into(),
        demographic: "district".into(),
        required: Some("1".into()),
        page: "1".into(),
        ..Default::default()
    }
    .parse()
    .map_err(|(f, m)| AppError::validation(&f, m))?;
    d1.text_zh = "您居住在哪个区（县）？".into();
    d1.text_en = "Which district do you live in?".into();
    let def = QuestionnaireDef {
        code: f.code.trim().to_string(),
        title_zh: f.title_zh.trim().to_string(),
        title_en: f.title_en.trim().to_string(),
        questions: vec![d1],
    };
    let q = match crate::service::create_questionnaire(&st.db, &p, &def).await {
        Ok(q) => q,
        Err(store::StoreError::Invalid { field, message }) => {
            return Err(AppError::validation(
                &field,
                format!("{}: {message}", t.t("survey-questionnaire")),
            )
            .into());
        }
        Err(e) => return Err(AppError::from(e).into()),
    };
    Ok(Redirect::to(&format!("/app/survey/questionnaires/{}", q.id)).into_response())
}

/// A section of the preview.
struct PreviewSection {
    page: u32,
    questions: Vec<crate::public::QView>,
}

#[derive(Template)]
#[template(path = "survey_preview.html")]
struct PreviewPage {
    ctx: PageCtx,
    q: store::Questionnaire,
    sections: Vec<PreviewSection>,
}

/// The questionnaire as respondents see it (every section on one page, display logic live,
/// nothing submitted).
async fn preview(
    Page(st, p, lang, csrf): Page,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    p.require_any(crate::READERS)?;
    let q = store::get_questionnaire(&st.db, p.city_id, id)
        .await?
        .ok_or_else(|| AppError::NotFound("questionnaire".into()))?;
    let districts = crate::api::districts(&st, p.city_id).await?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/survey",
        "survey-builder-preview",
    )
    .await?;
    let t = lang.tr();
    let sections = q
        .definition
        .pages()
        .into_iter()
        .map(|page| PreviewSection {
            page,
            questions: crate::public::view_all(&q.definition, page, &districts, &t),
        })
        .collect();
    render(&PreviewPage { ctx, q, sections })
}

#[cfg(test)]
#[path = "builder_tests.rs"]
mod tests;
