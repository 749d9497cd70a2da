//! The questionnaire as data (domains → indicators → questions), parsed and validated at the
//! edge, and the validation of one respondent's answers against it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The five domains of the citizen quality-satisfaction survey (五大领域).
pub const DOMAINS: [&str; 5] = [
    "product",
    "construction",
    "service",
    "environment",
    "public",
];

/// Chinese and English name of a domain (or `overall`).
pub fn domain_names(d: &str) -> (&'static str, &'static str) {
    match d {
        "product" => ("产品质量", "Products"),
        "construction" => ("工程质量", "Construction works"),
        "service" => ("服务质量", "Services"),
        "environment" => ("环境质量", "Environment"),
        "public" => ("公共管理", "Public management"),
        "overall" => ("总体满意度", "Overall satisfaction"),
        _ => ("其他", "Other"),
    }
}

/// Indicator code fed to the evaluation framework for a domain (`CQ-SAT` for the overall score).
pub fn indicator_code(d: &str) -> &'static str {
    match d {
        "product" => "CQ-SAT-PRODUCT",
        "construction" => "CQ-SAT-CONSTRUCTION",
        "service" => "CQ-SAT-SERVICE",
        "environment" => "CQ-SAT-ENVIRONMENT",
        "public" => "CQ-SAT-PUBLIC",
        _ => "CQ-SAT",
    }
}

/// Demographic variables used for quotas and weighting.
pub const DEMOGRAPHICS: [&str; 5] = ["district", "age_group", "sex", "education", "residence"];

/// Kind of question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// Rating on a 5, 7, 10 or 11 point scale (11-point runs 0–10, the others from 1).
    Likert,
    /// One option.
    Single,
    /// Any number of options.
    Multiple,
    /// A number within `[min, max]`.
    Numeric,
    /// Open text (suggestions, 意见建议).
    Text,
    /// The respondent's district (options are the city's districts).
    District,
}

impl QuestionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Likert => "likert",
            Self::Single => "single",
            Self::Multiple => "multiple",
            Self::Numeric => "numeric",
            Self::Text => "text",
            Self::District => "district",
        }
    }
}

/// An answer option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OptionDef {
    pub code: String,
    pub label_zh: String,
    #[serde(default)]
    pub label_en: String,
}

/// Display / skip logic: show the question only when question `question` was answered with
/// one of `any_of` (option codes or scale points as text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Condition {
    pub question: String,
    pub any_of: Vec<String>,
}

/// One question of a questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuestionDef {
    /// Stable code, e.g. `P01`; the column name in imports and exports.
    pub code: String,
    pub kind: QuestionKind,
    /// `product`, `construction`, `service`, `environment`, `public`, or `overall` (overall
    /// satisfaction items, the model's target); none for demographics and suggestions.
    #[serde(default)]
    pub domain: Option<String>,
    /// Indicator of the framework the question measures (e.g. `P-FOOD`).
    #[serde(default)]
    pub indicator_code: Option<String>,
    #[serde(default)]
    pub indicator_zh: String,
    #[serde(default)]
    pub indicator_en: String,
    pub text_zh: String,
    #[serde(default)]
    pub text_en: String,
    #[serde(default)]
    pub required: bool,
    /// Likert scale points: 5, 7, 10 or 11.
    #[serde(default)]
    pub scale: Option<u8>,
    /// Likert: allow 不了解 / don't know (stored as `"dk"`, excluded from scores).
    #[serde(default)]
    pub dont_know: bool,
    /// Demographic variable this question supplies (`age_group`, `sex`, `education`,
    /// `residence`; `district` for the district question).
    #[serde(default)]
    pub demographic: Option<String>,
    #[serde(default)]
    pub options: Vec<OptionDef>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// Page (section) the question appears on in the web form, from 1.
    #[serde(default = "one")]
    pub page: u32,
    #[serde(default)]
    pub show_if: Option<Condition>,
}

fn one() -> u32 {
    1
}

impl QuestionDef {
    /// Lowest and highest scale point of a Likert question.
    pub fn scale_range(&self) -> Option<(f64, f64)> {
        match (self.kind, self.scale) {
            (QuestionKind::Likert, Some(11)) => Some((0.0, 10.0)),
            (QuestionKind::Likert, Some(k)) => Some((1.0, k as f64)),
            _ => None,
        }
    }
}

/// A questionnaire (one version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuestionnaireDef {
    pub code: String,
    pub title_zh: String,
    #[serde(default)]
    pub title_en: String,
    pub questions: Vec<QuestionDef>,
}

/// A problem with a definition or an answer, naming the field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn fe(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

impl QuestionnaireDef {
    /// Checks the definition: codes, scales, options, domains, conditions.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.code.trim().is_empty() || self.code.len() > 40 {
            return Err(fe("code", "code must be 1–40 characters"));
        }
        if self.title_zh.trim().is_empty() {
            return Err(fe("title_zh", "a Chinese title is required"));
        }
        if self.questions.is_empty() {
            return Err(fe(
                "questions",
                "a questionnaire needs at least one question",
            ));
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, q) in self.questions.iter().enumerate() {
            let f = |x: &str| format!("questions[{i}].{x}");
            if q.code.is_empty()
                || !q
                    .code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(fe(f("code"), "codes use letters, digits, _ and - only"));
            }
            if DEMOGRAPHICS.contains(&q.code.as_str())
                || ["id", "wave", "mode", "duration_s", "external_id"].contains(&q.code.as_str())
            {
                return Err(fe(
                    f("code"),
                    format!("`{}` is a reserved column name", q.code),
                ));
            }
            if seen.insert(&q.code, i).is_some() {
                return Err(fe(f("code"), format!("code `{}` is used twice", q.code)));
            }
            if q.text_zh.trim().is_empty() {
                return Err(fe(f("text_zh"), "question text (zh) is required"));
            }
            if let Some(d) = &q.domain
                && !(DOMAINS.contains(&d.as_str()) || d == "overall")
            {
                return Err(fe(
                    f("domain"),
                    format!(
                        "unknown domain `{d}` (product, construction, service, environment, public, overall)"
                    ),
                ));
            }
            match q.kind {
                QuestionKind::Likert => {
                    if !matches!(q.scale, Some(5 | 7 | 10 | 11)) {
                        return Err(fe(f("scale"), "a Likert scale has 5, 7, 10 or 11 points"));
                    }
                }
                QuestionKind::Single | QuestionKind::Multiple => {
                    if q.options.len() < 2 {
                        return Err(fe(
                            f("options"),
                            "a choice question needs at least 2 options",
                        ));
                    }
                    let mut codes: Vec<&str> = q.options.iter().map(|o| o.code.as_str()).collect();
                    codes.sort();
                    codes.dedup();
                    if codes.len() != q.options.len() || codes.contains(&"") {
                        return Err(fe(
                            f("options"),
                            "option codes must be unique and non-empty",
                        ));
                    }
                }
                QuestionKind::Numeric => {
                    if let (Some(a), Some(b)) = (q.min, q.max)
                        && a > b
                    {
                        return Err(fe(f("max"), "max is below min"));
                    }
                }
                QuestionKind::Text | QuestionKind::District => {}
            }
            if let Some(dv) = &q.demographic {
                if !DEMOGRAPHICS.contains(&dv.as_str()) {
                    return Err(fe(f("demographic"), format!("unknown demographic `{dv}`")));
                }
                if (dv == "district") != (q.kind == QuestionKind::District) {
                    return Err(fe(
                        f("demographic"),
                        "the district demographic is the district question",
                    ));
                }
                if dv != "district" && q.kind != QuestionKind::Single {
                    return Err(fe(f("kind"), "a demographic question is single choice"));
                }
            }
            if let Some(c) = &q.show_if {
                match seen.get(c.question.as_str()) {
                    Some(&j) if j < i => {}
                    _ => {
                        return Err(fe(
                            f("show_if.question"),
                            format!("`{}` is not an earlier question", c.question),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn question(&self, code: &str) -> Option<&QuestionDef> {
        self.questions.iter().find(|q| q.code == code)
    }

    /// Pages of the web form in order.
    pub fn pages(&self) -> Vec<u32> {
        let mut p: Vec<u32> = self.questions.iter().map(|q| q.page).collect();
        p.sort();
        p.dedup();
        p
    }

    /// Whether the change from `self` to `next` is destructive for stored answers (a question
    /// removed, its kind, scale or options changed); text edits are not.
    pub fn is_destructive_change(&self, next: &QuestionnaireDef) -> bool {
        self.questions.iter().any(|q| match next.question(&q.code) {
            None => true,
            Some(n) => {
                n.kind != q.kind
                    || n.scale != q.scale
                    || n.domain != q.domain
                    || n.options.iter().map(|o| &o.code).collect::<Vec<_>>()
                        != q.options.iter().map(|o| &o.code).collect::<Vec<_>>()
            }
        })
    }
}

/// Whether `q` is shown given the answers so far.
pub fn is_shown(q: &QuestionDef, answers: &BTreeMap<String, Value>) -> bool {
    let Some(c) = &q.show_if else { return true };
    match answers.get(&c.question) {
        None | Some(Value::Null) => false,
        Some(Value::Array(xs)) => xs.iter().any(|x| c.any_of.contains(&value_text(x))),
        Some(v) => c.any_of.contains(&value_text(v)),
    }
}

/// Text form of a scalar answer.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 {
                format!("{}", f as i64)
            } else {
                f.to_string()
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::Array(xs) => xs.iter().map(value_text).collect::<Vec<_>>().join(";"),
        _ => String::new(),
    }
}

/// One raw answer as it arrives (form field, CSV cell, JSON value).
#[derive(Debug, Clone)]
pub enum RawAnswer {
    Text(String),
    Many(Vec<String>),
}

/// Parses one raw answer for `q` into its stored JSON form. `Ok(None)` when empty. A numeric
/// answer outside `[min, max]` is accepted and reported in the second value (flag
/// `out_of_range`).
pub fn parse_answer(
    q: &QuestionDef,
    raw: &RawAnswer,
    districts: &[String],
) -> Result<(Option<Value>, bool), String> {
    let text = match raw {
        RawAnswer::Text(s) => s.trim().to_string(),
        RawAnswer::Many(v) => v.join(";"),
    };
    if text.is_empty() {
        return Ok((None, false));
    }
    match q.kind {
        QuestionKind::Likert => {
            if q.dont_know && (text == "dk" || text == "不了解") {
                return Ok((Some(Value::String("dk".into())), false));
            }
            let (lo, hi) = q.scale_range().unwrap_or((1.0, 5.0));
            let x: f64 = text
                .parse()
                .map_err(|_| format!("`{text}` is not a scale point {lo}–{hi}"))?;
            if x.fract() != 0.0 || x < lo || x > hi {
                return Err(format!("`{text}` is not a scale point {lo}–{hi}"));
            }
            Ok((Some(Value::from(x as i64)), false))
        }
        QuestionKind::Single => {
            if q.options.iter().any(|o| o.code == text) {
                Ok((Some(Value::String(text)), false))
            } else {
                Err(format!("`{text}` is not one of the options"))
            }
        }
        QuestionKind::District => {
            if districts.contains(&text) {
                Ok((Some(Value::String(text)), false))
            } else {
                Err(format!("`{text}` is not a district code of this city"))
            }
        }
        QuestionKind::Multiple => {
            let parts: Vec<String> = match raw {
                RawAnswer::Many(v) => v.iter().map(|s| s.trim().to_string()).collect(),
                RawAnswer::Text(s) => s
                    .split([';', '；', ','])
                    .map(|x| x.trim().to_string())
                    .collect(),
            };
            let mut out = Vec::new();
            for p in parts.into_iter().filter(|p| !p.is_empty()) {
                if !q.options.iter().any(|o| o.code == p) {
                    return Err(format!("`{p}` is not one of the options"));
                }
                if !out.contains(&p) {
                    out.push(p);
                }
            }
            if out.is_empty() {
                return Ok((None, false));
            }
            Ok((Some(Value::from(out)), false))
        }
        QuestionKind::Numeric => {
            let x: f64 = text
                .parse()
                .map_err(|_| format!("`{text}` is not a number"))?;
            if !x.is_finite() {
                return Err(format!("`{text}` is not a number"));
            }
            let out = q.min.is_some_and(|m| x < m) || q.max.is_some_and(|m| x > m);
            Ok((Some(Value::from(x)), out))
        }
        QuestionKind::Text => {
            if text.chars().count() > 2000 {
                return Err("text longer than 2000 characters".into());
            }
            Ok((Some(Value::String(text)), false))
        }
    }
}

/// Validated answers of one respondent.
#[derive(Debug, Clone, Default)]
pub struct ParsedAnswers {
    pub answers: BTreeMap<String, Value>,
    pub out_of_range: bool,
}

/// Parses the answers to the questions on `pages` (all pages when `None`), checking required
/// questions that are shown. Errors name the question code.
pub fn parse_answers(
    def: &QuestionnaireDef,
    raw: &BTreeMap<String, RawAnswer>,
    previous: &BTreeMap<String, Value>,
    pages: Option<&[u32]>,
    districts: &[String],
    complete: bool,
) -> Result<ParsedAnswers, FieldError> {
    let mut out = ParsedAnswers {
        answers: previous.clone(),
        out_of_range: false,
    };
    for q in &def.questions {
        if pages.is_some_and(|ps| !ps.contains(&q.page)) {
            continue;
        }
        out.answers.remove(&q.code);
        if !is_shown(q, &out.answers) {
            continue;
        }
        let parsed = match raw.get(&q.code) {
            Some(r) => parse_answer(q, r, districts).map_err(|m| fe(&q.code, m))?,
            None => (None, false),
        };
        match parsed.0 {
            Some(v) => {
                out.out_of_range |= parsed.1;
                out.answers.insert(q.code.clone(), v);
            }
            None if q.required && complete => {
                return Err(fe(&q.code, "this question is required"));
            }
            None => {}
        }
    }
    if complete {
        // Answers to questions hidden by skip logic are dropped; required ones checked again.
        let snapshot = out.answers.clone();
        for q in &def.questions {
            if !is_shown(q, &snapshot) {
                out.answers.remove(&q.code);
            } else if q.required && !out.answers.contains_key(&q.code) {
                return Err(fe(&q.code, "this question is required"));
            }
        }
    }
    Ok(out)
}

/// Demographic values of a respondent from their answers.
pub fn demographics(
    def: &QuestionnaireDef,
    answers: &BTreeMap<String, Value>,
) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for q in &def.questions {
        if let (Some(dv), Some(v)) = (&q.demographic, answers.get(&q.code)) {
            m.insert(dv.clone(), value_text(v));
        }
    }
    m
}

/// Cleaning flags of a completed response (数据清洗): `straight_lining` (8 or more rating items
/// all the same), `speeding` (under 2 s per answered item), `out_of_range` (numeric answer
/// outside its bounds).
pub fn cleaning_flags(
    def: &QuestionnaireDef,
    answers: &BTreeMap<String, Value>,
    duration_s: Option<f64>,
    out_of_range: bool,
) -> Vec<&'static str> {
    let mut flags = Vec::new();
    let ratings: Vec<i64> = def
        .questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Likert)
        .filter_map(|q| answers.get(&q.code).and_then(Value::as_i64))
        .collect();
    if ratings.len() >= 8 && ratings.iter().all(|r| *r == ratings[0]) {
        flags.push("straight_lining");
    }
    if let Some(d) = duration_s
        && d < 2.0 * answers.len() as f64
    {
        flags.push("speeding");
    }
    if out_of_range {
        flags.push("out_of_range");
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(code: &str, kind: QuestionKind) -> QuestionDef {
        QuestionDef {
            code: code.into(),
            kind,
            domain: None,
            indicator_code: None,
            indicator_zh: String::new(),
            indicator_en: String::new(),
            text_zh: "题".into(),
            text_en: String::new(),
            required: true,
            scale: Some(5),
            dont_know: true,
            demographic: None,
            options: vec![
                OptionDef {
                    code: "a".into(),
                    label_zh: "甲".into(),
                    label_en: "A".into(),
                },
                OptionDef {
                    code: "b".into(),
                    label_zh: "乙".into(),
                    label_en: "B".into(),
                },
            ],
            min: Some(0.0),
            max: Some(100.0),
            page: 1,
            show_if: None,
        }
    }

    #[test]
    fn likert_points_and_dont_know() {
        let l = q("L", QuestionKind::Likert);
        assert_eq!(
            parse_answer(&l, &RawAnswer::Text("5".into()), &[])
                .unwrap()
                .0,
            Some(Value::from(5))
        );
        assert!(parse_answer(&l, &RawAnswer::Text("6".into()), &[]).is_err());
        assert!(parse_answer(&l, &RawAnswer::Text("2.5".into()), &[]).is_err());
        assert_eq!(
            parse_answer(&l, &RawAnswer::Text("dk".into()), &[])
                .unwrap()
                .0,
            Some(Value::from("dk"))
        );
        let mut e = l.clone();
        e.scale = Some(11);
        assert!(parse_answer(&e, &RawAnswer::Text("0".into()), &[]).is_ok());
    }

    #[test]
    fn skip_logic_hides_and_relaxes_required() {
        let mut def = QuestionnaireDef {
            code: "T".into(),
            title_zh: "测".into(),
            title_en: String::new(),
            questions: vec![q("A", QuestionKind::Single), q("B", QuestionKind::Text)],
        };
        def.questions[1].show_if = Some(Condition {
            question: "A".into(),
            any_of: vec!["a".into()],
        });
        def.validate().unwrap();
        let mut raw = BTreeMap::new();
        raw.insert("A".to_string(), RawAnswer::Text("b".into()));
        raw.insert("B".to_string(), RawAnswer::Text("ignored".into()));
        let p = parse_answers(&def, &raw, &BTreeMap::new(), None, &[], true).unwrap();
        assert!(!p.answers.contains_key("B"));
        raw.insert("A".to_string(), RawAnswer::Text("a".into()));
        raw.remove("B");
        let e = parse_answers(&def, &raw, &BTreeMap::new(), None, &[], true).unwrap_err();
        assert_eq!(e.field, "B");
    }

    #[test]
    fn flags() {
        let def = QuestionnaireDef {
            code: "T".into(),
            title_zh: "测".into(),
            title_en: String::new(),
            questions: (0..8)
                .map(|i| q(&format!("L{i}"), QuestionKind::Likert))
                .collect(),
        };
        let answers: BTreeMap<String, Value> =
            (0..8).map(|i| (format!("L{i}"), Value::from(3))).collect();
        assert_eq!(
            cleaning_flags(&def, &answers, Some(10.0), true),
            vec!["straight_lining", "speeding", "out_of_range"]
        );
        assert!(cleaning_flags(&def, &answers, Some(100.0), false) == vec!["straight_lining"]);
    }
}
