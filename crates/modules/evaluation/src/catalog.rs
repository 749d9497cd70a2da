//! The built-in frameworks (shared catalogue data shipped with qcity; a city gets its own
//! editable copy on first use): ISO 37120:2018 themes and indicator names (names only: the ISO
//! text is copyrighted and gives no targets), the city quality framework of the seed speech
//! (质量强市: five development-quality dimensions), and the citizen quality satisfaction
//! framework (市民质量满意度: products, construction works, services, environment, public
//! management). Indicators other modules supply use the agreed feed codes (`CQ-SAT`, …).

mod iso37120;
pub use iso37120::iso37120;

/// One node of a catalogue framework.
#[derive(Debug, Clone)]
pub struct CatNode {
    pub code: &'static str,
    pub parent: Option<&'static str>,
    /// 1 indicator, 2 dimension, 3 index.
    pub level: i32,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub definition_zh: &'static str,
    pub definition_en: &'static str,
    pub unit: &'static str,
    pub direction: i32,
    pub band: Option<(f64, f64)>,
    pub target: Option<f64>,
    pub target_year: Option<i32>,
    pub source_zh: &'static str,
    pub source_en: &'static str,
    pub department: &'static str,
    /// `raw` or `ratio`.
    pub computation: &'static str,
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub factor: f64,
    pub weight: f64,
}

/// A catalogue framework.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub key: &'static str,
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub description_zh: &'static str,
    pub description_en: &'static str,
    pub nodes: Vec<CatNode>,
}

const fn blank(code: &'static str, parent: Option<&'static str>, level: i32) -> CatNode {
    CatNode {
        code,
        parent,
        level,
        name_zh: "",
        name_en: "",
        definition_zh: "",
        definition_en: "",
        unit: "",
        direction: 1,
        band: None,
        target: None,
        target_year: None,
        source_zh: "",
        source_en: "",
        department: "",
        computation: "raw",
        numerator: "",
        denominator: "",
        factor: 1.0,
        weight: 1.0,
    }
}

fn agg(
    code: &'static str,
    parent: Option<&'static str>,
    level: i32,
    zh: &'static str,
    en: &'static str,
) -> CatNode {
    CatNode {
        name_zh: zh,
        name_en: en,
        ..blank(code, parent, level)
    }
}

/// A city-quality indicator with its passport.
#[allow(clippy::too_many_arguments)]
fn cq(
    code: &'static str,
    parent: &'static str,
    zh: &'static str,
    en: &'static str,
    def_zh: &'static str,
    def_en: &'static str,
    unit: &'static str,
    direction: i32,
    band: (f64, f64),
    target: f64,
    dept: &'static str,
    source: (&'static str, &'static str),
) -> CatNode {
    CatNode {
        name_zh: zh,
        name_en: en,
        definition_zh: def_zh,
        definition_en: def_en,
        unit,
        direction,
        band: Some(band),
        target: Some(target),
        target_year: Some(2027),
        source_zh: source.0,
        source_en: source.1,
        department: dept,
        ..blank(code, Some(parent), 1)
    }
}

/// Every catalogue framework.
pub fn all() -> Vec<Catalogue> {
    vec![city_quality(), satisfaction(), iso37120()]
}

/// A catalogue by key.
pub fn by_key(key: &str) -> Option<Catalogue> {
    all().into_iter().find(|c| c.key == key)
}

/// The city quality framework (城市质量发展评价指标体系) after the seed speech.
pub fn city_quality() -> Catalogue {
    const STAT: (&str, &str) = ("统计年鉴", "statistical yearbook");
    const SAMR: (&str, &str) = ("市场监管局业务统计", "market regulation bureau statistics");
    let mut n = vec![
        agg(
            "CQ",
            None,
            3,
            "城市质量发展综合指数",
            "City Quality Development Index",
        ),
        agg(
            "CQ-D-ECON",
            Some("CQ"),
            2,
            "经济发展质量",
            "Economic development quality",
        ),
        agg(
            "CQ-D-SOC",
            Some("CQ"),
            2,
            "社会发展质量",
            "Social development quality",
        ),
        agg(
            "CQ-D-ECO",
            Some("CQ"),
            2,
            "生态发展质量",
            "Ecological development quality",
        ),
        agg(
            "CQ-D-UR",
            Some("CQ"),
            2,
            "城乡建设质量",
            "Urban-rural development quality",
        ),
        agg(
            "CQ-D-GOV",
            Some("CQ"),
            2,
            "政务服务质量",
            "Government-service quality",
        ),
    ];
    n.extend([
        cq("CQ-PROD-PASS", "CQ-D-ECON", "产品质量监督抽查合格率", "Product supervision sampling pass rate",
           "本地生产企业产品在各级监督抽查中合格批次占抽查批次的百分比。", "Batches passing government supervision sampling as a share of batches sampled, for products made in the area.",
           "%", 1, (85.0, 100.0), 96.0, "市场监管局", SAMR),
        cq("CQ-MFG-QCI", "CQ-D-ECON", "制造业质量竞争力指数", "Manufacturing quality competitiveness index",
           "按国家质检总局与统计局的 12 项统计指标计算的制造业质量竞争力指数(60–100)。", "The AQSIQ/NBS index of 12 statistical indicators of manufacturing quality (60–100).",
           "点", 1, (75.0, 95.0), 86.0, "市场监管局、统计局", STAT),
        cq("CQ-ENERGY-GDP", "CQ-D-ECON", "万元GDP能耗", "Energy use per 10,000 yuan GDP",
           "能源消费总量(吨标准煤)除以地区生产总值(万元)。", "Total energy consumption (tce) divided by GDP (10,000 yuan).",
           "tce/万元", -1, (0.25, 0.80), 0.40, "发展改革局", ("能源计量监测平台", "energy metering platform")),
        cq("CQ-WATER-GDP", "CQ-D-ECON", "万元GDP用水量", "Water use per 10,000 yuan GDP",
           "用水总量(立方米)除以地区生产总值(万元)。", "Total water use (m³) divided by GDP (10,000 yuan).",
           "m³/万元", -1, (8.0, 60.0), 20.0, "水利局", STAT),
        CatNode {
            computation: "ratio",
            numerator: "地区生产总值(亿元)",
            denominator: "行政区域面积(km²)",
            factor: 1.0,
            ..cq("CQ-OUTPUT-KM2", "CQ-D-ECON", "地均经济产出", "Economic output per km²",
               "地区生产总值除以行政区域土地面积。", "GDP divided by land area.",
               "亿元/km²", 1, (0.5, 15.0), 8.0, "统计局", STAT)
        },
        cq("CQ-RD-GDP", "CQ-D-ECON", "研发经费投入强度", "R&D expenditure as % of GDP",
           "全社会研究与试验发展经费支出占地区生产总值的百分比。", "Gross expenditure on R&D as a percentage of GDP.",
           "%", 1, (0.5, 4.0), 3.0, "科技局", STAT),
        cq("CQ-SAT", "CQ-D-SOC", "市民质量满意度", "Citizen quality satisfaction",
           "第三方市民质量满意度测评的总体得分(0–100)。", "Overall score of the third-party citizen quality satisfaction survey (0–100).",
           "分", 1, (60.0, 90.0), 85.0, "市场监管局", ("市民质量满意度测评", "citizen satisfaction survey")),
        cq("CQ-COMPLAINT-DONE", "CQ-D-SOC", "消费投诉按期办结率", "Consumer complaints closed on time",
           "按规定时限办结的消费投诉占受理投诉的百分比。", "Consumer complaints closed within the statutory time as a share of complaints accepted.",
           "%", 1, (80.0, 100.0), 98.0, "市场监管局", SAMR),
        cq("CQ-DOCTORS", "CQ-D-SOC", "每千人口执业(助理)医师数", "Physicians per 1,000 population",
           "执业(助理)医师人数除以常住人口(千人)。", "Licensed (assistant) physicians per 1,000 resident population.",
           "人/千人", 1, (1.5, 4.5), 3.5, "卫生健康委", STAT),
        cq("CQ-AIR-GOOD", "CQ-D-ECO", "空气质量优良天数比例", "Days with good air quality",
           "空气质量指数(AQI)不超过 100 的天数占全年有效监测天数的百分比。", "Days with AQI ≤ 100 as a share of valid monitoring days.",
           "%", 1, (70.0, 100.0), 92.0, "生态环境局", ("环境监测公报", "environmental bulletin")),
        cq("CQ-WATER-GOOD", "CQ-D-ECO", "地表水优良水体比例", "Surface water of good quality",
           "达到或优于Ⅲ类的地表水监测断面比例。", "Surface-water sections at Grade III or better.",
           "%", 1, (50.0, 100.0), 90.0, "生态环境局", ("环境监测公报", "environmental bulletin")),
        cq("CQ-GREEN", "CQ-D-ECO", "建成区绿地率", "Green space ratio of the built-up area",
           "建成区内各类绿地面积占建成区面积的百分比。", "Green space as a share of the built-up area.",
           "%", 1, (25.0, 45.0), 40.0, "园林局", STAT),
        cq("CQ-ENERGY-COVERAGE", "CQ-D-ECO", "重点用能单位计量覆盖率", "Metering coverage of key energy users",
           "接入能源计量在线监测的重点用能单位占重点用能单位总数的百分比。", "Key energy-using units connected to online metering as a share of all key units.",
           "%", 1, (60.0, 100.0), 100.0, "市场监管局(计量)", ("能源计量监测平台", "energy metering platform")),
        cq("CQ-ELEV-TRAP", "CQ-D-UR", "电梯万台困人率", "Elevator trappings per 10,000 elevators",
           "每月每万台电梯困人故障次数的年平均值。", "Trapped-passenger incidents per 10,000 elevators per month, yearly mean.",
           "次/万台·月", -1, (0.5, 6.0), 1.5, "市场监管局(特种设备)", ("96333 电梯应急处置平台", "96333 elevator emergency platform")),
        cq("CQ-ELEV-ARRIVE30", "CQ-D-UR", "电梯困人 30 分钟到场率", "Elevator rescues on scene within 30 min",
           "维保人员 30 分钟内到达现场的困人救援占全部困人救援的百分比。", "Rescues reached within 30 minutes as a share of all rescues.",
           "%", 1, (80.0, 100.0), 98.0, "市场监管局(特种设备)", ("96333 电梯应急处置平台", "96333 elevator emergency platform")),
        cq("CQ-SE-INSPECT", "CQ-D-UR", "特种设备定期检验率", "Special equipment inspected on time",
           "按期完成定期检验的在用特种设备占应检设备的百分比。", "In-use special equipment inspected on time as a share of equipment due.",
           "%", 1, (85.0, 100.0), 99.5, "市场监管局(特种设备)", ("特种设备登记系统", "special equipment registry")),
        cq("CQ-WORKS-PASS", "CQ-D-UR", "建设工程竣工验收合格率", "Construction works passing final acceptance",
           "一次通过竣工验收的工程占竣工工程的百分比。", "Works passing final acceptance at first attempt as a share of completed works.",
           "%", 1, (90.0, 100.0), 100.0, "住房城乡建设局", ("工程质量监督站", "works quality supervision station")),
        cq("CQ-INCOME-RATIO", "CQ-D-UR", "城乡居民收入比", "Urban-rural income ratio",
           "城镇居民人均可支配收入与农村居民人均可支配收入之比。", "Urban per-capita disposable income divided by rural per-capita disposable income.",
           "倍", -1, (1.5, 2.8), 1.8, "统计局", STAT),
        cq("CQ-GOV-ONLINE", "CQ-D-GOV", "政务服务事项网上可办率", "Government services available online",
           "可全程网上办理的政务服务事项占全部事项的百分比。", "Government service items that can be completed online as a share of all items.",
           "%", 1, (60.0, 100.0), 95.0, "政务服务管理局", ("政务服务平台", "government service platform")),
        cq("CQ-SAT-PUBLIC", "CQ-D-GOV", "公共管理质量满意度", "Satisfaction with public management quality",
           "市民质量满意度测评中公共管理领域得分(0–100)。", "Public-management domain score of the citizen satisfaction survey (0–100).",
           "分", 1, (60.0, 90.0), 85.0, "市场监管局", ("市民质量满意度测评", "citizen satisfaction survey")),
        cq("CQ-STANDARDS", "CQ-D-GOV", "主导制修订标准数", "Standards led (national/sector/group)",
           "本地单位主导制定或修订的国家、行业和团体标准数(项)。", "National, sector and association standards whose drafting was led by local bodies (count).",
           "项", 1, (0.0, 30.0), 20.0, "市场监管局(标准化)", SAMR),
    ]);
    Catalogue {
        key: "city_quality",
        code: "CQ",
        name_zh: "城市质量发展评价指标体系",
        name_en: "City quality development framework",
        description_zh: "依据质量强市讲话:经济、社会、生态、城乡建设与政务服务五个维度的发展质量。",
        description_en: "After the quality-strong-city speech: economic, social, ecological, urban-rural and government-service development quality.",
        nodes: n,
    }
}

/// The citizen quality satisfaction framework (five domains).
pub fn satisfaction() -> Catalogue {
    const SRC: (&str, &str) = ("市民质量满意度测评", "citizen satisfaction survey");
    let s = |code, parent, zh, en| {
        cq(
            code,
            parent,
            zh,
            en,
            "第三方问卷测评得分(0–100)。",
            "Third-party questionnaire score (0–100).",
            "分",
            1,
            (60.0, 90.0),
            85.0,
            "市场监管局",
            SRC,
        )
    };
    let mut n = vec![
        agg(
            "CS",
            None,
            3,
            "市民质量满意度指数",
            "Citizen quality satisfaction index",
        ),
        agg("CS-D-PRODUCT", Some("CS"), 2, "产品质量", "Product quality"),
        agg(
            "CS-D-CONSTRUCTION",
            Some("CS"),
            2,
            "工程质量",
            "Construction works quality",
        ),
        agg("CS-D-SERVICE", Some("CS"), 2, "服务质量", "Service quality"),
        agg(
            "CS-D-ENVIRONMENT",
            Some("CS"),
            2,
            "环境质量",
            "Environmental quality",
        ),
        agg(
            "CS-D-PUBLIC",
            Some("CS"),
            2,
            "公共管理质量",
            "Public management quality",
        ),
    ];
    n.extend([
        s(
            "CQ-SAT-PRODUCT",
            "CS-D-PRODUCT",
            "产品质量总体满意度",
            "Overall product quality satisfaction",
        ),
        s(
            "CS-FOOD",
            "CS-D-PRODUCT",
            "食品质量满意度",
            "Food quality satisfaction",
        ),
        s(
            "CS-DRUG",
            "CS-D-PRODUCT",
            "药品质量满意度",
            "Drug quality satisfaction",
        ),
        s(
            "CS-GOODS",
            "CS-D-PRODUCT",
            "日用消费品质量满意度",
            "Consumer goods satisfaction",
        ),
        s(
            "CQ-SAT-CONSTRUCTION",
            "CS-D-CONSTRUCTION",
            "工程质量总体满意度",
            "Overall construction quality satisfaction",
        ),
        s(
            "CS-HOUSING",
            "CS-D-CONSTRUCTION",
            "住宅工程质量满意度",
            "Housing construction satisfaction",
        ),
        s(
            "CS-ROADS",
            "CS-D-CONSTRUCTION",
            "道路桥梁质量满意度",
            "Roads and bridges satisfaction",
        ),
        s(
            "CQ-SAT-SERVICE",
            "CS-D-SERVICE",
            "服务质量总体满意度",
            "Overall service quality satisfaction",
        ),
        s(
            "CS-TRANSPORT",
            "CS-D-SERVICE",
            "公共交通服务满意度",
            "Public transport satisfaction",
        ),
        s(
            "CS-HEALTH",
            "CS-D-SERVICE",
            "医疗服务满意度",
            "Health service satisfaction",
        ),
        s(
            "CQ-SAT-ENVIRONMENT",
            "CS-D-ENVIRONMENT",
            "环境质量总体满意度",
            "Overall environmental quality satisfaction",
        ),
        s(
            "CS-AIR",
            "CS-D-ENVIRONMENT",
            "空气质量满意度",
            "Air quality satisfaction",
        ),
        s(
            "CS-WATER",
            "CS-D-ENVIRONMENT",
            "水环境满意度",
            "Water environment satisfaction",
        ),
        s(
            "CQ-SAT-PUBLIC",
            "CS-D-PUBLIC",
            "公共管理总体满意度",
            "Overall public management satisfaction",
        ),
        s(
            "CS-SAFETY",
            "CS-D-PUBLIC",
            "质量安全监管满意度",
            "Quality-safety supervision satisfaction",
        ),
        s(
            "CS-GOVSERV",
            "CS-D-PUBLIC",
            "政务服务满意度",
            "Government service satisfaction",
        ),
    ]);
    Catalogue {
        key: "satisfaction",
        code: "CS",
        name_zh: "市民质量满意度指标体系",
        name_en: "Citizen quality satisfaction framework",
        description_zh: "产品、工程、服务、环境、公共管理五个领域的市民质量满意度。",
        description_en: "Citizen satisfaction with products, construction works, services, environment and public management.",
        nodes: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_are_valid_trees() {
        for c in all() {
            let codes: std::collections::BTreeSet<&str> = c.nodes.iter().map(|n| n.code).collect();
            assert_eq!(codes.len(), c.nodes.len(), "{}: duplicate codes", c.key);
            for n in &c.nodes {
                if let Some(p) = n.parent {
                    let pn = c.nodes.iter().find(|x| x.code == p).expect("parent exists");
                    assert_eq!(pn.level, n.level + 1, "{}", n.code);
                }
                if n.level == 1 {
                    assert!(!n.name_zh.is_empty() && !n.name_en.is_empty());
                    if let Some((lo, hi)) = n.band {
                        assert!(lo < hi, "{}", n.code);
                    }
                }
            }
        }
    }

    /// Every ISO indicator sits in its theme's clause: `ISO-cc.n` (2018 clause cc.n, confirmed) or
    /// `ISO-cc-Xn` (clause not confirmed), with cc the theme's clause (5–23).
    #[test]
    fn iso_codes_follow_their_theme_clause() {
        let iso = iso37120();
        let mut clauses = std::collections::BTreeSet::new();
        for n in iso.nodes.iter().filter(|n| n.level == 1) {
            let theme = n.parent.expect("indicator has a theme");
            let rest = n.code.strip_prefix(theme).expect(n.code);
            if let Some(k) = rest.strip_prefix(".") {
                let k: u32 = k.parse().expect(n.code);
                assert!(k >= 1, "{}", n.code);
                clauses.insert(n.code);
            } else {
                let k: u32 = rest
                    .strip_prefix("-X")
                    .and_then(|k| k.parse().ok())
                    .expect(n.code);
                assert!(k >= 1, "{}", n.code);
            }
        }
        for t in iso.nodes.iter().filter(|n| n.level == 2) {
            let cc: u32 = t
                .code
                .strip_prefix("ISO-")
                .and_then(|c| c.parse().ok())
                .expect(t.code);
            assert!((5..=23).contains(&cc), "{}", t.code);
        }
        let indicators = iso.nodes.iter().filter(|n| n.level == 1).count();
        assert!(indicators <= 104, "the 2018 edition has 104 indicators");
        assert!(clauses.len() >= 50);
    }

    #[test]
    fn iso_has_19_themes_and_agreed_feed_codes_exist() {
        let iso = iso37120();
        assert_eq!(iso.nodes.iter().filter(|n| n.level == 2).count(), 19);
        let cq = city_quality();
        for code in [
            "CQ-SAT",
            "CQ-ELEV-TRAP",
            "CQ-ELEV-ARRIVE30",
            "CQ-SE-INSPECT",
            "CQ-ENERGY-GDP",
            "CQ-ENERGY-COVERAGE",
            "CQ-SAT-PUBLIC",
        ] {
            assert!(cq.nodes.iter().any(|n| n.code == code), "{code}");
        }
        assert_eq!(cq.nodes.iter().filter(|n| n.level == 2).count(), 5);
        let cs = satisfaction();
        for code in [
            "CQ-SAT-PRODUCT",
            "CQ-SAT-CONSTRUCTION",
            "CQ-SAT-SERVICE",
            "CQ-SAT-ENVIRONMENT",
            "CQ-SAT-PUBLIC",
        ] {
            assert!(cs.nodes.iter().any(|n| n.code == code), "{code}");
        }
    }
}
