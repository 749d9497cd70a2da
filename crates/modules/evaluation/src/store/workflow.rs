//! The approval workflow of a value (填报 → 审核 → 发布): submit, approve, reject, publish
//! and return, each needing its capability and the right status; audited.

use super::{
    APPROVED, DRAFT, EvalError, PUBLISHED, Result, SUBMITTED, ValueView, Warning, actor_json,
    check_value, get_value,
};
use crate::entity::value;
use chrono::Utc;
use qcity_platform::audit::{self};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::store::ConflictCode;
use sea_orm::{ActiveModelTrait, ConnectionTrait, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};

/// A workflow action on a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// draft → submitted (data officer, in scope); warnings must be acknowledged.
    Submit,
    /// submitted → approved (approver).
    Approve,
    /// submitted → draft with a note (approver).
    Reject,
    /// approved → published (approver).
    Publish,
    /// approved/published → draft (approver, to correct a value).
    Return,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "submit" => Some(Action::Submit),
            "approve" => Some(Action::Approve),
            "reject" => Some(Action::Reject),
            "publish" => Some(Action::Publish),
            "return" => Some(Action::Return),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Publish => "publish",
            Action::Return => "return",
        }
    }
    /// The audit action: `evaluation.value.<verb>`.
    pub fn audit_action(self) -> &'static str {
        match self {
            Action::Submit => "evaluation.value.submit",
            Action::Approve => "evaluation.value.approve",
            Action::Reject => "evaluation.value.reject",
            Action::Publish => "evaluation.value.publish",
            Action::Return => "evaluation.value.return",
        }
    }
}

/// Moves a value through the workflow. Submitting a value with rule warnings needs
/// `acknowledge` (the warnings are returned as a conflict otherwise). Audited.
pub async fn transition(
    db: &impl ConnectionTrait,
    p: &Principal,
    id: i64,
    action: Action,
    acknowledge: bool,
    note: Option<&str>,
) -> Result<(value::Model, Vec<Warning>)> {
    let old = get_value(db, p, id).await?;
    let (cap, from, to): (Capability, &[&str], &str) = match action {
        Action::Submit => (Capability::EnterData, &[DRAFT], SUBMITTED),
        Action::Approve => (Capability::ApproveData, &[SUBMITTED], APPROVED),
        Action::Reject => (Capability::ApproveData, &[SUBMITTED], DRAFT),
        Action::Publish => (Capability::ApproveData, &[APPROVED], PUBLISHED),
        Action::Return => (
            Capability::ApproveData,
            &[APPROVED, PUBLISHED, SUBMITTED],
            DRAFT,
        ),
    };
    p.require(cap)?;
    if !from.contains(&old.status.as_str()) {
        return Err(EvalError::conflict(
            ConflictCode::Conflict,
            format!(
                "cannot {} a value that is {} (needs {})",
                action.as_str(),
                old.status,
                from.join(" or ")
            ),
        ));
    }
    let warnings = check_value(db, p.city_id, &old).await?;
    if action == Action::Submit && !warnings.is_empty() && !acknowledge {
        return Err(EvalError::conflict(
            ConflictCode::Conflict,
            format!(
                "validation warnings must be acknowledged before submitting: {}",
                warnings
                    .iter()
                    .map(|w| format!("[{}] {}", w.rule, w.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }
    let mut am = old.clone().into_active_model();
    am.status = Set(to.into());
    if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
        am.note = Set(n.trim().into());
    }
    am.updated_by = Set(p.actor_name());
    am.updated_at = Set(Utc::now());
    let new = am.update(db).await?;
    audit::record_by(
        db,
        p,
        action.audit_action(),
        "eval_value",
        &id.to_string(),
        actor_json(&ValueView::from(&old)),
        actor_json(&ValueView::from(&new)),
    )
    .await?;
    Ok((new, warnings))
}
