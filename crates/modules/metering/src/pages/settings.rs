//! The metering settings page (administrators): raw-reading retention and the imbalance
//! tolerance, audited.

use super::*;
use qcity_platform::web::Page;

#[derive(Template)]
#[template(path = "metering_settings.html")]
struct SettingsTpl {
    ctx: PageCtx,
    saved: bool,
    /// The form's values as entered (or as stored).
    days: String,
    tolerance: String,
    /// Validation messages shown next to their field.
    days_err: String,
    tolerance_err: String,
    /// Local date-time from which raw readings are kept (empty = forever).
    horizon: String,
    last_run: String,
    last_deleted: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub raw_retention_days: String,
    #[serde(default)]
    pub imbalance_tolerance: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: Option<String>,
}

/// The metering settings are the city administrator's (as in the API).
fn admin_only(p: &Principal) -> Result<(), PageError> {
    if p.role == Role::Admin {
        Ok(())
    } else {
        Err(PageError(AppError::Forbidden))
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_settings(
    st: &AppState,
    p: &Principal,
    lang: ReqLang,
    csrf: &CsrfToken,
    form: &SettingsForm,
    saved: bool,
    errs: (String, String),
    status: StatusCode,
) -> PageResult {
    let ctx = page_ctx(
        st,
        p,
        lang,
        csrf,
        "/app/metering",
        "metering-settings-title",
    )
    .await?;
    let cur = crate::retention::settings(&st.db, p.city_id).await?;
    let run = crate::retention::last_run(&st.db, p.city_id).await?;
    let horizon = crate::retention::horizon_for(cur.raw_retention_days, domain::now_ts())
        .map(domain::fmt_local)
        .unwrap_or_default();
    let tpl = SettingsTpl {
        ctx,
        saved,
        days: form.raw_retention_days.clone(),
        tolerance: form.imbalance_tolerance.clone(),
        days_err: errs.0,
        tolerance_err: errs.1,
        horizon,
        last_run: run.ran_at.map(domain::fmt_local).unwrap_or_default(),
        last_deleted: run.deleted.map(|n| n.to_string()).unwrap_or_default(),
    };
    Ok((status, render(&tpl)?).into_response())
}

pub(super) async fn settings_page(
    Page(st, p, lang, csrf): Page,
    Query(q): Query<SavedQuery>,
) -> PageResult {
    admin_only(&p)?;
    let cur = crate::retention::settings(&st.db, p.city_id).await?;
    let form = SettingsForm {
        raw_retention_days: cur
            .raw_retention_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
        imbalance_tolerance: cur
            .imbalance_tolerance
            .map(|t| t.to_string())
            .unwrap_or_default(),
    };
    render_settings(
        &st,
        &p,
        lang,
        &csrf,
        &form,
        q.saved.is_some(),
        (String::new(), String::new()),
        StatusCode::OK,
    )
    .await
}

/// Saves the settings from the form (empty = forever / the default), audited like the API; a bad
/// value is shown next to its field (422 without htmx, the re-rendered panel with htmx).
pub(super) async fn settings_save(
    Page(st, p, lang, csrf): Page,
    headers: HeaderMap,
    Form(f): Form<SettingsForm>,
) -> PageResult {
    admin_only(&p)?;
    let t = lang.tr();
    let (mut days_err, mut tolerance_err) = (String::new(), String::new());
    let days = match f.raw_retention_days.trim() {
        "" => None,
        s => s.parse::<i32>().map_or_else(
            |_| {
                days_err = t.t("metering-err-whole-days");
                None
            },
            Some,
        ),
    };
    let tolerance = match f.imbalance_tolerance.trim() {
        "" => None,
        s => s.parse::<f64>().map_or_else(
            |_| {
                tolerance_err = t.t("metering-err-fraction");
                None
            },
            Some,
        ),
    };
    if days_err.is_empty() && tolerance_err.is_empty() {
        let new = crate::retention::Settings {
            raw_retention_days: days,
            imbalance_tolerance: tolerance,
        };
        match crate::service::update_settings(&st.db, &p, &new).await {
            Ok(_) => return Ok(Redirect::to("/app/metering/settings?saved=1").into_response()),
            Err(StoreError::Invalid { field, message }) => {
                if field == "imbalance_tolerance" {
                    tolerance_err = message;
                } else {
                    days_err = message;
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    let status = qcity_platform::web::htmx::form_error_status(&headers);
    render_settings(
        &st,
        &p,
        lang,
        &csrf,
        &f,
        false,
        (days_err, tolerance_err),
        status,
    )
    .await
}
