//! Invitations and public links: creating invitation tokens and resolving `/s/{token}` to
//! an invitation or a wave's open link.

use super::{Result, StoreError, Wave, exec, get, get_wave_lite, one};
use chrono::{DateTime, Utc};
use qcity_platform::ids;
use sea_orm::ConnectionTrait;

pub async fn create_invitations(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    count: usize,
    label: Option<&str>,
) -> Result<Vec<String>> {
    if count == 0 || count > 10_000 {
        return Err(StoreError::invalid(
            "count",
            "between 1 and 10000 invitations at a time",
        ));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let t = format!("i{}", ids::random_token(15));
        exec(
            db,
            "INSERT INTO survey_invitations (city_id, token, wave_id, label, created_at) VALUES (?,?,?,?,?)",
            vec![city_id.into(), t.clone().into(), wave_id.into(), label.map(str::to_string).into(), Utc::now().into()],
        )
        .await?;
        out.push(t);
    }
    Ok(out)
}

/// What a public link token opens.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    pub city_id: i64,
    pub wave: Wave,
    /// The invitation token (None for the open link).
    pub invitation: Option<String>,
    pub invitation_used: bool,
}

/// Resolves `/s/{token}`: an invitation, or a wave's open link.
pub async fn resolve_token(db: &impl ConnectionTrait, token: &str) -> Result<Option<LinkTarget>> {
    if token.is_empty() || token.len() > 64 {
        return Ok(None);
    }
    if let Some(r) = one(
        db,
        "SELECT city_id, wave_id, used_at FROM survey_invitations WHERE token = ?",
        vec![token.into()],
    )
    .await?
    {
        let city_id: i64 = get(&r, "city_id")?;
        let used: Option<DateTime<Utc>> = get(&r, "used_at")?;
        let Some(w) = get_wave_lite(db, city_id, get(&r, "wave_id")?).await? else {
            return Ok(None);
        };
        return Ok(Some(LinkTarget {
            city_id,
            wave: w,
            invitation: Some(token.to_string()),
            invitation_used: used.is_some(),
        }));
    }
    if let Some(r) = one(
        db,
        "SELECT city_id, id FROM survey_waves WHERE open_token = ?",
        vec![token.into()],
    )
    .await?
    {
        let city_id: i64 = get(&r, "city_id")?;
        let Some(w) = get_wave_lite(db, city_id, get(&r, "id")?).await? else {
            return Ok(None);
        };
        return Ok(Some(LinkTarget {
            city_id,
            wave: w,
            invitation: None,
            invitation_used: false,
        }));
    }
    Ok(None)
}
