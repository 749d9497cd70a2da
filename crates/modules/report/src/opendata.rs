//! Open data (开放数据): datasets from the published reports and from every module's
//! `open_data`, downloadable as CSV, JSON and XLSX with their passport, and all as one zip.

use crate::charts;
use crate::store::Version;
use qcity_platform::feeds::OpenDataset;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write as _;

/// A key safe for a file name and a URL segment.
pub fn safe_key(k: &str) -> String {
    k.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Datasets for every figure list, table and chart of a published report version.
pub fn report_datasets(v: &Version, names: &HashMap<String, String>) -> Vec<OpenDataset> {
    let snap = &v.snapshot;
    let year = snap.year;
    let source = json!({
        "source_zh": format!("{}{}年城市质量状况分析报告（第{}版）", snap.city_name_zh, year, v.row.version),
        "source_en": format!("{} quality report {} (version {})", snap.city_name_en, year, v.row.version),
        "published_at": v.row.published_at,
        "report_year": year,
        "report_version": v.row.version,
        "licence": "CC BY 4.0",
    });
    let mut out = Vec::new();
    for sec in &snap.sections {
        let base = safe_key(&format!("report-{year}-{}", sec.key));
        if !sec.figures.is_empty() {
            let mut passport = source.clone();
            passport["definition_zh"] = json!(format!("{}：主要指标", sec.title_zh));
            passport["definition_en"] = json!(format!("{}: headline figures", sec.title_en));
            passport["method_zh"] = json!(sec.method_zh);
            passport["method_en"] = json!(sec.method_en);
            out.push(OpenDataset {
                key: format!("{base}-figures"),
                title_zh: format!("{year}年 {}：主要指标", sec.title_zh),
                title_en: format!("{year} {}: figures", sec.title_en),
                passport,
                columns: [
                    "indicator",
                    "label_zh",
                    "label_en",
                    "year",
                    "value",
                    "previous_year_value",
                    "unit_zh",
                    "unit_en",
                    "higher_is_better",
                    "ci_low",
                    "ci_high",
                ]
                .map(String::from)
                .to_vec(),
                rows: sec
                    .figures
                    .iter()
                    .map(|f| {
                        vec![
                            json!(f.key),
                            json!(f.label_zh),
                            json!(f.label_en),
                            json!(year),
                            json!(f.value),
                            json!(f.previous),
                            json!(f.unit_zh),
                            json!(f.unit_en),
                            json!(f.higher_is_better),
                            json!(f.ci.map(|c| c.0)),
                            json!(f.ci.map(|c| c.1)),
                        ]
                    })
                    .collect(),
            });
        }
        for t in &sec.tables {
            let mut passport = source.clone();
            passport["definition_zh"] = json!(t.title_zh);
            passport["definition_en"] = json!(t.title_en);
            passport["columns_zh"] = json!(t.columns.iter().map(|c| &c.0).collect::<Vec<_>>());
            out.push(OpenDataset {
                key: safe_key(&format!("{base}-{}", t.key)),
                title_zh: format!("{year}年 {}", t.title_zh),
                title_en: format!("{year} {}", t.title_en),
                passport,
                columns: t.columns.iter().map(|c| c.1.clone()).collect(),
                rows: t
                    .rows
                    .iter()
                    .map(|r| r.iter().map(|c| json!(c)).collect())
                    .collect(),
            });
        }
        for c in &sec.charts {
            let Some(sc) = charts::extract(&c.option, names) else {
                continue;
            };
            let mut passport = source.clone();
            passport["definition_zh"] = json!(format!("图表数据：{}", c.title_zh));
            passport["definition_en"] = json!(format!("Chart data: {}", c.title_en));
            let mut columns = vec!["category".to_string()];
            columns.extend(sc.series.iter().enumerate().map(|(i, (n, _))| {
                if n.is_empty() {
                    format!("series_{}", i + 1)
                } else {
                    n.clone()
                }
            }));
            out.push(OpenDataset {
                key: safe_key(&format!("{base}-chart-{}", c.key)),
                title_zh: format!("{year}年 {}（图表数据）", c.title_zh),
                title_en: format!("{year} {} (chart data)", c.title_en),
                passport,
                columns,
                rows: sc
                    .categories
                    .iter()
                    .enumerate()
                    .map(|(i, cat)| {
                        let mut r = vec![json!(cat)];
                        r.extend(
                            sc.series
                                .iter()
                                .map(|(_, v)| json!(v.get(i).copied().flatten())),
                        );
                        r
                    })
                    .collect(),
            });
        }
    }
    out
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// CSV (UTF-8 with a byte-order mark so spreadsheet programs read Chinese correctly).
pub fn to_csv(d: &OpenDataset) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    qcity_platform::upload::export::write_record(&mut w, &d.columns).map_err(|e| e.to_string())?;
    for r in &d.rows {
        qcity_platform::upload::export::write_record(&mut w, r.iter().map(cell_text))
            .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// The dataset with its passport as JSON.
pub fn to_json(d: &OpenDataset) -> Value {
    json!({
        "key": d.key,
        "title_zh": d.title_zh,
        "title_en": d.title_en,
        "passport": d.passport,
        "columns": d.columns,
        "rows": d.rows,
    })
}

/// XLSX with a `data` sheet and a `passport` sheet.
pub fn to_xlsx(d: &OpenDataset) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    {
        let ws = wb.add_worksheet().set_name("data").map_err(e)?;
        for (c, h) in d.columns.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)
                .map_err(e)?;
        }
        for (r, row) in d.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 1, c as u16);
                match v {
                    Value::Number(n) => {
                        ws.write_number(r, c, n.as_f64().unwrap_or(0.0))
                            .map_err(e)?;
                    }
                    Value::Bool(b) => {
                        ws.write_boolean(r, c, *b).map_err(e)?;
                    }
                    Value::Null => {}
                    other => {
                        ws.write_string(r, c, cell_text(other)).map_err(e)?;
                    }
                }
            }
        }
    }
    {
        let ws = wb.add_worksheet().set_name("passport").map_err(e)?;
        ws.write_string_with_format(0, 0, "field", &bold)
            .map_err(e)?;
        ws.write_string_with_format(0, 1, "value", &bold)
            .map_err(e)?;
        let mut rows: Vec<(String, String)> = vec![
            ("key".into(), d.key.clone()),
            ("title_zh".into(), d.title_zh.clone()),
            ("title_en".into(), d.title_en.clone()),
        ];
        if let Value::Object(o) = &d.passport {
            rows.extend(o.iter().map(|(k, v)| (k.clone(), cell_text(v))));
        }
        for (i, (k, v)) in rows.iter().enumerate() {
            ws.write_string(i as u32 + 1, 0, k).map_err(e)?;
            ws.write_string(i as u32 + 1, 1, v).map_err(e)?;
        }
    }
    wb.save_to_buffer().map_err(e)
}

/// Every dataset as CSV and JSON in one zip, with an index.
pub fn zip_all(ds: &[OpenDataset]) -> Result<Vec<u8>, String> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let e = |e: zip::result::ZipError| e.to_string();
    let index: Vec<Value> = ds
        .iter()
        .map(|d| json!({"key": d.key, "title_zh": d.title_zh, "title_en": d.title_en, "passport": d.passport, "files": [format!("{}.csv", safe_key(&d.key)), format!("{}.json", safe_key(&d.key))]}))
        .collect();
    z.start_file("index.json", opts).map_err(e)?;
    z.write_all(
        serde_json::to_string_pretty(&index)
            .unwrap_or_default()
            .as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut seen = std::collections::HashSet::new();
    for d in ds {
        let k = safe_key(&d.key);
        if !seen.insert(k.clone()) {
            continue;
        }
        z.start_file(format!("{k}.csv"), opts).map_err(e)?;
        z.write_all(&to_csv(d)?).map_err(|e| e.to_string())?;
        z.start_file(format!("{k}.json"), opts).map_err(e)?;
        z.write_all(
            serde_json::to_string_pretty(&to_json(d))
                .unwrap_or_default()
                .as_bytes(),
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(z.finish().map_err(e)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds() -> OpenDataset {
        OpenDataset {
            key: "CQ-SAT".into(),
            title_zh: "满意度".into(),
            title_en: "Satisfaction".into(),
            passport: json!({"unit_zh": "分"}),
            columns: vec!["region".into(), "value".into()],
            rows: vec![
                vec![json!("990100"), json!(82.3)],
                vec![json!("990101"), Value::Null],
            ],
        }
    }

    #[test]
    fn csv_json_xlsx_zip() {
        let csv = String::from_utf8(to_csv(&ds()).unwrap()).unwrap();
        assert_eq!(csv, "\u{feff}region,value\n990100,82.3\n990101,\n");
        assert_eq!(to_json(&ds())["passport"]["unit_zh"], "分");
        assert!(to_xlsx(&ds()).unwrap().starts_with(b"PK"));
        let z = zip_all(&[ds(), ds()]).unwrap();
        assert!(z.starts_with(b"PK"));
        assert_eq!(safe_key("a b/c"), "a-b-c");
    }
}
