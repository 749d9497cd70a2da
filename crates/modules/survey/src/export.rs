//! Labelled CSV and XLSX exports of a wave's analysis (zh-CN or en headers and labels).

use crate::analysis::{Analysis, Score};
use crate::model::domain_names;

fn headers(en: bool) -> Vec<&'static str> {
    if en {
        vec![
            "level",
            "district",
            "key",
            "label",
            "score (0-100)",
            "SE",
            "CI low",
            "CI high",
            "n",
            "n_eff",
            "deff",
            "previous year",
            "change",
            "p value",
            "significant",
        ]
    } else {
        vec![
            "层级",
            "区县",
            "代码",
            "名称",
            "得分(0-100)",
            "标准误",
            "置信下限",
            "置信上限",
            "样本量n",
            "有效样本量",
            "设计效应",
            "上年得分",
            "同比变化",
            "p值",
            "是否显著",
        ]
    }
}

fn f(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:.d$}")
    } else {
        String::new()
    }
}

fn score_row(level: &str, district: &str, s: &Score, en: bool) -> Vec<String> {
    vec![
        level.to_string(),
        district.to_string(),
        s.key.clone(),
        if en {
            s.label_en.clone()
        } else {
            s.label_zh.clone()
        },
        f(s.score, 2),
        f(s.se, 3),
        f(s.ci_low, 2),
        f(s.ci_high, 2),
        s.n.to_string(),
        f(s.n_eff, 1),
        f(s.deff, 3),
        s.previous.map(|x| f(x, 2)).unwrap_or_default(),
        s.change.map(|c| f(c.change, 2)).unwrap_or_default(),
        s.change.map(|c| f(c.p_value, 4)).unwrap_or_default(),
        s.change
            .map(|c| {
                if c.significant {
                    if en { "yes" } else { "是" }
                } else if en {
                    "no"
                } else {
                    "否"
                }
                .to_string()
            })
            .unwrap_or_default(),
    ]
}

/// Every score row of the analysis: overall, domains, indicators, districts.
pub fn score_rows(a: &Analysis, en: bool) -> Vec<Vec<String>> {
    let (lv_city, lv_dom, lv_ind, lv_dist) = if en {
        ("city", "domain", "indicator", "district")
    } else {
        ("全市", "领域", "指标", "区县")
    };
    let city = if en { "City" } else { "全市" };
    let mut rows = Vec::new();
    if let Some(o) = &a.overall {
        rows.push(score_row(lv_city, city, o, en));
    }
    for d in &a.domains {
        rows.push(score_row(lv_dom, city, d, en));
    }
    for i in &a.indicators {
        rows.push(score_row(lv_ind, city, &i.score, en));
    }
    for d in &a.districts {
        let name = if en { &d.name_en } else { &d.name_zh };
        if let Some(o) = &d.overall {
            rows.push(score_row(lv_dist, name, o, en));
        }
        for s in &d.domains {
            rows.push(score_row(lv_dist, name, s, en));
        }
    }
    rows
}

/// The scores table as CSV (UTF-8 with BOM so Excel shows Chinese correctly).
pub fn csv(a: &Analysis, en: bool) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    qcity_platform::upload::export::write_record(&mut w, headers(en))?;
    for r in score_rows(a, en) {
        qcity_platform::upload::export::write_record(&mut w, &r)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
}

/// A workbook: scores, model paths, importance–performance, suggestion keywords, method.
pub fn xlsx(a: &Analysis, en: bool) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let write_table = |ws: &mut rust_xlsxwriter::Worksheet,
                       head: &[&str],
                       rows: &[Vec<String>]|
     -> Result<(), rust_xlsxwriter::XlsxError> {
        for (c, h) in head.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                match v.parse::<f64>() {
                    Ok(x) if !v.is_empty() && c >= 4 => {
                        ws.write_number((r + 1) as u32, c as u16, x)?
                    }
                    _ => ws.write_string((r + 1) as u32, c as u16, v)?,
                };
            }
        }
        Ok(())
    };
    let ws = wb
        .add_worksheet()
        .set_name(if en { "Scores" } else { "得分" })?;
    write_table(ws, &headers(en), &score_rows(a, en))?;
    let ws = wb
        .add_worksheet()
        .set_name(if en { "Model" } else { "满意度模型" })?;
    let mut rows = Vec::new();
    if let Some(m) = &a.model {
        for p in &m.paths {
            let (fz, fe) = domain_names(&p.from);
            let (tz, te) = domain_names(&p.to);
            rows.push(vec![
                if en { fe } else { fz }.to_string(),
                if en { te } else { tz }.to_string(),
                String::new(),
                String::new(),
                f(p.coefficient, 4),
                m.r2.get(&p.to).map(|x| f(*x, 4)).unwrap_or_default(),
            ]);
        }
    }
    write_table(
        ws,
        &if en {
            ["from", "to", "", "", "path coefficient", "R² of target"]
        } else {
            ["前因", "结果", "", "", "路径系数", "结果变量R²"]
        },
        &rows,
    )?;
    let ws = wb
        .add_worksheet()
        .set_name(if en { "IPA" } else { "四分图" })?;
    let rows: Vec<Vec<String>> = a
        .ipa
        .iter()
        .flat_map(|i| i.points.iter())
        .map(|p| {
            vec![
                p.domain.clone(),
                if en {
                    p.label_en.clone()
                } else {
                    p.label_zh.clone()
                },
                p.quadrant.clone(),
                String::new(),
                f(p.importance, 4),
                f(p.performance, 2),
            ]
        })
        .collect();
    write_table(
        ws,
        &if en {
            [
                "domain",
                "label",
                "quadrant",
                "",
                "importance",
                "performance",
            ]
        } else {
            ["领域", "名称", "象限", "", "重要性", "表现(得分)"]
        },
        &rows,
    )?;
    let ws = wb
        .add_worksheet()
        .set_name(if en { "Suggestions" } else { "意见建议" })?;
    let rows: Vec<Vec<String>> = a
        .suggestions
        .items
        .iter()
        .map(|s| {
            vec![
                s.region_code.clone().unwrap_or_default(),
                s.question.clone(),
                s.domains.join(";"),
                s.text.clone(),
            ]
        })
        .collect();
    write_table(
        ws,
        &if en {
            ["district", "question", "domains", "text"]
        } else {
            ["区县", "题目", "领域", "内容"]
        },
        &rows,
    )?;
    let ws = wb
        .add_worksheet()
        .set_name(if en { "Method" } else { "方法说明" })?;
    let m = &a.method;
    let rows = [
        vec!["conversion".to_string(), m.conversion.clone()],
        vec!["weighting".into(), m.weighting.clone()],
        vec!["margins".into(), m.margins_used.join(", ")],
        vec!["n".into(), m.n.to_string()],
        vec!["n_eff".into(), f(m.n_eff, 1)],
        vec!["deff_w".into(), f(m.deff_w, 3)],
        vec!["excluded".into(), m.excluded.to_string()],
        vec!["notes".into(), m.notes.join(" | ")],
    ];
    for (r, row) in rows.iter().enumerate() {
        ws.write_string(r as u32, 0, &row[0])?;
        ws.write_string(r as u32, 1, &row[1])?;
    }
    wb.save_to_buffer()
}
