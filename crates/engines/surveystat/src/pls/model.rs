//! The PLS path model (结构方程模型): constructs with their items and measurement mode, and the
//! structural paths; parsed from the `model.toml` format of `qcity survey pls`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Result, SurveyError};

/// Measurement mode of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Mode {
    /// Reflective: correlation weights `w = cov(x, Z)`.
    A,
    /// Formative: regression weights `w = R_xx⁻¹ r_xZ`.
    B,
}

/// Inner weighting scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Sign of the correlation between adjacent constructs.
    Centroid,
    /// Correlation between adjacent constructs.
    Factorial,
    /// Regression weights for predecessors, correlations for successors (SmartPLS default).
    Path,
}

impl std::str::FromStr for Scheme {
    type Err = SurveyError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "centroid" => Ok(Self::Centroid),
            "factorial" => Ok(Self::Factorial),
            "path" => Ok(Self::Path),
            other => Err(SurveyError::Spec(format!(
                "unknown scheme `{other}` (expected path, factorial or centroid)"
            ))),
        }
    }
}

/// One construct (latent variable) and its block of items.
#[derive(Debug, Clone, PartialEq)]
pub struct Construct {
    /// Construct name.
    pub name: String,
    /// Item (column) names.
    pub items: Vec<String>,
    /// Measurement mode.
    pub mode: Mode,
    /// Common answer scale `[min, max]` of the items, for 0–100 indices (optional).
    pub scale: Option<(f64, f64)>,
}

/// A validated PLS path model.
#[derive(Debug, Clone, PartialEq)]
pub struct PlsModel {
    constructs: Vec<Construct>,
    /// `(from, to)` construct indices.
    paths: Vec<(usize, usize)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConstruct {
    items: Vec<String>,
    #[serde(default = "default_mode")]
    mode: Mode,
    scale: Option<[f64; 2]>,
}

fn default_mode() -> Mode {
    Mode::A
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPath {
    from: OneOrMany,
    to: OneOrMany,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    constructs: toml::Table,
    #[serde(default)]
    paths: Vec<RawPath>,
}

impl PlsModel {
    /// Build and validate a model: unique construct and item names, known path ends, no cycles.
    pub fn new(constructs: Vec<Construct>, paths: Vec<(String, String)>) -> Result<Self> {
        let mut seen_items = BTreeMap::new();
        for (j, c) in constructs.iter().enumerate() {
            if constructs[..j].iter().any(|o| o.name == c.name) {
                return Err(SurveyError::Spec(format!(
                    "construct `{}` defined twice",
                    c.name
                )));
            }
            if c.items.is_empty() {
                return Err(SurveyError::Spec(format!(
                    "construct `{}` has no items",
                    c.name
                )));
            }
            for it in &c.items {
                if let Some(prev) = seen_items.insert(it.clone(), c.name.clone()) {
                    return Err(SurveyError::Spec(format!(
                        "item `{it}` is in both `{prev}` and `{}`",
                        c.name
                    )));
                }
            }
            if let Some((lo, hi)) = c.scale
                && !(hi > lo)
            {
                return Err(SurveyError::Spec(format!(
                    "construct `{}`: scale [{lo}, {hi}] is empty",
                    c.name
                )));
            }
        }
        let find = |n: &str| {
            constructs
                .iter()
                .position(|c| c.name == n)
                .ok_or_else(|| SurveyError::Spec(format!("path uses unknown construct `{n}`")))
        };
        let mut idx = Vec::new();
        for (f, t) in &paths {
            let (a, b) = (find(f)?, find(t)?);
            if a == b {
                return Err(SurveyError::Spec(format!("path from `{f}` to itself")));
            }
            if !idx.contains(&(a, b)) {
                idx.push((a, b));
            }
        }
        let m = Self {
            constructs,
            paths: idx,
        };
        m.topological_order()?;
        Ok(m)
    }

    /// Parse `model.toml`: `[constructs.NAME] items = [...] mode = "A"|"B"` (optional
    /// `scale = [min, max]`) and `[[paths]] from = "NAME" to = ["NAME", ...]`.
    /// Constructs keep the order of the file.
    pub fn from_toml(label: &str, text: &str) -> Result<Self> {
        let raw: RawModel = toml::from_str(text).map_err(|e| SurveyError::Malformed {
            source_label: label.to_string(),
            message: e.to_string(),
        })?;
        let mut constructs = Vec::new();
        // toml::Table keeps keys sorted; recover file order from the text.
        let mut names: Vec<&String> = raw.constructs.keys().collect();
        names.sort_by_key(|n| {
            text.find(&format!("[constructs.{n}]"))
                .or_else(|| text.find(&format!("[constructs.\"{n}\"]")))
                .unwrap_or(usize::MAX)
        });
        for name in names {
            let v = raw.constructs[name].clone();
            let c: RawConstruct =
                v.try_into()
                    .map_err(|e: toml::de::Error| SurveyError::Malformed {
                        source_label: label.to_string(),
                        message: format!("constructs.{name}: {e}"),
                    })?;
            constructs.push(Construct {
                name: name.clone(),
                items: c.items,
                mode: c.mode,
                scale: c.scale.map(|[a, b]| (a, b)),
            });
        }
        let many = |x: OneOrMany| match x {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        };
        let mut paths = Vec::new();
        for p in raw.paths {
            let froms = many(p.from);
            let tos = many(p.to);
            for f in &froms {
                for t in &tos {
                    paths.push((f.clone(), t.clone()));
                }
            }
        }
        Self::new(constructs, paths).map_err(|e| match e {
            SurveyError::Spec(m) => SurveyError::Malformed {
                source_label: label.to_string(),
                message: m,
            },
            other => other,
        })
    }

    /// Constructs in model order.
    pub fn constructs(&self) -> &[Construct] {
        &self.constructs
    }

    /// Structural paths as `(from, to)` construct indices.
    pub fn paths(&self) -> &[(usize, usize)] {
        &self.paths
    }

    /// Index of a construct by name.
    pub fn construct_index(&self, name: &str) -> Option<usize> {
        self.constructs.iter().position(|c| c.name == name)
    }

    /// All items in model order (block after block).
    pub fn items(&self) -> Vec<&str> {
        self.constructs
            .iter()
            .flat_map(|c| c.items.iter().map(String::as_str))
            .collect()
    }

    /// Predecessors of construct `j`.
    pub fn predecessors(&self, j: usize) -> Vec<usize> {
        self.paths
            .iter()
            .filter(|p| p.1 == j)
            .map(|p| p.0)
            .collect()
    }

    /// Constructs in an order where every path goes forward; error on a cycle.
    pub fn topological_order(&self) -> Result<Vec<usize>> {
        let k = self.constructs.len();
        let mut indeg = vec![0usize; k];
        for &(_, t) in &self.paths {
            indeg[t] += 1;
        }
        let mut order = Vec::with_capacity(k);
        let mut ready: Vec<usize> = (0..k).filter(|&j| indeg[j] == 0).collect();
        while let Some(j) = ready.pop() {
            order.push(j);
            for &(f, t) in &self.paths {
                if f == j {
                    indeg[t] -= 1;
                    if indeg[t] == 0 {
                        ready.push(t);
                    }
                }
            }
        }
        if order.len() != k {
            return Err(SurveyError::Spec("the structural model has a cycle".into()));
        }
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_issue_format_and_keeps_file_order() {
        let m = PlsModel::from_toml(
            "model.toml",
            r#"
[constructs.Image]
items = ["IMAG1", "IMAG2"]
mode = "A"
[constructs.Expectation]
items = ["CUEX1"]
mode = "B"
[[paths]]
from = "Image"
to = ["Expectation"]
"#,
        )
        .unwrap();
        assert_eq!(m.constructs()[0].name, "Image");
        assert_eq!(m.constructs()[1].mode, Mode::B);
        assert_eq!(m.paths(), &[(0, 1)]);
    }

    #[test]
    fn cycles_and_unknown_names_are_refused() {
        let c = |n: &str, i: &str| Construct {
            name: n.into(),
            items: vec![i.into()],
            mode: Mode::A,
            scale: None,
        };
        assert!(
            PlsModel::new(
                vec![c("a", "x"), c("b", "y")],
                vec![("a".into(), "b".into()), ("b".into(), "a".into())]
            )
            .is_err()
        );
        assert!(PlsModel::new(vec![c("a", "x")], vec![("a".into(), "z".into())]).is_err());
    }
}
