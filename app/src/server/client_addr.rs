//! The client's address, for the limits keyed by address (sign-ups, failed logins,
//! live sockets). Behind a reverse proxy the TCP peer is the proxy, so the proxy's
//! `Forwarded` (RFC 7239) or `X-Forwarded-For` header names the client; but anyone can
//! send those headers. They are believed only when the peer is a trusted proxy
//! (`TRUSTED_PROXIES`: addresses or CIDR ranges). Then the hops are read from the right,
//! each added by the proxy in front of the next, skipping trusted proxies; the first
//! hop that is not one is the client. A forged header from an untrusted peer changes
//! nothing, and a client cannot push a fake entry past the proxies, which append.

use std::net::IpAddr;

use http::HeaderMap;

/// The proxies whose forwarding headers are believed. Empty by default: no one's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR ranges
    /// (`10.0.0.0/8, 127.0.0.1, ::1`). Any invalid entry is an error, naming it.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (addr, len) = match entry.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (entry, None),
            };
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("{entry:?} is not an IP address or CIDR range"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let len =
                match len {
                    Some(l) => l.parse::<u8>().ok().filter(|l| *l <= max).ok_or_else(|| {
                        format!("{entry:?}: the prefix length must be 0 to {max}")
                    })?,
                    None => max,
                };
            nets.push((addr.to_canonical(), len));
        }
        Ok(TrustedProxies(nets))
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|(net, len)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
                u32::from(*n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0);
                u128::from(*n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let hops = forwarded_for(headers);
        let mut nearest = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.contains(ip) => nearest = ip,
                Some(ip) => return ip,
                // An obfuscated or malformed hop: nothing beyond it can be believed.
                None => return nearest,
            }
        }
        nearest
    }
}

/// The hops of `Forwarded: for=…` if the request has that header, otherwise of
/// `X-Forwarded-For`, in order (every header line, left to right).
fn forwarded_for(headers: &HeaderMap) -> Vec<String> {
    let forwarded: Vec<String> = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| v.trim().trim_matches('"').to_owned())
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| hop.trim().to_owned())
        .filter(|hop| !hop.is_empty())
        .collect()
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest
            .split_once(']')?
            .0
            .parse::<IpAddr>()
            .ok()
            .map(|ip| ip.to_canonical());
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_addresses_and_ranges_and_names_a_bad_entry() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 127.0.0.1 ,::1, 2001:db8::/32").unwrap();
        assert!(t.contains(ip("10.200.3.4")));
        assert!(!t.contains(ip("11.0.0.1")));
        assert!(t.contains(ip("127.0.0.1")));
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("2001:db8:ffff::9")));
        assert!(!t.contains(ip("2001:db9::1")));
        // An IPv4 peer seen through an IPv6 socket.
        assert!(t.contains(ip("::ffff:10.1.2.3")));
        assert_eq!(
            TrustedProxies::parse(" , ").unwrap(),
            TrustedProxies::default()
        );
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0.1/x", "::1/129"] {
            let err = TrustedProxies::parse(bad).unwrap_err();
            assert!(err.contains(bad.split('/').next().unwrap()), "{bad}: {err}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let t = TrustedProxies::parse("10.0.0.1").unwrap();
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.9"),
            ("forwarded", "for=198.51.100.9"),
        ]);
        assert_eq!(t.client_ip(ip("203.0.113.5"), &h), ip("203.0.113.5"));
        // No proxies trusted: headers never matter.
        assert_eq!(
            TrustedProxies::default().client_ip(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = ip("10.0.0.1");
        // The client sent a fake first hop; the proxies appended the real ones.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.9, 10.0.0.2")]);
        assert_eq!(t.client_ip(peer, &h), ip("198.51.100.9"));
        // Several header lines read as one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.9"),
        ]);
        assert_eq!(t.client_ip(peer, &h), ip("198.51.100.9"));
        // RFC 7239, with ports, brackets and quotes; it wins over X-Forwarded-For.
        let h = headers(&[
            (
                "forwarded",
                r#"for="[2001:db8::7]:4711";proto=https, for=10.0.0.3"#,
            ),
            ("x-forwarded-for", "1.2.3.4"),
        ]);
        assert_eq!(t.client_ip(peer, &h), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "for=198.51.100.9:80")]);
        assert_eq!(t.client_ip(peer, &h), ip("198.51.100.9"));
        // No header: the proxy itself.
        assert_eq!(t.client_ip(peer, &HeaderMap::new()), peer);
        // An obfuscated hop: the nearest address that can be believed.
        let h = headers(&[("forwarded", "for=198.51.100.9, for=_hidden, for=10.0.0.4")]);
        assert_eq!(t.client_ip(peer, &h), ip("10.0.0.4"));
    }
}
