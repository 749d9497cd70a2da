//! The register of market entities (市场主体): one row per enterprise of a city, keyed by the
//! unified social credit code, which the modules reference by id.

use sea_orm_migration::prelude::*;

use super::schema::{fk_city, id, index, tenant_fk, tenant_pk, text, text_null, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_platform_enterprises"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("enterprises"))
                .col(id("city_id"))
                .col(id("id"))
                .col(text("credit_code"))
                .col(text("name"))
                .col(text("region_code"))
                .col(text_null("address"))
                .col(text_null("legal_rep"))
                .col(text_null("industry"))
                .col(text_null("kind"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut fk_city("enterprises"))
                .foreign_key(&mut tenant_fk(
                    "fk_enterprises_region",
                    "enterprises",
                    "region_code",
                    "regions",
                    "code",
                ))
                .to_owned(),
        )
        .await?;
        for i in [
            index(
                "ux_enterprises_credit_code",
                "enterprises",
                &["city_id", "credit_code"],
                true,
            ),
            index(
                "ix_enterprises_name",
                "enterprises",
                &["city_id", "name"],
                false,
            ),
            index(
                "ix_enterprises_region",
                "enterprises",
                &["city_id", "region_code"],
                false,
            ),
        ] {
            m.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("enterprises")).to_owned())
            .await
    }
}
