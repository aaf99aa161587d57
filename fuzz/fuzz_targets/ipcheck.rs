//! The IPv4/UDP length check (live capture and `iotpot pcap check`) on
//! arbitrary frames of every link type and any claimed wire length.
#![no_main]
use iotpot_wire::ipcheck::{check, Link};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&extra, frame)) = data.split_first() else {
        return;
    };
    for link in [Link::Ethernet, Link::Raw, Link::LinuxSll, Link::Null] {
        for wire in [
            frame.len(),
            frame.len() + extra as usize,
            frame.len().saturating_sub(extra as usize),
        ] {
            if let Some(p) = check(link, frame, wire) {
                assert!(p.real_length <= wire);
            }
        }
    }
});
