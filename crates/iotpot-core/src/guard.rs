//! Which addresses iotpot may connect to when an attacker chose them.
//!
//! The downloader is an HTTP client driven by attackers: without this guard
//! it would fetch `http://127.0.0.1:8080/admin` or cloud metadata for them
//! (SSRF). Every address is checked after resolution and before any packet
//! is sent, and again for every redirect. The profiler scans back the
//! source addresses of attacks, which can be spoofed (a UDP datagram's
//! source is whatever its sender wrote): it checks them with the same
//! guard and its own lists.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Denied,
    Loopback,
    Private,
    SharedAddressSpace,
    LinkLocal,
    Multicast,
    Broadcast,
    Unspecified,
    Reserved,
    Ipv4MappedOrCompatible,
    Nat64OfForbidden,
    UniqueLocal,
}

impl Refusal {
    pub fn text(self) -> &'static str {
        match self {
            Refusal::Denied => "in the configured deny list",
            Refusal::Loopback => "loopback",
            Refusal::Private => "private (RFC 1918)",
            Refusal::SharedAddressSpace => "shared address space (RFC 6598)",
            Refusal::LinkLocal => "link-local",
            Refusal::Multicast => "multicast",
            Refusal::Broadcast => "broadcast",
            Refusal::Unspecified => "unspecified",
            Refusal::Reserved => "reserved",
            Refusal::Ipv4MappedOrCompatible => "IPv4-mapped or IPv4-compatible IPv6",
            Refusal::Nat64OfForbidden => "NAT64 of a forbidden IPv4 address",
            Refusal::UniqueLocal => "unique local IPv6",
        }
    }
}

/// The operator's allow and deny lists.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

impl Guard {
    /// `allow` / `deny`: CIDRs (`127.0.0.0/8`) or single addresses.
    pub fn new(allow: &[String], deny: &[String]) -> Result<Guard, String> {
        let parse = |v: &[String]| -> Result<Vec<IpNet>, String> {
            v.iter()
                .map(|s| {
                    s.parse::<IpNet>()
                        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                        .map_err(|_| format!("{s:?} is not an address or CIDR"))
                })
                .collect()
        };
        Ok(Guard {
            allow: parse(allow)?,
            deny: parse(deny)?,
        })
    }

    /// May iotpot connect to `ip`? The deny list wins over
    /// everything, the allow list over the built-in refusals.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.deny.iter().any(|n| n.contains(&ip)) {
            return Err(Refusal::Denied);
        }
        if self.allow.iter().any(|n| n.contains(&ip)) {
            return Ok(());
        }
        match ip {
            IpAddr::V4(v4) => check_v4(v4),
            IpAddr::V6(v6) => check_v6(v6),
        }
    }
}

fn check_v4(ip: Ipv4Addr) -> Result<(), Refusal> {
    let o = ip.octets();
    let r = match o {
        [0, ..] => Refusal::Unspecified,
        [127, ..] => Refusal::Loopback,
        [10, ..] | [192, 168, ..] => Refusal::Private,
        [172, b, ..] if (16..32).contains(&b) => Refusal::Private,
        [100, b, ..] if (64..128).contains(&b) => Refusal::SharedAddressSpace,
        [169, 254, ..] => Refusal::LinkLocal,
        [255, 255, 255, 255] => Refusal::Broadcast,
        [a, ..] if (224..240).contains(&a) => Refusal::Multicast,
        [a, ..] if a >= 240 => Refusal::Reserved,
        [192, 0, 0, _] => Refusal::Reserved,
        [198, b, ..] if b == 18 || b == 19 => Refusal::Reserved,
        _ => return Ok(()),
    };
    Err(r)
}

fn check_v6(ip: Ipv6Addr) -> Result<(), Refusal> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Err(Refusal::Unspecified);
    }
    if ip.is_loopback() {
        return Err(Refusal::Loopback);
    }
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): refused whatever
    // the embedded address, as some stacks route them to IPv4.
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        return Err(Refusal::Ipv4MappedOrCompatible);
    }
    // NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48).
    if (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]) || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return check_v4(v4).map_err(|_| Refusal::Nat64OfForbidden);
    }
    let r = match s[0] {
        x if x & 0xfe00 == 0xfc00 => Refusal::UniqueLocal,
        x if x & 0xffc0 == 0xfe80 => Refusal::LinkLocal,
        x if x & 0xffc0 == 0xfec0 => Refusal::Private,
        x if x & 0xff00 == 0xff00 => Refusal::Multicast,
        // 6to4 carries an IPv4 address too.
        0x2002 => {
            let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
            return check_v4(v4).map_err(|_| Refusal::Nat64OfForbidden);
        }
        _ => return Ok(()),
    };
    Err(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(g: &Guard, s: &str) -> bool {
        g.check(s.parse().unwrap()).is_err()
    }

    #[test]
    fn special_addresses_are_refused() {
        let g = Guard::default();
        for a in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2002:7f00:1::1",
        ] {
            assert!(refused(&g, a), "{a} must be refused");
        }
        for a in [
            "8.8.8.8",
            "198.51.100.7",
            "203.0.113.5",
            "172.32.0.1",
            "100.128.0.1",
            "2a00:1450::1",
            "64:ff9b::808:808",
        ] {
            assert!(!refused(&g, a), "{a} must be allowed");
        }
    }

    #[test]
    fn allow_and_deny_lists() {
        let g = Guard::new(
            &["127.0.0.0/8".into(), "::1".into()],
            &["127.0.0.2".into(), "8.8.8.0/24".into()],
        )
        .unwrap();
        assert!(!refused(&g, "127.0.0.1"));
        assert!(!refused(&g, "::1"));
        assert_eq!(g.check("127.0.0.2".parse().unwrap()), Err(Refusal::Denied));
        assert_eq!(g.check("8.8.8.8".parse().unwrap()), Err(Refusal::Denied));
        assert!(refused(&g, "10.0.0.1"));
        assert!(Guard::new(&["nonsense".into()], &[]).is_err());
    }
}
