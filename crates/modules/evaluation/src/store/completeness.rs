//! Completeness (填报完整度) of a framework's indicators for a year over the regions in
//! scope, and the regions a principal may see or enter values for.

use super::{PUBLISHED, Result, ValueFilter, get_framework, list_values, nodes};
use qcity_platform::auth::Principal;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use std::collections::BTreeMap;

/// Completeness of a framework's indicators for one year over the regions in scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Completeness {
    pub framework_id: i64,
    pub year: i32,
    pub regions: Vec<String>,
    pub indicators: Vec<String>,
    /// `cells[i][r]`: status of indicator i in region r (`null` = missing).
    pub cells: Vec<Vec<Option<String>>>,
    /// Share of cells with any value, per indicator (0–1).
    pub by_indicator: Vec<f64>,
    /// Share of cells with any value, per region (0–1).
    pub by_region: Vec<f64>,
    /// Share of all cells with a value, and with a published value.
    pub overall: f64,
    pub published: f64,
}

/// The completeness matrix for the given regions (all districts in scope when empty).
pub async fn completeness(
    db: &impl ConnectionTrait,
    p: &Principal,
    framework_id: i64,
    year: i32,
    regions: &[String],
) -> Result<Completeness> {
    get_framework(db, p.city_id, framework_id).await?;
    let regions: Vec<String> = if regions.is_empty() {
        scoped_districts(db, p)
            .await?
            .into_iter()
            .map(|r| r.code)
            .collect()
    } else {
        regions
            .iter()
            .filter(|r| p.scope.contains(p.city_id, r))
            .cloned()
            .collect()
    };
    let inds: Vec<String> = nodes(db, p.city_id, framework_id)
        .await?
        .into_iter()
        .filter(|n| n.level == 1)
        .map(|n| n.code)
        .collect();
    let vals = list_values(
        db,
        p,
        &ValueFilter {
            framework_id: Some(framework_id),
            year: Some(year),
            ..Default::default()
        },
    )
    .await?;
    let map: BTreeMap<(&str, &str), &str> = vals
        .iter()
        .map(|v| {
            (
                (v.indicator_code.as_str(), v.region_code.as_str()),
                v.status.as_str(),
            )
        })
        .collect();
    let cells: Vec<Vec<Option<String>>> = inds
        .iter()
        .map(|i| {
            regions
                .iter()
                .map(|r| map.get(&(i.as_str(), r.as_str())).map(|s| s.to_string()))
                .collect()
        })
        .collect();
    let share = |xs: &mut dyn Iterator<Item = bool>| {
        let (n, k) = xs.fold((0usize, 0usize), |(n, k), b| (n + 1, k + usize::from(b)));
        if n == 0 { 0.0 } else { k as f64 / n as f64 }
    };
    let by_indicator = cells
        .iter()
        .map(|row| share(&mut row.iter().map(|c| c.is_some())))
        .collect();
    let by_region = (0..regions.len())
        .map(|r| share(&mut cells.iter().map(|row| row[r].is_some())))
        .collect();
    let overall = share(&mut cells.iter().flatten().map(|c| c.is_some()));
    let published = share(
        &mut cells
            .iter()
            .flatten()
            .map(|c| c.as_deref() == Some(PUBLISHED)),
    );
    Ok(Completeness {
        framework_id,
        year,
        regions,
        indicators: inds,
        cells,
        by_indicator,
        by_region,
        overall,
        published,
    })
}

/// District-level regions in the principal's scope (the district itself for a district
/// officer).
pub async fn scoped_districts(
    db: &impl ConnectionTrait,
    p: &Principal,
) -> Result<Vec<qcity_platform::entity::region::Model>> {
    Ok(qcity_platform::store::regions::list_visible(db, &p.scope)
        .await?
        .into_iter()
        .filter(|r| r.level == "district")
        .collect())
}

/// Regions a value may be entered for: the city (if in scope) and the districts in scope.
pub async fn entry_regions(
    db: &impl ConnectionTrait,
    p: &Principal,
) -> Result<Vec<qcity_platform::entity::region::Model>> {
    Ok(qcity_platform::store::regions::list_visible(db, &p.scope)
        .await?
        .into_iter()
        .filter(|r| r.level == "district" || r.level == "city")
        .collect())
}
