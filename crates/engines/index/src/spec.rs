//! The pipeline specification, parsed from `pipeline.toml`: one table per stage.
//! A stage whose table is absent is skipped. See `examples/README-index.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};

/// The whole specification.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// Time point to evaluate when iData is a panel (default: the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominate: Option<DenominateSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impute: Option<ImputeSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<ScreenSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat: Option<TreatSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalise: Option<NormaliseSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightsSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<AggregateSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<UncertaintySpec>,
}

impl PipelineSpec {
    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| IndexError::Spec(e.to_string()))
    }

    /// Serialises back to TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// COINr's example pipeline (`build_example_coin`): denominate, impute by group mean
    /// over `group`, screen at 0.9, winsorise up to 5 points, min-max 0–100, arithmetic mean.
    pub fn coinr_example(group: &str) -> Self {
        PipelineSpec {
            time: None,
            denominate: Some(DenominateSpec::default()),
            impute: Some(ImputeSpec {
                method: ImputeMethod::MeanGroup,
                group: Some(group.to_string()),
                max_time: None,
            }),
            screen: Some(ScreenSpec {
                dat_thresh: 0.9,
                ..ScreenSpec::default()
            }),
            treat: Some(TreatSpec::default()),
            normalise: Some(NormaliseSpec {
                default: Normalisation::Minmax {
                    low: 0.0,
                    high: 100.0,
                },
                indicators: BTreeMap::new(),
            }),
            weights: Some(WeightsSpec::default()),
            aggregate: Some(AggregateSpec::default()),
            uncertainty: None,
        }
    }
}

/// `[denominate]`: divide indicators by a denominator column.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenominateSpec {
    /// Overrides of iMeta's `Denominator` column: indicator code → denominator code
    /// (an empty string means "do not denominate").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by: BTreeMap<String, String>,
}

/// Imputation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImputeMethod {
    /// Column mean (COINr `i_mean`).
    Mean,
    /// Column median (`i_median`).
    Median,
    /// Mean within the unit's group (`i_mean_grp`).
    MeanGroup,
    /// Median within the unit's group (`i_median_grp`).
    MedianGroup,
    /// Panel: last observation carried forward, up to `max_time` points back.
    Latest,
    /// Panel: linear interpolation, constant extrapolation (`approx(rule = 2)`).
    Linear,
    /// Panel: step interpolation, R `approx(method = "constant", rule = 2)`.
    Constant,
}

impl ImputeMethod {
    /// Whether the method uses other time points of the same unit.
    pub fn is_panel(self) -> bool {
        matches!(
            self,
            ImputeMethod::Latest | ImputeMethod::Linear | ImputeMethod::Constant
        )
    }
}

/// `[impute]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImputeSpec {
    pub method: ImputeMethod,
    /// Group column for `mean_group` / `median_group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Panel methods: how many time steps away a donor value may be (default unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time: Option<i64>,
}

/// How units are screened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitScreen {
    /// Drop units whose share of present indicators is below `dat_thresh`.
    #[default]
    ByNa,
    /// Drop units whose share of zeros exceeds `nonzero_thresh`.
    ByZeros,
    /// Both.
    ByNaAndZeros,
}

/// `[screen]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenSpec {
    #[serde(default = "d_066")]
    pub dat_thresh: f64,
    #[serde(default)]
    pub unit_screen: UnitScreen,
    #[serde(default = "d_005")]
    pub nonzero_thresh: f64,
}

fn d_066() -> f64 {
    0.66
}
fn d_005() -> f64 {
    0.05
}

impl Default for ScreenSpec {
    fn default() -> Self {
        ScreenSpec {
            dat_thresh: 0.66,
            unit_screen: UnitScreen::ByNa,
            nonzero_thresh: 0.05,
        }
    }
}

/// Transformation applied when winsorisation does not bring an indicator within limits.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fallback {
    /// ln(x − min + 0.01·(max − min)) (COINr `log_CT`).
    #[default]
    LogCt,
    /// `log_CT` for positive skew, −ln(max + a − x) for negative skew.
    LogCtPlus,
    /// ln(x − min + 1) (`log_CT_orig`).
    LogCtOrig,
    /// Box-Cox with fixed λ on x − min + 1.
    Boxcox { lambda: f64 },
    /// Leave the winsorised values.
    None,
}

/// `[treat]`: JRC skew/kurtosis outlier treatment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreatSpec {
    #[serde(default = "d_winmax")]
    pub winmax: usize,
    #[serde(default = "d_skew")]
    pub skew_thresh: f64,
    #[serde(default = "d_kurt")]
    pub kurt_thresh: f64,
    #[serde(default)]
    pub fallback: Fallback,
    /// Apply the fallback to the winsorised values instead of the original ones.
    #[serde(default)]
    pub combine_treat: bool,
    /// Indicators left untreated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

fn d_winmax() -> usize {
    5
}
fn d_skew() -> f64 {
    2.0
}
fn d_kurt() -> f64 {
    3.5
}

impl Default for TreatSpec {
    fn default() -> Self {
        TreatSpec {
            winmax: 5,
            skew_thresh: 2.0,
            kurt_thresh: 3.5,
            fallback: Fallback::LogCt,
            combine_treat: false,
            exclude: Vec::new(),
        }
    }
}

/// A normalisation method with its parameters (`method = "..."` in TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Normalisation {
    /// (x − min)/(max − min)·(high − low) + low.
    Minmax {
        #[serde(default = "d_0")]
        low: f64,
        #[serde(default = "d_100")]
        high: f64,
    },
    /// (x − mean)/sd·sd' + mean'.
    Zscore {
        #[serde(default = "d_0")]
        mean: f64,
        #[serde(default = "d_1")]
        sd: f64,
    },
    /// (x − a)/(b − a)·100.
    Scaled { a: f64, b: f64 },
    /// (x − lo)/(hi − lo) truncated to [0, 1], × scale.
    Goalposts {
        lo: f64,
        hi: f64,
        #[serde(default = "d_1")]
        scale: f64,
    },
    /// (x − min)/(target − min), target from iMeta; optionally capped at 1.
    Dist2targ {
        #[serde(default)]
        cap_max: bool,
    },
    /// 1 − (x_ref − x)/(x_ref − min): distance to a reference unit.
    Dist2ref {
        ref_unit: String,
        #[serde(default)]
        cap_max: bool,
    },
    /// 1 − (max − x)/(max − min).
    Dist2max,
    /// x / max.
    Fracmax,
    /// Rank, ties = min.
    Rank,
    /// Borda score: rank − 1.
    Borda,
    /// Percentile rank (rank − 1)/(n − 1).
    Prank,
    /// Leave values as they are.
    None,
}

fn d_0() -> f64 {
    0.0
}
fn d_1() -> f64 {
    1.0
}
fn d_100() -> f64 {
    100.0
}

/// `[normalise]`: one method for all indicators, with per-indicator overrides in
/// `[normalise.indicators.CODE]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormaliseSpec {
    #[serde(flatten)]
    pub default: Normalisation,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indicators: BTreeMap<String, Normalisation>,
}

/// Weighting method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightMethod {
    /// iMeta's `Weight` column.
    #[default]
    Meta,
    /// All equal.
    Equal,
    /// Entropy weights (熵权法).
    Entropy,
    /// CRITIC.
    Critic,
    /// Standard deviation.
    Std,
    /// First principal component.
    Pca,
    /// AHP from pairwise matrices given per parent in `[weights.ahp.PARENT]`.
    Ahp,
}

/// An AHP pairwise matrix for the children of one parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AhpMatrix {
    pub codes: Vec<String>,
    pub matrix: Vec<Vec<f64>>,
}

/// `[weights]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsSpec {
    #[serde(default)]
    pub method: WeightMethod,
    /// Levels whose child weights the method computes (default: every level); other
    /// levels keep iMeta's weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<u32>>,
    /// Explicit weights that override everything else: code → weight.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub given: BTreeMap<String, f64>,
    /// AHP matrices by parent code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ahp: BTreeMap<String, AhpMatrix>,
}

/// Aggregation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggMethod {
    /// Weighted arithmetic mean.
    #[default]
    Amean,
    /// Weighted geometric mean (needs x > 0).
    Gmean,
    /// Weighted harmonic mean (needs x ≠ 0).
    Hmean,
    /// Weighted generalised (power) mean with exponent `p`.
    Genmean,
    /// Copeland outranking score.
    Copeland,
    /// Benefit of the doubt (DEA): each unit's most favourable weights.
    Bod,
}

/// Aggregation settings for one level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelAggregate {
    #[serde(default)]
    pub method: AggMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dat_thresh: Option<f64>,
}

/// `[aggregate]`, with per-level overrides in `[aggregate.levels.N]` (N = the level
/// being computed, 2 = first aggregation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateSpec {
    #[serde(default)]
    pub method: AggMethod,
    /// Exponent of `genmean` (default 2).
    #[serde(default = "d_2")]
    pub p: f64,
    /// Minimum share of children present; below it the aggregate is missing.
    #[serde(default)]
    pub dat_thresh: f64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub levels: BTreeMap<String, LevelAggregate>,
}

fn d_2() -> f64 {
    2.0
}

impl Default for AggregateSpec {
    fn default() -> Self {
        AggregateSpec {
            method: AggMethod::Amean,
            p: 2.0,
            dat_thresh: 0.0,
            levels: BTreeMap::new(),
        }
    }
}

impl AggregateSpec {
    /// Settings at one level (overrides merged over the defaults).
    pub fn at_level(&self, level: u32) -> (AggMethod, f64, f64) {
        match self.levels.get(&level.to_string()) {
            Some(l) => (
                l.method,
                l.p.unwrap_or(self.p),
                l.dat_thresh.unwrap_or(self.dat_thresh),
            ),
            None => (self.method, self.p, self.dat_thresh),
        }
    }
}

/// Noisy weights: each weight at the given levels is multiplied by U(1 − noise, 1 + noise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightNoise {
    #[serde(default = "d_025")]
    pub noise: f64,
    /// Levels whose weights are perturbed (the level of the weighted children: 1 =
    /// indicator weights). Default: every level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<u32>>,
    /// Number of alternative weight sets to draw (COINr draws 100).
    #[serde(default = "d_100u")]
    pub n_sets: usize,
}

fn d_025() -> f64 {
    0.25
}
fn d_100u() -> usize {
    100
}

/// `[uncertainty]`: the uncertain methodological choices. Each present key is one
/// uncertain input whose alternatives are equally likely.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UncertaintySpec {
    /// Alternative imputation methods (each may need `group` in `[impute]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impute: Option<Vec<ImputeMethod>>,
    /// Alternative `winmax` values (0 = no winsorisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winmax: Option<Vec<usize>>,
    /// Alternative normalisations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalise: Option<Vec<Normalisation>>,
    /// Alternative aggregation methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Vec<AggMethod>>,
    /// Alternative weighting methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_method: Option<Vec<WeightMethod>>,
    /// Noisy weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightNoise>,
}
