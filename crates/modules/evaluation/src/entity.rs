//! SeaORM entities of the evaluation tables. Every table leads with `city_id`.

/// An indicator framework of a city (a built-in copy or the city's own). 指标体系
pub mod framework {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "eval_frameworks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub city_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        /// Short code, unique per city (`CQ`, `ISO37120`, `CS`).
        pub code: String,
        pub name_zh: String,
        pub name_en: String,
        pub description_zh: String,
        pub description_en: String,
        /// Catalogue it was copied from (`iso37120`, `city_quality`, `satisfaction`) or `custom`.
        pub origin: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A node of a framework tree: the index, a dimension or an indicator, with its passport.
pub mod node {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "eval_nodes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub city_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub framework_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub parent_code: Option<String>,
        /// 1 = indicator, 2 = dimension, 3 = index.
        pub level: i32,
        /// `index`, `dimension` or `indicator`.
        pub kind: String,
        pub position: i32,
        pub name_zh: String,
        pub name_en: String,
        pub definition_zh: String,
        pub definition_en: String,
        pub unit: String,
        /// +1 higher is better, −1 lower is better.
        pub direction: i32,
        /// Target band (goalposts): the value scored 0 and 100 (raw units, low < high).
        pub band_low: Option<f64>,
        pub band_high: Option<f64>,
        pub source_zh: String,
        pub source_en: String,
        /// 责任部门
        pub department: String,
        /// `raw` or `ratio` (numerator / denominator × factor).
        pub computation: String,
        pub numerator: String,
        pub denominator: String,
        pub factor: f64,
        pub target: Option<f64>,
        pub target_year: Option<i32>,
        pub weight: f64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One value of an indicator for a region and year, with its approval status.
pub mod value {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "eval_values")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub city_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub framework_id: i64,
        pub indicator_code: String,
        pub region_code: String,
        pub year: i32,
        pub value: f64,
        pub numerator: Option<f64>,
        pub denominator: Option<f64>,
        pub source: String,
        pub note: String,
        /// `draft`, `submitted`, `approved`, `published`.
        pub status: String,
        /// `manual`, `import` or `feed:<module>`.
        pub origin: String,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A validation rule stored as data (range, year-on-year change, outlier z-score).
pub mod rule {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "eval_rules")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub city_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub framework_id: i64,
        /// Indicator code, or empty for every indicator of the framework.
        pub indicator_code: String,
        /// `range`, `yoy` or `zscore`.
        pub kind: String,
        pub min: Option<f64>,
        pub max: Option<f64>,
        /// `yoy`: largest allowed change in percent; `zscore`: largest |z|.
        pub threshold: Option<f64>,
        pub active: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A stored index run: spec, inputs and results, so it can be reproduced exactly.
pub mod run {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "eval_runs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub city_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub framework_id: i64,
        pub name: String,
        /// JSON array of years.
        pub years: String,
        /// JSON array of region codes (the units).
        pub regions: String,
        /// The engine's pipeline TOML.
        pub spec_toml: String,
        /// Which value statuses fed the run (`published`, `approved`, …) as JSON array.
        pub statuses: String,
        /// Monte Carlo replications (0 = none) and seed.
        pub uncertainty_n: i32,
        pub seed: i64,
        /// The exact inputs (framework nodes and values) as JSON.
        pub inputs: String,
        /// Results as JSON (`null` until finished).
        pub results: Option<String>,
        /// `running`, `finished` or `failed`.
        pub status: String,
        pub message: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub finished_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
