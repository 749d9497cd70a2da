//! Citizen quality-satisfaction survey (市民质量满意度测评): questionnaires, waves, collection,
//! weighting and analysis on the `qcity-surveystat` engine.

pub mod analysis;
pub mod api;
pub mod builder;
pub mod builtin;
pub mod collect;
pub mod demo;
pub mod export;
pub mod model;
#[cfg(test)]
mod model_fuzz;
pub mod pages;
pub mod public;
pub mod schema;
pub mod service;
pub mod store;
pub mod text;

use axum::Router;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::feeds::{
    FedValue, OpenDataset, PublicLink, ReportChart, ReportFigure, ReportSection, ReportTable,
};
use qcity_platform::module::{DemoContext, HookError, Tile};
use qcity_platform::web::{AppState, NavItem, Pillar};
use qcity_platform::{Module, i18n::Tr};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigrationTrait;
use serde_json::json;

/// Who may read survey data at all.
pub(crate) const READERS: &[Capability] = &[Capability::ViewAll, Capability::ManageSurvey];

/// The survey module.
pub struct SurveyModule;

async fn city_code(db: &DatabaseConnection, city_id: i64) -> Result<String, HookError> {
    Ok(qcity_platform::store::cities::by_id(db, city_id)
        .await?
        .map(|c| c.code)
        .ok_or("city not found")?)
}

/// The wave whose results count for `year`: the published one, else a closed one.
async fn result_wave(
    db: &DatabaseConnection,
    city_id: i64,
    year: i32,
    published_only: bool,
) -> Result<Option<store::Wave>, HookError> {
    let statuses: &[&str] = if published_only {
        &["published"]
    } else {
        &["published", "closed"]
    };
    let mut ws: Vec<store::Wave> = store::waves_in_status(db, city_id, statuses)
        .await?
        .into_iter()
        .filter(|w| w.year == year)
        .collect();
    ws.sort_by_key(|w| (w.status != "published", -w.completed));
    Ok(ws.into_iter().next())
}

fn app_err(e: qcity_platform::web::AppError) -> HookError {
    e.to_string().into()
}

#[async_trait::async_trait]
impl Module for SurveyModule {
    fn name(&self) -> &'static str {
        "survey"
    }
    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(schema::Migration)]
    }
    fn routes(&self) -> Router<AppState> {
        Router::new()
            .merge(public::routes())
            .merge(pages::routes())
            .merge(builder::routes())
    }
    fn api(&self) -> utoipa_axum::router::OpenApiRouter<AppState> {
        api::api()
    }
    fn nav(&self) -> Vec<NavItem> {
        vec![NavItem {
            pillar: Pillar::Develop,
            label_key: "survey-nav",
            href: "/app/survey",
            capability: Some(Capability::ViewAll),
        }]
    }
    async fn dashboard_tiles(&self, st: &AppState, p: &Principal, t: &Tr) -> Vec<Tile> {
        if !(p.can(Capability::ViewAll) || p.can(Capability::ManageSurvey)) {
            return vec![];
        }
        let Ok(waves) = store::list_waves(&st.db, &p.scope).await else {
            return vec![];
        };
        let mut tiles = Vec::new();
        if let Some(w) = waves.iter().find(|w| w.status == "collecting") {
            tiles.push(Tile {
                title: format!("{} · {}", t.t("survey-tile-collecting"), w.name_zh),
                value: if w.target_n > 0 {
                    format!("{} / {}", w.completed, w.target_n)
                } else {
                    w.completed.to_string()
                },
                note: t.t("survey-tile-collecting-note"),
                href: Some(format!("/app/survey/waves/{}", w.id)),
            });
        }
        if let Some(w) = waves.iter().find(|w| w.status == "published")
            && let Ok(a) = api::wave_analysis(&st.db, p.city_id, w, false).await
            && let Some(o) = a.overall
        {
            tiles.push(Tile {
                title: format!("{} {}", w.year, t.t("survey-tile-index")),
                value: format!("{:.2}", o.score),
                note: format!("95% CI {:.2}–{:.2} · n={}", o.ci_low, o.ci_high, o.n),
                href: Some(format!("/app/survey/waves/{}/analysis", w.id)),
            });
        }
        tiles
    }
    async fn indicator_feed(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
        year: i32,
    ) -> Result<Vec<FedValue>, HookError> {
        let Some(w) = result_wave(db, city_id, year, false).await? else {
            return Ok(vec![]);
        };
        let a = api::wave_analysis(db, city_id, &w, false)
            .await
            .map_err(app_err)?;
        let city = city_code(db, city_id).await?;
        let source = format!("survey wave {} ({})", w.year, w.name_zh);
        let mut out = Vec::new();
        let mut push = |code: &str, region: &str, s: &analysis::Score| {
            out.push(FedValue {
                indicator: model::indicator_code(code).to_string(),
                region_code: region.to_string(),
                year,
                value: s.score,
                source: source.clone(),
            });
        };
        if let Some(o) = &a.overall {
            push("overall", &city, o);
        }
        for d in &a.domains {
            push(&d.key, &city, d);
        }
        for d in &a.districts {
            if let Some(o) = &d.overall {
                push("overall", &d.region_code, o);
            }
            for s in &d.domains {
                push(&s.key, &d.region_code, s);
            }
        }
        Ok(out)
    }
    async fn report_sections(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
        year: i32,
    ) -> Result<Vec<ReportSection>, HookError> {
        let Some(w) = result_wave(db, city_id, year, true).await? else {
            return Ok(vec![]);
        };
        let a = api::wave_analysis(db, city_id, &w, true)
            .await
            .map_err(app_err)?;
        Ok(vec![report::section(&w, &a)])
    }
    async fn open_data(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
    ) -> Result<Vec<OpenDataset>, HookError> {
        let mut rows = Vec::new();
        let city = city_code(db, city_id).await?;
        for w in store::waves_in_status(db, city_id, &["published"]).await? {
            let a = api::wave_analysis(db, city_id, &w, false)
                .await
                .map_err(app_err)?;
            let mut add = |region: &str, s: &analysis::Score| {
                rows.push(vec![
                    json!(w.year),
                    json!(region),
                    json!(model::indicator_code(&s.key)),
                    json!((s.score * 100.0).round() / 100.0),
                    json!((s.ci_low * 100.0).round() / 100.0),
                    json!((s.ci_high * 100.0).round() / 100.0),
                    json!(s.n),
                    json!(s.n_eff.round()),
                ]);
            };
            if let Some(o) = &a.overall {
                add(&city, o);
            }
            for d in &a.domains {
                add(&city, d);
            }
            for d in &a.districts {
                if let Some(o) = &d.overall {
                    add(&d.region_code, o);
                }
                for s in &d.domains {
                    add(&d.region_code, s);
                }
            }
        }
        if rows.is_empty() {
            return Ok(vec![]);
        }
        Ok(vec![OpenDataset {
            key: "CQ-SAT".into(),
            title_zh: "市民质量满意度测评结果".into(),
            title_en: "Citizen quality satisfaction survey results".into(),
            passport: json!({
                "definition_zh": "市民对产品、工程、服务、环境、公共管理五大领域质量的满意度（0–100），按总体人口边际加权",
                "definition_en": "Citizens' satisfaction with the quality of products, construction works, services, environment and public management (0–100), weighted to population margins",
                "unit": "0-100",
                "direction": "higher_is_better",
                "source": "qcity survey module (published waves only)",
                "method": "raking to population margins; Taylor-linearisation SEs; 95% CI",
            }),
            columns: vec![
                "year".into(),
                "region_code".into(),
                "indicator".into(),
                "score".into(),
                "ci_low".into(),
                "ci_high".into(),
                "n".into(),
                "n_eff".into(),
            ],
            rows,
        }])
    }
    async fn public_links(
        &self,
        db: &DatabaseConnection,
        city_id: i64,
    ) -> Result<Vec<PublicLink>, HookError> {
        Ok(store::waves_in_status(db, city_id, &["collecting"])
            .await?
            .into_iter()
            .map(|w| PublicLink {
                title_zh: format!("参与{}", w.name_zh),
                title_en: format!(
                    "Take part: {}",
                    if w.name_en.is_empty() {
                        &w.name_zh
                    } else {
                        &w.name_en
                    }
                ),
                href: format!("/s/{}", w.open_token),
            })
            .collect())
    }
    async fn seed_demo(&self, ctx: &DemoContext) -> Result<(), HookError> {
        demo::seed(ctx).await
    }
}

/// The survey's section of the annual report.
pub mod report {
    use super::*;
    use crate::analysis::Analysis;
    use crate::model::domain_names;

    fn fig(key: &str, zh: &str, en: &str, s: &analysis::Score) -> ReportFigure {
        ReportFigure {
            key: key.into(),
            label_zh: zh.into(),
            label_en: en.into(),
            value: Some(s.score),
            previous: s.previous,
            unit_zh: "分".into(),
            unit_en: "points".into(),
            decimals: 2,
            higher_is_better: true,
            ci: Some((s.ci_low, s.ci_high)),
        }
    }

    pub fn section(w: &store::Wave, a: &Analysis) -> ReportSection {
        let mut figures = Vec::new();
        if let Some(o) = &a.overall {
            figures.push(fig(
                "survey.overall",
                "市民质量满意度总指数",
                "Citizen quality satisfaction index",
                o,
            ));
        }
        for d in &a.domains {
            let (zh, en) = domain_names(&d.key);
            figures.push(fig(&format!("survey.{}", d.key), zh, en, d));
        }
        let cols = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        let domain_rows = a
            .domains
            .iter()
            .map(|d| {
                vec![
                    domain_names(&d.key).0.to_string(),
                    format!("{:.2}", d.score),
                    format!("{:.2}–{:.2}", d.ci_low, d.ci_high),
                    d.n.to_string(),
                    format!("{:.0}", d.n_eff),
                    d.change
                        .map(|c| {
                            format!("{:+.2}{}", c.change, if c.significant { "*" } else { "" })
                        })
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let district_rows = a
            .districts
            .iter()
            .filter_map(|d| {
                d.overall.as_ref().map(|o| {
                    vec![
                        d.name_zh.clone(),
                        format!("{:.2}", o.score),
                        format!("{:.2}–{:.2}", o.ci_low, o.ci_high),
                        o.n.to_string(),
                        o.change
                            .map(|c| {
                                format!("{:+.2}{}", c.change, if c.significant { "*" } else { "" })
                            })
                            .unwrap_or_default(),
                    ]
                })
            })
            .collect();
        let mut ipa_rows = Vec::new();
        if let Some(i) = &a.ipa {
            let mut pts = i.points.clone();
            pts.sort_by(|x, y| {
                (x.quadrant != "concentrate_here")
                    .cmp(&(y.quadrant != "concentrate_here"))
                    .then(y.importance.total_cmp(&x.importance))
            });
            for p in pts {
                ipa_rows.push(vec![
                    p.label_zh.clone(),
                    format!("{:.3}", p.importance),
                    format!("{:.2}", p.performance),
                    crate::pages::quadrant_zh(&p.quadrant).to_string(),
                ]);
            }
        }
        let sugg_rows = crate::model::DOMAINS
            .iter()
            .map(|d| {
                let kws = a
                    .suggestions
                    .keywords_by_domain
                    .get(*d)
                    .map(|k| {
                        k.iter()
                            .take(5)
                            .map(|(w, n)| format!("{w}({n})"))
                            .collect::<Vec<_>>()
                            .join("、")
                    })
                    .unwrap_or_default();
                vec![
                    domain_names(d).0.to_string(),
                    a.suggestions
                        .by_domain
                        .get(*d)
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                    kws,
                ]
            })
            .collect();
        let names: Vec<&str> = a.domains.iter().map(|d| domain_names(&d.key).0).collect();
        let bar = json!({
            "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "category", "data": names},
            "yAxis": {"type": "value", "min": 0, "max": 100},
            "series": [
                {"type": "bar", "name": "得分", "data": a.domains.iter().map(|d| (d.score * 100.0).round() / 100.0).collect::<Vec<_>>()},
                {"type": "scatter", "name": "95% CI 下限", "data": a.domains.iter().map(|d| (d.ci_low * 100.0).round() / 100.0).collect::<Vec<_>>(), "symbol": "line"},
                {"type": "scatter", "name": "95% CI 上限", "data": a.domains.iter().map(|d| (d.ci_high * 100.0).round() / 100.0).collect::<Vec<_>>(), "symbol": "line"}
            ]
        });
        let map = json!({
            "tooltip": {"trigger": "item"},
            "visualMap": {"min": 60, "max": 100, "calculable": true},
            "series": [{"type": "map", "map": "districts", "nameProperty": "code", "data": a.districts.iter().filter_map(|d| d.overall.as_ref().map(|o| json!({"name": d.region_code, "value": (o.score * 100.0).round() / 100.0}))).collect::<Vec<_>>()}]
        });
        let m = &a.method;
        ReportSection {
            key: "survey.satisfaction".into(),
            order: 20,
            title_zh: format!("{}年市民质量满意度测评", w.year),
            title_en: format!("Citizen quality satisfaction survey {}", w.year),
            figures,
            tables: vec![
                ReportTable {
                    key: "survey.domains".into(),
                    title_zh: "五大领域满意度".into(),
                    title_en: "Satisfaction by domain".into(),
                    columns: cols(&[
                        ("领域", "Domain"),
                        ("得分", "Score"),
                        ("95%置信区间", "95% CI"),
                        ("样本量", "n"),
                        ("有效样本量", "n_eff"),
                        ("同比变化", "Change"),
                    ]),
                    rows: domain_rows,
                },
                ReportTable {
                    key: "survey.districts".into(),
                    title_zh: "各区县满意度".into(),
                    title_en: "Satisfaction by district".into(),
                    columns: cols(&[
                        ("区县", "District"),
                        ("得分", "Score"),
                        ("95%置信区间", "95% CI"),
                        ("样本量", "n"),
                        ("同比变化", "Change"),
                    ]),
                    rows: district_rows,
                },
                ReportTable {
                    key: "survey.ipa".into(),
                    title_zh: "重要性—表现分析（四分图）改进优先级".into(),
                    title_en: "Importance–performance priorities".into(),
                    columns: cols(&[
                        ("领域", "Domain"),
                        ("重要性", "Importance"),
                        ("表现", "Performance"),
                        ("象限", "Quadrant"),
                    ]),
                    rows: ipa_rows,
                },
                ReportTable {
                    key: "survey.suggestions".into(),
                    title_zh: "市民意见建议（按领域归类）".into(),
                    title_en: "Citizens' suggestions by domain".into(),
                    columns: cols(&[
                        ("领域", "Domain"),
                        ("条数", "Count"),
                        ("高频词", "Top keywords"),
                    ]),
                    rows: sugg_rows,
                },
            ],
            charts: vec![
                ReportChart {
                    key: "survey.domains".into(),
                    title_zh: "五大领域满意度得分".into(),
                    title_en: "Scores by domain".into(),
                    option: bar,
                    needs_map: false,
                },
                ReportChart {
                    key: "survey.map".into(),
                    title_zh: "各区县满意度".into(),
                    title_en: "Satisfaction by district".into(),
                    option: map,
                    needs_map: true,
                },
            ],
            method_zh: format!(
                "有效样本{}份（剔除{}份），按{}加权（{}），有效样本量{:.0}，设计效应{:.2}；得分换算：{}；置信区间为95%（泰勒线性化标准误，考虑加权校准）；满意度模型为PLS-SEM（路径加权方案，未加权；总体满意度题全答且领域题作答≥80%的个案，“不了解”按题项均值替代）。",
                m.n,
                m.excluded,
                if m.margins_used.is_empty() {
                    "等权".to_string()
                } else {
                    m.margins_used.join("、")
                },
                m.weighting,
                m.n_eff,
                m.deff_w,
                if m.conversion == "five_level_cn" {
                    "五级赋值100/80/60/30/0（不了解不计）"
                } else {
                    "线性换算(x−最小值)/(最大值−最小值)×100（不了解不计）"
                }
            ),
            method_en: format!(
                "{} valid responses ({} excluded), weighted by raking to {} ({}); n_eff {:.0}, deff {:.2}; conversion: {}; 95% CIs from Taylor-linearisation SEs accounting for calibration; satisfaction model: PLS-SEM, path scheme, unweighted, on cases answering every overall item and at least 80% of the domain items (don't-know answers replaced by item means).",
                m.n,
                m.excluded,
                if m.margins_used.is_empty() {
                    "none".to_string()
                } else {
                    m.margins_used.join(", ")
                },
                m.weighting,
                m.n_eff,
                m.deff_w,
                m.conversion
            ),
        }
    }
}
