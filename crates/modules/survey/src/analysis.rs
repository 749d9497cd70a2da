//! Analysis of a wave on the `qcity-surveystat` engine: 0–100 item scores (recording the
//! conversion), raking to the wave's population margins, design-based means with CIs, n and
//! n_eff by domain, indicator and district; year-on-year change; the PLS satisfaction model
//! (domains → overall satisfaction) with path coefficients and R²; importance–performance
//! (四分图); coded suggestions with keyword frequencies.

use crate::model::{DOMAINS, QuestionKind, QuestionnaireDef, domain_names};
use crate::store::{MarginCell, Response, Wave};
use qcity_surveystat::pls::{Construct, Mode};
use qcity_surveystat::{
    Design, Estimate, IndexChange, ItemData, Margin, PlsModel, PlsOptions, RakeOptions,
    ScoreConversion, estimate, estimate_pls, index_change, kish,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Confidence level of every interval.
pub const LEVEL: f64 = 0.95;

/// A weighted 0–100 score with its precision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Score {
    /// `overall`, a domain, an indicator or a question code.
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub score: f64,
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: usize,
    pub n_eff: f64,
    pub deff: f64,
    /// Score of the previous year's wave, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<f64>,
    /// Year-on-year change with its significance.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub change: Option<IndexChange>,
}

fn score_from(key: &str, zh: &str, en: &str, e: &Estimate) -> Score {
    Score {
        key: key.into(),
        label_zh: zh.into(),
        label_en: en.into(),
        score: e.mean,
        se: e.se,
        ci_low: e.ci_low,
        ci_high: e.ci_high,
        n: e.n,
        n_eff: e.n_eff,
        deff: e.deff,
        previous: None,
        change: None,
    }
}

/// Scores of one district.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DistrictScores {
    pub region_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub overall: Option<Score>,
    pub domains: Vec<Score>,
}

/// One indicator (question) score.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorScore {
    pub domain: String,
    pub question: String,
    pub indicator_code: Option<String>,
    #[serde(flatten)]
    pub score: Score,
}

/// A structural path of the satisfaction model.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelPath {
    pub from: String,
    pub to: String,
    pub coefficient: f64,
}

/// The satisfaction model (PLS-SEM: domains → overall satisfaction).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelSummary {
    pub scheme: String,
    /// Complete cases the model was estimated on (unweighted).
    pub n: usize,
    pub paths: Vec<ModelPath>,
    pub r2: BTreeMap<String, f64>,
    pub adj_r2: BTreeMap<String, f64>,
    /// ACSI-style 0–100 construct indices.
    pub indices: BTreeMap<String, f64>,
    pub warnings: Vec<String>,
}

/// One point of the importance–performance grid.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IpaPoint {
    pub domain: String,
    pub label_zh: String,
    pub label_en: String,
    pub importance: f64,
    pub performance: f64,
    /// `concentrate_here`, `keep_up_the_good_work`, `low_priority`, `possible_overkill`.
    pub quadrant: String,
}

/// Importance–performance analysis.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ipa {
    pub crosshair_importance: f64,
    pub crosshair_performance: f64,
    pub points: Vec<IpaPoint>,
}

/// A coded suggestion.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub response_id: i64,
    pub question: String,
    pub region_code: Option<String>,
    pub text: String,
    pub domains: Vec<String>,
}

/// Suggestions coded by domain with keyword frequencies.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestions {
    pub total: usize,
    /// Count per domain (`uncoded` for the rest).
    pub by_domain: BTreeMap<String, usize>,
    /// Most frequent words overall.
    pub keywords: Vec<(String, usize)>,
    /// Most frequent words per domain.
    pub keywords_by_domain: BTreeMap<String, Vec<(String, usize)>>,
    pub items: Vec<Suggestion>,
}

/// Weighting and method notes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Method {
    /// `linear` or `five_level_cn`.
    pub conversion: String,
    /// `raking` (to the wave's margins) or `none` (equal weights).
    pub weighting: String,
    pub margins_used: Vec<String>,
    pub raking_iterations: usize,
    pub n: usize,
    pub n_eff: f64,
    pub deff_w: f64,
    pub excluded: usize,
    pub level: f64,
    pub notes: Vec<String>,
}

/// The full analysis of a wave.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Analysis {
    pub wave_id: i64,
    pub year: i32,
    pub method: Method,
    pub overall: Option<Score>,
    pub domains: Vec<Score>,
    pub indicators: Vec<IndicatorScore>,
    pub districts: Vec<DistrictScores>,
    pub model: Option<ModelSummary>,
    pub model_error: Option<String>,
    pub ipa: Option<Ipa>,
    pub suggestions: Suggestions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_wave_id: Option<i64>,
}

/// District names for labels.
pub type DistrictNames = BTreeMap<String, (String, String)>;

fn conversion_for(wave: &Wave, lo: f64, hi: f64) -> ScoreConversion {
    if wave.conversion == "five_level_cn" {
        ScoreConversion::FiveLevelCn { dont_know: vec![] }
    } else {
        ScoreConversion::Linear { min: lo, max: hi }
    }
}

/// The 0–100 score of every respondent on every rating question (None: missing / don't know).
pub fn item_scores(
    wave: &Wave,
    def: &QuestionnaireDef,
    rs: &[Response],
) -> BTreeMap<String, Vec<Option<f64>>> {
    let mut out = BTreeMap::new();
    for q in def
        .questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Likert)
    {
        let (lo, hi) = q.scale_range().unwrap_or((1.0, 5.0));
        let conv = conversion_for(wave, lo, hi);
        let v: Vec<Option<f64>> = rs
            .iter()
            .map(|r| {
                let x = r.answers.get(&q.code).and_then(Value::as_f64);
                conv.convert(x).ok().flatten()
            })
            .collect();
        out.insert(q.code.clone(), v);
    }
    out
}

fn mean_of(xs: &[Option<f64>]) -> Option<f64> {
    let v: Vec<f64> = xs.iter().flatten().copied().collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Respondent-level domain scores (mean of the domain's item scores) and the overall CQ-SAT
/// score (mean of the available domain scores, equal domain weights).
pub fn respondent_scores(
    def: &QuestionnaireDef,
    items: &BTreeMap<String, Vec<Option<f64>>>,
    n: usize,
) -> BTreeMap<String, Vec<Option<f64>>> {
    let mut out: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    for d in DOMAINS {
        let cols: Vec<&Vec<Option<f64>>> = def
            .questions
            .iter()
            .filter(|q| q.domain.as_deref() == Some(d))
            .filter_map(|q| items.get(&q.code))
            .collect();
        if cols.is_empty() {
            continue;
        }
        let v = (0..n)
            .map(|i| mean_of(&cols.iter().map(|c| c[i]).collect::<Vec<_>>()))
            .collect();
        out.insert(d.to_string(), v);
    }
    let overall = (0..n)
        .map(|i| mean_of(&out.values().map(|c| c[i]).collect::<Vec<_>>()))
        .collect();
    out.insert("overall".into(), overall);
    out
}

fn respondent_category(r: &Response, variable: &str) -> Option<String> {
    match variable {
        "district" => r.region_code.clone(),
        "age_group" => r.age_group.clone(),
        "sex" => r.sex.clone(),
        "education" => r.education.clone(),
        "residence" => r.residence.clone(),
        _ => None,
    }
}

/// The weighted design: raked to the margins that every respondent can be coded against.
pub fn design(
    rs: &[Response],
    margins: &[MarginCell],
    notes: &mut Vec<String>,
) -> Result<(Design, Vec<String>, usize), String> {
    let n = rs.len();
    let mut vars: Vec<&str> = margins.iter().map(|m| m.variable.as_str()).collect();
    vars.dedup();
    let mut used = Vec::new();
    let mut ms = Vec::new();
    for v in vars {
        let totals: Vec<(String, f64)> = margins
            .iter()
            .filter(|m| m.variable == v)
            .map(|m| (m.category.clone(), m.total))
            .collect();
        let labels: Vec<Option<String>> = rs.iter().map(|r| respondent_category(r, v)).collect();
        if labels.iter().any(Option::is_none) {
            notes.push(format!(
                "margin `{v}` not used: some respondents did not give it"
            ));
            continue;
        }
        let labels: Vec<String> = labels.into_iter().flatten().collect();
        if let Some((c, _)) = totals.iter().find(|(c, _)| !labels.contains(c)) {
            notes.push(format!(
                "margin `{v}` not used: no respondent in category `{c}`"
            ));
            continue;
        }
        match Margin::from_labels(v, &labels, &totals) {
            Ok(m) => {
                ms.push(m);
                used.push(v.to_string());
            }
            Err(e) => notes.push(format!("margin `{v}` not used: {e}")),
        }
    }
    if ms.is_empty() {
        let d = Design::new(vec![1.0; n]).map_err(|e| e.to_string())?;
        return Ok((d, used, 0));
    }
    let opts = RakeOptions {
        tolerance: 1e-6,
        max_iterations: 200,
        bounds: None,
    };
    let iterations = qcity_surveystat::rake(&vec![1.0; n], &ms, &opts)
        .map(|c| c.iterations)
        .map_err(|e| format!("raking failed: {e}"))?;
    let d = Design::new(vec![1.0; n])
        .and_then(|d| d.raked(&ms, &opts))
        .map_err(|e| format!("raking failed: {e}"))?;
    Ok((d, used, iterations))
}

/// Runs the analysis of a wave. `previous` is the analysis of last year's wave, if any.
#[allow(clippy::too_many_arguments)]
pub fn analyse(
    wave: &Wave,
    def: &QuestionnaireDef,
    rs: &[Response],
    excluded: usize,
    margins: &[MarginCell],
    districts: &DistrictNames,
    previous: Option<&Analysis>,
    with_model: bool,
) -> Result<Analysis, String> {
    let n = rs.len();
    if n < 2 {
        return Err(format!(
            "the wave has {n} usable responses; at least 2 are needed"
        ));
    }
    let mut notes = Vec::new();
    let (design, used, iterations) = design(rs, margins, &mut notes)?;
    let ws = kish(design.weights());
    let items = item_scores(wave, def, rs);
    let resp = respondent_scores(def, &items, n);
    let est = |key: &str, y: &[Option<f64>], domain: Option<(&str, &[bool])>| {
        estimate(&design, key, y, domain, LEVEL).ok()
    };
    let with_change = |mut s: Score, p: Option<Score>| {
        if let Some(p) = p {
            s.previous = Some(p.score);
            s.change = Some(index_change((p.score, p.se), (s.score, s.se), LEVEL));
        }
        s
    };
    let overall = resp
        .get("overall")
        .and_then(|y| est("overall", y, None))
        .map(|e| {
            with_change(
                score_from(
                    "overall",
                    "质量满意度总指数",
                    "Quality satisfaction index",
                    &e,
                ),
                previous.and_then(|a| a.overall.clone()),
            )
        });
    let mut domains = Vec::new();
    for d in DOMAINS {
        if let Some(e) = resp.get(d).and_then(|y| est(d, y, None)) {
            let (zh, en) = domain_names(d);
            let p = previous.and_then(|a| a.domains.iter().find(|s| s.key == d).cloned());
            domains.push(with_change(score_from(d, zh, en, &e), p));
        }
    }
    let mut indicators = Vec::new();
    for q in def
        .questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Likert)
    {
        let Some(y) = items.get(&q.code) else {
            continue;
        };
        let Some(e) = est(&q.code, y, None) else {
            continue;
        };
        let zh = if q.indicator_zh.is_empty() {
            q.text_zh.clone()
        } else {
            q.indicator_zh.clone()
        };
        let en = if q.indicator_en.is_empty() {
            q.text_en.clone()
        } else {
            q.indicator_en.clone()
        };
        let p = previous.and_then(|a| {
            a.indicators
                .iter()
                .find(|s| s.question == q.code)
                .map(|s| s.score.clone())
        });
        indicators.push(IndicatorScore {
            domain: q.domain.clone().unwrap_or_default(),
            question: q.code.clone(),
            indicator_code: q.indicator_code.clone(),
            score: with_change(score_from(&q.code, &zh, &en, &e), p),
        });
    }
    let mut dists: Vec<String> = rs.iter().filter_map(|r| r.region_code.clone()).collect();
    dists.sort();
    dists.dedup();
    let mut districts_out = Vec::new();
    for code in dists {
        let mask: Vec<bool> = rs
            .iter()
            .map(|r| r.region_code.as_deref() == Some(code.as_str()))
            .collect();
        let (zh, en) = districts
            .get(&code)
            .cloned()
            .unwrap_or_else(|| (code.clone(), code.clone()));
        let prev_d = previous.and_then(|a| a.districts.iter().find(|x| x.region_code == code));
        let overall = resp
            .get("overall")
            .and_then(|y| est("overall", y, Some((&code, &mask))))
            .map(|e| {
                with_change(
                    score_from("overall", &zh, &en, &e),
                    prev_d.and_then(|p| p.overall.clone()),
                )
            });
        let mut ds = Vec::new();
        for d in DOMAINS {
            if let Some(e) = resp.get(d).and_then(|y| est(d, y, Some((&code, &mask)))) {
                let (dzh, den) = domain_names(d);
                let p = prev_d.and_then(|p| p.domains.iter().find(|s| s.key == d).cloned());
                ds.push(with_change(score_from(d, dzh, den, &e), p));
            }
        }
        districts_out.push(DistrictScores {
            region_code: code,
            name_zh: zh,
            name_en: en,
            overall,
            domains: ds,
        });
    }
    let (model, model_error, ipa) = if with_model {
        match satisfaction_model(wave, def, rs) {
            Ok((m, ipa)) => (Some(m), None, ipa),
            Err(e) => (None, Some(e), None),
        }
    } else {
        (None, None, None)
    };
    if wave.conversion == "five_level_cn" {
        notes.push("scores use the five-level convention 100/80/60/30/0; 不了解 excluded".into());
    } else {
        notes.push(
            "scores use the linear conversion (x − min)/(max − min) × 100; 不了解 excluded".into(),
        );
    }
    notes.push("CQ-SAT = mean of the respondent's domain scores (equal domain weights); domain score = mean of its item scores".into());
    notes.push("standard errors by Taylor linearisation with the raking taken into account; 95 % normal intervals".into());
    Ok(Analysis {
        wave_id: wave.id,
        year: wave.year,
        method: Method {
            conversion: wave.conversion.clone(),
            weighting: if used.is_empty() {
                "none".into()
            } else {
                "raking".into()
            },
            margins_used: used,
            raking_iterations: iterations,
            n,
            n_eff: ws.n_eff,
            deff_w: ws.deff_w,
            excluded,
            level: LEVEL,
            notes,
        },
        overall,
        domains,
        indicators,
        districts: districts_out,
        model,
        model_error,
        ipa,
        suggestions: suggestions(def, rs),
        previous_wave_id: None,
    })
}

/// PLS-SEM: each domain (mode A, its rating items) → `overall` (the overall-satisfaction items),
/// path scheme, on the complete cases; IPA on the `overall` target.
pub fn satisfaction_model(
    wave: &Wave,
    def: &QuestionnaireDef,
    rs: &[Response],
) -> Result<(ModelSummary, Option<Ipa>), String> {
    let _ = wave;
    let mut constructs = Vec::new();
    let mut blocks: Vec<(String, Vec<&crate::model::QuestionDef>)> = Vec::new();
    for d in DOMAINS.iter().copied().chain(["overall"]) {
        let qs: Vec<_> = def
            .questions
            .iter()
            .filter(|q| q.kind == QuestionKind::Likert && q.domain.as_deref() == Some(d))
            .collect();
        if !qs.is_empty() {
            blocks.push((d.to_string(), qs));
        }
    }
    if !blocks.iter().any(|(d, _)| d == "overall") {
        return Err("the questionnaire has no overall-satisfaction rating items (domain `overall`), so no model".into());
    }
    if blocks.len() < 2 {
        return Err("the model needs at least one domain with rating items".into());
    }
    // Usable cases: every overall item answered and at least 80 % of the domain items; the
    // remaining "don't know" answers are replaced by the item mean (SmartPLS mean replacement).
    // With ~78 items, strict complete cases would keep only a small share of respondents.
    let val = |r: &Response, code: &str| r.answers.get(code).and_then(Value::as_f64);
    let n_domain_items: usize = blocks
        .iter()
        .filter(|(d, _)| d != "overall")
        .map(|(_, qs)| qs.len())
        .sum();
    let complete: Vec<&Response> = rs
        .iter()
        .filter(|r| {
            let mut answered = 0usize;
            for (d, qs) in &blocks {
                for q in qs {
                    match val(r, &q.code) {
                        Some(_) if d != "overall" => answered += 1,
                        Some(_) => {}
                        None if d == "overall" => return false,
                        None => {}
                    }
                }
            }
            answered * 5 >= n_domain_items * 4
        })
        .collect();
    if complete.len() < 30 {
        return Err(format!(
            "only {} complete cases (every overall item and at least 80 % of the domain items answered); the model needs at least 30",
            complete.len()
        ));
    }
    let mut names = Vec::new();
    let mut columns = Vec::new();
    let mut replaced = 0usize;
    for (d, qs) in &blocks {
        let scales: Vec<(f64, f64)> = qs.iter().filter_map(|q| q.scale_range()).collect();
        let scale = scales
            .first()
            .copied()
            .filter(|s| scales.iter().all(|x| x == s));
        constructs.push(Construct {
            name: d.clone(),
            items: qs.iter().map(|q| q.code.clone()).collect(),
            mode: Mode::A,
            scale,
        });
        for q in qs {
            names.push(q.code.clone());
            let known: Vec<f64> = complete.iter().filter_map(|r| val(r, &q.code)).collect();
            let mean = if known.is_empty() {
                0.0
            } else {
                known.iter().sum::<f64>() / known.len() as f64
            };
            columns.push(
                complete
                    .iter()
                    .map(|r| {
                        val(r, &q.code).unwrap_or_else(|| {
                            replaced += 1;
                            mean
                        })
                    })
                    .collect(),
            );
        }
    }
    let paths: Vec<(String, String)> = blocks
        .iter()
        .filter(|(d, _)| d != "overall")
        .map(|(d, _)| (d.clone(), "overall".to_string()))
        .collect();
    let model = PlsModel::new(constructs, paths).map_err(|e| e.to_string())?;
    let data = ItemData::new(names, columns).map_err(|e| e.to_string())?;
    let opts = PlsOptions {
        ipma_target: Some("overall".into()),
        ..Default::default()
    };
    let res = estimate_pls(&data, &model, &opts).map_err(|e| e.to_string())?;
    let summary = ModelSummary {
        scheme: "path".into(),
        n: res.n,
        paths: res
            .paths
            .iter()
            .map(|p| ModelPath {
                from: p.from.clone(),
                to: p.to.clone(),
                coefficient: p.coefficient,
            })
            .collect(),
        r2: res.r2.clone(),
        adj_r2: res.adj_r2.clone(),
        indices: res.indices.clone(),
        warnings: {
            let mut w = res.warnings.clone();
            if replaced > 0 {
                w.push(format!(
                    "{replaced} don't-know answers of {} cases replaced by item means",
                    complete.len()
                ));
            }
            w
        },
    };
    let ipa = res.ipma.as_ref().map(|i| Ipa {
        crosshair_importance: i.crosshair_importance,
        crosshair_performance: i.crosshair_performance,
        points: i
            .constructs
            .iter()
            .map(|p| {
                let (zh, en) = domain_names(&p.name);
                IpaPoint {
                    domain: p.name.clone(),
                    label_zh: zh.into(),
                    label_en: en.into(),
                    importance: p.importance,
                    performance: p.performance,
                    quadrant: serde_json::to_value(p.quadrant)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                }
            })
            .collect(),
    });
    Ok((summary, ipa))
}

/// Open-text answers coded by domain, with keyword frequencies.
pub fn suggestions(def: &QuestionnaireDef, rs: &[Response]) -> Suggestions {
    let mut items = Vec::new();
    for q in def
        .questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Text)
    {
        for r in rs {
            if let Some(Value::String(t)) = r.answers.get(&q.code) {
                let t = t.trim();
                if t.is_empty() {
                    continue;
                }
                items.push(Suggestion {
                    response_id: r.id,
                    question: q.code.clone(),
                    region_code: r.region_code.clone(),
                    text: t.to_string(),
                    domains: crate::text::code_suggestion(t)
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                });
            }
        }
    }
    let mut by_domain: BTreeMap<String, usize> = BTreeMap::new();
    let mut keywords_by_domain = BTreeMap::new();
    for d in DOMAINS {
        let texts: Vec<&str> = items
            .iter()
            .filter(|s| s.domains.iter().any(|x| x == d))
            .map(|s| s.text.as_str())
            .collect();
        by_domain.insert(d.to_string(), texts.len());
        keywords_by_domain.insert(d.to_string(), crate::text::keyword_frequencies(texts, 10));
    }
    by_domain.insert(
        "uncoded".into(),
        items.iter().filter(|s| s.domains.is_empty()).count(),
    );
    Suggestions {
        total: items.len(),
        by_domain,
        keywords: crate::text::keyword_frequencies(items.iter().map(|s| s.text.as_str()), 30),
        keywords_by_domain,
        items,
    }
}
