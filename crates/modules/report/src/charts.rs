//! Reading the data back out of an ECharts option so the PDF (and the open-data files) can
//! show the same chart: categories and numeric series; and drawing that data as SVG for print
//! (图表: the PDF shows the same figures as the HTML page's ECharts charts).

use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;

/// How a chart is drawn in print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bar,
    Line,
}

/// The data of a chart: one value per category and series.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleChart {
    pub kind: Kind,
    pub categories: Vec<String>,
    pub series: Vec<(String, Vec<Option<f64>>)>,
}

fn as_array(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Object(o) => o.get("value").and_then(number),
        // [x, y] pairs: the value is the last element.
        Value::Array(a) => a.last().and_then(number),
        _ => None,
    }
}

fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(o) => o
            .get("value")
            .or(o.get("name"))
            .map(label)
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn category_axis(option: &Value, axis: &str) -> Option<Vec<String>> {
    let a = as_array(&option[axis]).into_iter().next()?;
    let data = a.get("data")?.as_array()?;
    if data.is_empty() {
        return None;
    }
    Some(data.iter().map(label).collect())
}

/// The chart's data, `None` when the option holds nothing drawable. `names` maps region codes
/// (used as names in map series) to display names.
pub fn extract(option: &Value, names: &HashMap<String, String>) -> Option<SimpleChart> {
    let series = as_array(&option["series"]);
    let first = series.first()?;
    let kind = first["type"].as_str().unwrap_or("bar");
    let show = |n: &str| names.get(n).cloned().unwrap_or_else(|| n.to_string());
    match kind {
        "map" | "pie" | "funnel" => {
            let data = first["data"].as_array()?;
            let categories: Vec<String> = data
                .iter()
                .map(|d| {
                    let n = d["name"].as_str().unwrap_or("");
                    d["label"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| show(n))
                })
                .collect();
            let values = data.iter().map(number).collect();
            let name = first["name"].as_str().unwrap_or("").to_string();
            (!categories.is_empty()).then_some(SimpleChart {
                kind: Kind::Bar,
                categories,
                series: vec![(name, values)],
            })
        }
        "radar" => {
            let radar = as_array(&option["radar"]).into_iter().next()?;
            let categories: Vec<String> = radar["indicator"]
                .as_array()?
                .iter()
                .map(|i| i["name"].as_str().unwrap_or("").to_string())
                .collect();
            let mut out = Vec::new();
            for s in &series {
                for d in s["data"].as_array().into_iter().flatten() {
                    let vals = d["value"]
                        .as_array()
                        .map(|a| a.iter().map(number).collect())
                        .unwrap_or_default();
                    out.push((d["name"].as_str().unwrap_or("").to_string(), vals));
                }
            }
            (!categories.is_empty() && !out.is_empty()).then_some(SimpleChart {
                kind: Kind::Bar,
                categories,
                series: out,
            })
        }
        _ => {
            let categories =
                category_axis(option, "xAxis").or_else(|| category_axis(option, "yAxis"))?;
            let all_line = series.iter().all(|s| s["type"].as_str() == Some("line"));
            let out: Vec<(String, Vec<Option<f64>>)> = series
                .iter()
                .filter(|s| matches!(s["type"].as_str(), Some("bar" | "line" | "scatter") | None))
                .map(|s| {
                    let vals = s["data"]
                        .as_array()
                        .map(|a| a.iter().map(number).collect())
                        .unwrap_or_default();
                    (s["name"].as_str().unwrap_or("").to_string(), vals)
                })
                .collect();
            (!out.is_empty()).then_some(SimpleChart {
                kind: if all_line { Kind::Line } else { Kind::Bar },
                categories,
                series: out,
            })
        }
    }
}

/// The series colours (the same order as the web charts' palette).
pub const PALETTE: [&str; 6] = [
    "#2f6db5", "#e07b39", "#3a9d5d", "#b5452f", "#7a5bb5", "#5b8fa8",
];

/// Text safe inside SVG/XML content and attribute values.
fn xml(s: &str) -> String {
    // SVG labels are one line and XML 1.0 forbids most control characters: blank them (but tab).
    let clean: String = s
        .chars()
        .map(|c| {
            if (c as u32) < 0x20 && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    qcity_platform::web::error::html_escape(&clean)
}

/// A data label: at most two decimals, no trailing zeros.
pub fn label_num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// A short category label (long names are cut with an ellipsis).
fn short(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Approximate width of a text in px at a font size (CJK characters are square, Latin half).
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if c.is_ascii() { 0.55 } else { 1.0 })
        .sum::<f64>()
        * size
}

/// Width of the drawing in SVG user units (px).
pub const SVG_WIDTH: f64 = 640.0;

fn legend(out: &mut String, series: &[(String, Vec<Option<f64>>)], y: f64, font: &str) -> f64 {
    if series.len() < 2 {
        return 0.0;
    }
    let mut x = 8.0;
    let mut row = 0.0;
    for (i, (name, _)) in series.iter().enumerate() {
        let w = 18.0 + text_width(name, 11.0) + 14.0;
        if x + w > SVG_WIDTH && x > 8.0 {
            x = 8.0;
            row += 16.0;
        }
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-family="{font}" font-size="11" fill="#333">{}</text>"##,
            y + row,
            PALETTE[i % PALETTE.len()],
            x + 14.0,
            y + row + 9.5,
            xml(name)
        );
        x += w;
    }
    row + 20.0
}

/// The chart as a standalone SVG document: horizontal grouped bars for [`Kind::Bar`] (one row
/// per category, a shared zero line, the value at each bar's end) or a line chart with data
/// labels for [`Kind::Line`]. `font` is the font family the text is set in; missing values are
/// drawn as "–" (bars) or left out (lines).
pub fn to_svg(c: &SimpleChart, font: &str) -> String {
    match c.kind {
        Kind::Bar => bar_svg(c, &xml(font)),
        Kind::Line => line_svg(c, &xml(font)),
    }
}

fn finite_values(c: &SimpleChart) -> Vec<f64> {
    c.series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .filter(|v| v.is_finite())
        .collect()
}

fn bar_svg(c: &SimpleChart, font: &str) -> String {
    let mut body = String::new();
    let top = 4.0 + legend(&mut body, &c.series, 4.0, font);
    let n_series = c.series.len().max(1) as f64;
    let bar_h = if n_series > 1.0 { 10.0 } else { 14.0 };
    let row_h = n_series * bar_h + 8.0;
    let label_w = c
        .categories
        .iter()
        .map(|s| text_width(&short(s, 14), 11.0))
        .fold(40.0_f64, f64::max)
        .min(170.0)
        + 8.0;
    let plot_x0 = label_w;
    let plot_w = SVG_WIDTH - label_w - 56.0;
    let vals = finite_values(c);
    let lo = vals.iter().copied().fold(0.0_f64, f64::min);
    let hi = vals.iter().copied().fold(0.0_f64, f64::max);
    let span = if hi - lo > 0.0 { hi - lo } else { 1.0 };
    let x_of = |v: f64| plot_x0 + (v - lo) / span * plot_w;
    let zero = x_of(0.0);
    for (ci, cat) in c.categories.iter().enumerate() {
        let y0 = top + ci as f64 * row_h;
        let _ = write!(
            body,
            r##"<text x="{:.1}" y="{:.1}" font-family="{font}" font-size="11" fill="#333" text-anchor="end">{}</text>"##,
            label_w - 6.0,
            y0 + row_h / 2.0 + 4.0,
            xml(&short(cat, 14))
        );
        for (si, (_, vs)) in c.series.iter().enumerate() {
            let y = y0 + 4.0 + si as f64 * bar_h;
            match vs.get(ci).copied().flatten().filter(|v| v.is_finite()) {
                Some(v) => {
                    let (x, w) = if v >= 0.0 {
                        (zero, x_of(v) - zero)
                    } else {
                        (x_of(v), zero - x_of(v))
                    };
                    let _ = write!(
                        body,
                        r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-family="{font}" font-size="10" fill="#333">{}</text>"##,
                        w.max(0.5),
                        bar_h - 2.0,
                        PALETTE[si % PALETTE.len()],
                        x_of(v.max(0.0)) + 4.0,
                        y + bar_h - 3.5,
                        label_num(v)
                    );
                }
                None => {
                    let _ = write!(
                        body,
                        r##"<text x="{:.1}" y="{:.1}" font-family="{font}" font-size="10" fill="#999">–</text>"##,
                        zero + 4.0,
                        y + bar_h - 3.5
                    );
                }
            }
        }
    }
    let height = top + c.categories.len() as f64 * row_h + 6.0;
    let _ = write!(
        body,
        r##"<line x1="{zero:.1}" y1="{:.1}" x2="{zero:.1}" y2="{:.1}" stroke="#888" stroke-width="1"/>"##,
        top - 2.0,
        height - 4.0
    );
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height:.0}" viewBox="0 0 {SVG_WIDTH} {height:.0}">{body}</svg>"##
    )
}

fn line_svg(c: &SimpleChart, font: &str) -> String {
    let mut body = String::new();
    let top = 4.0 + legend(&mut body, &c.series, 4.0, font) + 14.0;
    let (left, right, plot_h) = (48.0, 24.0, 180.0);
    let plot_w = SVG_WIDTH - left - right;
    let vals = finite_values(c);
    let (mut lo, mut hi) = (
        vals.iter().copied().fold(f64::INFINITY, f64::min),
        vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = if hi - lo > 0.0 { (hi - lo) * 0.15 } else { 1.0 };
    let (lo, hi) = (lo - pad, hi + pad);
    let n = c.categories.len().max(1);
    let x_of = |i: usize| {
        if n == 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y_of = |v: f64| top + plot_h * (1.0 - (v - lo) / (hi - lo));
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        let y = y_of(v);
        let _ = write!(
            body,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e3e3e3" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-family="{font}" font-size="10" fill="#777" text-anchor="end">{}</text>"##,
            left + plot_w,
            left - 6.0,
            y + 3.5,
            label_num(v)
        );
    }
    for (i, cat) in c.categories.iter().enumerate() {
        let _ = write!(
            body,
            r##"<text x="{:.1}" y="{:.1}" font-family="{font}" font-size="11" fill="#333" text-anchor="middle">{}</text>"##,
            x_of(i),
            top + plot_h + 16.0,
            xml(&short(cat, 10))
        );
    }
    for (si, (_, vs)) in c.series.iter().enumerate() {
        let col = PALETTE[si % PALETTE.len()];
        let pts: Vec<(usize, f64)> = vs
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i, v)))
            .filter(|(i, _)| *i < n)
            .collect();
        // Segments join consecutive categories only: a gap stays a gap.
        for w in pts.windows(2) {
            if w[1].0 == w[0].0 + 1 {
                let _ = write!(
                    body,
                    r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{col}" stroke-width="2"/>"##,
                    x_of(w[0].0),
                    y_of(w[0].1),
                    x_of(w[1].0),
                    y_of(w[1].1)
                );
            }
        }
        for (i, v) in pts {
            let _ = write!(
                body,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{col}"/><text x="{:.1}" y="{:.1}" font-family="{font}" font-size="10" fill="#333" text-anchor="middle">{}</text>"##,
                x_of(i),
                y_of(v),
                x_of(i),
                y_of(v) - 7.0,
                label_num(v)
            );
        }
    }
    let height = top + plot_h + 24.0;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height:.0}" viewBox="0 0 {SVG_WIDTH} {height:.0}">{body}</svg>"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bar_line_map_and_radar() {
        let names: HashMap<String, String> = [("990101".to_string(), "中心区".to_string())].into();
        let bar = json!({"xAxis": {"type": "category", "data": ["A", "B"]}, "series": [{"type": "bar", "name": "s", "data": [1, {"value": 2.5}]}]});
        let c = extract(&bar, &names).unwrap();
        assert_eq!(c.kind, Kind::Bar);
        assert_eq!(c.series[0].1, vec![Some(1.0), Some(2.5)]);
        let line = json!({"xAxis": [{"data": [2024, 2025]}], "series": [{"type": "line", "data": [70, null]}]});
        let c = extract(&line, &names).unwrap();
        assert_eq!(c.kind, Kind::Line);
        assert_eq!(c.categories, vec!["2024", "2025"]);
        assert_eq!(c.series[0].1, vec![Some(70.0), None]);
        let hbar = json!({"xAxis": {"type": "value"}, "yAxis": {"type": "category", "data": ["x"]}, "series": [{"type": "bar", "data": [3]}]});
        assert_eq!(extract(&hbar, &names).unwrap().categories, vec!["x"]);
        let map = json!({"series": [{"type": "map", "data": [{"name": "990101", "value": 80.1}]}]});
        let c = extract(&map, &names).unwrap();
        assert_eq!(c.categories, vec!["中心区"]);
        let radar = json!({"radar": {"indicator": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}, "series": [{"type": "radar", "data": [{"name": "2025", "value": [1, 2, 3]}]}]});
        let c = extract(&radar, &names).unwrap();
        assert_eq!(c.series[0].0, "2025");
        assert_eq!(c.series[0].1.len(), 3);
        assert!(extract(&json!({"series": []}), &names).is_none());
    }

    fn attr(svg: &str, tag_start: usize, name: &str) -> f64 {
        let rest = &svg[tag_start..];
        let key = format!(" {name}=\"");
        let i = rest.find(&key).unwrap() + key.len();
        let j = rest[i..].find('"').unwrap();
        rest[i..i + j].parse().unwrap()
    }

    #[test]
    fn bar_svg_lengths_are_proportional_and_labels_exact() {
        let c = SimpleChart {
            kind: Kind::Bar,
            categories: vec!["中心区".into(), "东湖区 & <新区>".into(), "西山区".into()],
            series: vec![("2025".into(), vec![Some(80.0), Some(40.0), None])],
        };
        let svg = to_svg(&c, "Noto Sans CJK SC");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        // Escaped text, never raw markup from the data.
        assert!(svg.contains("东湖区 &amp; &lt;新区&gt;"));
        assert!(!svg.contains("<新区>"));
        // One bar per present value; the 80 bar is twice the 40 bar.
        let bars: Vec<usize> = svg.match_indices("<rect").map(|(i, _)| i).collect();
        assert_eq!(bars.len(), 2);
        let (w1, w2) = (attr(&svg, bars[0], "width"), attr(&svg, bars[1], "width"));
        assert!((w1 / w2 - 2.0).abs() < 0.01, "{w1} {w2}");
        for label in [">80<", ">40<", ">中心区<", ">–<"] {
            assert!(svg.contains(label), "{label}");
        }
    }

    /// The SVG the annual report's PDF embeds, for a bar chart and a line chart: a change to the
    /// drawing shows in review as a snapshot diff (the properties above say why it is right).
    #[test]
    fn chart_svgs() {
        let bar = SimpleChart {
            kind: Kind::Bar,
            categories: vec!["中心区".into(), "东湖区".into(), "西山区".into()],
            series: vec![
                ("2024".into(), vec![Some(78.5), Some(81.25), Some(69.0)]),
                ("2025".into(), vec![Some(80.0), Some(83.5), None]),
            ],
        };
        insta::assert_snapshot!("bar", to_svg(&bar, "Noto Sans CJK SC"));
        let line = SimpleChart {
            kind: Kind::Line,
            categories: vec!["2021".into(), "2022".into(), "2023".into(), "2024".into()],
            series: vec![(
                "满意度".into(),
                vec![Some(76.2), Some(77.9), None, Some(80.4)],
            )],
        };
        insta::assert_snapshot!("line", to_svg(&line, "Noto Sans CJK SC"));
    }

    #[test]
    fn bar_svg_negative_values_extend_left_of_zero() {
        let c = SimpleChart {
            kind: Kind::Bar,
            categories: vec!["a".into(), "b".into()],
            series: vec![
                ("x".into(), vec![Some(-1.5), Some(3.0)]),
                ("y".into(), vec![Some(1.0), Some(0.25)]),
            ],
        };
        let svg = to_svg(&c, "f");
        // Data bars are 8 high (the legend squares 10).
        let data: Vec<(f64, f64)> = svg
            .match_indices("<rect")
            .map(|(i, _)| i)
            .filter(|&i| attr(&svg, i, "height") < 9.0)
            .map(|i| (attr(&svg, i, "x"), attr(&svg, i, "width")))
            .collect();
        assert_eq!(data.len(), 4);
        let zero = data[1].0; // the positive bar of `y` in row a starts at zero
        assert!((data[0].0 + data[0].1 - zero).abs() < 0.11, "{data:?}");
        assert!((data[2].1 / data[0].1 - 2.0).abs() < 0.01);
        assert!(svg.contains(">-1.5<") && svg.contains(">0.25<"));
        // A legend with both series names.
        assert!(svg.contains(">x<") && svg.contains(">y<"));
    }

    #[test]
    fn line_svg_points_follow_the_values() {
        let c = SimpleChart {
            kind: Kind::Line,
            categories: vec!["2023".into(), "2024".into(), "2025".into()],
            series: vec![("指数".into(), vec![Some(75.2), None, Some(78.4)])],
        };
        let svg = to_svg(&c, "f");
        let pts: Vec<usize> = svg.match_indices("<circle").map(|(i, _)| i).collect();
        assert_eq!(pts.len(), 2);
        // Higher value → smaller y; a gap is not bridged by a line.
        assert!(attr(&svg, pts[1], "cy") < attr(&svg, pts[0], "cy"));
        assert_eq!(svg.matches("stroke-width=\"2\"").count(), 0);
        assert!(svg.contains(">75.2<") && svg.contains(">78.4<") && svg.contains(">2024<"));
        assert_eq!(label_num(1.0 / 3.0), "0.33");
        assert_eq!(label_num(-0.001), "0");
        assert_eq!(label_num(80.0), "80");
    }
}
