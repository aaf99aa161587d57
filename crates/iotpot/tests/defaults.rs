//! `iotpot run` with no arguments and no config: Telnet on 2323 (and 23 when
//! allowed), data in ./iotpot-data, clean shutdown on SIGTERM with every
//! event written.

mod common;
use common::*;
use std::process::Command;

#[test]
fn runs_on_embedded_defaults_and_shuts_down_cleanly() {
    let dir = TempDir::new("defaults");
    let addr = "127.0.0.1:2323".parse().unwrap();
    let mut hp = Honeypot::spawn(
        Command::new(BIN).arg("run").current_dir(&dir.0),
        addr,
        TempDir::new("defaults-unused"),
    );
    hp.wait_ready();
    let log = hp.stderr.lock().unwrap().clone();
    assert!(log.contains("0.0.0.0:2323"), "{log}");
    // Port 23: bound when privileged, a clear warning otherwise.
    assert!(
        log.contains("0.0.0.0:23 ")
            || log.contains("0.0.0.0:23\n")
            || log.contains("cannot bind privileged port 23"),
        "{log}"
    );
    let mut bot = Bot::connect(addr);
    bot.login("root", "root");
    bot.cmd("echo still-open");
    // Stop while the session is open: its events must all be written.
    hp.stop();
    let data = dir.0.join("iotpot-data");
    let conn = rusqlite::Connection::open(data.join("iotpot.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let reason: String = conn
        .query_row("SELECT close_reason FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reason, "shutdown");
    let jsonl = std::fs::read_to_string(data.join("events.jsonl")).unwrap();
    assert!(jsonl
        .lines()
        .last()
        .unwrap()
        .contains("iotpot.session.closed"));
    assert!(data.join("deployment.toml").exists());
    drop(bot);
}

#[test]
fn config_default_is_complete_and_loadable() {
    let out = Command::new(BIN)
        .args(["config", "default"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for key in [
        "data_dir",
        "[[listen]]",
        "service",
        "address",
        "profile",
        "max_sessions_per_ip",
        "idle_timeout",
        "max_vfs_bytes",
        "[downloader]",
        "allow",
        "max_per_session",
        "rules",
        "[store]",
    ] {
        assert!(
            text.contains(key),
            "{key} missing from `iotpot config default`"
        );
    }
    let dir = TempDir::new("cfg");
    let path = dir.0.join("c.toml");
    std::fs::write(&path, &text).unwrap();
    let check = Command::new(BIN)
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    std::fs::write(&path, "data_dri = 1").unwrap();
    let bad = Command::new(BIN)
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("data_dri"));
}
