//! Bulk import of values from CSV or XLSX: a downloadable template, parsing with errors that
//! name the row and column, and an all-or-nothing commit (one transaction).

use crate::entity::node;
use crate::store::{self, EvalError, ValueInput, Warning};
use qcity_platform::auth::Principal;
use qcity_platform::db::BeginWrite;
use qcity_platform::upload::{self, Limits, UploadError};
use serde::Serialize;

/// Columns of the import file, in template order: (key, zh header, en header, required).
pub const COLUMNS: [(&str, &str, &str, bool); 8] = [
    ("indicator", "指标代码", "indicator", true),
    ("region_code", "地区代码", "region_code", true),
    ("year", "年份", "year", true),
    ("value", "数值", "value", false),
    ("numerator", "分子", "numerator", false),
    ("denominator", "分母", "denominator", false),
    ("source", "数据来源", "source", false),
    ("note", "备注", "note", false),
];

/// An error in one cell or row of an import file. Rows count from 1 = the header row, so
/// the first data row is row 2 (as a spreadsheet shows it).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

/// Result of an import: committed values, or every error found (nothing committed).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub committed: bool,
    pub rows: usize,
    pub created_or_updated: usize,
    pub errors: Vec<RowError>,
    pub warnings: Vec<Warning>,
}

/// Reads a CSV (UTF-8 with or without BOM, or GBK) or XLSX file (first sheet, streamed) into
/// rows of text within `limits` (see [`qcity_platform::upload`]); a zip is a workbook whatever
/// its name says.
pub fn read_table(
    filename: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<Vec<String>>, UploadError> {
    let lower = filename.to_ascii_lowercase();
    let t = if lower.ends_with(".xlsx") || upload::xlsx::is_zip(bytes) {
        upload::xlsx::read_xlsx(bytes, limits)?
    } else {
        upload::csv::read_csv(bytes, limits)?
    };
    Ok(t.rows)
}

/// An unreadable file as a row error (a limit refusal is answered as problem+json instead).
fn row_error(e: UploadError) -> RowError {
    RowError {
        row: e.row.unwrap_or(0),
        column: e.column.or(e.field).unwrap_or_default(),
        message: e.message,
    }
}

fn column_key(header: &str) -> Option<&'static str> {
    let h = header.trim().to_lowercase();
    COLUMNS
        .iter()
        .find(|(k, zh, en, _)| h == *k || h == *zh || h == en.to_lowercase())
        .map(|(k, ..)| *k)
}

fn parse_num(s: &str) -> Result<Option<f64>, String> {
    let t = s.trim().replace(',', "");
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .map(Some)
        .ok_or_else(|| format!("`{s}` is not a number"))
}

/// Parses rows (header first) into value inputs; every problem found is reported.
pub fn parse_rows(
    framework_id: i64,
    table: &[Vec<String>],
) -> Result<Vec<(usize, ValueInput)>, Vec<RowError>> {
    let mut errors = Vec::new();
    let Some(header) = table.first() else {
        return Err(vec![RowError {
            row: 1,
            column: String::new(),
            message: "the file is empty".into(),
        }]);
    };
    let keys: Vec<Option<&str>> = header.iter().map(|h| column_key(h)).collect();
    for (i, (k, _, en, required)) in COLUMNS.iter().enumerate() {
        let _ = i;
        if *required && !keys.contains(&Some(*k)) {
            errors.push(RowError {
                row: 1,
                column: en.to_string(),
                message: format!("missing column `{en}`"),
            });
        }
    }
    for (j, h) in header.iter().enumerate() {
        if keys[j].is_none() && !h.trim().is_empty() {
            errors.push(RowError {
                row: 1,
                column: h.clone(),
                message: "unknown column".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for (i, r) in table.iter().enumerate().skip(1) {
        let row = i + 1;
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let get = |k: &str| -> String {
            keys.iter()
                .position(|x| *x == Some(k))
                .and_then(|j| r.get(j))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let mut row_ok = true;
        let mut err = |col: &str, msg: String| {
            errors.push(RowError {
                row,
                column: col.into(),
                message: msg,
            });
        };
        let indicator = get("indicator");
        if indicator.is_empty() {
            err("indicator", "is required".into());
            row_ok = false;
        }
        let region = get("region_code");
        if region.is_empty() {
            err("region_code", "is required".into());
            row_ok = false;
        }
        let year = match get("year").parse::<i32>() {
            Ok(y) => y,
            Err(_) => {
                err("year", format!("`{}` is not a year", get("year")));
                row_ok = false;
                0
            }
        };
        let mut nums = [None, None, None];
        for (k, col) in ["value", "numerator", "denominator"].iter().enumerate() {
            match parse_num(&get(col)) {
                Ok(x) => nums[k] = x,
                Err(m) => {
                    err(col, m);
                    row_ok = false;
                }
            }
        }
        if row_ok && nums[0].is_none() && (nums[1].is_none() || nums[2].is_none()) {
            err(
                "value",
                "is required (or give numerator and denominator)".into(),
            );
            row_ok = false;
        }
        if row_ok {
            let key = (indicator.clone(), region.clone(), year);
            if let Some(first) = seen.insert(key, row) {
                err(
                    "indicator",
                    format!("duplicate of row {first} (same indicator, region and year)"),
                );
                continue;
            }
            out.push((
                row,
                ValueInput {
                    framework_id,
                    indicator,
                    region_code: region,
                    year,
                    value: nums[0],
                    numerator: nums[1],
                    denominator: nums[2],
                    source: get("source"),
                    note: get("note"),
                },
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if out.is_empty() {
        return Err(vec![RowError {
            row: 2,
            column: String::new(),
            message: "no data rows".into(),
        }]);
    }
    Ok(out)
}

/// Parses and commits a file in one transaction: every row is saved as a draft, or — when
/// any row fails — nothing is, and every failing row is reported.
pub async fn import_file(
    db: &sea_orm::DatabaseConnection,
    p: &Principal,
    framework_id: i64,
    filename: &str,
    bytes: Vec<u8>,
    limits: &Limits,
) -> Result<ImportReport, EvalError> {
    store::get_framework(db, p.city_id, framework_id).await?;
    let fail = |errors: Vec<RowError>, rows: usize| ImportReport {
        committed: false,
        rows,
        created_or_updated: 0,
        errors,
        warnings: Vec::new(),
    };
    let (name, limits) = (filename.to_string(), *limits);
    let read = tokio::task::spawn_blocking(move || read_table(&name, &bytes, &limits))
        .await
        .map_err(|e| EvalError::Db(sea_orm::DbErr::Custom(format!("import task: {e}"))))?;
    let table = match read {
        Ok(t) => t,
        Err(e) if e.kind.is_limit() => return Err(EvalError::Upload(e)),
        Err(e) => return Ok(fail(vec![row_error(e)], 0)),
    };
    let rows = match parse_rows(framework_id, &table) {
        Ok(r) => r,
        Err(e) => return Ok(fail(e, table.len().saturating_sub(1))),
    };
    let n = rows.len();
    let txn = db.begin_write().await?;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for (row, input) in &rows {
        match store::save_value(&txn, p, input, "import").await {
            Ok((_, w)) => warnings.extend(w),
            Err(EvalError::Invalid { field, message }) => errors.push(RowError {
                row: *row,
                column: field,
                message,
            }),
            Err(EvalError::NotFound(what)) => errors.push(RowError {
                row: *row,
                column: "region_code".into(),
                message: format!("{what} is not in your scope"),
            }),
            Err(EvalError::Conflict { detail: m, .. }) => errors.push(RowError {
                row: *row,
                column: "value".into(),
                message: m,
            }),
            Err(EvalError::Forbidden) => return Err(EvalError::Forbidden),
            Err(e @ (EvalError::Db(_) | EvalError::Upload(_))) => return Err(e),
        }
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        return Ok(fail(errors, n));
    }
    txn.commit().await?;
    Ok(ImportReport {
        committed: true,
        rows: n,
        created_or_updated: n,
        errors: Vec::new(),
        warnings,
    })
}

/// The rows of a template: one per indicator × region for the year, values blank (or the
/// current value when present).
pub fn template_rows(
    indicators: &[node::Model],
    regions: &[String],
    year: i32,
    existing: &std::collections::BTreeMap<(String, String), f64>,
) -> Vec<Vec<String>> {
    let mut rows = vec![COLUMNS.iter().map(|c| c.2.to_string()).collect::<Vec<_>>()];
    for n in indicators.iter().filter(|n| n.level == 1) {
        for r in regions {
            let v = existing
                .get(&(n.code.clone(), r.clone()))
                .map(|x| x.to_string())
                .unwrap_or_default();
            rows.push(vec![
                n.code.clone(),
                r.clone(),
                year.to_string(),
                v,
                String::new(),
                String::new(),
                n.source_zh.clone(),
                String::new(),
            ]);
        }
    }
    rows
}

/// The template as CSV (UTF-8 with BOM so spreadsheet programs open it correctly).
pub fn template_csv(rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        let _ = qcity_platform::upload::export::write_record(&mut w, r);
    }
    let body = w.into_inner().unwrap_or_default();
    format!("\u{feff}{}", String::from_utf8_lossy(&body))
}

/// The template as XLSX: the data sheet plus a sheet of indicator passports.
pub fn template_xlsx(rows: &[Vec<String>], indicators: &[node::Model]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("data").map_err(|e| e.to_string())?;
    for (i, r) in rows.iter().enumerate() {
        for (j, c) in r.iter().enumerate() {
            let (row, col) = (i as u32, j as u16);
            if i == 0 {
                ws.write_string_with_format(row, col, c, &bold)
                    .map_err(|e| e.to_string())?;
            } else if j == 2 || (j == 3 && !c.is_empty()) {
                match c.parse::<f64>() {
                    Ok(x) => ws.write_number(row, col, x).map(|_| ()),
                    Err(_) => ws.write_string(row, col, c).map(|_| ()),
                }
                .map_err(|e| e.to_string())?;
            } else {
                ws.write_string(row, col, c).map_err(|e| e.to_string())?;
            }
        }
    }
    ws.set_column_width(0, 22).map_err(|e| e.to_string())?;
    let ws2 = wb.add_worksheet();
    ws2.set_name("indicators").map_err(|e| e.to_string())?;
    let head = [
        "code",
        "名称",
        "name",
        "unit",
        "direction",
        "department",
        "definition",
    ];
    for (j, h) in head.iter().enumerate() {
        ws2.write_string_with_format(0, j as u16, *h, &bold)
            .map_err(|e| e.to_string())?;
    }
    for (i, n) in indicators.iter().filter(|n| n.level == 1).enumerate() {
        let r = (i + 1) as u32;
        let cells = [
            n.code.clone(),
            n.name_zh.clone(),
            n.name_en.clone(),
            n.unit.clone(),
            n.direction.to_string(),
            n.department.clone(),
            n.definition_zh.clone(),
        ];
        for (j, c) in cells.iter().enumerate() {
            ws2.write_string(r, j as u16, c)
                .map_err(|e| e.to_string())?;
        }
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}

/// A minimal multipart/form-data reader for the upload form: returns (field name, file name,
/// bytes) of every part.
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let Some(b) = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
    else {
        return Vec::new();
    };
    let b = b.trim_matches('"');
    let delim = format!("--{b}").into_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        if from > hay.len() {
            return None;
        }
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    while let Some(start) = find(body, &delim, pos) {
        let after = start + delim.len();
        if body[after..].starts_with(b"--") {
            break;
        }
        let Some(hdr_end) = find(body, b"\r\n\r\n", after) else {
            break;
        };
        let headers = String::from_utf8_lossy(&body[after..hdr_end]).to_string();
        let data_start = hdr_end + 4;
        let Some(next) = find(body, &delim, data_start) else {
            break;
        };
        let data_end = next.saturating_sub(2).max(data_start);
        let mut name = String::new();
        let mut filename = String::new();
        for h in headers.lines() {
            if h.to_ascii_lowercase().starts_with("content-disposition") {
                for part in h.split(';').map(str::trim) {
                    if let Some(v) = part.strip_prefix("name=") {
                        name = v.trim_matches('"').to_string();
                    } else if let Some(v) = part.strip_prefix("filename=") {
                        filename = v.trim_matches('"').to_string();
                    }
                }
            }
        }
        out.push((name, filename, body[data_start..data_end].to_vec()));
        pos = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_report_every_bad_cell() {
        let t = vec![
            vec![
                "indicator".into(),
                "region_code".into(),
                "year".into(),
                "value".into(),
            ],
            vec![
                "CQ-SAT".into(),
                "990101".into(),
                "2024".into(),
                "81.5".into(),
            ],
            vec![
                "CQ-SAT".into(),
                "990102".into(),
                "20x4".into(),
                "abc".into(),
            ],
            vec!["CQ-SAT".into(), "990101".into(), "2024".into(), "80".into()],
        ];
        let e = parse_rows(1, &t).unwrap_err();
        assert!(e.contains(&RowError {
            row: 3,
            column: "year".into(),
            message: "`20x4` is not a year".into()
        }));
        assert!(e.iter().any(|x| x.row == 3 && x.column == "value"));
        assert!(
            e.iter()
                .any(|x| x.row == 4 && x.message.contains("duplicate of row 2"))
        );
    }

    #[test]
    fn chinese_headers_and_multipart() {
        let t = vec![
            vec![
                "指标代码".into(),
                "地区代码".into(),
                "年份".into(),
                "数值".into(),
            ],
            vec![
                "CQ-SAT".into(),
                "990101".into(),
                "2024".into(),
                "1,081.5".into(),
            ],
        ];
        let r = parse_rows(1, &t).unwrap();
        assert_eq!(r[0].1.value, Some(1081.5));
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\n1,2\r\n--XX\r\nContent-Disposition: form-data; name=\"framework_id\"\r\n\r\n7\r\n--XX--\r\n";
        let parts = multipart_parts("multipart/form-data; boundary=XX", body);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].1, "a.csv");
        assert_eq!(parts[0].2, b"a,b\r\n1,2");
        assert_eq!(parts[1].2, b"7");
    }
}
