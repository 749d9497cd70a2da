//! Region scope: the subtree of administrative regions a principal may see.
//!
//! Administrative division codes are hierarchical: a province `350000`, its city `350200`, the
//! city's district `350203`, a street `350203001` (9 digits), a community `350203001001` (12).
//! Every region in a subtree therefore shares a code prefix: `35`, `3502`, `350203`, … A scope is
//! that prefix, and filtering any table by `region_code LIKE 'prefix%'` enforces it in the query
//! layer without joins.

/// The code prefix shared by every region below (and including) `code`.
pub fn scope_prefix(code: &str) -> String {
    if code.len() == 6 {
        if let Some(p) = code.strip_suffix("0000") {
            return p.to_string();
        }
        if let Some(p) = code.strip_suffix("00") {
            return p.to_string();
        }
    }
    code.to_string()
}

/// Level of a region from the shape of its code.
pub fn level_of(code: &str) -> Option<&'static str> {
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match code.len() {
        6 if code.ends_with("0000") => Some("province"),
        6 if code.ends_with("00") => Some("city"),
        6 => Some("district"),
        9 => Some("street"),
        12 => Some("community"),
        _ => None,
    }
}

/// The subtree a principal may see in one city.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionScope {
    pub city_id: i64,
    /// Root region code of the subtree.
    pub root: String,
    /// Code prefix shared by the subtree.
    pub prefix: String,
}

impl RegionScope {
    pub fn new(city_id: i64, root: &str) -> Self {
        Self {
            city_id,
            root: root.to_string(),
            prefix: scope_prefix(root),
        }
    }

    /// Whether region `code` (of this city) lies in the subtree.
    pub fn contains(&self, city_id: i64, code: &str) -> bool {
        city_id == self.city_id && code.starts_with(&self.prefix)
    }

    /// `LIKE` pattern for SQL filters.
    pub fn like_pattern(&self) -> String {
        format!("{}%", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_gbt2260() {
        assert_eq!(scope_prefix("350000"), "35");
        assert_eq!(scope_prefix("350200"), "3502");
        assert_eq!(scope_prefix("350203"), "350203");
        assert_eq!(scope_prefix("350203001"), "350203001");
        assert_eq!(level_of("350200"), Some("city"));
        assert_eq!(level_of("350203"), Some("district"));
        assert_eq!(level_of("350203001"), Some("street"));
        assert_eq!(level_of("350203001001"), Some("community"));
        assert_eq!(level_of("35020"), None);
        assert_eq!(level_of("3502a3"), None);
    }

    #[test]
    fn district_scope_excludes_sibling() {
        let s = RegionScope::new(1, "350203");
        assert!(s.contains(1, "350203"));
        assert!(s.contains(1, "350203001"));
        assert!(!s.contains(1, "350205"));
        assert!(!s.contains(2, "350203"));
        let city = RegionScope::new(1, "350200");
        assert!(city.contains(1, "350205001"));
    }
}
