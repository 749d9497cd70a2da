//! Tables of the evaluation module. Every table leads its primary key and foreign keys with
//! `city_id` (Citus-ready); the only unique indexes include `city_id`.

use qcity_platform::sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0100_evaluation_core"
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
fn int_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).integer().null().to_owned()
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
fn dbl(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .double()
        .not_null()
        .to_owned()
}
fn dbl_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).double().null().to_owned()
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
fn pk(cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}
fn fk(
    name: &str,
    from: &'static str,
    from_cols: &[&'static str],
    to: &'static str,
    to_cols: &[&'static str],
) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create();
    f.name(name);
    for (a, b) in from_cols.iter().zip(to_cols) {
        f.from_col(Alias::new(*a)).to_col(Alias::new(*b));
    }
    f.from_tbl(Alias::new(from)).to_tbl(Alias::new(to));
    f.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("eval_frameworks"))
                .col(big("city_id"))
                .col(big("id"))
                .col(text("code"))
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(text("description_zh"))
                .col(text("description_en"))
                .col(text("origin"))
                .col(ts("created_at"))
                .primary_key(&mut pk(&["city_id", "id"]))
                .foreign_key(&mut fk(
                    "fk_eval_frameworks_city",
                    "eval_frameworks",
                    &["city_id"],
                    "cities",
                    &["id"],
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_eval_frameworks_code")
                .table(Alias::new("eval_frameworks"))
                .col(Alias::new("city_id"))
                .col(Alias::new("code"))
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("eval_nodes"))
                .col(big("city_id"))
                .col(big("framework_id"))
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
                .foreign_key(&mut fk(
                    "fk_eval_nodes_framework",
                    "eval_nodes",
                    &["city_id", "framework_id"],
                    "eval_frameworks",
                    &["city_id", "id"],
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("eval_values"))
                .col(big("city_id"))
                .col(big("id"))
                .col(big("framework_id"))
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
                .primary_key(&mut pk(&["city_id", "id"]))
                .foreign_key(&mut fk(
                    "fk_eval_values_node",
                    "eval_values",
                    &["city_id", "framework_id", "indicator_code"],
                    "eval_nodes",
                    &["city_id", "framework_id", "code"],
                ))
                .foreign_key(&mut fk(
                    "fk_eval_values_region",
                    "eval_values",
                    &["city_id", "region_code"],
                    "regions",
                    &["city_id", "code"],
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_eval_values_cell")
                .table(Alias::new("eval_values"))
                .col(Alias::new("city_id"))
                .col(Alias::new("framework_id"))
                .col(Alias::new("indicator_code"))
                .col(Alias::new("region_code"))
                .col(Alias::new("year"))
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_eval_values_region_year")
                .table(Alias::new("eval_values"))
                .col(Alias::new("city_id"))
                .col(Alias::new("framework_id"))
                .col(Alias::new("year"))
                .col(Alias::new("region_code"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("eval_rules"))
                .col(big("city_id"))
                .col(big("id"))
                .col(big("framework_id"))
                .col(text("indicator_code"))
                .col(text("kind"))
                .col(dbl_null("min"))
                .col(dbl_null("max"))
                .col(dbl_null("threshold"))
                .col(
                    ColumnDef::new(Alias::new("active"))
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .primary_key(&mut pk(&["city_id", "id"]))
                .foreign_key(&mut fk(
                    "fk_eval_rules_framework",
                    "eval_rules",
                    &["city_id", "framework_id"],
                    "eval_frameworks",
                    &["city_id", "id"],
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("eval_runs"))
                .col(big("city_id"))
                .col(big("id"))
                .col(big("framework_id"))
                .col(text("name"))
                .col(text("years"))
                .col(text("regions"))
                .col(text("spec_toml"))
                .col(text("statuses"))
                .col(int("uncertainty_n"))
                .col(big("seed"))
                .col(text("inputs"))
                .col(text_null("results"))
                .col(text("status"))
                .col(text("message"))
                .col(text("created_by"))
                .col(ts("created_at"))
                .col(ts_null("finished_at"))
                .primary_key(&mut pk(&["city_id", "id"]))
                .foreign_key(&mut fk(
                    "fk_eval_runs_framework",
                    "eval_runs",
                    &["city_id", "framework_id"],
                    "eval_frameworks",
                    &["city_id", "id"],
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
