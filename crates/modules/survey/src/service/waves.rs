//! Survey waves (测评批次): creating one, moving it through its statuses, its population
//! margins (总体边际), quotas (配额) and invitation links.

use super::{json_of, record};
use crate::store::{self, MarginCell, NewWave, QuotaCell, QuotaProgress, StoreError, Wave};
use qcity_platform::auth::Principal;
use qcity_platform::db::BeginWrite;
use sea_orm::DatabaseConnection;
use serde_json::json;

/// A wave of the city, `NotFound` when there is none with this id.
async fn wave(
    db: &impl sea_orm::ConnectionTrait,
    city_id: i64,
    id: i64,
) -> Result<Wave, StoreError> {
    store::get_wave(db, city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("wave".into()))
}

/// Creates a wave covering the root of `p`'s region scope (`survey.wave.create`).
pub async fn create_wave(
    db: &DatabaseConnection,
    p: &Principal,
    new: &NewWave,
) -> Result<Wave, StoreError> {
    let txn = db.begin_write().await?;
    let id = store::create_wave(&txn, p.city_id, &p.scope.root, new).await?;
    let w = wave(&txn, p.city_id, id).await?;
    record(
        &txn,
        p,
        "survey.wave.create",
        "survey_wave",
        id,
        None,
        Some(json!({"year": w.year, "name_zh": w.name_zh, "questionnaire_id": w.questionnaire_id})),
    )
    .await?;
    txn.commit().await?;
    Ok(w)
}

/// Sets a wave's status: draft, collecting, closed or published (`survey.wave.status`).
pub async fn set_wave_status(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    status: &str,
) -> Result<Wave, StoreError> {
    let txn = db.begin_write().await?;
    let before = store::get_wave_lite(&txn, p.city_id, id)
        .await?
        .ok_or_else(|| StoreError::NotFound("wave".into()))?;
    store::set_wave_status(&txn, p.city_id, id, status).await?;
    record(
        &txn,
        p,
        "survey.wave.status",
        "survey_wave",
        id,
        Some(json!({"status": before.status})),
        Some(json!({"status": status})),
    )
    .await?;
    txn.commit().await?;
    wave(db, p.city_id, id).await
}

/// Replaces a wave's population margins (`survey.wave.set_margins`); every variable sums to
/// the same population total.
pub async fn set_margins(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    margins: &[MarginCell],
) -> Result<(), StoreError> {
    let txn = db.begin_write().await?;
    let before = store::margins(&txn, p.city_id, id).await?;
    store::set_margins(&txn, p.city_id, id, margins).await?;
    record(
        &txn,
        p,
        "survey.wave.set_margins",
        "survey_wave",
        id,
        Some(json_of(&before)),
        Some(json_of(&margins)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Replaces a wave's quotas (`survey.wave.set_quotas`): every cell names a district of the
/// city. Returns the live progress as `p` may see it.
pub async fn set_quotas(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    quotas: &[QuotaCell],
) -> Result<Vec<QuotaProgress>, StoreError> {
    let txn = db.begin_write().await?;
    let districts = store::city_districts(&txn, p.city_id).await?;
    if let Some((i, c)) = quotas
        .iter()
        .enumerate()
        .find(|(_, c)| !districts.iter().any(|d| d.0 == c.district))
    {
        return Err(StoreError::invalid(
            format!("quotas[{i}].district"),
            format!("`{}` is not a district of this city", c.district),
        ));
    }
    store::set_quotas(&txn, p.city_id, id, quotas).await?;
    record(
        &txn,
        p,
        "survey.wave.set_quotas",
        "survey_wave",
        id,
        None,
        Some(json_of(&quotas)),
    )
    .await?;
    txn.commit().await?;
    store::quota_progress(db, p.city_id, id, &p.scope.prefix).await
}

/// Mints `count` one-use invitation links (邀请链接) for a wave, optionally labelled
/// (`survey.wave.invite`). Returns the tokens; they are shown once and stored nowhere else.
pub async fn invite(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    count: usize,
    label: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let txn = db.begin_write().await?;
    let tokens = store::create_invitations(&txn, p.city_id, id, count, label).await?;
    record(
        &txn,
        p,
        "survey.wave.invite",
        "survey_wave",
        id,
        None,
        Some(json!({"count": tokens.len(), "label": label})),
    )
    .await?;
    txn.commit().await?;
    Ok(tokens)
}
