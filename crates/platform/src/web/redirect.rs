//! Redirect targets taken from a request (`next=`, `Referer`): only a path of this origin.
//!
//! Browsers parse a `Location` leniently (WHATWG URL): they drop tabs and newlines anywhere,
//! read `\` as `/`, and take `//host` as another host. So `/\t/evil.example` or `/\evil.example`
//! lead off-site although they "start with one slash". A target is accepted only when no such
//! rewriting can change what it means.

/// Where a refused target goes instead.
pub const FALLBACK: &str = "/";

/// Longest target kept (longer ones are refused).
const MAX_LEN: usize = 2048;

/// `candidate` when it is a same-origin absolute path that every browser reads as such, else
/// `None`. Refused: anything not starting with exactly one `/` (schemes, `//host`, `/\host`),
/// any `\`, any control character or whitespace (raw, or percent-encoded), and a percent-encoded
/// `/` or `\` right after the first slash.
pub fn safe_local_path(candidate: &str) -> Option<&str> {
    let b = candidate.as_bytes();
    if b.len() > MAX_LEN || b.first() != Some(&b'/') {
        return None;
    }
    if candidate
        .chars()
        .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    {
        return None;
    }
    if matches!(b.get(1), Some(b'/')) {
        return None;
    }
    // Percent-escapes a server or proxy on the way may decode: no control or space, and no
    // slash or backslash that would make the path start with two.
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let byte = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(d) = byte {
                if d < 0x20 || d == 0x7f || d == b' ' || d == b'\\' {
                    return None;
                }
                if i == 1 && d == b'/' {
                    return None;
                }
            }
        }
        i += 1;
    }
    Some(candidate)
}

/// The target to redirect to: `candidate` when it is a safe local path; [`FALLBACK`] when it
/// is not; `absent` when there is none.
pub fn local_target(candidate: Option<&str>, absent: &str) -> String {
    match candidate {
        None | Some("") => absent.to_string(),
        Some(c) => safe_local_path(c).unwrap_or(FALLBACK).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        for ok in [
            "/",
            "/app",
            "/app/evaluation?framework_id=3&year=2025#x",
            "/p/990100/%E6%8A%A5%E5%91%8A",
            "/app/a%2Fb",
            "/app//double-inside",
        ] {
            assert_eq!(safe_local_path(ok), Some(ok), "{ok}");
        }
    }

    #[test]
    fn off_site_and_ambiguous_targets_are_refused() {
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/app\\..\\evil",
            " /app",
            "/app /x",
            "/app\u{a0}x",
            "/app\u{0}",
            "https://evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_local_path(bad), None, "{bad:?}");
        }
        assert_eq!(safe_local_path(&format!("/{}", "a".repeat(3000))), None);
    }

    #[test]
    fn refused_targets_fall_back() {
        assert_eq!(local_target(Some("/app/x"), "/app"), "/app/x");
        assert_eq!(local_target(Some("/\t/evil.example"), "/app"), "/");
        assert_eq!(local_target(Some("javascript:alert(1)"), "/app"), "/");
        assert_eq!(local_target(None, "/app"), "/app");
        assert_eq!(local_target(Some(""), "/app"), "/app");
    }
}
