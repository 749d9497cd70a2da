//! Supervision sampling against a declared quality level (DQL), in the style of GB/T 2828.4
//! (= ISO 2859-4) and GB/T 2828.11: the verdict is 否定 (the declared quality is contradicted)
//! or 不否定 (not contradicted). It is a separate type from lot acceptance on purpose:
//! supervision sampling only ever judges that a population does **not** meet a requirement and
//! never certifies a lot as conforming (GB/T 28863-2012 [V]).
//!
//! The standards' plan tables are not reproduced [M]: [`limit_number`] derives the limiting
//! number L from the binomial model so that a population exactly at the DQL is contradicted
//! with probability ≤ α (ISO 2859-4 levels I–III use α ≤ 5 %). Hand-enter the tabled L when the
//! standard's plan must be used.

use crate::error::{Result, SamplingError};
use crate::oc::binomial_pa;
use serde::Serialize;

/// Outcome of a supervision sample. Deliberately has no "accepted"/"conforming" variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionVerdict {
    /// 否定: more nonconforming items than the limiting number; the DQL is contradicted.
    Rejected,
    /// 不否定: the sample does not contradict the DQL (which is not a certificate of conformity).
    NotRejected,
}

impl SupervisionVerdict {
    /// The Chinese term used in reports (否定 / 不否定).
    pub fn zh(self) -> &'static str {
        match self {
            SupervisionVerdict::Rejected => "否定",
            SupervisionVerdict::NotRejected => "不否定",
        }
    }
}

/// A supervision sampling plan: sample size and limiting number L (contradict when d > L).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SupervisionPlan {
    pub n: u32,
    pub limit: u32,
}

impl SupervisionPlan {
    /// The verdict for `nonconforming` items found in the sample.
    pub fn verdict(&self, nonconforming: u32) -> Result<SupervisionVerdict> {
        if nonconforming > self.n {
            return Err(SamplingError::arg(
                "nonconforming",
                format!("{nonconforming} exceeds the sample of {}", self.n),
            ));
        }
        Ok(if nonconforming > self.limit {
            SupervisionVerdict::Rejected
        } else {
            SupervisionVerdict::NotRejected
        })
    }
}

/// Smallest L such that P(d > L | p = dql) ≤ α for a sample of n (binomial) [M].
pub fn limit_number(n: u32, dql: f64, alpha: f64) -> Result<SupervisionPlan> {
    if n == 0 {
        return Err(SamplingError::arg("n", "a sample has at least 1 item"));
    }
    if !(dql > 0.0 && dql < 1.0) {
        return Err(SamplingError::arg(
            "dql",
            format!("{dql} is not a fraction in (0, 1)"),
        ));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(SamplingError::arg(
            "alpha",
            format!("{alpha} is not in (0, 1)"),
        ));
    }
    for limit in 0..n {
        if 1.0 - binomial_pa(n, limit, dql)? <= alpha {
            return Ok(SupervisionPlan { n, limit });
        }
    }
    Ok(SupervisionPlan { n, limit: n })
}
