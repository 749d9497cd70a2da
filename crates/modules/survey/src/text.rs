//! Citizens' suggestions (意见建议): coding by domain with keyword dictionaries, and keyword
//! frequencies from Chinese word segmentation (jieba).

use std::collections::BTreeMap;
use std::sync::OnceLock;

fn jieba() -> &'static jieba_rs::Jieba {
    static J: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    J.get_or_init(jieba_rs::Jieba::new)
}

/// Keywords that code a suggestion to a domain (a suggestion may fall in several).
pub fn domain_keywords(domain: &str) -> &'static [&'static str] {
    match domain {
        "product" => &[
            "产品",
            "商品",
            "食品",
            "药品",
            "假冒",
            "伪劣",
            "假货",
            "质量差",
            "售后",
            "价格",
            "农产品",
            "化妆品",
            "电器",
            "保健品",
            "网购",
            "product",
            "goods",
            "food",
            "fake",
        ],
        "construction" => &[
            "工程",
            "道路",
            "施工",
            "房屋",
            "楼盘",
            "装修",
            "漏水",
            "桥梁",
            "地铁",
            "建筑",
            "物业",
            "电梯",
            "井盖",
            "路面",
            "construction",
            "road",
            "building",
            "elevator",
        ],
        "service" => &[
            "服务", "窗口", "办事", "医院", "快递", "公交", "银行", "餐饮", "酒店", "旅游", "学校",
            "排队", "态度", "service", "hospital", "bus", "queue",
        ],
        "environment" => &[
            "环境",
            "空气",
            "噪音",
            "噪声",
            "垃圾",
            "污水",
            "绿化",
            "河道",
            "污染",
            "卫生",
            "雾霾",
            "公园",
            "environment",
            "air",
            "noise",
            "garbage",
            "pollution",
        ],
        "public" => &[
            "监管",
            "执法",
            "投诉",
            "政府",
            "管理",
            "部门",
            "政策",
            "举报",
            "检查",
            "处罚",
            "信息公开",
            "热线",
            "regulation",
            "government",
            "complaint",
            "enforcement",
        ],
        _ => &[],
    }
}

/// Domains a suggestion is coded to (empty: uncoded).
pub fn code_suggestion(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    crate::model::DOMAINS
        .iter()
        .copied()
        .filter(|d| domain_keywords(d).iter().any(|k| lower.contains(k)))
        .collect()
}

const STOP: &[&str] = &[
    "我们",
    "你们",
    "他们",
    "这个",
    "那个",
    "一些",
    "希望",
    "建议",
    "可以",
    "能够",
    "没有",
    "还是",
    "就是",
    "已经",
    "进一步",
    "加强",
    "提高",
    "问题",
    "一下",
    "比较",
    "非常",
    "不是",
    "如果",
    "因为",
    "所以",
    "但是",
    "而且",
    "现在",
    "目前",
    "有关",
    "相关",
    "方面",
    "工作",
    "情况",
    "进行",
    "觉得",
    "感觉",
    "应该",
    "需要",
    "the",
    "and",
    "for",
    "with",
    "more",
    "should",
    "please",
    "are",
    "too",
];

/// The `top` most frequent words of the texts (two characters or more, no stop words).
pub fn keyword_frequencies<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    top: usize,
) -> Vec<(String, usize)> {
    let mut freq: BTreeMap<String, usize> = BTreeMap::new();
    for t in texts {
        for w in jieba().cut(t, false) {
            let w = w.trim().to_lowercase();
            if w.chars().count() < 2
                || STOP.contains(&w.as_str())
                || w.chars()
                    .all(|c| !c.is_alphanumeric() || c.is_ascii_digit())
            {
                continue;
            }
            *freq.entry(w).or_default() += 1;
        }
    }
    let mut v: Vec<(String, usize)> = freq.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(top);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_counts() {
        assert_eq!(
            code_suggestion("小区垃圾分类做得不好，噪音也大"),
            vec!["environment"]
        );
        assert_eq!(
            code_suggestion("希望加强食品监管"),
            vec!["product", "public"]
        );
        let k = keyword_frequencies(["道路施工太慢", "希望道路拥堵改善", "食品安全"], 3);
        assert_eq!(k[0].0, "道路");
        assert_eq!(k[0].1, 2);
    }
}
