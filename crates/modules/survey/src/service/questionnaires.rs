//! Questionnaires (问卷): creating one and revising it (in place, or as a new version once it
//! has responses).

use super::{json_of, record};
use crate::model::QuestionnaireDef;
use crate::store::{self, Questionnaire, Revision, StoreError};
use qcity_platform::auth::Principal;
use qcity_platform::db::BeginWrite;
use sea_orm::DatabaseConnection;
use serde_json::json;

/// Creates a questionnaire: version 1 of a new code, or the next version of an existing one
/// (`survey.questionnaire.create`).
pub async fn create_questionnaire(
    db: &DatabaseConnection,
    p: &Principal,
    def: &QuestionnaireDef,
) -> Result<Questionnaire, StoreError> {
    let txn = db.begin_write().await?;
    let id = store::create_questionnaire(&txn, p.city_id, def).await?;
    let q = store::get_questionnaire(&txn, p.city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("questionnaire".into()))?;
    record(
        &txn,
        p,
        "survey.questionnaire.create",
        "survey_questionnaire",
        id,
        None,
        Some(json!({"code": q.code, "version": q.version})),
    )
    .await?;
    txn.commit().await?;
    Ok(q)
}

/// Saves `def` as the next state of questionnaire `id`: in place while it has no responses
/// (`survey.questionnaire.update`), otherwise as a new version, the old one kept with its
/// responses (`survey.questionnaire.new_version`).
pub async fn revise_questionnaire(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    def: &QuestionnaireDef,
) -> Result<Revision, StoreError> {
    let txn = db.begin_write().await?;
    let before = store::get_questionnaire(&txn, p.city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("questionnaire".into()))?;
    let rev = store::revise_questionnaire(&txn, p.city_id, id, def).await?;
    record(
        &txn,
        p,
        if rev.new_version {
            "survey.questionnaire.new_version"
        } else {
            "survey.questionnaire.update"
        },
        "survey_questionnaire",
        rev.id,
        Some(json_of(&before.definition)),
        Some(json_of(def)),
    )
    .await?;
    txn.commit().await?;
    Ok(rev)
}
