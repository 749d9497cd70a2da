//! One serialisable baseline document (`model.json`) for every model kind: flat summary
//! fields (null for absent terms) plus the full fitted model for prediction.

use crate::caltrack::{CaltrackModel, CaltrackSettings, Fuel, ModelType, PeriodKind, fit_caltrack};
use crate::error::{MvError, Result};
use crate::hourly::{TowtModel, TowtSettings, fit_towt};
use crate::metrics::{Ashrae14Flags, CalibrationInterval, ashrae14_flags};
use crate::savings::{SavingsResult, avoided_energy_caltrack, avoided_energy_towt};
use crate::series::{TemperatureReading, UsagePeriod};
use crate::warning::MvWarning;
use serde::{Deserialize, Serialize};

/// Model family requested on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// CalTRACK daily.
    CaltrackDaily,
    /// CalTRACK billing.
    CaltrackBilling,
    /// CalTRACK hourly (TOWT).
    CaltrackHourly,
}

/// The `model.json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineFile {
    /// Method.
    pub method: Method,
    /// `intercept_only`, `hdd_only`, `cdd_only`, `cdd_hdd` or `towt`.
    pub model_type: String,
    /// Fuel.
    pub fuel: Fuel,
    /// Heating balance point, °F.
    pub heating_balance_point: Option<f64>,
    /// Cooling balance point, °F.
    pub cooling_balance_point: Option<f64>,
    /// Intercept (usage per day).
    pub intercept: Option<f64>,
    /// Heating slope (per HDD).
    pub heating_slope: Option<f64>,
    /// Cooling slope (per CDD).
    pub cooling_slope: Option<f64>,
    /// p-value of the heating slope.
    pub heating_p_value: Option<f64>,
    /// p-value of the cooling slope.
    pub cooling_p_value: Option<f64>,
    /// Adjusted R².
    pub r2_adj: Option<f64>,
    /// CV(RMSE).
    pub cvrmse: Option<f64>,
    /// NMBE.
    pub nmbe: Option<f64>,
    /// Observations used.
    pub n: usize,
    /// CalTRACK data sufficiency passed (daily/billing; hourly: no month-coverage warning).
    pub data_sufficiency_pass: bool,
    /// ASHRAE Guideline 14 flags (post-retrofit length assumed < 12 months).
    pub ashrae14: Ashrae14Flags,
    /// Warnings (stable codes).
    pub warnings: Vec<MvWarning>,
    /// Full daily/billing model.
    pub caltrack: Option<CaltrackModel>,
    /// Full hourly model.
    pub towt: Option<TowtModel>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl BaselineFile {
    /// Wraps a CalTRACK daily/billing model.
    pub fn from_caltrack(m: CaltrackModel) -> Self {
        let s = &m.selected;
        let model_type = match s.model_type {
            ModelType::InterceptOnly => "intercept_only",
            ModelType::HddOnly => "hdd_only",
            ModelType::CddOnly => "cdd_only",
            ModelType::CddHdd => "cdd_hdd",
        };
        BaselineFile {
            method: match m.kind {
                PeriodKind::Daily => Method::CaltrackDaily,
                PeriodKind::Billing => Method::CaltrackBilling,
            },
            model_type: model_type.to_string(),
            fuel: m.fuel,
            heating_balance_point: s.heating_balance_point,
            cooling_balance_point: s.cooling_balance_point,
            intercept: finite(s.intercept),
            heating_slope: s.heating_slope,
            cooling_slope: s.cooling_slope,
            heating_p_value: s.heating_p_value,
            cooling_p_value: s.cooling_p_value,
            r2_adj: finite(s.r2_adj),
            cvrmse: finite(m.metrics.cvrmse),
            nmbe: finite(m.metrics.nmbe),
            n: m.n,
            data_sufficiency_pass: m.sufficiency.pass,
            ashrae14: ashrae14_flags(&m.metrics, CalibrationInterval::Monthly, 0.0, None),
            warnings: m.warnings.clone(),
            caltrack: Some(m),
            towt: None,
        }
    }

    /// Wraps an hourly TOWT model.
    pub fn from_towt(m: TowtModel, fuel: Fuel) -> Self {
        BaselineFile {
            method: Method::CaltrackHourly,
            model_type: "towt".to_string(),
            fuel,
            heating_balance_point: None,
            cooling_balance_point: None,
            intercept: None,
            heating_slope: None,
            cooling_slope: None,
            heating_p_value: None,
            cooling_p_value: None,
            r2_adj: None,
            cvrmse: finite(m.metrics.cvrmse),
            nmbe: finite(m.metrics.nmbe),
            n: m.n,
            data_sufficiency_pass: m.warnings.is_empty(),
            ashrae14: ashrae14_flags(&m.metrics, CalibrationInterval::Hourly, 0.0, None),
            warnings: m.warnings.clone(),
            caltrack: None,
            towt: Some(m),
        }
    }

    /// Fits the requested model.
    pub fn fit(
        method: Method,
        fuel: Fuel,
        usage: &[UsagePeriod],
        temps: &[TemperatureReading],
    ) -> Result<Self> {
        Ok(match method {
            Method::CaltrackDaily => {
                Self::from_caltrack(fit_caltrack(usage, temps, &CaltrackSettings::daily(fuel))?)
            }
            Method::CaltrackBilling => Self::from_caltrack(fit_caltrack(
                usage,
                temps,
                &CaltrackSettings::billing(fuel),
            )?),
            Method::CaltrackHourly => {
                Self::from_towt(fit_towt(usage, temps, &TowtSettings::default())?, fuel)
            }
        })
    }

    /// Avoided energy use over reporting usage.
    pub fn savings(
        &self,
        usage: &[UsagePeriod],
        temps: &[TemperatureReading],
    ) -> Result<SavingsResult> {
        match (&self.caltrack, &self.towt) {
            (Some(m), _) => avoided_energy_caltrack(m, usage, temps),
            (None, Some(m)) => avoided_energy_towt(m, usage, temps),
            (None, None) => Err(MvError::config(
                "model",
                "model file has neither a `caltrack` nor a `towt` section",
            )),
        }
    }
}
