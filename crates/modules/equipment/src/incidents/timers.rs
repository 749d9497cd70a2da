//! The 96333 response time limits (dispatch, acknowledgement, arrival) of a region: the most
//! specific configured row along its ancestry, else the urban or county defaults.

use super::R;
use crate::fsm::Timers;
use crate::sql::{all, exec, one};
use qcity_platform::store::StoreError;
use sea_orm::{ConnectionTrait, QueryResult};
use serde::Deserialize;

// A change of a region's timers: the values left out keep the ones that apply now. (A plain
// comment: a doc comment would become the schema's description in the OpenAPI document.)
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TimersReq {
    pub region_code: String,
    pub dispatch_secs: Option<i64>,
    pub ack_secs: Option<i64>,
    pub arrive_secs: Option<i64>,
}

/// The timers that apply in a region: the most specific configured row along the region's
/// ancestry, else the defaults by `regions.urban`.
pub async fn timers_for(db: &impl ConnectionTrait, city_id: i64, region_code: &str) -> R<Timers> {
    let rows = all(
        db,
        "SELECT region_code, dispatch_secs, ack_secs, arrive_secs FROM eq_timers WHERE city_id = ?",
        vec![city_id.into()],
    )
    .await?;
    let mut best = BestTimers::default();
    for r in rows {
        best.offer(
            region_code,
            &r.try_get::<String>("", "region_code")?,
            || timers_from(&r, ""),
        )?;
    }
    if let Some(t) = best.timers() {
        return Ok(t);
    }
    // The district (6-digit) decides urban vs county.
    let district: String = region_code.chars().take(6).collect();
    let urban: bool = one(
        db,
        "SELECT urban FROM regions WHERE city_id = ? AND code = ?",
        vec![city_id.into(), district.into()],
    )
    .await?
    .map(|r| r.try_get("", "urban"))
    .transpose()?
    .unwrap_or(true);
    Ok(Timers::default_for(urban))
}

/// `dispatch_secs`, `ack_secs`, `arrive_secs` of an `eq_timers` row (columns prefixed `pre`).
pub(super) fn timers_from(r: &QueryResult, pre: &str) -> R<Timers> {
    Ok(Timers {
        dispatch_secs: r.try_get::<i32>("", &format!("{pre}dispatch_secs"))? as i64,
        ack_secs: r.try_get::<i32>("", &format!("{pre}ack_secs"))? as i64,
        arrive_secs: r.try_get::<i32>("", &format!("{pre}arrive_secs"))? as i64,
    })
}

/// The most specific configured timers row along a region's ancestry.
#[derive(Default)]
pub(super) struct BestTimers(Option<(usize, Timers)>);

impl BestTimers {
    /// Considers the row configured for `row_region` (its timers read only if it applies).
    pub(super) fn offer(
        &mut self,
        region_code: &str,
        row_region: &str,
        timers: impl FnOnce() -> R<Timers>,
    ) -> R<()> {
        let p = qcity_platform::auth::scope::scope_prefix(row_region);
        if region_code.starts_with(&p) && self.0.as_ref().is_none_or(|(l, _)| p.len() > *l) {
            self.0 = Some((p.len(), timers()?));
        }
        Ok(())
    }

    pub(super) fn timers(&self) -> Option<Timers> {
        self.0.map(|(_, t)| t)
    }
}

/// Sets a region's timers.
pub async fn set_timers(
    db: &impl ConnectionTrait,
    city_id: i64,
    region_code: &str,
    t: Timers,
) -> R<()> {
    for (f, v) in [
        ("dispatch_secs", t.dispatch_secs),
        ("ack_secs", t.ack_secs),
        ("arrive_secs", t.arrive_secs),
    ] {
        if !(1..=86_400).contains(&v) {
            return Err(StoreError::invalid(f, "must be 1 s to 24 h"));
        }
    }
    let exists = one(
        db,
        "SELECT code FROM regions WHERE city_id = ? AND code = ?",
        vec![city_id.into(), region_code.into()],
    )
    .await?;
    if exists.is_none() {
        return Err(StoreError::invalid(
            "region_code",
            format!("unknown region `{region_code}`"),
        ));
    }
    exec(
        db,
        "DELETE FROM eq_timers WHERE city_id = ? AND region_code = ?",
        vec![city_id.into(), region_code.into()],
    )
    .await?;
    exec(
        db,
        "INSERT INTO eq_timers (city_id, region_code, dispatch_secs, ack_secs, arrive_secs) VALUES (?,?,?,?,?)",
        vec![city_id.into(), region_code.into(), (t.dispatch_secs as i32).into(), (t.ack_secs as i32).into(), (t.arrive_secs as i32).into()],
    )
    .await?;
    Ok(())
}
