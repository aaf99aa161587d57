//! The dashboard on arbitrary requests over a store that holds arbitrary
//! attacker strings: the first byte splits the input into a request head
//! and a string that becomes a session's username, password, command and
//! the device's answer. Never a panic, and the string never reaches a page
//! unescaped (it is stored between two `§`, which no template writes).
#![no_main]
use iotpot_report::dashboard::Dashboard;
use libfuzzer_sys::fuzz_target;
use rusqlite::Connection;

const TOKEN: &str = "00112233445566778899aabbccddeeff";

fn store() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    iotpot_store::sqlite::migrate(&conn).unwrap();
    conn
}

fn record(conn: &Connection, kind: &str, fields: serde_json::Value) {
    let mut data = serde_json::json!({
        "eventid": kind, "timestamp": "2026-12-02T05:00:00.000000Z", "session": "f00f00f00f00",
        "src_ip": "203.0.113.9", "src_port": 4444, "dst_ip": "127.0.0.1", "dst_port": 23,
        "sensor": "fuzz", "protocol": "telnet",
    });
    if let (Some(d), Some(f)) = (data.as_object_mut(), fields.as_object()) {
        d.extend(f.clone());
    }
    conn.execute(
        "INSERT INTO events (timestamp, eventid, session, src_ip, protocol, data)
         VALUES ('2026-12-02T05:00:00.000000Z', ?1, 'f00f00f00f00', '203.0.113.9', 'telnet', ?2)",
        [kind, &data.to_string()],
    )
    .unwrap();
}

fuzz_target!(|input: &[u8]| {
    let [split, rest @ ..] = input else { return };
    let at = (*split as usize).min(rest.len());
    let (head, attacker) = rest.split_at(at);
    let s = format!("§{}§", String::from_utf8_lossy(attacker));
    let conn = store();
    conn.execute(
        "INSERT INTO sessions (session, start, src_ip, src_port, dst_ip, dst_port, sensor, protocol, profile, username, password)
         VALUES ('f00f00f00f00', '2026-12-02T05:00:00Z', '203.0.113.9', 4444, '127.0.0.1', 23, 'fuzz', 'telnet', ?1, ?1, ?1)",
        [&s],
    )
    .unwrap();
    record(&conn, "iotpot.session.connect", serde_json::json!({}));
    record(
        &conn,
        "iotpot.login.success",
        serde_json::json!({"username": s, "password": s}),
    );
    record(
        &conn,
        "iotpot.command.input",
        serde_json::json!({"input": s, "known": true, "output": s, "output_size": 99999}),
    );
    record(
        &conn,
        "iotpot.download.success",
        serde_json::json!({"url": s, "shasum": s, "size": 1, "remote": s}),
    );
    record(
        &conn,
        "iotpot.http.request",
        serde_json::json!({"method": s, "path": s, "query": s, "status": 200}),
    );
    let dashboard = Dashboard::new(TOKEN.into(), 5, false);
    let auth = format!("Authorization: Bearer {TOKEN}\r\n\r\n");
    let mut requests = vec![head.to_vec()];
    for path in [
        "/fragment/sessions",
        "/session/f00f00f00f00",
        "/fragment/section/credentials",
    ] {
        requests.push(format!("GET {path} HTTP/1.1\r\n{auth}").into_bytes());
    }
    for raw in requests {
        let Ok(Some((req, _))) = iotpot_wire::http::parse_head(&raw) else {
            continue;
        };
        let r = dashboard.answer(&conn, &req);
        let body = String::from_utf8_lossy(&r.body);
        if r.content_type.starts_with("text/html") && s.contains(['<', '>', '&', '"', '\'']) {
            assert!(!body.contains(&s), "unescaped: {s:?} in {body}");
        }
    }
});
