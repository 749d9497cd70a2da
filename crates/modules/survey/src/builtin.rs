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

/// (domain, code, indicator code, zh, en) of the rating items: 78 indicators over the five
/// domains (产品 16, 工程 14, 服务 20, 环境 14, 公共管理 14, after Xiamen's measurement system),
/// then the two overall-satisfaction items (the model's target).
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
        "Daily consumer goods",
    ),
    (
        "product",
        "P04",
        "P-AFTERSALES",
        "产品售后服务",
        "After-sales service of products",
    ),
    (
        "product",
        "P05",
        "P-AGRI",
        "食用农产品质量",
        "Edible farm produce",
    ),
    (
        "product",
        "P06",
        "P-INFANT",
        "乳制品与婴幼儿食品",
        "Dairy and infant food",
    ),
    ("product", "P07", "P-HEALTHFOOD", "保健食品", "Health foods"),
    (
        "product",
        "P08",
        "P-MEDDEVICE",
        "医疗器械",
        "Medical devices",
    ),
    ("product", "P09", "P-COSMETIC", "化妆品", "Cosmetics"),
    (
        "product",
        "P10",
        "P-APPLIANCE",
        "家用电器",
        "Household appliances",
    ),
    ("product", "P11", "P-AUTO", "汽车", "Automobiles"),
    (
        "product",
        "P12",
        "P-EBIKE",
        "电动自行车",
        "Electric bicycles",
    ),
    (
        "product",
        "P13",
        "P-CHILD",
        "儿童用品与玩具",
        "Children's products and toys",
    ),
    (
        "product",
        "P14",
        "P-TEXTILE",
        "服装鞋帽与纺织品",
        "Clothing, shoes and textiles",
    ),
    (
        "product",
        "P15",
        "P-BUILDMAT",
        "建筑装饰装修材料",
        "Building and decoration materials",
    ),
    (
        "product",
        "P16",
        "P-FUEL",
        "成品油与瓶装燃气",
        "Motor fuel and bottled gas",
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
        "城市道路工程质量",
        "City roads",
    ),
    (
        "construction",
        "C03",
        "C-PUBLIC",
        "公共建筑与设施质量",
        "Public buildings and facilities",
    ),
    (
        "construction",
        "C04",
        "C-BRIDGE",
        "桥梁与隧道工程质量",
        "Bridges and tunnels",
    ),
    (
        "construction",
        "C05",
        "C-WATERSUPPLY",
        "供水工程与管网",
        "Water supply works and mains",
    ),
    (
        "construction",
        "C06",
        "C-DRAINAGE",
        "排水与防涝设施",
        "Drainage and flood control",
    ),
    (
        "construction",
        "C07",
        "C-GASPIPE",
        "燃气管网工程",
        "Gas pipelines",
    ),
    (
        "construction",
        "C08",
        "C-METRO",
        "轨道交通工程",
        "Metro and rail works",
    ),
    (
        "construction",
        "C09",
        "C-SCHOOL",
        "学校校舍质量",
        "School buildings",
    ),
    (
        "construction",
        "C10",
        "C-HOSPITAL",
        "医院建筑质量",
        "Hospital buildings",
    ),
    (
        "construction",
        "C11",
        "C-OLDRENO",
        "老旧小区改造质量",
        "Renovation of old residential estates",
    ),
    (
        "construction",
        "C12",
        "C-AFFORDABLE",
        "保障性住房质量",
        "Affordable housing",
    ),
    (
        "construction",
        "C13",
        "C-PARKS",
        "公园与广场设施",
        "Parks and squares",
    ),
    (
        "construction",
        "C14",
        "C-SITE",
        "施工现场文明管理",
        "Construction-site management",
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
        "商贸零售服务质量",
        "Retail services",
    ),
    (
        "service",
        "S05",
        "S-CATERING",
        "餐饮服务质量",
        "Catering services",
    ),
    (
        "service",
        "S06",
        "S-TOURISM",
        "旅游服务质量",
        "Tourism services",
    ),
    (
        "service",
        "S07",
        "S-HOTEL",
        "住宿服务质量",
        "Hotels and lodging",
    ),
    (
        "service",
        "S08",
        "S-BANK",
        "银行金融服务",
        "Banking services",
    ),
    (
        "service",
        "S09",
        "S-INSURANCE",
        "保险服务",
        "Insurance services",
    ),
    (
        "service",
        "S10",
        "S-TELECOM",
        "通信服务",
        "Telecommunication services",
    ),
    (
        "service",
        "S11",
        "S-POSTAL",
        "邮政快递服务",
        "Postal and courier services",
    ),
    (
        "service",
        "S12",
        "S-EDUCATION",
        "教育服务质量",
        "Education services",
    ),
    (
        "service",
        "S13",
        "S-PROPERTY",
        "物业管理服务",
        "Property management",
    ),
    (
        "service",
        "S14",
        "S-UTILITY",
        "水电气公用事业服务",
        "Water, power and gas utilities",
    ),
    (
        "service",
        "S15",
        "S-TAXI",
        "出租车与网约车服务",
        "Taxis and ride-hailing",
    ),
    (
        "service",
        "S16",
        "S-ELDERLY",
        "养老服务",
        "Elderly care services",
    ),
    (
        "service",
        "S17",
        "S-HOUSEKEEPING",
        "家政服务",
        "Domestic services",
    ),
    (
        "service",
        "S18",
        "S-REPAIR",
        "汽车与家电维修服务",
        "Vehicle and appliance repair",
    ),
    (
        "service",
        "S19",
        "S-CULTURE",
        "公共文化体育服务",
        "Public culture and sports services",
    ),
    (
        "service",
        "S20",
        "S-ECOMMERCE",
        "电子商务服务",
        "E-commerce services",
    ),
    ("environment", "E01", "E-AIR", "空气质量", "Air quality"),
    (
        "environment",
        "E02",
        "E-WATER",
        "河流湖库水环境",
        "Rivers and lakes",
    ),
    ("environment", "E03", "E-NOISE", "声环境（噪声）", "Noise"),
    (
        "environment",
        "E04",
        "E-GREEN",
        "城市绿化",
        "Urban greenery",
    ),
    (
        "environment",
        "E05",
        "E-DRINKING",
        "饮用水质量",
        "Drinking water",
    ),
    (
        "environment",
        "E06",
        "E-COAST",
        "近岸海域环境",
        "Coastal waters",
    ),
    (
        "environment",
        "E07",
        "E-SANITATION",
        "道路保洁与环境卫生",
        "Street cleaning and sanitation",
    ),
    (
        "environment",
        "E08",
        "E-WASTE",
        "生活垃圾分类与处理",
        "Household waste sorting and disposal",
    ),
    (
        "environment",
        "E09",
        "E-TOILET",
        "公共厕所",
        "Public toilets",
    ),
    ("environment", "E10", "E-CITYSCAPE", "市容市貌", "Cityscape"),
    ("environment", "E11", "E-SOIL", "土壤环境", "Soil"),
    (
        "environment",
        "E12",
        "E-ODOUR",
        "异味与油烟污染治理",
        "Odour and cooking-fume control",
    ),
    (
        "environment",
        "E13",
        "E-ECOLOGY",
        "山林湿地生态保护",
        "Forests and wetlands",
    ),
    (
        "environment",
        "E14",
        "E-COMMUNITY",
        "社区人居环境",
        "Neighbourhood living environment",
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
        "public",
        "G04",
        "G-STANDARD",
        "标准化工作",
        "Standardisation",
    ),
    (
        "public",
        "G05",
        "G-METROLOGY",
        "计量监督（缺斤短两治理）",
        "Metrology supervision (short weight)",
    ),
    (
        "public",
        "G06",
        "G-CERT",
        "认证认可工作",
        "Certification and accreditation",
    ),
    (
        "public",
        "G07",
        "G-TESTING",
        "检验检测服务",
        "Inspection and testing services",
    ),
    (
        "public",
        "G08",
        "G-SPECIALEQUIP",
        "特种设备（电梯等）安全监管",
        "Special-equipment (lift etc.) safety",
    ),
    (
        "public",
        "G09",
        "G-CONSUMER",
        "消费者权益保护",
        "Consumer rights protection",
    ),
    (
        "public",
        "G10",
        "G-COUNTERFEIT",
        "打击假冒伪劣",
        "Fight against counterfeits",
    ),
    (
        "public",
        "G11",
        "G-RECALL",
        "缺陷产品召回",
        "Recall of defective products",
    ),
    (
        "public",
        "G12",
        "G-CREDIT",
        "企业质量信用建设",
        "Enterprise quality credit",
    ),
    ("public", "G13", "G-BRAND", "质量品牌建设", "Quality brands"),
    (
        "public",
        "G14",
        "G-AWARENESS",
        "质量宣传与知识普及",
        "Quality awareness campaigns",
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

/// The standard questionnaire's last page (overall satisfaction, experiences, suggestions).
pub const LAST_PAGE: u32 = 7;

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
            "product" => 2,
            "construction" => 3,
            "service" => 4,
            "environment" => 5,
            "public" => 6,
            _ => LAST_PAGE,
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
        LAST_PAGE,
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
        LAST_PAGE,
    );
    complained.required = false;
    complained.options = vec![opt("yes", "是", "Yes"), opt("no", "否", "No")];
    qs.push(complained);
    let mut handled = base(
        "X3",
        QuestionKind::Likert,
        "您对投诉处理结果的满意程度？",
        "How satisfied were you with how the complaint was handled?",
        LAST_PAGE,
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
        LAST_PAGE,
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

    #[test]
    fn standard_has_78_indicators_over_five_domains() {
        let d = super::standard();
        let mut per: std::collections::BTreeMap<&str, usize> = Default::default();
        for q in &d.questions {
            if let Some(dm) = q.domain.as_deref().filter(|x| *x != "overall") {
                *per.entry(dm).or_default() += 1;
                assert!(
                    !q.text_en.is_empty() && !q.indicator_en.is_empty(),
                    "{}",
                    q.code
                );
            }
        }
        assert_eq!(per.values().sum::<usize>(), 78);
        assert_eq!(per.len(), 5);
        let mut inds: Vec<_> = d
            .questions
            .iter()
            .filter_map(|q| q.indicator_code.clone())
            .collect();
        let n = inds.len();
        inds.sort();
        inds.dedup();
        assert_eq!(inds.len(), n, "indicator codes are unique");
    }
}
