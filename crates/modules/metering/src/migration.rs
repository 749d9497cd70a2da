//! Tables of the metering module. Every table leads with `city_id` in its primary key and in every
//! foreign key (Citus-ready); unique indexes include `city_id`.
//!
//! Interval timestamps of the hot tables (`mt_readings`, `mt_rollups`) are stored as epoch seconds
//! (`BIGINT`, UTC): bucket arithmetic (`ts - ts % 3600`) is then the same integer SQL on SQLite
//! and PostgreSQL, and the bulk insert path binds plain integers.

use qcity_platform::sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0500_metering_core"
    }
}

fn a(n: &str) -> Alias {
    Alias::new(n)
}
fn id(n: &str) -> ColumnDef {
    ColumnDef::new(a(n)).big_integer().not_null().to_owned()
}
fn id_null(n: &str) -> ColumnDef {
    ColumnDef::new(a(n)).big_integer().null().to_owned()
}
fn int(n: &str) -> ColumnDef {
    ColumnDef::new(a(n)).integer().not_null().to_owned()
}
fn text(n: &str) -> ColumnDef {
    ColumnDef::new(a(n)).text().not_null().to_owned()
}
fn text_null(n: &str) -> ColumnDef {
    ColumnDef::new(a(n)).text().null().to_owned()
}
fn dbl(n: &str) -> ColumnDef {
    ColumnDef::new(a(n)).double().not_null().to_owned()
}
fn dbl_null(n: &str) -> ColumnDef {
    ColumnDef::new(a(n)).double().null().to_owned()
}
fn ts(n: &str) -> ColumnDef {
    ColumnDef::new(a(n))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}
fn ts_null(n: &str) -> ColumnDef {
    ColumnDef::new(a(n))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}
fn pk(cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    for c in cols {
        i.col(a(c));
    }
    i.to_owned()
}
fn fk(
    name: &str,
    table: &str,
    col: &str,
    to_table: &str,
    to_col: &str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(a(table), (a("city_id"), a(col)))
        .to(a(to_table), (a("city_id"), a(to_col)))
        .to_owned()
}
fn fk_city(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_city"))
        .from(a(table), a("city_id"))
        .to(a("cities"), a("id"))
        .to_owned()
}
fn index(name: &str, table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(a(table));
    for c in cols {
        i.col(a(c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // 重点用能单位 key energy-consuming units.
        m.create_table(
            Table::create()
                .table(a("mt_units"))
                .col(id("city_id"))
                .col(id("id"))
                .col(text("uscc"))
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(text("industry"))
                .col(text("region_code"))
                .col(text("address"))
                .col(text("output_unit"))
                .col(dbl_null("value_added_10k_yuan"))
                .col(dbl_null("annual_tce"))
                .col(ts("created_at"))
                .primary_key(&mut pk(&["city_id", "id"]))
                .foreign_key(&mut fk_city("mt_units"))
                .foreign_key(&mut fk(
                    "fk_mt_units_region",
                    "mt_units",
                    "region_code",
                    "regions",
                    "code",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_mt_units_uscc",
            "mt_units",
            &["city_id", "uscc"],
            true,
        ))
        .await?;
        // Meter tree: site → building → line → device. `status`: installed | planned (required
        // by GB 17167 but not yet fitted) | virtual (a grouping node without a meter).
        m.create_table(
            Table::create()
                .table(a("mt_meters"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("unit_id"))
                .col(id_null("parent_id"))
                .col(text("level"))
                .col(text("code"))
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(text("energy_type"))
                .col(text("measure_unit"))
                .col(int("interval_min"))
                .col(dbl("multiplier"))
                .col(dbl_null("high_limit"))
                .col(text("status"))
                .col(text("region_code"))
                .col(ts("created_at"))
                .primary_key(&mut pk(&["city_id", "id"]))
                .foreign_key(&mut fk_city("mt_meters"))
                .foreign_key(&mut fk(
                    "fk_mt_meters_unit",
                    "mt_meters",
                    "unit_id",
                    "mt_units",
                    "id",
                ))
                .foreign_key(&mut fk(
                    "fk_mt_meters_parent",
                    "mt_meters",
                    "parent_id",
                    "mt_meters",
                    "id",
                ))
                .foreign_key(&mut fk(
                    "fk_mt_meters_region",
                    "mt_meters",
                    "region_code",
                    "regions",
                    "code",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_mt_meters_code",
            "mt_meters",
            &["city_id", "unit_id", "code"],
            true,
        ))
        .await?;
        // Interval readings: raw value as received, validated value, quality flag and rule id.
        m.create_table(
            Table::create()
                .table(a("mt_readings"))
                .col(id("city_id"))
                .col(id("meter_id"))
                .col(id("ts"))
                .col(dbl_null("raw_value"))
                .col(dbl_null("value"))
                .col(text("quality"))
                .col(text_null("rule_id"))
                .col(id("received_at"))
                .primary_key(&mut pk(&["city_id", "meter_id", "ts"]))
                .foreign_key(&mut fk(
                    "fk_mt_readings_meter",
                    "mt_readings",
                    "meter_id",
                    "mt_meters",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        // Rollups of validated values: grain h (hour), d (local day), m (local month).
        m.create_table(
            Table::create()
                .table(a("mt_rollups"))
                .col(id("city_id"))
                .col(id("meter_id"))
                .col(text("grain"))
                .col(id("bucket"))
                .col(dbl("value"))
                .col(id("n"))
                .primary_key(&mut pk(&["city_id", "meter_id", "grain", "bucket"]))
                .foreign_key(&mut fk(
                    "fk_mt_rollups_meter",
                    "mt_rollups",
                    "meter_id",
                    "mt_meters",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        // VEE edit trail.
        m.create_table(
            Table::create()
                .table(a("mt_vee_edits"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("meter_id"))
                .col(id("ts"))
                .col(text("rule_id"))
                .col(dbl_null("before_value"))
                .col(dbl_null("after_value"))
                .col(text("quality"))
                .col(text("actor"))
                .col(ts("at"))
                .primary_key(&mut pk(&["city_id", "id"]))
                .foreign_key(&mut fk(
                    "fk_mt_vee_edits_meter",
                    "mt_vee_edits",
                    "meter_id",
                    "mt_meters",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_mt_vee_edits_meter",
            "mt_vee_edits",
            &["city_id", "meter_id", "ts"],
            false,
        ))
        .await?;
        // Alerts: leak/waste findings, data gaps, limit breaches.
        m.create_table(
            Table::create()
                .table(a("mt_alerts"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("unit_id"))
                .col(id("meter_id"))
                .col(text("kind"))
                .col(id("start_ts"))
                .col(id("end_ts"))
                .col(dbl("magnitude"))
                .col(text("detail"))
                .col(text("status"))
                .col(text_null("acked_by"))
                .col(ts_null("acked_at"))
                .col(text("ack_note"))
                .col(text("region_code"))
                .col(ts("created_at"))
                .primary_key(&mut pk(&["city_id", "id"]))
                .foreign_key(&mut fk(
                    "fk_mt_alerts_meter",
                    "mt_alerts",
                    "meter_id",
                    "mt_meters",
                    "id",
                ))
                .foreign_key(&mut fk(
                    "fk_mt_alerts_unit",
                    "mt_alerts",
                    "unit_id",
                    "mt_units",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_mt_alerts_finding",
            "mt_alerts",
            &["city_id", "meter_id", "kind", "start_ts"],
            true,
        ))
        .await?;
        // Daily production (relevant variable of the EnPI baseline), local day bucket.
        m.create_table(
            Table::create()
                .table(a("mt_production"))
                .col(id("city_id"))
                .col(id("unit_id"))
                .col(id("day"))
                .col(dbl("output"))
                .primary_key(&mut pk(&["city_id", "unit_id", "day"]))
                .foreign_key(&mut fk(
                    "fk_mt_production_unit",
                    "mt_production",
                    "unit_id",
                    "mt_units",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        // Efficiency projects whose savings are verified against a baseline.
        m.create_table(
            Table::create()
                .table(a("mt_projects"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("unit_id"))
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(id("baseline_from"))
                .col(id("baseline_to"))
                .col(id("reporting_from"))
                .col(id("reporting_to"))
                .col(ts("created_at"))
                .primary_key(&mut pk(&["city_id", "id"]))
                .foreign_key(&mut fk(
                    "fk_mt_projects_unit",
                    "mt_projects",
                    "unit_id",
                    "mt_units",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
