//! ISO 37120:2018 (Sustainable cities and communities — indicators for city services and
//! quality of life) as a framework catalogue: its themes and indicators with their passports.

use super::*;

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
