//! Narrative from data (数据驱动的报告文字): sentences in zh-CN and en generated from the figures
//! of the report sections. Pure functions, no IO.

use qcity_platform::feeds::{ReportFigure, ReportSection};
use serde::{Deserialize, Serialize};

/// One generated paragraph of the report, with the hash of the figures it was written from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedBlock {
    /// `overview` or the key of the section it describes.
    pub key: String,
    pub zh: String,
    pub en: String,
    /// Hash of the figures behind the text (decides whether an analyst's edit still applies).
    pub data_hash: String,
}

/// Formats `v` with `decimals` places (no thousands separator, `-0` shown as `0`).
pub fn fmt_num(v: f64, decimals: u8) -> String {
    let s = format!("{:.*}", decimals as usize, v);
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// The value with its unit in one language (`82.3分`, `82.3 points`, `12.5%`).
pub fn with_unit(v: f64, f: &ReportFigure, en: bool) -> String {
    let n = fmt_num(v, f.decimals);
    let unit = if en { &f.unit_en } else { &f.unit_zh };
    if unit.is_empty() {
        n
    } else if en && !unit.starts_with('%') {
        format!("{n} {unit}")
    } else {
        format!("{n}{unit}")
    }
}

/// Ordinal rank in Chinese: 1 → 第一, 12 → 第十二.
pub fn ordinal_zh(n: usize) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let body = match n {
        0..=9 => D[n].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", D[n % 10]),
        20..=99 => {
            let ones = if n.is_multiple_of(10) { "" } else { D[n % 10] };
            format!("{}十{}", D[n / 10], ones)
        }
        _ => n.to_string(),
    };
    format!("第{body}")
}

/// Ordinal rank in English: 1 → first, 11 → 11th, 22 → 22nd.
pub fn ordinal_en(n: usize) -> String {
    const W: [&str; 11] = [
        "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
        "ninth", "tenth",
    ];
    if n <= 10 {
        return W[n].to_string();
    }
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Direction of a year-on-year change after rounding to the figure's decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Up,
    Down,
    Unchanged,
    /// No previous value (or no current value).
    Unknown,
}

/// The change of a figure against the previous year, with its rounded absolute size.
pub fn change_of(f: &ReportFigure) -> (Change, f64) {
    let (Some(v), Some(p)) = (f.value, f.previous) else {
        return (Change::Unknown, 0.0);
    };
    let scale = 10f64.powi(f.decimals as i32);
    let d = ((v * scale).round() - (p * scale).round()) / scale;
    if d.abs() < 0.5 / scale {
        (Change::Unchanged, 0.0)
    } else if d > 0.0 {
        (Change::Up, d)
    } else {
        (Change::Down, -d)
    }
}

/// Whether the change is good news given the direction of the indicator.
fn is_improvement(c: Change, higher_is_better: bool) -> Option<bool> {
    match c {
        Change::Up => Some(higher_is_better),
        Change::Down => Some(!higher_is_better),
        _ => None,
    }
}

fn en_label(label: &str) -> String {
    // Lower-case the first letter for use inside a sentence, unless it starts an acronym.
    let mut cs = label.chars();
    match (cs.next(), cs.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            let mut s = a.to_lowercase().to_string();
            s.push_str(&label[a.len_utf8()..]);
            s
        }
        _ => label.to_string(),
    }
}

/// `比上年提高1.6` / `up 1.6 on the previous year`, with a judgement when the change is not
/// what the indicator wants.
fn change_phrase(f: &ReportFigure, en: bool) -> String {
    let (c, d) = change_of(f);
    let size = with_unit(d, f, en);
    let good = is_improvement(c, f.higher_is_better);
    match (c, en) {
        (Change::Unknown, false) => "暂无上年可比数据".into(),
        (Change::Unknown, true) => "with no comparable figure for the previous year".into(),
        (Change::Unchanged, false) => "与上年持平".into(),
        (Change::Unchanged, true) => "unchanged on the previous year".into(),
        (Change::Up, false) => format!(
            "比上年{}{size}{}",
            if f.higher_is_better {
                "提高"
            } else {
                "上升"
            },
            if good == Some(false) {
                "，有所恶化"
            } else {
                ""
            }
        ),
        (Change::Down, false) => format!(
            "比上年下降{size}{}",
            if good == Some(true) {
                "，有所改善"
            } else {
                ""
            }
        ),
        (Change::Up, true) => format!(
            "up {size} on the previous year{}",
            if good == Some(false) {
                ", a deterioration"
            } else {
                ""
            }
        ),
        (Change::Down, true) => format!(
            "down {size} on the previous year{}",
            if good == Some(true) {
                ", an improvement"
            } else {
                ""
            }
        ),
    }
}

/// One clause describing a figure, e.g. `市民质量满意度为82.3分，比上年提高1.6分`.
pub fn figure_clause(f: &ReportFigure, en: bool) -> String {
    let Some(v) = f.value else {
        return if en {
            format!("no data are available yet for {}", en_label(&f.label_en))
        } else {
            format!("{}暂无数据", f.label_zh)
        };
    };
    let ci = match f.ci {
        Some((lo, hi)) if en => format!(
            " (95% CI {}–{})",
            fmt_num(lo, f.decimals),
            fmt_num(hi, f.decimals)
        ),
        Some((lo, hi)) => format!(
            "（95%置信区间{}–{}）",
            fmt_num(lo, f.decimals),
            fmt_num(hi, f.decimals)
        ),
        None => String::new(),
    };
    if en {
        format!(
            "{} was {}{ci}, {}",
            en_label(&f.label_en),
            with_unit(v, f, true),
            change_phrase(f, true)
        )
    } else {
        format!(
            "{}为{}{ci}，{}",
            f.label_zh,
            with_unit(v, f, false),
            change_phrase(f, false)
        )
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The figures of a section that can be ranked against each other: the largest group of at
/// least three valued figures (after the headline) sharing one unit.
fn rankable(s: &ReportSection) -> Vec<&ReportFigure> {
    let rest: Vec<&ReportFigure> = s
        .figures
        .iter()
        .skip(1)
        .filter(|f| f.value.is_some())
        .collect();
    let mut best: Vec<&ReportFigure> = Vec::new();
    for f in &rest {
        let group: Vec<&ReportFigure> = rest
            .iter()
            .copied()
            .filter(|g| g.unit_en == f.unit_en && g.higher_is_better == f.higher_is_better)
            .collect();
        if group.len() > best.len() {
            best = group;
        }
    }
    if best.len() < 3 {
        return Vec::new();
    }
    best.sort_by(|a, b| {
        let (x, y) = (a.value.unwrap_or(0.0), b.value.unwrap_or(0.0));
        let ord = y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal);
        if a.higher_is_better {
            ord
        } else {
            ord.reverse()
        }
    });
    best
}

/// Ranking sentence: `在5个领域中，产品质量最高（85.1分），第二为…；公共管理最低（76.0分）。`
fn ranking_sentence(s: &ReportSection, en: bool) -> Option<String> {
    let r = rankable(s);
    if r.is_empty() {
        return None;
    }
    let n = r.len();
    let best = r[0];
    let worst = r[n - 1];
    let hib = best.higher_is_better;
    let show = |f: &ReportFigure| with_unit(f.value.unwrap_or(0.0), f, en);
    let middle: Vec<String> = r[1..n - 1]
        .iter()
        .enumerate()
        .take(2)
        .map(|(i, &f)| {
            if en {
                format!(
                    "{} {} ({})",
                    en_label(&f.label_en),
                    ordinal_en(i + 2),
                    show(f)
                )
            } else {
                format!("{}为{}（{}）", ordinal_zh(i + 2), f.label_zh, show(f))
            }
        })
        .collect();
    Some(if en {
        let (top, bottom) = if hib {
            ("highest", "lowest")
        } else {
            ("best (lowest)", "worst (highest)")
        };
        let mut out = format!(
            "Of the {n} items, {} ranks first and is the {top} ({})",
            en_label(&best.label_en),
            show(best)
        );
        if !middle.is_empty() {
            out.push_str(&format!(", followed by {}", middle.join(" and ")));
        }
        out.push_str(&format!(
            "; {} is the {bottom} ({}).",
            en_label(&worst.label_en),
            show(worst)
        ));
        out
    } else {
        let (top, bottom) = if hib {
            ("最高", "最低")
        } else {
            ("最好（数值最低）", "最差（数值最高）")
        };
        let mut out = format!(
            "在{n}项中，{}{top}（{}），排名第一",
            best.label_zh,
            show(best)
        );
        if !middle.is_empty() {
            out.push('；');
            out.push_str(&middle.join("，"));
        }
        out.push_str(&format!(
            "；{}{bottom}（{}）。",
            worst.label_zh,
            show(worst)
        ));
        out
    })
}

/// FNV-1a 64 over the canonical JSON of the figures (stable across builds and platforms).
pub fn figures_hash(figures: &[&ReportFigure]) -> String {
    let json = serde_json::to_string(figures).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in json.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The opening paragraph: every section's headline figure (its first) with its change.
pub fn overview(year: i32, sections: &[ReportSection]) -> GeneratedBlock {
    let heads: Vec<&ReportFigure> = sections.iter().filter_map(|s| s.figures.first()).collect();
    let (zh, en) = if heads.is_empty() {
        (
            format!("{year}年度报告暂无可用数据，各业务模块尚未提供本年度结果。"),
            format!(
                "No data are available yet for {year}: no module has supplied results for the year."
            ),
        )
    } else {
        let zh: Vec<String> = heads.iter().map(|f| figure_clause(f, false)).collect();
        let en: Vec<String> = heads.iter().map(|f| figure_clause(f, true)).collect();
        let mut zh_s = format!("{year}年全市{}。", zh.join("；"));
        let mut en_s = format!("In {year} the city's {}.", en.join("; "));
        // A headline about the best domain of the first section that has a ranking.
        if let Some(s) = sections.iter().find(|s| !rankable(s).is_empty()) {
            let r = rankable(s);
            zh_s.push_str(&format!(
                "{}中{}{}。",
                s.title_zh,
                r[0].label_zh,
                if r[0].higher_is_better {
                    "最高"
                } else {
                    "最好"
                }
            ));
            en_s.push_str(&format!(
                " In {}, {} ranks first.",
                en_label(&s.title_en),
                en_label(&r[0].label_en)
            ));
        }
        (zh_s, en_s)
    };
    GeneratedBlock {
        key: "overview".into(),
        zh,
        en,
        data_hash: figures_hash(&heads),
    }
}

/// The paragraph describing one section: each figure with its change, then the ranking.
pub fn section_block(s: &ReportSection) -> GeneratedBlock {
    let figs: Vec<&ReportFigure> = s.figures.iter().collect();
    let (zh, en) = if figs.is_empty() {
        (
            format!("{}暂无可报告的数据。", s.title_zh),
            format!("No figures are available for {}.", en_label(&s.title_en)),
        )
    } else {
        let zh: Vec<String> = figs.iter().map(|f| figure_clause(f, false)).collect();
        let en: Vec<String> = figs
            .iter()
            .map(|f| capitalise(&figure_clause(f, true)))
            .collect();
        let mut zh_s = format!("{}。", zh.join("；"));
        let mut en_s = format!("{}.", en.join(". "));
        if let Some(r) = ranking_sentence(s, false) {
            zh_s.push_str(&r);
        }
        if let Some(r) = ranking_sentence(s, true) {
            en_s.push(' ');
            en_s.push_str(&r);
        }
        (zh_s, en_s)
    };
    GeneratedBlock {
        key: s.key.clone(),
        zh,
        en,
        data_hash: figures_hash(&figs),
    }
}

/// Every narrative block of a report: the overview, then one per section (in section order).
pub fn generate(year: i32, sections: &[ReportSection]) -> Vec<GeneratedBlock> {
    let mut out = vec![overview(year, sections)];
    out.extend(sections.iter().map(section_block));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn fig(
        key: &str,
        zh: &str,
        en: &str,
        v: Option<f64>,
        p: Option<f64>,
        unit: (&str, &str),
        hib: bool,
    ) -> ReportFigure {
        ReportFigure {
            key: key.into(),
            label_zh: zh.into(),
            label_en: en.into(),
            value: v,
            previous: p,
            unit_zh: unit.0.into(),
            unit_en: unit.1.into(),
            decimals: 1,
            higher_is_better: hib,
            ci: None,
        }
    }

    fn section(key: &str, figures: Vec<ReportFigure>) -> ReportSection {
        ReportSection {
            key: key.into(),
            order: 10,
            title_zh: "市民质量满意度".into(),
            title_en: "Citizen quality satisfaction".into(),
            figures,
            tables: vec![],
            charts: vec![],
            method_zh: String::new(),
            method_en: String::new(),
        }
    }

    #[test]
    fn rising_index_reads_as_an_increase_in_both_languages() {
        let f = fig(
            "cqi",
            "质量发展指数",
            "Quality development index",
            Some(78.4),
            Some(76.8),
            ("", ""),
            true,
        );
        let s = section("evaluation.index", vec![f]);
        let b = overview(2025, &[s]);
        assert_eq!(b.zh, "2025年全市质量发展指数为78.4，比上年提高1.6。");
        assert_eq!(
            b.en,
            "In 2025 the city's quality development index was 78.4, up 1.6 on the previous year."
        );
    }

    #[test]
    fn falling_good_and_bad_directions() {
        // Satisfaction falls: bad news, no "improvement".
        let sat = fig(
            "sat",
            "市民质量满意度",
            "Citizen satisfaction",
            Some(80.2),
            Some(82.3),
            ("分", "points"),
            true,
        );
        assert_eq!(
            figure_clause(&sat, false),
            "市民质量满意度为80.2分，比上年下降2.1分"
        );
        assert_eq!(
            figure_clause(&sat, true),
            "citizen satisfaction was 80.2 points, down 2.1 points on the previous year"
        );
        // Trapping rate falls: lower is better, so it is an improvement.
        let trap = fig(
            "trap",
            "电梯困人率",
            "Elevator trapping rate",
            Some(1.2),
            Some(1.5),
            ("起/万台·月", "per 10,000 elevators per month"),
            false,
        );
        assert_eq!(
            figure_clause(&trap, false),
            "电梯困人率为1.2起/万台·月，比上年下降0.3起/万台·月，有所改善"
        );
        assert!(figure_clause(&trap, true).ends_with(", an improvement"));
        // …and rises are a deterioration.
        let worse = fig(
            "trap",
            "电梯困人率",
            "Elevator trapping rate",
            Some(1.8),
            Some(1.5),
            ("%", "%"),
            false,
        );
        assert_eq!(
            figure_clause(&worse, false),
            "电梯困人率为1.8%，比上年上升0.3%，有所恶化"
        );
        assert_eq!(
            figure_clause(&worse, true),
            "elevator trapping rate was 1.8%, up 0.3% on the previous year, a deterioration"
        );
    }

    #[test]
    fn unchanged_after_rounding() {
        let f = fig(
            "x",
            "指数",
            "Index",
            Some(78.41),
            Some(78.37),
            ("", ""),
            true,
        );
        assert_eq!(change_of(&f).0, Change::Unchanged);
        assert_eq!(figure_clause(&f, false), "指数为78.4，与上年持平");
        assert_eq!(
            figure_clause(&f, true),
            "index was 78.4, unchanged on the previous year"
        );
    }

    #[test]
    fn missing_values_are_said_plainly() {
        let none = fig(
            "x",
            "能耗强度",
            "Energy intensity",
            None,
            Some(0.4),
            ("", ""),
            false,
        );
        assert_eq!(figure_clause(&none, false), "能耗强度暂无数据");
        assert_eq!(
            figure_clause(&none, true),
            "no data are available yet for energy intensity"
        );
        let no_prev = fig("x", "指数", "Index", Some(70.0), None, ("", ""), true);
        assert_eq!(
            figure_clause(&no_prev, false),
            "指数为70.0，暂无上年可比数据"
        );
        assert!(figure_clause(&no_prev, true).contains("no comparable figure"));
        let empty = overview(2026, &[]);
        assert!(empty.zh.contains("2026年度报告暂无可用数据"));
        assert!(empty.en.contains("No data are available yet for 2026"));
        let b = section_block(&section("survey.satisfaction", vec![]));
        assert!(b.zh.contains("暂无可报告的数据"));
    }

    #[test]
    fn ranks_domains_with_ordinals() {
        let u = ("分", "points");
        let s = section(
            "survey.satisfaction",
            vec![
                fig(
                    "sat",
                    "市民质量满意度",
                    "Citizen quality satisfaction",
                    Some(82.3),
                    Some(80.7),
                    u,
                    true,
                ),
                fig(
                    "p",
                    "产品质量",
                    "Product quality",
                    Some(85.1),
                    None,
                    u,
                    true,
                ),
                fig(
                    "c",
                    "工程质量",
                    "Construction quality",
                    Some(79.4),
                    None,
                    u,
                    true,
                ),
                fig(
                    "s",
                    "服务质量",
                    "Service quality",
                    Some(83.0),
                    None,
                    u,
                    true,
                ),
                fig(
                    "e",
                    "环境质量",
                    "Environmental quality",
                    Some(80.2),
                    None,
                    u,
                    true,
                ),
                fig(
                    "g",
                    "公共管理",
                    "Public management",
                    Some(76.0),
                    None,
                    u,
                    true,
                ),
            ],
        );
        let b = section_block(&s);
        assert!(
            b.zh.contains("在5项中，产品质量最高（85.1分），排名第一；第二为服务质量（83.0分），第三为环境质量（80.2分）；公共管理最低（76.0分）。"),
            "{}",
            b.zh
        );
        assert!(
            b.en.contains("Of the 5 items, product quality ranks first and is the highest (85.1 points), followed by service quality second (83.0 points) and environmental quality third (80.2 points); public management is the lowest (76.0 points)."),
            "{}",
            b.en
        );
        let o = overview(2025, &[s]);
        assert!(o.zh.starts_with("2025年全市市民质量满意度为82.3分，比上年提高1.6分。"));
        assert!(o.zh.contains("产品质量最高"), "{}", o.zh);
        assert!(o.en.contains("product quality ranks first"), "{}", o.en);
    }

    #[test]
    fn ordinals() {
        assert_eq!(ordinal_zh(1), "第一");
        assert_eq!(ordinal_zh(10), "第十");
        assert_eq!(ordinal_zh(12), "第十二");
        assert_eq!(ordinal_zh(21), "第二十一");
        assert_eq!(ordinal_en(1), "first");
        assert_eq!(ordinal_en(3), "third");
        assert_eq!(ordinal_en(11), "11th");
        assert_eq!(ordinal_en(22), "22nd");
        assert_eq!(ordinal_en(103), "103rd");
    }

    #[test]
    fn confidence_interval_and_hash() {
        let mut f = fig(
            "sat",
            "满意度",
            "Satisfaction",
            Some(82.3),
            Some(82.3),
            ("分", "points"),
            true,
        );
        f.ci = Some((81.24, 83.36));
        assert_eq!(
            figure_clause(&f, false),
            "满意度为82.3分（95%置信区间81.2–83.4），与上年持平"
        );
        assert!(figure_clause(&f, true).contains("(95% CI 81.2–83.4)"));
        let h1 = figures_hash(&[&f]);
        f.value = Some(82.4);
        assert_ne!(h1, figures_hash(&[&f]));
        assert_eq!(h1.len(), 16);
    }
}
