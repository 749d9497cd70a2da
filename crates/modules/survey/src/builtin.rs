//! The standard questionnaire of the citizen quality-satisfaction survey: demographics for
//! weighting, rating items for the five domains (a 5-point scale with 不了解), overall
//! satisfaction, and open suggestions. A starting point the bureau edits (edits of a
//! questionnaire with responses make a new version).

use crate::model::{Condition, OptionDef, QuestionDef, QuestionKind, QuestionnaireDef};

fn opt(code: &str, zh: &str, en: &str) -> OptionDef {
    OptionDef {
        code: code.into(),
        label_zh: zh.into(),
        label_en: en.into(),
    }
}

fn base(code: &str, kind: QuestionKind, zh: &str, en: &str, page: u32) -> QuestionDef {
    QuestionDef {
        code: code.into(),
        kind,
        domain: None,
        indicator_code: None,
        indicator_zh: String::new(),
        indicator_en: String::new(),
        text_zh: zh.into(),
        text_en: en.into(),
        required: true,
        scale: None,
        dont_know: false,
        demographic: None,
        options: vec![],
        min: None,
        max: None,
        page,
        show_if: None,
    }
}

fn demo(code: &str, var: &str, zh: &str, en: &str, options: Vec<OptionDef>) -> QuestionDef {
    let mut q = base(
        code,
        if var == "district" {
            QuestionKind::District
        } else {
            QuestionKind::Single
        },
        zh,
        en,
        1,
    );
    q.demographic = Some(var.into());
    q.options = options;
    q
}

/// Age groups, sex, education and residence categories (codes used in margins and quotas).
pub fn age_groups() -> Vec<OptionDef> {
    vec![
        opt("18-29", "18–29岁", "18–29"),
        opt("30-44", "30–44岁", "30–44"),
        opt("45-59", "45–59岁", "45–59"),
        opt("60+", "60岁及以上", "60 and over"),
    ]
}
pub fn sexes() -> Vec<OptionDef> {
    vec![opt("m", "男", "Male"), opt("f", "女", "Female")]
}
pub fn educations() -> Vec<OptionDef> {
    vec![
        opt("low", "初中及以下", "Lower secondary or less"),
        opt("mid", "高中/中专", "Upper secondary"),
        opt("high", "大专及以上", "Tertiary"),
    ]
}
pub fn residences() -> Vec<OptionDef> {
    vec![
        opt("lt1", "不足1年", "Under 1 year"),
        opt("1-5", "1–5年", "1–5 years"),
        opt("gt5", "5年以上", "Over 5 years"),
    ]
}

/// (domain, code, indicator code, zh, en) of the rating items.
pub const ITEMS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "product",
        "P01",
        "P-FOOD",
        "食品质量安全",
        "Food quality and safety",
    ),
    (
        "product",
        "P02",
        "P-DRUG",
        "药品质量安全",
        "Drug quality and safety",
    ),
    (
        "product",
        "P03",
        "P-CONSUMER",
        "日用消费品质量",
        "Consumer goods quality",
    ),
    (
        "product",
        "P04",
        "P-AFTERSALES",
        "产品售后服务",
        "After-sales service of products",
    ),
    (
        "construction",
        "C01",
        "C-HOUSING",
        "住宅工程质量",
        "Housing construction quality",
    ),
    (
        "construction",
        "C02",
        "C-ROADS",
        "道路桥梁工程质量",
        "Roads and bridges",
    ),
    (
        "construction",
        "C03",
        "C-PUBLIC",
        "公共建筑与设施质量",
        "Public buildings and facilities",
    ),
    (
        "service",
        "S01",
        "S-MEDICAL",
        "医疗服务质量",
        "Medical services",
    ),
    (
        "service",
        "S02",
        "S-TRANSPORT",
        "公共交通服务质量",
        "Public transport",
    ),
    (
        "service",
        "S03",
        "S-GOV",
        "政务窗口服务质量",
        "Government service counters",
    ),
    (
        "service",
        "S04",
        "S-RETAIL",
        "商贸餐饮服务质量",
        "Retail and catering services",
    ),
    ("environment", "E01", "E-AIR", "空气质量", "Air quality"),
    (
        "environment",
        "E02",
        "E-WATER",
        "水环境质量",
        "Water environment",
    ),
    ("environment", "E03", "E-NOISE", "声环境（噪声）", "Noise"),
    (
        "environment",
        "E04",
        "E-GREEN",
        "市容绿化",
        "Cityscape and greenery",
    ),
    (
        "public",
        "G01",
        "G-SUPERVISION",
        "质量监管工作",
        "Quality supervision",
    ),
    (
        "public",
        "G02",
        "G-COMPLAINT",
        "质量投诉处理",
        "Handling of quality complaints",
    ),
    (
        "public",
        "G03",
        "G-INFO",
        "质量信息公开",
        "Openness of quality information",
    ),
    (
        "overall",
        "O01",
        "O-OVERALL",
        "对本市质量状况的总体满意度",
        "Overall satisfaction with the city's quality",
    ),
    (
        "overall",
        "O02",
        "O-IDEAL",
        "与理想中的质量相比",
        "Compared with the ideal quality",
    ),
];

/// The standard questionnaire (code `CQS`).
pub fn standard() -> QuestionnaireDef {
    let mut qs = vec![
        demo(
            "D1",
            "district",
            "您居住在哪个区（县）？",
            "Which district do you live in?",
            vec![],
        ),
        demo("D2", "age_group", "您的年龄", "Your age", age_groups()),
        demo("D3", "sex", "您的性别", "Your sex", sexes()),
        demo(
            "D4",
            "education",
            "您的文化程度",
            "Your education",
            educations(),
        ),
        demo(
            "D5",
            "residence",
            "您在本市居住了多久？",
            "How long have you lived in the city?",
            residences(),
        ),
    ];
    for (domain, code, ind, zh, en) in ITEMS {
        let page = match *domain {
            "product" | "construction" => 2,
            "service" | "environment" => 3,
            _ => 4,
        };
        let mut q = base(
            code,
            QuestionKind::Likert,
            &format!("您对本市{zh}的满意程度如何？"),
            &format!("How satisfied are you with: {en}?"),
            page,
        );
        q.domain = Some(domain.to_string());
        q.indicator_code = Some(ind.to_string());
        q.indicator_zh = zh.to_string();
        q.indicator_en = en.to_string();
        q.scale = Some(5);
        q.dont_know = *domain != "overall";
        qs.push(q);
    }
    let mut used = base(
        "X1",
        QuestionKind::Multiple,
        "过去一年您遇到过哪些质量问题？（可多选）",
        "Which quality problems did you meet in the past year? (any)",
        4,
    );
    used.required = false;
    used.options = vec![
        opt("fake", "假冒伪劣商品", "Counterfeit goods"),
        opt("food", "食品安全问题", "Food safety"),
        opt("housing", "房屋质量问题", "Housing defects"),
        opt("service", "服务质量问题", "Poor service"),
        opt("none", "没有遇到", "None"),
    ];
    qs.push(used);
    let mut complained = base(
        "X2",
        QuestionKind::Single,
        "您是否就质量问题进行过投诉？",
        "Did you complain about a quality problem?",
        4,
    );
    complained.required = false;
    complained.options = vec![opt("yes", "是", "Yes"), opt("no", "否", "No")];
    qs.push(complained);
    let mut handled = base(
        "X3",
        QuestionKind::Likert,
        "您对投诉处理结果的满意程度？",
        "How satisfied were you with how the complaint was handled?",
        4,
    );
    handled.scale = Some(5);
    handled.required = false;
    handled.show_if = Some(Condition {
        question: "X2".into(),
        any_of: vec!["yes".into()],
    });
    qs.push(handled);
    let mut sug = base(
        "T1",
        QuestionKind::Text,
        "您对提升本市质量工作有什么意见和建议？",
        "What would you suggest to improve quality in the city?",
        4,
    );
    sug.required = false;
    qs.push(sug);
    QuestionnaireDef {
        code: "CQS".into(),
        title_zh: "市民质量满意度测评问卷".into(),
        title_en: "Citizen quality satisfaction questionnaire".into(),
        questions: qs,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn standard_is_valid() {
        super::standard().validate().unwrap();
    }
}
