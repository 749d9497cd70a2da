//! Store functions of the survey module. The city is always an explicit argument; reads that a
//! principal makes also take the region scope and filter by it in the query.

use crate::model::{QuestionnaireDef, demographics};
use chrono::{DateTime, Utc};
use qcity_platform::auth::RegionScope;
use qcity_platform::ids;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Errors of the survey store.
#[derive(Debug, thiserror::Error)]
pub enum SurveyStoreError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

impl SurveyStoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<SurveyStoreError> for qcity_platform::web::AppError {
    fn from(e: SurveyStoreError) -> Self {
        use qcity_platform::web::AppError;
        match e {
            SurveyStoreError::Db(e) => AppError::internal(e),
            SurveyStoreError::Invalid { field, message } => AppError::Validation { field, message },
            SurveyStoreError::NotFound(w) => AppError::NotFound(w),
            SurveyStoreError::Conflict(m) => AppError::Conflict(m),
        }
    }
}

pub type Result<T> = std::result::Result<T, SurveyStoreError>;

/// A statement with `?` placeholders, rewritten to `$n` on PostgreSQL.
pub fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

pub async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<u64> {
    Ok(db.execute_raw(stmt(db, sql, values)).await?.rows_affected())
}

pub async fn all(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>> {
    Ok(db.query_all_raw(stmt(db, sql, values)).await?)
}

pub async fn one(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>> {
    Ok(db.query_one_raw(stmt(db, sql, values)).await?)
}

pub fn get<T: sea_orm::TryGetable>(r: &QueryResult, col: &str) -> Result<T> {
    Ok(r.try_get::<T>("", col)?)
}

fn count_of(r: Option<QueryResult>) -> Result<i64> {
    match r {
        Some(r) => get::<i64>(&r, "n"),
        None => Ok(0),
    }
}

// ---------- questionnaires ----------

/// A stored questionnaire version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Questionnaire {
    pub id: i64,
    pub code: String,
    pub version: i32,
    pub title_zh: String,
    pub title_en: String,
    pub previous_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// Responses stored against this version (a version with responses is frozen).
    pub responses: i64,
    pub definition: QuestionnaireDef,
}

fn questionnaire_from(r: &QueryResult) -> Result<Questionnaire> {
    let def: String = get(r, "definition")?;
    Ok(Questionnaire {
        id: get(r, "id")?,
        code: get(r, "code")?,
        version: get(r, "version")?,
        title_zh: get(r, "title_zh")?,
        title_en: get(r, "title_en")?,
        previous_id: get(r, "previous_id")?,
        created_at: get(r, "created_at")?,
        responses: get(r, "responses")?,
        definition: serde_json::from_str(&def)
            .map_err(|e| SurveyStoreError::Db(DbErr::Custom(format!("stored definition: {e}"))))?,
    })
}

const Q_COLS: &str = "q.id, q.code, q.version, q.title_zh, q.title_en, q.previous_id, q.created_at, q.definition, \
    (SELECT COUNT(*) FROM survey_responses r WHERE r.city_id = q.city_id AND r.questionnaire_id = q.id) AS responses";

async fn insert_questions(
    db: &impl ConnectionTrait,
    city_id: i64,
    qid: i64,
    def: &QuestionnaireDef,
) -> Result<()> {
    for (i, q) in def.questions.iter().enumerate() {
        exec(
            db,
            "INSERT INTO survey_questions (city_id, id, questionnaire_id, position, code, kind, domain, indicator_code, text_zh, text_en, required, spec) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            vec![
                city_id.into(),
                ids::new_id().into(),
                qid.into(),
                (i as i32).into(),
                q.code.clone().into(),
                q.kind.as_str().into(),
                q.domain.clone().into(),
                q.indicator_code.clone().into(),
                q.text_zh.clone().into(),
                q.text_en.clone().into(),
                q.required.into(),
                serde_json::to_string(q).unwrap_or_default().into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Creates version 1 of a new questionnaire (or the next version of `code` if it exists).
pub async fn create_questionnaire(
    db: &impl ConnectionTrait,
    city_id: i64,
    def: &QuestionnaireDef,
) -> Result<i64> {
    def.validate()
        .map_err(|e| SurveyStoreError::invalid(e.field, e.message))?;
    let last = one(
        db,
        "SELECT id, version FROM survey_questionnaires WHERE city_id = ? AND code = ? ORDER BY version DESC",
        vec![city_id.into(), def.code.clone().into()],
    )
    .await?;
    let (version, previous) = match last {
        Some(r) => (get::<i32>(&r, "version")? + 1, Some(get::<i64>(&r, "id")?)),
        None => (1, None),
    };
    let id = ids::new_id();
    exec(
        db,
        "INSERT INTO survey_questionnaires (city_id, id, code, version, title_zh, title_en, previous_id, definition, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        vec![
            city_id.into(),
            id.into(),
            def.code.clone().into(),
            version.into(),
            def.title_zh.clone().into(),
            def.title_en.clone().into(),
            previous.into(),
            serde_json::to_string(def).unwrap_or_default().into(),
            Utc::now().into(),
        ],
    )
    .await?;
    insert_questions(db, city_id, id, def).await?;
    Ok(id)
}

/// Result of editing a questionnaire.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Revision {
    pub id: i64,
    pub version: i32,
    /// True when the edit made a new version (the edited one has responses).
    pub new_version: bool,
}

/// Edits a questionnaire: in place while it has no responses; otherwise a new version is made
/// and the old one (with its responses) is left untouched.
pub async fn revise_questionnaire(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    def: &QuestionnaireDef,
) -> Result<Revision> {
    def.validate()
        .map_err(|e| SurveyStoreError::invalid(e.field, e.message))?;
    let cur = get_questionnaire(db, city_id, id)
        .await?
        .ok_or_else(|| SurveyStoreError::NotFound("questionnaire".into()))?;
    if def.code != cur.code {
        return Err(SurveyStoreError::invalid(
            "code",
            "the code of a questionnaire cannot change",
        ));
    }
    if cur.responses > 0 {
        let nid = create_questionnaire(db, city_id, def).await?;
        let v = get_questionnaire(db, city_id, nid)
            .await?
            .map(|q| q.version)
            .unwrap_or(cur.version + 1);
        return Ok(Revision {
            id: nid,
            version: v,
            new_version: true,
        });
    }
    exec(
        db,
        "DELETE FROM survey_questions WHERE city_id = ? AND questionnaire_id = ?",
        vec![city_id.into(), id.into()],
    )
    .await?;
    exec(
        db,
        "UPDATE survey_questionnaires SET title_zh = ?, title_en = ?, definition = ? WHERE city_id = ? AND id = ?",
        vec![
            def.title_zh.clone().into(),
            def.title_en.clone().into(),
            serde_json::to_string(def).unwrap_or_default().into(),
            city_id.into(),
            id.into(),
        ],
    )
    .await?;
    insert_questions(db, city_id, id, def).await?;
    Ok(Revision {
        id,
        version: cur.version,
        new_version: false,
    })
}

/// A questionnaire without its response count (`responses` = 0): the hot collection path.
pub async fn get_questionnaire_lite(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
) -> Result<Option<Questionnaire>> {
    let r = one(
        db,
        "SELECT q.id, q.code, q.version, q.title_zh, q.title_en, q.previous_id, q.created_at, q.definition, CAST(0 AS BIGINT) AS responses FROM survey_questionnaires q WHERE q.city_id = ? AND q.id = ?",
        vec![city_id.into(), id.into()],
    )
    .await?;
    r.as_ref().map(questionnaire_from).transpose()
}

pub async fn get_questionnaire(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
) -> Result<Option<Questionnaire>> {
    let r = one(
        db,
        &format!("SELECT {Q_COLS} FROM survey_questionnaires q WHERE q.city_id = ? AND q.id = ?"),
        vec![city_id.into(), id.into()],
    )
    .await?;
    r.as_ref().map(questionnaire_from).transpose()
}

pub async fn list_questionnaires(
    db: &impl ConnectionTrait,
    city_id: i64,
) -> Result<Vec<Questionnaire>> {
    let rows = all(
        db,
        &format!("SELECT {Q_COLS} FROM survey_questionnaires q WHERE q.city_id = ? ORDER BY q.code, q.version DESC"),
        vec![city_id.into()],
    )
    .await?;
    rows.iter().map(questionnaire_from).collect()
}

// ---------- waves ----------

/// Wave status: `draft` → `collecting` → `closed` → `published`.
pub const WAVE_STATUSES: [&str; 4] = ["draft", "collecting", "closed", "published"];
/// Collection modes.
pub const MODES: [&str; 3] = ["web", "phone", "onsite"];
/// Score conversions a wave may use.
pub const CONVERSIONS: [&str; 2] = ["linear", "five_level_cn"];

/// A survey wave (测评批次): one year's fieldwork on one questionnaire version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Wave {
    pub id: i64,
    pub questionnaire_id: i64,
    /// Area the wave covers (the city, normally).
    pub region_code: String,
    pub year: i32,
    pub name_zh: String,
    pub name_en: String,
    pub modes: Vec<String>,
    pub status: String,
    /// Token of the open (anonymous) link `/s/{open_token}`.
    pub open_token: String,
    pub target_n: i32,
    /// `linear` or `five_level_cn` (100/80/60/30/0).
    pub conversion: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub completed: i64,
}

const W_COLS: &str = "w.id, w.questionnaire_id, w.region_code, w.year, w.name_zh, w.name_en, w.modes, w.status, w.open_token, w.target_n, w.conversion, w.created_at, w.published_at, \
    (SELECT COUNT(*) FROM survey_responses r WHERE r.city_id = w.city_id AND r.wave_id = w.id AND r.status = 'complete') AS completed";

fn wave_from(r: &QueryResult) -> Result<Wave> {
    let modes: String = get(r, "modes")?;
    Ok(Wave {
        id: get(r, "id")?,
        questionnaire_id: get(r, "questionnaire_id")?,
        region_code: get(r, "region_code")?,
        year: get(r, "year")?,
        name_zh: get(r, "name_zh")?,
        name_en: get(r, "name_en")?,
        modes: modes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        status: get(r, "status")?,
        open_token: get(r, "open_token")?,
        target_n: get(r, "target_n")?,
        conversion: get(r, "conversion")?,
        created_at: get(r, "created_at")?,
        published_at: get(r, "published_at")?,
        completed: get(r, "completed")?,
    })
}

/// A new wave, validated.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewWave {
    pub questionnaire_id: i64,
    pub year: i32,
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default = "default_modes")]
    pub modes: Vec<String>,
    #[serde(default)]
    pub target_n: i32,
    #[serde(default = "default_conversion")]
    pub conversion: String,
}

fn default_modes() -> Vec<String> {
    vec!["web".into()]
}
fn default_conversion() -> String {
    "linear".into()
}

pub async fn create_wave(
    db: &impl ConnectionTrait,
    city_id: i64,
    region_code: &str,
    w: &NewWave,
) -> Result<i64> {
    if !(2000..=2100).contains(&w.year) {
        return Err(SurveyStoreError::invalid(
            "year",
            "year must be between 2000 and 2100",
        ));
    }
    if w.name_zh.trim().is_empty() {
        return Err(SurveyStoreError::invalid(
            "name_zh",
            "a Chinese name is required",
        ));
    }
    if w.modes.is_empty() || w.modes.iter().any(|m| !MODES.contains(&m.as_str())) {
        return Err(SurveyStoreError::invalid(
            "modes",
            "modes are web, phone and/or onsite",
        ));
    }
    if !CONVERSIONS.contains(&w.conversion.as_str()) {
        return Err(SurveyStoreError::invalid(
            "conversion",
            "conversion is linear or five_level_cn",
        ));
    }
    if w.target_n < 0 {
        return Err(SurveyStoreError::invalid(
            "target_n",
            "target sample cannot be negative",
        ));
    }
    let q = get_questionnaire(db, city_id, w.questionnaire_id)
        .await?
        .ok_or_else(|| SurveyStoreError::invalid("questionnaire_id", "no such questionnaire"))?;
    if w.conversion == "five_level_cn"
        && q.definition
            .questions
            .iter()
            .any(|x| x.kind == crate::model::QuestionKind::Likert && x.scale != Some(5))
    {
        return Err(SurveyStoreError::invalid(
            "conversion",
            "the five-level conversion (100/80/60/30/0) needs every rating question on a 5-point scale",
        ));
    }
    let id = ids::new_id();
    exec(
        db,
        "INSERT INTO survey_waves (city_id, id, questionnaire_id, region_code, year, name_zh, name_en, modes, status, open_token, target_n, conversion, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        vec![
            city_id.into(),
            id.into(),
            w.questionnaire_id.into(),
            region_code.into(),
            w.year.into(),
            w.name_zh.trim().into(),
            w.name_en.trim().into(),
            w.modes.join(",").into(),
            "draft".into(),
            ids::random_token(18).into(),
            w.target_n.into(),
            w.conversion.clone().into(),
            Utc::now().into(),
        ],
    )
    .await?;
    Ok(id)
}

/// A wave of the city (no scope filter: for public and internal use).
pub async fn get_wave(db: &impl ConnectionTrait, city_id: i64, id: i64) -> Result<Option<Wave>> {
    let r = one(
        db,
        &format!("SELECT {W_COLS} FROM survey_waves w WHERE w.city_id = ? AND w.id = ?"),
        vec![city_id.into(), id.into()],
    )
    .await?;
    r.as_ref().map(wave_from).transpose()
}

/// A wave without its completed count (`completed` = 0): the hot collection path.
pub async fn get_wave_lite(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
) -> Result<Option<Wave>> {
    let cols = W_COLS.split(", (SELECT COUNT(*)").next().unwrap_or(W_COLS);
    let r = one(
        db,
        &format!("SELECT {cols}, CAST(0 AS BIGINT) AS completed FROM survey_waves w WHERE w.city_id = ? AND w.id = ?"),
        vec![city_id.into(), id.into()],
    )
    .await?;
    r.as_ref().map(wave_from).transpose()
}

/// Whether a principal with `scope` sees a wave covering `region_code`: the wave lies in the
/// scope, or the scope lies in the wave's area (a district official sees the city's wave, but
/// only their district's responses).
pub fn wave_visible(scope: &RegionScope, city_id: i64, region_code: &str) -> bool {
    scope.contains(city_id, region_code)
        || (city_id == scope.city_id
            && scope
                .root
                .starts_with(&qcity_platform::auth::scope::scope_prefix(region_code)))
}

/// Whether a principal with `scope` may manage (publish, close, weight, set quotas, invite,
/// upload to) a wave covering `region_code`: only when the wave lies inside the scope. A
/// district analyst sees the city's wave but manages only waves of their district or below.
pub fn wave_manageable(scope: &RegionScope, city_id: i64, region_code: &str) -> bool {
    scope.contains(city_id, region_code)
}

/// Region codes of the waves that use questionnaire `questionnaire_id`.
pub async fn wave_regions_of_questionnaire(
    db: &impl ConnectionTrait,
    city_id: i64,
    questionnaire_id: i64,
) -> Result<Vec<String>> {
    all(
        db,
        "SELECT region_code FROM survey_waves WHERE city_id = ? AND questionnaire_id = ?",
        vec![city_id.into(), questionnaire_id.into()],
    )
    .await?
    .iter()
    .map(|r| get(r, "region_code"))
    .collect()
}

/// A wave as seen by a principal (None when out of scope).
pub async fn get_wave_scoped(
    db: &impl ConnectionTrait,
    scope: &RegionScope,
    id: i64,
) -> Result<Option<Wave>> {
    Ok(get_wave_lite(db, scope.city_id, id)
        .await?
        .filter(|w| wave_visible(scope, scope.city_id, &w.region_code)))
}

pub async fn list_waves(db: &impl ConnectionTrait, scope: &RegionScope) -> Result<Vec<Wave>> {
    let rows = all(db, &format!("SELECT {W_COLS} FROM survey_waves w WHERE w.city_id = ? ORDER BY w.year DESC, w.created_at DESC"), vec![scope.city_id.into()]).await?;
    Ok(rows
        .iter()
        .map(wave_from)
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|w| wave_visible(scope, scope.city_id, &w.region_code))
        .collect())
}

/// Waves of a city in a given status (hooks).
pub async fn waves_in_status(
    db: &impl ConnectionTrait,
    city_id: i64,
    statuses: &[&str],
) -> Result<Vec<Wave>> {
    let rows = all(
        db,
        &format!("SELECT {W_COLS} FROM survey_waves w WHERE w.city_id = ? ORDER BY w.year DESC"),
        vec![city_id.into()],
    )
    .await?;
    Ok(rows
        .iter()
        .map(wave_from)
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|w| statuses.contains(&w.status.as_str()))
        .collect())
}

pub async fn set_wave_status(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    status: &str,
) -> Result<()> {
    if !WAVE_STATUSES.contains(&status) {
        return Err(SurveyStoreError::invalid(
            "status",
            "status is draft, collecting, closed or published",
        ));
    }
    let published: Option<DateTime<Utc>> = (status == "published").then(Utc::now);
    exec(
        db,
        "UPDATE survey_waves SET status = ?, published_at = ? WHERE city_id = ? AND id = ?",
        vec![status.into(), published.into(), city_id.into(), id.into()],
    )
    .await?;
    Ok(())
}

/// One population margin cell.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct MarginCell {
    pub variable: String,
    pub category: String,
    pub total: f64,
}

/// Replaces a wave's population margins. Each variable must sum to the same population total.
pub async fn set_margins(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    cells: &[MarginCell],
) -> Result<()> {
    let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        if !crate::model::DEMOGRAPHICS.contains(&c.variable.as_str()) {
            return Err(SurveyStoreError::invalid(
                format!("margins[{i}].variable"),
                format!("unknown variable `{}`", c.variable),
            ));
        }
        if !(c.total.is_finite() && c.total > 0.0) {
            return Err(SurveyStoreError::invalid(
                format!("margins[{i}].total"),
                "a population total is a positive number",
            ));
        }
        *sums.entry(&c.variable).or_default() += c.total;
    }
    if let Some((&v0, &s0)) = sums.iter().next()
        && let Some((v, s)) = sums.iter().find(|(_, s)| ((**s - s0) / s0).abs() > 1e-6)
    {
        return Err(SurveyStoreError::invalid(
            "margins",
            format!(
                "`{v}` sums to {s} but `{v0}` sums to {s0}: margins must share one population total"
            ),
        ));
    }
    exec(
        db,
        "DELETE FROM survey_margins WHERE city_id = ? AND wave_id = ?",
        vec![city_id.into(), wave_id.into()],
    )
    .await?;
    for c in cells {
        exec(
            db,
            "INSERT INTO survey_margins (city_id, wave_id, variable, category, total) VALUES (?,?,?,?,?)",
            vec![city_id.into(), wave_id.into(), c.variable.clone().into(), c.category.clone().into(), c.total.into()],
        )
        .await
        .map_err(|e| match e {
            SurveyStoreError::Db(_) => SurveyStoreError::invalid("margins", format!("cell {}={} given twice", c.variable, c.category)),
            e => e,
        })?;
    }
    Ok(())
}

pub async fn margins(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
) -> Result<Vec<MarginCell>> {
    let rows = all(db, "SELECT variable, category, total FROM survey_margins WHERE city_id = ? AND wave_id = ? ORDER BY variable, category", vec![city_id.into(), wave_id.into()]).await?;
    rows.iter()
        .map(|r| {
            Ok(MarginCell {
                variable: get(r, "variable")?,
                category: get(r, "category")?,
                total: get(r, "total")?,
            })
        })
        .collect()
}

/// A quota cell: district × (demographic variable = category); `variable` empty for a
/// district-only cell.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct QuotaCell {
    pub district: String,
    #[serde(default)]
    pub variable: String,
    #[serde(default)]
    pub category: String,
    pub target: i32,
}

/// Quota progress of one cell.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaProgress {
    #[serde(flatten)]
    pub cell: QuotaCell,
    pub achieved: i64,
    pub full: bool,
}

pub async fn set_quotas(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    cells: &[QuotaCell],
) -> Result<()> {
    for (i, c) in cells.iter().enumerate() {
        if c.target < 0 {
            return Err(SurveyStoreError::invalid(
                format!("quotas[{i}].target"),
                "target cannot be negative",
            ));
        }
        if !c.variable.is_empty()
            && (!crate::model::DEMOGRAPHICS.contains(&c.variable.as_str())
                || c.variable == "district")
        {
            return Err(SurveyStoreError::invalid(
                format!("quotas[{i}].variable"),
                format!("unknown variable `{}`", c.variable),
            ));
        }
    }
    exec(
        db,
        "DELETE FROM survey_quotas WHERE city_id = ? AND wave_id = ?",
        vec![city_id.into(), wave_id.into()],
    )
    .await?;
    for c in cells {
        exec(
            db,
            "INSERT INTO survey_quotas (city_id, wave_id, district, variable, category, target) VALUES (?,?,?,?,?,?)",
            vec![city_id.into(), wave_id.into(), c.district.clone().into(), c.variable.clone().into(), c.category.clone().into(), c.target.into()],
        )
        .await
        .map_err(|e| match e {
            SurveyStoreError::Db(_) => SurveyStoreError::invalid("quotas", format!("cell {} {}={} given twice", c.district, c.variable, c.category)),
            e => e,
        })?;
    }
    Ok(())
}

fn demo_column(variable: &str) -> Option<&'static str> {
    match variable {
        "age_group" => Some("age_group"),
        "sex" => Some("sex"),
        "education" => Some("education"),
        "residence" => Some("residence"),
        _ => None,
    }
}

/// Quotas with live progress (complete responses per cell), limited to districts in `prefix`.
pub async fn quota_progress(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    prefix: &str,
) -> Result<Vec<QuotaProgress>> {
    let rows = all(
        db,
        "SELECT district, variable, category, target FROM survey_quotas WHERE city_id = ? AND wave_id = ? AND district LIKE ? ORDER BY district, variable, category",
        vec![city_id.into(), wave_id.into(), format!("{prefix}%").into()],
    )
    .await?;
    let counts = all(
        db,
        "SELECT region_code, age_group, sex, education, residence, COUNT(*) AS n FROM survey_responses WHERE city_id = ? AND wave_id = ? AND status = 'complete' GROUP BY region_code, age_group, sex, education, residence",
        vec![city_id.into(), wave_id.into()],
    )
    .await?;
    let mut tally: Vec<(BTreeMap<&str, String>, i64)> = Vec::new();
    for r in &counts {
        let mut m = BTreeMap::new();
        for c in ["region_code", "age_group", "sex", "education", "residence"] {
            m.insert(c, get::<Option<String>>(r, c)?.unwrap_or_default());
        }
        tally.push((m, get::<i64>(r, "n")?));
    }
    let mut out = Vec::new();
    for r in &rows {
        let cell = QuotaCell {
            district: get(r, "district")?,
            variable: get(r, "variable")?,
            category: get(r, "category")?,
            target: get(r, "target")?,
        };
        let achieved: i64 = tally
            .iter()
            .filter(|(m, _)| {
                m["region_code"] == cell.district
                    && demo_column(&cell.variable).is_none_or(|c| m[c] == cell.category)
            })
            .map(|(_, n)| n)
            .sum();
        out.push(QuotaProgress {
            full: achieved >= cell.target as i64,
            cell,
            achieved,
        });
    }
    Ok(out)
}

/// The first full quota cell a respondent with these demographics falls in.
pub async fn full_cell_for(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    demo: &BTreeMap<String, String>,
) -> Result<Option<QuotaCell>> {
    let Some(district) = demo.get("district") else {
        return Ok(None);
    };
    let rows = all(
        db,
        "SELECT district, variable, category, target FROM survey_quotas WHERE city_id = ? AND wave_id = ? AND district = ?",
        vec![city_id.into(), wave_id.into(), district.clone().into()],
    )
    .await?;
    for r in &rows {
        let cell = QuotaCell {
            district: get(r, "district")?,
            variable: get(r, "variable")?,
            category: get(r, "category")?,
            target: get(r, "target")?,
        };
        let n = match demo_column(&cell.variable) {
            None if cell.variable.is_empty() => count_of(one(db, "SELECT COUNT(*) AS n FROM survey_responses WHERE city_id = ? AND wave_id = ? AND status = 'complete' AND region_code = ?", vec![city_id.into(), wave_id.into(), district.clone().into()]).await?)?,
            None => continue,
            Some(col) => {
                if demo.get(&cell.variable) != Some(&cell.category) {
                    continue;
                }
                count_of(one(db, &format!("SELECT COUNT(*) AS n FROM survey_responses WHERE city_id = ? AND wave_id = ? AND status = 'complete' AND region_code = ? AND {col} = ?"), vec![city_id.into(), wave_id.into(), district.clone().into(), cell.category.clone().into()]).await?)?
            }
        };
        if n >= cell.target as i64 {
            return Ok(Some(cell));
        }
    }
    Ok(None)
}

// ---------- invitations ----------

pub async fn create_invitations(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    count: usize,
    label: Option<&str>,
) -> Result<Vec<String>> {
    if count == 0 || count > 10_000 {
        return Err(SurveyStoreError::invalid(
            "count",
            "between 1 and 10000 invitations at a time",
        ));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let t = format!("i{}", ids::random_token(15));
        exec(
            db,
            "INSERT INTO survey_invitations (city_id, token, wave_id, label, created_at) VALUES (?,?,?,?,?)",
            vec![city_id.into(), t.clone().into(), wave_id.into(), label.map(str::to_string).into(), Utc::now().into()],
        )
        .await?;
        out.push(t);
    }
    Ok(out)
}

/// What a public link token opens.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    pub city_id: i64,
    pub wave: Wave,
    /// The invitation token (None for the open link).
    pub invitation: Option<String>,
    pub invitation_used: bool,
}

/// Resolves `/s/{token}`: an invitation, or a wave's open link.
pub async fn resolve_token(db: &impl ConnectionTrait, token: &str) -> Result<Option<LinkTarget>> {
    if token.is_empty() || token.len() > 64 {
        return Ok(None);
    }
    if let Some(r) = one(
        db,
        "SELECT city_id, wave_id, used_at FROM survey_invitations WHERE token = ?",
        vec![token.into()],
    )
    .await?
    {
        let city_id: i64 = get(&r, "city_id")?;
        let used: Option<DateTime<Utc>> = get(&r, "used_at")?;
        let Some(w) = get_wave_lite(db, city_id, get(&r, "wave_id")?).await? else {
            return Ok(None);
        };
        return Ok(Some(LinkTarget {
            city_id,
            wave: w,
            invitation: Some(token.to_string()),
            invitation_used: used.is_some(),
        }));
    }
    if let Some(r) = one(
        db,
        "SELECT city_id, id FROM survey_waves WHERE open_token = ?",
        vec![token.into()],
    )
    .await?
    {
        let city_id: i64 = get(&r, "city_id")?;
        let Some(w) = get_wave_lite(db, city_id, get(&r, "id")?).await? else {
            return Ok(None);
        };
        return Ok(Some(LinkTarget {
            city_id,
            wave: w,
            invitation: None,
            invitation_used: false,
        }));
    }
    Ok(None)
}

// ---------- responses ----------

/// A stored response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Response {
    pub id: i64,
    pub wave_id: i64,
    pub status: String,
    pub source: String,
    pub mode: String,
    pub region_code: Option<String>,
    pub age_group: Option<String>,
    pub sex: Option<String>,
    pub education: Option<String>,
    pub residence: Option<String>,
    pub external_id: Option<String>,
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Json>,
    pub flags: Vec<String>,
    /// `auto` (included unless flagged), `include` or `exclude` (an analyst's decision).
    pub decision: String,
    pub decision_reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub duration_s: Option<f64>,
    /// Whether the response enters the analysis.
    pub included: bool,
}

const R_COLS: &str = "id, wave_id, status, source, mode, region_code, age_group, sex, education, residence, external_id, answers, flags, decision, decision_reason, started_at, submitted_at, duration_s";

fn response_from(r: &QueryResult) -> Result<Response> {
    let answers: String = get(r, "answers")?;
    let flags: String = get(r, "flags")?;
    let flags: Vec<String> = flags
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let decision: String = get(r, "decision")?;
    Ok(Response {
        id: get(r, "id")?,
        wave_id: get(r, "wave_id")?,
        status: get(r, "status")?,
        source: get(r, "source")?,
        mode: get(r, "mode")?,
        region_code: get(r, "region_code")?,
        age_group: get(r, "age_group")?,
        sex: get(r, "sex")?,
        education: get(r, "education")?,
        residence: get(r, "residence")?,
        external_id: get(r, "external_id")?,
        answers: serde_json::from_str(&answers).unwrap_or_default(),
        included: decision == "include" || (decision == "auto" && flags.is_empty()),
        flags,
        decision,
        decision_reason: get(r, "decision_reason")?,
        started_at: get(r, "started_at")?,
        submitted_at: get(r, "submitted_at")?,
        duration_s: get(r, "duration_s")?,
    })
}

/// A response ready to store.
#[derive(Debug, Clone)]
pub struct NewResponse {
    pub status: &'static str,
    pub source: &'static str,
    pub mode: String,
    pub answers: BTreeMap<String, Json>,
    pub flags: Vec<&'static str>,
    pub invitation_token: Option<String>,
    pub respondent_key: Option<String>,
    pub external_id: Option<String>,
    pub started_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub duration_s: Option<f64>,
}

/// Inserts a response (demographic columns derived from the answers).
pub async fn insert_response(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave: &Wave,
    def: &QuestionnaireDef,
    r: &NewResponse,
) -> Result<i64> {
    let id = ids::new_id();
    let d = demographics(def, &r.answers);
    exec(
        db,
        "INSERT INTO survey_responses (city_id, id, wave_id, questionnaire_id, status, source, mode, region_code, age_group, sex, education, residence, invitation_token, respondent_key, external_id, answers, flags, decision, started_at, submitted_at, duration_s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        vec![
            city_id.into(),
            id.into(),
            wave.id.into(),
            wave.questionnaire_id.into(),
            r.status.into(),
            r.source.into(),
            r.mode.clone().into(),
            d.get("district").cloned().into(),
            d.get("age_group").cloned().into(),
            d.get("sex").cloned().into(),
            d.get("education").cloned().into(),
            d.get("residence").cloned().into(),
            r.invitation_token.clone().into(),
            r.respondent_key.clone().into(),
            r.external_id.clone().into(),
            serde_json::to_string(&r.answers).unwrap_or_default().into(),
            r.flags.join(",").into(),
            "auto".into(),
            r.started_at.into(),
            r.submitted_at.into(),
            r.duration_s.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// Updates a partial response (answers so far, or completion).
pub async fn update_response(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    def: &QuestionnaireDef,
    r: &NewResponse,
) -> Result<()> {
    let d = demographics(def, &r.answers);
    exec(
        db,
        "UPDATE survey_responses SET status = ?, region_code = ?, age_group = ?, sex = ?, education = ?, residence = ?, answers = ?, flags = ?, submitted_at = ?, duration_s = ? WHERE city_id = ? AND id = ? AND status = 'partial'",
        vec![
            r.status.into(),
            d.get("district").cloned().into(),
            d.get("age_group").cloned().into(),
            d.get("sex").cloned().into(),
            d.get("education").cloned().into(),
            d.get("residence").cloned().into(),
            serde_json::to_string(&r.answers).unwrap_or_default().into(),
            r.flags.join(",").into(),
            r.submitted_at.into(),
            r.duration_s.into(),
            city_id.into(),
            id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Takes the wave's write lock at the start of a collection transaction: on PostgreSQL a row
/// lock that serialises submissions to one wave (so quota checks cannot race); on SQLite the
/// database write lock, taken before any read so that concurrent writers wait (busy timeout)
/// instead of failing to upgrade a read lock.
pub async fn lock_wave(db: &impl ConnectionTrait, city_id: i64, wave_id: i64) -> Result<()> {
    exec(
        db,
        "UPDATE survey_waves SET status = status WHERE city_id = ? AND id = ?",
        vec![city_id.into(), wave_id.into()],
    )
    .await?;
    Ok(())
}

pub async fn mark_invitation_used(
    db: &impl ConnectionTrait,
    city_id: i64,
    token: &str,
) -> Result<bool> {
    let n = exec(
        db,
        "UPDATE survey_invitations SET used_at = ? WHERE city_id = ? AND token = ? AND used_at IS NULL",
        vec![Utc::now().into(), city_id.into(), token.into()],
    )
    .await?;
    Ok(n == 1)
}

/// The response a respondent started, by invitation token or by respondent key.
pub async fn find_response(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    invitation: Option<&str>,
    key: Option<&str>,
) -> Result<Option<Response>> {
    let r = match (invitation, key) {
        (Some(t), _) => one(db, &format!("SELECT {R_COLS} FROM survey_responses WHERE city_id = ? AND wave_id = ? AND invitation_token = ?"), vec![city_id.into(), wave_id.into(), t.into()]).await?,
        (None, Some(k)) => one(db, &format!("SELECT {R_COLS} FROM survey_responses WHERE city_id = ? AND wave_id = ? AND respondent_key = ?"), vec![city_id.into(), wave_id.into(), k.into()]).await?,
        _ => None,
    };
    r.as_ref().map(response_from).transpose()
}

/// Filter of a response listing.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResponseFilter {
    /// `complete` (default), `partial` or `all`.
    pub status: Option<String>,
    /// Only flagged responses.
    pub flagged: Option<bool>,
    pub district: Option<String>,
    /// Most responses returned, up to 10 000 (default 100).
    #[param(format = Int64, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    #[param(format = Int64, maximum = 4294967295_u64)]
    pub offset: Option<u32>,
}

/// Responses of a wave inside the scope (region code prefix), newest first.
pub async fn list_responses(
    db: &impl ConnectionTrait,
    scope: &RegionScope,
    wave_id: i64,
    f: &ResponseFilter,
) -> Result<(Vec<Response>, i64)> {
    let mut sql = String::from(
        " FROM survey_responses WHERE city_id = ? AND wave_id = ? AND (region_code LIKE ? OR (region_code IS NULL AND ? = 1))",
    );
    // Responses without a district (partial ones) are visible to city-wide principals only.
    let city_wide = i32::from(scope.prefix.len() <= 4);
    let mut vals: Vec<Value> = vec![
        scope.city_id.into(),
        wave_id.into(),
        scope.like_pattern().into(),
        city_wide.into(),
    ];
    match f.status.as_deref().unwrap_or("complete") {
        "all" => {}
        s @ ("complete" | "partial") => {
            sql.push_str(" AND status = ?");
            vals.push(s.into());
        }
        _ => {
            return Err(SurveyStoreError::invalid(
                "status",
                "status is complete, partial or all",
            ));
        }
    }
    if f.flagged == Some(true) {
        sql.push_str(" AND flags <> ''");
    }
    if let Some(d) = f.district.as_deref().filter(|d| !d.is_empty()) {
        sql.push_str(" AND region_code = ?");
        vals.push(d.into());
    }
    let total = count_of(one(db, &format!("SELECT COUNT(*) AS n{sql}"), vals.clone()).await?)?;
    let limit = f.limit.unwrap_or(100).min(10_000);
    let rows = all(
        db,
        &format!(
            "SELECT {R_COLS}{sql} ORDER BY started_at DESC, id LIMIT {limit} OFFSET {}",
            f.offset.unwrap_or(0)
        ),
        vals,
    )
    .await?;
    Ok((
        rows.iter().map(response_from).collect::<Result<Vec<_>>>()?,
        total,
    ))
}

/// Complete responses of a wave that enter the analysis (scope: region prefix).
pub async fn analysis_responses(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
) -> Result<Vec<Response>> {
    let rows = all(
        db,
        &format!("SELECT {R_COLS} FROM survey_responses WHERE city_id = ? AND wave_id = ? AND status = 'complete' ORDER BY id"),
        vec![city_id.into(), wave_id.into()],
    )
    .await?;
    Ok(rows
        .iter()
        .map(response_from)
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|r| r.included)
        .collect())
}

pub async fn get_response_scoped(
    db: &impl ConnectionTrait,
    scope: &RegionScope,
    id: i64,
) -> Result<Option<Response>> {
    let r = one(
        db,
        &format!("SELECT {R_COLS} FROM survey_responses WHERE city_id = ? AND id = ? AND region_code LIKE ?"),
        vec![scope.city_id.into(), id.into(), scope.like_pattern().into()],
    )
    .await?;
    r.as_ref().map(response_from).transpose()
}

pub async fn set_decision(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    decision: &str,
    reason: &str,
) -> Result<()> {
    exec(
        db,
        "UPDATE survey_responses SET decision = ?, decision_reason = ? WHERE city_id = ? AND id = ?",
        vec![decision.into(), reason.into(), city_id.into(), id.into()],
    )
    .await?;
    Ok(())
}

/// Counts for the dashboard: complete responses of collecting waves.
pub async fn count_complete(db: &impl ConnectionTrait, city_id: i64, wave_id: i64) -> Result<i64> {
    count_of(one(db, "SELECT COUNT(*) AS n FROM survey_responses WHERE city_id = ? AND wave_id = ? AND status = 'complete'", vec![city_id.into(), wave_id.into()]).await?)
}

/// Whether a wave already has responses (demo idempotence).
pub async fn has_waves(db: &impl ConnectionTrait, city_id: i64) -> Result<bool> {
    Ok(count_of(
        one(
            db,
            "SELECT COUNT(*) AS n FROM survey_waves WHERE city_id = ?",
            vec![city_id.into()],
        )
        .await?,
    )? > 0)
}
