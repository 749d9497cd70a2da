//! Durable progress of the demo's background generators, so an interrupted demo finishes on the
//! next start instead of staying half-made.

use sea_orm_migration::prelude::*;

use super::schema::{boolean, fk_city, id, pk, text, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_platform_demo_progress"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("demo_progress"))
                .col(id("city_id"))
                .col(text("generator"))
                .col(id("done"))
                .col(id("total"))
                .col(boolean("finished"))
                .col(ts("updated_at"))
                .primary_key(&mut pk(&["city_id", "generator"]))
                .foreign_key(&mut fk_city("demo_progress"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("demo_progress")).to_owned())
            .await
    }
}
