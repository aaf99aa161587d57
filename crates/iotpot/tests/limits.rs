//! Limits hold end to end: a flood from one address is refused without
//! slowing another address's session, timeouts close idle sessions, and
//! attacker strings never reach the operator's terminal raw.

mod common;
use common::*;
use std::io::Read;
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

#[test]
fn idle_and_login_timeouts_close_sessions() {
    let mut hp = Honeypot::start(
        "timeouts",
        "router-tplink",
        "[limits]\nlogin_timeout = 1\nidle_timeout = 1\n",
    );
    let mut silent = Bot::connect(hp.addr);
    silent.until_prompt(Some("ogin"));
    let mut buf = [0u8; 64];
    let t = Instant::now();
    assert_eq!(silent.s.read(&mut buf).unwrap_or(0), 0);
    assert!(t.elapsed() < Duration::from_secs(5));
    hp.stop();
    let reason: String = hp
        .db()
        .query_row("SELECT close_reason FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert!(
        reason == "login_timeout" || reason == "idle_timeout",
        "{reason}"
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
