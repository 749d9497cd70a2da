//! Collection: completing a response (web form, API, import) in one transaction, with the
//! one-response-per-token rule, open-link duplicate prevention, quotas and cleaning flags.

use crate::model::{
    FieldError, QuestionnaireDef, RawAnswer, cleaning_flags, demographics, parse_answers,
};
use crate::store::{self, NewResponse, QuotaCell, Result, StoreError, Wave};
use chrono::{DateTime, Utc};
use qcity_platform::store::ConflictCode;
use qcity_platform::upload::{self, Limits, UploadError};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use std::collections::BTreeMap;

/// One respondent's submission, as parsed at the edge.
#[derive(Debug, Clone)]
pub struct Submission {
    pub raw: BTreeMap<String, RawAnswer>,
    pub mode: String,
    pub source: &'static str,
    pub invitation: Option<String>,
    pub respondent_key: Option<String>,
    pub external_id: Option<String>,
    pub started_at: DateTime<Utc>,
    pub duration_s: Option<f64>,
}

/// What became of a submission.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Stored (response id).
    Accepted(i64),
    /// The respondent's quota cell is full.
    QuotaFull(QuotaCell),
    /// This invitation / browser / external id has already answered.
    AlreadyAnswered,
    /// An answer is invalid.
    Invalid(FieldError),
}

/// Completes a response inside `txn` (the caller commits before telling anyone "accepted").
pub async fn complete(
    txn: &impl ConnectionTrait,
    city_id: i64,
    wave: &Wave,
    def: &QuestionnaireDef,
    districts: &[String],
    sub: &Submission,
) -> Result<Outcome> {
    if !store::MODES.contains(&sub.mode.as_str()) {
        return Ok(Outcome::Invalid(FieldError {
            field: "mode".into(),
            message: format!("`{}` is not web, phone or onsite", sub.mode),
        }));
    }
    if let Some(d) = sub.duration_s
        && !(d.is_finite() && d >= 0.0)
    {
        return Ok(Outcome::Invalid(FieldError {
            field: "duration_s".into(),
            message: "duration is a non-negative number of seconds".into(),
        }));
    }
    store::lock_wave(txn, city_id, wave.id).await?;
    let existing = store::find_response(
        txn,
        city_id,
        wave.id,
        sub.invitation.as_deref(),
        sub.respondent_key.as_deref(),
    )
    .await?;
    if existing.as_ref().is_some_and(|r| r.status == "complete") {
        return Ok(Outcome::AlreadyAnswered);
    }
    if let Some(x) = &sub.external_id {
        let dup = store::one(
            txn,
            "SELECT id FROM survey_responses WHERE city_id = ? AND wave_id = ? AND external_id = ?",
            vec![city_id.into(), wave.id.into(), x.clone().into()],
        )
        .await?;
        if dup.is_some() {
            return Ok(Outcome::AlreadyAnswered);
        }
    }
    let previous: BTreeMap<String, Value> = existing
        .as_ref()
        .map(|r| r.answers.clone())
        .unwrap_or_default();
    let parsed = match parse_answers(def, &sub.raw, &previous, None, districts, true) {
        Ok(p) => p,
        Err(e) => return Ok(Outcome::Invalid(e)),
    };
    let demo = demographics(def, &parsed.answers);
    if let Some(cell) = store::full_cell_for(txn, city_id, wave.id, &demo).await? {
        return Ok(Outcome::QuotaFull(cell));
    }
    let started = existing
        .as_ref()
        .map(|r| r.started_at)
        .unwrap_or(sub.started_at);
    let now = Utc::now();
    // The web form is timed by the server; fieldwork uploads carry their own interview length.
    let duration = match sub.source {
        "web" => sub
            .duration_s
            .or_else(|| Some((now - started).num_milliseconds() as f64 / 1000.0)),
        _ => sub.duration_s,
    };
    let flags = cleaning_flags(def, &parsed.answers, duration, parsed.out_of_range);
    let nr = NewResponse {
        status: "complete",
        source: sub.source,
        mode: sub.mode.clone(),
        answers: parsed.answers,
        flags,
        invitation_token: sub.invitation.clone(),
        respondent_key: sub.respondent_key.clone(),
        external_id: sub.external_id.clone(),
        started_at: started,
        submitted_at: Some(now),
        duration_s: duration,
    };
    let id = match &existing {
        Some(r) => {
            store::update_response(txn, city_id, r.id, def, &nr).await?;
            r.id
        }
        None => store::insert_response(txn, city_id, wave, def, &nr).await?,
    };
    if let Some(t) = &sub.invitation
        && !store::mark_invitation_used(txn, city_id, t).await?
    {
        return Ok(Outcome::AlreadyAnswered);
    }
    Ok(Outcome::Accepted(id))
}

/// Saves the answers of some pages of a partial response (resume later); returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn save_partial(
    txn: &impl ConnectionTrait,
    city_id: i64,
    wave: &Wave,
    def: &QuestionnaireDef,
    districts: &[String],
    pages: &[u32],
    raw: &BTreeMap<String, RawAnswer>,
    invitation: Option<&str>,
    key: Option<&str>,
    enforce_required: bool,
) -> Result<std::result::Result<(i64, BTreeMap<String, Value>), Outcome>> {
    store::lock_wave(txn, city_id, wave.id).await?;
    let existing = store::find_response(txn, city_id, wave.id, invitation, key).await?;
    if existing.as_ref().is_some_and(|r| r.status == "complete") {
        return Ok(Err(Outcome::AlreadyAnswered));
    }
    let previous = existing
        .as_ref()
        .map(|r| r.answers.clone())
        .unwrap_or_default();
    let parsed = match parse_answers(
        def,
        &sub_pages(raw),
        &previous,
        Some(pages),
        districts,
        false,
    ) {
        Ok(p) => p,
        Err(e) => return Ok(Err(Outcome::Invalid(e))),
    };
    // Required questions shown on these pages must be answered before moving on (not when
    // the respondent only saves to continue later).
    for q in def.questions.iter().filter(|q| pages.contains(&q.page)) {
        if enforce_required
            && q.required
            && crate::model::is_shown(q, &parsed.answers)
            && !parsed.answers.contains_key(&q.code)
        {
            return Ok(Err(Outcome::Invalid(FieldError {
                field: q.code.clone(),
                message: "this question is required".into(),
            })));
        }
    }
    let demo = demographics(def, &parsed.answers);
    if let Some(cell) = store::full_cell_for(txn, city_id, wave.id, &demo).await? {
        return Ok(Err(Outcome::QuotaFull(cell)));
    }
    let nr = NewResponse {
        status: "partial",
        source: "web",
        mode: "web".into(),
        answers: parsed.answers.clone(),
        flags: vec![],
        invitation_token: invitation.map(str::to_string),
        respondent_key: key.map(str::to_string),
        external_id: None,
        started_at: Utc::now(),
        submitted_at: None,
        duration_s: None,
    };
    let id = match &existing {
        Some(r) => {
            store::update_response(txn, city_id, r.id, def, &nr).await?;
            r.id
        }
        None => store::insert_response(txn, city_id, wave, def, &nr).await?,
    };
    Ok(Ok((id, parsed.answers)))
}

fn sub_pages(raw: &BTreeMap<String, RawAnswer>) -> BTreeMap<String, RawAnswer> {
    raw.clone()
}

/// A row-level problem of a batch.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = SurveyRowError)]
pub struct RowError {
    /// 1-based data row (the header is row 0 in files; the first JSON item is row 1).
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// Stores a batch of fieldwork responses all-or-nothing inside `txn`: every row is validated
/// and every problem reported; the caller commits only when the list of errors is empty.
pub async fn complete_batch(
    txn: &impl ConnectionTrait,
    city_id: i64,
    wave: &Wave,
    def: &QuestionnaireDef,
    districts: &[String],
    subs: &[Submission],
) -> Result<(Vec<i64>, Vec<RowError>)> {
    if !matches!(wave.status.as_str(), "collecting" | "closed") {
        return Err(StoreError::conflict(
            ConflictCode::Conflict,
            format!(
                "wave is {}: fieldwork is accepted while collecting or closed",
                wave.status
            ),
        ));
    }
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, s) in subs.iter().enumerate() {
        let row = i + 1;
        if let Some(x) = &s.external_id
            && !seen.insert(x.clone())
        {
            errors.push(RowError {
                row,
                field: "external_id".into(),
                message: format!("`{x}` appears twice in the batch"),
            });
            continue;
        }
        match complete(txn, city_id, wave, def, districts, s).await? {
            Outcome::Accepted(id) => ids.push(id),
            Outcome::Invalid(e) => errors.push(RowError {
                row,
                field: e.field,
                message: e.message,
            }),
            Outcome::AlreadyAnswered => errors.push(RowError {
                row,
                field: "external_id".into(),
                message: "already imported".into(),
            }),
            Outcome::QuotaFull(c) => errors.push(RowError {
                row,
                field: "district".into(),
                message: format!(
                    "quota cell {} {}={} is full",
                    c.district, c.variable, c.category
                ),
            }),
        }
    }
    Ok((ids, errors))
}

/// Parses a CSV or XLSX fieldwork file into submissions. The header names the columns:
/// `external_id`, `mode`, `duration_s` and the question codes (multiple choice joined by `;`).
/// The file is read by [`qcity_platform::upload`] within `limits`: a file over a limit is
/// refused as a whole (`Err(Err(_))`, answered 413 / 422 problem+json naming the limit).
pub fn parse_file(
    bytes: &[u8],
    xlsx: bool,
    limits: &Limits,
) -> std::result::Result<Vec<Submission>, std::result::Result<RowError, UploadError>> {
    let read = if xlsx {
        upload::xlsx::read_xlsx(bytes, limits)
    } else {
        upload::csv::read_csv(bytes, limits)
    };
    let rows = match read {
        Ok(t) => t.rows,
        Err(e) if e.kind.is_limit() => return Err(Err(e)),
        Err(e) => return Err(Ok(row_error(e))),
    };
    parse_rows(rows).map_err(Ok)
}

/// Parses the rows of a fieldwork file (header first) into submissions.
fn parse_rows(rows: Vec<Vec<String>>) -> std::result::Result<Vec<Submission>, RowError> {
    let mut it = rows.into_iter();
    let header: Vec<String> = it
        .next()
        .ok_or(RowError {
            row: 0,
            field: "header".into(),
            message: "the file is empty".into(),
        })?
        .into_iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut out = Vec::new();
    for (i, r) in it.enumerate() {
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut raw = BTreeMap::new();
        let mut s = Submission {
            raw: BTreeMap::new(),
            mode: "onsite".into(),
            source: "import",
            invitation: None,
            respondent_key: None,
            external_id: None,
            started_at: Utc::now(),
            duration_s: None,
        };
        for (h, v) in header.iter().zip(r.iter()) {
            let v = v.trim();
            match h.as_str() {
                "external_id" => s.external_id = (!v.is_empty()).then(|| v.to_string()),
                "mode" => {
                    if !v.is_empty() {
                        s.mode = v.to_string()
                    }
                }
                "duration_s" => {
                    if !v.is_empty() {
                        s.duration_s = Some(v.parse().map_err(|_| RowError {
                            row: i + 1,
                            field: "duration_s".into(),
                            message: format!("`{v}` is not a number"),
                        })?);
                    }
                }
                code => {
                    raw.insert(code.to_string(), RawAnswer::Text(v.to_string()));
                }
            }
        }
        s.raw = raw;
        out.push(s);
    }
    Ok(out)
}

/// A file the upload module could not read, as a row error (row 0 = the file as a whole).
fn row_error(e: UploadError) -> RowError {
    RowError {
        row: e.row.unwrap_or(0),
        field: e
            .field
            .clone()
            .or(e.column.clone())
            .unwrap_or_else(|| "csv".into()),
        message: e.message,
    }
}
