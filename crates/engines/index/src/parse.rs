//! Parsing COINr-style CSV text (iData, iMeta) and the small tables of the CLI
//! (matrix, directions, weights, AHP pairwise matrix) into validated types.
//!
//! The engine does no IO: callers pass the file's text and its name (used in errors).
//! Rows are numbered as lines of the file, the header being row 1.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::error::{IndexError, Result};
use crate::model::{Coin, Dataset, Direction, Framework, Indicator, IndicatorType, NA, Unit};

struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_table(file: &str, text: &str) -> Result<Table> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| IndexError::input(file, 1, "", format!("cannot read header: {e}")))?
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    let mut seen = HashSet::new();
    for h in &header {
        if !seen.insert(h.clone()) {
            return Err(IndexError::input(file, 1, h.clone(), "duplicate column"));
        }
    }
    let mut rows = Vec::new();
    for (k, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            let row = e.position().map(|p| p.line() as usize).unwrap_or(k + 2);
            IndexError::input(file, row, "", format!("malformed CSV row: {e}"))
        })?;
        rows.push(rec.iter().map(|s| s.trim().to_string()).collect());
    }
    Ok(Table { header, rows })
}

/// Parses a numeric cell: empty, `NA` or `NaN` are missing.
fn parse_num(file: &str, row: usize, col: &str, s: &str) -> Result<f64> {
    if s.is_empty() || s.eq_ignore_ascii_case("na") || s.eq_ignore_ascii_case("nan") {
        return Ok(NA);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(IndexError::input(
            file,
            row,
            col,
            format!("non-numeric value '{s}'"),
        )),
    }
}

/// Parses iMeta (columns `iCode`, `Type`, and for Indicator/Aggregate rows `Level`,
/// optionally `iName`, `Direction` (default 1), `Weight` (default 1), `Unit`, `Target`,
/// `Denominator`, `Parent`).
pub fn parse_imeta(file: &str, text: &str) -> Result<Framework> {
    let t = read_table(file, text)?;
    let pos = |name: &str| t.header.iter().position(|h| h == name);
    let need = |name: &str| {
        pos(name).ok_or_else(|| IndexError::input(file, 1, name, "required column missing"))
    };
    let c_code = need("iCode")?;
    let c_type = need("Type")?;
    let c_level = need("Level")?;
    let c_name = pos("iName");
    let c_dir = pos("Direction");
    let c_w = pos("Weight");
    let c_unit = pos("Unit");
    let c_targ = pos("Target");
    let c_den = pos("Denominator");
    let c_par = pos("Parent");
    let opt = |r: &Vec<String>, c: Option<usize>| -> Option<String> {
        c.map(|c| r[c].clone()).filter(|s| !s.is_empty())
    };
    let mut nodes = Vec::new();
    let mut groups = Vec::new();
    let mut denoms = Vec::new();
    let mut codes_seen: HashMap<String, usize> = HashMap::new();
    for (k, r) in t.rows.iter().enumerate() {
        let row = k + 2;
        let code = r[c_code].clone();
        if code.is_empty() {
            return Err(IndexError::input(file, row, "iCode", "empty code"));
        }
        if let Some(prev) = codes_seen.insert(code.clone(), row) {
            return Err(IndexError::input(
                file,
                row,
                "iCode",
                format!("duplicate iCode '{code}' (first at row {prev})"),
            ));
        }
        let kind = match r[c_type].as_str() {
            "Indicator" => IndicatorType::Indicator,
            "Aggregate" => IndicatorType::Aggregate,
            "Group" => IndicatorType::Group,
            "Denominator" => IndicatorType::Denominator,
            other => {
                return Err(IndexError::input(
                    file,
                    row,
                    "Type",
                    format!(
                        "unknown Type '{other}' (expected Indicator, Aggregate, Group or Denominator)"
                    ),
                ));
            }
        };
        match kind {
            IndicatorType::Group => {
                groups.push(code);
                continue;
            }
            IndicatorType::Denominator => {
                denoms.push(code);
                continue;
            }
            _ => {}
        }
        let level_s = &r[c_level];
        let level: u32 = level_s.parse().map_err(|_| {
            IndexError::input(file, row, "Level", format!("non-numeric level '{level_s}'"))
        })?;
        if level == 0 {
            return Err(IndexError::input(file, row, "Level", "level must be ≥ 1"));
        }
        let direction = match c_dir.map(|c| r[c].as_str()).filter(|s| !s.is_empty()) {
            None => Direction::Positive,
            Some(s) => {
                let v = parse_num(file, row, "Direction", s)?;
                Direction::from_sign(v).ok_or_else(|| {
                    IndexError::input(
                        file,
                        row,
                        "Direction",
                        format!("must be 1 or -1, got '{s}'"),
                    )
                })?
            }
        };
        let weight = match c_w.map(|c| r[c].as_str()).filter(|s| !s.is_empty()) {
            None => 1.0,
            Some(s) => {
                let v = parse_num(file, row, "Weight", s)?;
                if v.is_nan() || v < 0.0 {
                    return Err(IndexError::input(file, row, "Weight", "weight must be ≥ 0"));
                }
                v
            }
        };
        let target = match opt(r, c_targ) {
            None => None,
            Some(s) => Some(parse_num(file, row, "Target", &s)?).filter(|v| !v.is_nan()),
        };
        nodes.push(Indicator {
            name: opt(r, c_name).unwrap_or_else(|| code.clone()),
            code,
            level,
            parent: opt(r, c_par),
            direction,
            weight,
            kind,
            unit: opt(r, c_unit),
            target,
            denominator: opt(r, c_den),
        });
    }
    // denominators named by indicators must be declared
    for (k, n) in nodes.iter().enumerate() {
        if let Some(d) = &n.denominator
            && !denoms.contains(d)
        {
            // find the row of this node for the message
            let row = codes_seen.get(&n.code).copied().unwrap_or(k + 2);
            return Err(IndexError::input(
                file,
                row,
                "Denominator",
                format!("unknown code '{d}': not a Denominator row"),
            ));
        }
        if let Some(p) = &n.parent
            && !nodes.iter().any(|m| &m.code == p)
        {
            let row = codes_seen.get(&n.code).copied().unwrap_or(k + 2);
            return Err(IndexError::input(
                file,
                row,
                "Parent",
                format!("unknown code '{p}'"),
            ));
        }
    }
    Framework::new(file, nodes, groups, denoms)
}

/// Parses iData against a framework into a coin. Columns: `uCode` (required), `uName`,
/// `Time`, the framework's group and denominator columns, and one column per level-1
/// indicator. Any other column is an unknown code.
pub fn parse_idata(file: &str, text: &str, framework: &Framework) -> Result<Coin> {
    let t = read_table(file, text)?;
    let pos = |name: &str| t.header.iter().position(|h| h == name);
    let c_u = pos("uCode")
        .ok_or_else(|| IndexError::input(file, 1, "uCode", "required column missing"))?;
    let c_name = pos("uName");
    let c_time = pos("Time");
    let ind_codes = framework.indicator_codes();
    for h in &t.header {
        let known = h == "uCode"
            || h == "uName"
            || h == "Time"
            || framework.group_columns.contains(h)
            || framework.denominator_columns.contains(h)
            || ind_codes.contains(h);
        if !known {
            let msg = if framework.get(h).is_some() {
                format!("'{h}' is an aggregate: iData holds only indicators")
            } else {
                format!("unknown code '{h}': not in iMeta")
            };
            return Err(IndexError::input(file, 1, h.clone(), msg));
        }
    }
    for c in ind_codes
        .iter()
        .chain(&framework.group_columns)
        .chain(&framework.denominator_columns)
    {
        if pos(c).is_none() {
            return Err(IndexError::input(
                file,
                1,
                c.clone(),
                "column declared in iMeta is missing from iData",
            ));
        }
    }
    let mut units = Vec::new();
    let mut seen: HashMap<(String, Option<i64>), usize> = HashMap::new();
    let mut ind_cols = vec![Vec::with_capacity(t.rows.len()); ind_codes.len()];
    let mut den_cols = vec![Vec::with_capacity(t.rows.len()); framework.denominator_columns.len()];
    let ind_pos: Vec<usize> = ind_codes.iter().map(|c| pos(c).expect("checked")).collect();
    let den_pos: Vec<usize> = framework
        .denominator_columns
        .iter()
        .map(|c| pos(c).expect("checked"))
        .collect();
    for (k, r) in t.rows.iter().enumerate() {
        let row = k + 2;
        let code = r[c_u].clone();
        if code.is_empty() {
            return Err(IndexError::input(file, row, "uCode", "empty unit code"));
        }
        let time = match c_time {
            None => None,
            Some(c) if r[c].is_empty() => None,
            Some(c) => Some(r[c].parse::<i64>().map_err(|_| {
                IndexError::input(file, row, "Time", format!("non-numeric value '{}'", r[c]))
            })?),
        };
        if let Some(prev) = seen.insert((code.clone(), time), row) {
            return Err(IndexError::input(
                file,
                row,
                "uCode",
                format!("duplicate unit '{code}' (first at row {prev})"),
            ));
        }
        let groups: BTreeMap<String, String> = framework
            .group_columns
            .iter()
            .map(|g| (g.clone(), r[pos(g).expect("checked")].clone()))
            .collect();
        units.push(Unit {
            code: code.clone(),
            name: c_name.map(|c| r[c].clone()).filter(|s| !s.is_empty()),
            groups,
            time,
        });
        for (j, &c) in ind_pos.iter().enumerate() {
            ind_cols[j].push(parse_num(file, row, &t.header[c], &r[c])?);
        }
        for (j, &c) in den_pos.iter().enumerate() {
            den_cols[j].push(parse_num(file, row, &t.header[c], &r[c])?);
        }
    }
    if units.is_empty() {
        return Err(IndexError::input(file, 2, "uCode", "no units"));
    }
    let ucodes: Vec<String> = units.iter().map(|u| u.code.clone()).collect();
    Ok(Coin {
        data: Dataset::new(ucodes.clone(), ind_codes, ind_cols),
        denominators: Dataset::new(ucodes, framework.denominator_columns.clone(), den_cols),
        units,
        framework: framework.clone(),
    })
}

/// Parses iMeta and iData together.
pub fn parse_coin(data_file: &str, data: &str, meta_file: &str, meta: &str) -> Result<Coin> {
    let fw = parse_imeta(meta_file, meta)?;
    parse_idata(data_file, data, &fw)
}

/// Parses a decision matrix in iData layout: `uCode`, then one numeric column per
/// criterion (an optional `uName` column is ignored).
pub fn parse_matrix(file: &str, text: &str) -> Result<Dataset> {
    let t = read_table(file, text)?;
    let c_u = t
        .header
        .iter()
        .position(|h| h == "uCode")
        .ok_or_else(|| IndexError::input(file, 1, "uCode", "required column missing"))?;
    let data_cols: Vec<usize> = (0..t.header.len())
        .filter(|&c| c != c_u && t.header[c] != "uName")
        .collect();
    if data_cols.is_empty() {
        return Err(IndexError::input(file, 1, "", "no criterion columns"));
    }
    let mut units = Vec::new();
    let mut seen = HashMap::new();
    let mut cols = vec![Vec::new(); data_cols.len()];
    for (k, r) in t.rows.iter().enumerate() {
        let row = k + 2;
        if let Some(prev) = seen.insert(r[c_u].clone(), row) {
            return Err(IndexError::input(
                file,
                row,
                "uCode",
                format!("duplicate unit '{}' (first at row {prev})", r[c_u]),
            ));
        }
        units.push(r[c_u].clone());
        for (j, &c) in data_cols.iter().enumerate() {
            cols[j].push(parse_num(file, row, &t.header[c], &r[c])?);
        }
    }
    Ok(Dataset::new(
        units,
        data_cols.iter().map(|&c| t.header[c].clone()).collect(),
        cols,
    ))
}

/// Parses a two-column table `iCode,<value_col>` into a map. Every code must be in `known`
/// (when given).
pub fn parse_code_values(
    file: &str,
    text: &str,
    value_col: &str,
    known: Option<&[String]>,
) -> Result<BTreeMap<String, f64>> {
    let t = read_table(file, text)?;
    let c_code = t
        .header
        .iter()
        .position(|h| h == "iCode")
        .ok_or_else(|| IndexError::input(file, 1, "iCode", "required column missing"))?;
    let c_v = t
        .header
        .iter()
        .position(|h| h == value_col)
        .ok_or_else(|| IndexError::input(file, 1, value_col, "required column missing"))?;
    let mut out = BTreeMap::new();
    for (k, r) in t.rows.iter().enumerate() {
        let row = k + 2;
        let code = r[c_code].clone();
        if let Some(known) = known
            && !known.contains(&code)
        {
            return Err(IndexError::input(
                file,
                row,
                "iCode",
                format!("unknown code '{code}'"),
            ));
        }
        let v = parse_num(file, row, value_col, &r[c_v])?;
        if v.is_nan() {
            return Err(IndexError::input(file, row, value_col, "missing value"));
        }
        if out.insert(code.clone(), v).is_some() {
            return Err(IndexError::input(
                file,
                row,
                "iCode",
                format!("duplicate code '{code}'"),
            ));
        }
    }
    Ok(out)
}

/// Parses directions (`iCode,Direction` with values 1 or −1).
pub fn parse_directions(
    file: &str,
    text: &str,
    known: Option<&[String]>,
) -> Result<BTreeMap<String, Direction>> {
    let raw = parse_code_values(file, text, "Direction", known)?;
    let mut out = BTreeMap::new();
    for (k, (code, v)) in raw.into_iter().enumerate() {
        let d = Direction::from_sign(v).ok_or_else(|| {
            IndexError::input(
                file,
                k + 2,
                "Direction",
                format!("must be 1 or -1, got {v}"),
            )
        })?;
        out.insert(code, d);
    }
    Ok(out)
}

/// Parses a square AHP pairwise matrix whose header row and first column are criterion
/// codes (the top-left cell is free text). Returns the codes and the matrix.
pub fn parse_pairwise(file: &str, text: &str) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let t = read_table(file, text)?;
    let codes: Vec<String> = t.header[1..].to_vec();
    if t.rows.len() != codes.len() {
        return Err(IndexError::input(
            file,
            t.rows.len() + 1,
            "",
            format!(
                "pairwise matrix must be square: {} columns but {} rows",
                codes.len(),
                t.rows.len()
            ),
        ));
    }
    let mut m = Vec::new();
    for (k, r) in t.rows.iter().enumerate() {
        let row = k + 2;
        if r[0] != codes[k] {
            return Err(IndexError::input(
                file,
                row,
                t.header[0].clone(),
                format!("row code '{}' must match column code '{}'", r[0], codes[k]),
            ));
        }
        let mut line = Vec::new();
        for (j, cell) in r[1..].iter().enumerate() {
            let v = parse_num(file, row, &codes[j], cell)?;
            if v.is_nan() || v <= 0.0 {
                return Err(IndexError::input(
                    file,
                    row,
                    codes[j].clone(),
                    "pairwise judgements must be positive numbers",
                ));
            }
            line.push(v);
        }
        m.push(line);
    }
    Ok((codes, m))
}
