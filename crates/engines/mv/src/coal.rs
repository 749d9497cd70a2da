//! Standard-coal conversion (折标准煤) with the GB/T 2589 factor table as versioned,
//! editable data (`data/gbt2589.toml`, embedded with `include_str!`).

use crate::error::{MvError, Result};
use serde::{Deserialize, Serialize};

/// The factor table shipped with the crate.
pub const BUILTIN_TABLE: &str = include_str!("../data/gbt2589.toml");

/// One energy type's factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoalFactor {
    /// Stable id, e.g. `raw_coal`.
    pub id: String,
    /// Chinese name (the users' word).
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Physical unit of the quantity.
    pub unit: String,
    /// kgce per unit.
    pub kgce_per_unit: f64,
    /// `verified` or `verify`.
    pub status: String,
    /// Where the number comes from.
    pub source: String,
}

/// A versioned factor table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoalFactorTable {
    /// Version label recorded in every result.
    pub version: String,
    /// kJ per kgce (29 307).
    pub kj_per_kgce: f64,
    /// Factors.
    pub energy: Vec<CoalFactor>,
}

/// Which electricity factor a conversion used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectricityBasis {
    /// 当量值: the heat content of electricity, 0.1229 kgce/kWh.
    Equivalent,
    /// 等价值: the coal burnt to generate it (the year's supply coal rate).
    EqualValue,
}

/// A conversion result; it always records the factor, table version and electricity basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoalResult {
    /// Energy id converted.
    pub energy_id: String,
    /// Quantity in the energy's unit.
    pub quantity: f64,
    /// Unit.
    pub unit: String,
    /// Factor used, kgce/unit.
    pub kgce_per_unit: f64,
    /// Result, kgce.
    pub kgce: f64,
    /// Result, tce.
    pub tce: f64,
    /// Electricity basis (for electricity only).
    pub electricity_basis: Option<ElectricityBasis>,
    /// Factor table version.
    pub table_version: String,
}

impl CoalFactorTable {
    /// The built-in table.
    pub fn builtin() -> Result<Self> {
        Self::parse("gbt2589.toml", BUILTIN_TABLE)
    }

    /// Parses and checks a table from TOML text.
    pub fn parse(label: &str, text: &str) -> Result<Self> {
        let t: CoalFactorTable = toml::from_str(text).map_err(|e| MvError::FactorTable {
            source_label: label.to_string(),
            message: e.to_string(),
        })?;
        for (i, f) in t.energy.iter().enumerate() {
            if !(f.kgce_per_unit.is_finite() && f.kgce_per_unit > 0.0) {
                return Err(MvError::FactorTable {
                    source_label: label.to_string(),
                    message: format!("energy #{} `{}`: kgce_per_unit must be > 0", i + 1, f.id),
                });
            }
            if t.energy[..i].iter().any(|g| g.id == f.id) {
                return Err(MvError::FactorTable {
                    source_label: label.to_string(),
                    message: format!("energy #{} `{}`: duplicate id", i + 1, f.id),
                });
            }
        }
        for id in ["electricity_equivalent", "electricity_equal_value"] {
            if !t.energy.iter().any(|f| f.id == id) {
                return Err(MvError::FactorTable {
                    source_label: label.to_string(),
                    message: format!("missing `{id}`"),
                });
            }
        }
        Ok(t)
    }

    /// Looks up a factor.
    pub fn factor(&self, id: &str) -> Result<&CoalFactor> {
        self.energy
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(|| MvError::UnknownEnergy(id.to_string()))
    }

    /// Replaces the equal-value electricity factor (the year's supply coal rate, kgce/kWh).
    pub fn with_equal_value(mut self, kgce_per_kwh: f64, source: &str) -> Result<Self> {
        if !(kgce_per_kwh.is_finite() && kgce_per_kwh > 0.0) {
            return Err(MvError::config("equal_value", "must be > 0"));
        }
        for f in &mut self.energy {
            if f.id == "electricity_equal_value" {
                f.kgce_per_unit = kgce_per_kwh;
                f.source = source.to_string();
            }
        }
        self.version = format!("{} + equal value {kgce_per_kwh} ({source})", self.version);
        Ok(self)
    }

    fn result(&self, f: &CoalFactor, quantity: f64, basis: Option<ElectricityBasis>) -> CoalResult {
        let kgce = quantity * f.kgce_per_unit;
        CoalResult {
            energy_id: f.id.clone(),
            quantity,
            unit: f.unit.clone(),
            kgce_per_unit: f.kgce_per_unit,
            kgce,
            tce: kgce / 1000.0,
            electricity_basis: basis,
            table_version: self.version.clone(),
        }
    }

    /// Converts electricity (kWh) with the chosen basis.
    pub fn electricity(&self, kwh: f64, basis: ElectricityBasis) -> Result<CoalResult> {
        let id = match basis {
            ElectricityBasis::Equivalent => "electricity_equivalent",
            ElectricityBasis::EqualValue => "electricity_equal_value",
        };
        Ok(self.result(self.factor(id)?, kwh, Some(basis)))
    }

    /// Converts a non-electric energy by id.
    pub fn convert(&self, id: &str, quantity: f64) -> Result<CoalResult> {
        let f = self.factor(id)?;
        let basis = match id {
            "electricity_equivalent" => Some(ElectricityBasis::Equivalent),
            "electricity_equal_value" => Some(ElectricityBasis::EqualValue),
            _ => None,
        };
        Ok(self.result(f, quantity, basis))
    }

    /// kgce from a measured lower heating value: `Q / 29 307` per unit (GB/T 2589 §8).
    pub fn from_heating_value(&self, quantity: f64, lhv_kj_per_unit: f64) -> f64 {
        quantity * lhv_kj_per_unit / self.kj_per_kgce
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses() {
        let t = CoalFactorTable::builtin().unwrap();
        assert!(t.energy.len() >= 15);
    }

    // Brewery worked example (domain brief §5, the speech's case): 11.05 GWh × 0.1229
    // kgce/kWh = 1 358 tce (equivalent value); 43 000 t raw coal × 0.7143 ≈ 30 700 tce.
    #[test]
    fn brewery_worked_example() {
        let t = CoalFactorTable::builtin().unwrap();
        let e = t
            .electricity(11.05e6, ElectricityBasis::Equivalent)
            .unwrap();
        assert_eq!(e.tce.round(), 1358.0);
        assert_eq!(e.electricity_basis, Some(ElectricityBasis::Equivalent));
        let c = t.convert("raw_coal", 43_000_000.0).unwrap();
        assert_eq!((c.tce / 100.0).round() * 100.0, 30_700.0);
    }

    // 1 kgce = 7 000 kcal = 29 307 kJ: raw coal 5 000 kcal/kg = 20 934 kJ/kg → 0.7143.
    #[test]
    fn heating_value_rule() {
        let t = CoalFactorTable::builtin().unwrap();
        let k = t.from_heating_value(1.0, 5000.0 * 4.1868);
        assert!((k - 0.7143).abs() < 1e-4);
    }

    #[test]
    fn equal_value_override_is_recorded() {
        let t = CoalFactorTable::builtin()
            .unwrap()
            .with_equal_value(0.3, "2024 supply coal rate")
            .unwrap();
        let e = t.electricity(1000.0, ElectricityBasis::EqualValue).unwrap();
        assert_eq!(e.kgce, 300.0);
        assert!(e.table_version.contains("0.3"));
    }

    #[test]
    fn bad_table_rejected() {
        let e = CoalFactorTable::parse("x.toml", "version='x'\nkj_per_kgce=1.0\nenergy=[]\n")
            .unwrap_err();
        assert!(e.to_string().contains("missing `electricity_equivalent`"));
    }
}
