//! A device web server's routing on arbitrary requests: whatever parses as
//! a head is routed (pages, Basic auth, bait configs) and answered without
//! a panic, and the event always comes first.
#![no_main]
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_session::http::{Page, Site};
use iotpot_session::{Deployment, Profile, System};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn site() -> &'static (Site, Honeytokens) {
    static SITE: OnceLock<(Site, Honeytokens)> = OnceLock::new();
    SITE.get_or_init(|| {
        let d = Deployment::from_seed([1; 32]);
        let tokens = Honeytokens::new(&d);
        let p = Profile::load("dvr").unwrap().instantiate(&d);
        (Site::new(System::new(p, 1_700_000_000), &tokens), tokens)
    })
}

fuzz_target!(|data: &[u8]| {
    let (site, tokens) = site();
    let info = SessionInfo::new(
        "127.0.0.1:4000".parse().unwrap(),
        "127.0.0.1:8080".parse().unwrap(),
        "fuzz".into(),
        "http",
    );
    let now = time::OffsetDateTime::UNIX_EPOCH;
    match iotpot_wire::http::parse_head(data) {
        Ok(Some((req, n))) => {
            let hit = site.trap_hit(&req, &data[n..]);
            let routed = site.route(&req, &data[n..], hit, tokens, &info);
            assert!(matches!(routed.events[0], EventKind::HttpRequest { .. }));
            if let Page::Body {
                status,
                content_type,
                body,
                extra,
            } = routed.page
            {
                let _ = site.response(status, &content_type, &body, extra, false, now);
            }
        }
        Ok(None) => {}
        Err(_) => {
            let _ = site.malformed(data, "fuzz".into(), now);
        }
    }
});
