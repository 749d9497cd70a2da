//! Feeds: values other modules supply for a year, pulled into a framework as submitted
//! values with their source recorded.

use super::{APPROVED, PUBLISHED, Result, SUBMITTED, ValueInput, nodes, save_value};
use crate::entity::value;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::db::BeginWrite;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};
use serde::Serialize;
use std::collections::BTreeMap;

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
