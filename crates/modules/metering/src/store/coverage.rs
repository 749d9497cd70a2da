//! Meter coverage (计量器具配备率) of a unit per energy type and tier, against the GB 17167
//! minimum.

use super::Meter;
use crate::domain;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoverageRow {
    pub energy_type: String,
    /// 0 unit (进出用能单位), 1 sub-unit (次级用能单位), 2 main equipment (主要用能设备).
    pub tier: usize,
    pub installed: i64,
    pub required: i64,
    /// installed / required × 100.
    pub rate: f64,
    /// GB 17167-2006 minimum for this energy type and tier.
    pub required_rate: f64,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub rows: Vec<CoverageRow>,
    /// Installed / required over all tiers and energy types, %.
    pub overall: Option<f64>,
    /// Every row meets its GB 17167 rate.
    pub compliant: bool,
}

/// The 配备率 of a unit: installed meters / meters required (installed + planned) per energy
/// type and tier, against the GB 17167 minimum.
pub fn coverage_of(ms: &[Meter]) -> Coverage {
    let mut acc: BTreeMap<(String, usize), (i64, i64)> = BTreeMap::new();
    for m in ms.iter().filter(|m| m.status != "virtual") {
        let e = acc
            .entry((m.energy_type.clone(), domain::tier(&m.level)))
            .or_default();
        e.1 += 1;
        if m.status == "installed" {
            e.0 += 1;
        }
    }
    let (mut inst, mut req) = (0, 0);
    let rows: Vec<CoverageRow> = acc
        .into_iter()
        .map(|((et, tier), (i, r))| {
            inst += i;
            req += r;
            let rq = domain::gb17167_required(&et);
            let need = [rq.0, rq.1, rq.2][tier.min(2)];
            let rate = if r > 0 {
                i as f64 / r as f64 * 100.0
            } else {
                100.0
            };
            CoverageRow {
                energy_type: et,
                tier,
                installed: i,
                required: r,
                rate,
                required_rate: need,
                ok: rate + 1e-9 >= need,
            }
        })
        .collect();
    Coverage {
        compliant: rows.iter().all(|r| r.ok),
        overall: (req > 0).then(|| inst as f64 / req as f64 * 100.0),
        rows,
    }
}
