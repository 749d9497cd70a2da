//! Translations: every user-facing string comes from the Fluent catalogs in `locales/`
//! (zh-CN default, en second).

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};
use std::borrow::Cow;
use std::collections::HashMap;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "zh-CN",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

/// Cookie remembering the chosen language.
pub const LANG_COOKIE: &str = "qcity_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim() {
            "zh-CN" | "zh" | "zh-cn" | "zh-Hans" => Some(Lang::ZhCn),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }
    /// First supported language in an `Accept-Language` header.
    pub fn from_accept_language(h: &str) -> Option<Lang> {
        h.split(',')
            .filter_map(|p| p.split(';').next())
            .find_map(|t| {
                let t = t.trim();
                Lang::parse(t).or_else(|| {
                    if t.starts_with("zh") {
                        Some(Lang::ZhCn)
                    } else if t.starts_with("en") {
                        Some(Lang::En)
                    } else {
                        None
                    }
                })
            })
    }
    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::ZhCn => langid!("zh-CN"),
            Lang::En => langid!("en"),
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }
}

/// A translator bound to one language; templates call `t.t("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }
    /// The message for `key`.
    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(&self.lang.id(), key)
    }
    /// The message for `key` with named arguments.
    pub fn ta(&self, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(k, v)| (Cow::Owned((*k).to_string()), v.clone()))
            .collect();
        LOCALES.lookup_with_args(&self.lang.id(), key, &map)
    }
    /// Chooses between a Chinese and an English name stored side by side.
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::En if !en.is_empty() => en,
            _ => zh,
        }
    }
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(lang: &str) -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang);
        let mut out = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                if let Some((k, _)) = line.split_once(" =")
                    && !k.starts_with([' ', '#', '.', '*', '['])
                    && !k.is_empty()
                {
                    out.insert(format!(
                        "{}:{}",
                        path.file_name().unwrap().to_string_lossy(),
                        k.trim()
                    ));
                }
            }
        }
        out
    }

    #[test]
    fn every_key_exists_in_both_languages() {
        let zh = keys("zh-CN");
        let en = keys("en");
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only in zh-CN: {only_zh:?}; only in en: {only_en:?}"
        );
        assert!(zh.len() > 20);
    }

    #[test]
    fn lookups_differ_by_language() {
        assert_eq!(Tr::new(Lang::ZhCn).t("nav-pillar-develop"), "发展");
        assert_eq!(Tr::new(Lang::En).t("nav-pillar-develop"), "Develop");
    }

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("zh-TW,zh;q=0.9"),
            Some(Lang::ZhCn)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
    }
}
