//! Frameworks (指标体系) and indicator passports (指标护照): installing a catalogue
//! framework into a city, listing and reading frameworks, the tree order of their nodes, and the
//! audited passport edit.

use super::{EvalError, Result, actor_json};
use crate::catalog::{self, Catalogue};
use crate::entity::{framework, node, rule};
use chrono::Utc;
use qcity_platform::audit::{self, Actor};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::db::BeginWrite;
use qcity_platform::ids::new_id;
use qcity_platform::store::ConflictCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

/// A framework as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FrameworkView {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub description_zh: String,
    pub description_en: String,
    pub origin: String,
    pub indicators: usize,
    pub dimensions: usize,
}

/// An indicator passport / tree node as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NodeView {
    pub code: String,
    pub parent: Option<String>,
    pub level: i32,
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub definition_zh: String,
    pub definition_en: String,
    pub unit: String,
    pub direction: i32,
    pub band_low: Option<f64>,
    pub band_high: Option<f64>,
    pub source_zh: String,
    pub source_en: String,
    pub department: String,
    pub computation: String,
    pub numerator: String,
    pub denominator: String,
    pub factor: f64,
    pub target: Option<f64>,
    pub target_year: Option<i32>,
    pub weight: f64,
}

impl From<&node::Model> for NodeView {
    fn from(n: &node::Model) -> Self {
        NodeView {
            code: n.code.clone(),
            parent: n.parent_code.clone(),
            level: n.level,
            kind: n.kind.clone(),
            name_zh: n.name_zh.clone(),
            name_en: n.name_en.clone(),
            definition_zh: n.definition_zh.clone(),
            definition_en: n.definition_en.clone(),
            unit: n.unit.clone(),
            direction: n.direction,
            band_low: n.band_low,
            band_high: n.band_high,
            source_zh: n.source_zh.clone(),
            source_en: n.source_en.clone(),
            department: n.department.clone(),
            computation: n.computation.clone(),
            numerator: n.numerator.clone(),
            denominator: n.denominator.clone(),
            factor: n.factor,
            target: n.target,
            target_year: n.target_year,
            weight: n.weight,
        }
    }
}

fn kind_of(level: i32) -> &'static str {
    match level {
        1 => "indicator",
        2 => "dimension",
        _ => "index",
    }
}

/// Copies a catalogue framework into a city (editable copy). A second install of the same
/// catalogue is a conflict.
pub async fn install_catalogue(
    db: &DatabaseConnection,
    city_id: i64,
    actor: &Actor,
    key: &str,
) -> Result<framework::Model> {
    let cat = catalog::by_key(key)
        .ok_or_else(|| EvalError::invalid("catalogue", format!("unknown catalogue `{key}`")))?;
    if framework::Entity::find()
        .filter(framework::Column::CityId.eq(city_id))
        .filter(framework::Column::Code.eq(cat.code))
        .one(db)
        .await?
        .is_some()
    {
        return Err(EvalError::conflict(
            ConflictCode::Conflict,
            format!("framework {} is already installed", cat.code),
        ));
    }
    let txn = db.begin_write().await?;
    let fw = insert_catalogue(&txn, city_id, &cat).await?;
    audit::record(
        &txn,
        city_id,
        actor,
        "evaluation.framework.install",
        "eval_framework",
        &fw.id.to_string(),
        None,
        Some(serde_json::json!({"code": fw.code, "catalogue": key})),
    )
    .await?;
    txn.commit().await?;
    Ok(fw)
}

async fn insert_catalogue(
    db: &impl ConnectionTrait,
    city_id: i64,
    cat: &Catalogue,
) -> Result<framework::Model> {
    let fw = framework::ActiveModel {
        city_id: Set(city_id),
        id: Set(new_id()),
        code: Set(cat.code.into()),
        name_zh: Set(cat.name_zh.into()),
        name_en: Set(cat.name_en.into()),
        description_zh: Set(cat.description_zh.into()),
        description_en: Set(cat.description_en.into()),
        origin: Set(cat.key.into()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    // parents first (index, dimensions, indicators)
    let mut nodes = cat.nodes.clone();
    nodes.sort_by_key(|n| -n.level);
    for n in &nodes {
        let pos = cat.nodes.iter().position(|x| x.code == n.code).unwrap_or(0) as i32;
        node::ActiveModel {
            city_id: Set(city_id),
            framework_id: Set(fw.id),
            code: Set(n.code.into()),
            parent_code: Set(n.parent.map(Into::into)),
            level: Set(n.level),
            kind: Set(kind_of(n.level).into()),
            position: Set(pos),
            name_zh: Set(n.name_zh.into()),
            name_en: Set(n.name_en.into()),
            definition_zh: Set(n.definition_zh.into()),
            definition_en: Set(n.definition_en.into()),
            unit: Set(n.unit.into()),
            direction: Set(n.direction),
            band_low: Set(n.band.map(|b| b.0)),
            band_high: Set(n.band.map(|b| b.1)),
            source_zh: Set(n.source_zh.into()),
            source_en: Set(n.source_en.into()),
            department: Set(n.department.into()),
            computation: Set(n.computation.into()),
            numerator: Set(n.numerator.into()),
            denominator: Set(n.denominator.into()),
            factor: Set(n.factor),
            target: Set(n.target),
            target_year: Set(n.target_year),
            weight: Set(n.weight),
        }
        .insert(db)
        .await?;
    }
    // Default validation rules (data, editable): physical range of percentages and scores,
    // year-on-year change above 30 %, and |z| > 3 against the other regions of the year.
    let add = |code: &str, kind: &str, min: Option<f64>, max: Option<f64>, th: Option<f64>| {
        rule::ActiveModel {
            city_id: Set(city_id),
            id: Set(new_id()),
            framework_id: Set(fw.id),
            indicator_code: Set(code.into()),
            kind: Set(kind.into()),
            min: Set(min),
            max: Set(max),
            threshold: Set(th),
            active: Set(true),
        }
    };
    let mut rules = vec![
        add("", "yoy", None, None, Some(30.0)),
        add("", "zscore", None, None, Some(3.0)),
    ];
    for n in cat.nodes.iter().filter(|n| n.level == 1) {
        if n.unit == "%" || n.unit == "分" {
            rules.push(add(n.code, "range", Some(0.0), Some(100.0), None));
        } else if n.band.is_some() {
            rules.push(add(n.code, "range", Some(0.0), None, None));
        }
    }
    for r in rules {
        r.insert(db).await?;
    }
    Ok(fw)
}

/// Frameworks of the city.
pub async fn list_frameworks(
    db: &impl ConnectionTrait,
    city_id: i64,
) -> Result<Vec<FrameworkView>> {
    let fws = framework::Entity::find()
        .filter(framework::Column::CityId.eq(city_id))
        .order_by_asc(framework::Column::CreatedAt)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for f in fws {
        out.push(view_of(db, f).await?);
    }
    Ok(out)
}

/// One framework of the city as listed (404 when it is not the city's).
pub async fn framework_view(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
) -> Result<FrameworkView> {
    view_of(db, get_framework(db, city_id, id).await?).await
}

async fn view_of(db: &impl ConnectionTrait, f: framework::Model) -> Result<FrameworkView> {
    let ns = nodes(db, f.city_id, f.id).await?;
    Ok(FrameworkView {
        id: f.id,
        code: f.code,
        name_zh: f.name_zh,
        name_en: f.name_en,
        description_zh: f.description_zh,
        description_en: f.description_en,
        origin: f.origin,
        indicators: ns.iter().filter(|n| n.level == 1).count(),
        dimensions: ns.iter().filter(|n| n.level == 2).count(),
    })
}

/// One framework of the city.
pub async fn get_framework(
    db: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
) -> Result<framework::Model> {
    framework::Entity::find_by_id((city_id, id))
        .one(db)
        .await?
        .ok_or_else(|| EvalError::NotFound(format!("framework {id}")))
}

/// A framework by code.
pub async fn framework_by_code(
    db: &impl ConnectionTrait,
    city_id: i64,
    code: &str,
) -> Result<Option<framework::Model>> {
    Ok(framework::Entity::find()
        .filter(framework::Column::CityId.eq(city_id))
        .filter(framework::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// The nodes of a framework in tree order (index, then each dimension followed by its
/// indicators).
pub async fn nodes(
    db: &impl ConnectionTrait,
    city_id: i64,
    framework_id: i64,
) -> Result<Vec<node::Model>> {
    let all = node::Entity::find()
        .filter(node::Column::CityId.eq(city_id))
        .filter(node::Column::FrameworkId.eq(framework_id))
        .order_by_asc(node::Column::Position)
        .all(db)
        .await?;
    Ok(tree_order(all))
}

/// Depth-first order of nodes (by position among siblings).
pub fn tree_order(all: Vec<node::Model>) -> Vec<node::Model> {
    let mut out = Vec::with_capacity(all.len());
    fn visit(all: &[node::Model], parent: Option<&str>, out: &mut Vec<node::Model>) {
        for n in all.iter().filter(|n| n.parent_code.as_deref() == parent) {
            out.push(n.clone());
            visit(all, Some(&n.code), out);
        }
    }
    visit(&all, None, &mut out);
    // orphans (should not exist) keep their place at the end
    for n in &all {
        if !out.iter().any(|o| o.code == n.code) {
            out.push(n.clone());
        }
    }
    out
}

/// Editable passport fields.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PassportPatch {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub definition_zh: Option<String>,
    pub definition_en: Option<String>,
    pub unit: Option<String>,
    pub direction: Option<i32>,
    pub band_low: Option<Option<f64>>,
    pub band_high: Option<Option<f64>>,
    pub source_zh: Option<String>,
    pub source_en: Option<String>,
    pub department: Option<String>,
    pub computation: Option<String>,
    pub numerator: Option<String>,
    pub denominator: Option<String>,
    pub factor: Option<f64>,
    pub target: Option<Option<f64>>,
    pub target_year: Option<Option<i32>>,
    pub weight: Option<f64>,
}

/// Edits a node's passport (analysts), audited.
pub async fn update_passport(
    db: &DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    code: &str,
    patch: PassportPatch,
) -> Result<node::Model> {
    p.require(Capability::EditFrameworks)?;
    let before = node::Entity::find_by_id((p.city_id, framework_id, code.to_string()))
        .one(db)
        .await?
        .ok_or_else(|| EvalError::NotFound(format!("indicator {code}")))?;
    let mut am = before.clone().into_active_model();
    if let Some(v) = patch.name_zh {
        if v.trim().is_empty() {
            return Err(EvalError::invalid("name_zh", "must not be empty"));
        }
        am.name_zh = Set(v.trim().into());
    }
    macro_rules! set {
        ($f:ident) => {
            if let Some(v) = patch.$f {
                am.$f = Set(v);
            }
        };
    }
    set!(name_en);
    set!(definition_zh);
    set!(definition_en);
    set!(unit);
    set!(source_zh);
    set!(source_en);
    set!(department);
    set!(numerator);
    set!(denominator);
    set!(band_low);
    set!(band_high);
    set!(target);
    set!(target_year);
    if let Some(d) = patch.direction {
        if d != 1 && d != -1 {
            return Err(EvalError::invalid("direction", "must be 1 or -1"));
        }
        am.direction = Set(d);
    }
    if let Some(c) = patch.computation {
        if c != "raw" && c != "ratio" {
            return Err(EvalError::invalid(
                "computation",
                "must be `raw` or `ratio`",
            ));
        }
        am.computation = Set(c);
    }
    if let Some(f) = patch.factor {
        if !f.is_finite() || f == 0.0 {
            return Err(EvalError::invalid("factor", "must be a non-zero number"));
        }
        am.factor = Set(f);
    }
    if let Some(w) = patch.weight {
        if !w.is_finite() || w < 0.0 {
            return Err(EvalError::invalid("weight", "must be a number ≥ 0"));
        }
        am.weight = Set(w);
    }
    if let (
        sea_orm::ActiveValue::Set(Some(lo)) | sea_orm::ActiveValue::Unchanged(Some(lo)),
        sea_orm::ActiveValue::Set(Some(hi)) | sea_orm::ActiveValue::Unchanged(Some(hi)),
    ) = (&am.band_low, &am.band_high)
        && lo >= hi
    {
        return Err(EvalError::invalid(
            "band_high",
            "the band's high end must exceed its low end",
        ));
    }
    let txn = db.begin_write().await?;
    let after = am.update(&txn).await?;
    audit::record_by(
        &txn,
        p,
        "evaluation.indicator.update",
        "eval_indicator",
        &format!("{framework_id}/{code}"),
        actor_json(&NodeView::from(&before)),
        actor_json(&NodeView::from(&after)),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
