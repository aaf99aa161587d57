//! Exploit traps on arbitrary requests aimed at them: the first byte picks
//! a trap of a built-in profile, the rest (split at 0xff) becomes the
//! query, a header line and the body of a request to its path. Whatever
//! reaches a trap is routed and its command run in a scratch shell of the
//! device (downloads off), and the answer built. Never a panic; the value,
//! the lines and the output stay bounded.
#![no_main]
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_session::command::Terminal;
use iotpot_session::http::trap::Run;
use iotpot_session::http::{Page, Site};
use iotpot_session::{Deployment, Profile, ShellLimits, Step, System};
use iotpot_shell::Shell;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn sites() -> &'static (Vec<Site>, Honeytokens) {
    static SITES: OnceLock<(Vec<Site>, Honeytokens)> = OnceLock::new();
    SITES.get_or_init(|| {
        let d = Deployment::from_seed([1; 32]);
        let tokens = Honeytokens::new(&d);
        let sites = Profile::builtins()
            .into_iter()
            .filter(|p| !p.http.traps.is_empty())
            .map(|p| Site::new(System::new(p.instantiate(&d), 1_700_000_000), &tokens))
            .collect();
        (sites, tokens)
    })
}

fuzz_target!(|data: &[u8]| {
    let (sites, tokens) = sites();
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let traps: Vec<(&Site, usize)> = sites
        .iter()
        .flat_map(|s| (0..s.device.persona.profile.http.traps.len()).map(move |i| (s, i)))
        .collect();
    let (site, i) = traps[pick as usize % traps.len()];
    let t = &site.device.persona.profile.http.traps[i];
    let mut parts = rest.splitn(3, |b| *b == 0xff);
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let header = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default();
    let path = if !t.path.is_empty() {
        t.path.clone()
    } else {
        t.path_prefix.clone() + "x"
    };
    let method = t.method.first().map_or("POST", String::as_str);
    let mut raw = format!(
        "{method} {path}?{} HTTP/1.1\r\n{}\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\nContent-Length: {}\r\n\r\n",
        query.replace([' ', '\r', '\n'], "+"),
        header.replace(['\r', '\n'], ""),
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    let Ok(Some((req, n))) = iotpot_wire::http::parse_head(&raw) else {
        return;
    };
    let body = &raw[n..];
    let info = SessionInfo::new(
        "127.0.0.1:4000".parse().unwrap(),
        "127.0.0.1:8080".parse().unwrap(),
        "fuzz".into(),
        "http",
    );
    let hit = site.trap_hit(&req, body);
    let routed = site.route(&req, body, hit, tokens, &info);
    assert!(matches!(routed.events[0], EventKind::HttpRequest { .. }));
    let Page::Trap(hit) = routed.page else {
        return;
    };
    assert!(hit.raw.len() <= 4096);
    assert!(hit.run.len() <= 32);
    let mut term = Terminal::new(Shell::new(
        site.device.clone(),
        "root",
        ShellLimits {
            vfs_bytes: 64 << 10,
            steps_per_line: 2_000,
            output_per_line: 64 << 10,
        },
    ));
    let mut run = Run::new(&hit);
    let mut step = Step::default();
    assert!(run.advance(&mut term, 1_700_000_000, &mut step), "nothing waits with downloads off");
    assert!(run.output.len() <= 32 * (64 << 10));
    let file = hit.read.as_deref().and_then(|p| term.shell().read_file(p));
    let _ = site.trap_page(&hit, &run.output, file.as_deref().map(|f| f.as_slice()));
});
