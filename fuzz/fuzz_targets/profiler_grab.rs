//! What a scanned device sends, however hostile: the Telnet client's
//! negotiation (split anywhere, answered once per option), response heads,
//! titles, FTP and SSH banners, TLS flights and certificates, chunked
//! bodies, and a verdict over the fields they give.
#![no_main]
use iotpot_profiler::grab::{parse, telnet, tls, Grab};
use iotpot_profiler::recog::Library;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| Library::builtin().unwrap())
}

fuzz_target!(|data: &[u8]| {
    // A TLS server's first flight, and any bytes as a certificate.
    let f = tls::flight(data);
    if let Some(der) = f.certificate {
        let _ = tls::certificate(&der, f.version, f.cipher);
    }
    let _ = tls::certificate(data, None, None);
    let _ = parse::dechunk(data);
    let _ = parse::favicon_mmh3(data);
    let mut client = telnet::Client::default();
    let mut replies = 0;
    for chunk in data.chunks(7) {
        replies += client.feed(chunk).len();
    }
    // At most one 3-byte answer per (verb, option).
    assert!(replies <= 3 * 4 * 256);
    assert!(client.text.len() <= data.len());
    let mut fields = Vec::new();
    if let Some(h) = parse::head(data) {
        assert!(h.headers.len() <= 100);
        if let Some(s) = h.header("Server") {
            fields.push(("http_header.server".to_string(), s.to_string()));
        }
        if let Some(t) = parse::title(&h.body) {
            fields.push(("html_title".to_string(), t));
        }
    }
    if let Some(b) = parse::ftp_banner(data) {
        fields.push(("ftp.banner".to_string(), b));
    }
    let _ = parse::ftp_done(data);
    if let Some(b) = parse::ssh_banner(data) {
        fields.push(("ssh.banner".to_string(), b));
    }
    let _ = parse::last_line(&client.text);
    fields.push((
        "telnet.banner".to_string(),
        String::from_utf8_lossy(&client.text).into_owned(),
    ));
    let g = Grab {
        port: 23,
        state: "open".into(),
        fields,
        ..Grab::default()
    };
    let _ = iotpot_profiler::verdict::judge(library(), &[g]);
});
