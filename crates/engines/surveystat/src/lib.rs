//! qcity-surveystat: the survey-statistics engine of the citizen quality-satisfaction survey
//! (市民质量满意度测评). A pure library: weighting (post-stratification, raking, GREG
//! calibration, Kish design effects), design-based estimation with Taylor-linearisation
//! standard errors, 0–100 satisfaction scores, PLS-SEM satisfaction-index models with bootstrap,
//! importance–performance analysis and year-on-year change tests.

// Negated comparisons deliberately treat NaN as invalid input; numeric kernels index in lockstep.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::needless_range_loop)]

pub mod change;
pub mod error;
pub mod estimate;
mod linalg;
pub mod pls;
mod quantiles;
pub mod score;
pub mod table;
pub mod weighting;

pub use change::{IndexChange, index_change};
pub use error::{Result, SurveyError};
pub use estimate::{Design, Estimate, estimate, estimate_by, proportions};
pub use pls::{
    BootstrapOptions, ItemData, PlsModel, PlsOptions, PlsResult, Scheme, SignChange, estimate_pls,
};
pub use score::{ItemScore, ScoreConversion, item_score};
pub use table::Table;
pub use weighting::{
    Calibrated, Margin, RakeOptions, WeightSummary, calibrate_linear,
    calibrate_linear_heteroscedastic, kish, post_stratify, rake,
};
