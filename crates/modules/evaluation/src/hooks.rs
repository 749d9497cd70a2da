//! What the evaluation module gives other parts of qcity: home tiles, annual-report sections
//! (from the latest stored run) and open data (published values only, with passports).

use crate::entity::value;
use crate::runs::{self, RunInputs, RunResults};
use crate::store::{self, EvalError, PUBLISHED};
use qcity_platform::Tile;
use qcity_platform::auth::{Capability, Principal};
use qcity_platform::feeds::{OpenDataset, ReportChart, ReportFigure, ReportSection, ReportTable};
use qcity_platform::i18n::Tr;
use qcity_platform::web::AppState;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use std::collections::BTreeMap;

/// Score bands of the published 0–100 scale (after the manufacturing quality competitiveness
/// index bands; configurable later): (lower bound, zh, en).
pub const BANDS: [(f64, &str, &str); 4] = [
    (90.0, "优秀", "excellent"),
    (75.0, "良好", "good"),
    (60.0, "一般", "fair"),
    (f64::NEG_INFINITY, "较弱", "weak"),
];

pub fn band(score: f64) -> (&'static str, &'static str) {
    BANDS
        .iter()
        .find(|b| score >= b.0)
        .map(|b| (b.1, b.2))
        .unwrap_or(("", ""))
}

/// Home dashboard tiles.
pub async fn tiles(st: &AppState, p: &Principal, t: &Tr) -> Result<Vec<Tile>, EvalError> {
    if !p.can(Capability::ViewAll) && !p.can(Capability::EnterData) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    if let Some((m, res)) = runs::latest_finished(&st.db, p.city_id, None).await? {
        let res = runs::scoped_results(p, res);
        let inputs: Option<RunInputs> = serde_json::from_str(&m.inputs).ok();
        if let Some(y) = res.years.last()
            && let Some(u) = y.units.first()
        {
            let name = inputs
                .as_ref()
                .and_then(|i| i.region_names.get(&u.region))
                .map(|n| n.0.clone())
                .unwrap_or_else(|| u.region.clone());
            let score = u
                .scores
                .get(&res.top)
                .copied()
                .flatten()
                .unwrap_or(f64::NAN);
            out.push(Tile {
                title: t.ta(
                    "evaluation-tile-index",
                    &[("year", y.year.to_string().into())],
                ),
                value: format!("{score:.1}"),
                note: format!(
                    "{name} · #{}",
                    u.ranks.get(&res.top).copied().flatten().unwrap_or(0)
                ),
                href: Some(format!("/app/evaluation/runs/{}", m.id)),
            });
        }
    }
    if p.can(Capability::ApproveData) {
        let n = value::Entity::find()
            .filter(value::Column::CityId.eq(p.city_id))
            .filter(value::Column::RegionCode.starts_with(&p.scope.prefix))
            .filter(value::Column::Status.eq(store::SUBMITTED))
            .count(&st.db)
            .await?;
        out.push(Tile {
            title: t.t("evaluation-tile-to-approve"),
            value: n.to_string(),
            note: String::new(),
            href: Some("/app/evaluation/entry?status=submitted".into()),
        });
    } else if p.can(Capability::EnterData) {
        let n = value::Entity::find()
            .filter(value::Column::CityId.eq(p.city_id))
            .filter(value::Column::RegionCode.starts_with(&p.scope.prefix))
            .filter(value::Column::Status.eq(store::DRAFT))
            .count(&st.db)
            .await?;
        out.push(Tile {
            title: t.t("evaluation-tile-drafts"),
            value: n.to_string(),
            note: String::new(),
            href: Some("/app/evaluation/entry".into()),
        });
    }
    Ok(out)
}

fn name_of(inputs: &RunInputs, code: &str) -> (String, String) {
    if let Some(n) = inputs.region_names.get(code) {
        return n.clone();
    }
    inputs
        .nodes
        .iter()
        .find(|n| n.code == code)
        .map(|n| (n.name_zh.clone(), n.name_en.clone()))
        .unwrap_or_else(|| (code.into(), code.into()))
}

/// Chart options of a run's year (shared by the report and the results page). Names are
/// given in `lang` ("zh-CN" or "en").
pub struct Charts {
    pub ranking: serde_json::Value,
    pub radar: serde_json::Value,
    pub trend: serde_json::Value,
    pub map: serde_json::Value,
    pub intervals: serde_json::Value,
}

pub fn charts(inputs: &RunInputs, res: &RunResults, year: i32, en: bool) -> Option<Charts> {
    let yr = res.years.iter().find(|y| y.year == year)?;
    let pick = |c: &str| {
        let (zh, e) = name_of(inputs, c);
        if en { e } else { zh }
    };
    let top = &res.top;
    let mut units = yr.units.clone();
    units.sort_by_key(|u| {
        std::cmp::Reverse(
            u.ranks
                .get(top)
                .copied()
                .flatten()
                .map(|r| u32::MAX - r)
                .unwrap_or(0),
        )
    });
    // best last so the horizontal bar shows the best at the top
    let rev: Vec<_> = units.iter().rev().collect();
    let ranking = serde_json::json!({
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 110, "right": 30, "top": 20, "bottom": 30},
        "xAxis": {"type": "value", "min": 0, "max": 100},
        "yAxis": {"type": "category", "data": rev.iter().map(|u| pick(&u.region)).collect::<Vec<_>>()},
        "series": [{"type": "bar", "name": pick(top), "data": rev.iter().map(|u| u.scores.get(top).copied().flatten().map(|x| (x * 10.0).round() / 10.0)).collect::<Vec<_>>(),
                    "itemStyle": {"color": "#2f6db5"}, "label": {"show": true, "position": "right"}}]
    });
    let dims = &res.dimensions;
    let radar = serde_json::json!({
        "tooltip": {},
        "legend": {"type": "scroll", "bottom": 0},
        "radar": {"indicator": dims.iter().map(|d| serde_json::json!({"name": pick(d), "max": 100})).collect::<Vec<_>>(), "radius": "62%"},
        "series": [{"type": "radar", "data": units.iter().map(|u| serde_json::json!({
            "name": pick(&u.region),
            "value": dims.iter().map(|d| u.scores.get(d).copied().flatten().map(|x| (x * 10.0).round() / 10.0)).collect::<Vec<_>>()
        })).collect::<Vec<_>>()}]
    });
    let years: Vec<i32> = res.years.iter().map(|y| y.year).collect();
    let trend = serde_json::json!({
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "bottom": 0},
        "grid": {"left": 50, "right": 20, "top": 20, "bottom": 60},
        "xAxis": {"type": "category", "data": years},
        "yAxis": {"type": "value", "scale": true},
        "series": inputs.regions.iter().filter(|r| units.iter().any(|u| &u.region == *r)).map(|r| serde_json::json!({
            "type": "line", "name": pick(r),
            "data": res.years.iter().map(|y| y.units.iter().find(|u| &u.region == r).and_then(|u| u.scores.get(top).copied().flatten()).map(|x| (x * 10.0).round() / 10.0)).collect::<Vec<_>>()
        })).collect::<Vec<_>>()
    });
    let map = serde_json::json!({
        "tooltip": {"trigger": "item"},
        "visualMap": {"min": 0, "max": 100, "left": "left", "bottom": 10, "calculable": true, "inRange": {"color": ["#fbeaea", "#f6d48b", "#7fc08f", "#1f7a3f"]}},
        "series": [{"type": "map", "map": "districts", "nameProperty": "code", "roam": true, "label": {"show": false},
                    "data": units.iter().map(|u| serde_json::json!({"name": u.region, "value": u.scores.get(top).copied().flatten().map(|x| (x * 10.0).round() / 10.0)})).collect::<Vec<_>>()}]
    });
    let mut iv = yr.rank_intervals.clone();
    iv.sort_by(|a, b| a.nominal_rank.total_cmp(&b.nominal_rank));
    let intervals = serde_json::json!({
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 110, "right": 30, "top": 20, "bottom": 50},
        "xAxis": {"type": "value", "name": if en { "rank" } else { "排名" }, "inverse": false, "min": 1, "max": inputs.regions.len().max(2)},
        "yAxis": {"type": "category", "data": iv.iter().map(|r| pick(&r.region)).collect::<Vec<_>>(), "inverse": true},
        "series": [
            {"type": "bar", "stack": "iv", "name": "q05", "data": iv.iter().map(|r| r.q05_rank).collect::<Vec<_>>(), "itemStyle": {"color": "transparent"}, "tooltip": {"show": false}},
            {"type": "bar", "stack": "iv", "name": if en { "5–95 % rank interval" } else { "5–95% 排名区间" }, "data": iv.iter().map(|r| (r.q95_rank - r.q05_rank).max(0.05)).collect::<Vec<_>>(), "itemStyle": {"color": "#9ec1e8"}},
            {"type": "scatter", "name": if en { "nominal rank" } else { "名义排名" }, "data": iv.iter().map(|r| r.nominal_rank).collect::<Vec<_>>(), "itemStyle": {"color": "#12325c"}, "symbolSize": 10},
            {"type": "scatter", "name": if en { "median rank" } else { "中位排名" }, "data": iv.iter().map(|r| r.median_rank).collect::<Vec<_>>(), "symbol": "diamond", "itemStyle": {"color": "#b26b00"}, "symbolSize": 10}
        ]
    });
    Some(Charts {
        ranking,
        radar,
        trend,
        map,
        intervals,
    })
}

fn fmt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
}

/// The report section: the composite quality index by dimension and district.
pub async fn report_sections(
    db: &impl ConnectionTrait,
    city_id: i64,
    year: i32,
) -> Result<Vec<ReportSection>, EvalError> {
    let Some((m, res)) = runs::latest_finished(db, city_id, Some(year)).await? else {
        return Ok(Vec::new());
    };
    let Ok(inputs) = serde_json::from_str::<RunInputs>(&m.inputs) else {
        return Ok(Vec::new());
    };
    let Some(yr) = res.years.iter().find(|y| y.year == year) else {
        return Ok(Vec::new());
    };
    let prev = res.years.iter().find(|y| y.year == year - 1);
    let mean = |y: &runs::YearResult, code: &str| {
        let xs: Vec<f64> = y
            .units
            .iter()
            .filter_map(|u| u.scores.get(code).copied().flatten())
            .collect();
        if xs.is_empty() {
            None
        } else {
            Some(xs.iter().sum::<f64>() / xs.len() as f64)
        }
    };
    let top = res.top.clone();
    let (tzh, ten) = name_of(&inputs, &top);
    let mut figures = vec![ReportFigure {
        key: "evaluation.index.mean".into(),
        label_zh: format!("{tzh}(各区平均)"),
        label_en: format!("{ten} (mean of districts)"),
        value: mean(yr, &top),
        previous: prev.and_then(|p| mean(p, &top)),
        unit_zh: "分".into(),
        unit_en: "points".into(),
        decimals: 1,
        higher_is_better: true,
        ci: None,
    }];
    for d in &res.dimensions {
        let (zh, en) = name_of(&inputs, d);
        figures.push(ReportFigure {
            key: format!("evaluation.dim.{d}"),
            label_zh: zh,
            label_en: en,
            value: mean(yr, d),
            previous: prev.and_then(|p| mean(p, d)),
            unit_zh: "分".into(),
            unit_en: "points".into(),
            decimals: 1,
            higher_is_better: true,
            ci: None,
        });
    }
    let mut columns = vec![
        ("排名".to_string(), "Rank".to_string()),
        ("地区".into(), "Region".into()),
        (tzh.clone(), ten.clone()),
    ];
    for d in &res.dimensions {
        columns.push(name_of(&inputs, d));
    }
    columns.push(("等级".into(), "Band".into()));
    columns.push(("年均增速".into(), "CAGR".into()));
    let mut units = yr.units.clone();
    units.sort_by_key(|u| u.ranks.get(&top).copied().flatten().unwrap_or(u32::MAX));
    let rows = units
        .iter()
        .map(|u| {
            let s = u.scores.get(&top).copied().flatten();
            let mut r = vec![
                u.ranks
                    .get(&top)
                    .copied()
                    .flatten()
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
                name_of(&inputs, &u.region).0,
                fmt(s),
            ];
            for d in &res.dimensions {
                r.push(fmt(u.scores.get(d).copied().flatten()));
            }
            r.push(
                s.map(|x| {
                    let b = band(x);
                    format!("{} / {}", b.0, b.1)
                })
                .unwrap_or_default(),
            );
            r.push(
                res.trends
                    .get(&u.region)
                    .copied()
                    .flatten()
                    .map(|c| format!("{:+.1}%", c * 100.0))
                    .unwrap_or_else(|| "—".into()),
            );
            r
        })
        .collect();
    let sw_rows = units
        .iter()
        .map(|u| {
            let names = |v: &Vec<(String, u32)>| {
                v.iter()
                    .map(|(c, r)| format!("{}(#{r})", name_of(&inputs, c).0))
                    .collect::<Vec<_>>()
                    .join("、")
            };
            vec![
                name_of(&inputs, &u.region).0,
                names(&u.strengths),
                names(&u.weaknesses),
            ]
        })
        .collect();
    let tables = vec![
        ReportTable {
            key: "evaluation.ranking".into(),
            title_zh: format!("{year} 年各区{tzh}排名"),
            title_en: format!("{ten} {year}: ranking of districts"),
            columns,
            rows,
        },
        ReportTable {
            key: "evaluation.strengths".into(),
            title_zh: "优势与短板指标".into(),
            title_en: "Strengths and weaknesses".into(),
            columns: vec![
                ("地区".into(), "Region".into()),
                ("优势指标".into(), "Strengths".into()),
                ("短板指标".into(), "Weaknesses".into()),
            ],
            rows: sw_rows,
        },
    ];
    let mut charts_out = Vec::new();
    if let Some(c) = charts(&inputs, &res, year, false) {
        charts_out.push(ReportChart {
            key: "evaluation.ranking".into(),
            title_zh: "综合指数排名".into(),
            title_en: "Index ranking".into(),
            option: c.ranking,
            needs_map: false,
        });
        charts_out.push(ReportChart {
            key: "evaluation.radar".into(),
            title_zh: "各区分维度得分".into(),
            title_en: "Dimension scores by district".into(),
            option: c.radar,
            needs_map: false,
        });
        charts_out.push(ReportChart {
            key: "evaluation.map".into(),
            title_zh: "综合指数地图".into(),
            title_en: "Index map".into(),
            option: c.map,
            needs_map: true,
        });
        charts_out.push(ReportChart {
            key: "evaluation.trend".into(),
            title_zh: "综合指数趋势".into(),
            title_en: "Index trend".into(),
            option: c.trend,
            needs_map: false,
        });
        if !yr.rank_intervals.is_empty() {
            charts_out.push(ReportChart {
                key: "evaluation.intervals".into(),
                title_zh: "排名不确定性区间".into(),
                title_en: "Rank uncertainty".into(),
                option: c.intervals,
                needs_map: false,
            });
        }
    }
    let spec_lines: Vec<String> = m
        .spec_toml
        .lines()
        .filter(|l| l.starts_with('[') || l.starts_with("method"))
        .map(str::to_string)
        .collect();
    let method_en = format!(
        "Composite index computed with the qcity-index engine (OECD/JRC Handbook, COINr pipeline) on {} values of {} regions, {} indicators ({} left out for lack of data). Pipeline: {}. Uncertainty: {} Monte Carlo replications, seed {}. Run {} ({}), reproducible from its stored spec and inputs.",
        inputs.values.len(),
        inputs.regions.len(),
        inputs.nodes.iter().filter(|n| n.level == 1).count(),
        res.dropped_indicators.len(),
        spec_lines.join(" "),
        m.uncertainty_n,
        m.seed,
        m.id,
        m.name
    );
    let method_zh = format!(
        "综合指数由 qcity-index 引擎按 OECD/JRC《综合指标构建手册》(COINr 流程)计算:{} 个地区、{} 项指标({} 项因缺数据未纳入)、{} 个数据值。流程:{}。不确定性分析:蒙特卡洛 {} 次,随机种子 {}。运行 {}({})可按存储的规格与输入完全重现。",
        inputs.regions.len(),
        inputs.nodes.iter().filter(|n| n.level == 1).count(),
        res.dropped_indicators.len(),
        inputs.values.len(),
        spec_lines.join(" "),
        m.uncertainty_n,
        m.seed,
        m.id,
        m.name
    );
    Ok(vec![ReportSection {
        key: "evaluation.index".into(),
        order: 10,
        title_zh: format!("城市质量发展综合评价({year} 年)"),
        title_en: format!("City quality development index ({year})"),
        figures,
        tables,
        charts: charts_out,
        method_zh,
        method_en,
    }])
}

/// Open data: one dataset per indicator with published values, with its passport.
pub async fn open_data(
    db: &impl ConnectionTrait,
    city_id: i64,
) -> Result<Vec<OpenDataset>, EvalError> {
    let regions: BTreeMap<String, (String, String)> =
        qcity_platform::entity::region::Entity::find()
            .filter(qcity_platform::entity::region::Column::CityId.eq(city_id))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.code, (r.name_zh, r.name_en)))
            .collect();
    let mut out = Vec::new();
    for fw in store::list_frameworks(db, city_id).await? {
        let vals = value::Entity::find()
            .filter(value::Column::CityId.eq(city_id))
            .filter(value::Column::FrameworkId.eq(fw.id))
            .filter(value::Column::Status.eq(PUBLISHED))
            .order_by_asc(value::Column::IndicatorCode)
            .order_by_asc(value::Column::Year)
            .order_by_asc(value::Column::RegionCode)
            .all(db)
            .await?;
        if vals.is_empty() {
            continue;
        }
        for n in store::nodes(db, city_id, fw.id)
            .await?
            .into_iter()
            .filter(|n| n.level == 1)
        {
            let rows: Vec<Vec<serde_json::Value>> = vals
                .iter()
                .filter(|v| v.indicator_code == n.code)
                .map(|v| {
                    let (zh, en) = regions.get(&v.region_code).cloned().unwrap_or_default();
                    vec![
                        v.year.into(),
                        v.region_code.clone().into(),
                        zh.into(),
                        en.into(),
                        v.value.into(),
                        n.unit.clone().into(),
                        v.source.clone().into(),
                    ]
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            out.push(OpenDataset {
                key: format!("evaluation.{}.{}", fw.code, n.code),
                title_zh: n.name_zh.clone(),
                title_en: n.name_en.clone(),
                passport: serde_json::json!({
                    "framework": fw.code, "code": n.code, "definition_zh": n.definition_zh, "definition_en": n.definition_en,
                    "unit": n.unit, "direction": n.direction, "target_band": [n.band_low, n.band_high], "target": n.target, "target_year": n.target_year,
                    "source_zh": n.source_zh, "source_en": n.source_en, "department": n.department, "computation": n.computation,
                    "numerator": n.numerator, "denominator": n.denominator, "factor": n.factor
                }),
                columns: ["Year", "GeoCode", "region_zh", "region_en", "Value", "Units", "source"].iter().map(|s| s.to_string()).collect(),
                rows,
            });
        }
    }
    Ok(out)
}
