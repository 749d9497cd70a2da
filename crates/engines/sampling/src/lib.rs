//! qcity-sampling: acceptance sampling by attributes for product-quality supervision
//! (产品质量监督抽查). A pure library (no IO): ISO 2859-1 / GB/T 2828.1 code letters and single
//! sampling plans ([`tables`]), the switching rules ([`switching`]), OC curves and
//! zero-acceptance plans ([`oc`]), and supervision verdicts against a declared quality level,
//! kept apart from acceptance ([`supervision`]).
//!
//! Every table cell and rule says in its doc comment whether it is confirmed in a public
//! source [V] or derived / unconfirmed [M].

pub mod error;
pub mod oc;
pub mod supervision;
pub mod switching;
pub mod tables;

pub use error::{Result, SamplingError};
pub use oc::{
    Model, binomial_pa, hypergeometric_pa, p_at_pa, pa, poisson_pa, zero_acceptance,
    zero_acceptance_finite,
};
pub use supervision::{SupervisionPlan, SupervisionVerdict, limit_number};
pub use switching::{LotOutcome, State, Switching, run_history};
pub use tables::{Letter, Level, Severity, SinglePlan, code_letter, plan_for_letter, single_plan};
