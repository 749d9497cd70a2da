//! The survey module's tables. Every table is a tenant table: `city_id` leads its primary key
//! and every foreign key, and every unique index includes it (Citus-ready).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0100_survey_core"
    }
}

fn a(s: &'static str) -> Alias {
    Alias::new(s)
}
fn id(name: &'static str) -> ColumnDef {
    ColumnDef::new(a(name)).big_integer().not_null().to_owned()
}
fn id_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(a(name)).big_integer().null().to_owned()
}
fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(a(name)).text().not_null().to_owned()
}
fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(a(name)).text().null().to_owned()
}
fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(a(name)).integer().not_null().to_owned()
}
fn dbl(name: &'static str) -> ColumnDef {
    ColumnDef::new(a(name)).double().not_null().to_owned()
}
fn ts(name: &'static str) -> ColumnDef {
    ColumnDef::new(a(name))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}
fn ts_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(a(name))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}
fn pk2(x: &'static str) -> IndexCreateStatement {
    Index::create().col(a("city_id")).col(a(x)).to_owned()
}
fn fk_city(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_city"))
        .from(a(table), a("city_id"))
        .to(a("cities"), a("id"))
        .to_owned()
}
fn fk(table: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(a(table), (a("city_id"), a(col)))
        .to(a(to), (a("city_id"), a("id")))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // 问卷 (one row per version).
        m.create_table(
            Table::create()
                .table(a("survey_questionnaires"))
                .col(id("city_id"))
                .col(id("id"))
                .col(text("code"))
                .col(int("version"))
                .col(text("title_zh"))
                .col(text("title_en"))
                .col(id_null("previous_id"))
                .col(text("definition"))
                .col(ts("created_at"))
                .primary_key(&mut pk2("id"))
                .foreign_key(&mut fk_city("survey_questionnaires"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_survey_questionnaires_code_version")
                .table(a("survey_questionnaires"))
                .col(a("city_id"))
                .col(a("code"))
                .col(a("version"))
                .unique()
                .to_owned(),
        )
        .await?;
        // 题目: domain → indicator → question.
        m.create_table(
            Table::create()
                .table(a("survey_questions"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("questionnaire_id"))
                .col(int("position"))
                .col(text("code"))
                .col(text("kind"))
                .col(text_null("domain"))
                .col(text_null("indicator_code"))
                .col(text("text_zh"))
                .col(text("text_en"))
                .col(
                    ColumnDef::new(a("required"))
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(text("spec"))
                .primary_key(&mut pk2("id"))
                .foreign_key(&mut fk(
                    "survey_questions",
                    "questionnaire_id",
                    "survey_questionnaires",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_survey_questions_code")
                .table(a("survey_questions"))
                .col(a("city_id"))
                .col(a("questionnaire_id"))
                .col(a("code"))
                .unique()
                .to_owned(),
        )
        .await?;
        // 测评批次 (wave).
        m.create_table(
            Table::create()
                .table(a("survey_waves"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("questionnaire_id"))
                .col(text("region_code"))
                .col(int("year"))
                .col(text("name_zh"))
                .col(text("name_en"))
                .col(text("modes"))
                .col(text("status"))
                .col(text("open_token"))
                .col(int("target_n"))
                .col(text("conversion"))
                .col(ts("created_at"))
                .col(ts_null("published_at"))
                .primary_key(&mut pk2("id"))
                .foreign_key(&mut fk(
                    "survey_waves",
                    "questionnaire_id",
                    "survey_questionnaires",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_survey_waves_open_token")
                .table(a("survey_waves"))
                .col(a("open_token"))
                .to_owned(),
        )
        .await?;
        // Population margins for weighting (总体边际).
        m.create_table(
            Table::create()
                .table(a("survey_margins"))
                .col(id("city_id"))
                .col(id("wave_id"))
                .col(text("variable"))
                .col(text("category"))
                .col(dbl("total"))
                .primary_key(
                    Index::create()
                        .col(a("city_id"))
                        .col(a("wave_id"))
                        .col(a("variable"))
                        .col(a("category")),
                )
                .foreign_key(&mut fk("survey_margins", "wave_id", "survey_waves"))
                .to_owned(),
        )
        .await?;
        // Quotas by district × demographic category (配额).
        m.create_table(
            Table::create()
                .table(a("survey_quotas"))
                .col(id("city_id"))
                .col(id("wave_id"))
                .col(text("district"))
                .col(text("variable"))
                .col(text("category"))
                .col(int("target"))
                .primary_key(
                    Index::create()
                        .col(a("city_id"))
                        .col(a("wave_id"))
                        .col(a("district"))
                        .col(a("variable"))
                        .col(a("category")),
                )
                .foreign_key(&mut fk("survey_quotas", "wave_id", "survey_waves"))
                .to_owned(),
        )
        .await?;
        // Invitations: one response per token.
        m.create_table(
            Table::create()
                .table(a("survey_invitations"))
                .col(id("city_id"))
                .col(text("token"))
                .col(id("wave_id"))
                .col(text_null("label"))
                .col(ts("created_at"))
                .col(ts_null("used_at"))
                .primary_key(&mut pk2("token"))
                .foreign_key(&mut fk("survey_invitations", "wave_id", "survey_waves"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_survey_invitations_token")
                .table(a("survey_invitations"))
                .col(a("token"))
                .to_owned(),
        )
        .await?;
        // Responses (答卷): answers as JSON keyed by question code.
        m.create_table(
            Table::create()
                .table(a("survey_responses"))
                .col(id("city_id"))
                .col(id("id"))
                .col(id("wave_id"))
                .col(id("questionnaire_id"))
                .col(text("status"))
                .col(text("source"))
                .col(text("mode"))
                .col(text_null("region_code"))
                .col(text_null("age_group"))
                .col(text_null("sex"))
                .col(text_null("education"))
                .col(text_null("residence"))
                .col(text_null("invitation_token"))
                .col(text_null("respondent_key"))
                .col(text_null("external_id"))
                .col(text("answers"))
                .col(text("flags"))
                .col(text("decision"))
                .col(text_null("decision_reason"))
                .col(ts("started_at"))
                .col(ts_null("submitted_at"))
                .col(ColumnDef::new(a("duration_s")).double().null())
                .primary_key(&mut pk2("id"))
                .foreign_key(&mut fk("survey_responses", "wave_id", "survey_waves"))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ux_survey_responses_invitation", "invitation_token"),
            ("ux_survey_responses_respondent", "respondent_key"),
            ("ux_survey_responses_external", "external_id"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(a("survey_responses"))
                    .col(a("city_id"))
                    .col(a("wave_id"))
                    .col(a(col))
                    .unique()
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ix_survey_responses_questionnaire")
                .table(a("survey_responses"))
                .col(a("city_id"))
                .col(a("questionnaire_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_survey_responses_wave_status")
                .table(a("survey_responses"))
                .col(a("city_id"))
                .col(a("wave_id"))
                .col(a("status"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
