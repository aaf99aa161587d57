//! The capture's writing of a central's relayed traffic, on arbitrary
//! input: datagrams on the loopback hop to a relay backdoor (most given a
//! valid loopback UDP header, so the fuzzer reaches the rewriting), and
//! relayed connections' reports (opened, bytes each way, ends, closes, in
//! any order, for a few flows). Never a panic; every datagram written says
//! its length right; every synthesized packet is a whole IP packet whose
//! length field is its length.
#![no_main]
use iotpot_capture::relayed::Unwrap;
use iotpot_capture::tap::{Kind, Record, Synth};
use libfuzzer_sys::fuzz_target;
use std::time::SystemTime;

const RELAY: u16 = 40_000;

fn datagram(pick: u8, body: &[u8]) -> Vec<u8> {
    let (sp, dp) = if pick & 2 == 0 {
        (50_000u16, RELAY)
    } else {
        (RELAY, 50_000)
    };
    let mut p = vec![
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
    ];
    p.extend_from_slice(&sp.to_be_bytes());
    p.extend_from_slice(&dp.to_be_bytes());
    if pick & 4 != 0 {
        // A PROXY v2 signature where the payload starts, for the rest to
        // complete.
        let take = body.len().min(4);
        p.extend_from_slice(&body[..take]);
        p.extend_from_slice(b"\r\n\r\n\0\r\nQUIT\n");
        p.extend_from_slice(&body[take..]);
    } else {
        p.extend_from_slice(body);
    }
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p
}

fn record(pick: u8, body: &[u8]) -> Record {
    let flow = u64::from(pick >> 6);
    let kind = match (pick >> 3) & 7 {
        0 | 1 => {
            let v6 = pick & 1 != 0;
            let ip = |n: u8| -> std::net::IpAddr {
                if v6 {
                    std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n.into()).into()
                } else {
                    std::net::Ipv4Addr::new(203, 0, 113, n).into()
                }
            };
            Kind::Open {
                attacker: (ip(body.first().copied().unwrap_or(7)), 40_000).into(),
                face: (ip(2), 23).into(),
            }
        }
        2 | 3 => Kind::Data {
            from_attacker: pick & 2 == 0,
            bytes: body.to_vec().into(),
        },
        4 | 5 => Kind::Fin {
            from_attacker: pick & 2 == 0,
        },
        _ => Kind::Close,
    };
    Record {
        flow,
        at: SystemTime::now(),
        kind,
    }
}

fuzz_target!(|input: &[u8]| {
    let mut u = Unwrap::new([(17, RELAY)]);
    let mut synth = Synth::default();
    // Items: a pick byte, a length byte, that many bytes (a length over
    // 200 is taken as 3,000 repeated bytes, past the MSS).
    let mut rest = input;
    while let [pick, len, tail @ ..] = rest {
        let n = (*len as usize).min(tail.len());
        let (body, next) = tail.split_at(n);
        rest = next;
        if pick & 1 == 0 && pick & 0x20 == 0 {
            let p = if pick & 8 == 0 {
                datagram(*pick, body)
            } else {
                body.to_vec()
            };
            let (out, wire) = u.packet(&p, p.len() + (pick >> 6) as usize);
            assert!(
                wire >= out.len() || out.len() < 20,
                "{wire} < {}",
                out.len()
            );
        } else {
            let big;
            let body = if *len > 200 {
                big = vec![body.first().copied().unwrap_or(b'x'); 3000];
                &big[..]
            } else {
                body
            };
            for (_, ip) in synth.record(&record(*pick, body)) {
                let said = if ip[0] >> 4 == 4 {
                    u16::from_be_bytes([ip[2], ip[3]]) as usize
                } else {
                    40 + u16::from_be_bytes([ip[4], ip[5]]) as usize
                };
                assert_eq!(said, ip.len());
                assert!(ip.len() <= 60 + iotpot_capture::tap::MSS);
            }
        }
    }
});
