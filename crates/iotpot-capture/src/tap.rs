//! Relayed sessions that never cross a socket of the central, written to
//! the capture as the attacker's own TCP connection.
//!
//! A sensor's attacker reaches the central's services through a QUIC
//! stream, handed to the Telnet or HTTP driver in the process: no packet
//! of the central carries the attacker's bytes. The relay tells a [`Tap`]
//! what happens instead (opened, bytes each way, each side's end) and the
//! capture thread writes it as the TCP connection the sensor accepted:
//! the handshake, segments of at most [`MSS`] bytes with their sequence
//! and acknowledgement numbers, FINs, between the attacker's address and
//! port and the address and port they reached on the sensor, checksums
//! right, so Wireshark's "Follow TCP stream" and tcpdump read it as any
//! other. Segment boundaries are the stream's chunks, not the wire's (the
//! sensor's own capture has those).
//!
//! [`Synth`] is sans-I/O: records in, IP packets out.

use bytes::Bytes;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

/// Records waiting for the capture thread at most; past this, records are
/// dropped (and counted).
const QUEUE: usize = 65_536;
/// Payload bytes per synthesized segment.
pub const MSS: usize = 1448;
/// Flows followed at once; past this, all are forgotten.
const MAX_FLOWS: usize = 65_536;

/// What happened on one relayed connection.
#[derive(Debug, Clone)]
pub enum Kind {
    /// The attacker connected to the face.
    Open {
        attacker: SocketAddr,
        face: SocketAddr,
    },
    /// Bytes one way.
    Data { from_attacker: bool, bytes: Bytes },
    /// One side's end of the stream.
    Fin { from_attacker: bool },
    /// The relay is done with the connection: the device's end, if it has
    /// not ended yet, and the flow forgotten.
    Close,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub flow: u64,
    pub at: SystemTime,
    pub kind: Kind,
}

/// Where relays report their connections; live only while a capture
/// runs (until then, and without one, reporting costs nothing).
#[derive(Clone, Default)]
pub struct Tap(Arc<Shared>);

#[derive(Default)]
struct Shared {
    tx: OnceLock<SyncSender<Record>>,
    next: AtomicU64,
    dropped: AtomicU64,
}

impl Tap {
    /// The capture's end (called once, by the capture that starts).
    pub(crate) fn receiver(&self) -> Option<Receiver<Record>> {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        self.0.tx.set(tx).ok()?;
        Some(rx)
    }

    /// A relayed connection from `attacker` to `face`, to report; `None`
    /// when no capture runs.
    pub fn open(&self, attacker: SocketAddr, face: SocketAddr) -> Option<Flow> {
        self.0.tx.get()?;
        let flow = Flow {
            shared: self.0.clone(),
            id: self.0.next.fetch_add(1, Ordering::Relaxed),
        };
        flow.send(Kind::Open { attacker, face });
        Some(flow)
    }

    /// Records dropped for a full queue so far.
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }
}

/// One relayed connection being reported. Dropping it closes it (the
/// device's FIN, if it has not ended yet).
pub struct Flow {
    shared: Arc<Shared>,
    id: u64,
}

impl Flow {
    fn send(&self, kind: Kind) {
        let Some(tx) = self.shared.tx.get() else {
            return;
        };
        let record = Record {
            flow: self.id,
            at: SystemTime::now(),
            kind,
        };
        if let Err(TrySendError::Full(_)) = tx.try_send(record) {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Bytes one way.
    pub fn data(&self, from_attacker: bool, bytes: Bytes) {
        if !bytes.is_empty() {
            self.send(Kind::Data {
                from_attacker,
                bytes,
            });
        }
    }

    /// One side's end.
    pub fn fin(&self, from_attacker: bool) {
        self.send(Kind::Fin { from_attacker });
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        self.send(Kind::Close);
    }
}

/// One followed connection: its ends and the next sequence numbers.
struct Conn {
    attacker: SocketAddr,
    face: SocketAddr,
    /// The next sequence number of the attacker's side, and of the face's.
    seq: [u32; 2],
    /// Which sides have sent their FIN.
    fin: [bool; 2],
}

/// Records to packets.
#[derive(Default)]
pub struct Synth {
    flows: HashMap<u64, Conn>,
    /// How often [`MAX_FLOWS`] flows were forgotten at once.
    forgotten: u64,
}

/// A synthesized packet: whether it goes to the honeypot (the attacker's),
/// and the IP packet.
pub type Packet = (bool, Vec<u8>);

impl Synth {
    /// The packets one record makes (none for a flow not followed).
    pub fn record(&mut self, r: &Record) -> Vec<Packet> {
        let mut out = Vec::new();
        match &r.kind {
            Kind::Open { attacker, face } => {
                if self.flows.len() >= MAX_FLOWS {
                    // Their closes were lost (a full queue) or they are
                    // that many: forget them all rather than write no new
                    // one ever again (their later records are dropped).
                    self.forgotten += 1;
                    tracing::warn!(
                        flows = MAX_FLOWS,
                        times = self.forgotten,
                        "packet capture: too many relayed connections followed at once; forgetting them"
                    );
                    self.flows.clear();
                }
                // Initial sequence numbers as a stack picks them: not
                // guessable from the flow's number.
                let isn = |side: u64| {
                    let mut h = r.flow.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ side;
                    h ^= h >> 29;
                    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
                    (h >> 32) as u32
                };
                let mut c = Conn {
                    attacker: *attacker,
                    face: *face,
                    seq: [isn(1), isn(2)],
                    fin: [false; 2],
                };
                out.push(c.segment(true, SYN, b""));
                c.seq[0] = c.seq[0].wrapping_add(1);
                out.push(c.segment(false, SYN | ACK, b""));
                c.seq[1] = c.seq[1].wrapping_add(1);
                out.push(c.segment(true, ACK, b""));
                self.flows.insert(r.flow, c);
            }
            Kind::Data {
                from_attacker,
                bytes,
            } => {
                let Some(c) = self.flows.get_mut(&r.flow) else {
                    return out;
                };
                let side = usize::from(!from_attacker);
                for chunk in bytes.chunks(MSS) {
                    out.push(c.segment(*from_attacker, PSH | ACK, chunk));
                    c.seq[side] = c.seq[side].wrapping_add(chunk.len() as u32);
                }
            }
            Kind::Fin { from_attacker } => {
                let Some(c) = self.flows.get_mut(&r.flow) else {
                    return out;
                };
                if c.fin[usize::from(!from_attacker)] {
                    return out;
                }
                c.fin(*from_attacker, &mut out);
            }
            Kind::Close => {
                let Some(mut c) = self.flows.remove(&r.flow) else {
                    return out;
                };
                if !c.fin[1] {
                    c.fin(false, &mut out);
                }
            }
        }
        out
    }

    /// Flows followed now.
    pub fn flows(&self) -> usize {
        self.flows.len()
    }
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

impl Conn {
    /// One side's FIN; the last one acknowledged.
    fn fin(&mut self, from_attacker: bool, out: &mut Vec<Packet>) {
        let side = usize::from(!from_attacker);
        out.push(self.segment(from_attacker, FIN | ACK, b""));
        self.seq[side] = self.seq[side].wrapping_add(1);
        self.fin[side] = true;
        if self.fin == [true, true] {
            out.push(self.segment(!from_attacker, ACK, b""));
        }
    }

    /// One segment from the attacker (or to them), with the numbers as
    /// they stand.
    fn segment(&self, from_attacker: bool, flags: u8, payload: &[u8]) -> Packet {
        let (src, dst, seq, ack) = if from_attacker {
            (self.attacker, self.face, self.seq[0], self.seq[1])
        } else {
            (self.face, self.attacker, self.seq[1], self.seq[0])
        };
        let mut tcp = [0u8; 20];
        tcp[0..2].copy_from_slice(&src.port().to_be_bytes());
        tcp[2..4].copy_from_slice(&dst.port().to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        if flags & ACK != 0 {
            tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        }
        tcp[12] = 5 << 4;
        tcp[13] = flags;
        tcp[14..16].copy_from_slice(&65_535u16.to_be_bytes());
        (
            from_attacker,
            ip_packet(src.ip(), dst.ip(), &mut tcp, payload),
        )
    }
}

/// An IPv4 (or, if either end is IPv6, IPv6) packet around a TCP header
/// and payload, lengths and checksums computed.
fn ip_packet(src: IpAddr, dst: IpAddr, tcp: &mut [u8; 20], payload: &[u8]) -> Vec<u8> {
    let l4_len = tcp.len() + payload.len();
    let v6 = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    let mut out;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut pseudo = [0u8; 12];
            pseudo[0..4].copy_from_slice(&s.octets());
            pseudo[4..8].copy_from_slice(&d.octets());
            pseudo[9] = 6;
            pseudo[10..12].copy_from_slice(&(l4_len as u16).to_be_bytes());
            let c = crate::relayed::checksum(&[&pseudo, tcp, payload]);
            tcp[16..18].copy_from_slice(&c.to_be_bytes());
            out = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
            out[2..4].copy_from_slice(&((20 + l4_len) as u16).to_be_bytes());
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
            let c = crate::relayed::checksum(&[&out]);
            out[10..12].copy_from_slice(&c.to_be_bytes());
        }
        _ => {
            let (s, d) = (v6(src).octets(), v6(dst).octets());
            let mut pseudo = [0u8; 40];
            pseudo[0..16].copy_from_slice(&s);
            pseudo[16..32].copy_from_slice(&d);
            pseudo[32..36].copy_from_slice(&(l4_len as u32).to_be_bytes());
            pseudo[39] = 6;
            let c = crate::relayed::checksum(&[&pseudo, tcp, payload]);
            tcp[16..18].copy_from_slice(&c.to_be_bytes());
            out = vec![0x60, 0, 0, 0, 0, 0, 6, 64];
            out[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            out.extend_from_slice(&s);
            out.extend_from_slice(&d);
        }
    }
    out.extend_from_slice(tcp);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(p: &[u8], at: usize) -> u32 {
        u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
    }

    fn valid_v4(p: &[u8]) {
        use crate::relayed::checksum;
        assert_eq!(checksum(&[&p[..20]]), 0, "IP checksum");
        let mut pseudo = [0u8; 12];
        pseudo[0..8].copy_from_slice(&p[12..20]);
        pseudo[9] = 6;
        pseudo[10..12].copy_from_slice(&((p.len() - 20) as u16).to_be_bytes());
        assert_eq!(checksum(&[&pseudo, &p[20..]]), 0, "TCP checksum");
    }

    fn rec(kind: Kind) -> Record {
        Record {
            flow: 7,
            at: SystemTime::now(),
            kind,
        }
    }

    #[test]
    fn a_relayed_connection_is_written_as_the_attackers_tcp() {
        let attacker: SocketAddr = "203.0.113.7:51234".parse().unwrap();
        let face: SocketAddr = "198.51.100.2:23".parse().unwrap();
        let mut s = Synth::default();
        let open = s.record(&rec(Kind::Open { attacker, face }));
        assert_eq!(open.len(), 3, "the handshake");
        let (syn, synack, ack) = (&open[0].1, &open[1].1, &open[2].1);
        assert_eq!(syn[33], SYN);
        assert_eq!(synack[33], SYN | ACK);
        assert_eq!(field(synack, 28), field(syn, 24).wrapping_add(1));
        assert_eq!(field(ack, 28), field(synack, 24).wrapping_add(1));
        let big = Bytes::from(vec![b'x'; MSS + 10]);
        let data = s.record(&rec(Kind::Data {
            from_attacker: false,
            bytes: big,
        }));
        assert_eq!(data.len(), 2, "cut at the MSS");
        assert_eq!(data[0].1.len(), 40 + MSS);
        assert_eq!(field(&data[1].1, 24), field(&data[0].1, 24) + MSS as u32);
        let typed = s.record(&rec(Kind::Data {
            from_attacker: true,
            bytes: Bytes::from_static(b"root\r\n"),
        }));
        let t = &typed[0].1;
        assert!(typed[0].0, "to the honeypot");
        assert_eq!(&t[12..16], [203, 0, 113, 7]);
        assert_eq!(&t[16..20], [198, 51, 100, 2]);
        assert_eq!(u16::from_be_bytes([t[20], t[21]]), 51234);
        assert_eq!(u16::from_be_bytes([t[22], t[23]]), 23);
        // It acknowledges everything the device sent.
        assert_eq!(
            field(t, 28),
            field(&data[1].1, 24) + 10,
            "ack of the device's bytes"
        );
        assert_eq!(&t[40..], b"root\r\n");
        for p in open.iter().chain(&data).chain(&typed) {
            valid_v4(&p.1);
        }
        assert!(
            s.record(&rec(Kind::Fin {
                from_attacker: true
            }))
            .len()
                == 1
        );
        let last = s.record(&rec(Kind::Fin {
            from_attacker: false,
        }));
        assert_eq!(last.len(), 2, "the FIN and its ACK");
        assert_eq!(s.flows(), 1);
        assert!(s.record(&rec(Kind::Close)).is_empty(), "both ended already");
        assert_eq!(s.flows(), 0, "forgotten");
        // A record of a flow not followed: nothing.
        assert!(s
            .record(&rec(Kind::Fin {
                from_attacker: false
            }))
            .is_empty());
    }

    #[test]
    fn ipv6_ends_make_ipv6_packets() {
        let attacker: SocketAddr = "[2001:db8::7]:4000".parse().unwrap();
        let face: SocketAddr = "[2001:db8::2]:23".parse().unwrap();
        let mut s = Synth::default();
        let open = s.record(&rec(Kind::Open { attacker, face }));
        let p = &open[0].1;
        assert_eq!(p[0] >> 4, 6);
        assert_eq!(p.len(), 60);
        assert_eq!(u16::from_be_bytes([p[4], p[5]]), 20);
    }
}
