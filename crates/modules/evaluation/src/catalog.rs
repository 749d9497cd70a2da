//! The built-in frameworks (shared catalogue data shipped with qcity; a city gets its own
//! editable copy on first use): ISO 37120:2018 themes and indicator names (names only: the ISO
//! text is copyrighted and gives no targets), the city quality framework of the seed speech
//! (质量强市: five development-quality dimensions), and the citizen quality satisfaction
//! framework (市民质量满意度: products, construction works, services, environment, public
//! management). Indicators other modules supply use the agreed feed codes (`CQ-SAT`, …).

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

/// ISO 37120:2018 (Sustainable cities and communities — Indicators for city services and
/// quality of life): its 19 themes and 99 of its 104 indicator names. Names only; the standard
/// sets no targets, so no bands or targets are given.
///
/// Codes `ISO-cc.n` carry the indicator's 2018 clause number where a public source shows it: the
/// indicator portal of Kópavogur (a WCCD-certified city publishing its ISO 37120:2018 values
/// under the clause codes, kopavogur.nightingale.is). Codes `ISO-cc-Xn` are indicators named in
/// public ISO 37120 sources (that portal without a clause number; the 2014 edition's table of
/// contents) whose 2018 clause number is not confirmed. The remaining names are in the
/// copyrighted standard only; a city adds them in the structure editor.
pub fn iso37120() -> Catalogue {
    type Ind = (&'static str, &'static str, &'static str, &'static str, i32);
    let themes: Vec<(&'static str, &'static str, &'static str, Vec<Ind>)> = vec![
        (
            "ISO-05",
            "经济",
            "Economy",
            vec![
                (
                    "ISO-05.1",
                    "城市失业率",
                    "City's unemployment rate",
                    "%",
                    -1,
                ),
                (
                    "ISO-05.2",
                    "工商业房产评估价值占全部房产评估价值的百分比",
                    "Assessed value of commercial and industrial properties as a percentage of total assessed value of all properties",
                    "%",
                    1,
                ),
                (
                    "ISO-05.3",
                    "全职就业人口百分比",
                    "Percentage of persons in full-time employment",
                    "%",
                    1,
                ),
                ("ISO-05.4", "青年失业率", "Youth unemployment rate", "%", -1),
                (
                    "ISO-05.7",
                    "每 10 万人年过夜访客停留数",
                    "Annual number of visitor stays (overnight) per 100 000 population",
                    "per 100 000",
                    1,
                ),
                (
                    "ISO-05-X1",
                    "每 10 万人企业数",
                    "Number of businesses per 100 000 population",
                    "per 100 000",
                    1,
                ),
                (
                    "ISO-05-X2",
                    "每 10 万人每年新增专利数",
                    "Number of new patents per 100 000 population per year",
                    "per 100 000",
                    1,
                ),
            ],
        ),
        (
            "ISO-06",
            "教育",
            "Education",
            vec![
                (
                    "ISO-06.2",
                    "完成初等教育的学生百分比(保留率)",
                    "Percentage of students completing primary education: survival rate",
                    "%",
                    1,
                ),
                (
                    "ISO-06.3",
                    "完成中等教育的学生百分比(保留率)",
                    "Percentage of students completing secondary education: survival rate",
                    "%",
                    1,
                ),
                (
                    "ISO-06.4",
                    "小学生师比",
                    "Primary education student–teacher ratio",
                    "ratio",
                    -1,
                ),
                (
                    "ISO-06.5",
                    "学龄人口入学率",
                    "Percentage of school-aged population enrolled in schools",
                    "%",
                    1,
                ),
                (
                    "ISO-06-X1",
                    "学龄女性入学率",
                    "Percentage of female school-aged population enrolled in schools",
                    "%",
                    1,
                ),
                (
                    "ISO-06-X2",
                    "每 10 万人高等教育学位数",
                    "Number of higher education degrees per 100 000 population",
                    "per 100 000",
                    1,
                ),
            ],
        ),
        (
            "ISO-07",
            "能源",
            "Energy",
            vec![
                (
                    "ISO-07.2",
                    "可再生能源占终端能源消费的百分比",
                    "Percentage of total end-use energy derived from renewable sources",
                    "%",
                    1,
                ),
                (
                    "ISO-07.3",
                    "获得合法供电服务的人口百分比",
                    "Percentage of city population with authorized electrical service (residential)",
                    "%",
                    1,
                ),
                (
                    "ISO-07.4",
                    "每 10 万人燃气配送服务连接数",
                    "Number of gas distribution service connections per 100 000 population (residential)",
                    "per 100 000",
                    1,
                ),
                (
                    "ISO-07.5",
                    "公共建筑年终端能耗",
                    "Final energy consumption of public buildings per year",
                    "GJ/m²",
                    -1,
                ),
                (
                    "ISO-07.6",
                    "每公里路灯照明街道用电量",
                    "Electricity consumption of public street lighting per kilometre of lighted street",
                    "kWh/km",
                    -1,
                ),
                (
                    "ISO-07-X1",
                    "人均终端能源消费量",
                    "Total end-use energy consumption per capita",
                    "GJ/year",
                    -1,
                ),
                (
                    "ISO-07-X2",
                    "每户每年平均停电次数",
                    "Average number of electrical interruptions per customer per year",
                    "count",
                    -1,
                ),
            ],
        ),
        (
            "ISO-08",
            "环境与气候变化",
            "Environment and climate change",
            vec![
                (
                    "ISO-08.1",
                    "细颗粒物(PM2.5)浓度",
                    "Fine particulate matter (PM2.5) concentration",
                    "µg/m³",
                    -1,
                ),
                (
                    "ISO-08.2",
                    "可吸入颗粒物(PM10)浓度",
                    "Particulate matter (PM10) concentration",
                    "µg/m³",
                    -1,
                ),
                (
                    "ISO-08.3",
                    "人均温室气体排放量",
                    "Greenhouse gas emissions measured in tonnes per capita",
                    "t CO2e",
                    -1,
                ),
                (
                    "ISO-08.4",
                    "自然保护区域面积百分比",
                    "Percentage of areas designated for natural protection",
                    "%",
                    1,
                ),
                (
                    "ISO-08.5",
                    "二氧化氮浓度",
                    "NO2 (nitrogen dioxide) concentration",
                    "µg/m³",
                    -1,
                ),
                (
                    "ISO-08.6",
                    "二氧化硫浓度",
                    "SO2 (sulphur dioxide) concentration",
                    "µg/m³",
                    -1,
                ),
                ("ISO-08.8", "噪声污染", "Noise pollution", "%", -1),
                (
                    "ISO-08-X1",
                    "臭氧浓度",
                    "O3 (ozone) concentration",
                    "µg/m³",
                    -1,
                ),
            ],
        ),
        (
            "ISO-09",
            "财政",
            "Finance",
            vec![
                (
                    "ISO-09.2",
                    "资本性支出占总支出的百分比",
                    "Capital spending as a percentage of total expenditures",
                    "%",
                    1,
                ),
                (
                    "ISO-09.3",
                    "自有收入占总收入的百分比",
                    "Own-source revenue as a percentage of total revenues",
                    "%",
                    1,
                ),
                ("ISO-09-X1", "偿债率", "Debt service ratio", "%", -1),
                (
                    "ISO-09-X2",
                    "实收税款占应收税款的百分比",
                    "Tax collected as a percentage of tax billed",
                    "%",
                    1,
                ),
            ],
        ),
        (
            "ISO-10",
            "治理",
            "Governance",
            vec![
                (
                    "ISO-10.1",
                    "女性当选市级公职的比例",
                    "Women as a percentage of total elected to city-level office",
                    "%",
                    1,
                ),
                (
                    "ISO-10.2",
                    "每 10 万人城市官员腐败定罪数",
                    "Number of convictions for corruption and/or bribery by city officials per 100 000 population",
                    "per 100 000",
                    -1,
                ),
                (
                    "ISO-10.3",
                    "登记选民占选举年龄人口的百分比",
                    "Number of registered voters as a percentage of the voting age population",
                    "%",
                    1,
                ),
                (
                    "ISO-10.4",
                    "上次市级选举投票率",
                    "Voter participation in last municipal election",
                    "%",
                    1,
                ),
            ],
        ),
        (
            "ISO-11",
            "卫生",
            "Health",
            vec![
                (
                    "ISO-11.1",
                    "平均预期寿命",
                    "Average life expectancy",
                    "years",
                    1,
                ),
                (
                    "ISO-11.6",
                    "每 10 万人自杀率",
                    "Suicide rate per 100 000 population",
                    "per 100 000",
                    -1,
                ),
                (
                    "ISO-11-X1",
                    "每 10 万人住院病床数",
                    "Number of in-patient hospital beds per 100 000 population",
                    "per 100 000",
                    1,
                ),
                (
                    "ISO-11-X2",
                    "每 10 万人医师数",
                    "Number of physicians per 100 000 population",
                    "per 100 000",
                    1,
                ),
                (
                    "ISO-11-X3",
                    "每千名活产五岁以下儿童死亡率",
                    "Under age five mortality per 1 000 live births",
                    "per 1 000",
                    -1,
                ),
                (
                    "ISO-11-X4",
                    "每 10 万人护理和助产人员数",
                    "Number of nursing and midwifery personnel per 100 000 population",
                    "per 100 000",
                    1,
                ),
            ],
        ),
        (
            "ISO-12",
            "住房",
            "Housing",
            vec![
                (
                    "ISO-12.1",
                    "居住在不适当住房中的人口百分比",
                    "Percentage of city population living in inadequate housing",
                    "%",
                    -1,
                ),
                (
                    "ISO-12.2",
                    "居住在可负担住房中的人口百分比",
                    "Percentage of population living in affordable housing",
                    "%",
                    1,
                ),
                (
                    "ISO-12.3",
                    "每 10 万人无家可归者人数",
                    "Number of homeless per 100 000 population",
                    "per 100 000",
                    -1,
                ),
                (
                    "ISO-12.4",
                    "无合法产权登记的住户百分比",
                    "Percentage of households that exist without registered legal titles",
                    "%",
                    -1,
                ),
            ],
        ),
        (
            "ISO-13",
            "人口与社会状况",
            "Population and social conditions",
            vec![
                (
                    "ISO-13.1",
                    "生活在国际贫困线以下的人口百分比",
                    "Percentage of city population living below the international poverty line",
                    "%",
                    -1,
                ),
                (
                    "ISO-13.2",
                    "生活在国家贫困线以下的人口百分比",
                    "Percentage of city population living below the national poverty line",
                    "%",
                    -1,
                ),
                (
                    "ISO-13.3",
                    "收入不平等基尼系数",
                    "Gini coefficient of inequality",
                    "index",
                    -1,
                ),
            ],
        ),
        (
            "ISO-14",
            "休闲",
            "Recreation",
            vec![
                (
                    "ISO-14.2",
                    "人均公共室外休闲空间面积",
                    "Square metres of public outdoor recreation space per capita",
                    "m²",
                    1,
                ),
                (
                    "ISO-14-X1",
                    "人均公共室内休闲空间面积",
                    "Square metres of public indoor recreation space per capita",
                    "m²",
                    1,
                ),
            ],
        ),
        (
            "ISO-15",
            "安全",
            "Safety",
            vec![
                (
                    "ISO-15.1",
                    "每 10 万人消防员数",
                    "Number of firefighters per 100 000 population",
                    "per 100 000",
                    1,
                ),
                (
                    "ISO-15.2",
                    "每 10 万人火灾死亡人数",
                    "Number of fire-related deaths per 100 000 population",
                    "per 100 000",
                    -1,
                ),
                (
                    "ISO-15.3",
                    "每 10 万人自然灾害死亡人数",
                    "Number of natural hazard-related deaths per 100 000 population",
                    "per 100 000",
                    -1,
                ),
                (
                    "ISO-15.7",
                    "应急响应服务自首次呼叫起的响应时间",
                    "Response time for emergency response services from initial call",
                    "min",
                    -1,
                ),
                (
                    "ISO-15.8",
                    "每 10 万人财产犯罪数",
                    "Crimes against property per 100 000 population",
                    "per 100 000",
                    -1,
                ),
                (
                    "ISO-15.10",
                    "每 10 万人针对女性的暴力犯罪数",
                    "Number of violent crimes against women per 100 000 population",
                    "per 100 000",
                    -1,
                ),
                (
                    "ISO-15-X1",
                    "每 10 万人警察人数",
                    "Number of police officers per 100 000 population",
                    "per 100 000",
                    1,
                ),
                (
                    "ISO-15-X2",
                    "每 10 万人凶杀案数",
                    "Number of homicides per 100 000 population",
                    "per 100 000",
                    -1,
                ),
            ],
        ),
        (
            "ISO-16",
            "固体废弃物",
            "Solid waste",
            vec![
                (
                    "ISO-16.1",
                    "享有定期生活垃圾收集服务的人口百分比",
                    "Percentage of city population with regular solid waste collection (residential)",
                    "%",
                    1,
                ),
                (
                    "ISO-16.2",
                    "人均城市生活垃圾收集量",
                    "Total collected municipal solid waste per capita",
                    "t",
                    -1,
                ),
                (
                    "ISO-16.3",
                    "回收利用的固体废弃物百分比",
                    "Percentage of the city's solid waste that is recycled",
                    "%",
                    1,
                ),
                (
                    "ISO-16.4",
                    "卫生填埋处置的固体废弃物百分比",
                    "Percentage of the city's solid waste that is disposed of in a sanitary landfill",
                    "%",
                    1,
                ),
                (
                    "ISO-16.5",
                    "垃圾焚烧发电等能源化处理的固体废弃物百分比",
                    "Percentage of the city's solid waste that is treated in energy-from-waste plants",
                    "%",
                    1,
                ),
                (
                    "ISO-16.6",
                    "生物处理(堆肥或沼气)的固体废弃物百分比",
                    "Percentage of the city's solid waste that is biologically treated and used as compost or biogas",
                    "%",
                    1,
                ),
                (
                    "ISO-16.7",
                    "露天堆放处置的固体废弃物百分比",
                    "Percentage of the city's solid waste that is disposed of in an open dump",
                    "%",
                    -1,
                ),
                (
                    "ISO-16.8",
                    "以其他方式处置的固体废弃物百分比",
                    "Percentage of the city's solid waste that is disposed of by other means",
                    "%",
                    -1,
                ),
                (
                    "ISO-16.9",
                    "人均危险废物产生量",
                    "Hazardous waste generation per capita",
                    "t",
                    -1,
                ),
                (
                    "ISO-16.10",
                    "回收利用的危险废物百分比",
                    "Percentage of the city's hazardous waste that is recycled",
                    "%",
                    1,
                ),
            ],
        ),
        (
            "ISO-17",
            "体育与文化",
            "Sport and culture",
            vec![
                (
                    "ISO-17.1",
                    "每 10 万人文化机构和体育设施数",
                    "Number of cultural institutions and sporting facilities per 100 000 population",
                    "per 100 000",
                    1,
                ),
                (
                    "ISO-17.2",
                    "文化和体育设施预算占市政预算的百分比",
                    "Percentage of municipal budget allocated to cultural and sporting facilities",
                    "%",
                    1,
                ),
                (
                    "ISO-17.3",
                    "每 10 万人年文化活动数",
                    "Annual number of cultural events per 100 000 population",
                    "per 100 000",
                    1,
                ),
            ],
        ),
        (
            "ISO-18",
            "电信",
            "Telecommunication",
            vec![
                (
                    "ISO-18.2",
                    "每 10 万人移动电话连接数",
                    "Number of mobile phone connections per 100 000 population",
                    "per 100 000",
                    1,
                ),
                (
                    "ISO-18-X1",
                    "每 10 万人互联网连接数",
                    "Number of internet connections per 100 000 population",
                    "per 100 000",
                    1,
                ),
            ],
        ),
        (
            "ISO-19",
            "交通",
            "Transportation",
            vec![
                (
                    "ISO-19.2",
                    "人均年公共交通出行次数",
                    "Annual number of public transport trips per capita",
                    "trips",
                    1,
                ),
                (
                    "ISO-19.3",
                    "非私家车通勤者百分比",
                    "Percentage of commuters using a travel mode to work other than a personal vehicle",
                    "%",
                    1,
                ),
                (
                    "ISO-19.4",
                    "每 10 万人自行车道公里数",
                    "Kilometres of bicycle paths and lanes per 100 000 population",
                    "km",
                    1,
                ),
                (
                    "ISO-19.5",
                    "每 10 万人交通事故死亡人数",
                    "Transportation fatalities per 100 000 population",
                    "per 100 000",
                    -1,
                ),
                (
                    "ISO-19.6",
                    "居住在高峰时段班次间隔不超过 20 分钟的公共交通站点 0.5 km 范围内的人口百分比",
                    "Percentage of population living within 0.5 km of public transit running at least every 20 minutes during peak periods",
                    "%",
                    1,
                ),
                (
                    "ISO-19-X1",
                    "每 10 万人公共交通系统公里数",
                    "Kilometres of public transport system per 100 000 population",
                    "km",
                    1,
                ),
                (
                    "ISO-19-X2",
                    "平均通勤时间",
                    "Average commute time",
                    "min",
                    -1,
                ),
            ],
        ),
        (
            "ISO-20",
            "城市/地方农业与粮食安全",
            "Urban/local agriculture and food security",
            vec![
                (
                    "ISO-20.1",
                    "每 10 万人城市农业面积",
                    "Total urban agricultural area per 100 000 population",
                    "ha",
                    1,
                ),
                (
                    "ISO-20.3",
                    "营养不良人口百分比",
                    "Percentage of city population that is undernourished",
                    "%",
                    -1,
                ),
                (
                    "ISO-20.4",
                    "超重或肥胖人口百分比",
                    "Percentage of city population that is overweight or obese",
                    "%",
                    -1,
                ),
            ],
        ),
        (
            "ISO-21",
            "城市规划",
            "Urban planning",
            vec![
                (
                    "ISO-21.1",
                    "每 10 万人绿地面积(公顷)",
                    "Green area (hectares) per 100 000 population",
                    "ha",
                    1,
                ),
                (
                    "ISO-21.2",
                    "非正规住区面积占城市面积的百分比",
                    "Areal size of informal settlements as a percentage of city area",
                    "%",
                    -1,
                ),
                ("ISO-21.3", "职住比", "Jobs–housing ratio", "ratio", 1),
                (
                    "ISO-21.4",
                    "居住在中高人口密度区域的人口百分比",
                    "Percentage of the city population living in medium-to-high population densities",
                    "%",
                    1,
                ),
                (
                    "ISO-21-X1",
                    "每 10 万人树木数",
                    "Number of trees per 100 000 population",
                    "per 100 000",
                    1,
                ),
            ],
        ),
        (
            "ISO-22",
            "污水",
            "Wastewater",
            vec![
                (
                    "ISO-22.2",
                    "集中处理的污水百分比",
                    "Percentage of the city's wastewater receiving centralized treatment",
                    "%",
                    1,
                ),
                (
                    "ISO-22.3",
                    "享有改善型卫生设施的人口百分比",
                    "Percentage of city population with access to improved sanitation",
                    "%",
                    1,
                ),
                (
                    "ISO-22.4",
                    "污水处理达标率",
                    "Compliance rate of wastewater treatment",
                    "%",
                    1,
                ),
                (
                    "ISO-22-X1",
                    "污水收集服务覆盖人口百分比",
                    "Percentage of city population served by wastewater collection",
                    "%",
                    1,
                ),
            ],
        ),
        (
            "ISO-23",
            "水",
            "Water",
            vec![
                (
                    "ISO-23.1",
                    "享有饮用水供应服务的人口百分比",
                    "Percentage of city population with potable water supply service",
                    "%",
                    1,
                ),
                (
                    "ISO-23.2",
                    "可持续获得改善水源的人口百分比",
                    "Percentage of city population with sustainable access to an improved water source",
                    "%",
                    1,
                ),
                (
                    "ISO-23.3",
                    "人均生活用水量",
                    "Total domestic water consumption per capita",
                    "L/day",
                    -1,
                ),
                (
                    "ISO-23.4",
                    "饮用水水质达标率",
                    "Compliance rate of drinking water quality",
                    "%",
                    1,
                ),
                (
                    "ISO-23.7",
                    "漏损水量百分比",
                    "Percentage of water loss (unaccounted for water)",
                    "%",
                    -1,
                ),
                (
                    "ISO-23-X1",
                    "人均总用水量",
                    "Total water consumption per capita",
                    "L/day",
                    -1,
                ),
            ],
        ),
    ];
    let mut n = vec![agg(
        "ISO37120",
        None,
        3,
        "ISO 37120:2018 城市服务与生活质量指标",
        "ISO 37120:2018 city services and quality of life",
    )];
    for (code, zh, en, inds) in themes {
        n.push(agg(code, Some("ISO37120"), 2, zh, en));
        for (c, izh, ien, unit, dir) in inds {
            let clause_known = !c.contains("-X");
            n.push(CatNode {
                name_zh: izh,
                name_en: ien,
                definition_zh: if clause_known {
                    "定义见 ISO 37120:2018 对应条款(编码中的条款号;标准文本受版权保护,此处仅列名称)。"
                } else {
                    "ISO 37120 公开资料中的指标名称;其在 2018 版中的条款号尚未核实(标准文本受版权保护,此处仅列名称)。"
                },
                definition_en: if clause_known {
                    "Defined in the ISO 37120:2018 clause numbered in its code (copyrighted; names only here)."
                } else {
                    "Named in public ISO 37120 sources; its clause number in the 2018 edition is not confirmed (copyrighted; names only here)."
                },
                unit,
                direction: dir,
                source_zh: "城市统计",
                source_en: "city statistics",
                ..blank(c, Some(code), 1)
            });
        }
    }
    Catalogue {
        key: "iso37120",
        code: "ISO37120",
        name_zh: "ISO 37120:2018 城市可持续发展指标",
        name_en: "ISO 37120:2018 city indicators",
        description_zh: "ISO 37120:2018 的 19 个主题及 99 项指标名称(仅名称;编码带条款号者已核实 2018 版条款,X 编码者条款号待核实;标准不设目标值,由城市自定)。",
        description_en: "The 19 themes of ISO 37120:2018 and 99 indicator names (names only; codes with a clause number are confirmed 2018 clauses, X codes await their clause number; the city sets its own targets).",
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
