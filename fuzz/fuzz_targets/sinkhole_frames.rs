//! What a sample sends on its sandbox's only network, handled by the
//! sinkhole: frames built from the input (raw, or IPv4 UDP/TCP with valid
//! checksums so they reach DNS, the TCP handshake and HTTP), the clock
//! moving on; never a panic, and what it sends back stays bounded.
#![no_main]
use iotpot_iotbox::sinkhole::{NoFiles, Sinkhole, GATEWAY_MAC};
use libfuzzer_sys::fuzz_target;

const GUEST_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

fn sum(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// An Ethernet frame from the guest (10.0.2.15) to `dst` carrying `l4`.
fn ipv4(proto: u8, dst: [u8; 4], mut l4: Vec<u8>, csum_at: usize) -> Vec<u8> {
    let src = [10, 0, 2, 15];
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&[0, proto]);
    pseudo.extend_from_slice(&(l4.len() as u16).to_be_bytes());
    let c = fold(sum(&l4, sum(&pseudo, 0)));
    l4[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
    let total = (20 + l4.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let c = fold(sum(&ip, 0));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = GATEWAY_MAC.to_vec();
    f.extend_from_slice(&GUEST_MAC);
    f.extend_from_slice(&[8, 0]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&l4);
    f
}

fuzz_target!(|data: &[u8]| {
    let mut sink = Sinkhole::new(0);
    let mut now = 0i64;
    let mut out = 0usize;
    for chunk in data.split(|b| *b == 0xff).take(64) {
        let frame = match chunk {
            [0, rest @ ..] => rest.to_vec(),
            [1, rest @ ..] => {
                let mut udp = vec![0x30, 0x39, 0, 53, 0, 0, 0, 0];
                udp[4..6].copy_from_slice(&((8 + rest.len()) as u16).to_be_bytes());
                udp.extend_from_slice(rest);
                ipv4(17, [10, 0, 2, 3], udp, 6)
            }
            [2, flags, port, seq @ ..] if seq.len() >= 8 => {
                let mut tcp = vec![0x30, 0x39, 0, *port];
                tcp.extend_from_slice(&seq[..8]);
                tcp.extend_from_slice(&[0x50, *flags, 0x40, 0, 0, 0, 0, 0]);
                tcp.extend_from_slice(&seq[8..]);
                ipv4(6, [198, 51, 100, 7], tcp, 16)
            }
            [3, ms, ..] => {
                now += i64::from(*ms) * 100;
                Vec::new()
            }
            _ => continue,
        };
        if !frame.is_empty() {
            sink.input(&frame, now);
        }
        out += sink.poll(now, &NoFiles).len();
    }
    assert!(out <= 64 * 4096 + 4096);
});
