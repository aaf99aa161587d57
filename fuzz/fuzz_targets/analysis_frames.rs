//! What a sample sends from its sandbox, summarized for the analysis
//! report: arbitrary frames (split at 0xff bytes), never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let r = iotpot_iotbox::analyze::summarize(data.split(|b| *b == 0xff));
    assert!(r.packets as usize <= data.len() + 1);
});
