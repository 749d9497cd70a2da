//! Satisfaction scores on 0–100 (满意度得分): the linear conversion and the Chinese five-level
//! convention 很满意 100 / 满意 80 / 基本满意 60 / 不太满意 30 / 不满意 0 with 不了解
//! ("don't know") excluded. Every result records the conversion it used.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SurveyError};

/// How raw answers become 0–100 scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScoreConversion {
    /// `(x − min)/(max − min) × 100` on a numeric scale (e.g. 1–10 or 1–5).
    Linear {
        /// Lowest scale point.
        min: f64,
        /// Highest scale point.
        max: f64,
    },
    /// 五级量表 five-level mapping: code 5 = 很满意 100, 4 = 满意 80, 3 = 基本满意 60,
    /// 2 = 不太满意 30, 1 = 不满意 0; `dont_know` codes (不了解) are excluded.
    FiveLevelCn {
        /// Codes meaning "don't know" (excluded from the score).
        dont_know: Vec<f64>,
    },
}

impl ScoreConversion {
    /// The 0–100 score of one answer; `Ok(None)` for "don't know" or a missing answer.
    pub fn convert(&self, x: Option<f64>) -> Result<Option<f64>> {
        let Some(x) = x else { return Ok(None) };
        match self {
            Self::Linear { min, max } => {
                if !(max > min) {
                    return Err(SurveyError::Spec(format!("scale [{min}, {max}] is empty")));
                }
                if x < *min || x > *max {
                    return Err(SurveyError::Spec(format!(
                        "answer {x} outside the scale [{min}, {max}]"
                    )));
                }
                Ok(Some((x - min) / (max - min) * 100.0))
            }
            Self::FiveLevelCn { dont_know } => {
                if dont_know.contains(&x) {
                    return Ok(None);
                }
                let points = [0.0, 30.0, 60.0, 80.0, 100.0];
                if x.fract() == 0.0 && (1.0..=5.0).contains(&x) {
                    Ok(Some(points[x as usize - 1]))
                } else {
                    Err(SurveyError::Spec(format!(
                        "answer {x} is not a five-level code 1–5 nor a don't-know code"
                    )))
                }
            }
        }
    }

    /// Short name for reports: `linear` or `five_level_cn`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Linear { .. } => "linear",
            Self::FiveLevelCn { .. } => "five_level_cn",
        }
    }
}

/// A 0–100 item score with the conversion that produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemScore {
    /// Weighted mean score 0–100.
    pub score: f64,
    /// Answers that entered the score.
    pub n_valid: usize,
    /// Answers excluded as "don't know" or missing.
    pub n_excluded: usize,
    /// Conversion used.
    pub conversion: ScoreConversion,
}

/// Convert every answer (errors name the 1-based respondent).
pub fn convert_all(answers: &[Option<f64>], conv: &ScoreConversion) -> Result<Vec<Option<f64>>> {
    answers
        .iter()
        .enumerate()
        .map(|(i, a)| {
            conv.convert(*a).map_err(|e| match e {
                SurveyError::Spec(m) => SurveyError::Spec(format!("respondent {}: {m}", i + 1)),
                other => other,
            })
        })
        .collect()
}

/// Weighted mean 0–100 score of one item: Σ w·score / Σ w over valid answers, which for the
/// five-level convention equals Σ share × points (shares among those who gave an opinion).
pub fn item_score(
    answers: &[Option<f64>],
    weights: Option<&[f64]>,
    conv: &ScoreConversion,
) -> Result<ItemScore> {
    let scores = convert_all(answers, conv)?;
    let (mut sw, mut swy, mut n) = (0.0, 0.0, 0usize);
    for (i, s) in scores.iter().enumerate() {
        if let Some(s) = s {
            let w = weights.map_or(1.0, |w| w[i]);
            sw += w;
            swy += w * s;
            n += 1;
        }
    }
    if n == 0 {
        return Err(SurveyError::Numerical("no valid answer to score".into()));
    }
    Ok(ItemScore {
        score: swy / sw,
        n_valid: n,
        n_excluded: answers.len() - n,
        conversion: conv.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked example of the five-level method (客户满意度调查如何转为评分计算): shares
    /// 很满意 40 %, 满意 30 %, 基本满意 20 %, 不太满意 10 %, 不满意 0 % of those with an
    /// opinion → 0.4·100 + 0.3·80 + 0.2·60 + 0.1·30 = 79; "don't know" answers do not count.
    #[test]
    fn five_level_is_share_times_points() {
        let mut a = vec![Some(5.0); 4];
        a.extend([Some(4.0); 3]);
        a.extend([Some(3.0); 2]);
        a.push(Some(2.0));
        a.extend([Some(9.0); 5]); // 不了解
        let s = item_score(
            &a,
            None,
            &ScoreConversion::FiveLevelCn {
                dont_know: vec![9.0],
            },
        )
        .unwrap();
        assert!((s.score - 79.0).abs() < 1e-12);
        assert_eq!((s.n_valid, s.n_excluded), (10, 5));
        assert_eq!(s.conversion.name(), "five_level_cn");
    }

    #[test]
    fn linear_maps_scale_ends() {
        let c = ScoreConversion::Linear {
            min: 1.0,
            max: 10.0,
        };
        assert_eq!(c.convert(Some(1.0)).unwrap(), Some(0.0));
        assert_eq!(c.convert(Some(10.0)).unwrap(), Some(100.0));
        assert!(c.convert(Some(11.0)).is_err());
    }
}
