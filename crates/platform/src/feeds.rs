//! What modules hand each other without reaching into each other's tables: indicator values
//! for the evaluation framework, sections of the annual report, and public headline figures.

use serde::{Deserialize, Serialize};

/// A value a module supplies to the evaluation module's indicator framework, e.g. the survey's
/// citizen satisfaction per district and year, the 96333 trapping rate, or the energy use per
/// 10,000 yuan GDP.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FedValue {
    /// Indicator code in the evaluation framework (see the evaluation module's built-in
    /// frameworks, e.g. `CQ-SAT` for citizen quality satisfaction).
    pub indicator: String,
    /// Region (city or district) the value is for.
    pub region_code: String,
    pub year: i32,
    pub value: f64,
    /// Where it came from, e.g. `survey wave 2025`.
    pub source: String,
}

/// A headline figure in two languages, with the previous year's value for the change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportFigure {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub unit_zh: String,
    pub unit_en: String,
    pub decimals: u8,
    /// Whether a rise is good news (drives the wording "improved" vs "worsened").
    pub higher_is_better: bool,
    /// Confidence interval, when the figure is an estimate.
    pub ci: Option<(f64, f64)>,
}

/// A table of a report section (cells already formatted).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportTable {
    pub key: String,
    pub title_zh: String,
    pub title_en: String,
    /// Column headers (zh, en).
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<String>>,
}

/// A chart of a report section: an Apache ECharts option (no functions, pure JSON). A map chart
/// names `districts` as its map and sets `needs_map`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportChart {
    pub key: String,
    pub title_zh: String,
    pub title_en: String,
    pub option: serde_json::Value,
    pub needs_map: bool,
}

/// One section of the annual city quality report a module contributes (质量状况分析报告).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportSection {
    /// Stable key, e.g. `evaluation.index`, `survey.satisfaction`, `equipment.elevators`.
    pub key: String,
    /// Position in the report (lower first).
    pub order: u32,
    pub title_zh: String,
    pub title_en: String,
    pub figures: Vec<ReportFigure>,
    pub tables: Vec<ReportTable>,
    pub charts: Vec<ReportChart>,
    /// Method notes (framework, sample, weighting, conversions used).
    pub method_zh: String,
    pub method_en: String,
}

/// A published dataset for the open-data portal: one indicator (or table) with its passport.
/// Only published values may appear here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OpenDataset {
    /// Stable key, e.g. the indicator code.
    pub key: String,
    pub title_zh: String,
    pub title_en: String,
    /// Passport metadata: definition, unit, direction, source, responsible department, …
    pub passport: serde_json::Value,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// A link the public portal shows, e.g. the open survey while a wave is collecting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublicLink {
    pub title_zh: String,
    pub title_en: String,
    pub href: String,
}
