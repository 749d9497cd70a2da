//! Core tables: cities, regions, users, sessions, API tokens, audit log.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

use super::schema::{append_only_triggers, fk_city, id, text, text_null, ts, ts_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_platform_core"
    }
}

/// Tables without `city_id` that the Citus readiness check skips: `cities` is the tenant registry
/// itself (a Citus reference table); `mqtt_dead_letters` holds frames whose city may be unknown.
pub const PG_TENANT_REFERENCE_TABLES: &[&str] =
    &["cities", "qcity_migrations", "mqtt_dead_letters"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("cities"))
                .col(id("id").primary_key())
                .col(text("code").unique_key())
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("regions"))
                .col(id("city_id"))
                .col(text("code"))
                .col(text_null("parent_code"))
                .col(text("level"))
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(text("scope_prefix"))
                .col(
                    ColumnDef::new(Alias::new("urban"))
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .col(
                    ColumnDef::new(Alias::new("population"))
                        .big_integer()
                        .null(),
                )
                .col(ColumnDef::new(Alias::new("area_km2")).double().null())
                .col(text_null("boundary"))
                .primary_key(
                    Index::create()
                        .col(Alias::new("city_id"))
                        .col(Alias::new("code")),
                )
                .foreign_key(&mut fk_city("regions"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_regions_parent")
                        .from(
                            Alias::new("regions"),
                            (Alias::new("city_id"), Alias::new("parent_code")),
                        )
                        .to(
                            Alias::new("regions"),
                            (Alias::new("city_id"), Alias::new("code")),
                        ),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_regions_scope")
                .table(Alias::new("regions"))
                .col(Alias::new("city_id"))
                .col(Alias::new("scope_prefix"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("users"))
                .col(id("city_id"))
                .col(id("id"))
                .col(text("username"))
                .col(text("display_name"))
                .col(text("password_hash"))
                .col(text("role"))
                .col(text("region_code"))
                .col(
                    ColumnDef::new(Alias::new("company_id"))
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(Alias::new("enterprise_id"))
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(Alias::new("disabled"))
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(text_null("lang"))
                .col(ts("created_at"))
                .col(ts("password_changed_at"))
                .primary_key(
                    Index::create()
                        .col(Alias::new("city_id"))
                        .col(Alias::new("id")),
                )
                .foreign_key(&mut fk_city("users"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_users_region")
                        .from(
                            Alias::new("users"),
                            (Alias::new("city_id"), Alias::new("region_code")),
                        )
                        .to(
                            Alias::new("regions"),
                            (Alias::new("city_id"), Alias::new("code")),
                        ),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_users_username")
                .table(Alias::new("users"))
                .col(Alias::new("city_id"))
                .col(Alias::new("username"))
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_users_username")
                .table(Alias::new("users"))
                .col(Alias::new("username"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("sessions"))
                .col(id("city_id"))
                .col(text("id_hash"))
                .col(id("user_id"))
                .col(text("csrf_token"))
                .col(ts("created_at"))
                .col(ts("last_seen_at"))
                .col(ts("expires_at"))
                .primary_key(
                    Index::create()
                        .col(Alias::new("city_id"))
                        .col(Alias::new("id_hash")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_sessions_user")
                        .from(
                            Alias::new("sessions"),
                            (Alias::new("city_id"), Alias::new("user_id")),
                        )
                        .to(
                            Alias::new("users"),
                            (Alias::new("city_id"), Alias::new("id")),
                        )
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("api_tokens"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("user_id"))
                .col(text("name"))
                .col(text("token_hash"))
                .col(text("prefix"))
                .col(ts("created_at"))
                .col(ts_null("last_used_at"))
                .col(ts_null("revoked_at"))
                .primary_key(
                    Index::create()
                        .col(Alias::new("city_id"))
                        .col(Alias::new("id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_api_tokens_user")
                        .from(
                            Alias::new("api_tokens"),
                            (Alias::new("city_id"), Alias::new("user_id")),
                        )
                        .to(
                            Alias::new("users"),
                            (Alias::new("city_id"), Alias::new("id")),
                        ),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_api_tokens_hash")
                .table(Alias::new("api_tokens"))
                .col(Alias::new("city_id"))
                .col(Alias::new("token_hash"))
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Alias::new("audit_log"))
                .col(id("city_id"))
                .col(id("id"))
                .col(ts("at"))
                .col(text("actor_kind"))
                .col(ColumnDef::new(Alias::new("actor_id")).big_integer().null())
                .col(text("actor_name"))
                .col(text("action"))
                .col(text("entity"))
                .col(text("entity_id"))
                .col(text_null("before"))
                .col(text_null("after"))
                .primary_key(
                    Index::create()
                        .col(Alias::new("city_id"))
                        .col(Alias::new("id")),
                )
                .foreign_key(&mut fk_city("audit_log"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_log_at")
                .table(Alias::new("audit_log"))
                .col(Alias::new("city_id"))
                .col(Alias::new("at"))
                .to_owned(),
        )
        .await?;
        let backend = m.get_database_backend();
        for sql in append_only_triggers(backend, "audit_log") {
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
