//! The report module's tables: versions of the annual report (报告版本).

use qcity_platform::sea_orm_migration::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend};

pub struct M0400ReportCore;

impl MigrationName for M0400ReportCore {
    fn name(&self) -> &str {
        "m0400_report_core"
    }
}

fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}
fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .integer()
        .not_null()
        .to_owned()
}
fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .text()
        .not_null()
        .to_owned()
}
fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).text().null().to_owned()
}
fn ts(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}
fn ts_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

/// SQL that makes a published version immutable on both backends (no UPDATE, no DELETE once
/// `status = 'published'`).
pub fn published_is_immutable(backend: DbBackend) -> Vec<String> {
    match backend {
        DbBackend::Postgres => vec![
            "CREATE OR REPLACE FUNCTION report_published_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.status = 'published' THEN RAISE EXCEPTION 'a published report version is immutable'; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$".to_string(),
            "CREATE TRIGGER report_versions_immutable BEFORE UPDATE OR DELETE ON report_versions FOR EACH ROW EXECUTE FUNCTION report_published_immutable()".to_string(),
        ],
        _ => vec![
            "CREATE TRIGGER report_versions_no_update BEFORE UPDATE ON report_versions WHEN OLD.status = 'published' BEGIN SELECT RAISE(ABORT, 'a published report version is immutable'); END".to_string(),
            "CREATE TRIGGER report_versions_no_delete BEFORE DELETE ON report_versions WHEN OLD.status = 'published' BEGIN SELECT RAISE(ABORT, 'a published report version is immutable'); END".to_string(),
        ],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0400ReportCore {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("report_versions"))
                .col(big("city_id"))
                .col(big("id"))
                .col(int("year"))
                .col(int("version"))
                .col(text("status"))
                .col(text("snapshot"))
                .col(text("narrative"))
                .col(text("change_note"))
                .col(text("created_by"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(ts_null("submitted_at"))
                .col(ts_null("published_at"))
                .col(text_null("published_by"))
                .primary_key(
                    Index::create()
                        .col(Alias::new("city_id"))
                        .col(Alias::new("id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_report_versions_city")
                        .from(Alias::new("report_versions"), Alias::new("city_id"))
                        .to(Alias::new("cities"), Alias::new("id")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_report_versions_year_version")
                .table(Alias::new("report_versions"))
                .col(Alias::new("city_id"))
                .col(Alias::new("year"))
                .col(Alias::new("version"))
                .unique()
                .to_owned(),
        )
        .await?;
        let backend = m.get_database_backend();
        for sql in published_is_immutable(backend) {
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
