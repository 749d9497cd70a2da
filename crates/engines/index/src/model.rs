//! Data model: units, the indicator tree (COINr's iMeta) and column-major data sets.
//!
//! Missing values are `f64::NAN` throughout the engine (COINr's `NA`).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::error::{IndexError, Result};

/// A missing value.
pub const NA: f64 = f64::NAN;

/// Whether a value is missing.
#[inline]
pub fn is_na(x: f64) -> bool {
    x.is_nan()
}

/// The role of a row in iMeta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IndicatorType {
    /// A measured indicator (level 1).
    Indicator,
    /// A computed aggregate (level ≥ 2).
    Aggregate,
    /// A grouping column of iData (e.g. income group).
    Group,
    /// A denominator column of iData (e.g. population).
    Denominator,
}

/// Polarity of an indicator: +1 higher is better, −1 lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Direction {
    Positive,
    Negative,
}

impl Direction {
    /// +1.0 or −1.0.
    pub fn sign(self) -> f64 {
        match self {
            Direction::Positive => 1.0,
            Direction::Negative => -1.0,
        }
    }
    /// Parses 1 / −1.
    pub fn from_sign(v: f64) -> Option<Self> {
        if v == 1.0 {
            Some(Direction::Positive)
        } else if v == -1.0 {
            Some(Direction::Negative)
        } else {
            None
        }
    }
}

/// One node of the indicator tree (an iMeta row of type Indicator or Aggregate).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    /// 1 = indicator, 2.. = aggregation levels.
    pub level: u32,
    /// Code of the node one level up; `None` only for the top node(s).
    pub parent: Option<String>,
    pub direction: Direction,
    /// Relative weight within its parent group.
    pub weight: f64,
    pub kind: IndicatorType,
    pub unit: Option<String>,
    /// Target value (distance-to-target normalisation, progress).
    pub target: Option<f64>,
    /// iData column to divide by during denomination.
    pub denominator: Option<String>,
}

/// One unit of analysis (a country, city, district…).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    /// 单位代码 — the key.
    pub code: String,
    pub name: Option<String>,
    /// Group column name → this unit's group label.
    pub groups: BTreeMap<String, String>,
    pub time: Option<i64>,
}

/// The validated indicator tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Framework {
    /// Every Indicator / Aggregate node, in iMeta order.
    pub nodes: Vec<Indicator>,
    /// Names of group columns (type Group).
    pub group_columns: Vec<String>,
    /// Names of denominator columns (type Denominator).
    pub denominator_columns: Vec<String>,
    /// Highest level.
    pub max_level: u32,
    #[serde(skip)]
    index: HashMap<String, usize>,
    #[serde(skip)]
    children: Vec<Vec<usize>>,
}

impl Framework {
    /// Builds and validates a framework from nodes. `file` names the source in errors.
    pub fn new(
        file: &str,
        nodes: Vec<Indicator>,
        group_columns: Vec<String>,
        denominator_columns: Vec<String>,
    ) -> Result<Self> {
        let mut index = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            if index.insert(n.code.clone(), i).is_some() {
                return Err(IndexError::Framework {
                    file: file.into(),
                    message: format!("duplicate iCode '{}'", n.code),
                });
            }
        }
        if nodes.is_empty() {
            return Err(IndexError::Framework {
                file: file.into(),
                message: "no Indicator rows".into(),
            });
        }
        let mut children = vec![Vec::new(); nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            if let Some(p) = &n.parent {
                let Some(&pi) = index.get(p) else {
                    return Err(IndexError::Framework {
                        file: file.into(),
                        message: format!("'{}' has unknown parent '{}'", n.code, p),
                    });
                };
                children[pi].push(i);
            }
        }
        // cycle detection: walk up from every node
        for (i, n) in nodes.iter().enumerate() {
            let mut seen = vec![i];
            let mut cur = i;
            while let Some(p) = &nodes[cur].parent {
                let pi = index[p];
                if seen.contains(&pi) {
                    let path: Vec<&str> = seen.iter().map(|&k| nodes[k].code.as_str()).collect();
                    return Err(IndexError::Framework {
                        file: file.into(),
                        message: format!(
                            "parent cycle: {} -> {}",
                            path.join(" -> "),
                            nodes[pi].code
                        ),
                    });
                }
                seen.push(pi);
                cur = pi;
            }
            let _ = n;
        }
        for (i, n) in nodes.iter().enumerate() {
            if let Some(p) = &n.parent {
                let pl = nodes[index[p]].level;
                if pl != n.level + 1 {
                    return Err(IndexError::Framework {
                        file: file.into(),
                        message: format!(
                            "'{}' (level {}) has parent '{}' at level {}, expected level {}",
                            n.code,
                            n.level,
                            p,
                            pl,
                            n.level + 1
                        ),
                    });
                }
            }
            if n.kind == IndicatorType::Aggregate && children[i].is_empty() {
                return Err(IndexError::Framework {
                    file: file.into(),
                    message: format!("aggregate '{}' has no children", n.code),
                });
            }
            if n.kind == IndicatorType::Indicator && n.level != 1 {
                return Err(IndexError::Framework {
                    file: file.into(),
                    message: format!("indicator '{}' must be at level 1", n.code),
                });
            }
        }
        let max_level = nodes.iter().map(|n| n.level).max().unwrap_or(1);
        Ok(Framework {
            nodes,
            group_columns,
            denominator_columns,
            max_level,
            index,
            children,
        })
    }

    /// Node by code.
    pub fn get(&self, code: &str) -> Option<&Indicator> {
        self.index.get(code).map(|&i| &self.nodes[i])
    }

    /// Position of a node in `nodes`.
    pub fn position(&self, code: &str) -> Option<usize> {
        self.index.get(code).copied()
    }

    /// Level-1 indicator codes in iMeta order.
    pub fn indicator_codes(&self) -> Vec<String> {
        self.codes_at_level(1)
    }

    /// Codes at one level, in iMeta order.
    pub fn codes_at_level(&self, level: u32) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| n.level == level)
            .map(|n| n.code.clone())
            .collect()
    }

    /// Codes of every aggregate (level ≥ 2), level by level.
    pub fn aggregate_codes(&self) -> Vec<String> {
        (2..=self.max_level)
            .flat_map(|l| self.codes_at_level(l))
            .collect()
    }

    /// Children codes of a node, in iMeta order.
    pub fn children(&self, code: &str) -> Vec<&Indicator> {
        match self.index.get(code) {
            Some(&i) => self.children[i].iter().map(|&c| &self.nodes[c]).collect(),
            None => Vec::new(),
        }
    }

    /// Ancestors of a node from its parent up to the top.
    pub fn ancestors(&self, code: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = self.get(code);
        while let Some(n) = cur {
            match &n.parent {
                Some(p) => {
                    out.push(p.clone());
                    cur = self.get(p);
                }
                None => break,
            }
        }
        out
    }

    /// Code of the top node (the index). If several nodes have the max level, the first.
    pub fn top_code(&self) -> String {
        self.codes_at_level(self.max_level)[0].clone()
    }

    /// Effective weight of every node: the product of its (group-normalised) weight and
    /// those of its ancestors (COINr `get_eff_weights`).
    pub fn effective_weights(&self, weights: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for n in &self.nodes {
            let mut w = 1.0;
            let mut cur = n;
            while let Some(p) = &cur.parent {
                let sib: f64 = self
                    .children(p)
                    .iter()
                    .map(|c| weights.get(&c.code).copied().unwrap_or(c.weight))
                    .sum();
                let wc = weights.get(&cur.code).copied().unwrap_or(cur.weight);
                w *= if sib != 0.0 { wc / sib } else { 0.0 };
                cur = self.get(p).expect("validated parent");
            }
            out.insert(n.code.clone(), w);
        }
        out
    }

    /// Weights as given in iMeta.
    pub fn meta_weights(&self) -> BTreeMap<String, f64> {
        self.nodes
            .iter()
            .map(|n| (n.code.clone(), n.weight))
            .collect()
    }
}

/// A table of numbers: rows are units, columns are indicator (or aggregate) codes.
/// Stored column-major; `NA` (NaN) marks a missing value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    pub units: Vec<String>,
    pub codes: Vec<String>,
    /// `cols[j][i]` = value of `codes[j]` for `units[i]`.
    pub cols: Vec<Vec<f64>>,
}

impl Dataset {
    /// A data set with the given columns (each of length `units.len()`).
    pub fn new(units: Vec<String>, codes: Vec<String>, cols: Vec<Vec<f64>>) -> Self {
        debug_assert_eq!(codes.len(), cols.len());
        debug_assert!(cols.iter().all(|c| c.len() == units.len()));
        Dataset { units, codes, cols }
    }

    pub fn n_units(&self) -> usize {
        self.units.len()
    }

    pub fn n_cols(&self) -> usize {
        self.codes.len()
    }

    /// Column position of a code.
    pub fn col_index(&self, code: &str) -> Option<usize> {
        self.codes.iter().position(|c| c == code)
    }

    /// A column by code.
    pub fn col(&self, code: &str) -> Option<&[f64]> {
        self.col_index(code).map(|j| self.cols[j].as_slice())
    }

    /// Row position of a unit.
    pub fn unit_index(&self, code: &str) -> Option<usize> {
        self.units.iter().position(|c| c == code)
    }

    /// Value of one cell.
    pub fn get(&self, unit: &str, code: &str) -> Option<f64> {
        let i = self.unit_index(unit)?;
        let j = self.col_index(code)?;
        Some(self.cols[j][i])
    }

    /// Keeps only the given rows (by position), in that order.
    pub fn select_rows(&self, rows: &[usize]) -> Dataset {
        Dataset {
            units: rows.iter().map(|&i| self.units[i].clone()).collect(),
            codes: self.codes.clone(),
            cols: self
                .cols
                .iter()
                .map(|c| rows.iter().map(|&i| c[i]).collect())
                .collect(),
        }
    }

    /// Keeps only the given columns (by code), in that order. Unknown codes are skipped.
    pub fn select_cols(&self, codes: &[String]) -> Dataset {
        let mut out_codes = Vec::new();
        let mut cols = Vec::new();
        for c in codes {
            if let Some(j) = self.col_index(c) {
                out_codes.push(c.clone());
                cols.push(self.cols[j].clone());
            }
        }
        Dataset {
            units: self.units.clone(),
            codes: out_codes,
            cols,
        }
    }

    /// Row-major copy (units × columns).
    pub fn rows(&self) -> Vec<Vec<f64>> {
        (0..self.n_units())
            .map(|i| self.cols.iter().map(|c| c[i]).collect())
            .collect()
    }

    /// Builds a data set from rows (units × columns).
    pub fn from_rows(units: Vec<String>, codes: Vec<String>, rows: &[Vec<f64>]) -> Self {
        let cols = (0..codes.len())
            .map(|j| rows.iter().map(|r| r[j]).collect())
            .collect();
        Dataset { units, codes, cols }
    }

    /// Number of missing cells.
    pub fn n_missing(&self) -> usize {
        self.cols
            .iter()
            .map(|c| c.iter().filter(|x| x.is_nan()).count())
            .sum()
    }

    /// CSV text with `uCode` first; NA written as an empty cell.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("uCode");
        for c in &self.codes {
            s.push(',');
            s.push_str(&csv_field(c));
        }
        s.push('\n');
        for (i, u) in self.units.iter().enumerate() {
            s.push_str(&csv_field(u));
            for c in &self.cols {
                s.push(',');
                if !c[i].is_nan() {
                    s.push_str(&format!("{}", c[i]));
                }
            }
            s.push('\n');
        }
        s
    }
}

pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A "coin" (COINr's word): units, the framework and the raw data, ready for a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coin {
    pub units: Vec<Unit>,
    pub framework: Framework,
    /// Raw level-1 indicator values (units × indicators, indicators in iMeta order).
    pub data: Dataset,
    /// Denominator columns (units × denominators).
    pub denominators: Dataset,
}

impl Coin {
    /// Distinct time points, ascending (empty if iData has no Time column).
    pub fn times(&self) -> Vec<i64> {
        let mut t: Vec<i64> = self.units.iter().filter_map(|u| u.time).collect();
        t.sort_unstable();
        t.dedup();
        t
    }

    /// Whether the coin holds more than one time point (a COINr "purse").
    pub fn is_panel(&self) -> bool {
        self.times().len() > 1
    }

    /// The cross-section at one time point.
    pub fn at_time(&self, time: i64) -> Result<Coin> {
        let rows: Vec<usize> = self
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.time == Some(time))
            .map(|(i, _)| i)
            .collect();
        if rows.is_empty() {
            return Err(IndexError::Spec(format!("no units at time {time}")));
        }
        Ok(self.select_units(&rows))
    }

    /// Keeps the given unit rows.
    pub fn select_units(&self, rows: &[usize]) -> Coin {
        Coin {
            units: rows.iter().map(|&i| self.units[i].clone()).collect(),
            framework: self.framework.clone(),
            data: self.data.select_rows(rows),
            denominators: self.denominators.select_rows(rows),
        }
    }

    /// The group label of every unit for one group column.
    pub fn group_labels(&self, column: &str) -> Result<Vec<String>> {
        self.units
            .iter()
            .map(|u| {
                u.groups
                    .get(column)
                    .cloned()
                    .ok_or_else(|| IndexError::Spec(format!("unknown group column '{column}'")))
            })
            .collect()
    }
}
