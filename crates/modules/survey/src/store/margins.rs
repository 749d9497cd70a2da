//! Population margins (总体边际) of a wave, the totals its responses are weighted to.

use super::{Result, StoreError, all, exec, get};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use std::collections::BTreeMap;

/// One population margin cell.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct MarginCell {
    pub variable: String,
    pub category: String,
    pub total: f64,
}

/// Replaces a wave's population margins. Each variable must sum to the same population total.
pub async fn set_margins(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    cells: &[MarginCell],
) -> Result<()> {
    let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        if !crate::model::DEMOGRAPHICS.contains(&c.variable.as_str()) {
            return Err(StoreError::invalid(
                format!("margins[{i}].variable"),
                format!("unknown variable `{}`", c.variable),
            ));
        }
        if !(c.total.is_finite() && c.total > 0.0) {
            return Err(StoreError::invalid(
                format!("margins[{i}].total"),
                "a population total is a positive number",
            ));
        }
        *sums.entry(&c.variable).or_default() += c.total;
    }
    if let Some((&v0, &s0)) = sums.iter().next()
        && let Some((v, s)) = sums.iter().find(|(_, s)| ((**s - s0) / s0).abs() > 1e-6)
    {
        return Err(StoreError::invalid(
            "margins",
            format!(
                "`{v}` sums to {s} but `{v0}` sums to {s0}: margins must share one population total"
            ),
        ));
    }
    exec(
        db,
        "DELETE FROM survey_margins WHERE city_id = ? AND wave_id = ?",
        vec![city_id.into(), wave_id.into()],
    )
    .await?;
    for c in cells {
        exec(
            db,
            "INSERT INTO survey_margins (city_id, wave_id, variable, category, total) VALUES (?,?,?,?,?)",
            vec![city_id.into(), wave_id.into(), c.variable.clone().into(), c.category.clone().into(), c.total.into()],
        )
        .await
        .map_err(|e| match e {
            StoreError::Db(_) => StoreError::invalid("margins", format!("cell {}={} given twice", c.variable, c.category)),
            e => e,
        })?;
    }
    Ok(())
}

pub async fn margins(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
) -> Result<Vec<MarginCell>> {
    let rows = all(db, "SELECT variable, category, total FROM survey_margins WHERE city_id = ? AND wave_id = ? ORDER BY variable, category", vec![city_id.into(), wave_id.into()]).await?;
    rows.iter()
        .map(|r| {
            Ok(MarginCell {
                variable: get(r, "variable")?,
                category: get(r, "category")?,
                total: get(r, "total")?,
            })
        })
        .collect()
}
