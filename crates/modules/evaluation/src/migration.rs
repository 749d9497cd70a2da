//! Tables of the evaluation module. Every table leads its primary key and foreign keys with
//! `city_id` (Citus-ready); the only unique indexes include `city_id`.

use qcity_platform::migration::schema::{
    dbl, dbl_null, fk, fk_city, id, ident, index, int, int_null, pk, tenant_fk, tenant_pk, text,
    text_null, ts, ts_null,
};
use qcity_platform::sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0100_evaluation_core"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ident("eval_frameworks"))
                .col(id("city_id"))
                .col(id("id"))
                .col(text("code"))
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(text("description_zh"))
                .col(text("description_en"))
                .col(text("origin"))
                .col(ts("created_at"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut fk_city("eval_frameworks"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_eval_frameworks_code",
            "eval_frameworks",
            &["city_id", "code"],
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ident("eval_nodes"))
                .col(id("city_id"))
                .col(id("framework_id"))
                .col(text("code"))
                .col(text_null("parent_code"))
                .col(int("level"))
                .col(text("kind"))
                .col(int("position"))
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(text("definition_zh"))
                .col(text("definition_en"))
                .col(text("unit"))
                .col(int("direction"))
                .col(dbl_null("band_low"))
                .col(dbl_null("band_high"))
                .col(text("source_zh"))
                .col(text("source_en"))
                .col(text("department"))
                .col(text("computation"))
                .col(text("numerator"))
                .col(text("denominator"))
                .col(dbl("factor"))
                .col(dbl_null("target"))
                .col(int_null("target_year"))
                .col(dbl("weight"))
                .primary_key(&mut pk(&["city_id", "framework_id", "code"]))
                .foreign_key(&mut tenant_fk(
                    "fk_eval_nodes_framework",
                    "eval_nodes",
                    "framework_id",
                    "eval_frameworks",
                    "id",
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ident("eval_values"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("framework_id"))
                .col(text("indicator_code"))
                .col(text("region_code"))
                .col(int("year"))
                .col(dbl("value"))
                .col(dbl_null("numerator"))
                .col(dbl_null("denominator"))
                .col(text("source"))
                .col(text("note"))
                .col(text("status"))
                .col(text("origin"))
                .col(text("updated_by"))
                .col(ts("updated_at"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut fk(
                    "fk_eval_values_node",
                    "eval_values",
                    &["city_id", "framework_id", "indicator_code"],
                    "eval_nodes",
                    &["city_id", "framework_id", "code"],
                ))
                .foreign_key(&mut tenant_fk(
                    "fk_eval_values_region",
                    "eval_values",
                    "region_code",
                    "regions",
                    "code",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_eval_values_cell",
            "eval_values",
            &[
                "city_id",
                "framework_id",
                "indicator_code",
                "region_code",
                "year",
            ],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_eval_values_region_year",
            "eval_values",
            &["city_id", "framework_id", "year", "region_code"],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ident("eval_rules"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("framework_id"))
                .col(text("indicator_code"))
                .col(text("kind"))
                .col(dbl_null("min"))
                .col(dbl_null("max"))
                .col(dbl_null("threshold"))
                .col(
                    // `schema::boolean` defaults to false; rules are active by default
                    ColumnDef::new(ident("active"))
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut tenant_fk(
                    "fk_eval_rules_framework",
                    "eval_rules",
                    "framework_id",
                    "eval_frameworks",
                    "id",
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ident("eval_runs"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("framework_id"))
                .col(text("name"))
                .col(text("years"))
                .col(text("regions"))
                .col(text("spec_toml"))
                .col(text("statuses"))
                .col(int("uncertainty_n"))
                .col(id("seed"))
                .col(text("inputs"))
                .col(text_null("results"))
                .col(text("status"))
                .col(text("message"))
                .col(text("created_by"))
                .col(ts("created_at"))
                .col(ts_null("finished_at"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut tenant_fk(
                    "fk_eval_runs_framework",
                    "eval_runs",
                    "framework_id",
                    "eval_frameworks",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
