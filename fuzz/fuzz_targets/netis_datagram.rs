//! 53413/UDP datagrams: classification and reply framing on arbitrary bytes.
#![no_main]
use iotpot_wire::netis;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let kind = netis::classify(data);
    let _ = kind.name();
    let r = netis::reply(data, data.len(), 3);
    assert!(r.len() <= (data.len() * 3).max(netis::MIN_REPLY));
});
