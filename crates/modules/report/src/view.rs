//! What the report templates show: a version formatted in one language.

use crate::narrative::{Change, change_of, fmt_num, with_unit};
use crate::store::{Status, Version};
use qcity_platform::feeds::ReportFigure;
use qcity_platform::web::render::embed_json;

/// A figure formatted for a table or a tile.
#[derive(Debug, Clone)]
pub struct FigureView {
    pub key: String,
    pub label: String,
    pub value: String,
    pub previous: String,
    /// `+1.6`, `−0.3`, `0`, or empty.
    pub change: String,
    /// `good`, `bad`, `flat` or `unknown` (for the badge colour and screen-reader text).
    pub tone: &'static str,
    pub tone_text: String,
    pub ci: String,
}

impl FigureView {
    pub fn new(f: &ReportFigure, en: bool) -> Self {
        let na = if en { "n/a" } else { "暂无" };
        let (c, d) = change_of(f);
        let (change, tone) = match c {
            Change::Up => (
                format!("+{}", fmt_num(d, f.decimals)),
                if f.higher_is_better { "good" } else { "bad" },
            ),
            Change::Down => (
                format!("−{}", fmt_num(d, f.decimals)),
                if f.higher_is_better { "bad" } else { "good" },
            ),
            Change::Unchanged => ("0".into(), "flat"),
            Change::Unknown => (String::new(), "unknown"),
        };
        let tone_text = match (tone, en) {
            ("good", false) => "向好",
            ("bad", false) => "退步",
            ("flat", false) => "持平",
            ("good", true) => "improved",
            ("bad", true) => "worsened",
            ("flat", true) => "unchanged",
            _ => "",
        }
        .to_string();
        Self {
            key: f.key.clone(),
            label: if en {
                f.label_en.clone()
            } else {
                f.label_zh.clone()
            },
            value: f
                .value
                .map(|v| with_unit(v, f, en))
                .unwrap_or_else(|| na.into()),
            previous: f
                .previous
                .map(|v| with_unit(v, f, en))
                .unwrap_or_else(|| "–".into()),
            change,
            tone,
            tone_text,
            ci: f
                .ci
                .map(|(a, b)| format!("{}–{}", fmt_num(a, f.decimals), fmt_num(b, f.decimals)))
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChartView {
    pub id: String,
    pub title: String,
    pub json: String,
    pub needs_map: bool,
}

#[derive(Debug, Clone)]
pub struct TableView {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct BlockView {
    pub key: String,
    pub text: String,
    pub text_zh: String,
    pub text_en: String,
    pub generated_zh: String,
    pub generated_en: String,
    pub edited: bool,
    pub stale: bool,
    pub previous: String,
}

#[derive(Debug, Clone)]
pub struct SectionView {
    pub key: String,
    pub anchor: String,
    pub title: String,
    pub block: Option<BlockView>,
    pub figures: Vec<FigureView>,
    pub charts: Vec<ChartView>,
    pub tables: Vec<TableView>,
    pub method: String,
}

/// A report version in one language.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub id: String,
    pub year: i32,
    pub version: i32,
    pub status: &'static str,
    pub status_label: String,
    pub title: String,
    pub city: String,
    pub assembled: String,
    pub published: String,
    pub change_note: String,
    pub overview: Option<BlockView>,
    pub headlines: Vec<FigureView>,
    pub sections: Vec<SectionView>,
    pub unavailable: String,
    /// GeoJSON of the district boundaries for map charts.
    pub geo_url: String,
    /// `name_zh` or `name_en`.
    pub name_prop: &'static str,
}

fn block_view(v: &Version, key: &str, en: bool) -> Option<BlockView> {
    v.block(key).map(|b| BlockView {
        key: b.key.clone(),
        text: b.text(en).to_string(),
        text_zh: b.text_zh.clone(),
        text_en: b.text_en.clone(),
        generated_zh: b.generated_zh.clone(),
        generated_en: b.generated_en.clone(),
        edited: b.edited,
        stale: b.stale,
        previous: if en {
            b.previous_en.clone()
        } else {
            b.previous_zh.clone()
        }
        .unwrap_or_default(),
    })
}

pub fn status_label(s: Status, en: bool) -> String {
    match (s, en) {
        (Status::Draft, false) => "草稿",
        (Status::Review, false) => "待审核",
        (Status::Published, false) => "已发布",
        (Status::Draft, true) => "Draft",
        (Status::Review, true) => "In review",
        (Status::Published, true) => "Published",
    }
    .to_string()
}

impl ReportView {
    pub fn new(v: &Version, en: bool, geo_url: &str) -> Self {
        let snap = &v.snapshot;
        let pick = |zh: &str, e: &str| {
            if en && !e.is_empty() {
                e.to_string()
            } else {
                zh.to_string()
            }
        };
        let city = pick(&snap.city_name_zh, &snap.city_name_en);
        let sections = snap
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| SectionView {
                key: s.key.clone(),
                anchor: format!("s{}", i + 1),
                title: pick(&s.title_zh, &s.title_en),
                block: block_view(v, &s.key, en),
                figures: s.figures.iter().map(|f| FigureView::new(f, en)).collect(),
                charts: s
                    .charts
                    .iter()
                    .enumerate()
                    .map(|(j, c)| ChartView {
                        id: format!("chart-{}-{}", i + 1, j + 1),
                        title: pick(&c.title_zh, &c.title_en),
                        json: embed_json(&c.option),
                        needs_map: c.needs_map,
                    })
                    .collect(),
                tables: s
                    .tables
                    .iter()
                    .map(|t| TableView {
                        title: pick(&t.title_zh, &t.title_en),
                        columns: t.columns.iter().map(|(z, e)| pick(z, e)).collect(),
                        rows: t.rows.clone(),
                    })
                    .collect(),
                method: pick(&s.method_zh, &s.method_en),
            })
            .collect();
        Self {
            id: v.row.id.to_string(),
            year: snap.year,
            version: v.row.version,
            status: v.status.as_str(),
            status_label: status_label(v.status, en),
            title: if en {
                format!("{city} Quality Report {}", snap.year)
            } else {
                format!("{city}{}年城市质量状况分析报告", snap.year)
            },
            city,
            assembled: snap.assembled_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            published: v
                .row
                .published_at
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            change_note: v.row.change_note.clone(),
            overview: block_view(v, "overview", en),
            headlines: snap
                .sections
                .iter()
                .filter_map(|s| s.figures.first())
                .map(|f| FigureView::new(f, en))
                .collect(),
            sections,
            unavailable: snap.unavailable.join(", "),
            geo_url: geo_url.to_string(),
            name_prop: if en { "name_en" } else { "name_zh" },
        }
    }
}
