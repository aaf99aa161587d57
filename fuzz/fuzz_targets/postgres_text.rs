//! What the PostgreSQL sink does to attacker text before the server sees
//! it, and how it reads the server's NUMERIC: any string, as a column or
//! inside an event's JSON, comes out without a NUL (JSON still valid, and
//! reading as the same string with each NUL as `\x00`); any bytes as a
//! NUMERIC give a number or an error, never a panic.
#![no_main]
use iotpot_store::postgres::{numeric, without_nul};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let column = without_nul(&text, false);
    assert!(!column.contains('\0'));
    assert_eq!(column, text.replace('\0', "\\x00"));
    let json = serde_json::to_string(&*text).expect("a string serializes");
    let stored = without_nul(&json, true);
    let back: String = serde_json::from_str(&stored).expect("still JSON");
    assert_eq!(back, text.replace('\0', "\\x00"));
    // Text that is not JSON at all, in the JSON path: no panic.
    let _ = without_nul(&text, true);
    let _ = numeric(input);
});
