//! `iotpot import cowrie` on arbitrary log lines: the raw bytes as a line,
//! and the bytes placed in the fields of a real cowrie event (user names,
//! commands, URLs, numbers are the attacker's). Never a panic; every event
//! made has the line's session and an import key.
#![no_main]
use iotpot_report::import::cowrie;
use libfuzzer_sys::fuzz_target;

const EVENTS: [&str; 9] = [
    "cowrie.session.connect",
    "cowrie.session.params",
    "cowrie.login.success",
    "cowrie.login.failed",
    "cowrie.command.input",
    "cowrie.command.failed",
    "cowrie.session.file_download",
    "cowrie.session.file_download.failed",
    "cowrie.session.closed",
];

fuzz_target!(|input: &[u8]| {
    let raw = String::from_utf8_lossy(input);
    let _ = cowrie::events(&raw);
    let [pick, rest @ ..] = input else { return };
    let text = String::from_utf8_lossy(rest);
    let field = serde_json::Value::String(text.to_string());
    let number: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    let line = format!(
        r#"{{"session":"0f873fa098e4","protocol":"telnet","src_ip":"203.0.113.7","src_port":{number},"dst_ip":"127.0.0.1","dst_port":23,"eventid":"{}","username":{field},"password":{field},"input":{field},"url":{field},"outfile":{field},"shasum":{field},"duration":{number},"duration_ms":{number},"size":{number},"arch":{field},"sensor":{field},"timestamp":"2026-12-02T04:28:29.446474Z"}}"#,
        EVENTS[*pick as usize % EVENTS.len()]
    );
    if let Ok(events) = cowrie::events(&line) {
        for e in events {
            assert_eq!(e.session, "0f873fa098e4");
            assert!(e.spool_id.is_some());
        }
    }
});
