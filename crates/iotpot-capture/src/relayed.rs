//! Relayed sessions, written as the attacker's own packets.
//!
//! On a central, a sensor's attacker reaches the device through a loopback
//! hop: the central's relay connects to a relay listener (TCP) or sends to
//! a relay backdoor (UDP), and each connection or datagram starts with a
//! PROXY v2 header naming the attacker and the sensor-side address they
//! reached. Captured as they are, those packets say `127.0.0.1` to
//! `127.0.0.1`. This rewrites them: the attacker's address and port, the
//! face's address and port, the header cut out (and the TCP sequence and
//! acknowledgement numbers moved by its length, so Wireshark follows the
//! stream), lengths and checksums made right. A flow's handshake is held
//! until its header says whose it is. Sans-I/O: IPv4 packets in, packets
//! out.

use iotpot_wire::proxy::{self, Header, Parse};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Flows followed at once; past this, all are forgotten (their later
/// packets are written as they are).
const MAX_FLOWS: usize = 65_536;
/// Packets held before a flow's header; past this, written as they are.
const MAX_HELD: usize = 8;

const TCP: u8 = 6;
const UDP: u8 = 17;

/// A packet to write: the IPv4 packet, and its length on the wire (more
/// than the bytes when the capture cut it).
pub type Out = (Vec<u8>, usize);

#[derive(Default)]
pub struct Unwrap {
    /// The relay listeners: (protocol, port).
    ports: HashSet<(u8, u16)>,
    /// TCP flows by (client port, relay port).
    flows: HashMap<(u16, u16), Flow>,
}

#[derive(Default)]
struct Flow {
    /// The relay's initial sequence number.
    isn: u32,
    /// The attacker, the face, and the header's length.
    header: Option<(SocketAddr, SocketAddr, u32)>,
    held: Vec<(Vec<u8>, usize)>,
    fins: u8,
}

/// An IPv4 TCP or UDP packet's parts.
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
    if ihl < 20 || ip.len() < ihl + 8 || !matches!(proto, TCP | UDP) {
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
            flows: HashMap::new(),
        }
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

    /// The packets to write for `ip` (`real` bytes on the wire): none yet
    /// (a handshake held), one, or the held ones and this one.
    pub fn packet(&mut self, ip: &[u8], real: usize) -> Vec<Out> {
        let Some(p) = parse(ip) else {
            return vec![(ip.to_vec(), real)];
        };
        if p.proto == UDP {
            return vec![datagram(&p, real).unwrap_or_else(|| (ip.to_vec(), real))];
        }
        let to_relay = self.ports.contains(&(TCP, p.dst.1));
        let key = if to_relay {
            (p.src.1, p.dst.1)
        } else {
            (p.dst.1, p.src.1)
        };
        let t = p.ihl;
        if ip.len() < t + 20 {
            return vec![(ip.to_vec(), real)];
        }
        let flags = ip[t + 13];
        let seq = u32::from_be_bytes([ip[t + 4], ip[t + 5], ip[t + 6], ip[t + 7]]);
        let (syn, ack, fin, rst) = (
            flags & 2 != 0,
            flags & 16 != 0,
            flags & 1 != 0,
            flags & 4 != 0,
        );
        if to_relay && syn && !ack {
            if self.flows.len() >= MAX_FLOWS {
                tracing::warn!(flows = MAX_FLOWS, "packet capture: too many relayed flows at once; forgetting them (their packets are written as captured)");
                self.flows.clear();
            }
            self.flows.insert(
                key,
                Flow {
                    isn: seq,
                    held: vec![(ip.to_vec(), real)],
                    ..Flow::default()
                },
            );
            return Vec::new();
        }
        let Some(flow) = self.flows.get_mut(&key) else {
            return vec![(ip.to_vec(), real)];
        };
        if flow.header.is_none() {
            let offset = t + (ip[t + 12] >> 4) as usize * 4;
            let payload = ip.get(offset..).unwrap_or_default();
            if to_relay && !payload.is_empty() && seq == flow.isn.wrapping_add(1) {
                if let Parse::Done {
                    header:
                        Header::Proxy {
                            source,
                            destination,
                            ..
                        },
                    len,
                } = proxy::parse(payload)
                {
                    flow.header = Some((source, destination, len as u32));
                }
            }
            flow.held.push((ip.to_vec(), real));
            if flow.header.is_none() && flow.held.len() < MAX_HELD {
                return Vec::new();
            }
            let held = std::mem::take(&mut flow.held);
            let Some(h) = flow.header else {
                // No header after all: as captured.
                self.flows.remove(&key);
                return held;
            };
            let isn = flow.isn;
            let ports = &self.ports;
            return held
                .into_iter()
                .filter_map(|(pkt, real)| {
                    let to_relay = parse(&pkt).is_some_and(|q| ports.contains(&(TCP, q.dst.1)));
                    segment(&pkt, real, isn, h, to_relay)
                })
                .collect();
        }
        let (isn, h) = (
            flow.isn,
            flow.header.unwrap_or((p.src_addr(), p.dst_addr(), 0)),
        );
        if fin {
            flow.fins += 1;
        }
        let done = rst || (flow.fins >= 2 && !fin && ack);
        if done {
            self.flows.remove(&key);
        }
        segment(ip, real, isn, h, to_relay).into_iter().collect()
    }
}

impl Packet<'_> {
    fn src_addr(&self) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(self.src.0), self.src.1)
    }

    fn dst_addr(&self) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(self.dst.0), self.dst.1)
    }
}

/// A TCP segment of a flow whose header is known (`to_relay`: sent by
/// the central's relay, which sent the header): the attacker's and the
/// face's addresses, the header's bytes cut, the numbers moved. `None`
/// for a segment that carried nothing but the header.
fn segment(
    ip: &[u8],
    real: usize,
    isn: u32,
    header: (SocketAddr, SocketAddr, u32),
    to_relay: bool,
) -> Option<Out> {
    let p = parse(ip)?;
    let (attacker, face, hl) = header;
    let (SocketAddr::V4(attacker), SocketAddr::V4(face)) = (attacker, face) else {
        return Some((ip.to_vec(), real));
    };
    let t = p.ihl;
    let data_at = t + (ip.get(t + 12)? >> 4) as usize * 4;
    if ip.len() < data_at {
        return Some((ip.to_vec(), real));
    }
    let base = isn.wrapping_add(1);
    // How far past the header's first byte `n` is, at most the header.
    let into_header = |n: u32| -> u32 {
        let off = n.wrapping_sub(base) as i32;
        if off <= 0 {
            0
        } else {
            (off as u32).min(hl)
        }
    };
    let mut tcp = ip[t..data_at].to_vec();
    let mut payload = &ip[data_at..];
    let mut wire = real;
    let (src, dst) = if to_relay {
        let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
        // The header's bytes in this segment: cut.
        let end = seq.wrapping_add(payload.len() as u32);
        let cut = into_header(end).saturating_sub(into_header(seq)) as usize;
        let had = !payload.is_empty();
        payload = payload.get(cut..).unwrap_or_default();
        wire = wire.saturating_sub(cut);
        if had && payload.is_empty() && tcp[13] & 3 == 0 {
            return None;
        }
        tcp[4..8].copy_from_slice(&seq.wrapping_sub(into_header(seq)).to_be_bytes());
        (attacker, face)
    } else {
        let ackn = u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]);
        if tcp[13] & 16 != 0 {
            tcp[8..12].copy_from_slice(&ackn.wrapping_sub(into_header(ackn)).to_be_bytes());
        }
        (face, attacker)
    };
    tcp[0..2].copy_from_slice(&src.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&dst.port().to_be_bytes());
    Some(build(
        &ip[..t],
        *src.ip(),
        *dst.ip(),
        tcp,
        payload,
        wire,
        TCP,
    ))
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
        UDP,
    ))
}

/// An IPv4 packet from `ip_header`'s fields, new addresses, and the
/// transport header and payload; lengths and checksums computed (the
/// transport's only when the whole payload is here).
fn build(
    ip_header: &[u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    mut l4: Vec<u8>,
    payload: &[u8],
    wire: usize,
    proto: u8,
) -> Out {
    let mut out = ip_header.to_vec();
    let total = wire.min(u16::MAX as usize) as u16;
    out[2..4].copy_from_slice(&total.to_be_bytes());
    out[12..16].copy_from_slice(&src.octets());
    out[16..20].copy_from_slice(&dst.octets());
    out[10..12].copy_from_slice(&[0, 0]);
    let c = checksum(&[&out]);
    out[10..12].copy_from_slice(&c.to_be_bytes());
    let at = if proto == TCP { 16 } else { 6 };
    l4[at..at + 2].copy_from_slice(&[0, 0]);
    let l4_len = l4.len() + payload.len();
    if ip_header.len() + l4_len == wire {
        let mut pseudo = [0u8; 12];
        pseudo[0..4].copy_from_slice(&src.octets());
        pseudo[4..8].copy_from_slice(&dst.octets());
        pseudo[9] = proto;
        pseudo[10..12].copy_from_slice(&(l4_len as u16).to_be_bytes());
        let mut c = checksum(&[&pseudo, &l4, payload]);
        if proto == UDP && c == 0 {
            c = 0xffff;
        }
        l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    out.extend_from_slice(&l4);
    out.extend_from_slice(payload);
    (out, wire)
}

/// The Internet checksum of the bytes of `parts`, one after the other.
fn checksum(parts: &[&[u8]]) -> u16 {
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

    fn tcp(from_relay_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (sp, dp) = if from_relay_client {
            (CLIENT, RELAY)
        } else {
            (RELAY, CLIENT)
        };
        let mut l4 = vec![0u8; 20];
        l4[0..2].copy_from_slice(&sp.to_be_bytes());
        l4[2..4].copy_from_slice(&dp.to_be_bytes());
        l4[4..8].copy_from_slice(&seq.to_be_bytes());
        l4[8..12].copy_from_slice(&ack.to_be_bytes());
        l4[12] = 5 << 4;
        l4[13] = flags;
        ip(TCP, l4, payload)
    }

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

    fn field(p: &[u8], at: usize) -> u32 {
        u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
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
    fn a_relayed_connection_is_the_attackers() {
        let attacker: SocketAddr = "203.0.113.7:51234".parse().unwrap();
        let face: SocketAddr = "198.51.100.2:23".parse().unwrap();
        let header = proxy::encode_v2(attacker, face, false, Some("tokyo-1"));
        let hl = header.len() as u32;
        let mut u = Unwrap::new([(TCP, RELAY)]);
        let isn = 1000;
        let syn = tcp(true, isn, 0, 2, b"");
        assert!(u.is_relayed(&syn));
        assert!(u.packet(&syn, syn.len()).is_empty(), "held");
        let synack = tcp(false, 7000, isn + 1, 0x12, b"");
        assert!(u.packet(&synack, synack.len()).is_empty(), "held");
        let mut first = header.clone();
        first.extend_from_slice(b"root\r\n");
        let data = tcp(true, isn + 1, 7001, 0x18, &first);
        let out = u.packet(&data, data.len());
        assert_eq!(out.len(), 3, "the handshake and the data");
        for (p, wire) in &out {
            assert_eq!(*wire, p.len());
            valid(p);
            let (src, dst) = (&p[12..16], &p[16..20]);
            assert!(
                (src == [203, 0, 113, 7] && dst == [198, 51, 100, 2])
                    || (src == [198, 51, 100, 2] && dst == [203, 0, 113, 7]),
                "{src:?} {dst:?}"
            );
        }
        let d = &out[2].0;
        assert_eq!(&d[40..], b"root\r\n", "the header cut");
        assert_eq!(field(d, 24), isn + 1);
        assert_eq!(u16::from_be_bytes([d[20], d[21]]), 51234);
        assert_eq!(u16::from_be_bytes([d[22], d[23]]), 23);
        // The device's answer acknowledges the header too: not any more.
        let answer = tcp(false, 7001, isn + 1 + hl + 6, 0x18, b"Password: ");
        let out = u.packet(&answer, answer.len());
        let a = &out[0].0;
        valid(a);
        assert_eq!(field(a, 28), isn + 1 + 6);
        assert_eq!(&a[12..16], [198, 51, 100, 2]);
        // The next bytes from the attacker: moved back by the header.
        let more = tcp(true, isn + 1 + hl + 6, 7011, 0x18, b"xc3511\r\n");
        let m = &u.packet(&more, more.len())[0].0;
        assert_eq!(field(m, 24), isn + 1 + 6);
        // A flow the capture did not see start: as captured.
        let stray = tcp(true, 5, 5, 0x10, b"x");
        let mut v = Unwrap::new([(TCP, RELAY)]);
        assert_eq!(
            v.packet(&stray, stray.len()),
            vec![(stray.clone(), stray.len())]
        );
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
        let out = u.packet(&d, d.len());
        let (p, wire) = &out[0];
        assert_eq!(*wire, p.len());
        valid(p);
        assert_eq!(&p[28..], b"AA\0\0AAAA\0");
        assert_eq!(&p[12..16], [203, 0, 113, 7]);
        assert_eq!(u16::from_be_bytes([p[22], p[23]]), 53413);
        assert_eq!(u16::from_be_bytes([p[24], p[25]]) as usize, 8 + 9);
    }
}
