//! Store functions: frameworks and passports, values with their approval workflow, validation
//! rules, completeness, imports and feeds. The city and the caller's region scope come from the
//! principal and are applied in every query; an object outside the scope is "not found".

use crate::catalog::{self, Catalogue};
use crate::entity::{framework, node, rule, value};
use chrono::Utc;
use qcity_platform::audit::{self, Actor};
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::db::BeginWrite;
use qcity_platform::ids::new_id;
use qcity_platform::web::AppError;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Errors of the evaluation store.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("not permitted")]
    Forbidden,
    /// An import refused at a limit (413 / 422 problem+json naming the limit).
    #[error("{0}")]
    Upload(qcity_platform::upload::UploadError),
}

impl EvalError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        EvalError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<qcity_platform::store::StoreError> for EvalError {
    fn from(e: qcity_platform::store::StoreError) -> Self {
        use qcity_platform::store::StoreError as S;
        match e {
            S::Db(e) => EvalError::Db(e),
            S::Invalid { field, message } => EvalError::Invalid { field, message },
            S::NotFound(w) => EvalError::NotFound(w),
            S::Conflict(m) => EvalError::Conflict(m),
            S::ConflictCode { detail, .. } => EvalError::Conflict(detail),
        }
    }
}

impl From<qcity_platform::auth::Forbidden> for EvalError {
    fn from(_: qcity_platform::auth::Forbidden) -> Self {
        EvalError::Forbidden
    }
}

impl From<EvalError> for AppError {
    fn from(e: EvalError) -> Self {
        match e {
            EvalError::Db(e) => AppError::internal(e),
            EvalError::NotFound(w) => AppError::NotFound(w),
            EvalError::Invalid { field, message } => AppError::Validation { field, message },
            EvalError::Conflict(m) => AppError::Conflict(m),
            EvalError::Forbidden => AppError::Forbidden,
            EvalError::Upload(u) => AppError::Upload(u),
        }
    }
}

pub type Result<T> = std::result::Result<T, EvalError>;

pub const DRAFT: &str = "draft";
pub const SUBMITTED: &str = "submitted";
pub const APPROVED: &str = "approved";
pub const PUBLISHED: &str = "published";
pub const STATUSES: [&str; 4] = [DRAFT, SUBMITTED, APPROVED, PUBLISHED];

fn actor_json<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

// ---------------------------------------------------------------- frameworks

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
        return Err(EvalError::Conflict(format!(
            "framework {} is already installed",
            cat.code
        )));
    }
    let txn = db.begin_write().await?;
    let fw = insert_catalogue(&txn, city_id, &cat).await?;
    audit::record(
        &txn,
        city_id,
        actor,
        "install",
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
    audit::record(
        &txn,
        p.city_id,
        &Actor::from(p),
        "update",
        "eval_indicator",
        &format!("{framework_id}/{code}"),
        actor_json(&NodeView::from(&before)),
        actor_json(&NodeView::from(&after)),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------- values

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

/// A warning of a validation rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Warning {
    /// `range`, `yoy` or `zscore`.
    pub rule: String,
    pub indicator: String,
    pub region_code: String,
    pub year: i32,
    pub message: String,
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
                return Err(EvalError::Conflict(format!(
                    "value {} of {} {} {} is {}; only drafts can be edited",
                    old.id, v.indicator, v.region_code, v.year, old.status
                )));
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
            audit::record(
                db,
                p.city_id,
                &Actor::from(p),
                "update",
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
            audit::record(
                db,
                p.city_id,
                &Actor::from(p),
                "create",
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

/// The warnings the active rules give for a value: range, year-on-year change against the
/// previous year of the same region, and z-score against the other regions of the same level
/// in the same year (needs three or more).
pub async fn check_value(
    db: &impl ConnectionTrait,
    city_id: i64,
    v: &value::Model,
) -> Result<Vec<Warning>> {
    let rules = rule::Entity::find()
        .filter(rule::Column::CityId.eq(city_id))
        .filter(rule::Column::FrameworkId.eq(v.framework_id))
        .filter(rule::Column::Active.eq(true))
        .all(db)
        .await?;
    let mut out = Vec::new();
    let w = |rule: &str, message: String| Warning {
        rule: rule.into(),
        indicator: v.indicator_code.clone(),
        region_code: v.region_code.clone(),
        year: v.year,
        message,
    };
    let applies =
        |r: &rule::Model| r.indicator_code.is_empty() || r.indicator_code == v.indicator_code;
    let mut peers: Option<Vec<value::Model>> = None;
    for r in rules.iter().filter(|r| applies(r)) {
        match r.kind.as_str() {
            "range" if r.min.is_some_and(|m| v.value < m) || r.max.is_some_and(|m| v.value > m) => {
                out.push(w(
                    "range",
                    format!(
                        "{} outside the allowed range [{}, {}]",
                        v.value,
                        r.min.map(|x| x.to_string()).unwrap_or_else(|| "−∞".into()),
                        r.max.map(|x| x.to_string()).unwrap_or_else(|| "∞".into())
                    ),
                ));
            }
            "yoy" => {
                let Some(th) = r.threshold else { continue };
                let prev = value::Entity::find()
                    .filter(value::Column::CityId.eq(city_id))
                    .filter(value::Column::FrameworkId.eq(v.framework_id))
                    .filter(value::Column::IndicatorCode.eq(&v.indicator_code))
                    .filter(value::Column::RegionCode.eq(&v.region_code))
                    .filter(value::Column::Year.eq(v.year - 1))
                    .one(db)
                    .await?;
                if let Some(prev) = prev.filter(|p| p.value != 0.0) {
                    let ch = (v.value - prev.value) / prev.value.abs() * 100.0;
                    if ch.abs() > th {
                        out.push(w(
                            "yoy",
                            format!(
                                "changed {ch:+.1}% from {} in {} (limit ±{th}%)",
                                prev.value,
                                v.year - 1
                            ),
                        ));
                    }
                }
            }
            "zscore" => {
                let Some(th) = r.threshold else { continue };
                if peers.is_none() {
                    peers = Some(
                        value::Entity::find()
                            .filter(value::Column::CityId.eq(city_id))
                            .filter(value::Column::FrameworkId.eq(v.framework_id))
                            .filter(value::Column::IndicatorCode.eq(&v.indicator_code))
                            .filter(value::Column::Year.eq(v.year))
                            .all(db)
                            .await?,
                    );
                }
                let others: Vec<f64> = peers
                    .as_ref()
                    .map(|ps| {
                        ps.iter()
                            .filter(|o| o.id != v.id && o.region_code.len() == v.region_code.len())
                            .map(|o| o.value)
                            .collect()
                    })
                    .unwrap_or_default();
                if others.len() >= 3 {
                    let n = others.len() as f64;
                    let mean = others.iter().sum::<f64>() / n;
                    let sd =
                        (others.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                    if sd > 0.0 {
                        let z = (v.value - mean) / sd;
                        if z.abs() > th {
                            out.push(w("zscore", format!(
                                "z = {z:.2} against the other regions (mean {mean:.2}, sd {sd:.2}; limit {th})"
                            )));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

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
        return Err(EvalError::Conflict(format!(
            "cannot {} a value that is {} (needs {})",
            action.as_str(),
            old.status,
            from.join(" or ")
        )));
    }
    let warnings = check_value(db, p.city_id, &old).await?;
    if action == Action::Submit && !warnings.is_empty() && !acknowledge {
        return Err(EvalError::Conflict(format!(
            "validation warnings must be acknowledged before submitting: {}",
            warnings
                .iter()
                .map(|w| format!("[{}] {}", w.rule, w.message))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let mut am = old.clone().into_active_model();
    am.status = Set(to.into());
    if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
        am.note = Set(n.trim().into());
    }
    am.updated_by = Set(p.actor_name());
    am.updated_at = Set(Utc::now());
    let new = am.update(db).await?;
    audit::record(
        db,
        p.city_id,
        &Actor::from(p),
        action.as_str(),
        "eval_value",
        &id.to_string(),
        actor_json(&ValueView::from(&old)),
        actor_json(&ValueView::from(&new)),
    )
    .await?;
    Ok((new, warnings))
}

// ---------------------------------------------------------------- completeness

/// Completeness of a framework's indicators for one year over the regions in scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Completeness {
    pub framework_id: i64,
    pub year: i32,
    pub regions: Vec<String>,
    pub indicators: Vec<String>,
    /// `cells[i][r]`: status of indicator i in region r (`null` = missing).
    pub cells: Vec<Vec<Option<String>>>,
    /// Share of cells with any value, per indicator (0–1).
    pub by_indicator: Vec<f64>,
    /// Share of cells with any value, per region (0–1).
    pub by_region: Vec<f64>,
    /// Share of all cells with a value, and with a published value.
    pub overall: f64,
    pub published: f64,
}

/// The completeness matrix for the given regions (all districts in scope when empty).
pub async fn completeness(
    db: &impl ConnectionTrait,
    p: &Principal,
    framework_id: i64,
    year: i32,
    regions: &[String],
) -> Result<Completeness> {
    get_framework(db, p.city_id, framework_id).await?;
    let regions: Vec<String> = if regions.is_empty() {
        scoped_districts(db, p)
            .await?
            .into_iter()
            .map(|r| r.code)
            .collect()
    } else {
        regions
            .iter()
            .filter(|r| p.scope.contains(p.city_id, r))
            .cloned()
            .collect()
    };
    let inds: Vec<String> = nodes(db, p.city_id, framework_id)
        .await?
        .into_iter()
        .filter(|n| n.level == 1)
        .map(|n| n.code)
        .collect();
    let vals = list_values(
        db,
        p,
        &ValueFilter {
            framework_id: Some(framework_id),
            year: Some(year),
            ..Default::default()
        },
    )
    .await?;
    let map: BTreeMap<(&str, &str), &str> = vals
        .iter()
        .map(|v| {
            (
                (v.indicator_code.as_str(), v.region_code.as_str()),
                v.status.as_str(),
            )
        })
        .collect();
    let cells: Vec<Vec<Option<String>>> = inds
        .iter()
        .map(|i| {
            regions
                .iter()
                .map(|r| map.get(&(i.as_str(), r.as_str())).map(|s| s.to_string()))
                .collect()
        })
        .collect();
    let share = |xs: &mut dyn Iterator<Item = bool>| {
        let (n, k) = xs.fold((0usize, 0usize), |(n, k), b| (n + 1, k + usize::from(b)));
        if n == 0 { 0.0 } else { k as f64 / n as f64 }
    };
    let by_indicator = cells
        .iter()
        .map(|row| share(&mut row.iter().map(|c| c.is_some())))
        .collect();
    let by_region = (0..regions.len())
        .map(|r| share(&mut cells.iter().map(|row| row[r].is_some())))
        .collect();
    let overall = share(&mut cells.iter().flatten().map(|c| c.is_some()));
    let published = share(
        &mut cells
            .iter()
            .flatten()
            .map(|c| c.as_deref() == Some(PUBLISHED)),
    );
    Ok(Completeness {
        framework_id,
        year,
        regions,
        indicators: inds,
        cells,
        by_indicator,
        by_region,
        overall,
        published,
    })
}

/// District-level regions in the principal's scope (the district itself for a district
/// officer).
pub async fn scoped_districts(
    db: &impl ConnectionTrait,
    p: &Principal,
) -> Result<Vec<qcity_platform::entity::region::Model>> {
    Ok(qcity_platform::store::regions::list_visible(db, &p.scope)
        .await?
        .into_iter()
        .filter(|r| r.level == "district")
        .collect())
}

/// Regions a value may be entered for: the city (if in scope) and the districts in scope.
pub async fn entry_regions(
    db: &impl ConnectionTrait,
    p: &Principal,
) -> Result<Vec<qcity_platform::entity::region::Model>> {
    Ok(qcity_platform::store::regions::list_visible(db, &p.scope)
        .await?
        .into_iter()
        .filter(|r| r.level == "district" || r.level == "city")
        .collect())
}

// ---------------------------------------------------------------- feeds

/// What a feed pull did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct FeedReport {
    pub year: i32,
    /// Values saved, by module.
    pub saved: BTreeMap<String, usize>,
    /// Values skipped (indicator not in the framework, region out of scope, value already
    /// approved or published), with the reason.
    pub skipped: Vec<String>,
}

/// Pulls the values other modules feed for a year into a framework (as submitted values with
/// their source recorded; approved or published values are left alone). One transaction.
pub async fn pull_feeds(
    db: &DatabaseConnection,
    modules: &[std::sync::Arc<dyn qcity_platform::Module>],
    p: &Principal,
    framework_id: i64,
    year: i32,
) -> Result<FeedReport> {
    p.require(Capability::ApproveData)?;
    let ns = nodes(db, p.city_id, framework_id).await?;
    let conn = db.begin_write().await?;
    let mut rep = FeedReport {
        year,
        ..Default::default()
    };
    for m in modules {
        let fed = match m.indicator_feed(db, p.city_id, year).await {
            Ok(f) => f,
            Err(e) => {
                rep.skipped.push(format!("{}: feed failed: {e}", m.name()));
                continue;
            }
        };
        for f in fed {
            if !ns.iter().any(|n| n.level == 1 && n.code == f.indicator) {
                rep.skipped.push(format!(
                    "{} {} {}: not in this framework",
                    f.indicator, f.region_code, f.year
                ));
                continue;
            }
            if !p.scope.contains(p.city_id, &f.region_code) || f.year != year {
                rep.skipped.push(format!(
                    "{} {} {}: region or year out of scope",
                    f.indicator, f.region_code, f.year
                ));
                continue;
            }
            let existing = value::Entity::find()
                .filter(value::Column::CityId.eq(p.city_id))
                .filter(value::Column::FrameworkId.eq(framework_id))
                .filter(value::Column::IndicatorCode.eq(&f.indicator))
                .filter(value::Column::RegionCode.eq(&f.region_code))
                .filter(value::Column::Year.eq(f.year))
                .one(&conn)
                .await?;
            if existing
                .as_ref()
                .is_some_and(|e| e.status == APPROVED || e.status == PUBLISHED)
            {
                rep.skipped.push(format!(
                    "{} {} {}: already {}",
                    f.indicator,
                    f.region_code,
                    f.year,
                    existing.map(|e| e.status).unwrap_or_default()
                ));
                continue;
            }
            let input = ValueInput {
                framework_id,
                indicator: f.indicator.clone(),
                region_code: f.region_code.clone(),
                year: f.year,
                value: Some(f.value),
                numerator: None,
                denominator: None,
                source: f.source.clone(),
                note: String::new(),
            };
            let (saved, _) = save_value(&conn, p, &input, &format!("feed:{}", m.name())).await?;
            let mut am = saved.into_active_model();
            am.status = Set(SUBMITTED.into());
            am.update(&conn).await?;
            *rep.saved.entry(m.name().to_string()).or_default() += 1;
        }
    }
    conn.commit().await?;
    Ok(rep)
}
