//! Quotas (样本配额) of a wave: district × demographic cells, their live progress, and the
//! full cell a respondent falls in.

use super::{Result, StoreError, all, count_of, exec, get, one};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use std::collections::BTreeMap;

/// A quota cell: district × (demographic variable = category); `variable` empty for a
/// district-only cell.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct QuotaCell {
    pub district: String,
    #[serde(default)]
    pub variable: String,
    #[serde(default)]
    pub category: String,
    pub target: i32,
}

/// Quota progress of one cell.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaProgress {
    #[serde(flatten)]
    pub cell: QuotaCell,
    pub achieved: i64,
    pub full: bool,
}

pub async fn set_quotas(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    cells: &[QuotaCell],
) -> Result<()> {
    for (i, c) in cells.iter().enumerate() {
        if c.target < 0 {
            return Err(StoreError::invalid(
                format!("quotas[{i}].target"),
                "target cannot be negative",
            ));
        }
        if !c.variable.is_empty()
            && (!crate::model::DEMOGRAPHICS.contains(&c.variable.as_str())
                || c.variable == "district")
        {
            return Err(StoreError::invalid(
                format!("quotas[{i}].variable"),
                format!("unknown variable `{}`", c.variable),
            ));
        }
    }
    exec(
        db,
        "DELETE FROM survey_quotas WHERE city_id = ? AND wave_id = ?",
        vec![city_id.into(), wave_id.into()],
    )
    .await?;
    for c in cells {
        exec(
            db,
            "INSERT INTO survey_quotas (city_id, wave_id, district, variable, category, target) VALUES (?,?,?,?,?,?)",
            vec![city_id.into(), wave_id.into(), c.district.clone().into(), c.variable.clone().into(), c.category.clone().into(), c.target.into()],
        )
        .await
        .map_err(|e| match e {
            StoreError::Db(_) => StoreError::invalid("quotas", format!("cell {} {}={} given twice", c.district, c.variable, c.category)),
            e => e,
        })?;
    }
    Ok(())
}

fn demo_column(variable: &str) -> Option<&'static str> {
    match variable {
        "age_group" => Some("age_group"),
        "sex" => Some("sex"),
        "education" => Some("education"),
        "residence" => Some("residence"),
        _ => None,
    }
}

/// Quotas with live progress (complete responses per cell), limited to districts in `prefix`.
/// A `survey_quotas` row.
fn cell_of(r: &sea_orm::QueryResult) -> Result<QuotaCell> {
    Ok(QuotaCell {
        district: get(r, "district")?,
        variable: get(r, "variable")?,
        category: get(r, "category")?,
        target: get(r, "target")?,
    })
}

pub async fn quota_progress(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    prefix: &str,
) -> Result<Vec<QuotaProgress>> {
    let rows = all(
        db,
        "SELECT district, variable, category, target FROM survey_quotas WHERE city_id = ? AND wave_id = ? AND district LIKE ? ORDER BY district, variable, category",
        vec![city_id.into(), wave_id.into(), format!("{prefix}%").into()],
    )
    .await?;
    let counts = all(
        db,
        "SELECT region_code, age_group, sex, education, residence, COUNT(*) AS n FROM survey_responses WHERE city_id = ? AND wave_id = ? AND status = 'complete' GROUP BY region_code, age_group, sex, education, residence",
        vec![city_id.into(), wave_id.into()],
    )
    .await?;
    let mut tally: Vec<(BTreeMap<&str, String>, i64)> = Vec::new();
    for r in &counts {
        let mut m = BTreeMap::new();
        for c in ["region_code", "age_group", "sex", "education", "residence"] {
            m.insert(c, get::<Option<String>>(r, c)?.unwrap_or_default());
        }
        tally.push((m, get::<i64>(r, "n")?));
    }
    let mut out = Vec::new();
    for r in &rows {
        let cell = cell_of(r)?;
        let achieved: i64 = tally
            .iter()
            .filter(|(m, _)| {
                m["region_code"] == cell.district
                    && demo_column(&cell.variable).is_none_or(|c| m[c] == cell.category)
            })
            .map(|(_, n)| n)
            .sum();
        out.push(QuotaProgress {
            full: achieved >= cell.target as i64,
            cell,
            achieved,
        });
    }
    Ok(out)
}

/// The first full quota cell a respondent with these demographics falls in.
pub async fn full_cell_for(
    db: &impl ConnectionTrait,
    city_id: i64,
    wave_id: i64,
    demo: &BTreeMap<String, String>,
) -> Result<Option<QuotaCell>> {
    let Some(district) = demo.get("district") else {
        return Ok(None);
    };
    let rows = all(
        db,
        "SELECT district, variable, category, target FROM survey_quotas WHERE city_id = ? AND wave_id = ? AND district = ?",
        vec![city_id.into(), wave_id.into(), district.clone().into()],
    )
    .await?;
    for r in &rows {
        let cell = cell_of(r)?;
        let n = match demo_column(&cell.variable) {
            None if cell.variable.is_empty() => count_of(one(db, "SELECT COUNT(*) AS n FROM survey_responses WHERE city_id = ? AND wave_id = ? AND status = 'complete' AND region_code = ?", vec![city_id.into(), wave_id.into(), district.clone().into()]).await?)?,
            None => continue,
            Some(col) => {
                if demo.get(&cell.variable) != Some(&cell.category) {
                    continue;
                }
                count_of(one(db, &format!("SELECT COUNT(*) AS n FROM survey_responses WHERE city_id = ? AND wave_id = ? AND status = 'complete' AND region_code = ? AND {col} = ?"), vec![city_id.into(), wave_id.into(), district.clone().into(), cell.category.clone().into()]).await?)?
            }
        };
        if n >= cell.target as i64 {
            return Ok(Some(cell));
        }
    }
    Ok(None)
}
