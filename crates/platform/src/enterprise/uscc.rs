//! 统一社会信用代码 (unified social credit code), GB 32100-2015: 18 characters from
//! `0-9A-HJ-NPQRTUWXY` (no I, O, S, V, Z), positions 3–8 the administrative division code, the
//! last one a check character over the first 17 with weights 3^i mod 31.

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A valid unified social credit code (upper case, trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uscc(String);

impl Uscc {
    /// Parses and checks a code; the error says, in Chinese and English, what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_uppercase();
        let chars: Vec<char> = t.chars().collect();
        if chars.len() != 18 {
            return Err(format!(
                "统一社会信用代码应为18位 / must be 18 characters (got {})",
                chars.len()
            ));
        }
        for (i, c) in chars.iter().enumerate() {
            if !USCC_CHARS.contains(*c) {
                return Err(format!(
                    "第{}位字符“{c}”不合法 / character {} `{c}` is not allowed (I, O, S, V, Z are never used)",
                    i + 1,
                    i + 1
                ));
            }
        }
        if !chars[2..8].iter().all(|c| c.is_ascii_digit()) {
            return Err("第3–8位应为行政区划代码 / positions 3–8 must be the division code".into());
        }
        let expected = check_char(&t[..17]).ok_or("invalid characters")?;
        if chars[17] != expected {
            return Err(format!(
                "校验码错误, 应为 {expected} / check character should be {expected}"
            ));
        }
        Ok(Uscc(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative division code in positions 3–8 (登记管理机关行政区划码).
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
}

impl std::fmt::Display for Uscc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The GB 32100 check character of the first 17 characters (`None` for a character outside
/// the code's alphabet or more than 17 characters).
pub fn check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    for (i, c) in first17.chars().enumerate() {
        let v = USCC_CHARS.find(c)? as u32;
        sum += v * USCC_WEIGHTS.get(i)?;
    }
    let c = (31 - sum % 31) % 31;
    USCC_CHARS.chars().nth(c as usize)
}

/// A valid code made from a 17-character body (demo data, tests): the body with its check
/// character.
pub fn with_check_char(first17: &str) -> Option<Uscc> {
    let c = check_char(first17)?;
    Uscc::parse(&format!("{first17}{c}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published codes, each checked by hand with the GB 32100 weights
    /// (value of the character × weight, summed; check = (31 − sum mod 31) mod 31, where
    /// A=10 … H=17, J=18, K=19, L=20, M=21, N=22, P=23, Q=24, R=25, T=26, U=27, W=28, X=29, Y=30).
    const PUBLISHED: [&str; 3] = [
        // The example the State Administration's guidance commonly cites.
        // 9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17 + M21·20 + 0·29 + 0·25 + 0·13
        // + 1·8 + 0·24 + 0·10 + Y30·30 + 4·28 = 1640; 1640 mod 31 = 28; 31 − 28 = 3 → `3`.
        "91350100M000100Y43",
        // Alibaba (China) Co., Ltd.
        // 9 + 3 + 27 + 81 + 0 + 26 + 0 + 0 + 140 + 261 + 225 + 78 + 40 + 120 + 0 + 150 + 224
        // = 1384; 1384 mod 31 = 20; 31 − 20 = 11 → `B`.
        "91330100799655058B",
        // Shenzhen Tencent Computer Systems Co., Ltd.
        // 9 + 3 + 36 + 108 + 0 + 78 + 0 + 0 + 140 + 29 + 125 + 26 + 48 + 168 + 20 + 180
        // + X29·28 = 1782; 1782 mod 31 = 15; 31 − 15 = 16 → `G`.
        "9144030071526726XG",
    ];

    #[test]
    fn published_codes_are_valid() {
        for code in PUBLISHED {
            let u = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(u.as_str(), code);
        }
        assert_eq!(
            Uscc::parse(" 91350100m000100y43 ").unwrap().as_str(),
            "91350100M000100Y43"
        );
        assert_eq!(
            Uscc::parse("91350100M000100Y43").unwrap().division(),
            "350100"
        );
    }

    #[test]
    fn corrupted_codes_are_refused_with_the_reason() {
        for code in PUBLISHED {
            // Every other check character is wrong.
            for c in USCC_CHARS.chars() {
                let mut bad: Vec<char> = code.chars().collect();
                if bad[17] == c {
                    continue;
                }
                bad[17] = c;
                let bad: String = bad.into_iter().collect();
                let e = Uscc::parse(&bad).unwrap_err();
                assert!(e.contains("校验码"), "{bad}: {e}");
            }
            // Two adjacent body characters swapped (a typist's error) is caught.
            let mut sw: Vec<char> = code.chars().collect();
            sw.swap(9, 10);
            if sw[9] != sw[10] {
                let sw: String = sw.into_iter().collect();
                assert!(Uscc::parse(&sw).is_err(), "{sw}");
            }
        }
        assert!(Uscc::parse("9135010 M000100Y43").is_err());
        assert!(Uscc::parse("91350100M000100Y4").unwrap_err().contains("18"));
        // O is never used (it would read as 0).
        assert!(
            Uscc::parse("91350100MO00100Y43")
                .unwrap_err()
                .contains("not allowed")
        );
        assert!(
            Uscc::parse("91AB0100M000100Y43")
                .unwrap_err()
                .contains("division")
        );
    }

    #[test]
    fn with_check_char_completes_a_body() {
        assert_eq!(
            with_check_char("91350100M000100Y4").unwrap().as_str(),
            "91350100M000100Y43"
        );
        assert!(with_check_char("91350100M000100YO").is_none());
    }
}
