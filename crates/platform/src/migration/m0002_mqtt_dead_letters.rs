//! The MQTT dead-letter table: frames the consumers durably refused (unreadable, unknown city,
//! invalid payload), kept with their bytes so that an administrator can see and replay them.
//! Not a tenant table: a frame for an unknown city has no tenant (`city_id` is null then).

use sea_orm_migration::prelude::*;

use super::schema::{id, id_null, text, text_null, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_mqtt_dead_letters"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("mqtt_dead_letters"))
                .col(id("id").primary_key())
                .col(ts("received_at"))
                .col(text("consumer"))
                .col(text("topic"))
                .col(ColumnDef::new(Alias::new("payload")).blob().not_null())
                .col(text_null("payload_text"))
                .col(text("reason"))
                .col(text_null("city_code"))
                .col(id_null("city_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_mqtt_dead_letters_city")
                .table(Alias::new("mqtt_dead_letters"))
                .col(Alias::new("city_id"))
                .col(Alias::new("received_at"))
                .to_owned(),
        )
        .await
    }
}
