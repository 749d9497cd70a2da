//! The report module's tables: versions of the annual report (报告版本).

use qcity_platform::migration::schema::{
    fk_city, id, ident, index, int, tenant_pk, text, text_null, ts, ts_null,
};
use qcity_platform::sea_orm_migration::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend};

pub struct M0400ReportCore;

impl MigrationName for M0400ReportCore {
    fn name(&self) -> &str {
        "m0400_report_core"
    }
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
                .table(ident("report_versions"))
                .col(id("city_id"))
                .col(id("id"))
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
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut fk_city("report_versions"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_report_versions_year_version",
            "report_versions",
            &["city_id", "year", "version"],
            true,
        ))
        .await?;
        let backend = m.get_database_backend();
        for sql in published_is_immutable(backend) {
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
