//! The PROXY protocol header (v1 and v2) on arbitrary bytes, fed as a
//! reader feeds it: never more than asked, never a decision on a partial
//! header, never past the header.
#![no_main]
use iotpot_wire::proxy::{self, Parse, MAX_HEADER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // The first byte picks a start (either signature, or none), so that the
    // fuzzer explores what follows a valid one.
    let Some((&pick, rest)) = input.split_first() else {
        return;
    };
    let start: &[u8] = match pick % 3 {
        0 => b"\r\n\r\n\0\r\nQUIT\n",
        1 => b"PROXY ",
        _ => b"",
    };
    let data = [start, rest].concat();
    let data = data.as_slice();
    let mut have = 0;
    loop {
        match proxy::parse(&data[..have]) {
            Parse::Need(n) => {
                assert!(n > have && n <= MAX_HEADER, "asked for {n} with {have}");
                if n > data.len() {
                    return;
                }
                have = n;
            }
            Parse::Done { len, .. } => {
                assert!(len <= have, "a header of {len} in {have} bytes");
                return;
            }
            Parse::Invalid(_) => return,
        }
    }
});
