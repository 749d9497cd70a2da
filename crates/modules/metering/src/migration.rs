//! Tables of the metering module. Every table leads with `city_id` in its primary key and in every
//! foreign key (Citus-ready); unique indexes include `city_id`.
//!
//! Interval timestamps of the hot tables (`mt_readings`, `mt_rollups`) are stored as epoch seconds
//! (`BIGINT`, UTC): bucket arithmetic (`ts - ts % 3600`) is then the same integer SQL on SQLite
//! and PostgreSQL, and the bulk insert path binds plain integers.

use qcity_platform::migration::schema::{
    dbl, dbl_null, fk_city, id, id_null, ident as a, index, int, int_null, pk, tenant_fk as fk,
    text, text_null, ts, ts_null,
};
use qcity_platform::sea_orm_migration::prelude::*;
use sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0500_metering_core"
    }
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

/// Second step: per-city settings (raw-data retention), per-unit operating hours and the
/// outdoor temperature series of each city (CalTRACK baselines).
pub struct Migration2;

impl MigrationName for Migration2 {
    fn name(&self) -> &str {
        "m0501_metering_retention_hours_weather"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration2 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Per-city settings; `raw_retention_days` NULL = keep raw interval readings forever,
        // `imbalance_tolerance` NULL = the default 5 %.
        m.create_table(
            Table::create()
                .table(a("mt_settings"))
                .col(id("city_id"))
                .col(int_null("raw_retention_days"))
                .col(dbl_null("imbalance_tolerance"))
                .col(ts("updated_at"))
                .primary_key(&mut pk(&["city_id"]))
                .foreign_key(&mut fk_city("mt_settings"))
                .to_owned(),
        )
        .await?;
        // 作息时间 operating hours per unit and weekday (0 = Monday): open `[open_hour,
        // close_hour)` local time; open_hour = close_hour means closed all day.
        m.create_table(
            Table::create()
                .table(a("mt_operating_hours"))
                .col(id("city_id"))
                .col(id("unit_id"))
                .col(int("weekday"))
                .col(int("open_hour"))
                .col(int("close_hour"))
                .primary_key(&mut pk(&["city_id", "unit_id", "weekday"]))
                .foreign_key(&mut fk(
                    "fk_mt_operating_hours_unit",
                    "mt_operating_hours",
                    "unit_id",
                    "mt_units",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        // Outdoor dry-bulb temperature per city: grain h (hour start) or d (local-day start).
        m.create_table(
            Table::create()
                .table(a("mt_weather"))
                .col(id("city_id"))
                .col(text("grain"))
                .col(id("ts"))
                .col(dbl("temperature_c"))
                .primary_key(&mut pk(&["city_id", "grain", "ts"]))
                .foreign_key(&mut fk_city("mt_weather"))
                .to_owned(),
        )
        .await?;
        // Staging table of the PostgreSQL bulk path (COPY, then INSERT … ON CONFLICT); rows
        // live only between a batch's COPY and its transaction. UNLOGGED on PostgreSQL.
        m.create_table(
            Table::create()
                .table(a("mt_readings_stage"))
                .col(id("city_id"))
                .col(id("batch_id"))
                .col(id("meter_id"))
                .col(id("ts"))
                .col(dbl_null("raw_value"))
                .col(dbl_null("value"))
                .col(text("quality"))
                .col(text_null("rule_id"))
                .primary_key(&mut pk(&["city_id", "batch_id", "meter_id", "ts"]))
                .foreign_key(&mut fk_city("mt_readings_stage"))
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared("ALTER TABLE mt_readings_stage SET UNLOGGED")
                .await?;
        }
        Ok(())
    }
}

/// Third step: when the retention job last ran for a city and how many raw readings it removed
/// (epoch seconds and a count; NULL until it first runs), shown on the settings page.
pub struct Migration3;

impl MigrationName for Migration3 {
    fn name(&self) -> &str {
        "m0502_metering_retention_runs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration3 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for c in [id_null("retention_ran_at"), id_null("retention_deleted")] {
            m.alter_table(
                Table::alter()
                    .table(a("mt_settings"))
                    .add_column(c)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Fourth step (SQLite only): the two hot tables become `WITHOUT ROWID` tables, clustered on their
/// primary key (city, meter, time / grain, bucket). A reading or rollup is then stored once, in
/// the primary-key B-tree, instead of in a rowid table plus a separate primary-key index: a bulk
/// write descends and fills one tree instead of two and logs about a third fewer pages to the WAL
/// (bench/metering/README.md has the figures). Same columns, keys and foreign keys; the rows are
/// copied inside the migration's transaction. PostgreSQL heaps have no such choice.
pub struct Migration4;

impl MigrationName for Migration4 {
    fn name(&self) -> &str {
        "m0503_metering_hot_tables_clustered"
    }
}

/// Tables [`Migration4`] clusters on their primary key.
const CLUSTERED: [&str; 2] = ["mt_readings", "mt_rollups"];

#[async_trait::async_trait]
impl MigrationTrait for Migration4 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let db = m.get_connection();
        for t in CLUSTERED {
            let row = db
                .query_one_raw(sea_orm::Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                    [t.into()],
                ))
                .await?
                .ok_or_else(|| DbErr::Migration(format!("table {t} is missing")))?;
            let create: String = row.try_get("", "sql")?;
            if create.trim_end().ends_with("WITHOUT ROWID") {
                continue;
            }
            // The same definition under a new name, plus the clause.
            let rest = create
                .strip_prefix(&format!("CREATE TABLE \"{t}\""))
                .or_else(|| create.strip_prefix(&format!("CREATE TABLE IF NOT EXISTS \"{t}\"")));
            let Some(rest) = rest else {
                return Err(DbErr::Migration(format!(
                    "unexpected definition of {t}: {create}"
                )));
            };
            let tmp = format!("{t}_clustered");
            db.execute_unprepared(&format!("CREATE TABLE \"{tmp}\"{rest} WITHOUT ROWID"))
                .await?;
            db.execute_unprepared(&format!("INSERT INTO \"{tmp}\" SELECT * FROM \"{t}\""))
                .await?;
            db.execute_unprepared(&format!("DROP TABLE \"{t}\""))
                .await?;
            db.execute_unprepared(&format!("ALTER TABLE \"{tmp}\" RENAME TO \"{t}\""))
                .await?;
        }
        Ok(())
    }
}

/// Fifth step: key energy-consuming units reference the platform's register of market entities
/// (市场主体). Each unit is linked by its credit code — the enterprise registered now (audited
/// as the migration) when the register does not have it — else by its exact name; a unit that
/// cannot be linked keeps `enterprise_id` NULL and is logged by id and name, with the counts.
pub struct Migration5;

impl MigrationName for Migration5 {
    fn name(&self) -> &str {
        "m0504_metering_units_enterprise"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration5 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(a("mt_units"))
                .add_column(id_null("enterprise_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_mt_units_enterprise",
            "mt_units",
            &["city_id", "enterprise_id"],
            false,
        ))
        .await?;
        let report = link_units(m.get_connection()).await?;
        report.log("mt_units");
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(a("mt_units"))
                .drop_column(a("enterprise_id"))
                .to_owned(),
        )
        .await
    }
}

/// Links every unit not yet linked (see [`Migration5`]); returns what it did.
pub async fn link_units(
    db: &impl ConnectionTrait,
) -> Result<qcity_platform::enterprise::store::LinkReport, DbErr> {
    use qcity_platform::enterprise::store::{LinkReport, link_existing};
    let fail = |e: qcity_platform::store::StoreError| DbErr::Migration(e.to_string());
    let actor =
        qcity_platform::audit::Actor::System("migration m0504_metering_units_enterprise".into());
    let rows = crate::sql::all(
        db,
        "SELECT city_id, id, uscc, name_zh, region_code FROM mt_units WHERE enterprise_id IS NULL ORDER BY city_id, id",
        vec![],
    )
    .await?;
    let mut report = LinkReport::default();
    for r in rows {
        let city: i64 = r.try_get("", "city_id")?;
        let id: i64 = r.try_get("", "id")?;
        let uscc: String = r.try_get("", "uscc")?;
        let name: String = r.try_get("", "name_zh")?;
        let region: String = r.try_get("", "region_code")?;
        let linked = link_existing(db, city, &actor, Some(&uscc), &name, &region)
            .await
            .map_err(fail)?;
        if let Some(e) = linked.id() {
            crate::sql::exec(
                db,
                "UPDATE mt_units SET enterprise_id = ? WHERE city_id = ? AND id = ?",
                vec![e.into(), city.into(), id.into()],
            )
            .await?;
        }
        report.add(linked, id, &name);
    }
    Ok(report)
}
