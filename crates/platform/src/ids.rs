//! Identifiers and secrets: time-ordered 64-bit ids, random tokens, digests.

use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

const EPOCH_MS: u64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z

/// A new id, ordered by time and below 2^53 so that JavaScript and JSON clients read it
/// exactly: 41 bits of milliseconds since 2025 (69 years), 4 random bits chosen per process (so
/// two processes sharing a database rarely meet), 8 bits of sequence. A process that needs more
/// than 256 ids in a millisecond borrows the next milliseconds, so ids stay unique and increasing.
pub fn new_id() -> i64 {
    static NODE: OnceLock<u64> = OnceLock::new();
    static LAST: AtomicU64 = AtomicU64::new(0);
    let node = *NODE.get_or_init(|| {
        let mut b = [0u8; 1];
        fill_random(&mut b);
        u64::from(b[0]) & 0xf
    });
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(EPOCH_MS)
        .saturating_sub(EPOCH_MS);
    // (ms << 8 | seq), strictly increasing within the process.
    let mut prev = LAST.load(Ordering::Relaxed);
    loop {
        let candidate = (now_ms << 8).max(prev + 1);
        match LAST.compare_exchange_weak(prev, candidate, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => {
                let ms = (candidate >> 8) & ((1 << 41) - 1);
                let seq = candidate & 0xff;
                return ((ms << 12) | (node << 8) | seq) as i64;
            }
            Err(actual) => prev = actual,
        }
    }
}

/// Fills `buf` from the operating system's CSPRNG.
pub fn fill_random(buf: &mut [u8]) {
    // getrandom only fails when the OS has no entropy source at all; nothing sensible can run then.
    if let Err(e) = getrandom::fill(buf) {
        panic!("operating system random source failed: {e}");
    }
}

/// A random secret of `bytes` bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    fill_random(&mut b);
    base64url(&b)
}

/// SHA-256 of `s`, lower-case hex. Used to store session ids and API tokens: the database never
/// holds a usable secret.
pub fn sha256_hex(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    let mut out = String::with_capacity(64);
    for b in d.iter() {
        out.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        out.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    out
}

/// URL-safe base64 without padding.
pub fn base64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len() * 4 / 3 + 3);
    for chunk in data.chunks(3) {
        let n = match chunk.len() {
            3 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]),
            2 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8),
            _ => u32::from(chunk[0]) << 16,
        };
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Constant-time equality of two strings (for CSRF tokens).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_are_positive() {
        let mut last = 0;
        for _ in 0..10_000 {
            let id = new_id();
            assert!(id > last);
            last = id;
        }
    }

    #[test]
    fn ids_are_exact_in_javascript() {
        // Number.MAX_SAFE_INTEGER = 2^53 - 1.
        assert!(new_id() < (1i64 << 53));
        let parsed: f64 = new_id() as f64;
        assert_eq!(parsed as i64 as f64, parsed);
    }

    #[test]
    fn sha256_known_answer() {
        // FIPS 180-2 test vector "abc".
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn base64url_rfc4648_vectors() {
        // RFC 4648 §10 vectors, URL-safe alphabet, no padding.
        for (i, o) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(i.as_bytes()), o);
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn tokens_are_random() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(32).len(), 43);
    }
}
