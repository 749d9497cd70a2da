//! Responses (答卷): inserting and updating them, the wave's write lock, listing and reading
//! them within a scope, the analyst's decision, and the counts for the dashboard.

use super::{Result, StoreError, Wave, all, count_of, exec, get, one};
use crate::model::{QuestionnaireDef, demographics};
use chrono::{DateTime, Utc};
use qcity_platform::auth::RegionScope;
use qcity_platform::ids;
use sea_orm::{ConnectionTrait, QueryResult, Value};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

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
            return Err(StoreError::invalid(
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
