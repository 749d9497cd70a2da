//! Structure editing of an installed framework (指标体系结构调整): add a dimension or an
//! indicator under a parent, edit a node's names, weight and direction, move it to another
//! parent, delete a subtree (with its validation rules), and equalise the weights of a parent's
//! children.
//!
//! The tree keeps the engine's shape: the index (level 3) → dimensions (level 2) → indicators
//! (level 1), each node's parent one level above it. A node that (or whose descendants) holds
//! data values, or that a stored index run used, cannot be deleted (409). Stored runs keep
//! their own copy of the framework, the values and the spec ([`crate::runs::RunInputs`]), so
//! editing the structure never changes a past run. Analysts and admins edit; audited as
//! `eval_node`.

use crate::entity::{node, rule, run, value};
use crate::runs::RunInputs;
use crate::store::{self, EvalError, NodeView, Result};
use qcity_platform::audit::{self};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::db::BeginWrite;
use qcity_platform::store::ConflictCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Longest node code.
pub const CODE_MAX: usize = 40;

/// A new dimension or indicator.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewNode {
    /// Code of the parent: the index for a dimension, a dimension for an indicator.
    pub parent: String,
    /// `dimension` or `indicator`.
    pub kind: String,
    /// Unique within the framework: letters, digits, `-`, `_` or `.`, at most 40.
    pub code: String,
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    /// +1 higher is better (default), −1 lower is better.
    pub direction: Option<i32>,
    /// Default 1.
    pub weight: Option<f64>,
    #[serde(default)]
    pub definition_zh: String,
    #[serde(default)]
    pub definition_en: String,
    #[serde(default)]
    pub unit: String,
    pub band_low: Option<f64>,
    pub band_high: Option<f64>,
    #[serde(default)]
    pub source_zh: String,
    #[serde(default)]
    pub source_en: String,
    #[serde(default)]
    pub department: String,
    /// `raw` (default) or `ratio`.
    pub computation: Option<String>,
    #[serde(default)]
    pub numerator: String,
    #[serde(default)]
    pub denominator: String,
    /// Default 1.
    pub factor: Option<f64>,
    pub target: Option<f64>,
    pub target_year: Option<i32>,
}

/// Changes to a node's structure fields; a field left out is kept.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NodePatch {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub weight: Option<f64>,
    pub direction: Option<i32>,
    /// Move under this parent (same level rule as on creation; no cycles).
    pub parent: Option<String>,
}

/// Whether a parent's children's weights sum to 1.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WeightSum {
    pub parent: String,
    pub children: usize,
    pub sum: f64,
    /// |sum − 1| ≤ 1e-6.
    pub sums_to_one: bool,
}

/// The tree with the weight sums per parent.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeTree {
    /// Nodes in tree order.
    pub nodes: Vec<NodeView>,
    /// One entry per node that has children.
    pub weights: Vec<WeightSum>,
}

/// What a delete removed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The node and its descendants.
    pub nodes: Vec<String>,
    /// Validation rules of those indicators that were removed with them.
    pub rules: usize,
}

/// A unique or foreign-key violation (a concurrent change got there first) as a conflict.
fn constraint_conflict(e: sea_orm::DbErr, message: &str) -> EvalError {
    match e.sql_err() {
        Some(
            sea_orm::SqlErr::UniqueConstraintViolation(_)
            | sea_orm::SqlErr::ForeignKeyConstraintViolation(_),
        ) => EvalError::conflict(ConflictCode::Conflict, message.to_string()),
        _ => EvalError::Db(e),
    }
}

/// Checks a node code's shape.
pub fn parse_code(s: &str) -> Result<String> {
    let c = s.trim();
    if c.is_empty() {
        return Err(EvalError::invalid("code", "is required"));
    }
    if c.chars().count() > CODE_MAX {
        return Err(EvalError::invalid(
            "code",
            format!("at most {CODE_MAX} characters"),
        ));
    }
    let ok_first = c
        .chars()
        .next()
        .is_some_and(|ch| ch.is_ascii_alphanumeric());
    if !ok_first
        || !c
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
    {
        return Err(EvalError::invalid(
            "code",
            format!("`{c}`: use letters, digits, `-`, `_` or `.`, starting with a letter or digit"),
        ));
    }
    Ok(c.to_string())
}

fn check_direction(d: i32) -> Result<()> {
    if d == 1 || d == -1 {
        Ok(())
    } else {
        Err(EvalError::invalid("direction", "must be 1 or -1"))
    }
}

fn check_weight(w: f64) -> Result<()> {
    if w.is_finite() && w >= 0.0 {
        Ok(())
    } else {
        Err(EvalError::invalid("weight", "must be a number ≥ 0"))
    }
}

fn check_name_zh(s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(EvalError::invalid("name_zh", "must not be empty"));
    }
    Ok(t.to_string())
}

/// Weight sums of every parent's children.
pub fn weight_sums(nodes: &[node::Model]) -> Vec<WeightSum> {
    let mut out = Vec::new();
    for n in nodes {
        let kids: Vec<&node::Model> = nodes
            .iter()
            .filter(|c| c.parent_code.as_deref() == Some(n.code.as_str()))
            .collect();
        if kids.is_empty() {
            continue;
        }
        let sum: f64 = kids.iter().map(|c| c.weight).sum();
        out.push(WeightSum {
            parent: n.code.clone(),
            children: kids.len(),
            sum: (sum * 1e9).round() / 1e9,
            sums_to_one: (sum - 1.0).abs() <= 1e-6,
        });
    }
    out
}

/// The tree of a framework with its weight sums.
pub async fn tree(db: &DatabaseConnection, p: &Principal, framework_id: i64) -> Result<NodeTree> {
    store::get_framework(db, p.city_id, framework_id).await?;
    let ns = store::nodes(db, p.city_id, framework_id).await?;
    Ok(NodeTree {
        weights: weight_sums(&ns),
        nodes: ns.iter().map(NodeView::from).collect(),
    })
}

/// One node of a framework.
pub async fn get_node(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    code: &str,
) -> Result<node::Model> {
    store::get_framework(db, p.city_id, framework_id).await?;
    node::Entity::find_by_id((p.city_id, framework_id, code.to_string()))
        .one(db)
        .await?
        .ok_or_else(|| EvalError::NotFound(format!("node {code}")))
}

/// The level a child of `parent` has, or the reason it cannot have one.
fn child_level(parent: &node::Model, kind: &str) -> Result<i32> {
    if parent.level == 1 {
        return Err(EvalError::invalid(
            "parent",
            format!(
                "`{}` is an indicator; an indicator cannot take children",
                parent.code
            ),
        ));
    }
    let want = match kind {
        "dimension" => 2,
        "indicator" => 1,
        other => {
            return Err(EvalError::invalid(
                "kind",
                format!("unknown kind `{other}` (expected dimension or indicator)"),
            ));
        }
    };
    if parent.level != want + 1 {
        let what = |level: i32| {
            if level >= 3 {
                "the index"
            } else {
                "a dimension"
            }
        };
        return Err(EvalError::invalid(
            "parent",
            format!(
                "{} goes under {} (`{}` is {})",
                if want == 2 {
                    "a dimension"
                } else {
                    "an indicator"
                },
                what(want + 1),
                parent.code,
                what(parent.level)
            ),
        ));
    }
    Ok(want)
}

/// Codes of `code` and all its descendants.
fn subtree(all: &[node::Model], code: &str) -> Vec<String> {
    let mut out = vec![code.to_string()];
    let mut k = 0;
    while k < out.len() {
        let cur = out[k].clone();
        for n in all
            .iter()
            .filter(|n| n.parent_code.as_deref() == Some(cur.as_str()))
        {
            if !out.contains(&n.code) {
                out.push(n.code.clone());
            }
        }
        k += 1;
    }
    out
}

/// Adds a dimension or an indicator (analysts, admins). Audited.
pub async fn create_node(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    n: &NewNode,
) -> Result<node::Model> {
    p.require(Capability::EditFrameworks)?;
    store::get_framework(db, p.city_id, framework_id).await?;
    let code = parse_code(&n.code)?;
    let name_zh = check_name_zh(&n.name_zh)?;
    let direction = n.direction.unwrap_or(1);
    check_direction(direction)?;
    let weight = n.weight.unwrap_or(1.0);
    check_weight(weight)?;
    let computation = n
        .computation
        .clone()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| "raw".into());
    if computation != "raw" && computation != "ratio" {
        return Err(EvalError::invalid(
            "computation",
            "must be `raw` or `ratio`",
        ));
    }
    let factor = n.factor.unwrap_or(1.0);
    if !factor.is_finite() || factor == 0.0 {
        return Err(EvalError::invalid("factor", "must be a non-zero number"));
    }
    for (f, v) in [
        ("band_low", n.band_low),
        ("band_high", n.band_high),
        ("target", n.target),
    ] {
        if v.is_some_and(|x| !x.is_finite()) {
            return Err(EvalError::invalid(f, "must be a finite number"));
        }
    }
    if let (Some(lo), Some(hi)) = (n.band_low, n.band_high)
        && lo >= hi
    {
        return Err(EvalError::invalid(
            "band_high",
            "the band's high end must exceed its low end",
        ));
    }
    if let Some(y) = n.target_year
        && !(1990..=2100).contains(&y)
    {
        return Err(EvalError::invalid(
            "target_year",
            format!("{y} is not a plausible year"),
        ));
    }
    let all = store::nodes(db, p.city_id, framework_id).await?;
    if all.iter().any(|x| x.code.eq_ignore_ascii_case(&code)) {
        return Err(EvalError::conflict(
            ConflictCode::Conflict,
            format!("code: `{code}` is already used in this framework"),
        ));
    }
    let parent_code = n.parent.trim();
    let parent = all.iter().find(|x| x.code == parent_code).ok_or_else(|| {
        EvalError::invalid(
            "parent",
            format!("`{parent_code}` is not a node of this framework"),
        )
    })?;
    let level = child_level(parent, n.kind.trim())?;
    let position = all.iter().map(|x| x.position).max().unwrap_or(0) + 1;
    let txn = db.begin_write().await?;
    let m = node::ActiveModel {
        city_id: Set(p.city_id),
        framework_id: Set(framework_id),
        code: Set(code.clone()),
        parent_code: Set(Some(parent.code.clone())),
        level: Set(level),
        kind: Set(if level == 1 { "indicator" } else { "dimension" }.into()),
        position: Set(position),
        name_zh: Set(name_zh),
        name_en: Set(n.name_en.trim().into()),
        definition_zh: Set(n.definition_zh.trim().into()),
        definition_en: Set(n.definition_en.trim().into()),
        unit: Set(n.unit.trim().into()),
        direction: Set(direction),
        band_low: Set(n.band_low),
        band_high: Set(n.band_high),
        source_zh: Set(n.source_zh.trim().into()),
        source_en: Set(n.source_en.trim().into()),
        department: Set(n.department.trim().into()),
        computation: Set(computation),
        numerator: Set(n.numerator.trim().into()),
        denominator: Set(n.denominator.trim().into()),
        factor: Set(factor),
        target: Set(n.target),
        target_year: Set(n.target_year),
        weight: Set(weight),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        constraint_conflict(
            e,
            &format!("code: `{code}` is already used in this framework"),
        )
    })?;
    audit::record_by(
        &txn,
        p,
        "evaluation.node.create",
        "eval_node",
        &format!("{framework_id}/{code}"),
        None,
        serde_json::to_value(NodeView::from(&m)).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(m)
}

/// Edits a node's names, weight or direction, or moves it under another parent (analysts,
/// admins). Audited with the node before and after.
pub async fn update_node(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    code: &str,
    patch: &NodePatch,
) -> Result<node::Model> {
    p.require(Capability::EditFrameworks)?;
    let before = get_node(db, p, framework_id, code).await?;
    let mut am = before.clone().into_active_model();
    if let Some(v) = &patch.name_zh {
        am.name_zh = Set(check_name_zh(v)?);
    }
    if let Some(v) = &patch.name_en {
        am.name_en = Set(v.trim().into());
    }
    if let Some(w) = patch.weight {
        check_weight(w)?;
        am.weight = Set(w);
    }
    if let Some(d) = patch.direction {
        check_direction(d)?;
        am.direction = Set(d);
    }
    if let Some(to) = patch
        .parent
        .as_deref()
        .map(str::trim)
        .filter(|t| before.parent_code.as_deref() != Some(*t))
    {
        if before.parent_code.is_none() {
            return Err(EvalError::invalid(
                "parent",
                "the index is the top of the framework and cannot be moved",
            ));
        }
        let all = store::nodes(db, p.city_id, framework_id).await?;
        let target = all.iter().find(|x| x.code == to).ok_or_else(|| {
            EvalError::invalid("parent", format!("`{to}` is not a node of this framework"))
        })?;
        if subtree(&all, &before.code).iter().any(|c| c == to) {
            return Err(EvalError::invalid(
                "parent",
                format!(
                    "moving `{}` under `{to}` would make a cycle (`{to}` is `{}` or below it)",
                    before.code, before.code
                ),
            ));
        }
        child_level(target, &before.kind)?;
        am.parent_code = Set(Some(target.code.clone()));
        // last among its new siblings
        am.position = Set(all.iter().map(|x| x.position).max().unwrap_or(0) + 1);
    }
    let txn = db.begin_write().await?;
    let after = am.update(&txn).await?;
    audit::record_by(
        &txn,
        p,
        if after.parent_code != before.parent_code {
            "evaluation.node.move"
        } else {
            "evaluation.node.update"
        },
        "eval_node",
        &format!("{framework_id}/{code}"),
        serde_json::to_value(NodeView::from(&before)).ok(),
        serde_json::to_value(NodeView::from(&after)).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Deletes a node with its subtree and their rules (analysts, admins). Refused (409) for the
/// index, and when the subtree holds data values (any region, any status) or a stored index
/// run used any of its nodes. Audited with what was removed.
pub async fn delete_node(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    code: &str,
) -> Result<Deleted> {
    p.require(Capability::EditFrameworks)?;
    let target = get_node(db, p, framework_id, code).await?;
    if target.parent_code.is_none() {
        return Err(EvalError::conflict(
            ConflictCode::Conflict,
            format!("`{code}` is the index (top of the framework) and cannot be deleted"),
        ));
    }
    let all = store::nodes(db, p.city_id, framework_id).await?;
    let codes = subtree(&all, code);
    let n_values = value::Entity::find()
        .filter(value::Column::CityId.eq(p.city_id))
        .filter(value::Column::FrameworkId.eq(framework_id))
        .filter(value::Column::IndicatorCode.is_in(codes.clone()))
        .count(db)
        .await?;
    if n_values > 0 {
        return Err(EvalError::conflict(
            ConflictCode::Conflict,
            format!(
                "`{code}` cannot be deleted: it{} holds {n_values} data value(s); keep it, or move its indicators elsewhere",
                if codes.len() > 1 {
                    " or a node below it"
                } else {
                    ""
                }
            ),
        ));
    }
    let set: BTreeSet<&str> = codes.iter().map(String::as_str).collect();
    let mut used_by = Vec::new();
    for r in run::Entity::find()
        .filter(run::Column::CityId.eq(p.city_id))
        .filter(run::Column::FrameworkId.eq(framework_id))
        .all(db)
        .await?
    {
        // a run whose stored inputs cannot be read is treated as using every node
        let uses = serde_json::from_str::<RunInputs>(&r.inputs)
            .map(|i| i.nodes.iter().any(|n| set.contains(n.code.as_str())))
            .unwrap_or(true);
        if uses {
            used_by.push(format!("\"{}\" ({})", r.name, r.id));
        }
    }
    if !used_by.is_empty() {
        return Err(EvalError::conflict(
            ConflictCode::Conflict,
            format!(
                "`{code}` cannot be deleted: stored index run(s) {} used it; runs keep their framework, so the node stays",
                used_by.join(", ")
            ),
        ));
    }
    let removed: Vec<NodeView> = all
        .iter()
        .filter(|n| set.contains(n.code.as_str()))
        .map(NodeView::from)
        .collect();
    let txn = db.begin_write().await?;
    let rules = rule::Entity::delete_many()
        .filter(rule::Column::CityId.eq(p.city_id))
        .filter(rule::Column::FrameworkId.eq(framework_id))
        .filter(rule::Column::IndicatorCode.is_in(codes.clone()))
        .exec(&txn)
        .await?
        .rows_affected as usize;
    // children before parents
    for c in codes.iter().rev() {
        node::Entity::delete_by_id((p.city_id, framework_id, c.clone()))
            .exec(&txn)
            .await
            .map_err(|e| {
                constraint_conflict(
                    e,
                    &format!(
                        "`{code}` cannot be deleted: data values were entered for it meanwhile"
                    ),
                )
            })?;
    }
    audit::record_by(
        &txn,
        p,
        "evaluation.node.delete",
        "eval_node",
        &format!("{framework_id}/{code}"),
        Some(serde_json::json!({"nodes": removed, "rules_deleted": rules})),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(Deleted {
        nodes: codes,
        rules,
    })
}

/// Sets the weights of `parent`'s children to 1/n each (analysts, admins). Audited.
pub async fn equalise(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    parent: &str,
) -> Result<Vec<node::Model>> {
    p.require(Capability::EditFrameworks)?;
    get_node(db, p, framework_id, parent).await?;
    let kids: Vec<node::Model> = store::nodes(db, p.city_id, framework_id)
        .await?
        .into_iter()
        .filter(|n| n.parent_code.as_deref() == Some(parent))
        .collect();
    if kids.is_empty() {
        return Err(EvalError::invalid(
            "parent",
            format!("`{parent}` has no children to equalise"),
        ));
    }
    let w = 1.0 / kids.len() as f64;
    let txn = db.begin_write().await?;
    let mut out = Vec::new();
    for k in &kids {
        let mut am = k.clone().into_active_model();
        am.weight = Set(w);
        out.push(am.update(&txn).await?);
    }
    audit::record_by(
        &txn,
        p,
        "evaluation.node.equalise",
        "eval_node",
        &format!("{framework_id}/{parent}"),
        Some(serde_json::json!(
            kids.iter()
                .map(|k| (k.code.clone(), k.weight))
                .collect::<std::collections::BTreeMap<_, _>>()
        )),
        Some(serde_json::json!(
            out.iter()
                .map(|k| (k.code.clone(), k.weight))
                .collect::<std::collections::BTreeMap<_, _>>()
        )),
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked() {
        assert_eq!(parse_code(" CQ-NEW.1 ").ok().as_deref(), Some("CQ-NEW.1"));
        for bad in ["", "-x", "a b", "码", &"x".repeat(41)] {
            match parse_code(bad) {
                Err(EvalError::Invalid { field, .. }) => assert_eq!(field, "code", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
