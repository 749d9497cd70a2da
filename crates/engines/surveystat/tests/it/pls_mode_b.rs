//! Mode B on both blocks of a two-block model is canonical correlation analysis (Wold 1985;
//! Tenenhaus et al. 2005, §2.3 and Table 1: "Mode B for both blocks … canonical correlation"),
//! so the path coefficient must equal the first canonical correlation of the two item sets.
//! The canonical correlation is computed here independently, in closed form: the largest
//! eigenvalue of the 2 × 2 matrix R₁₁⁻¹R₁₂R₂₂⁻¹R₂₁ for Value (PERV1, PERV2) vs Expectation
//! (CUEX1–3).

#![allow(clippy::needless_range_loop)]

use qcity_surveystat::pls::AlgorithmOptions;
use qcity_surveystat::{ItemData, PlsModel, PlsOptions, Scheme, Table, estimate_pls};

fn cor(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let sab: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let saa: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let sbb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    sab / (saa * sbb).sqrt()
}

fn inv3(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let mut r = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let (a, b) = ((j + 1) % 3, (j + 2) % 3);
            let (c, d) = ((i + 1) % 3, (i + 2) % 3);
            r[i][j] = (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det;
        }
    }
    r
}

#[test]
fn mode_b_two_blocks_is_canonical_correlation() {
    let table = Table::parse("mobi.csv", include_str!("../data/mobi.csv")).unwrap();
    let x: Vec<Vec<f64>> = ["PERV1", "PERV2"]
        .iter()
        .map(|c| table.numeric(c).unwrap())
        .collect();
    let y: Vec<Vec<f64>> = ["CUEX1", "CUEX2", "CUEX3"]
        .iter()
        .map(|c| table.numeric(c).unwrap())
        .collect();
    let r11 = cor(&x[0], &x[1]);
    let r12: Vec<Vec<f64>> = x
        .iter()
        .map(|a| y.iter().map(|b| cor(a, b)).collect())
        .collect();
    let mut r22 = [[1.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            r22[i][j] = cor(&y[i], &y[j]);
        }
    }
    let r22i = inv3(r22);
    // A = R12 R22⁻¹ R21 (2 × 2), M = R11⁻¹ A.
    let mut a = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..3 {
                for l in 0..3 {
                    a[i][j] += r12[i][k] * r22i[k][l] * r12[j][l];
                }
            }
        }
    }
    let d = 1.0 - r11 * r11;
    let m = [
        [(a[0][0] - r11 * a[1][0]) / d, (a[0][1] - r11 * a[1][1]) / d],
        [(a[1][0] - r11 * a[0][0]) / d, (a[1][1] - r11 * a[0][1]) / d],
    ];
    let tr = m[0][0] + m[1][1];
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let rho = ((tr + (tr * tr - 4.0 * det).sqrt()) / 2.0).sqrt();

    let model = PlsModel::from_toml(
        "cca.toml",
        r#"
[constructs.Value]
items = ["PERV1", "PERV2"]
mode = "B"
[constructs.Expectation]
items = ["CUEX1", "CUEX2", "CUEX3"]
mode = "B"
[[paths]]
from = "Value"
to = "Expectation"
"#,
    )
    .unwrap();
    let data = ItemData::from_table(&table, &model).unwrap();
    for scheme in [Scheme::Centroid, Scheme::Factorial, Scheme::Path] {
        let opts = PlsOptions {
            algorithm: AlgorithmOptions {
                scheme,
                tolerance: 1e-12,
                max_iterations: 1000,
            },
            ..PlsOptions::default()
        };
        let r = estimate_pls(&data, &model, &opts).unwrap();
        let b = r.paths[0].coefficient;
        assert!((b - rho).abs() < 1e-8, "{scheme:?}: {b} vs canonical {rho}");
        // Formative blocks report outer VIFs.
        assert!(r.items.iter().all(|i| i.vif.is_some_and(|v| v >= 1.0)));
    }
}
