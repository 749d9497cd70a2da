//! The client's address: the TCP peer, or — only when that peer is a trusted reverse proxy
//! (`server.trusted_proxies`) — the right-most address in `X-Forwarded-For` that is not itself a
//! trusted proxy. Entries to the left of it were written by the client and prove nothing.

use axum::http::HeaderMap;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP network in CIDR notation (`10.0.0.0/8`, `::1/128`; a bare address is a single host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpCidr {
    net: IpAddr,
    prefix: u8,
}

/// A malformed CIDR.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an IP network like 10.0.0.0/8 or ::1/128")]
pub struct BadCidr(pub String);

impl FromStr for IpCidr {
    type Err = BadCidr;
    fn from_str(s: &str) -> Result<Self, BadCidr> {
        let bad = || BadCidr(s.to_string());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(IpCidr { net, prefix })
    }
}

impl IpCidr {
    /// Whether `ip` lies in this network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpCidr>);

impl TrustedProxies {
    /// Parses `server.trusted_proxies` entries.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, BadCidr> {
        entries
            .iter()
            .map(|e| e.as_ref().parse())
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        // Every hop appends the address it saw: walk from the right, past our own proxies.
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                // Garbage written by whoever was before the last trusted hop.
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    s.parse::<std::net::SocketAddr>()
        .ok()
        .map(|a| a.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(v: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for x in v {
            h.append("x-forwarded-for", HeaderValue::from_str(x).unwrap());
        }
        h
    }

    #[test]
    fn cidrs_parse_and_match() {
        let c: IpCidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.3.4")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.2.3")));
        let h: IpCidr = "127.0.0.1".parse().unwrap();
        assert!(h.contains(ip("127.0.0.1")) && !h.contains(ip("127.0.0.2")));
        let all: IpCidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        let v6: IpCidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0/8", "::1/129", ""] {
            assert!(bad.parse::<IpCidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let t = TrustedProxies::parse(&["127.0.0.1/32", "10.0.0.0/8"]).unwrap();
        // Straight from a client: its header is ignored.
        assert_eq!(
            t.client_ip(ip("203.0.113.7"), &xff(&["198.51.100.1"])),
            ip("203.0.113.7")
        );
        // Through our proxy: the address the proxy saw.
        assert_eq!(
            t.client_ip(ip("127.0.0.1"), &xff(&["198.51.100.1"])),
            ip("198.51.100.1")
        );
        // A client that forges left-most entries gets its own real address, not the forged one.
        assert_eq!(
            t.client_ip(ip("127.0.0.1"), &xff(&["1.1.1.1, 2.2.2.2", "198.51.100.1"])),
            ip("198.51.100.1")
        );
        // Two of our proxies in a row are skipped.
        assert_eq!(
            t.client_ip(ip("10.0.0.5"), &xff(&["198.51.100.1, 10.0.0.9"])),
            ip("198.51.100.1")
        );
        // Garbage left of the client is never reached; garbage from the last hop stops at it.
        assert_eq!(
            t.client_ip(ip("127.0.0.1"), &xff(&["junk, 198.51.100.1:443"])),
            ip("198.51.100.1")
        );
        assert_eq!(
            t.client_ip(ip("127.0.0.1"), &xff(&["junk"])),
            ip("127.0.0.1")
        );
        // No header: the proxy itself.
        assert_eq!(t.client_ip(ip("127.0.0.1"), &xff(&[])), ip("127.0.0.1"));
        // Nothing trusted (the default): the peer, always.
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("127.0.0.1"), &xff(&["198.51.100.1"])),
            ip("127.0.0.1")
        );
    }
}
