//! Measurement and structural quality criteria: Cronbach's α, ρA (Dijkstra & Henseler 2015),
//! ρC (composite reliability), AVE, HTMT (Henseler, Ringle & Sarstedt 2015), VIF and f².

use serde::Serialize;

use crate::error::Result;
use crate::linalg::{inverse, sub};
use crate::pls::algorithm::{AlgorithmOptions, Core, Layout, run};
use crate::pls::model::PlsModel;

/// Reliability and convergent validity of one block.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reliability {
    /// Cronbach's α on standardised items.
    pub alpha: f64,
    /// Dijkstra–Henseler ρA.
    pub rho_a: f64,
    /// Composite reliability ρC (Jöreskog).
    pub rho_c: f64,
    /// Average variance extracted.
    pub ave: f64,
}

pub(crate) fn reliability(s: &[f64], lay: &Layout, core: &Core, j: usize) -> Reliability {
    let p = lay.p;
    let b = &lay.blocks[j];
    let q = b.len() as f64;
    if b.len() == 1 {
        return Reliability {
            alpha: 1.0,
            rho_a: 1.0,
            rho_c: 1.0,
            ave: 1.0,
        };
    }
    let total: f64 = b
        .iter()
        .map(|&a| b.iter().map(|&c| s[a * p + c]).sum::<f64>())
        .sum();
    let alpha = q / (q - 1.0) * (1.0 - q / total);
    let l: Vec<f64> = b.iter().map(|&h| core.loading(lay, h)).collect();
    let sl: f64 = l.iter().sum();
    let err: f64 = l.iter().map(|x| 1.0 - x * x).sum();
    let rho_c = sl * sl / (sl * sl + err);
    let ave = l.iter().map(|x| x * x).sum::<f64>() / q;
    let w: Vec<f64> = b.iter().map(|&h| core.w[h]).collect();
    let ww: f64 = w.iter().map(|x| x * x).sum();
    let (mut num, mut den) = (0.0, 0.0);
    for (x, &a) in b.iter().enumerate() {
        for (y, &c) in b.iter().enumerate() {
            if x != y {
                num += w[x] * s[a * p + c] * w[y];
                den += w[x] * w[x] * w[y] * w[y];
            }
        }
    }
    Reliability {
        alpha,
        rho_a: ww * ww * num / den,
        rho_c,
        ave,
    }
}

/// HTMT of blocks `i` and `j` (None when either block has a single item).
pub(crate) fn htmt(s: &[f64], lay: &Layout, i: usize, j: usize) -> Option<f64> {
    let p = lay.p;
    let (bi, bj) = (&lay.blocks[i], &lay.blocks[j]);
    if bi.len() < 2 || bj.len() < 2 {
        return None;
    }
    let hetero: f64 = bi
        .iter()
        .map(|&a| bj.iter().map(|&c| s[a * p + c]).sum::<f64>())
        .sum::<f64>()
        / (bi.len() * bj.len()) as f64;
    let mono = |b: &[usize]| {
        let mut sum = 0.0;
        for (x, &a) in b.iter().enumerate() {
            for &c in &b[x + 1..] {
                sum += s[a * p + c];
            }
        }
        sum / (b.len() * (b.len() - 1) / 2) as f64
    };
    Some(hetero / (mono(bi) * mono(bj)).sqrt())
}

/// Variance inflation factors of the predecessors of construct `j` (inner model).
pub(crate) fn inner_vif(core: &Core, lay: &Layout, j: usize) -> Result<Vec<f64>> {
    let pr = &lay.preds[j];
    if pr.len() < 2 {
        return Ok(vec![1.0; pr.len()]);
    }
    let inv = inverse(&sub(&core.lv_cor, lay.k(), pr, pr), pr.len())?;
    Ok((0..pr.len()).map(|a| inv[a * pr.len() + a]).collect())
}

/// VIF of the items of a (formative) block.
pub(crate) fn outer_vif(s: &[f64], lay: &Layout, j: usize) -> Result<Vec<f64>> {
    let b = &lay.blocks[j];
    if b.len() < 2 {
        return Ok(vec![1.0; b.len()]);
    }
    let inv = inverse(&sub(s, lay.p, b, b), b.len())?;
    Ok((0..b.len()).map(|a| inv[a * b.len() + a]).collect())
}

/// Effect size f² of path `from → to`: (R²incl − R²excl) / (1 − R²incl), where R²excl comes
/// from re-estimating the model without the path (constructs left without any path are dropped),
/// as seminr's `fSquared` and the Hair et al. primer do.
pub(crate) fn f_squared(
    s: &[f64],
    model: &PlsModel,
    lay: &Layout,
    core: &Core,
    opts: &AlgorithmOptions,
    from: usize,
    to: usize,
) -> Result<f64> {
    let k = lay.k();
    let paths: Vec<(usize, usize)> = lay
        .paths
        .iter()
        .copied()
        .filter(|&p| p != (from, to))
        .collect();
    let keep: Vec<usize> = (0..k)
        .filter(|j| paths.iter().any(|p| p.0 == *j || p.1 == *j))
        .collect();
    let r2 = core.r2[to];
    let r2_excl = match keep.iter().position(|&j| j == to) {
        None => 0.0,
        Some(t) => {
            let cs = model.constructs();
            let sub_model = PlsModel::new(
                keep.iter().map(|&j| cs[j].clone()).collect(),
                paths
                    .iter()
                    .map(|&(a, b)| (cs[a].name.clone(), cs[b].name.clone()))
                    .collect(),
            )?;
            let idx: Vec<usize> = keep
                .iter()
                .flat_map(|&j| lay.blocks[j].iter().copied())
                .collect();
            let s_sub = sub(s, lay.p, &idx, &idx);
            run(&s_sub, &Layout::new(&sub_model), opts)?.r2[t]
        }
    };
    Ok((r2 - r2_excl) / (1.0 - r2))
}
