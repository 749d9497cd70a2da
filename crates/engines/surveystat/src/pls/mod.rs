//! PLS-SEM customer-satisfaction models (顾客满意度指数模型, ACSI / ECSI / CCSI style):
//! estimation, quality criteria, bootstrap, 0–100 construct indices and importance–performance.

pub mod algorithm;
pub mod bootstrap;
pub mod ipma;
pub mod model;
pub mod quality;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Result, SurveyError};
use crate::table::Table;

pub use algorithm::AlgorithmOptions;
pub use bootstrap::{BootStat, BootstrapOptions, SignChange};
pub use ipma::{Ipma, IpmaPoint, Quadrant};
pub use model::{Construct, Mode, PlsModel, Scheme};
pub use quality::Reliability;

use algorithm::{Layout, correlation_counts, moments};

/// Item data for a model: one column per model item, in model order, no missing values.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemData {
    names: Vec<String>,
    n: usize,
    /// Row-major values (n × p).
    rows: Vec<f64>,
    columns: Vec<Vec<f64>>,
}

impl ItemData {
    /// Pick the model's items from a table; an empty or non-numeric cell is an error naming the
    /// line and column (PLS needs complete data).
    pub fn from_table(table: &Table, model: &PlsModel) -> Result<Self> {
        let names: Vec<String> = model.items().iter().map(|s| s.to_string()).collect();
        let columns = names
            .iter()
            .map(|n| table.numeric(n))
            .collect::<Result<Vec<_>>>()?;
        Self::new(names, columns)
    }

    /// Build from named columns (model order).
    pub fn new(names: Vec<String>, columns: Vec<Vec<f64>>) -> Result<Self> {
        let n = columns.first().map_or(0, Vec::len);
        if columns.iter().any(|c| c.len() != n) || names.len() != columns.len() {
            return Err(SurveyError::Spec("item columns differ in length".into()));
        }
        if n < 3 {
            return Err(SurveyError::Spec(format!(
                "PLS needs at least 3 respondents, got {n}"
            )));
        }
        let p = columns.len();
        let mut rows = vec![0.0; n * p];
        for (c, col) in columns.iter().enumerate() {
            for (i, v) in col.iter().enumerate() {
                rows[i * p + c] = *v;
            }
        }
        Ok(Self {
            names,
            n,
            rows,
            columns,
        })
    }

    /// Number of respondents.
    pub fn n(&self) -> usize {
        self.n
    }

    pub(crate) fn correlation(&self) -> Result<Vec<f64>> {
        correlation_counts(&self.rows, self.n, self.names.len(), &vec![1; self.n])
    }
}

/// Options of [`estimate_pls`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlsOptions {
    /// Algorithm settings (scheme, tolerance 1e-7, iteration cap).
    pub algorithm: AlgorithmOptions,
    /// Bootstrap settings, if wanted.
    pub bootstrap: Option<BootstrapOptions>,
    /// Target construct of the importance–performance analysis (default: the final outcome
    /// with the most antecedents).
    pub ipma_target: Option<String>,
}

/// One structural path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathResult {
    /// Source construct.
    pub from: String,
    /// Target construct.
    pub to: String,
    /// Standardised path coefficient.
    pub coefficient: f64,
    /// Effect size f².
    pub f2: f64,
    /// Inner-model VIF of `from` among the predictors of `to`.
    pub vif: f64,
    /// Bootstrap summary, when bootstrapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootStat>,
}

/// One item of the measurement model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemResult {
    /// Construct of the item.
    pub construct: String,
    /// Item name.
    pub item: String,
    /// Outer weight (construct score variance 1).
    pub weight: f64,
    /// Loading: correlation of the item with its construct.
    pub loading: f64,
    /// Outer VIF (formative blocks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vif: Option<f64>,
    /// Bootstrap summary of the weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_bootstrap: Option<BootStat>,
    /// Bootstrap summary of the loading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loading_bootstrap: Option<BootStat>,
}

/// A total effect between two constructs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    /// Source construct.
    pub from: String,
    /// Target construct.
    pub to: String,
    /// Standardised total effect.
    pub value: f64,
    /// Bootstrap summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootStat>,
}

/// HTMT of a pair of constructs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HtmtPair {
    /// First construct.
    pub a: String,
    /// Second construct.
    pub b: String,
    /// Heterotrait–monotrait ratio.
    pub value: f64,
}

/// Everything a PLS run produces (the `res.json` of `qcity survey pls`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlsResult {
    /// Inner weighting scheme used.
    pub scheme: Scheme,
    /// Respondents.
    pub n: usize,
    /// Iterations of the PLS algorithm.
    pub iterations: usize,
    /// Structural paths.
    pub paths: Vec<PathResult>,
    /// R² of every endogenous construct.
    pub r2: BTreeMap<String, f64>,
    /// Adjusted R²: 1 − (1 − R²)(n − 1)/(n − k − 1).
    pub adj_r2: BTreeMap<String, f64>,
    /// Outer weights and loadings.
    pub items: Vec<ItemResult>,
    /// Cross-loadings: item → construct → correlation.
    pub cross_loadings: BTreeMap<String, BTreeMap<String, f64>>,
    /// Reliability per construct.
    pub reliability: BTreeMap<String, Reliability>,
    /// HTMT per pair of multi-item constructs.
    pub htmt: Vec<HtmtPair>,
    /// ACSI-style 0–100 construct indices.
    pub indices: BTreeMap<String, f64>,
    /// The 0–100 conversion behind each index (linear on the block's answer scale).
    pub index_conversion: BTreeMap<String, crate::score::ScoreConversion>,
    /// Total effects (non-zero ones).
    pub total_effects: Vec<Effect>,
    /// Importance–performance analysis.
    pub ipma: Option<Ipma>,
    /// Bootstrap resamples used and failed (not converged / singular), if bootstrapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<bootstrap::BootstrapInfo>,
    /// Threshold flags and fallbacks.
    pub warnings: Vec<String>,
    /// Every respondent's 0–100 construct score (the index is their mean); not serialised.
    /// Feed them to [`crate::estimate::estimate`] for a design-based SE and CI of an index.
    #[serde(skip)]
    pub scores_0_100: BTreeMap<String, Vec<f64>>,
}

/// Estimate a PLS path model on `data` (items standardised with n − 1).
pub fn estimate_pls(data: &ItemData, model: &PlsModel, opts: &PlsOptions) -> Result<PlsResult> {
    let lay = Layout::new(model);
    if lay.p != data.names.len() {
        return Err(SurveyError::Spec("item data do not match the model".into()));
    }
    let s = data.correlation()?;
    let core = algorithm::run(&s, &lay, &opts.algorithm)?;
    let k = lay.k();
    let n = data.n;
    let cs = model.constructs();
    let mut warnings = Vec::new();

    let boot = match &opts.bootstrap {
        Some(b) => Some(bootstrap::run(data, &lay, &core, &opts.algorithm, b)?),
        None => None,
    };
    let total = core.total_effects(k);

    let mut paths = Vec::new();
    for (pi, &(f, t)) in lay.paths.iter().enumerate() {
        let vifs = quality::inner_vif(&core, &lay, t)?;
        let pos = lay.preds[t].iter().position(|&x| x == f).unwrap_or(0);
        let vif = vifs.get(pos).copied().unwrap_or(1.0);
        if vif >= 5.0 {
            warnings.push(format!(
                "VIF of {} → {} is {vif:.2} (≥ 5: collinearity)",
                cs[f].name, cs[t].name
            ));
        }
        paths.push(PathResult {
            from: cs[f].name.clone(),
            to: cs[t].name.clone(),
            coefficient: core.b[f * k + t],
            f2: quality::f_squared(&s, model, &lay, &core, &opts.algorithm, f, t)?,
            vif,
            bootstrap: boot.as_ref().map(|b| b.paths[pi].clone()),
        });
    }
    let mut r2 = BTreeMap::new();
    let mut adj_r2 = BTreeMap::new();
    for j in 0..k {
        let q = lay.preds[j].len();
        if q > 0 {
            r2.insert(cs[j].name.clone(), core.r2[j]);
            adj_r2.insert(
                cs[j].name.clone(),
                1.0 - (1.0 - core.r2[j]) * (n as f64 - 1.0) / (n as f64 - q as f64 - 1.0),
            );
        }
    }
    let item_names = model.items();
    let mut items = Vec::new();
    for j in 0..k {
        let ovif = match lay.modes[j] {
            Mode::B => {
                let v = quality::outer_vif(&s, &lay, j)?;
                for (x, &h) in v.iter().zip(&lay.blocks[j]) {
                    if *x >= 5.0 {
                        warnings.push(format!("outer VIF of {} is {x:.2} (≥ 5)", item_names[h]));
                    }
                }
                Some(v)
            }
            Mode::A => None,
        };
        for (x, &h) in lay.blocks[j].iter().enumerate() {
            items.push(ItemResult {
                construct: cs[j].name.clone(),
                item: item_names[h].to_string(),
                weight: core.w[h],
                loading: core.loading(&lay, h),
                vif: ovif.as_ref().map(|v| v[x]),
                weight_bootstrap: boot.as_ref().map(|b| b.weights[h].clone()),
                loading_bootstrap: boot.as_ref().map(|b| b.loadings[h].clone()),
            });
        }
    }
    let mut cross_loadings = BTreeMap::new();
    for (h, name) in item_names.iter().enumerate() {
        let row: BTreeMap<String, f64> = (0..k)
            .map(|j| (cs[j].name.clone(), core.cross[h * k + j]))
            .collect();
        cross_loadings.insert(name.to_string(), row);
    }
    let mut reliability = BTreeMap::new();
    for j in 0..k {
        let r = quality::reliability(&s, &lay, &core, j);
        if lay.blocks[j].len() > 1 && lay.modes[j] == Mode::A {
            for (what, v, min) in [
                ("Cronbach's α", r.alpha, 0.7),
                ("ρA", r.rho_a, 0.7),
                ("ρC", r.rho_c, 0.7),
                ("AVE", r.ave, 0.5),
            ] {
                if v < min {
                    warnings.push(format!("{}: {what} = {v:.3} below {min}", cs[j].name));
                }
            }
        }
        reliability.insert(cs[j].name.clone(), r);
    }
    let mut htmt = Vec::new();
    for i in 0..k {
        for j in i + 1..k {
            if let Some(v) = quality::htmt(&s, &lay, i, j) {
                if v >= 0.9 {
                    warnings.push(format!(
                        "HTMT {}–{} = {v:.3} ≥ 0.90 (liberal threshold)",
                        cs[i].name, cs[j].name
                    ));
                } else if v >= 0.85 {
                    warnings.push(format!(
                        "HTMT {}–{} = {v:.3} ≥ 0.85 (strict threshold)",
                        cs[i].name, cs[j].name
                    ));
                }
                htmt.push(HtmtPair {
                    a: cs[i].name.clone(),
                    b: cs[j].name.clone(),
                    value: v,
                });
            }
        }
    }
    let mut total_effects = Vec::new();
    for f in 0..k {
        for t in 0..k {
            let v = total[f * k + t];
            if f != t && v != 0.0 {
                total_effects.push(Effect {
                    from: cs[f].name.clone(),
                    to: cs[t].name.clone(),
                    value: v,
                    bootstrap: boot
                        .as_ref()
                        .and_then(|b| b.total_effects[f * k + t].clone()),
                });
            }
        }
    }
    let scores = ipma::scores_0_100(data, model, &lay, &core, &mut warnings)?;
    let indices = cs
        .iter()
        .zip(&scores.index)
        .map(|(c, v)| (c.name.clone(), *v))
        .collect();
    let ipma = ipma::analyse(model, &lay, &total, &scores, opts.ipma_target.as_deref())?;
    let index_conversion = cs
        .iter()
        .zip(&scores.scales)
        .map(|(c, &(min, max))| {
            (
                c.name.clone(),
                crate::score::ScoreConversion::Linear { min, max },
            )
        })
        .collect();
    let scores_0_100 = cs
        .iter()
        .zip(scores.per_respondent)
        .map(|(c, v)| (c.name.clone(), v))
        .collect();
    Ok(PlsResult {
        scheme: opts.algorithm.scheme,
        n,
        iterations: core.iterations,
        paths,
        r2,
        adj_r2,
        items,
        cross_loadings,
        reliability,
        htmt,
        indices,
        index_conversion,
        total_effects,
        ipma,
        bootstrap: boot.map(|b| b.info),
        warnings,
        scores_0_100,
    })
}

pub(crate) fn data_moments(data: &ItemData) -> (Vec<f64>, Vec<f64>) {
    moments(&data.columns)
}

pub(crate) fn data_columns(data: &ItemData) -> &[Vec<f64>] {
    &data.columns
}

pub(crate) fn data_rows(data: &ItemData) -> (&[f64], usize, usize) {
    (&data.rows, data.n, data.names.len())
}
