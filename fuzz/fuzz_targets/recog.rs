//! Recog databases on hostile input: an arbitrary file is refused with an
//! error or loaded (never a panic), and an arbitrary banner runs through
//! every built-in database, and through the loaded one, without a panic.
#![no_main]
use iotpot_profiler::recog::{self, Library, FIELDS};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| Library::builtin().unwrap())
}

fuzz_target!(|data: &[u8]| {
    let lib = library();
    for (field, _) in FIELDS {
        for m in lib.matches(field, data) {
            assert!(!m.database.is_empty());
        }
    }
    if let Ok(xml) = std::str::from_utf8(data) {
        if let Ok(db) = recog::parse("fuzz", xml) {
            let _ = db.find(data);
            let _ = recog::selftest::check(&db);
        }
    }
});
