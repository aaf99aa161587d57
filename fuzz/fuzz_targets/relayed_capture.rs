//! The capture's rewriting of a central's loopback relay hop, on arbitrary
//! packets: a sequence of IPv4 packets (most given a valid loopback TCP or
//! UDP header to or from a relay port, so the fuzzer reaches the flows),
//! never a panic, and every packet written says its length right.
#![no_main]
use iotpot_capture::relayed::Unwrap;
use libfuzzer_sys::fuzz_target;

const RELAY: u16 = 40_000;

fn packet(pick: u8, body: &[u8]) -> Vec<u8> {
    let proto = if pick & 1 == 0 { 6 } else { 17 };
    let (sp, dp) = if pick & 2 == 0 { (50_000u16, RELAY) } else { (RELAY, 50_000) };
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1];
    p.extend_from_slice(&sp.to_be_bytes());
    p.extend_from_slice(&dp.to_be_bytes());
    if pick & 4 != 0 {
        // A PROXY v2 signature where the payload starts (after a 20-byte
        // TCP header or an 8-byte UDP one), for the rest to complete.
        let header_rest = if proto == 6 { 16 } else { 4 };
        let take = body.len().min(header_rest);
        p.extend_from_slice(&body[..take]);
        if proto == 6 && take == header_rest {
            p[32] = 5 << 4;
        }
        p.extend_from_slice(b"\r\n\r\n\0\r\nQUIT\n");
        p.extend_from_slice(&body[take..]);
    } else {
        p.extend_from_slice(body);
    }
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p
}

fuzz_target!(|input: &[u8]| {
    let mut u = Unwrap::new([(6, RELAY), (17, RELAY)]);
    // Packets: a pick byte, a length byte, that many bytes.
    let mut rest = input;
    while let [pick, len, tail @ ..] = rest {
        let n = (*len as usize).min(tail.len());
        let (body, next) = tail.split_at(n);
        rest = next;
        let p = if pick & 8 == 0 { packet(*pick, body) } else { body.to_vec() };
        for (out, wire) in u.packet(&p, p.len() + (pick >> 6) as usize) {
            assert!(wire >= out.len() || out.len() < 20, "{wire} < {}", out.len());
        }
    }
});
