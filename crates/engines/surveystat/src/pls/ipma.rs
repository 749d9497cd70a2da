//! ACSI-style 0–100 construct indices and importance–performance map analysis (IPMA, 四分图;
//! Martilla & James 1977; Ringle & Sarstedt 2016).
//!
//! Indices: unstandardised weights `w_h / sd_h`, normed to sum 1, applied to item means
//! rescaled `(x̄ − min)/(max − min) × 100` (Fornell et al. 1996; cSEM `doIPMA`). Importance of a
//! construct = its standardised total effect on the target × sd(target 0–100 score) / sd(own
//! 0–100 score) (the unstandardised total effect when the block's items share one scale);
//! importance of an item = its relative weight × the importance of its construct.

use serde::Serialize;

use crate::error::{Result, SurveyError};
use crate::pls::algorithm::{Core, Layout};
use crate::pls::model::PlsModel;
use crate::pls::{ItemData, data_columns, data_moments};

/// Quadrant of the importance–performance grid (crosshairs at the means by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// High importance, low performance: 重点改进区.
    ConcentrateHere,
    /// High importance, high performance: 继续保持区.
    KeepUpTheGoodWork,
    /// Low importance, low performance: 机会区 / 次要改进区.
    LowPriority,
    /// Low importance, high performance: 可能过度区.
    PossibleOverkill,
}

/// Classify `(importance, performance)` points against crosshairs (default: the means).
pub fn quadrants(points: &[(f64, f64)], crosshair: Option<(f64, f64)>) -> Vec<Quadrant> {
    let n = points.len().max(1) as f64;
    let (ci, cp) = crosshair.unwrap_or((
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    ));
    points
        .iter()
        .map(|&(i, p)| match (i >= ci, p >= cp) {
            (true, false) => Quadrant::ConcentrateHere,
            (true, true) => Quadrant::KeepUpTheGoodWork,
            (false, false) => Quadrant::LowPriority,
            (false, true) => Quadrant::PossibleOverkill,
        })
        .collect()
}

/// One point of the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IpmaPoint {
    /// Construct or item name.
    pub name: String,
    /// Construct of an item (None for a construct point).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub construct: Option<String>,
    /// Importance (unstandardised total effect on the target).
    pub importance: f64,
    /// Performance on 0–100.
    pub performance: f64,
    /// Quadrant.
    pub quadrant: Quadrant,
}

/// Importance–performance analysis for one target construct.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ipma {
    /// Target construct.
    pub target: String,
    /// Crosshair on the importance axis (mean importance of the construct points).
    pub crosshair_importance: f64,
    /// Crosshair on the performance axis (mean performance of the construct points).
    pub crosshair_performance: f64,
    /// Construct-level points.
    pub constructs: Vec<IpmaPoint>,
    /// Item-level points (crosshairs at the item means).
    pub items: Vec<IpmaPoint>,
}

pub(crate) struct Scores {
    pub index: Vec<f64>,
    pub sd: Vec<f64>,
    pub rel_w: Vec<f64>,
    pub item_perf: Vec<f64>,
    pub per_respondent: Vec<Vec<f64>>,
    pub scales: Vec<(f64, f64)>,
}

pub(crate) fn scores_0_100(
    data: &ItemData,
    model: &PlsModel,
    lay: &Layout,
    core: &Core,
    warnings: &mut Vec<String>,
) -> Result<Scores> {
    let (means, sds) = data_moments(data);
    let cols = data_columns(data);
    let gmin = cols.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let gmax = cols
        .iter()
        .flatten()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let n = data.n();
    let mut index = Vec::new();
    let mut sd = Vec::new();
    let mut rel_w = vec![0.0; lay.p];
    let mut item_perf = vec![0.0; lay.p];
    let mut per_respondent = Vec::new();
    let mut scales = Vec::new();
    let mut inferred = false;
    for (j, c) in model.constructs().iter().enumerate() {
        let (lo, hi) = c.scale.unwrap_or_else(|| {
            inferred = true;
            (gmin, gmax)
        });
        scales.push((lo, hi));
        if !(hi > lo) {
            return Err(SurveyError::Numerical(format!(
                "{}: answer scale is empty",
                c.name
            )));
        }
        let b = &lay.blocks[j];
        let mut u: Vec<f64> = b.iter().map(|&h| core.w[h] / sds[h]).collect();
        if u.iter().any(|x| !(*x > 0.0)) {
            warnings.push(format!(
                "{}: non-positive outer weight, index uses equal weights",
                c.name
            ));
            u = vec![1.0; b.len()];
        }
        let su: f64 = u.iter().sum();
        for (&h, x) in b.iter().zip(&u) {
            rel_w[h] = x / su;
            item_perf[h] = (means[h] - lo) / (hi - lo) * 100.0;
        }
        index.push(b.iter().map(|&h| rel_w[h] * item_perf[h]).sum());
        let per: Vec<f64> = (0..n)
            .map(|i| {
                b.iter()
                    .map(|&h| rel_w[h] * (cols[h][i] - lo) / (hi - lo) * 100.0)
                    .sum()
            })
            .collect();
        let m = per.iter().sum::<f64>() / n as f64;
        sd.push((per.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt());
        per_respondent.push(per);
    }
    if inferred {
        warnings.push(format!(
            "answer scale inferred from the data as [{gmin}, {gmax}]; set `scale = [min, max]` per construct"
        ));
    }
    Ok(Scores {
        index,
        sd,
        rel_w,
        item_perf,
        per_respondent,
        scales,
    })
}

pub(crate) fn analyse(
    model: &PlsModel,
    lay: &Layout,
    total: &[f64],
    scores: &Scores,
    target: Option<&str>,
) -> Result<Option<Ipma>> {
    let k = lay.k();
    let cs = model.constructs();
    let t = match target {
        Some(name) => model
            .construct_index(name)
            .ok_or_else(|| SurveyError::Spec(format!("IPMA target `{name}` is not a construct")))?,
        None => {
            let best = (0..k)
                .filter(|&j| lay.succs[j].is_empty() && !lay.preds[j].is_empty())
                .max_by_key(|&j| (0..k).filter(|&i| total[i * k + j] != 0.0).count());
            match best {
                Some(j) => j,
                None => return Ok(None),
            }
        }
    };
    let sources: Vec<usize> = (0..k)
        .filter(|&i| i != t && total[i * k + t] != 0.0)
        .collect();
    if sources.is_empty() {
        return Ok(None);
    }
    let imp: Vec<f64> = sources
        .iter()
        .map(|&i| total[i * k + t] * scores.sd[t] / scores.sd[i])
        .collect();
    let pts: Vec<(f64, f64)> = sources
        .iter()
        .zip(&imp)
        .map(|(&i, &m)| (m, scores.index[i]))
        .collect();
    let q = quadrants(&pts, None);
    let ni = pts.len() as f64;
    let constructs = sources
        .iter()
        .zip(pts.iter().zip(q))
        .map(|(&i, (&(im, pe), qu))| IpmaPoint {
            name: cs[i].name.clone(),
            construct: None,
            importance: im,
            performance: pe,
            quadrant: qu,
        })
        .collect();
    let items_names = model.items();
    let mut ipts = Vec::new();
    let mut meta = Vec::new();
    for (s, &i) in sources.iter().enumerate() {
        for &h in &lay.blocks[i] {
            ipts.push((scores.rel_w[h] * imp[s], scores.item_perf[h]));
            meta.push((items_names[h].to_string(), cs[i].name.clone()));
        }
    }
    let iq = quadrants(&ipts, None);
    let items = meta
        .into_iter()
        .zip(ipts.iter().zip(iq))
        .map(|((name, c), (&(im, pe), qu))| IpmaPoint {
            name,
            construct: Some(c),
            importance: im,
            performance: pe,
            quadrant: qu,
        })
        .collect();
    Ok(Some(Ipma {
        target: cs[t].name.clone(),
        crosshair_importance: pts.iter().map(|p| p.0).sum::<f64>() / ni,
        crosshair_performance: pts.iter().map(|p| p.1).sum::<f64>() / ni,
        constructs,
        items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Martilla & James (1977) grid: crosshairs at the means; high importance with low
    /// performance is "concentrate here".
    #[test]
    fn quadrants_follow_martilla_james() {
        let q = quadrants(&[(0.9, 40.0), (0.9, 90.0), (0.1, 40.0), (0.1, 90.0)], None);
        assert_eq!(
            q,
            vec![
                Quadrant::ConcentrateHere,
                Quadrant::KeepUpTheGoodWork,
                Quadrant::LowPriority,
                Quadrant::PossibleOverkill
            ]
        );
    }
}
