//! Report versions: assembling a snapshot from every module's sections, the narrative with the
//! analyst's edits, and the workflow draft → review → published (immutable once published).

use crate::entity::report_version::{self as rv, Entity as Rv};
use crate::narrative::{self, GeneratedBlock};
use chrono::{DateTime, Utc};
use qcity_platform::Module;
use qcity_platform::audit::{self, Actor};
use qcity_platform::db::BeginWrite;
use qcity_platform::feeds::{OpenDataset, PublicLink, ReportSection};
use qcity_platform::ids;
use qcity_platform::store::ConflictCode;
use qcity_platform::store::StoreError;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The first and last year a report may be made for.
pub const YEAR_RANGE: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Workflow state of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 草稿: analysts edit.
    Draft,
    /// 待审核: submitted, waiting for a publisher.
    Review,
    /// 已发布: public and immutable.
    Published,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Review => "review",
            Status::Published => "published",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "draft" => Some(Status::Draft),
            "review" => Some(Status::Review),
            "published" => Some(Status::Published),
            _ => None,
        }
    }
}

/// A workflow step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// draft → review (needs `EditReports`).
    Submit,
    /// review → draft (needs `EditReports`).
    Return,
    /// review → published (needs `PublishReports`).
    Publish,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "submit" => Some(Action::Submit),
            "return" => Some(Action::Return),
            "publish" => Some(Action::Publish),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Return => "return",
            Action::Publish => "publish",
        }
    }
}

/// The data of a report version, assembled from every module's `report_sections`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    pub city_code: String,
    pub city_name_zh: String,
    pub city_name_en: String,
    pub year: i32,
    pub assembled_at: DateTime<Utc>,
    pub sections: Vec<ReportSection>,
    /// Modules whose sections could not be read (their error is logged).
    #[serde(default)]
    pub unavailable: Vec<String>,
}

/// One narrative block of a version: the generated text and the analyst's version of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NarrativeBlock {
    pub key: String,
    pub generated_zh: String,
    pub generated_en: String,
    /// The text the report shows (the analyst's edit or the generated text).
    pub text_zh: String,
    pub text_en: String,
    pub edited: bool,
    /// Hash of the figures the text was written from.
    pub data_hash: String,
    /// The data behind an edited block changed at the last regeneration: the edit was set
    /// aside (kept in `previous_*`) and the analyst must look again.
    #[serde(default)]
    pub stale: bool,
    #[serde(default)]
    pub previous_zh: Option<String>,
    #[serde(default)]
    pub previous_en: Option<String>,
}

impl NarrativeBlock {
    fn fresh(g: GeneratedBlock) -> Self {
        Self {
            key: g.key,
            text_zh: g.zh.clone(),
            text_en: g.en.clone(),
            generated_zh: g.zh,
            generated_en: g.en,
            edited: false,
            data_hash: g.data_hash,
            stale: false,
            previous_zh: None,
            previous_en: None,
        }
    }
    pub fn text(&self, en: bool) -> &str {
        if en { &self.text_en } else { &self.text_zh }
    }
}

/// Combines freshly generated blocks with the analyst's edits: an edit is kept while the
/// figures behind it are unchanged; otherwise the new text replaces it, the edit is kept aside
/// and the block is marked stale.
pub fn merge_narrative(
    old: &[NarrativeBlock],
    generated: Vec<GeneratedBlock>,
) -> Vec<NarrativeBlock> {
    generated
        .into_iter()
        .map(|g| {
            let prev = old.iter().find(|o| o.key == g.key);
            match prev {
                Some(o) if o.edited && o.data_hash == g.data_hash => NarrativeBlock {
                    generated_zh: g.zh,
                    generated_en: g.en,
                    ..o.clone()
                },
                Some(o) if o.edited => NarrativeBlock {
                    stale: true,
                    previous_zh: Some(o.text_zh.clone()),
                    previous_en: Some(o.text_en.clone()),
                    ..NarrativeBlock::fresh(g)
                },
                // A stale flag survives a regeneration until the analyst acts on it.
                Some(o) if o.stale => NarrativeBlock {
                    stale: true,
                    previous_zh: o.previous_zh.clone(),
                    previous_en: o.previous_en.clone(),
                    ..NarrativeBlock::fresh(g)
                },
                _ => NarrativeBlock::fresh(g),
            }
        })
        .collect()
}

/// A version as read from the database.
#[derive(Debug, Clone)]
pub struct Version {
    pub row: rv::Model,
    pub status: Status,
    pub snapshot: Snapshot,
    pub narrative: Vec<NarrativeBlock>,
}

impl Version {
    fn from_row(row: rv::Model) -> Result<Self, StoreError> {
        let status = Status::parse(&row.status)
            .ok_or_else(|| StoreError::invalid("status", format!("unknown `{}`", row.status)))?;
        let snapshot: Snapshot = serde_json::from_str(&row.snapshot)
            .map_err(|e| StoreError::invalid("snapshot", e.to_string()))?;
        let narrative: Vec<NarrativeBlock> = serde_json::from_str(&row.narrative)
            .map_err(|e| StoreError::invalid("narrative", e.to_string()))?;
        Ok(Self {
            row,
            status,
            snapshot,
            narrative,
        })
    }
    pub fn block(&self, key: &str) -> Option<&NarrativeBlock> {
        self.narrative.iter().find(|b| b.key == key)
    }
    pub fn stale_blocks(&self) -> usize {
        self.narrative.iter().filter(|b| b.stale).count()
    }
}

/// A version's summary (no snapshot) for lists.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionSummary {
    pub id: String,
    pub year: i32,
    pub version: i32,
    pub status: Status,
    pub change_note: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
}

impl From<&rv::Model> for VersionSummary {
    fn from(r: &rv::Model) -> Self {
        Self {
            id: r.id.to_string(),
            year: r.year,
            version: r.version,
            status: Status::parse(&r.status).unwrap_or(Status::Draft),
            change_note: r.change_note.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            published_at: r.published_at,
            published_by: r.published_by.clone(),
        }
    }
}

/// Collects every module's sections for the city and year (a failing module is named in
/// `unavailable`, never fatal).
pub async fn assemble(
    db: &DatabaseConnection,
    modules: &[Arc<dyn Module>],
    city_id: i64,
    year: i32,
) -> Result<Snapshot, StoreError> {
    let city = qcity_platform::store::cities::by_id(db, city_id)
        .await?
        .ok_or_else(|| StoreError::NotFound("city".into()))?;
    let mut sections = Vec::new();
    let mut unavailable = Vec::new();
    for m in modules {
        match m.report_sections(db, city_id, year).await {
            Ok(s) => sections.extend(s),
            Err(e) => {
                tracing::warn!(module = m.name(), error = %e, year, "report sections unavailable");
                unavailable.push(m.name().to_string());
            }
        }
    }
    sections.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.key.cmp(&b.key)));
    Ok(Snapshot {
        city_code: city.code,
        city_name_zh: city.name_zh,
        city_name_en: city.name_en,
        year,
        assembled_at: Utc::now(),
        sections,
        unavailable,
    })
}

/// Every published dataset of every module (errors logged and skipped).
pub async fn module_open_data(
    db: &DatabaseConnection,
    modules: &[Arc<dyn Module>],
    city_id: i64,
) -> Vec<OpenDataset> {
    let mut out = Vec::new();
    for m in modules {
        match m.open_data(db, city_id).await {
            Ok(d) => out.extend(d),
            Err(e) => tracing::warn!(module = m.name(), error = %e, "open data unavailable"),
        }
    }
    out
}

/// Every module's public links (errors logged and skipped).
pub async fn module_public_links(
    db: &DatabaseConnection,
    modules: &[Arc<dyn Module>],
    city_id: i64,
) -> Vec<PublicLink> {
    let mut out = Vec::new();
    for m in modules {
        match m.public_links(db, city_id).await {
            Ok(d) => out.extend(d),
            Err(e) => tracing::warn!(module = m.name(), error = %e, "public links unavailable"),
        }
    }
    out
}

fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::invalid("json", e.to_string()))
}

fn actor_name(a: &Actor) -> String {
    match a {
        Actor::Principal { name, .. } => name.clone(),
        Actor::System(n) => n.clone(),
    }
}

fn summary_json(r: &rv::Model) -> serde_json::Value {
    serde_json::to_value(VersionSummary::from(r)).unwrap_or_default()
}

/// Every version of a city's reports, newest year and version first.
pub async fn list(db: &impl ConnectionTrait, city_id: i64) -> Result<Vec<rv::Model>, StoreError> {
    Ok(Rv::find()
        .filter(rv::Column::CityId.eq(city_id))
        .order_by_desc(rv::Column::Year)
        .order_by_desc(rv::Column::Version)
        .all(db)
        .await?)
}

/// One version of the city (`NotFound` for another city's id).
pub async fn get(db: &impl ConnectionTrait, city_id: i64, id: i64) -> Result<Version, StoreError> {
    let row = Rv::find_by_id((city_id, id))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("report version {id}")))?;
    Version::from_row(row)
}

/// The current published version of a year (the latest published correction), if any.
pub async fn published(
    db: &impl ConnectionTrait,
    city_id: i64,
    year: i32,
) -> Result<Option<Version>, StoreError> {
    let row = Rv::find()
        .filter(rv::Column::CityId.eq(city_id))
        .filter(rv::Column::Year.eq(year))
        .filter(rv::Column::Status.eq(Status::Published.as_str()))
        .order_by_desc(rv::Column::Version)
        .one(db)
        .await?;
    row.map(Version::from_row).transpose()
}

/// The current published version of every year, newest year first.
pub async fn published_all(
    db: &impl ConnectionTrait,
    city_id: i64,
) -> Result<Vec<Version>, StoreError> {
    let rows = Rv::find()
        .filter(rv::Column::CityId.eq(city_id))
        .filter(rv::Column::Status.eq(Status::Published.as_str()))
        .order_by_desc(rv::Column::Year)
        .order_by_desc(rv::Column::Version)
        .all(db)
        .await?;
    let mut out: Vec<Version> = Vec::new();
    for r in rows {
        if out.last().is_some_and(|v| v.row.year == r.year) {
            continue;
        }
        out.push(Version::from_row(r)?);
    }
    Ok(out)
}

/// The published versions of a year, newest first: (version, published at, change note).
pub async fn published_history(
    db: &impl ConnectionTrait,
    city_id: i64,
    year: i32,
) -> Result<Vec<(i32, Option<DateTime<Utc>>, String)>, StoreError> {
    use sea_orm::QuerySelect;
    Ok(Rv::find()
        .select_only()
        .column(rv::Column::Version)
        .column(rv::Column::PublishedAt)
        .column(rv::Column::ChangeNote)
        .filter(rv::Column::CityId.eq(city_id))
        .filter(rv::Column::Year.eq(year))
        .filter(rv::Column::Status.eq(Status::Published.as_str()))
        .order_by_desc(rv::Column::Version)
        .into_tuple()
        .all(db)
        .await?)
}

/// Starts a new version for a year: the first draft, or a correction of a published report
/// (which needs a change note). Only one version per year may be open (draft or review).
pub async fn create(
    db: &DatabaseConnection,
    modules: &[Arc<dyn Module>],
    actor: &Actor,
    city_id: i64,
    year: i32,
    change_note: &str,
) -> Result<Version, StoreError> {
    if !YEAR_RANGE.contains(&year) {
        return Err(StoreError::invalid(
            "year",
            format!(
                "{year} is outside {}–{}",
                YEAR_RANGE.start(),
                YEAR_RANGE.end()
            ),
        ));
    }
    let change_note = change_note.trim();
    if change_note.chars().count() > 2000 {
        return Err(StoreError::invalid(
            "change_note",
            "at most 2000 characters",
        ));
    }
    let snapshot = assemble(db, modules, city_id, year).await?;
    let narrative = merge_narrative(&[], narrative::generate(year, &snapshot.sections));
    let txn = db.begin_write().await?;
    let existing = Rv::find()
        .filter(rv::Column::CityId.eq(city_id))
        .filter(rv::Column::Year.eq(year))
        .order_by_desc(rv::Column::Version)
        .all(&txn)
        .await?;
    if let Some(open) = existing
        .iter()
        .find(|r| r.status != Status::Published.as_str())
    {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            format!(
                "report {year} already has an open version (v{}, {})",
                open.version, open.status
            ),
        ));
    }
    if !existing.is_empty() && change_note.is_empty() {
        return Err(StoreError::invalid(
            "change_note",
            "a correction of a published report needs a change note",
        ));
    }
    let version = existing.first().map(|r| r.version + 1).unwrap_or(1);
    let now = Utc::now();
    let row = rv::ActiveModel {
        city_id: Set(city_id),
        id: Set(ids::new_id()),
        year: Set(year),
        version: Set(version),
        status: Set(Status::Draft.as_str().into()),
        snapshot: Set(json(&snapshot)?),
        narrative: Set(json(&narrative)?),
        change_note: Set(change_note.to_string()),
        created_by: Set(actor_name(actor)),
        created_at: Set(now),
        updated_at: Set(now),
        submitted_at: Set(None),
        published_at: Set(None),
        published_by: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        city_id,
        actor,
        "report.version.create",
        "report_version",
        &row.id.to_string(),
        None,
        Some(summary_json(&row)),
    )
    .await?;
    txn.commit().await?;
    Version::from_row(row)
}

async fn load_open(
    txn: &impl ConnectionTrait,
    city_id: i64,
    id: i64,
    allowed: &[Status],
) -> Result<rv::Model, StoreError> {
    let row = Rv::find_by_id((city_id, id))
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("report version {id}")))?;
    if !allowed.iter().any(|s| s.as_str() == row.status) {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            format!(
                "report version v{} is {} and cannot be changed{}",
                row.version,
                row.status,
                if row.status == "published" {
                    " (publish a correction as a new version)"
                } else {
                    ""
                }
            ),
        ));
    }
    Ok(row)
}

/// Re-reads every module's sections into a draft and regenerates its narrative, keeping the
/// analyst's edits whose data did not change. Returns the version and the number of edits
/// that became stale.
pub async fn regenerate(
    db: &DatabaseConnection,
    modules: &[Arc<dyn Module>],
    actor: &Actor,
    city_id: i64,
    id: i64,
) -> Result<(Version, usize), StoreError> {
    let current = get(db, city_id, id).await?;
    if current.status != Status::Draft {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            format!(
                "only a draft can be regenerated (v{} is {})",
                current.row.version,
                current.status.as_str()
            ),
        ));
    }
    let snapshot = assemble(db, modules, city_id, current.row.year).await?;
    let narrative = merge_narrative(
        &current.narrative,
        narrative::generate(current.row.year, &snapshot.sections),
    );
    let newly_stale = narrative
        .iter()
        .filter(|b| b.stale && current.block(&b.key).is_some_and(|o| o.edited && !o.stale))
        .count();
    let txn = db.begin_write().await?;
    let row = load_open(&txn, city_id, id, &[Status::Draft]).await?;
    let before = summary_json(&row);
    let mut am: rv::ActiveModel = row.into();
    am.snapshot = Set(json(&snapshot)?);
    am.narrative = Set(json(&narrative)?);
    am.updated_at = Set(Utc::now());
    let row = am.update(&txn).await?;
    audit::record(
        &txn,
        city_id,
        actor,
        "report.version.regenerate",
        "report_version",
        &id.to_string(),
        Some(before),
        Some(serde_json::json!({"sections": snapshot.sections.len(), "stale_edits": newly_stale})),
    )
    .await?;
    txn.commit().await?;
    Ok((Version::from_row(row)?, newly_stale))
}

/// Sets the analyst's text of one narrative block of a draft. Empty texts restore the
/// generated wording.
pub async fn edit_block(
    db: &DatabaseConnection,
    actor: &Actor,
    city_id: i64,
    id: i64,
    key: &str,
    text_zh: &str,
    text_en: &str,
) -> Result<Version, StoreError> {
    let (zh, en) = (text_zh.trim(), text_en.trim());
    for (f, t) in [("text_zh", zh), ("text_en", en)] {
        if t.chars().count() > 20_000 {
            return Err(StoreError::invalid(f, "at most 20000 characters"));
        }
    }
    let txn = db.begin_write().await?;
    let row = load_open(&txn, city_id, id, &[Status::Draft]).await?;
    let mut v = Version::from_row(row.clone())?;
    let Some(b) = v.narrative.iter_mut().find(|b| b.key == key) else {
        return Err(StoreError::invalid(
            "key",
            format!("no narrative block `{key}`"),
        ));
    };
    let before = serde_json::json!({"key": key, "text_zh": b.text_zh, "text_en": b.text_en, "edited": b.edited});
    if zh.is_empty() && en.is_empty() {
        b.text_zh = b.generated_zh.clone();
        b.text_en = b.generated_en.clone();
        b.edited = false;
    } else {
        if zh.is_empty() {
            return Err(StoreError::invalid("text_zh", "the Chinese text is empty"));
        }
        if en.is_empty() {
            return Err(StoreError::invalid("text_en", "the English text is empty"));
        }
        b.text_zh = zh.to_string();
        b.text_en = en.to_string();
        b.edited = b.text_zh != b.generated_zh || b.text_en != b.generated_en;
    }
    b.stale = false;
    b.previous_zh = None;
    b.previous_en = None;
    let after = serde_json::json!({"key": key, "text_zh": b.text_zh, "text_en": b.text_en, "edited": b.edited});
    let mut am: rv::ActiveModel = row.into();
    am.narrative = Set(json(&v.narrative)?);
    am.updated_at = Set(Utc::now());
    let row = am.update(&txn).await?;
    audit::record(
        &txn,
        city_id,
        actor,
        "report.version.edit_narrative",
        "report_version",
        &id.to_string(),
        Some(before),
        Some(after),
    )
    .await?;
    txn.commit().await?;
    Version::from_row(row)
}

/// Moves a version along the workflow. `may_publish` is whether the actor holds
/// `PublishReports`; the caller checks `EditReports` for the other steps.
pub async fn transition(
    db: &DatabaseConnection,
    actor: &Actor,
    city_id: i64,
    id: i64,
    action: Action,
    may_publish: bool,
) -> Result<Version, StoreError> {
    let txn = db.begin_write().await?;
    let (from, to) = match action {
        Action::Submit => (Status::Draft, Status::Review),
        Action::Return => (Status::Review, Status::Draft),
        Action::Publish => (Status::Review, Status::Published),
    };
    let row = load_open(&txn, city_id, id, &[Status::Draft, Status::Review]).await?;
    if row.status != from.as_str() {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            format!(
                "cannot {} a version that is {} (it must be {})",
                action.as_str(),
                row.status,
                from.as_str()
            ),
        ));
    }
    if action == Action::Publish && !may_publish {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            "publishing needs the PublishReports permission",
        ));
    }
    let v = Version::from_row(row.clone())?;
    if action == Action::Submit && v.stale_blocks() > 0 {
        return Err(StoreError::invalid(
            "narrative",
            format!(
                "{} edited narrative block(s) are out of date with the data: review them first",
                v.stale_blocks()
            ),
        ));
    }
    let before = summary_json(&row);
    let now = Utc::now();
    let mut am: rv::ActiveModel = row.into();
    am.status = Set(to.as_str().into());
    am.updated_at = Set(now);
    match action {
        Action::Submit => am.submitted_at = Set(Some(now)),
        Action::Return => am.submitted_at = Set(None),
        Action::Publish => {
            am.published_at = Set(Some(now));
            am.published_by = Set(Some(actor_name(actor)));
        }
    }
    let row = am.update(&txn).await?;
    audit::record(
        &txn,
        city_id,
        actor,
        &format!("report.version.{}", action.as_str()),
        "report_version",
        &id.to_string(),
        Some(before),
        Some(summary_json(&row)),
    )
    .await?;
    txn.commit().await?;
    Version::from_row(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(key: &str, zh: &str, hash: &str) -> GeneratedBlock {
        GeneratedBlock {
            key: key.into(),
            zh: zh.into(),
            en: format!("{zh} (en)"),
            data_hash: hash.into(),
        }
    }

    #[test]
    fn edits_survive_regeneration_while_the_data_is_unchanged() {
        let mut blocks = merge_narrative(&[], vec![g("overview", "旧", "h1"), g("s", "节", "h2")]);
        blocks[0].text_zh = "分析员改写".into();
        blocks[0].text_en = "Analyst's text".into();
        blocks[0].edited = true;
        let again = merge_narrative(
            &blocks,
            vec![g("overview", "新生成", "h1"), g("s", "节2", "h3")],
        );
        assert_eq!(again[0].text_zh, "分析员改写");
        assert!(again[0].edited && !again[0].stale);
        assert_eq!(again[0].generated_zh, "新生成");
        // Unedited blocks simply follow the data.
        assert_eq!(again[1].text_zh, "节2");
        assert!(!again[1].stale);
    }

    #[test]
    fn edits_on_changed_data_become_stale_and_are_kept_aside() {
        let mut blocks = merge_narrative(&[], vec![g("overview", "旧", "h1")]);
        blocks[0].text_zh = "分析员改写".into();
        blocks[0].edited = true;
        let again = merge_narrative(&blocks, vec![g("overview", "新数据", "h9")]);
        assert!(again[0].stale);
        assert!(!again[0].edited);
        assert_eq!(again[0].text_zh, "新数据");
        assert_eq!(again[0].previous_zh.as_deref(), Some("分析员改写"));
        // Still stale after one more regeneration, until the analyst acts.
        let third = merge_narrative(&again, vec![g("overview", "新数据", "h9")]);
        assert!(third[0].stale);
        assert_eq!(third[0].previous_zh.as_deref(), Some("分析员改写"));
    }
}
