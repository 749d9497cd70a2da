//! Store functions of the register: the city is an explicit parameter of each, and every read
//! or write a person makes is limited to their region subtree (a row outside it is "not found").

use super::uscc::Uscc;
use crate::audit::{self, Actor};
use crate::store::ConflictCode;
use crate::store::StoreError;
use crate::store::sql;
use crate::upload::{Table, UploadError, UploadErrorKind, column_letter};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

type R<T> = Result<T, StoreError>;

/// Rows of a page of the list.
pub const PAGE_SIZE: u64 = 50;
/// Longest name, and longest optional text (address, legal representative, …), in characters.
const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 500;

/// 市场主体: one enterprise (or other registered entity) of the city.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Enterprise {
    pub id: i64,
    /// 统一社会信用代码 (GB 32100-2015).
    pub credit_code: String,
    /// 名称.
    pub name: String,
    /// Administrative division (district, street or community) the enterprise is in.
    pub region_code: String,
    /// 住所 / 经营场所.
    pub address: Option<String>,
    /// 法定代表人 / 负责人.
    pub legal_rep: Option<String>,
    /// 行业 (GB/T 4754 code or name).
    pub industry: Option<String>,
    /// 类型 (e.g. 有限责任公司, 个体工商户, 事业单位).
    pub kind: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new enterprise (API body, form, import row).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewEnterprise {
    pub credit_code: String,
    pub name: String,
    pub region_code: String,
    pub address: Option<String>,
    pub legal_rep: Option<String>,
    pub industry: Option<String>,
    pub kind: Option<String>,
}

/// A partial update: an absent field is left alone; an empty string clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterprisePatch {
    pub credit_code: Option<String>,
    pub name: Option<String>,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub legal_rep: Option<String>,
    pub industry: Option<String>,
    pub kind: Option<String>,
}

/// Filters of the list (all optional, combined with AND).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnterpriseFilter {
    /// Exactly this credit code.
    pub credit_code: Option<String>,
    /// Part of the name or of the credit code.
    pub q: Option<String>,
    /// Only this region and the regions below it (inside the caller's scope).
    pub region: Option<String>,
    /// 0-based page of 50.
    #[param(format = Int64, maximum = 4294967295_u64)]
    pub page: Option<u32>,
}

/// A page of the list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnterprisePage {
    pub total: u64,
    pub page: u32,
    pub page_size: u64,
    pub items: Vec<Enterprise>,
}

const COLS: &str = "id, credit_code, name, region_code, address, legal_rep, industry, kind, created_at, updated_at";

fn from_row(r: &QueryResult) -> R<Enterprise> {
    Ok(Enterprise {
        id: r.try_get("", "id")?,
        credit_code: r.try_get("", "credit_code")?,
        name: r.try_get("", "name")?,
        region_code: r.try_get("", "region_code")?,
        address: r.try_get("", "address")?,
        legal_rep: r.try_get("", "legal_rep")?,
        industry: r.try_get("", "industry")?,
        kind: r.try_get("", "kind")?,
        created_at: r.try_get("", "created_at")?,
        updated_at: r.try_get("", "updated_at")?,
    })
}

fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(3)
}

/// An enterprise's fields, checked.
#[derive(Debug, Clone, PartialEq)]
struct Checked {
    credit_code: Uscc,
    name: String,
    region_code: String,
    address: Option<String>,
    legal_rep: Option<String>,
    industry: Option<String>,
    kind: Option<String>,
}

impl Checked {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "credit_code": self.credit_code.as_str(),
            "name": self.name,
            "region_code": self.region_code,
            "address": self.address,
            "legal_rep": self.legal_rep,
            "industry": self.industry,
            "kind": self.kind,
        })
    }
}

fn optional(field: &str, v: Option<&str>) -> R<Option<String>> {
    let v = v.map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = v
        && s.chars().count() > MAX_TEXT
    {
        return Err(StoreError::invalid(
            field,
            format!("最多{MAX_TEXT}字 / at most {MAX_TEXT} characters"),
        ));
    }
    Ok(v.map(str::to_string))
}

/// Checks the fields that need no database.
fn check_fields(n: &NewEnterprise) -> R<Checked> {
    let credit_code =
        Uscc::parse(&n.credit_code).map_err(|m| StoreError::invalid("credit_code", m))?;
    let name = n.name.trim();
    if name.is_empty() {
        return Err(StoreError::invalid("name", "名称必填 / name is required"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(StoreError::invalid(
            "name",
            format!("最多{MAX_NAME}字 / at most {MAX_NAME} characters"),
        ));
    }
    Ok(Checked {
        credit_code,
        name: name.to_string(),
        region_code: n.region_code.trim().to_string(),
        address: optional("address", n.address.as_deref())?,
        legal_rep: optional("legal_rep", n.legal_rep.as_deref())?,
        industry: optional("industry", n.industry.as_deref())?,
        kind: optional("kind", n.kind.as_deref())?,
    })
}

fn region_error() -> StoreError {
    StoreError::invalid(
        "region_code",
        "区划不存在或不在您的范围内 / unknown region or outside your region",
    )
}

/// The region must exist in the city and (for a person) lie in their subtree (`prefix`).
async fn check_region(db: &impl ConnectionTrait, city_id: i64, prefix: &str, code: &str) -> R<()> {
    if code.is_empty() || !code.starts_with(prefix) {
        return Err(region_error());
    }
    let found = sql::one(
        db,
        "SELECT code FROM regions WHERE city_id = ? AND code = ?",
        vec![city_id.into(), code.into()],
    )
    .await?;
    if found.is_none() {
        return Err(region_error());
    }
    Ok(())
}

fn conflict(code: &Uscc) -> StoreError {
    StoreError::conflict(
        ConflictCode::Conflict,
        format!("统一社会信用代码 {code} 已登记 / credit code {code} is already registered"),
    )
}

async fn insert(db: &impl ConnectionTrait, city_id: i64, c: &Checked) -> R<i64> {
    let id = crate::ids::new_id();
    let t = now();
    let r = sql::exec(
        db,
        "INSERT INTO enterprises (city_id, id, credit_code, name, region_code, address, legal_rep, industry, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            city_id.into(),
            id.into(),
            c.credit_code.as_str().into(),
            c.name.clone().into(),
            c.region_code.clone().into(),
            c.address.clone().into(),
            c.legal_rep.clone().into(),
            c.industry.clone().into(),
            c.kind.clone().into(),
            t.into(),
            t.into(),
        ],
    )
    .await;
    match r {
        Ok(_) => Ok(id),
        Err(e) if crate::store::sql::is_unique_violation(&e) => Err(conflict(&c.credit_code)),
        Err(e) => Err(e.into()),
    }
}

async fn id_by_code(
    db: &impl ConnectionTrait,
    city_id: i64,
    code: &str,
) -> R<Option<(i64, String)>> {
    sql::one(
        db,
        "SELECT id, region_code FROM enterprises WHERE city_id = ? AND credit_code = ?",
        vec![city_id.into(), code.into()],
    )
    .await?
    .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "region_code")?)))
    .transpose()
}

/// Registers an enterprise inside the caller's region subtree (`prefix`) and audits it
/// (`platform.enterprise.create`) on the same connection: call it inside the transaction.
pub async fn create(
    db: &impl ConnectionTrait,
    city_id: i64,
    prefix: &str,
    actor: &Actor,
    n: &NewEnterprise,
) -> R<Enterprise> {
    let c = check_fields(n)?;
    check_region(db, city_id, prefix, &c.region_code).await?;
    if id_by_code(db, city_id, c.credit_code.as_str())
        .await?
        .is_some()
    {
        return Err(conflict(&c.credit_code));
    }
    let id = insert(db, city_id, &c).await?;
    audit::record(
        db,
        city_id,
        actor,
        "platform.enterprise.create",
        "enterprise",
        &id.to_string(),
        None,
        Some(c.to_json()),
    )
    .await?;
    get(db, city_id, prefix, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("enterprise".into()))
}

/// One enterprise of the city inside the region subtree `prefix` (`None` outside it).
pub async fn get(
    db: &impl ConnectionTrait,
    city_id: i64,
    prefix: &str,
    id: i64,
) -> R<Option<Enterprise>> {
    sql::one(
        db,
        &format!(
            "SELECT {COLS} FROM enterprises WHERE city_id = ? AND id = ? AND region_code LIKE ?"
        ),
        vec![city_id.into(), id.into(), format!("{prefix}%").into()],
    )
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The WHERE clause and values of a filter inside the subtree `prefix`.
fn filter_clause(city_id: i64, prefix: &str, f: &EnterpriseFilter) -> (String, Vec<Value>) {
    let mut w = String::from("city_id = ? AND region_code LIKE ?");
    let mut v: Vec<Value> = vec![city_id.into(), format!("{prefix}%").into()];
    if let Some(code) = f
        .credit_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        w.push_str(" AND credit_code = ?");
        v.push(code.to_ascii_uppercase().into());
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        w.push_str(" AND (name LIKE ? ESCAPE '\\' OR credit_code LIKE ? ESCAPE '\\')");
        v.push(like_escape(q).into());
        v.push(like_escape(&q.to_ascii_uppercase()).into());
    }
    if let Some(r) = f.region.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        w.push_str(" AND region_code LIKE ?");
        v.push(format!("{}%", crate::auth::scope::scope_prefix(r)).into());
    }
    (w, v)
}

/// A page of the enterprises inside the subtree `prefix` that match the filter, by name.
pub async fn list(
    db: &impl ConnectionTrait,
    city_id: i64,
    prefix: &str,
    f: &EnterpriseFilter,
) -> R<EnterprisePage> {
    let (w, v) = filter_clause(city_id, prefix, f);
    let total: i64 = sql::one(
        db,
        &format!("SELECT COUNT(*) AS n FROM enterprises WHERE {w}"),
        v.clone(),
    )
    .await?
    .map(|r| r.try_get("", "n"))
    .transpose()?
    .unwrap_or(0);
    let page = f.page.unwrap_or(0);
    let offset = u64::from(page) * PAGE_SIZE;
    let items = sql::all(
        db,
        &format!(
            "SELECT {COLS} FROM enterprises WHERE {w} ORDER BY name, credit_code LIMIT {PAGE_SIZE} OFFSET {offset}"
        ),
        v,
    )
    .await?
    .iter()
    .map(from_row)
    .collect::<R<Vec<_>>>()?;
    Ok(EnterprisePage {
        total: u64::try_from(total).unwrap_or(0),
        page,
        page_size: PAGE_SIZE,
        items,
    })
}

/// Every enterprise inside the subtree `prefix` that matches the filter (all pages), by name.
pub async fn list_all(
    db: &impl ConnectionTrait,
    city_id: i64,
    prefix: &str,
    f: &EnterpriseFilter,
) -> R<Vec<Enterprise>> {
    let (w, v) = filter_clause(city_id, prefix, f);
    sql::all(
        db,
        &format!("SELECT {COLS} FROM enterprises WHERE {w} ORDER BY name, credit_code"),
        v,
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

fn patched(e: &Enterprise, p: &EnterprisePatch) -> NewEnterprise {
    let pick = |new: &Option<String>, old: &Option<String>| match new {
        Some(s) => Some(s.clone()),
        None => old.clone(),
    };
    NewEnterprise {
        credit_code: p
            .credit_code
            .clone()
            .unwrap_or_else(|| e.credit_code.clone()),
        name: p.name.clone().unwrap_or_else(|| e.name.clone()),
        region_code: p
            .region_code
            .clone()
            .unwrap_or_else(|| e.region_code.clone()),
        address: pick(&p.address, &e.address),
        legal_rep: pick(&p.legal_rep, &e.legal_rep),
        industry: pick(&p.industry, &e.industry),
        kind: pick(&p.kind, &e.kind),
    }
}

fn as_new(e: &Enterprise) -> NewEnterprise {
    NewEnterprise {
        credit_code: e.credit_code.clone(),
        name: e.name.clone(),
        region_code: e.region_code.clone(),
        address: e.address.clone(),
        legal_rep: e.legal_rep.clone(),
        industry: e.industry.clone(),
        kind: e.kind.clone(),
    }
}

async fn write(db: &impl ConnectionTrait, city_id: i64, id: i64, c: &Checked) -> R<()> {
    let r = sql::exec(
        db,
        "UPDATE enterprises SET credit_code = ?, name = ?, region_code = ?, address = ?, legal_rep = ?, industry = ?, kind = ?, updated_at = ? WHERE city_id = ? AND id = ?",
        vec![
            c.credit_code.as_str().into(),
            c.name.clone().into(),
            c.region_code.clone().into(),
            c.address.clone().into(),
            c.legal_rep.clone().into(),
            c.industry.clone().into(),
            c.kind.clone().into(),
            now().into(),
            city_id.into(),
            id.into(),
        ],
    )
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if crate::store::sql::is_unique_violation(&e) => Err(conflict(&c.credit_code)),
        Err(e) => Err(e.into()),
    }
}

/// Changes the given fields of an enterprise inside the subtree `prefix` (404 outside it; a new
/// region must lie inside it too) and audits the change (`platform.enterprise.update`, before
/// and after) on the same connection.
pub async fn update(
    db: &impl ConnectionTrait,
    city_id: i64,
    prefix: &str,
    actor: &Actor,
    id: i64,
    p: &EnterprisePatch,
) -> R<Enterprise> {
    let old = get(db, city_id, prefix, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("enterprise".into()))?;
    let before = check_fields(&as_new(&old))
        .map(|c| c.to_json())
        .unwrap_or_else(|_| serde_json::json!(old.credit_code));
    let c = check_fields(&patched(&old, p))?;
    check_region(db, city_id, prefix, &c.region_code).await?;
    if c.credit_code.as_str() != old.credit_code
        && id_by_code(db, city_id, c.credit_code.as_str())
            .await?
            .is_some()
    {
        return Err(conflict(&c.credit_code));
    }
    write(db, city_id, id, &c).await?;
    audit::record(
        db,
        city_id,
        actor,
        "platform.enterprise.update",
        "enterprise",
        &id.to_string(),
        Some(before),
        Some(c.to_json()),
    )
    .await?;
    get(db, city_id, prefix, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("enterprise".into()))
}

// ---------------------------------------------------------------- import and export

/// The columns of the import and the export, in order: (field, Chinese header).
pub const COLUMNS: [(&str, &str); 7] = [
    ("credit_code", "统一社会信用代码"),
    ("name", "名称"),
    ("region_code", "区划代码"),
    ("address", "地址"),
    ("legal_rep", "法定代表人"),
    ("industry", "行业"),
    ("kind", "类型"),
];

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = EnterpriseImportReport)]
pub struct ImportReport {
    /// New enterprises.
    pub created: usize,
    /// Enterprises already registered under the same credit code, updated from the file.
    pub updated: usize,
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Bad rows: every problem, by row and column (the first is the problem's place).
    #[error("{}", .0.first().map(UploadError::describe).unwrap_or_default())]
    Rows(Vec<UploadError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for ImportError {
    fn from(e: DbErr) -> Self {
        ImportError::Store(e.into())
    }
}

impl ImportError {
    /// One upload error naming the first bad row and column, its message listing the others.
    pub fn into_upload_error(self) -> Result<UploadError, StoreError> {
        match self {
            ImportError::Store(e) => Err(e),
            ImportError::Rows(errs) => {
                let mut it = errs.into_iter();
                let Some(mut first) = it.next() else {
                    return Ok(UploadError::new(
                        UploadErrorKind::Invalid,
                        "nothing imported",
                    ));
                };
                let rest: Vec<String> = it.map(|e| e.describe()).collect();
                if !rest.is_empty() {
                    first.message = format!(
                        "{} (and {} more: {})",
                        first.message,
                        rest.len(),
                        rest.join("; ")
                    );
                }
                Ok(first)
            }
        }
    }
}

/// Imports a table with the export's header row (English or Chinese column names, any order;
/// `credit_code`, `name` and `region_code` required): a row whose credit code is registered
/// updates that enterprise, any other row registers a new one. All or nothing: one bad row
/// (bad code, unknown or foreign region, a code twice in the file, an enterprise of another
/// region) and nothing is stored; every problem names its row and column. Audited as one
/// `platform.enterprise.import` entry with the counts, on the same connection (call it inside
/// the transaction).
pub async fn import(
    db: &impl ConnectionTrait,
    city_id: i64,
    prefix: &str,
    actor: &Actor,
    t: &Table,
) -> Result<ImportReport, ImportError> {
    let header = t.header().unwrap_or(&[]);
    let col_of = |field: &str, zh: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(field) || h.trim() == zh)
    };
    let cols: Vec<Option<usize>> = COLUMNS.iter().map(|(f, zh)| col_of(f, zh)).collect();
    let mut errors = Vec::new();
    for (i, (field, zh)) in COLUMNS.iter().enumerate().take(3) {
        if cols[i].is_none() {
            errors.push(
                UploadError::new(
                    UploadErrorKind::Invalid,
                    format!("缺少列“{zh}” / missing column `{field}`"),
                )
                .at_row(1)
                .with_field(*field),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let regions: std::collections::HashSet<String> = sql::all(
        db,
        "SELECT code FROM regions WHERE city_id = ?",
        vec![city_id.into()],
    )
    .await?
    .iter()
    .map(|r| r.try_get::<String>("", "code"))
    .collect::<Result<_, _>>()?;
    let existing: HashMap<String, (i64, String)> = sql::all(
        db,
        "SELECT id, credit_code, region_code FROM enterprises WHERE city_id = ?",
        vec![city_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get::<String>("", "credit_code")?,
            (r.try_get("", "id")?, r.try_get("", "region_code")?),
        ))
    })
    .collect::<Result<_, DbErr>>()?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rows: Vec<(Option<i64>, Checked)> = Vec::new();
    for (rowno, rec) in t.data_rows() {
        let cell = |i: usize| -> String {
            cols[i]
                .and_then(|c| rec.get(c))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let at = |i: usize, m: String| {
            let mut e = UploadError::new(UploadErrorKind::Invalid, m)
                .at_row(rowno)
                .with_field(COLUMNS[i].0);
            if let Some(c) = cols[i] {
                e = e.at_column(column_letter(c));
            }
            e
        };
        let opt = |i: usize| Some(cell(i)).filter(|s| !s.is_empty());
        let n = NewEnterprise {
            credit_code: cell(0),
            name: cell(1),
            region_code: cell(2),
            address: opt(3),
            legal_rep: opt(4),
            industry: opt(5),
            kind: opt(6),
        };
        let c = match check_fields(&n) {
            Ok(c) => c,
            Err(StoreError::Invalid { field, message }) => {
                let i = COLUMNS.iter().position(|(f, _)| *f == field).unwrap_or(0);
                errors.push(at(i, message));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if !c.region_code.starts_with(prefix) || !regions.contains(&c.region_code) {
            errors.push(at(
                2,
                format!(
                    "区划“{}”不存在或不在您的范围内 / unknown region or outside your region",
                    c.region_code
                ),
            ));
            continue;
        }
        let code = c.credit_code.as_str().to_string();
        if let Some(first) = seen.insert(code.clone(), rowno) {
            errors.push(at(
                0,
                format!("与第{first}行重复 / the same code as row {first}"),
            ));
            continue;
        }
        let target = match existing.get(&code) {
            Some((id, region)) if region.starts_with(prefix) => Some(*id),
            Some(_) => {
                errors.push(at(
                    0,
                    "已登记在您的范围之外 / registered outside your region".into(),
                ));
                continue;
            }
            None => None,
        };
        rows.push((target, c));
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut report = ImportReport::default();
    for (target, c) in &rows {
        match target {
            Some(id) => {
                write(db, city_id, *id, c).await?;
                report.updated += 1;
            }
            None => {
                insert(db, city_id, c).await?;
                report.created += 1;
            }
        }
    }
    audit::record(
        db,
        city_id,
        actor,
        "platform.enterprise.import",
        "enterprise",
        "import",
        None,
        Some(serde_json::json!({"created": report.created, "updated": report.updated})),
    )
    .await?;
    Ok(report)
}

/// The CSV export of the filtered enterprises (UTF-8 with a BOM for spreadsheets), in the
/// import's columns; every cell goes through [`crate::upload::export::write_record`], so a
/// name such as `=HYPERLINK(…)` is shown as text, never run.
pub fn export_csv(items: &[Enterprise]) -> Result<Vec<u8>, StoreError> {
    let mut w = ::csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let fail = |e: ::csv::Error| StoreError::Db(DbErr::Custom(format!("csv: {e}")));
    crate::upload::export::write_record(&mut w, COLUMNS.iter().map(|(f, _)| *f)).map_err(fail)?;
    for e in items {
        let o = |s: &Option<String>| s.clone().unwrap_or_default();
        crate::upload::export::write_record(
            &mut w,
            [
                e.credit_code.clone(),
                e.name.clone(),
                e.region_code.clone(),
                o(&e.address),
                o(&e.legal_rep),
                o(&e.industry),
                o(&e.kind),
            ],
        )
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| StoreError::Db(DbErr::Custom(format!("csv: {e}"))))
}

// ---------------------------------------------------------------- for modules

/// The enterprise of the city with this credit code, or a new one made from `n` (audited as
/// `platform.enterprise.create` by `actor`) when none is registered. For modules linking their
/// rows (an elevator's use unit, a key energy-consuming unit): the module has checked the
/// caller's region; the register's own uniqueness makes the answer the same for everyone.
pub async fn find_or_create(
    db: &impl ConnectionTrait,
    city_id: i64,
    actor: &Actor,
    n: &NewEnterprise,
) -> R<i64> {
    Ok(find_or_create_counted(db, city_id, actor, n).await?.0)
}

/// [`find_or_create`], also saying whether the enterprise was registered now.
pub async fn find_or_create_counted(
    db: &impl ConnectionTrait,
    city_id: i64,
    actor: &Actor,
    n: &NewEnterprise,
) -> R<(i64, bool)> {
    let c = check_fields(n)?;
    if let Some((id, _)) = id_by_code(db, city_id, c.credit_code.as_str()).await? {
        return Ok((id, false));
    }
    check_region(db, city_id, "", &c.region_code).await?;
    let id = insert(db, city_id, &c).await?;
    audit::record(
        db,
        city_id,
        actor,
        "platform.enterprise.create",
        "enterprise",
        &id.to_string(),
        None,
        Some(c.to_json()),
    )
    .await?;
    Ok((id, true))
}

/// How a module's existing row was linked to the register (see [`link_existing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    /// By its credit code, to an enterprise already registered.
    ByCode(i64),
    /// By its credit code, to an enterprise registered now.
    Created(i64),
    /// By its exact name, to the one enterprise of that name.
    ByName(i64),
    /// Not linked: no valid credit code, and no single enterprise of that name.
    Unlinked,
}

impl Linked {
    pub fn id(self) -> Option<i64> {
        match self {
            Linked::ByCode(i) | Linked::Created(i) | Linked::ByName(i) => Some(i),
            Linked::Unlinked => None,
        }
    }
}

/// Links an existing row of a module (a migration's work): by credit code when it has a valid
/// one (registering the enterprise when the register has none), else by exact name, else not.
/// Unlike [`link`] a bad code is not an error: the row stays unlinked, for its module to report.
pub async fn link_existing(
    db: &impl ConnectionTrait,
    city_id: i64,
    actor: &Actor,
    credit_code: Option<&str>,
    name: &str,
    region_code: &str,
) -> R<Linked> {
    if let Some(code) = credit_code.and_then(|c| Uscc::parse(c).ok()) {
        let n = NewEnterprise {
            credit_code: code.as_str().to_string(),
            name: name.to_string(),
            region_code: region_code.to_string(),
            ..Default::default()
        };
        match find_or_create_counted(db, city_id, actor, &n).await {
            Ok((id, true)) => return Ok(Linked::Created(id)),
            Ok((id, false)) => return Ok(Linked::ByCode(id)),
            // A name or region the register refuses: fall back to the name.
            Err(StoreError::Invalid { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(match id_by_exact_name(db, city_id, name).await? {
        Some(id) => Linked::ByName(id),
        None => Linked::Unlinked,
    })
}

/// Counts of a module migration's linking, logged and shown by the module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkReport {
    pub by_code: usize,
    pub created: usize,
    pub by_name: usize,
    /// `(row id, name)` of the rows left unlinked.
    pub unlinked: Vec<(i64, String)>,
}

impl LinkReport {
    pub fn add(&mut self, l: Linked, row_id: i64, name: &str) {
        match l {
            Linked::ByCode(_) => self.by_code += 1,
            Linked::Created(_) => self.created += 1,
            Linked::ByName(_) => self.by_name += 1,
            Linked::Unlinked => self.unlinked.push((row_id, name.to_string())),
        }
    }

    /// Logs the counts (info) and every unlinked row (warn) under `what` (e.g. `mt_units`).
    pub fn log(&self, what: &str) {
        tracing::info!(
            table = what,
            linked_by_code = self.by_code,
            registered = self.created,
            linked_by_name = self.by_name,
            unlinked = self.unlinked.len(),
            "linked existing rows to the register of market entities"
        );
        for (id, name) in &self.unlinked {
            tracing::warn!(
                table = what,
                id,
                name = name.as_str(),
                "not linked to the register (no valid credit code, no single enterprise of this name); enterprise_id stays NULL"
            );
        }
    }
}

/// The one enterprise of the city with exactly this name (`None` when there is none, or more
/// than one).
pub async fn id_by_exact_name(
    db: &impl ConnectionTrait,
    city_id: i64,
    name: &str,
) -> R<Option<i64>> {
    let rows = sql::all(
        db,
        "SELECT id FROM enterprises WHERE city_id = ? AND name = ? LIMIT 2",
        vec![city_id.into(), name.trim().into()],
    )
    .await?;
    if rows.len() == 1 {
        Ok(Some(rows[0].try_get("", "id")?))
    } else {
        Ok(None)
    }
}

/// The enterprise a module's new row refers to: by credit code when one is given (found or
/// registered, see [`find_or_create`]; a bad code is refused naming `code_field`), else the one
/// enterprise with exactly `name`, else none.
pub async fn link(
    db: &impl ConnectionTrait,
    city_id: i64,
    actor: &Actor,
    credit_code: Option<&str>,
    code_field: &str,
    name: &str,
    region_code: &str,
) -> R<Option<i64>> {
    match credit_code.map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => {
            let n = NewEnterprise {
                credit_code: code.to_string(),
                name: name.to_string(),
                region_code: region_code.to_string(),
                ..Default::default()
            };
            find_or_create(db, city_id, actor, &n)
                .await
                .map(Some)
                .map_err(|e| match e {
                    StoreError::Invalid { field, message } if field == "credit_code" => {
                        StoreError::Invalid {
                            field: code_field.to_string(),
                            message,
                        }
                    }
                    other => other,
                })
        }
        None => id_by_exact_name(db, city_id, name).await,
    }
}
