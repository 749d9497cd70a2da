//! The registry in and out of files (导入/导出): reading CSV and XLSX uploads, the
//! all-or-nothing import with problems named by row and column, the CSV / XLSX export in the
//! import's format, and the import template with its help sheet.

use super::{
    EQ_SELECT, EquipmentFilter, NewEquipment, R, check_new, companies, cycles, equipment_from,
    insert_equipment, today, where_clause,
};
use crate::sql::{all, exec};
use chrono::NaiveDate;
use qcity_platform::Scope;
use qcity_platform::db::BeginWrite;
use qcity_platform::store::StoreError;
use qcity_platform::upload::{self, Limits, UploadError, UploadErrorKind};
use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait};
use std::collections::{HashMap, HashSet};

pub const CSV_COLUMNS: [&str; 23] = [
    "category",
    "variety",
    "equipment_code",
    "registration_code",
    "use_cert_no",
    "rescue_code",
    "name",
    "use_unit",
    "use_unit_phone",
    "company_license_no",
    "address",
    "lon",
    "lat",
    "region_code",
    "manufacture_date",
    "install_date",
    "registration_date",
    "status",
    "safety_grade",
    "renovated_year",
    "attributes",
    "next_inspection_due",
    "supervised_on",
];

/// An uploaded registry table: the header row and the data rows with their spreadsheet row
/// numbers (the header is row 1), each row's cells or why it could not be read.
#[derive(Debug, Clone, Default)]
pub struct UploadTable {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Result<Vec<String>, String>)>,
    /// Column letters of the headers (XLSX), to name `A`, `B`, … in errors.
    pub letters: Option<Vec<String>>,
}

/// Reads a CSV upload (UTF-8 with or without BOM, or GBK; quoted fields as the `csv` crate
/// reads them) within `limits`; every row must have the header's width.
pub fn read_csv(data: &[u8], limits: &Limits) -> Result<UploadTable, UploadError> {
    let t = upload::csv::read_csv(data, limits)?;
    let mut it = t.rows.into_iter().enumerate();
    let headers: Vec<String> = match it.next() {
        Some((_, h)) => h
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect(),
        None => {
            return Err(UploadError::new(UploadErrorKind::Invalid, "the file is empty").at_row(1));
        }
    };
    let width = headers.len();
    let rows = it
        .filter(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()))
        .map(|(i, r)| {
            let cells = if r.len() == width {
                Ok(r.iter().map(|c| c.trim().to_string()).collect())
            } else {
                Err(format!(
                    "found record with {} fields, but the header has {width} fields",
                    r.len()
                ))
            };
            (i + 1, cells)
        })
        .collect();
    Ok(UploadTable {
        headers,
        rows,
        letters: None,
    })
}

/// The spreadsheet letter of a 0-based column (`A`, …, `Z`, `AA`, …).
pub fn column_letter(c: usize) -> String {
    upload::column_letter(c)
}

/// Reads the first sheet of an XLSX workbook (streamed, within `limits`; see
/// [`qcity_platform::upload::xlsx`]). Date cells become `YYYY-MM-DD`; whole numbers lose
/// their `.0` (a rescue code typed as a number stays `110001`); empty rows are skipped.
pub fn read_xlsx(data: &[u8], limits: &Limits) -> Result<UploadTable, UploadError> {
    let t = upload::xlsx::read_xlsx(data, limits)?;
    let first = t
        .rows
        .iter()
        .position(|r| r.iter().any(|c| !c.trim().is_empty()))
        .ok_or_else(|| UploadError::malformed("the first sheet is empty").with_field("xlsx"))?;
    if first != 0 {
        return Err(UploadError::new(
            UploadErrorKind::Invalid,
            "the header row must be the first row of the sheet",
        )
        .at_row(1));
    }
    let headers: Vec<String> = t.rows[0].iter().map(|h| h.trim().to_string()).collect();
    let rows = t
        .data_rows()
        .map(|(i, r)| (i, Ok(r.iter().map(|c| c.trim().to_string()).collect())))
        .collect();
    let letters = (0..headers.len()).map(column_letter).collect();
    Ok(UploadTable {
        headers,
        rows,
        letters: Some(letters),
    })
}

/// Whether an upload is an XLSX workbook (a zip file) rather than CSV text.
pub fn is_xlsx(data: &[u8]) -> bool {
    upload::xlsx::is_zip(data)
}

/// Reads a CSV or XLSX upload, told apart by its first bytes, within `limits`; the table goes
/// to [`import_table`].
pub fn read_upload(data: &[u8], limits: &Limits) -> Result<UploadTable, UploadError> {
    if is_xlsx(data) {
        read_xlsx(data, limits)
    } else {
        read_csv(data, limits)
    }
}

/// Imports a table of equipment (CSV or XLSX, the export's columns): every row is checked,
/// every problem is reported by row (the header is row 1) and column, and nothing is stored
/// unless every row is good. Returns the number imported.
pub async fn import_table<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    s: &Scope,
    t: UploadTable,
) -> R<usize> {
    let headers = &t.headers;
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let col_label = |name: &str| match (&t.letters, col(name)) {
        (Some(l), Some(i)) => format!("{name} ({})", l[i]),
        _ => name.to_string(),
    };
    for required in [
        "category",
        "variety",
        "name",
        "use_unit",
        "address",
        "region_code",
    ] {
        if col(required).is_none() {
            return Err(StoreError::invalid(
                "row 1",
                format!("missing column `{required}`"),
            ));
        }
    }
    let regions: HashMap<String, bool> = all(
        db,
        "SELECT code, urban FROM regions WHERE city_id = ?",
        vec![s.region.city_id.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.try_get("", "code")?, r.try_get("", "urban")?)))
    .collect::<R<_>>()?;
    let companies: HashMap<String, i64> = companies(db, s.region.city_id)
        .await?
        .into_iter()
        .map(|c| (c.license_no, c.id))
        .collect();
    let existing_rescue: HashSet<String> = all(
        db,
        "SELECT rescue_code FROM eq_equipment WHERE city_id = ? AND rescue_code IS NOT NULL",
        vec![s.region.city_id.into()],
    )
    .await?
    .iter()
    .filter_map(|r| r.try_get::<String>("", "rescue_code").ok())
    .collect();
    let existing_codes: HashSet<String> = all(
        db,
        "SELECT equipment_code FROM eq_equipment WHERE city_id = ? AND equipment_code IS NOT NULL",
        vec![s.region.city_id.into()],
    )
    .await?
    .iter()
    .filter_map(|r| r.try_get::<String>("", "equipment_code").ok())
    .collect();
    let mut seen_rescue: HashMap<String, usize> = HashMap::new();
    let mut seen_code: HashMap<String, usize> = HashMap::new();
    let mut errors: Vec<String> = Vec::new();
    let mut rows: Vec<(NewEquipment, Option<NaiveDate>)> = Vec::new();
    for (rowno, rec) in t.rows.iter() {
        let rowno = *rowno;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("row {rowno}: {e}"));
                continue;
            }
        };
        let get = |name: &str| -> String {
            col(name)
                .and_then(|c| rec.get(c))
                .map(|v| v.trim())
                .unwrap_or("")
                .to_string()
        };
        let mut row_err =
            |c: &str, m: String| errors.push(format!("row {rowno}, column {}: {m}", col_label(c)));
        let date = |name: &str, row_err: &mut dyn FnMut(&str, String)| -> Option<NaiveDate> {
            let v = get(name);
            if v.is_empty() {
                return None;
            }
            // A spreadsheet date cell with a time of day: the date is what counts.
            let day = match v.split_once(' ') {
                Some((d, t)) if t.len() == 8 && t.as_bytes()[2] == b':' => d,
                _ => v.as_str(),
            };
            match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    row_err(name, format!("`{v}` is not a date (YYYY-MM-DD)"));
                    None
                }
            }
        };
        let num = |name: &str, row_err: &mut dyn FnMut(&str, String)| -> Option<f64> {
            let v = get(name);
            if v.is_empty() {
                return None;
            }
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Some(x),
                _ => {
                    row_err(name, format!("`{v}` is not a number"));
                    None
                }
            }
        };
        let int = |name: &str, row_err: &mut dyn FnMut(&str, String)| -> Option<i32> {
            let v = get(name);
            if v.is_empty() {
                return None;
            }
            match v.parse::<i32>() {
                Ok(x) => Some(x),
                Err(_) => {
                    row_err(name, format!("`{v}` is not a whole number"));
                    None
                }
            }
        };
        let nonempty = |v: String| if v.is_empty() { None } else { Some(v) };
        let company_id = match get("company_license_no") {
            l if l.is_empty() => None,
            l => match companies.get(&l) {
                Some(id) => Some(*id),
                None => {
                    row_err(
                        "company_license_no",
                        format!("no maintenance company with licence `{l}`"),
                    );
                    None
                }
            },
        };
        let attributes = match get("attributes") {
            a if a.is_empty() => None,
            a => match serde_json::from_str::<serde_json::Value>(&a) {
                Ok(v) if v.is_object() => Some(v),
                _ => {
                    row_err("attributes", "must be a JSON object".into());
                    None
                }
            },
        };
        let e = NewEquipment {
            category: get("category"),
            variety: get("variety"),
            equipment_code: nonempty(get("equipment_code")),
            registration_code: nonempty(get("registration_code")),
            use_cert_no: nonempty(get("use_cert_no")),
            rescue_code: nonempty(get("rescue_code")),
            name: get("name"),
            use_unit: get("use_unit"),
            use_unit_credit_code: None,
            use_unit_phone: get("use_unit_phone"),
            company_id,
            address: get("address"),
            lon: num("lon", &mut row_err),
            lat: num("lat", &mut row_err),
            region_code: get("region_code"),
            manufacture_date: date("manufacture_date", &mut row_err),
            install_date: date("install_date", &mut row_err),
            registration_date: date("registration_date", &mut row_err),
            supervised_on: date("supervised_on", &mut row_err),
            status: nonempty(get("status")),
            safety_grade: int("safety_grade", &mut row_err),
            renovated_year: int("renovated_year", &mut row_err),
            attributes,
        };
        let due = date("next_inspection_due", &mut row_err);
        for (f, m) in check_new(&e) {
            row_err(f, m);
        }
        if !regions.contains_key(&e.region_code) {
            row_err(
                "region_code",
                format!("unknown region code `{}`", e.region_code),
            );
        } else if !e.region_code.starts_with(s.prefix()) {
            row_err("region_code", "outside your region".into());
        }
        if let Some(rc) = &e.rescue_code {
            if existing_rescue.contains(rc) {
                row_err("rescue_code", format!("`{rc}` is already registered"));
            } else if let Some(prev) = seen_rescue.insert(rc.clone(), rowno) {
                row_err("rescue_code", format!("`{rc}` repeats row {prev}"));
            }
        }
        if let Some(c) = &e.equipment_code {
            if existing_codes.contains(c) {
                row_err("equipment_code", format!("`{c}` is already registered"));
            } else if let Some(prev) = seen_code.insert(c.clone(), rowno) {
                row_err("equipment_code", format!("`{c}` repeats row {prev}"));
            }
        }
        rows.push((e, due));
    }
    if !errors.is_empty() {
        let n = errors.len();
        let mut msg = errors.into_iter().take(50).collect::<Vec<_>>().join("; ");
        if n > 50 {
            msg.push_str(&format!("; … {} more", n - 50));
        }
        return Err(StoreError::invalid(
            "file",
            format!("nothing imported: {msg}"),
        ));
    }
    if rows.is_empty() {
        return Err(StoreError::invalid("file", "no data rows"));
    }
    let cycles = cycles(db, s.region.city_id).await?;
    let txn = db.begin_write().await?;
    for (e, due) in &rows {
        let id = insert_equipment(&txn, s.region.city_id, e, &cycles).await?;
        if let Some(d) = due {
            exec(
                &txn,
                "UPDATE eq_equipment SET next_inspection_due = ? WHERE city_id = ? AND id = ?",
                vec![(*d).into(), s.region.city_id.into(), id.into()],
            )
            .await?;
        }
    }
    // Imported use units are linked to the register by exact name (the file has no codes).
    crate::enterprise::link_use_units_by_name(&txn, s.region.city_id).await?;
    txn.commit().await?;
    Ok(rows.len())
}

/// Columns the export adds after the import columns (ignored on import).
pub const EXPORT_EXTRA_COLUMNS: [&str; 5] = [
    "id",
    "must_not_use",
    "last_inspection_on",
    "last_conclusion",
    "last_maintenance_on",
];

/// The registry (filtered, whole result, not just a page) as text rows in the import format,
/// plus computed columns: the header and the rows.
pub async fn export_rows(
    db: &impl ConnectionTrait,
    s: &Scope,
    f: &EquipmentFilter,
) -> R<(Vec<&'static str>, Vec<Vec<String>>)> {
    let (w, v) = where_clause(s, f)?;
    let rows = all(
        db,
        &format!("{EQ_SELECT}{w} ORDER BY e.region_code, e.id"),
        v,
    )
    .await?;
    let lic: HashMap<i64, String> = companies(db, s.region.city_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.license_no))
        .collect();
    let mut head: Vec<&'static str> = CSV_COLUMNS.to_vec();
    head.extend(EXPORT_EXTRA_COLUMNS);
    let t = today();
    let d = |x: Option<NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
    let o = |x: Option<String>| x.unwrap_or_default();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let e = equipment_from(r, t)?;
        out.push(vec![
            e.category.clone(),
            e.variety.clone(),
            o(e.equipment_code.clone()),
            o(e.registration_code.clone()),
            o(e.use_cert_no.clone()),
            o(e.rescue_code.clone()),
            e.name.clone(),
            e.use_unit.clone(),
            e.use_unit_phone.clone(),
            e.company_id
                .and_then(|c| lic.get(&c).cloned())
                .unwrap_or_default(),
            e.address.clone(),
            e.lon.map(|x| x.to_string()).unwrap_or_default(),
            e.lat.map(|x| x.to_string()).unwrap_or_default(),
            e.region_code.clone(),
            d(e.manufacture_date),
            d(e.install_date),
            d(e.registration_date),
            e.status.clone(),
            e.safety_grade.map(|x| x.to_string()).unwrap_or_default(),
            e.renovated_year.map(|x| x.to_string()).unwrap_or_default(),
            e.attributes.to_string(),
            d(e.next_inspection_due),
            d(e.supervised_on),
            e.id.to_string(),
            e.must_not_use.to_string(),
            d(e.last_inspection_on),
            o(e.last_conclusion.clone()),
            d(e.last_maintenance_on),
        ]);
    }
    Ok((head, out))
}

/// The registry as CSV (UTF-8 with BOM, for spreadsheet programs) in the import format.
pub async fn export_csv(db: &impl ConnectionTrait, s: &Scope, f: &EquipmentFilter) -> R<Vec<u8>> {
    let (head, rows) = export_rows(db, s, f).await?;
    csv_bytes(&head, &rows)
}

fn csv_bytes(head: &[&str], rows: &[Vec<String>]) -> R<Vec<u8>> {
    let err = |e: csv::Error| StoreError::invalid("csv", e.to_string());
    let mut out = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    qcity_platform::upload::export::write_record(&mut out, head).map_err(err)?;
    for r in rows {
        qcity_platform::upload::export::write_record(&mut out, r).map_err(err)?;
    }
    out.into_inner()
        .map_err(|e| StoreError::invalid("csv", e.to_string()))
}

/// Columns written as numbers in XLSX (the rest, codes included, are text).
const NUMERIC_COLUMNS: [&str; 4] = ["lon", "lat", "safety_grade", "renovated_year"];

/// Writes a header and rows as an XLSX sheet `equipment` (pure; run it off the async runtime).
/// Codes stay text (an 18-digit 设备代码 would lose digits as a number); coordinates, grades
/// and years are numbers; dates are `YYYY-MM-DD` text, as the import reads them.
pub fn xlsx_bytes(head: &[&str], rows: &[Vec<String>], help: bool) -> R<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| StoreError::invalid("xlsx", e.to_string());
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("equipment").map_err(err)?;
    for (j, h) in head.iter().enumerate() {
        let c = j as u16;
        ws.write_string_with_format(0, c, *h, &bold).map_err(err)?;
        if !NUMERIC_COLUMNS.contains(h) {
            // Typed values stay text (codes keep their leading zeros and all 18 digits).
            ws.set_column_format(c, &text).map_err(err)?;
        }
        ws.set_column_width(c, (h.len().max(10) + 2) as f64)
            .map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    for (i, r) in rows.iter().enumerate() {
        let row = (i + 1) as u32;
        for (j, v) in r.iter().enumerate() {
            let c = j as u16;
            if v.is_empty() {
                continue;
            }
            match head
                .get(j)
                .filter(|h| NUMERIC_COLUMNS.contains(*h))
                .and(v.parse::<f64>().ok())
            {
                Some(x) => ws.write_number(row, c, x).map_err(err)?,
                None => ws.write_string_with_format(row, c, v, &text).map_err(err)?,
            };
        }
    }
    if help {
        let hs = wb.add_worksheet();
        hs.set_name("说明 help").map_err(err)?;
        hs.set_column_width(0, 22).map_err(err)?;
        hs.set_column_width(1, 90).map_err(err)?;
        hs.write_string_with_format(0, 0, "column", &bold)
            .map_err(err)?;
        hs.write_string_with_format(0, 1, "说明 / meaning", &bold)
            .map_err(err)?;
        for (i, (c, m)) in COLUMN_HELP.iter().enumerate() {
            hs.write_string((i + 1) as u32, 0, *c).map_err(err)?;
            hs.write_string((i + 1) as u32, 1, *m).map_err(err)?;
        }
    }
    wb.save_to_buffer().map_err(err)
}

/// What each import column means (the template's help sheet).
pub const COLUMN_HELP: [(&str, &str); 23] = [
    (
        "category",
        "必填 required: 类别代码 1000 锅炉, 2000 压力容器, 3000 电梯, 4000 起重机械, 5000 场(厂)内机动车辆, 6000 大型游乐设施, 8000 压力管道, 9000 客运索道",
    ),
    (
        "variety",
        "必填 required: 品种代码, 4 位, 首位与类别一致 (e.g. 3110 曳引驱动乘客电梯)",
    ),
    (
        "equipment_code",
        "设备代码, 18 位 = 品种4 + 制造单位5 + 年份4 + 流水号5 (e.g. 311010890201500123)",
    ),
    ("registration_code", "注册代码 (legacy registration code)"),
    ("use_cert_no", "使用登记证编号 (e.g. 梯11闽E3622(16))"),
    (
        "rescue_code",
        "电梯应急救援识别码, 5–8 位数字, 市内唯一 (elevators only)",
    ),
    ("name", "必填 required: 设备名称"),
    ("use_unit", "必填 required: 使用单位"),
    ("use_unit_phone", "使用单位电话"),
    (
        "company_license_no",
        "维保单位许可证号 (must match a registered maintenance company)",
    ),
    ("address", "必填 required: 地址"),
    ("lon", "经度 longitude (number)"),
    ("lat", "纬度 latitude (number)"),
    (
        "region_code",
        "必填 required: 行政区划代码 (within your region)",
    ),
    ("manufacture_date", "制造日期 YYYY-MM-DD"),
    ("install_date", "安装日期 YYYY-MM-DD"),
    ("registration_date", "使用登记日期 YYYY-MM-DD"),
    (
        "status",
        "registered, in_use (default), suspended, scrapped",
    ),
    ("safety_grade", "安全状况等级 1–5"),
    ("renovated_year", "改造年份 (year of modification)"),
    ("attributes", "JSON object, e.g. {\"floors\": 18}"),
    (
        "next_inspection_due",
        "下次检验日期 YYYY-MM-DD (optional; default from the cycle table)",
    ),
    (
        "supervised_on",
        "监督检验合格日期 YYYY-MM-DD (elevators: the TSG T7001-2023 schedule counts from it; default the installation date)",
    ),
];

/// The registry as XLSX, same columns as the CSV export.
pub async fn export_xlsx(db: &impl ConnectionTrait, s: &Scope, f: &EquipmentFilter) -> R<Vec<u8>> {
    let (head, rows) = export_rows(db, s, f).await?;
    tokio::task::spawn_blocking(move || xlsx_bytes(&head, &rows, false))
        .await
        .map_err(|e| StoreError::invalid("xlsx", e.to_string()))?
}

/// The import template: the import columns and a help sheet (XLSX), or the header (CSV).
pub fn template(xlsx: bool) -> R<Vec<u8>> {
    if xlsx {
        xlsx_bytes(&CSV_COLUMNS, &[], true)
    } else {
        csv_bytes(&CSV_COLUMNS, &[])
    }
}
