//! Validation-rule checks (数据校验) of a value: range, year-on-year change and z-score
//! against the other regions of the same level, as warnings.

use super::Result;
use crate::entity::{rule, value};
use crate::rules::RuleTest;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

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
    for test in rules.iter().filter(|r| applies(r)).filter_map(RuleTest::of) {
        match test {
            RuleTest::Range { min, max } => {
                if min.is_some_and(|m| v.value < m) || max.is_some_and(|m| v.value > m) {
                    out.push(w(
                        "range",
                        format!(
                            "{} outside the allowed range [{}, {}]",
                            v.value,
                            min.map(|x| x.to_string()).unwrap_or_else(|| "−∞".into()),
                            max.map(|x| x.to_string()).unwrap_or_else(|| "∞".into())
                        ),
                    ));
                }
            }
            RuleTest::Yoy { max_pct: th } => {
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
            RuleTest::Zscore { max_z: th } => {
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
        }
    }
    Ok(out)
}
