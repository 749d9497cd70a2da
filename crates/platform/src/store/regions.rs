//! Regions of a city: a tree keyed by administrative division codes.

use super::StoreError;
use crate::auth::RegionScope;
use crate::auth::scope::{level_of, scope_prefix};
use crate::entity::region;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;

/// A region to create or update.
#[derive(Debug, Clone)]
pub struct NewRegion {
    pub code: String,
    pub parent_code: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    pub urban: bool,
    pub population: Option<i64>,
    pub area_km2: Option<f64>,
    pub boundary: Option<String>,
}

/// A region as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionView {
    pub code: String,
    pub name: String,
    pub name_zh: String,
    pub name_en: String,
    pub level: String,
    pub parent: Option<String>,
    pub population: Option<i64>,
    pub area_km2: Option<f64>,
}

impl RegionView {
    pub fn from_model(m: &region::Model, lang: &str) -> Self {
        Self {
            code: m.code.clone(),
            name: if lang == "en" {
                m.name_en.clone()
            } else {
                m.name_zh.clone()
            },
            name_zh: m.name_zh.clone(),
            name_en: m.name_en.clone(),
            level: m.level.clone(),
            parent: m.parent_code.clone(),
            population: m.population,
            area_km2: m.area_km2,
        }
    }
}

/// Creates or updates a region, checking that its code has a valid shape and lies under its
/// parent.
pub async fn upsert(
    db: &impl ConnectionTrait,
    city_id: i64,
    r: &NewRegion,
) -> Result<region::Model, StoreError> {
    let level = level_of(&r.code).ok_or_else(|| {
        StoreError::invalid(
            "code",
            format!("`{}` is not a 6, 9 or 12 digit division code", r.code),
        )
    })?;
    if let Some(p) = &r.parent_code {
        let parent = region::Entity::find_by_id((city_id, p.clone()))
            .one(db)
            .await?
            .ok_or_else(|| {
                StoreError::invalid("parent_code", format!("parent region `{p}` does not exist"))
            })?;
        if !r.code.starts_with(&parent.scope_prefix) || r.code == parent.code {
            return Err(StoreError::invalid(
                "code",
                format!("`{}` does not lie under parent `{p}`", r.code),
            ));
        }
    } else if level != "city" {
        return Err(StoreError::invalid(
            "parent_code",
            "only the city region may have no parent",
        ));
    }
    if let Some(b) = &r.boundary {
        let v: serde_json::Value = serde_json::from_str(b)
            .map_err(|e| StoreError::invalid("boundary", format!("not GeoJSON: {e}")))?;
        let t = v.get("type").and_then(|t| t.as_str()).unwrap_or("");
        if t != "Polygon" && t != "MultiPolygon" {
            return Err(StoreError::invalid(
                "boundary",
                "must be a GeoJSON Polygon or MultiPolygon geometry",
            ));
        }
    }
    let am = region::ActiveModel {
        city_id: Set(city_id),
        code: Set(r.code.clone()),
        parent_code: Set(r.parent_code.clone()),
        level: Set(level.to_string()),
        name_zh: Set(r.name_zh.clone()),
        name_en: Set(r.name_en.clone()),
        scope_prefix: Set(scope_prefix(&r.code)),
        urban: Set(r.urban),
        population: Set(r.population),
        area_km2: Set(r.area_km2),
        boundary: Set(r.boundary.clone()),
    };
    let existing = region::Entity::find_by_id((city_id, r.code.clone()))
        .one(db)
        .await?;
    Ok(match existing {
        Some(_) => am.update(db).await?,
        None => am.insert(db).await?,
    })
}

/// Regions the scope may see, ordered by code.
pub async fn list_visible(
    db: &impl ConnectionTrait,
    scope: &RegionScope,
) -> Result<Vec<region::Model>, StoreError> {
    Ok(region::Entity::find()
        .filter(region::Column::CityId.eq(scope.city_id))
        .filter(region::Column::Code.starts_with(&scope.prefix))
        .order_by_asc(region::Column::Code)
        .all(db)
        .await?)
}

/// One region, `NotFound` when outside the scope (indistinguishable from absent).
pub async fn get_visible(
    db: &impl ConnectionTrait,
    scope: &RegionScope,
    code: &str,
) -> Result<region::Model, StoreError> {
    if !scope.contains(scope.city_id, code) {
        return Err(StoreError::NotFound(format!("region {code}")));
    }
    region::Entity::find_by_id((scope.city_id, code.to_string()))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("region {code}")))
}

/// The root (city-level) region of a city.
pub async fn city_root(
    db: &impl ConnectionTrait,
    city_id: i64,
) -> Result<Option<region::Model>, StoreError> {
    Ok(region::Entity::find()
        .filter(region::Column::CityId.eq(city_id))
        .filter(region::Column::ParentCode.is_null())
        .one(db)
        .await?)
}

/// Renames a region (admin page).
pub async fn rename(
    db: &impl ConnectionTrait,
    city_id: i64,
    code: &str,
    name_zh: &str,
    name_en: &str,
) -> Result<(region::Model, region::Model), StoreError> {
    let before = region::Entity::find_by_id((city_id, code.to_string()))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("region {code}")))?;
    if name_zh.trim().is_empty() {
        return Err(StoreError::invalid("name_zh", "must not be empty"));
    }
    let mut am = before.clone().into_active_model();
    am.name_zh = Set(name_zh.trim().to_string());
    am.name_en = Set(name_en.trim().to_string());
    let after = am.update(db).await?;
    Ok((before, after))
}
