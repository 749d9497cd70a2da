//! Responses (答卷): fieldwork a survey firm uploads or imports for a wave, and an analyst's
//! cleaning decision (include / exclude) on one response.

use super::record;
use crate::collect::{self, RowError, Submission};
use crate::model::QuestionnaireDef;
use crate::store::{self, Response, StoreError, Wave};
use qcity_platform::auth::Principal;
use qcity_platform::db::BeginWrite;
use qcity_platform::store::group_commit::GroupCommit;
use sea_orm::DatabaseConnection;
use serde_json::json;

/// How a batch of fieldwork arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSource {
    /// A JSON list of responses (`survey.wave.upload`).
    Upload,
    /// A CSV or XLSX file (`survey.wave.import`).
    Import,
}

impl BatchSource {
    fn action(self) -> &'static str {
        match self {
            BatchSource::Upload => "survey.wave.upload",
            BatchSource::Import => "survey.wave.import",
        }
    }
}

/// Stores a batch of fieldwork responses for wave `w` all-or-nothing through the survey's
/// group-commit `writer`, audited (`survey.wave.upload` / `survey.wave.import`) in the same
/// savepoint. `districts` are the city's district codes. `Ok(Err(errors))` lists every row
/// refused, and then nothing is stored; `Ok(Ok(ids))` comes only after the commit.
pub async fn add_responses(
    writer: &GroupCommit,
    p: &Principal,
    w: Wave,
    def: QuestionnaireDef,
    districts: Vec<String>,
    subs: Vec<Submission>,
    source: BatchSource,
) -> Result<Result<Vec<i64>, Vec<RowError>>, StoreError> {
    if subs.is_empty() {
        return Err(StoreError::invalid(
            "responses",
            "no responses in the upload",
        ));
    }
    let p = p.clone();
    writer
        .run::<_, StoreError, _>(move |txn| {
            Box::pin(async move {
                // All-or-nothing in a nested savepoint. A refused batch stores nothing, yet
                // its answer waits for the group's commit (keep = true): a row refused as
                // "already imported" or "quota full" may rest on an earlier job of the group.
                let sp = txn.begin_write().await?;
                let (ids, errors) =
                    collect::complete_batch(&sp, p.city_id, &w, &def, &districts, &subs).await?;
                if !errors.is_empty() {
                    sp.rollback().await?;
                    return Ok((Err(errors), true));
                }
                record(
                    &sp,
                    &p,
                    source.action(),
                    "survey_wave",
                    w.id,
                    None,
                    Some(json!({"accepted": ids.len()})),
                )
                .await?;
                sp.commit().await?;
                Ok((Ok(ids), true))
            })
        })
        .await
}

/// An analyst's cleaning decision on a response in `p`'s scope: `include`, `exclude` or
/// `auto` (the flags decide), with a reason (`survey.response.decision`). Returns the response
/// after.
pub async fn decide(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    decision: &str,
    reason: &str,
) -> Result<Response, StoreError> {
    if !matches!(decision, "include" | "exclude" | "auto") {
        return Err(StoreError::invalid(
            "decision",
            "decision is include, exclude or auto",
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StoreError::invalid("reason", "a reason is required"));
    }
    let txn = db.begin_write().await?;
    let r = store::get_response_scoped(&txn, &p.scope, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("response".into()))?;
    store::set_decision(&txn, p.city_id, id, decision, reason).await?;
    record(
        &txn,
        p,
        "survey.response.decision",
        "survey_response",
        id,
        Some(json!({"decision": r.decision, "reason": r.decision_reason, "flags": r.flags})),
        Some(json!({"decision": decision, "reason": reason})),
    )
    .await?;
    txn.commit().await?;
    store::get_response_scoped(db, &p.scope, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("response".into()))
}
