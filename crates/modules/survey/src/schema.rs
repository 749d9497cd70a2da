//! The survey module's tables. Every table is a tenant table: `city_id` leads its primary key
//! and every foreign key, and every unique index includes it (Citus-ready).

use qcity_platform::migration::schema::{
    boolean, dbl, dbl_null, fk_city, id, id_null, ident as a, index, int, pk, tenant_fk, tenant_pk,
    text, text_null, ts, ts_null,
};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0100_survey_core"
    }
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
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut fk_city("survey_questionnaires"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_survey_questionnaires_code_version",
            "survey_questionnaires",
            &["city_id", "code", "version"],
            true,
        ))
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
                .col(boolean("required"))
                .col(text("spec"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut tenant_fk(
                    "fk_survey_questions_questionnaire_id",
                    "survey_questions",
                    "questionnaire_id",
                    "survey_questionnaires",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_survey_questions_code",
            "survey_questions",
            &["city_id", "questionnaire_id", "code"],
            true,
        ))
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
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut tenant_fk(
                    "fk_survey_waves_questionnaire_id",
                    "survey_waves",
                    "questionnaire_id",
                    "survey_questionnaires",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_survey_waves_open_token",
            "survey_waves",
            &["open_token"],
            false,
        ))
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
                .primary_key(&mut pk(&["city_id", "wave_id", "variable", "category"]))
                .foreign_key(&mut tenant_fk(
                    "fk_survey_margins_wave_id",
                    "survey_margins",
                    "wave_id",
                    "survey_waves",
                    "id",
                ))
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
                .primary_key(&mut pk(&[
                    "city_id", "wave_id", "district", "variable", "category",
                ]))
                .foreign_key(&mut tenant_fk(
                    "fk_survey_quotas_wave_id",
                    "survey_quotas",
                    "wave_id",
                    "survey_waves",
                    "id",
                ))
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
                .primary_key(&mut tenant_pk("token"))
                .foreign_key(&mut tenant_fk(
                    "fk_survey_invitations_wave_id",
                    "survey_invitations",
                    "wave_id",
                    "survey_waves",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_survey_invitations_token",
            "survey_invitations",
            &["token"],
            false,
        ))
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
                .col(dbl_null("duration_s"))
                .primary_key(&mut tenant_pk("id"))
                .foreign_key(&mut tenant_fk(
                    "fk_survey_responses_wave_id",
                    "survey_responses",
                    "wave_id",
                    "survey_waves",
                    "id",
                ))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ux_survey_responses_invitation", "invitation_token"),
            ("ux_survey_responses_respondent", "respondent_key"),
            ("ux_survey_responses_external", "external_id"),
        ] {
            m.create_index(index(
                name,
                "survey_responses",
                &["city_id", "wave_id", col],
                true,
            ))
            .await?;
        }
        m.create_index(index(
            "ix_survey_responses_questionnaire",
            "survey_responses",
            &["city_id", "questionnaire_id"],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_survey_responses_wave_status",
            "survey_responses",
            &["city_id", "wave_id", "status"],
            false,
        ))
        .await?;
        Ok(())
    }
}
