//! Reading and writing cookies.

use axum::http::{HeaderMap, HeaderValue, header};

/// The value of cookie `name` in a request.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| {
            h.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == name).then(|| v.to_string())
            })
        })
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when served over TLS.
pub fn set(
    name: &str,
    value: &str,
    max_age_secs: Option<i64>,
    secure: bool,
    http_only: bool,
) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; SameSite=Lax");
    if http_only {
        s.push_str("; HttpOnly");
    }
    if secure {
        s.push_str("; Secure");
    }
    if let Some(a) = max_age_secs {
        s.push_str(&format!("; Max-Age={a}"));
    }
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", Some(0), secure, true)
}
