//! Reading the data back out of an ECharts option so the PDF (and the open-data files) can
//! show the same chart: categories and numeric series.

use serde_json::Value;
use std::collections::HashMap;

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
}
