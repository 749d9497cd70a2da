//! Indicator values (指标数据): the API view, scoped listing and reading, and saving a draft
//! (entered, imported or fed) with its ratio computed and its rule warnings returned.

use super::{DRAFT, EvalError, Result, Warning, actor_json, check_value, get_framework, nodes};
use crate::entity::{node, value};
use chrono::Utc;
use qcity_platform::audit::{self};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::ids::new_id;
use qcity_platform::store::ConflictCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A value as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ValueView {
    pub id: i64,
    pub framework_id: i64,
    pub indicator: String,
    pub region_code: String,
    pub year: i32,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub source: String,
    pub note: String,
    pub status: String,
    pub origin: String,
    pub updated_by: String,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<&value::Model> for ValueView {
    fn from(v: &value::Model) -> Self {
        ValueView {
            id: v.id,
            framework_id: v.framework_id,
            indicator: v.indicator_code.clone(),
            region_code: v.region_code.clone(),
            year: v.year,
            value: v.value,
            numerator: v.numerator,
            denominator: v.denominator,
            source: v.source.clone(),
            note: v.note.clone(),
            status: v.status.clone(),
            origin: v.origin.clone(),
            updated_by: v.updated_by.clone(),
            updated_at: v.updated_at,
        }
    }
}

/// Filter of a value listing.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ValueFilter {
    pub framework_id: Option<i64>,
    pub year: Option<i32>,
    pub region: Option<String>,
    pub indicator: Option<String>,
    pub status: Option<String>,
    /// Responsible department (passport field), for the per-department grid.
    pub department: Option<String>,
}

/// Values the principal may see, by filter.
pub async fn list_values(
    db: &impl ConnectionTrait,
    p: &Principal,
    f: &ValueFilter,
) -> Result<Vec<value::Model>> {
    let mut q = value::Entity::find()
        .filter(value::Column::CityId.eq(p.city_id))
        .filter(value::Column::RegionCode.starts_with(&p.scope.prefix));
    if let Some(x) = f.framework_id {
        q = q.filter(value::Column::FrameworkId.eq(x));
    }
    if let Some(x) = f.year {
        q = q.filter(value::Column::Year.eq(x));
    }
    if let Some(x) = f.region.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(value::Column::RegionCode.eq(x));
    }
    if let Some(x) = f.indicator.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(value::Column::IndicatorCode.eq(x));
    }
    if let Some(x) = f.status.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(value::Column::Status.eq(x));
    }
    let mut rows = q
        .order_by_asc(value::Column::Year)
        .order_by_asc(value::Column::RegionCode)
        .order_by_asc(value::Column::IndicatorCode)
        .all(db)
        .await?;
    if let (Some(dept), Some(fid)) = (
        f.department.as_deref().filter(|s| !s.is_empty()),
        f.framework_id,
    ) {
        let ns = nodes(db, p.city_id, fid).await?;
        let keep: BTreeSet<String> = ns
            .into_iter()
            .filter(|n| n.department.contains(dept))
            .map(|n| n.code)
            .collect();
        rows.retain(|v| keep.contains(&v.indicator_code));
    }
    Ok(rows)
}

/// One value, `NotFound` when outside the principal's scope.
pub async fn get_value(db: &impl ConnectionTrait, p: &Principal, id: i64) -> Result<value::Model> {
    value::Entity::find()
        .filter(value::Column::CityId.eq(p.city_id))
        .filter(value::Column::Id.eq(id))
        .filter(value::Column::RegionCode.starts_with(&p.scope.prefix))
        .one(db)
        .await?
        .ok_or_else(|| EvalError::NotFound(format!("value {id}")))
}

/// A value to save (entered, imported or fed).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ValueInput {
    pub framework_id: i64,
    pub indicator: String,
    pub region_code: String,
    pub year: i32,
    /// The value; for a `ratio` indicator it may be left out and computed from numerator and
    /// denominator.
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub note: String,
}

/// Checks the basic shape of an input and computes the value of a ratio indicator.
fn resolve_value(n: &node::Model, v: &ValueInput) -> Result<f64> {
    if !(1990..=2100).contains(&v.year) {
        return Err(EvalError::invalid(
            "year",
            format!("{} is not a plausible year", v.year),
        ));
    }
    let value = match (v.value, n.computation.as_str(), v.numerator, v.denominator) {
        (Some(x), _, _, _) => x,
        (None, "ratio", Some(a), Some(b)) => {
            if b == 0.0 {
                return Err(EvalError::invalid("denominator", "must not be zero"));
            }
            a / b * n.factor
        }
        (None, "ratio", _, _) => {
            return Err(EvalError::invalid(
                "value",
                "give a value or both numerator and denominator",
            ));
        }
        (None, _, _, _) => return Err(EvalError::invalid("value", "is required")),
    };
    if !value.is_finite() {
        return Err(EvalError::invalid("value", "must be a finite number"));
    }
    Ok(value)
}

async fn indicator_node(
    db: &impl ConnectionTrait,
    city_id: i64,
    framework_id: i64,
    code: &str,
) -> Result<node::Model> {
    node::Entity::find_by_id((city_id, framework_id, code.to_string()))
        .one(db)
        .await?
        .filter(|n| n.level == 1)
        .ok_or_else(|| {
            EvalError::invalid(
                "indicator",
                format!("`{code}` is not an indicator of this framework"),
            )
        })
}

/// Saves a value as a draft (creating or editing it). Data officers may only change drafts;
/// an approver's edit of a later-stage value returns it to draft. Returns the value and the
/// warnings of the validation rules. Runs inside the caller's transaction; audited.
pub async fn save_value(
    db: &impl ConnectionTrait,
    p: &Principal,
    v: &ValueInput,
    origin: &str,
) -> Result<(value::Model, Vec<Warning>)> {
    p.require(Capability::EnterData)?;
    qcity_platform::store::regions::get_visible(db, &p.scope, &v.region_code)
        .await
        .map_err(|_| EvalError::NotFound(format!("region {}", v.region_code)))?;
    get_framework(db, p.city_id, v.framework_id).await?;
    let n = indicator_node(db, p.city_id, v.framework_id, &v.indicator).await?;
    let x = resolve_value(&n, v)?;
    let existing = value::Entity::find()
        .filter(value::Column::CityId.eq(p.city_id))
        .filter(value::Column::FrameworkId.eq(v.framework_id))
        .filter(value::Column::IndicatorCode.eq(&v.indicator))
        .filter(value::Column::RegionCode.eq(&v.region_code))
        .filter(value::Column::Year.eq(v.year))
        .one(db)
        .await?;
    let now = Utc::now();
    let saved = match existing {
        Some(old) => {
            if old.status != DRAFT && !p.can(Capability::ApproveData) {
                return Err(EvalError::conflict(
                    ConflictCode::Conflict,
                    format!(
                        "value {} of {} {} {} is {}; only drafts can be edited",
                        old.id, v.indicator, v.region_code, v.year, old.status
                    ),
                ));
            }
            let mut am = old.clone().into_active_model();
            am.value = Set(x);
            am.numerator = Set(v.numerator);
            am.denominator = Set(v.denominator);
            am.source = Set(v.source.clone());
            am.note = Set(v.note.clone());
            am.status = Set(DRAFT.into());
            am.origin = Set(origin.into());
            am.updated_by = Set(p.actor_name());
            am.updated_at = Set(now);
            let new = am.update(db).await?;
            audit::record_by(
                db,
                p,
                "evaluation.value.update",
                "eval_value",
                &new.id.to_string(),
                actor_json(&ValueView::from(&old)),
                actor_json(&ValueView::from(&new)),
            )
            .await?;
            new
        }
        None => {
            let new = value::ActiveModel {
                city_id: Set(p.city_id),
                id: Set(new_id()),
                framework_id: Set(v.framework_id),
                indicator_code: Set(v.indicator.clone()),
                region_code: Set(v.region_code.clone()),
                year: Set(v.year),
                value: Set(x),
                numerator: Set(v.numerator),
                denominator: Set(v.denominator),
                source: Set(v.source.clone()),
                note: Set(v.note.clone()),
                status: Set(DRAFT.into()),
                origin: Set(origin.into()),
                updated_by: Set(p.actor_name()),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
            audit::record_by(
                db,
                p,
                "evaluation.value.create",
                "eval_value",
                &new.id.to_string(),
                None,
                actor_json(&ValueView::from(&new)),
            )
            .await?;
            new
        }
    };
    let w = check_value(db, p.city_id, &saved).await?;
    Ok((saved, w))
}
