//! Survey waves (测评批次): creating one, reading it (whole city, or as a principal's scope
//! sees it), who may see or manage it, and its status.

use super::{Result, StoreError, all, exec, get, get_questionnaire, one};
use chrono::{DateTime, Utc};
use qcity_platform::auth::RegionScope;
use qcity_platform::ids;
use sea_orm::{ConnectionTrait, QueryResult};
use serde::Serialize;

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

/// A wave's own columns, without its completed count.
const W_BASE: &str = "w.id, w.questionnaire_id, w.region_code, w.year, w.name_zh, w.name_en, w.modes, w.status, w.open_token, w.target_n, w.conversion, w.created_at, w.published_at";
/// A wave's complete responses, counted.
const W_COMPLETED: &str = "(SELECT COUNT(*) FROM survey_responses r WHERE r.city_id = w.city_id AND r.wave_id = w.id AND r.status = 'complete') AS completed";
/// Where the completed count is not needed.
const W_NO_COUNT: &str = "CAST(0 AS BIGINT) AS completed";

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
        return Err(StoreError::invalid(
            "year",
            "year must be between 2000 and 2100",
        ));
    }
    if w.name_zh.trim().is_empty() {
        return Err(StoreError::invalid("name_zh", "a Chinese name is required"));
    }
    if w.modes.is_empty() || w.modes.iter().any(|m| !MODES.contains(&m.as_str())) {
        return Err(StoreError::invalid(
            "modes",
            "modes are web, phone and/or onsite",
        ));
    }
    if !CONVERSIONS.contains(&w.conversion.as_str()) {
        return Err(StoreError::invalid(
            "conversion",
            "conversion is linear or five_level_cn",
        ));
    }
    if w.target_n < 0 {
        return Err(StoreError::invalid(
            "target_n",
            "target sample cannot be negative",
        ));
    }
    let q = get_questionnaire(db, city_id, w.questionnaire_id)
        .await?
        .ok_or_else(|| StoreError::invalid("questionnaire_id", "no such questionnaire"))?;
    if w.conversion == "five_level_cn"
        && q.definition
            .questions
            .iter()
            .any(|x| x.kind == crate::model::QuestionKind::Likert && x.scale != Some(5))
    {
        return Err(StoreError::invalid(
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
    wave_by_id(db, city_id, id, W_COMPLETED).await
}

/// A wave without its completed count (`completed` = 0): the hot collection path.
pub async fn get_wave_lite(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
) -> Result<Option<Wave>> {
    wave_by_id(db, city_id, id, W_NO_COUNT).await
}

/// A wave by id with `completed` as the given column.
async fn wave_by_id(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    completed: &str,
) -> Result<Option<Wave>> {
    let r = one(
        db,
        &format!(
            "SELECT {W_BASE}, {completed} FROM survey_waves w WHERE w.city_id = ? AND w.id = ?"
        ),
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
    let rows = all(db, &format!("SELECT {W_BASE}, {W_COMPLETED} FROM survey_waves w WHERE w.city_id = ? ORDER BY w.year DESC, w.created_at DESC"), vec![scope.city_id.into()]).await?;
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
        &format!("SELECT {W_BASE}, {W_COMPLETED} FROM survey_waves w WHERE w.city_id = ? ORDER BY w.year DESC"),
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
        return Err(StoreError::invalid(
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
