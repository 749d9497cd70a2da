//! Questionnaires (调查问卷) and their versions: creating one, revising it (in place while
//! it has no responses, else as a new version) and reading them.

use super::{Result, StoreError, all, exec, get, one};
use crate::model::QuestionnaireDef;
use chrono::{DateTime, Utc};
use qcity_platform::ids;
use sea_orm::{ConnectionTrait, DbErr, QueryResult};
use serde::Serialize;

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
            .map_err(|e| StoreError::Db(DbErr::Custom(format!("stored definition: {e}"))))?,
    })
}

/// A questionnaire's own columns, without its response count.
const Q_BASE: &str =
    "q.id, q.code, q.version, q.title_zh, q.title_en, q.previous_id, q.created_at, q.definition";
/// A questionnaire's responses, counted.
const Q_RESPONSES: &str = "(SELECT COUNT(*) FROM survey_responses r WHERE r.city_id = q.city_id AND r.questionnaire_id = q.id) AS responses";

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
        .map_err(|e| StoreError::invalid(e.field, e.message))?;
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
        .map_err(|e| StoreError::invalid(e.field, e.message))?;
    let cur = get_questionnaire(db, city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("questionnaire".into()))?;
    if def.code != cur.code {
        return Err(StoreError::invalid(
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
    questionnaire_by_id(db, city_id, id, "CAST(0 AS BIGINT) AS responses").await
}

/// A questionnaire by id with `responses` as the given column.
async fn questionnaire_by_id(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    responses: &str,
) -> Result<Option<Questionnaire>> {
    let r = one(
        db,
        &format!("SELECT {Q_BASE}, {responses} FROM survey_questionnaires q WHERE q.city_id = ? AND q.id = ?"),
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
    questionnaire_by_id(db, city_id, id, Q_RESPONSES).await
}

pub async fn list_questionnaires(
    db: &impl ConnectionTrait,
    city_id: i64,
) -> Result<Vec<Questionnaire>> {
    let rows = all(
        db,
        &format!("SELECT {Q_BASE}, {Q_RESPONSES} FROM survey_questionnaires q WHERE q.city_id = ? ORDER BY q.code, q.version DESC"),
        vec![city_id.into()],
    )
    .await?;
    rows.iter().map(questionnaire_from).collect()
}
