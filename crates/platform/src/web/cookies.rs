//! Reading and writing cookies, through axum-extra's cookie jar (the `cookie` crate parses and
//! formats them).

use axum::http::{HeaderMap, HeaderValue};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

/// The value of cookie `name` in a request.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: SameSite=Lax, Path=/, HttpOnly unless a script must read it, Secure
/// when served over TLS, and Max-Age when given.
pub fn set(
    name: &str,
    value: &str,
    max_age_secs: Option<i64>,
    secure: bool,
    http_only: bool,
) -> HeaderValue {
    let mut c = Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .same_site(SameSite::Lax)
        .http_only(http_only)
        .secure(secure);
    if let Some(a) = max_age_secs {
        c = c.max_age(cookie::time::Duration::seconds(a));
    }
    HeaderValue::from_str(&c.build().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", Some(0), secure, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn reads_a_cookie_among_several_headers() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; qcity_lang=en"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("qcity_session=7.abc"),
        );
        assert_eq!(get(&h, "qcity_lang").as_deref(), Some("en"));
        assert_eq!(get(&h, "qcity_session").as_deref(), Some("7.abc"));
        assert_eq!(get(&h, "missing"), None);
    }

    #[test]
    fn writes_the_attributes() {
        let v = set("s", "v", Some(60), true, true);
        let s = v.to_str().unwrap();
        for part in [
            "s=v",
            "Path=/",
            "SameSite=Lax",
            "HttpOnly",
            "Secure",
            "Max-Age=60",
        ] {
            assert!(s.contains(part), "{s} lacks {part}");
        }
        let v = set("s", "v", None, false, false);
        let s = v.to_str().unwrap();
        assert!(!s.contains("HttpOnly") && !s.contains("Secure") && !s.contains("Max-Age"));
        assert!(clear("s", false).to_str().unwrap().contains("Max-Age=0"));
    }
}
