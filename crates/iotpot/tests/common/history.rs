//! A generated history of three months, for the report tests.

use iotpot_core::{EventKind, SessionInfo};
use iotpot_store::Sink;
use std::net::SocketAddr;

/// A history of `days` days from 2026-08-01: sessions from a few dozen
/// addresses, logins with a handful of pairs, commands, 53413 probes, a
/// sample; through a store's writer as `iotpot run` writes.
pub fn history(sink: &mut dyn Sink) {
    write(sink, &history_events());
}

/// The history's events, in order.
pub fn history_events() -> Vec<iotpot_core::Event> {
    let start = time::macros::datetime!(2026-08-01 00:00 UTC);
    let pairs = [
        ("root", "xc3511"),
        ("root", "vizxv"),
        ("admin", "admin"),
        ("root", "888888"),
        ("guest", "12345"),
    ];
    let mut events = Vec::new();
    for day in 0..92i64 {
        for k in 0..(day % 4 + 1) {
            let src: SocketAddr = format!("203.0.113.{}:{}", (day * 7 + k) % 60 + 1, 40_000 + k)
                .parse()
                .unwrap();
            let sensor = if k % 2 == 0 { "tokyo-1" } else { "osaka-2" };
            let info = SessionInfo::new(
                src,
                "198.51.100.2:23".parse().unwrap(),
                sensor.into(),
                "telnet",
            );
            let at = start + time::Duration::days(day) + time::Duration::minutes(k * 10);
            let mut push = |kind: EventKind, s: i64| {
                let mut e = info.event(kind);
                e.timestamp = at + time::Duration::seconds(s);
                events.push(e);
            };
            push(EventKind::SessionConnect {}, 0);
            push(
                EventKind::SessionParams {
                    profile: "dvr-xiongmai".into(),
                    arch: "armv7l".into(),
                    device_type: "dvr".into(),
                },
                0,
            );
            let (u, p) = pairs[((day + k) % 5) as usize];
            push(
                EventKind::LoginFailed {
                    username: u.into(),
                    password: format!("{p}x{}", day % 9),
                },
                1,
            );
            if k != 2 {
                push(
                    EventKind::LoginSuccess {
                        username: u.into(),
                        password: p.into(),
                    },
                    2,
                );
                for c in 0..(k + 1) {
                    push(
                        EventKind::CommandInput {
                            input: format!("echo {c}"),
                            known: true,
                            output: format!("{c}\n"),
                            output_size: c.to_string().len() as u64 + 1,
                        },
                        3 + c,
                    );
                }
            }
            push(
                EventKind::SessionClosed {
                    duration: 9.0,
                    reason: "client".into(),
                    bytes_in: 10,
                    bytes_out: 20,
                },
                9,
            );
        }
        if day % 10 == 0 {
            let info = SessionInfo::new(
                format!("192.0.2.{}:5000", day / 10 + 1).parse().unwrap(),
                "198.51.100.2:53413".parse().unwrap(),
                "tokyo-1".into(),
                "netis",
            );
            for (i, kind) in ["scan-18", "probe"].into_iter().enumerate() {
                let mut e = info.event(EventKind::NetisDatagram {
                    length: if i == 0 { 18 } else { 9 },
                    kind: kind.into(),
                    payload: String::new(),
                    reply_length: 16,
                });
                e.timestamp = start + time::Duration::days(day) + time::Duration::hours(12);
                events.push(e);
            }
        }
    }
    // A sample in September.
    let info = SessionInfo::new(
        "203.0.113.5:41000".parse().unwrap(),
        "198.51.100.2:23".parse().unwrap(),
        "tokyo-1".into(),
        "telnet",
    );
    let sha = "ab".repeat(32);
    let dropper = "cd".repeat(32);
    for kind in [
        // The dropper script, then the bot it fetched.
        EventKind::DownloadSuccess {
            url: "http://203.0.113.99/bins.sh".into(),
            final_url: "http://203.0.113.99/bins.sh".into(),
            outfile: "-".into(),
            shasum: dropper.clone(),
            size: 300,
            duplicate: false,
            remote: "203.0.113.99:80".into(),
            parent: None,
        },
        EventKind::DownloadSuccess {
            url: "http://203.0.113.99/bins/mirai.arm7".into(),
            final_url: "http://203.0.113.99/bins/mirai.arm7".into(),
            outfile: "/tmp/m".into(),
            shasum: sha.clone(),
            size: 1000,
            duplicate: false,
            remote: "203.0.113.99:80".into(),
            parent: Some(dropper.clone()),
        },
        EventKind::SampleTriaged {
            shasum: sha.clone(),
            size: 1000,
            kind: "elf".into(),
            arch: Some("arm7".into()),
            tags: vec!["mirai".into()],
            source: "http://203.0.113.99/bins/mirai.arm7".into(),
            triage: serde_json::json!({}),
        },
    ] {
        let mut e = info.event(kind);
        e.timestamp = time::macros::datetime!(2026-09-15 10:00 UTC);
        events.push(e);
    }
    events
}

/// `events` through a store's writer, 500 to a batch.
pub fn write(sink: &mut dyn Sink, events: &[iotpot_core::Event]) {
    for chunk in events.chunks(500) {
        let json: Vec<String> = chunk.iter().map(|e| e.to_json()).collect();
        sink.write(chunk, &json).unwrap();
    }
}
