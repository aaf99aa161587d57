//! The Telnet codec and line discipline on arbitrary bytes, in arbitrary chunks.
#![no_main]
use iotpot_wire::line::LineDiscipline;
use iotpot_wire::telnet::{Output, Policy, Telnet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut t = Telnet::new(Policy::new(&[1, 3], &[3, 24, 31]));
    let mut ld = LineDiscipline::new(512);
    let mut out = Output::default();
    let mut echo = Vec::new();
    // The first byte picks the chunk size, as TCP would split the stream.
    let size = data.first().map(|b| *b as usize % 64 + 1).unwrap_or(1);
    for chunk in data.chunks(size) {
        out.clear();
        t.receive(chunk, &mut out);
        let mut rest: &[u8] = &out.data;
        while !rest.is_empty() {
            let (n, _) = ld.feed(rest, true, &mut echo);
            assert!(n > 0);
            rest = &rest[n..];
        }
    }
    let mut enc = Vec::new();
    Telnet::encode_data(data, &mut enc);
});
