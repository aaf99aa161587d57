//! A line of a sensor's spool, as the central reads a replayed segment:
//! any bytes give an event with a spool id or a reason, never a panic, and
//! an event read back writes the same line again.
#![no_main]
use iotpot_core::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    for line in text.lines() {
        if let Ok(e) = Event::from_spool_line(line) {
            let again = Event::from_spool_line(&e.to_json()).expect("its own line reads back");
            assert_eq!(again.spool_id, e.spool_id);
        }
    }
});
