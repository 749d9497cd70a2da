//! An administrative region of a city: district/county, street, community. 行政区划
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "regions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub city_id: i64,
    /// Administrative division code: 6 digits (GB/T 2260) down to county, 9 for a street
    /// (乡镇街道), 12 for a community (社区/村).
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub parent_code: Option<String>,
    /// `city`, `district`, `street` or `community`.
    pub level: String,
    pub name_zh: String,
    pub name_en: String,
    /// Code prefix every region in this subtree shares (scope filter).
    pub scope_prefix: String,
    /// 市辖区 (urban district) rather than a county: shorter rescue arrival limits.
    pub urban: bool,
    pub population: Option<i64>,
    pub area_km2: Option<f64>,
    /// GeoJSON geometry (Polygon or MultiPolygon) for maps.
    pub boundary: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
