//! Droppers in web requests on arbitrary requests: whatever parses as a
//! head (with the rest as its body) is searched for droppers, and their
//! command lines run in the `dvr` device's scratch shell to find URLs.
//! Never a panic; the parts found, their size and their lines stay
//! bounded.
#![no_main]
use iotpot_core::honeytoken::Honeytokens;
use iotpot_session::http::{dropper, Site};
use iotpot_session::{Deployment, Profile, System};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let d = Deployment::from_seed([1; 32]);
        let tokens = Honeytokens::new(&d);
        let p = Profile::load("dvr").unwrap().instantiate(&d);
        Site::new(System::new(p, 1_700_000_000), &tokens)
    })
}

fuzz_target!(|data: &[u8]| {
    let lines = dropper::commands(&String::from_utf8_lossy(data));
    assert!(lines.lines().count() <= dropper::MAX_LINES);
    let Ok(Some((req, n))) = iotpot_wire::http::parse_head(data) else {
        return;
    };
    let found = dropper::find(&req, &data[n..]);
    assert!(found.len() <= dropper::MAX_FOUND);
    for f in &found {
        assert!(f.raw.len() <= dropper::MAX_PART);
    }
    let (events, urls) = site().droppers(&req, &data[n..], 1_700_000_000);
    assert_eq!(events.len(), found.len());
    assert!(urls.len() <= dropper::MAX_URLS);
});
