//! Oversight pages: inspections due, the risk map by region, and the 96333 KPIs with their
//! CSV export.

use super::*;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/app/equipment/inspections", get(inspections_page))
        .route("/app/equipment/risk", get(risk_page))
        .route("/app/equipment/kpi", get(kpi_page))
        .route("/app/equipment/kpi/export.csv", get(kpi_export))
}

#[derive(Template)]
#[template(path = "equipment_inspections.html")]
struct InspectionsTpl {
    ctx: PageCtx,
    due: String,
    region: String,
    regions: Vec<(String, String)>,
    items: Vec<Row>,
    total: u64,
    companies: Vec<registry::CompanyMaintenance>,
    cycles: Vec<registry::Cycle>,
    interval: i64,
}

#[derive(Deserialize, Default)]
struct DueQuery {
    due: Option<String>,
    region: Option<String>,
}

async fn inspections_page(Page(st, p, lang, csrf): Page, Query(q): Query<DueQuery>) -> PageResult {
    let s = api::view(&p)?;
    let due = q
        .due
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "overdue".into());
    let f = EquipmentFilter {
        due: Some(due.clone()),
        region: q.region.clone(),
        limit: Some(200),
        ..Default::default()
    };
    let (items, total) = registry::list_equipment(&st.db, &s, &f).await?;
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/equipment/inspections",
        "equipment-inspections-title",
    )
    .await?;
    let tpl = InspectionsTpl {
        due,
        region: q.region.unwrap_or_default(),
        regions: region_options(&st, &p, lang).await?,
        items: items.iter().map(|e| row(e, lang)).collect(),
        total,
        companies: registry::maintenance_overdue_by_company(&st.db, &s).await?,
        cycles: registry::cycles(&st.db, p.city_id).await?,
        interval: registry::maintenance_interval_days(&st.db, p.city_id).await?,
        ctx,
    };
    Ok(render(&tpl)?.into_response())
}

#[derive(Template)]
#[template(path = "equipment_risk.html")]
struct RiskTpl {
    ctx: PageCtx,
    rows: Vec<registry::RiskRow>,
    region: String,
    regions: Vec<(String, String)>,
    chart: String,
}

#[derive(Deserialize, Default)]
struct RegionQuery {
    region: Option<String>,
}

async fn risk_page(Page(st, p, lang, csrf): Page, Query(q): Query<RegionQuery>) -> PageResult {
    let s = api::view(&p)?;
    let rows = registry::risk_list(&st.db, &s, q.region.as_deref(), 200).await?;
    let t = lang.tr();
    let top: Vec<&registry::RiskRow> = rows.iter().take(20).collect();
    let names = [
        "equipment-risk-age",
        "equipment-risk-trappings",
        "equipment-risk-faults",
        "equipment-risk-inspections",
        "equipment-risk-maintenance",
        "equipment-risk-overdue",
        "equipment-risk-renovation",
    ];
    let series: Vec<serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            let data: Vec<i32> = top
                .iter()
                .map(|r| {
                    [
                        r.points_age,
                        r.points_trappings,
                        r.points_faults,
                        r.points_inspections,
                        r.points_maintenance,
                        r.points_overdue_inspection,
                        r.points_renovation,
                    ][k]
                })
                .collect();
            serde_json::json!({"name": t.t(n), "type": "bar", "stack": "score", "data": data})
        })
        .collect();
    let chart = embed_json(&serde_json::json!({
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 90, "right": 20, "top": 40, "bottom": 30},
        "yAxis": {"type": "category", "inverse": true, "data": top.iter().map(|r| r.rescue_code.clone().unwrap_or_default()).collect::<Vec<_>>()},
        "xAxis": {"type": "value"},
        "series": series
    }));
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/equipment/risk",
        "equipment-risk-title",
    )
    .await?;
    Ok(render(&RiskTpl {
        ctx,
        rows,
        region: q.region.unwrap_or_default(),
        regions: region_options(&st, &p, lang).await?,
        chart,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "equipment_kpi.html")]
struct KpiTpl {
    ctx: PageCtx,
    k: incidents::ElevatorKpis,
    month: String,
    region: String,
    regions: Vec<(String, String)>,
    figures: Vec<(String, String)>,
    chart_hours: String,
    chart_causes: String,
    chart_levels: String,
    chart_map: String,
    csv_href: String,
}

async fn kpi_page(Page(st, p, lang, csrf): Page, Query(q): Query<KpiQuery>) -> PageResult {
    let s = api::view(&p)?;
    let k = api::kpi_for(&st, &p, &s, &q).await?;
    let t = lang.tr();
    let f = |x: Option<f64>, unit: &str| {
        x.map(|v| format!("{v:.1}{unit}"))
            .unwrap_or_else(|| "—".into())
    };
    let figures = vec![
        (
            t.t("equipment-kpi-elevators"),
            qcity_platform::web::render::format_thousands(k.elevators),
        ),
        (t.t("equipment-kpi-trappings"), k.trappings.to_string()),
        (
            t.t("equipment-kpi-trap-rate"),
            f(k.trapping_rate_per_10k, ""),
        ),
        (t.t("equipment-kpi-ack3"), f(k.ack_3min_rate, "%")),
        (t.t("equipment-kpi-arrive30"), f(k.arrive_30min_rate, "%")),
        (
            t.t("equipment-kpi-mean-arrival"),
            format!(
                "{} / {}",
                f(k.mean_arrival_min, ""),
                f(k.p90_arrival_min, "")
            ),
        ),
        (
            t.t("equipment-kpi-mean-rescue"),
            format!("{} / {}", f(k.mean_rescue_min, ""), f(k.p90_rescue_min, "")),
        ),
    ];
    let chart_hours = embed_json(&serde_json::json!({
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": (0..24).map(|h| format!("{h:02}")).collect::<Vec<_>>()},
        "yAxis": {"type": "value"},
        "series": [{"type": "bar", "name": t.t("equipment-kpi-trappings"), "data": k.hour_mix}]
    }));
    let cause_name = |c: &str| {
        incidents::CAUSES
            .iter()
            .find(|x| x.0 == c)
            .map(|x| t.pick(x.1, x.2).to_string())
            .unwrap_or_else(|| c.to_string())
    };
    let chart_causes = embed_json(&serde_json::json!({
        "tooltip": {"trigger": "item"},
        "series": [{"type": "pie", "radius": ["35%", "70%"], "data": k.cause_mix.iter().map(|(c, n)| serde_json::json!({"name": cause_name(c), "value": n})).collect::<Vec<_>>()}]
    }));
    let chart_levels = embed_json(&serde_json::json!({
        "tooltip": {"trigger": "item"},
        "series": [{"type": "pie", "radius": "65%", "data": k.level_mix.iter().map(|(c, n)| serde_json::json!({"name": c, "value": n})).collect::<Vec<_>>()}]
    }));
    // District map of the trapping rate.
    let mut map_data = Vec::new();
    let month = k.period.clone();
    if let Ok((a, b)) = incidents::month_range(&month) {
        for (code, _) in region_options(&st, &p, lang).await? {
            if code.len() == 6 && !code.ends_with("00") {
                let dk = incidents::kpis(&st.db, &s, &code, &month, a, b, 1).await?;
                map_data.push(serde_json::json!({"name": code, "value": dk.trapping_rate_per_10k}));
            }
        }
    }
    let chart_map = embed_json(&serde_json::json!({
        "tooltip": {"trigger": "item"},
        "visualMap": {"min": 0, "max": 150, "calculable": true, "left": 0, "bottom": 0},
        "series": [{"type": "map", "map": "districts", "data": map_data}]
    }));
    let region = k.region.clone();
    let ctx = page_ctx(
        &st,
        &p,
        lang,
        &csrf,
        "/app/equipment/kpi",
        "equipment-kpi-title",
    )
    .await?;
    Ok(render(&KpiTpl {
        csv_href: format!("/app/equipment/kpi/export.csv?region={region}&month={month}"),
        ctx,
        k,
        month,
        region,
        regions: region_options(&st, &p, lang).await?,
        figures,
        chart_hours,
        chart_causes,
        chart_levels,
        chart_map,
    })?
    .into_response())
}

async fn kpi_export(Page(st, p, lang, ..): Page, Query(q): Query<KpiQuery>) -> PageResult {
    let s = api::view(&p)?;
    let k = api::kpi_for(&st, &p, &s, &q).await?;
    let t = lang.tr();
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let e = |e: csv::Error| AppError::internal(e);
    qcity_platform::upload::export::write_record(
        &mut w,
        [
            "rank",
            "company",
            "trappings",
            "ack_3min_rate",
            "arrive_30min_rate",
            "mean_arrival_min",
        ],
    )
    .map_err(e)?;
    for c in &k.companies {
        let o = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        qcity_platform::upload::export::write_record(
            &mut w,
            [
                c.rank.to_string(),
                t.pick(&c.name_zh, &c.name_en).to_string(),
                c.trappings.to_string(),
                o(c.ack_3min_rate),
                o(c.arrive_30min_rate),
                o(c.mean_arrival_min),
            ],
        )
        .map_err(e)?;
    }
    qcity_platform::upload::export::write_record(&mut w, ["", "", "", "", "", ""]).map_err(e)?;
    qcity_platform::upload::export::write_record(
        &mut w,
        [
            "region",
            "period",
            "elevators",
            "trappings",
            "trapping_rate_per_10k",
            "ack_3min_rate",
        ],
    )
    .map_err(e)?;
    let o = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    qcity_platform::upload::export::write_record(
        &mut w,
        [
            k.region.clone(),
            k.period.clone(),
            k.elevators.to_string(),
            k.trappings.to_string(),
            o(k.trapping_rate_per_10k),
            o(k.ack_3min_rate),
        ],
    )
    .map_err(e)?;
    let bytes = w
        .into_inner()
        .map_err(|x| AppError::internal(x.to_string()))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"elevator-kpis.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
