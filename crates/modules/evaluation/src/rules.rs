//! Validation rules (校验规则) as data: per indicator, or a framework default (empty indicator)
//! that applies to every indicator. Kinds: `range` (min/max), `yoy` (largest year-on-year change
//! in percent) and `zscore` (largest |z| against the other regions of the year). Rules only warn;
//! a submit with warnings needs them acknowledged (see [`crate::store::transition`]).
//! Analysts and admins edit rules; everyone who may see the framework reads them. Audited.

use crate::entity::rule;
use crate::store::{self, EvalError, Result};
use qcity_platform::audit::{self};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::db::BeginWrite;
use qcity_platform::ids::new_id;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Deserializer, Serialize};

/// The rule kinds.
pub const KINDS: [&str; 3] = ["range", "yoy", "zscore"];

/// A rule as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleView {
    pub id: i64,
    pub framework_id: i64,
    /// Indicator code; empty = framework default (applies to every indicator).
    pub indicator: String,
    /// `range`, `yoy` or `zscore`.
    pub kind: String,
    /// `range`: lowest allowed value.
    pub min: Option<f64>,
    /// `range`: highest allowed value.
    pub max: Option<f64>,
    /// `yoy`: largest allowed change in percent; `zscore`: largest |z|.
    pub threshold: Option<f64>,
    pub active: bool,
}

impl From<&rule::Model> for RuleView {
    fn from(r: &rule::Model) -> Self {
        RuleView {
            id: r.id,
            framework_id: r.framework_id,
            indicator: r.indicator_code.clone(),
            kind: r.kind.clone(),
            min: r.min,
            max: r.max,
            threshold: r.threshold,
            active: r.active,
        }
    }
}

/// A new rule.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewRule {
    /// Indicator code; absent or empty = framework default.
    #[serde(default)]
    pub indicator: Option<String>,
    /// `range`, `yoy` or `zscore`.
    pub kind: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub threshold: Option<f64>,
    /// Default `true`.
    pub active: Option<bool>,
}

/// Changes to a rule: a field left out is kept, `null` clears it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RulePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub min: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub max: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub threshold: Option<Option<f64>>,
    pub active: Option<bool>,
}

/// A field that is present (even as `null`) becomes `Some(..)`.
fn present<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// What a rule tests, by kind: parsed once from the request (or the stored row), so the checks
/// match on a type and never on a string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RuleTest {
    /// `range`: the value lies in [min, max] (either bound may be open).
    Range { min: Option<f64>, max: Option<f64> },
    /// `yoy`: the change against the previous year is at most `max_pct` percent either way.
    Yoy { max_pct: f64 },
    /// `zscore`: |z| against the other regions of the same level is at most `max_z`.
    Zscore { max_z: f64 },
}

impl RuleTest {
    /// The rule's test from its kind and parameters, or a 422 naming the field at fault.
    pub fn parse(
        kind: &str,
        min: Option<f64>,
        max: Option<f64>,
        threshold: Option<f64>,
    ) -> Result<RuleTest> {
        for (f, v) in [("min", min), ("max", max), ("threshold", threshold)] {
            if v.is_some_and(|x| !x.is_finite()) {
                return Err(EvalError::invalid(f, "must be a finite number"));
            }
        }
        match kind {
            "range" => {
                if min.is_none() && max.is_none() {
                    return Err(EvalError::invalid(
                        "min",
                        "a range rule needs min, max or both",
                    ));
                }
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo >= hi
                {
                    return Err(EvalError::invalid("max", "must be greater than min"));
                }
                if threshold.is_some() {
                    return Err(EvalError::invalid(
                        "threshold",
                        "a range rule has no threshold (use min and max)",
                    ));
                }
                Ok(RuleTest::Range { min, max })
            }
            "yoy" | "zscore" => {
                let t = match threshold {
                    Some(t) if t > 0.0 => t,
                    _ => {
                        return Err(EvalError::invalid(
                            "threshold",
                            format!("a {kind} rule needs a threshold > 0"),
                        ));
                    }
                };
                if min.is_some() || max.is_some() {
                    return Err(EvalError::invalid(
                        if min.is_some() { "min" } else { "max" },
                        format!("a {kind} rule has no min or max (use threshold)"),
                    ));
                }
                Ok(if kind == "yoy" {
                    RuleTest::Yoy { max_pct: t }
                } else {
                    RuleTest::Zscore { max_z: t }
                })
            }
            other => Err(EvalError::invalid(
                "kind",
                format!("unknown rule kind `{other}` (expected range, yoy or zscore)"),
            )),
        }
    }

    /// The test of a stored rule (`None`: a row no longer valid, which checks nothing).
    pub fn of(r: &rule::Model) -> Option<RuleTest> {
        RuleTest::parse(&r.kind, r.min, r.max, r.threshold).ok()
    }

    /// The kind as stored and shown: `range`, `yoy` or `zscore`.
    pub fn kind(&self) -> &'static str {
        match self {
            RuleTest::Range { .. } => "range",
            RuleTest::Yoy { .. } => "yoy",
            RuleTest::Zscore { .. } => "zscore",
        }
    }

    /// The stored columns (min, max, threshold).
    pub fn columns(&self) -> (Option<f64>, Option<f64>, Option<f64>) {
        match *self {
            RuleTest::Range { min, max } => (min, max, None),
            RuleTest::Yoy { max_pct: t } | RuleTest::Zscore { max_z: t } => (None, None, Some(t)),
        }
    }
}

/// Rules of a framework (defaults first, then by indicator). With `indicator`, only the rules
/// that apply to it: its own and the framework defaults.
pub async fn list_rules(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    indicator: Option<&str>,
) -> Result<Vec<rule::Model>> {
    store::get_framework(db, p.city_id, framework_id).await?;
    let mut q = rule::Entity::find()
        .filter(rule::Column::CityId.eq(p.city_id))
        .filter(rule::Column::FrameworkId.eq(framework_id));
    if let Some(code) = indicator.filter(|c| !c.is_empty()) {
        q = q.filter(rule::Column::IndicatorCode.is_in([code.to_string(), String::new()]));
    }
    let mut rows = q
        .order_by_asc(rule::Column::IndicatorCode)
        .order_by_asc(rule::Column::Kind)
        .order_by_asc(rule::Column::Id)
        .all(db)
        .await?;
    rows.sort_by(|a, b| {
        (
            !a.indicator_code.is_empty(),
            &a.indicator_code,
            &a.kind,
            a.id,
        )
            .cmp(&(
                !b.indicator_code.is_empty(),
                &b.indicator_code,
                &b.kind,
                b.id,
            ))
    });
    Ok(rows)
}

/// One rule of a framework.
pub async fn get_rule(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    id: i64,
) -> Result<rule::Model> {
    rule::Entity::find_by_id((p.city_id, id))
        .one(db)
        .await?
        .filter(|r| r.framework_id == framework_id)
        .ok_or_else(|| EvalError::NotFound(format!("rule {id}")))
}

/// Creates a rule (analysts, admins). Audited.
pub async fn create_rule(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    r: &NewRule,
) -> Result<rule::Model> {
    p.require(Capability::EditFrameworks)?;
    store::get_framework(db, p.city_id, framework_id).await?;
    let code = r.indicator.as_deref().unwrap_or("").trim().to_string();
    if !code.is_empty() {
        let ok = store::nodes(db, p.city_id, framework_id)
            .await?
            .iter()
            .any(|n| n.level == 1 && n.code == code);
        if !ok {
            return Err(EvalError::invalid(
                "indicator",
                format!("`{code}` is not an indicator of this framework"),
            ));
        }
    }
    let test = RuleTest::parse(r.kind.trim(), r.min, r.max, r.threshold)?;
    let (min, max, threshold) = test.columns();
    let txn = db.begin_write().await?;
    let m = rule::ActiveModel {
        city_id: Set(p.city_id),
        id: Set(new_id()),
        framework_id: Set(framework_id),
        indicator_code: Set(code),
        kind: Set(test.kind().into()),
        min: Set(min),
        max: Set(max),
        threshold: Set(threshold),
        active: Set(r.active.unwrap_or(true)),
    }
    .insert(&txn)
    .await?;
    audit::record_by(
        &txn,
        p,
        "evaluation.rule.create",
        "eval_rule",
        &m.id.to_string(),
        None,
        serde_json::to_value(RuleView::from(&m)).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(m)
}

/// Edits a rule's parameters or switches it on or off (analysts, admins). Audited.
pub async fn update_rule(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    id: i64,
    patch: &RulePatch,
) -> Result<rule::Model> {
    p.require(Capability::EditFrameworks)?;
    let before = get_rule(db, p, framework_id, id).await?;
    let test = RuleTest::parse(
        &before.kind,
        patch.min.unwrap_or(before.min),
        patch.max.unwrap_or(before.max),
        patch.threshold.unwrap_or(before.threshold),
    )?;
    let (min, max, threshold) = test.columns();
    let mut am = before.clone().into_active_model();
    am.min = Set(min);
    am.max = Set(max);
    am.threshold = Set(threshold);
    if let Some(a) = patch.active {
        am.active = Set(a);
    }
    let txn = db.begin_write().await?;
    let after = am.update(&txn).await?;
    audit::record_by(
        &txn,
        p,
        "evaluation.rule.update",
        "eval_rule",
        &id.to_string(),
        serde_json::to_value(RuleView::from(&before)).ok(),
        serde_json::to_value(RuleView::from(&after)).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Deletes a rule (analysts, admins). Audited with the rule as it was.
pub async fn delete_rule(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    id: i64,
) -> Result<()> {
    p.require(Capability::EditFrameworks)?;
    let before = get_rule(db, p, framework_id, id).await?;
    let txn = db.begin_write().await?;
    rule::Entity::delete_by_id((p.city_id, id))
        .exec(&txn)
        .await?;
    audit::record_by(
        &txn,
        p,
        "evaluation.rule.delete",
        "eval_rule",
        &id.to_string(),
        serde_json::to_value(RuleView::from(&before)).ok(),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        kind: &str,
        min: Option<f64>,
        max: Option<f64>,
        threshold: Option<f64>,
    ) -> Result<RuleTest> {
        RuleTest::parse(kind, min, max, threshold)
    }

    #[test]
    fn parameters_are_checked_against_the_kind() {
        assert!(parse("range", Some(0.0), Some(100.0), None).is_ok());
        assert!(parse("range", None, Some(5.0), None).is_ok());
        assert!(parse("range", None, None, None).is_err());
        assert!(parse("range", Some(5.0), Some(5.0), None).is_err());
        assert!(parse("range", Some(0.0), None, Some(3.0)).is_err());
        assert!(parse("yoy", None, None, Some(30.0)).is_ok());
        assert!(parse("yoy", None, None, Some(0.0)).is_err());
        assert!(parse("zscore", None, None, None).is_err());
        assert!(parse("zscore", Some(1.0), None, Some(3.0)).is_err());
        assert!(parse("zscore", None, None, Some(f64::NAN)).is_err());
        match parse("ratio", None, None, Some(1.0)) {
            Err(EvalError::Invalid { field, .. }) => assert_eq!(field, "kind"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn patch_tells_absent_from_null() {
        let p: RulePatch = serde_json::from_str(r#"{"min": null, "max": 5}"#).unwrap();
        assert_eq!(p.min, Some(None));
        assert_eq!(p.max, Some(Some(5.0)));
        assert_eq!(p.threshold, None);
        assert_eq!(p.active, None);
    }
}
