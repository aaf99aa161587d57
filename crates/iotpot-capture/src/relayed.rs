//! Relayed datagrams, written as the attacker's own packets.
//!
//! On a central, a datagram a sensor relays reaches the central's
//! backdoor through a loopback hop: the relay sends it to the face's
//! loopback socket, starting with a PROXY v2 header naming the attacker
//! and the sensor-side address they reached. Captured as they are, those
//! packets say `127.0.0.1` to `127.0.0.1`. This rewrites them: the
//! attacker's address and port, the face's address and port, the header
//! cut out, lengths and checksums made right. (Relayed TCP connections
//! cross no socket of the central: [`crate::tap`] writes them.) Sans-I/O:
//! IPv4 packets in, packets out.

use foldhash::HashSet;
use iotpot_wire::proxy;
use std::net::{Ipv4Addr, SocketAddr};

const UDP: u8 = 17;

/// A packet to write: the IPv4 packet, and its length on the wire (more
/// than the bytes when the capture cut it).
pub type Out = (Vec<u8>, usize);

#[derive(Default)]
pub struct Unwrap {
    /// The relay backdoors: (protocol, port).
    ports: HashSet<(u8, u16)>,
}

/// An IPv4 UDP packet's parts.
struct Packet<'a> {
    ip: &'a [u8],
    ihl: usize,
    proto: u8,
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
}

fn parse(ip: &[u8]) -> Option<Packet<'_>> {
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return None;
    }
    let ihl = (ip[0] & 0x0f) as usize * 4;
    let proto = ip[9];
    if ihl < 20 || ip.len() < ihl + 8 || proto != UDP {
        return None;
    }
    // A fragment carries no ports (the relay never fragments).
    if u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0 {
        return None;
    }
    let a = |i: usize| Ipv4Addr::new(ip[i], ip[i + 1], ip[i + 2], ip[i + 3]);
    let port = |i: usize| u16::from_be_bytes([ip[ihl + i], ip[ihl + i + 1]]);
    Some(Packet {
        ip,
        ihl,
        proto,
        src: (a(12), port(0)),
        dst: (a(16), port(2)),
    })
}

impl Unwrap {
    pub fn new(ports: impl IntoIterator<Item = (u8, u16)>) -> Unwrap {
        Unwrap {
            ports: ports.into_iter().collect(),
        }
    }

    /// More relay listeners (bound after the capture started).
    pub fn add(&mut self, ports: impl IntoIterator<Item = (u8, u16)>) {
        self.ports.extend(ports);
    }

    /// Whether `ip` (an IPv4 packet) is on the loopback hop to or from a
    /// relay listener.
    pub fn is_relayed(&self, ip: &[u8]) -> bool {
        !self.ports.is_empty()
            && parse(ip).is_some_and(|p| {
                p.src.0.is_loopback()
                    && p.dst.0.is_loopback()
                    && (self.ports.contains(&(p.proto, p.dst.1))
                        || self.ports.contains(&(p.proto, p.src.1)))
            })
    }

    /// The packet to write for `ip` (`real` bytes on the wire): the
    /// attacker's datagram, or the packet as it is when it is not one.
    pub fn packet(&mut self, ip: &[u8], real: usize) -> Out {
        parse(ip)
            .and_then(|p| datagram(&p, real))
            .unwrap_or_else(|| (ip.to_vec(), real))
    }
}

/// A datagram to or from a relay backdoor: its header names both ends.
fn datagram(p: &Packet<'_>, real: usize) -> Option<Out> {
    let t = p.ihl;
    let payload = p.ip.get(t + 8..)?;
    let proxy::Datagram {
        source: SocketAddr::V4(src),
        destination: SocketAddr::V4(dst),
        payload: len,
        ..
    } = proxy::datagram(payload)?
    else {
        return None;
    };
    let mut udp = p.ip[t..t + 8].to_vec();
    udp[0..2].copy_from_slice(&src.port().to_be_bytes());
    udp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    let rest = &payload[len..];
    let udp_len = (8 + rest.len() + real.saturating_sub(p.ip.len())) as u16;
    udp[4..6].copy_from_slice(&udp_len.to_be_bytes());
    Some(build(
        &p.ip[..t],
        *src.ip(),
        *dst.ip(),
        udp,
        rest,
        real.saturating_sub(len),
    ))
}

/// An IPv4 UDP packet from `ip_header`'s fields, new addresses, and the
/// UDP header and payload; lengths and checksums computed (the UDP one
/// only when the whole payload is here).
fn build(
    ip_header: &[u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    mut l4: Vec<u8>,
    payload: &[u8],
    wire: usize,
) -> Out {
    let mut out = ip_header.to_vec();
    let total = wire.min(u16::MAX as usize) as u16;
    out[2..4].copy_from_slice(&total.to_be_bytes());
    out[12..16].copy_from_slice(&src.octets());
    out[16..20].copy_from_slice(&dst.octets());
    out[10..12].copy_from_slice(&[0, 0]);
    let c = checksum(&[&out]);
    out[10..12].copy_from_slice(&c.to_be_bytes());
    l4[6..8].copy_from_slice(&[0, 0]);
    let l4_len = l4.len() + payload.len();
    if ip_header.len() + l4_len == wire {
        let mut pseudo = [0u8; 12];
        pseudo[0..4].copy_from_slice(&src.octets());
        pseudo[4..8].copy_from_slice(&dst.octets());
        pseudo[9] = UDP;
        pseudo[10..12].copy_from_slice(&(l4_len as u16).to_be_bytes());
        let mut c = checksum(&[&pseudo, &l4, payload]);
        if c == 0 {
            c = 0xffff;
        }
        l4[6..8].copy_from_slice(&c.to_be_bytes());
    }
    out.extend_from_slice(&l4);
    out.extend_from_slice(payload);
    (out, wire)
}

/// The Internet checksum of the bytes of `parts`, one after the other.
pub(crate) fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum = 0u32;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in part.iter() {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELAY: u16 = 40_000;
    const CLIENT: u16 = 50_000;

    fn ip(proto: u8, l4: Vec<u8>, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        let total = (20 + l4.len() + payload.len()) as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&l4);
        p.extend_from_slice(payload);
        p
    }

    fn valid(p: &[u8]) {
        assert_eq!(checksum(&[&p[..20]]), 0, "IP checksum");
        let mut pseudo = [0u8; 12];
        pseudo[0..8].copy_from_slice(&p[12..20]);
        pseudo[9] = p[9];
        pseudo[10..12].copy_from_slice(&((p.len() - 20) as u16).to_be_bytes());
        assert_eq!(checksum(&[&pseudo, &p[20..]]), 0, "transport checksum");
    }

    #[test]
    fn a_relayed_datagram_is_the_attackers() {
        let attacker: SocketAddr = "203.0.113.7:40001".parse().unwrap();
        let face: SocketAddr = "198.51.100.2:53413".parse().unwrap();
        let mut payload = proxy::encode_v2(attacker, face, true, Some("tokyo-1"));
        payload.extend_from_slice(b"AA\0\0AAAA\0");
        let mut l4 = vec![0u8; 8];
        l4[0..2].copy_from_slice(&CLIENT.to_be_bytes());
        l4[2..4].copy_from_slice(&RELAY.to_be_bytes());
        l4[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        let d = ip(UDP, l4, &payload);
        let mut u = Unwrap::new([(UDP, RELAY)]);
        assert!(u.is_relayed(&d));
        let (p, wire) = &u.packet(&d, d.len());
        assert_eq!(*wire, p.len());
        valid(p);
        assert_eq!(&p[28..], b"AA\0\0AAAA\0");
        assert_eq!(&p[12..16], [203, 0, 113, 7]);
        assert_eq!(u16::from_be_bytes([p[22], p[23]]), 53413);
        assert_eq!(u16::from_be_bytes([p[24], p[25]]) as usize, 8 + 9);
    }
}
