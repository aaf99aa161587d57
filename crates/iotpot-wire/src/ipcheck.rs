//! IPv4/UDP header sanity, sans-I/O: does a packet's IP total length and
//! UDP length agree with the length it really had on the wire?
//!
//! The second IoTPOT paper recognised the scanners of infected devices on
//! 53413/UDP by exactly this: their 18-byte probes carried IP and UDP
//! length fields that did not match the packets' real length. Raw fields are
//! read by hand: a general packet parser would reject the very packets we
//! look for.

use std::net::Ipv4Addr;

/// How frames of a capture start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    /// No link header: the frame is the IP packet.
    Raw,
    /// Linux "cooked" capture (SLL), 16-byte header.
    LinuxSll,
    /// BSD loopback: a 4-byte address family.
    Null,
}

impl Link {
    /// From a pcap LINKTYPE value.
    pub fn from_linktype(t: u32) -> Option<Link> {
        match t {
            1 => Some(Link::Ethernet),
            101 | 12 | 14 => Some(Link::Raw),
            113 => Some(Link::LinuxSll),
            0 => Some(Link::Null),
            _ => None,
        }
    }
}

/// An IPv4/UDP packet and what is wrong with its lengths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpPacket {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    /// Bytes of the IP packet as it was on the wire.
    pub real_length: usize,
    pub ip_total_length: u16,
    pub udp_length: u16,
    /// `ip_total_length` (the IP header disagrees with the real length) and/or
    /// `udp_length` (the UDP header disagrees with the IP payload's length).
    pub anomalies: Vec<&'static str>,
}

/// Ethernet pads frames to 60 bytes: padding is not an anomaly.
const ETHERNET_MIN_FRAME: usize = 60;

/// Check one frame. `wire_length` is the frame's original length (a
/// capture may keep fewer bytes than that). `None` when it is not IPv4/UDP.
pub fn check(link: Link, frame: &[u8], wire_length: usize) -> Option<UdpPacket> {
    let (ip_offset, is_ipv4) = match link {
        Link::Raw => (0, frame.first().is_some_and(|b| b >> 4 == 4)),
        Link::Null => (
            4,
            frame.len() >= 4
                && (u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) == 2
                    || u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) == 2),
        ),
        Link::LinuxSll => (
            16,
            frame.len() >= 16 && u16::from_be_bytes([frame[14], frame[15]]) == 0x0800,
        ),
        Link::Ethernet => {
            // One 802.1Q tag at most.
            if frame.len() >= 18 && frame[12..14] == [0x81, 0x00] {
                (18, frame[16..18] == [0x08, 0x00])
            } else {
                (14, frame.len() >= 14 && frame[12..14] == [0x08, 0x00])
            }
        }
    };
    if !is_ipv4 {
        return None;
    }
    let ip = frame.get(ip_offset..)?;
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return None;
    }
    let ihl = (ip[0] & 0x0f) as usize * 4;
    if ihl < 20 || ip[9] != 17 || ip.len() < ihl + 8 {
        return None;
    }
    // Fragments after the first carry no UDP header.
    let frag_offset = u16::from_be_bytes([ip[6], ip[7]]) & 0x1fff;
    if frag_offset != 0 {
        return None;
    }
    let ip_total_length = u16::from_be_bytes([ip[2], ip[3]]);
    let udp = &ip[ihl..];
    let udp_length = u16::from_be_bytes([udp[4], udp[5]]);
    let real_length = wire_length.saturating_sub(ip_offset);
    // A cooked capture of an Ethernet interface (ARPHRD_ETHER) keeps the
    // padding after the IP packet too.
    let sll_ethernet = link == Link::LinuxSll && frame[2..4] == [0, 1];
    let padded = (link == Link::Ethernet && wire_length <= ETHERNET_MIN_FRAME)
        || (sll_ethernet && real_length <= ETHERNET_MIN_FRAME - 14);
    let mut anomalies = Vec::new();
    let total = ip_total_length as usize;
    if total > real_length || (total < real_length && !padded) {
        anomalies.push("ip_total_length");
    }
    // The UDP header against the IP payload it really had.
    let payload_real = if padded {
        total.min(real_length)
    } else {
        real_length
    }
    .saturating_sub(ihl);
    if udp_length as usize != payload_real {
        anomalies.push("udp_length");
    }
    Some(UdpPacket {
        src: Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
        dst: Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
        src_port: u16::from_be_bytes([udp[0], udp[1]]),
        dst_port: u16::from_be_bytes([udp[2], udp[3]]),
        real_length,
        ip_total_length,
        udp_length,
        anomalies,
    })
}

/// Build an Ethernet/IPv4/UDP frame with the given header length fields
/// (`None`: the correct value). For tests and tools.
pub fn udp_frame(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    payload: &[u8],
    ip_len: Option<u16>,
    udp_len: Option<u16>,
) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
    let total = 20 + 8 + payload.len();
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&ip_len.unwrap_or(total as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&udp_len.unwrap_or((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    while f.len() < ETHERNET_MIN_FRAME {
        f.push(0);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn lengths() {
        // A correct 18-byte probe, padded by Ethernet: no anomaly.
        let ok = udp_frame(
            a("203.0.113.5"),
            a("192.0.2.1"),
            4444,
            53413,
            &[7; 18],
            None,
            None,
        );
        let p = check(Link::Ethernet, &ok, ok.len()).unwrap();
        assert_eq!(
            (p.dst_port, p.ip_total_length, p.udp_length),
            (53413, 46, 26)
        );
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        // The UDP length disagrees with the IP payload.
        let bad = udp_frame(
            a("203.0.113.5"),
            a("192.0.2.1"),
            4444,
            53413,
            &[7; 18],
            None,
            Some(8 + 8),
        );
        let p = check(Link::Ethernet, &bad, bad.len()).unwrap();
        assert_eq!(p.anomalies, ["udp_length"]);
        // Both fields lie consistently (36/16 for a 46-byte packet): Ethernet
        // padding hides it, a raw capture does not.
        let both = udp_frame(
            a("203.0.113.5"),
            a("192.0.2.1"),
            4444,
            53413,
            &[7; 18],
            Some(36),
            Some(16),
        );
        assert!(check(Link::Ethernet, &both, both.len())
            .unwrap()
            .anomalies
            .is_empty());
        let raw = &both[14..60];
        assert_eq!(
            check(Link::Raw, raw, raw.len()).unwrap().anomalies,
            ["ip_total_length", "udp_length"]
        );
        let big = udp_frame(
            a("203.0.113.5"),
            a("192.0.2.1"),
            1,
            2,
            &[1; 100],
            Some(60),
            Some(20),
        );
        let p = check(Link::Ethernet, &big, big.len()).unwrap();
        assert_eq!(p.anomalies, ["ip_total_length", "udp_length"]);
        let long = udp_frame(
            a("203.0.113.5"),
            a("192.0.2.1"),
            1,
            2,
            &[1; 10],
            Some(500),
            None,
        );
        assert!(check(Link::Ethernet, &long, long.len())
            .unwrap()
            .anomalies
            .contains(&"ip_total_length"));
        // Not UDP / not IPv4 / garbage.
        let mut tcp = ok.clone();
        tcp[14 + 9] = 6;
        assert_eq!(check(Link::Ethernet, &tcp, tcp.len()), None);
        assert_eq!(
            check(Link::Raw, &ok[14..], ok.len() - 14).map(|p| p.udp_length),
            Some(26)
        );
        for n in 0..ok.len() {
            let _ = check(Link::Ethernet, &ok[..n], n);
            let _ = check(Link::LinuxSll, &ok[..n], n);
            let _ = check(Link::Null, &ok[..n], n);
        }
    }
}
