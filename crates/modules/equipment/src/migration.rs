//! Tables of the equipment module. Every table leads with `city_id` in its primary key and in every
//! foreign key (Citus-ready); unique indexes include `city_id`.

use qcity_platform::migration::schema::{
    append_only_triggers, boolean, date_null, dbl_null, fk_city, id, id_null, ident, index, int,
    int_null, pk, tenant_fk, tenant_pk, text, text_null, ts, ts_null,
};
use qcity_platform::sea_orm_migration::prelude::*;
use sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0300_equipment_core"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // 维保单位 maintenance companies (also rescue stations).
        m.create_table(
            Table::create()
                .table(ident("eq_companies"))
                .col(id("city_id"))
                .col(id("id"))
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(text("license_no"))
                .col(text("duty_phone"))
                .col(date_null("contract_until"))
                .col(int("engineers"))
                .col(text("address"))
                .col(dbl_null("lon"))
                .col(dbl_null("lat"))
                .col(text("region_code"))
                .col(ts("created_at"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut fk_city("eq_companies"))
                .foreign_key(&mut tenant_fk(
                    "fk_eq_companies_region",
                    "eq_companies",
                    "region_code",
                    "regions",
                    "code",
                ))
                .to_owned(),
        )
        .await?;

        // The registry of special equipment.
        m.create_table(
            Table::create()
                .table(ident("eq_equipment"))
                .col(id("city_id"))
                .col(id("id"))
                .col(text("category"))
                .col(text("variety"))
                .col(text_null("equipment_code"))
                .col(text_null("registration_code"))
                .col(text_null("use_cert_no"))
                .col(text_null("rescue_code"))
                .col(text("name"))
                .col(text("use_unit"))
                .col(text("use_unit_phone"))
                .col(id_null("company_id"))
                .col(text("address"))
                .col(dbl_null("lon"))
                .col(dbl_null("lat"))
                .col(text("region_code"))
                .col(date_null("manufacture_date"))
                .col(date_null("install_date"))
                .col(date_null("registration_date"))
                .col(text("status"))
                .col(int_null("safety_grade"))
                .col(int_null("renovated_year"))
                .col(text("attributes"))
                .col(date_null("last_inspection_on"))
                .col(text_null("last_conclusion"))
                .col(date_null("next_inspection_due"))
                .col(date_null("last_maintenance_on"))
                .col(boolean("open_defects"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut fk_city("eq_equipment"))
                .foreign_key(&mut tenant_fk(
                    "fk_eq_equipment_company",
                    "eq_equipment",
                    "company_id",
                    "eq_companies",
                    "id",
                ))
                .foreign_key(&mut tenant_fk(
                    "fk_eq_equipment_region",
                    "eq_equipment",
                    "region_code",
                    "regions",
                    "code",
                ))
                .to_owned(),
        )
        .await?;
        for i in [
            index(
                "ux_eq_equipment_rescue",
                "eq_equipment",
                &["city_id", "rescue_code"],
                true,
            ),
            index(
                "ux_eq_equipment_code",
                "eq_equipment",
                &["city_id", "equipment_code"],
                true,
            ),
            index(
                "ix_eq_equipment_region",
                "eq_equipment",
                &["city_id", "region_code"],
                false,
            ),
            index(
                "ix_eq_equipment_due",
                "eq_equipment",
                &["city_id", "next_inspection_due"],
                false,
            ),
            index(
                "ix_eq_equipment_company",
                "eq_equipment",
                &["city_id", "company_id"],
                false,
            ),
        ] {
            m.create_index(i).await?;
        }

        // Inspection cycles as data (检验周期).
        m.create_table(
            Table::create()
                .table(ident("eq_cycles"))
                .col(id("city_id"))
                .col(id("id"))
                .col(text("category"))
                .col(text("variety"))
                .col(int_null("safety_grade"))
                .col(int("first_after_months"))
                .col(int("interval_months"))
                .col(int("min_interval_months"))
                .col(text("note"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut fk_city("eq_cycles"))
                .to_owned(),
        )
        .await?;

        // Inspection records (检验记录) with defects and rectification.
        m.create_table(
            Table::create()
                .table(ident("eq_inspections"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("equipment_id"))
                .col(ColumnDef::new(ident("inspected_on")).date().not_null())
                .col(text("conclusion"))
                .col(text("defects"))
                .col(text("rectification"))
                .col(date_null("rectified_on"))
                .col(text("inspector"))
                .col(date_null("next_due"))
                .col(ts("created_at"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut tenant_fk(
                    "fk_eq_inspections_equipment",
                    "eq_inspections",
                    "equipment_id",
                    "eq_equipment",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_eq_inspections_equipment",
            "eq_inspections",
            &["city_id", "equipment_id"],
            false,
        ))
        .await?;

        // Maintenance records (维保记录).
        m.create_table(
            Table::create()
                .table(ident("eq_maintenance"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("equipment_id"))
                .col(id("company_id"))
                .col(ColumnDef::new(ident("done_on")).date().not_null())
                .col(text("kind"))
                .col(text("engineer"))
                .col(text("notes"))
                .col(ts("created_at"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut tenant_fk(
                    "fk_eq_maintenance_equipment",
                    "eq_maintenance",
                    "equipment_id",
                    "eq_equipment",
                    "id",
                ))
                .foreign_key(&mut tenant_fk(
                    "fk_eq_maintenance_company",
                    "eq_maintenance",
                    "company_id",
                    "eq_companies",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_eq_maintenance_equipment",
            "eq_maintenance",
            &["city_id", "equipment_id"],
            false,
        ))
        .await?;

        // Settings and per-region 96333 timers.
        m.create_table(
            Table::create()
                .table(ident("eq_timers"))
                .col(id("city_id"))
                .col(text("region_code"))
                .col(int("dispatch_secs"))
                .col(int("ack_secs"))
                .col(int("arrive_secs"))
                .primary_key(&mut tenant_pk("region_code"))
                .foreign_key(&mut tenant_fk(
                    "fk_eq_timers_region",
                    "eq_timers",
                    "region_code",
                    "regions",
                    "code",
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ident("eq_settings"))
                .col(id("city_id"))
                .col(text("key"))
                .col(text("value"))
                .primary_key(&mut tenant_pk("key"))
                .foreign_key(&mut fk_city("eq_settings"))
                .to_owned(),
        )
        .await?;

        // 96333 incidents: current state, stored deadlines, KPI durations.
        m.create_table(
            Table::create()
                .table(ident("eq_incidents"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("equipment_id"))
                .col(text("region_code"))
                .col(text("rescue_code"))
                .col(text("channel"))
                .col(text("caller_phone"))
                .col(text("state"))
                .col(int("level"))
                .col(id_null("l1_company_id"))
                .col(id_null("company_id"))
                .col(int("version"))
                .col(int("dispatch_secs"))
                .col(int("ack_limit_secs"))
                .col(int("arrive_limit_secs"))
                .col(ts("received_at"))
                .col(ts_null("located_at"))
                .col(ts_null("dispatched_at"))
                .col(ts_null("acknowledged_at"))
                .col(ts_null("on_scene_at"))
                .col(ts_null("released_at"))
                .col(ts_null("confirmed_at"))
                .col(ts_null("closed_at"))
                .col(ts("last_event_at"))
                .col(ts_null("dispatch_by"))
                .col(ts_null("ack_by"))
                .col(ts_null("arrive_by"))
                .col(boolean("arrival_alerted"))
                .col(boolean("propose_l3"))
                .col(text_null("cause_code"))
                .col(text_null("idem_key"))
                // Holds `elev:{equipment_id}` while an IoT-raised incident has passengers waiting,
                // so a flood of alarm frames can create only one incident (unique index).
                .col(text_null("open_guard"))
                .col(text_null("alarm_code"))
                .col(int_null("ack_secs"))
                .col(int_null("arrive_secs"))
                .col(int_null("rescue_secs"))
                .col(int("received_hour"))
                .col(text("created_by"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut tenant_fk(
                    "fk_eq_incidents_equipment",
                    "eq_incidents",
                    "equipment_id",
                    "eq_equipment",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        for i in [
            index(
                "ux_eq_incidents_idem",
                "eq_incidents",
                &["city_id", "idem_key"],
                true,
            ),
            index(
                "ux_eq_incidents_guard",
                "eq_incidents",
                &["city_id", "open_guard"],
                true,
            ),
            index(
                "ix_eq_incidents_state",
                "eq_incidents",
                &["city_id", "state"],
                false,
            ),
            index(
                "ix_eq_incidents_received",
                "eq_incidents",
                &["city_id", "received_at"],
                false,
            ),
            index(
                "ix_eq_incidents_equipment",
                "eq_incidents",
                &["city_id", "equipment_id"],
                false,
            ),
        ] {
            m.create_index(i).await?;
        }

        // The append-only timeline of each incident.
        m.create_table(
            Table::create()
                .table(ident("eq_incident_events"))
                .col(id("city_id"))
                .col(id("incident_id"))
                .col(int("seq"))
                .col(ts("at"))
                .col(text("kind"))
                .col(text_null("from_state"))
                .col(text("to_state"))
                .col(text("actor"))
                .col(text("channel"))
                .col(text("note"))
                .primary_key(&mut pk(&["city_id", "incident_id", "seq"]))
                .foreign_key(&mut tenant_fk(
                    "fk_eq_incident_events_incident",
                    "eq_incident_events",
                    "incident_id",
                    "eq_incidents",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        for sql in append_only_triggers(db.get_database_backend(), "eq_incident_events") {
            db.execute_unprepared(&sql).await?;
        }

        // Every IoT alarm frame received, with what became of it.
        m.create_table(
            Table::create()
                .table(ident("eq_iot_alarms"))
                .col(id("city_id"))
                .col(id("id"))
                .col(ts("received_at"))
                .col(text("rescue_code"))
                .col(text("device_id"))
                .col(text("alarm_code"))
                .col(ts_null("alarm_at"))
                .col(boolean("trapped"))
                .col(id_null("incident_id"))
                .col(text("outcome"))
                .col(text("source"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut fk_city("eq_iot_alarms"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_eq_iot_alarms_received",
            "eq_iot_alarms",
            &["city_id", "received_at"],
            false,
        ))
        .await?;
        Ok(())
    }
}

/// TSG T7001-2023 elevator schedule: cycle rows gain an inspection-year list and the early
/// window; equipment gains the latest supervision-inspection pass (监督检验合格日期); inspections
/// gain their kind (periodic 定期检验 / supervision 监督检验). Elevators' next due dates are
/// recomputed on the new schedule.
pub struct MigrationT7001;

impl MigrationName for MigrationT7001 {
    fn name(&self) -> &str {
        "m0301_equipment_t7001_2023"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MigrationT7001 {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement (SQLite alters one column at a time).
        for (table, col) in [
            ("eq_cycles", text_null("schedule_years")),
            ("eq_cycles", int_null("early_months")),
            ("eq_equipment", date_null("supervised_on")),
            (
                "eq_inspections",
                ColumnDef::new(ident("kind"))
                    .text()
                    .not_null()
                    .default("periodic")
                    .to_owned(),
            ),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ident(table))
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        let db = m.get_connection();
        let s = crate::schedule::Schedule::t7001_2023();
        db.execute_raw(crate::sql::stmt(
            db,
            "UPDATE eq_cycles SET schedule_years = ?, early_months = ?, note = ? WHERE category = '3000' AND variety = ''",
            vec![
                s.years_text().into(),
                (s.early_months as i32).into(),
                crate::registry::ELEVATOR_CYCLE_NOTE.into(),
            ],
        ))
        .await?;
        crate::registry::recompute_scheduled_dues(db, None)
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        Ok(())
    }
}

/// Indexes for the elevator KPIs (the city-wide monthly and yearly figures over ~100,000
/// elevators): the elevator count reads only `ix_eq_equipment_kpi` (category, status and a
/// region-code range after `city_id`), and every pass over a period's incidents reads only
/// `ix_eq_incidents_kpi` (the `received_at` range after `city_id`, then every column the KPIs
/// filter, group or sum on). The latter starts with the columns of `ix_eq_incidents_received`,
/// which it replaces (one index fewer to write per incident).
pub struct MigrationKpiIndexes;

impl MigrationName for MigrationKpiIndexes {
    fn name(&self) -> &str {
        "m0302_equipment_kpi_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MigrationKpiIndexes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "ix_eq_equipment_kpi",
            "eq_equipment",
            &["city_id", "category", "status", "region_code"],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_eq_incidents_kpi",
            "eq_incidents",
            &[
                "city_id",
                "received_at",
                "region_code",
                "state",
                "l1_company_id",
                "level",
                "cause_code",
                "received_hour",
                "dispatched_at",
                "ack_secs",
                "arrive_secs",
                "rescue_secs",
            ],
            false,
        ))
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_eq_incidents_received")
                .table(ident("eq_incidents"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// Maintenance companies and use units reference the platform's register of market entities
/// (市场主体): `eq_companies.enterprise_id` and `eq_equipment.use_unit_enterprise_id`, linked by
/// exact name (these tables carry no credit code); what cannot be linked stays NULL and is
/// logged with the counts (see [`crate::enterprise::link_by_name`]).
pub struct MigrationEnterprise;

impl MigrationName for MigrationEnterprise {
    fn name(&self) -> &str {
        "m0303_equipment_enterprise"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MigrationEnterprise {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, col) in [
            ("eq_companies", "enterprise_id"),
            ("eq_equipment", "use_unit_enterprise_id"),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ident(table))
                    .add_column(id_null(col))
                    .to_owned(),
            )
            .await?;
            m.create_index(index(
                &format!("ix_{table}_{col}"),
                table,
                &["city_id", col],
                false,
            ))
            .await?;
        }
        let actor =
            qcity_platform::audit::Actor::System("migration m0303_equipment_enterprise".into());
        let report = crate::enterprise::link_by_name(m.get_connection(), &actor)
            .await
            .map_err(|e| DbErr::Migration(e.to_string()))?;
        report.log();
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, col) in [
            ("eq_companies", "enterprise_id"),
            ("eq_equipment", "use_unit_enterprise_id"),
        ] {
            m.drop_index(
                Index::drop()
                    .name(format!("ix_{table}_{col}"))
                    .table(ident(table))
                    .to_owned(),
            )
            .await?;
            m.alter_table(
                Table::alter()
                    .table(ident(table))
                    .drop_column(ident(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
