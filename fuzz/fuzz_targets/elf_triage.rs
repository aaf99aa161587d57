//! ELF triage (hand-read header, goblin, strings and indicators) on
//! hostile files.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = iotpot_downloader::triage::triage(data);
    assert!(t.ips.len() <= 64 && t.urls.len() <= 64 && t.domains.len() <= 64);
});
