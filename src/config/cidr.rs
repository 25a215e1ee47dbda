//! An address range as `[http] trusted_proxies` names it: `10.0.0.7`, `10.0.0.0/8`, `::1`,
//! `fd00::/8`. Parsed once; the web server asks `contains` of each connection's peer.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IpRangeError {
    #[error("expected an IP address or a range such as 10.0.0.0/8 or fd00::/8, got {0:?}")]
    Malformed(String),
    #[error("{text:?}: an IPv{family} prefix is at most /{max}")]
    PrefixTooLong { text: String, family: u8, max: u8 },
}

impl IpRange {
    /// Whether `peer` lies in the range. An IPv4 peer that reaches an IPv6 socket as
    /// `::ffff:a.b.c.d` is compared as the IPv4 address it is.
    pub fn contains(&self, peer: IpAddr) -> bool {
        match (self.network, peer.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

/// Whether the first `prefix` bits of `a` and `b` agree.
fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (whole, rest) = (usize::from(prefix / 8), prefix % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

impl FromStr for IpRange {
    type Err = IpRangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || IpRangeError::Malformed(text.to_owned());
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network = address.parse::<IpAddr>().map_err(|_| malformed())?.to_canonical();
        let (family, max) = if network.is_ipv4() { (4, 32) } else { (6, 128) };
        let prefix = match prefix {
            None => max,
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| IpRangeError::PrefixTooLong { text: text.to_owned(), family, max })?,
            Some(_) => return Err(malformed()),
        };
        Ok(IpRange { network, prefix })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_is_itself_and_a_range_holds_its_prefix() {
        let one: IpRange = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        assert!(one.contains(ip("::ffff:127.0.0.1")), "IPv4 through an IPv6 socket");
        let net: IpRange = "10.1.0.0/15".parse().unwrap();
        assert!(net.contains(ip("10.0.255.255")) && net.contains(ip("10.1.2.3")) && !net.contains(ip("10.2.0.0")));
        let v6: IpRange = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")) && !v6.contains(ip("10.0.0.1")));
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")) && !all.contains(ip("::1")));
        assert_eq!(net.to_string(), "10.1.0.0/15");
    }

    #[test]
    fn what_is_not_an_address_or_a_prefix_is_refused() {
        for bad in ["", "localhost", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/+8", "10.0.0/8", "::1/12/3"] {
            assert!(matches!(bad.parse::<IpRange>(), Err(IpRangeError::Malformed(_))), "{bad}");
        }
        assert_eq!(
            "10.0.0.0/33".parse::<IpRange>().unwrap_err().to_string(),
            "\"10.0.0.0/33\": an IPv4 prefix is at most /32"
        );
        assert!("::/129".parse::<IpRange>().is_err());
    }
}
