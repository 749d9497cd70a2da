//! One version of a city's annual quality report (城市质量状况分析报告的一个版本).

pub mod report_version {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "report_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub city_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub year: i32,
        /// 1, 2, … per (city, year); a correction of a published report is a new version.
        pub version: i32,
        /// `draft`, `review` or `published`.
        pub status: String,
        /// JSON [`crate::store::Snapshot`]: the sections assembled from every module.
        pub snapshot: String,
        /// JSON list of [`crate::store::NarrativeBlock`].
        pub narrative: String,
        /// What this version changes (required for a correction).
        pub change_note: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub submitted_at: Option<DateTimeUtc>,
        pub published_at: Option<DateTimeUtc>,
        pub published_by: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
