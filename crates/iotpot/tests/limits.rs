//! Limits hold end to end: a flood from one address is refused without
//! slowing another address's session, timeouts close idle sessions, and
//! attacker strings never reach the operator's terminal raw.

mod common;
use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[test]
fn per_source_limit_spares_other_sources() {
    let mut hp = Honeypot::start(
        "limits",
        "router-dlink",
        "[limits]\nmax_sessions_per_ip = 3\n",
    );
    let mut flood: Vec<Bot> = (0..3)
        .map(|_| Bot::connect_from("127.0.0.1", hp.addr).unwrap())
        .collect();
    for b in flood.iter_mut() {
        b.until_prompt(Some("ogin"));
    }
    // The fourth from the same address is closed at once.
    let mut extra = Bot::connect_from("127.0.0.1", hp.addr).unwrap();
    let mut buf = [0u8; 64];
    let n = extra.s.read(&mut buf).unwrap_or(0);
    assert_eq!(
        n, 0,
        "over-limit connection must be closed without a banner"
    );
    // Another address is served normally, and fast.
    let t = Instant::now();
    let mut other = Bot::connect_from("127.0.0.2", hp.addr).unwrap();
    other.login_ok("admin", "admin");
    assert_eq!(other.run("echo o''k"), "ok\n");
    assert!(t.elapsed() < Duration::from_secs(2));
    drop(flood);
    drop(other);
    hp.stop();
    let db = hp.db();
    let rejected: String = db
        .query_row(
            "SELECT data FROM events WHERE eventid = 'iotpot.session.rejected'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(rejected.contains("max_sessions_per_ip"), "{rejected}");
}

/// Seconds until the device hangs up on `s` (reading and dropping what it
/// sends); the test fails if it never does.
fn until_closed(s: &mut std::net::TcpStream, within: Duration) -> f64 {
    let t = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return t.elapsed().as_secs_f64(),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return t.elapsed().as_secs_f64()
            }
            Err(_) => {}
        }
        assert!(t.elapsed() < within, "still open after {within:?}");
    }
}

/// Each timeout closes the sessions it is for, with its own reason: a
/// client silent at the login prompt (login_timeout), one that logged in
/// and stopped typing (idle_timeout), and one that keeps typing but has had
/// its time (session_timeout).
#[test]
fn each_timeout_closes_its_own_kind_of_session() {
    let mut hp = Honeypot::start(
        "timeouts",
        "router-tplink",
        "[limits]\nlogin_timeout = 1\nidle_timeout = 2\nsession_timeout = 4\n",
    );
    // Silent at the login prompt: closed after 1 s.
    let mut silent = Bot::connect_from("127.0.0.1", hp.addr).unwrap();
    silent.until_prompt(Some("ogin"));
    let waited = until_closed(&mut silent.s, Duration::from_secs(5));
    assert!(
        (0.7..2.0).contains(&waited),
        "login timeout after {waited} s"
    );
    // Logged in, then silent: closed 2 s after the last line, not at the
    // login timeout's 1 s.
    let mut idle = Bot::connect_from("127.0.0.2", hp.addr).unwrap();
    idle.login_ok("admin", "admin");
    assert_eq!(idle.run("echo st''ill"), "still\n");
    let waited = until_closed(&mut idle.s, Duration::from_secs(6));
    assert!(
        (1.7..3.2).contains(&waited),
        "idle timeout after {waited} s"
    );
    // Typing a line every 0.4 s (never idle): closed 4 s after it came.
    let started = Instant::now();
    let mut busy = Bot::connect_from("127.0.0.3", hp.addr).unwrap();
    busy.login_ok("admin", "admin");
    busy.s
        .set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let lasted = loop {
        if busy.s.write_all(b"echo busy\r\n").is_err() {
            break started.elapsed().as_secs_f64();
        }
        match busy.s.read(&mut buf) {
            Ok(0) => break started.elapsed().as_secs_f64(),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                break started.elapsed().as_secs_f64()
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(400));
        assert!(started.elapsed() < Duration::from_secs(8), "never closed");
    };
    assert!((3.7..5.5).contains(&lasted), "session lasted {lasted} s");
    hp.stop();
    let reasons = column(
        &hp.db(),
        "SELECT src_ip || ' ' || close_reason FROM sessions ORDER BY src_ip",
    );
    assert_eq!(
        reasons,
        [
            "127.0.0.1 login_timeout",
            "127.0.0.2 idle_timeout",
            "127.0.0.3 session_timeout"
        ]
    );
}

/// `max_sessions` bounds the sessions of all sources together: past it,
/// a connection from a new address is closed at once, without a banner,
/// and counted; when one ends, the next is served.
#[test]
fn global_session_limit_refuses_every_source() {
    let mut hp = Honeypot::start(
        "max-sessions",
        "router-dlink",
        "[limits]\nmax_sessions = 2\n",
    );
    let mut a = Bot::connect_from("127.0.0.1", hp.addr).unwrap();
    let mut b = Bot::connect_from("127.0.0.2", hp.addr).unwrap();
    a.until_prompt(Some("ogin"));
    b.until_prompt(Some("ogin"));
    let mut c = Bot::connect_from("127.0.0.3", hp.addr).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(
        c.s.read(&mut buf).unwrap_or(0),
        0,
        "a third session was served"
    );
    drop(a);
    // The slot is free again once the first session is closed.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut d = loop {
        let d = Bot::connect_from("127.0.0.4", hp.addr).unwrap();
        d.s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        if d.s.peek(&mut buf).unwrap_or(0) > 0 {
            break d;
        }
        assert!(Instant::now() < deadline, "no slot after a session ended");
        std::thread::sleep(Duration::from_millis(100));
    };
    d.s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    d.login_ok("root", "admin");
    assert_eq!(d.run("echo o''k"), "ok\n");
    drop((b, d));
    hp.stop();
    let rejected = column(
        &hp.db(),
        "SELECT src_ip || ' ' || json_extract(data, '$.reason') FROM events WHERE eventid = 'iotpot.session.rejected' ORDER BY id",
    );
    assert_eq!(
        rejected.first().map(String::as_str),
        Some("127.0.0.3 max_sessions"),
        "{rejected:?}"
    );
}

#[test]
fn cli_escapes_attacker_strings() {
    let mut hp = Honeypot::start("escape", "router-tplink", "");
    let mut bot = Bot::connect(hp.addr);
    bot.login("\x1b]0;pwned\x07root", "\x1b[2Jx");
    bot.cmd("echo \x1b[31mred");
    drop(bot);
    hp.stop();
    for args in [&["events"][..], &["sessions"][..]] {
        let out = hp.cli(args);
        assert!(
            !out.contains('\x1b'),
            "raw ESC in `iotpot {args:?}`: {out:?}"
        );
        assert!(!out.contains('\x07'));
        assert!(out.contains("\\x1b"), "{out}");
    }
    let json = hp.cli(&["events", "--json", "--type", "iotpot.login.*"]);
    let v: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(
        v["username"], "\x1b]0;pwned\x07root",
        "--json keeps the exact value (JSON-escaped)"
    );
    assert!(!json.contains('\x1b'));
}
