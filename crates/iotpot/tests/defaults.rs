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
    // Every default listener answers, as the device it is. Which built-in
    // device this deployment wears is chosen at random: the log names it,
    // its profile says which logins it takes.
    let log = hp.stderr.lock().unwrap().clone();
    let profile = log
        .lines()
        .find(|l| l.contains("address=0.0.0.0:2323"))
        .and_then(|l| l.split("profile=").nth(1))
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|| panic!("{log}"));
    let logins = profile_logins(&profile);
    let mut bot = Bot::break_in(addr, &logins);
    assert_eq!(bot.run("echo still-o''pen"), "still-open\n");
    // Port 23: served when iotpot may bind it (root, as in CI), else
    // nothing listens there and the log says why.
    let root = run_ok(Command::new("id").arg("-u")).trim() == "0";
    if root {
        let mut on23 = Bot::break_in("127.0.0.1:23".parse().unwrap(), &logins);
        assert_eq!(on23.run("echo o''n-23"), "on-23\n");
    } else {
        assert!(std::net::TcpStream::connect("127.0.0.1:23").is_err());
        let log = hp.stderr.lock().unwrap().clone();
        assert!(log.contains("cannot bind privileged port 23"), "{log}");
    }
    // The web server on 8080 is the same device's: its profile is a face
    // of the Telnet's device, and it answers as that profile says.
    let web = log
        .lines()
        .find(|l| l.contains("address=0.0.0.0:8080"))
        .and_then(|l| l.split("profile=").nth(1))
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|| panic!("{log}"));
    let devices = run_ok(Command::new(BIN).args(["profiles", "list"]));
    let device_of = |name: &str| {
        devices
            .lines()
            .find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some(name)).then(|| w.next().unwrap_or_default().to_string())
            })
            .unwrap_or_else(|| panic!("{name} not in {devices}"))
    };
    assert_eq!(
        device_of(&profile),
        device_of(&web),
        "one address, one device"
    );
    require("curl");
    let head = run_ok(Command::new("curl").args([
        "-sS",
        "-D",
        "-",
        "-o",
        "/dev/null",
        "http://127.0.0.1:8080/",
    ]));
    let shown = run_ok(Command::new(BIN).args(["profiles", "show", &web]));
    assert!(head.starts_with("HTTP/1."), "{head}");
    match shown
        .split("\"Server: ")
        .nth(1)
        .and_then(|s| s.split('"').next())
    {
        Some(server) => assert!(
            head.contains(&format!("Server: {server}\r\n")),
            "{web} should say Server: {server}: {head}"
        ),
        None => assert!(
            !head.contains("Server: "),
            "{web} has no Server header: {head}"
        ),
    }
    // No 53413 backdoor: none of these devices has one.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .unwrap();
    udp.send_to(&[0u8; 8], "127.0.0.1:53413").unwrap();
    let mut buf = [0u8; 512];
    assert!(udp.recv_from(&mut buf).is_err(), "53413/udp answered");
    // Stop while the session is open: its events must all be written.
    hp.stop();
    let data = dir.0.join("iotpot-data");
    let conn = rusqlite::Connection::open(data.join("iotpot.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let reasons = column(
        &conn,
        "SELECT close_reason FROM sessions WHERE dst_port = 2323",
    );
    assert_eq!(reasons, ["shutdown"]);
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
        "datagrams_per_ip_per_second",
        "datagrams_per_second",
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

/// Ctrl-C (SIGINT) stops iotpot as SIGTERM does: open sessions are closed
/// and every event they made is written before it exits 0.
#[test]
fn ctrl_c_shuts_down_cleanly() {
    let mut hp = Honeypot::start("sigint", "router-dlink", "");
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "admin");
    assert_eq!(bot.run("echo bef''ore"), "before\n");
    let mut child = hp.child.take().unwrap();
    run_ok(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "iotpot ignored SIGINT"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status}: {}", hp.stderr.lock().unwrap());
    // The session saw the device hang up.
    let mut buf = [0u8; 16];
    assert_eq!(std::io::Read::read(&mut bot.s, &mut buf).unwrap_or(0), 0);
    let db = hp.db();
    assert_eq!(
        column(&db, "SELECT close_reason FROM sessions"),
        ["shutdown"]
    );
    let last = column(&db, "SELECT eventid FROM events ORDER BY id DESC LIMIT 1");
    assert_eq!(last, ["iotpot.session.closed"]);
    let jsonl = hp.jsonl();
    assert_eq!(jsonl.last().unwrap()["eventid"], "iotpot.session.closed");
    assert!(jsonl
        .iter()
        .any(|e| e["eventid"] == "iotpot.command.input" && e["input"] == "echo bef''ore"));
}

/// `iotpot config check` warns when one address shows two devices (and
/// still accepts the file: it is the operator's choice), and says nothing
/// when an address's listeners are faces of one device.
#[test]
fn config_check_warns_about_two_devices_on_one_address() {
    let dir = TempDir::new("two-devices");
    let path = dir.0.join("c.toml");
    let check = |text: &str| {
        std::fs::write(&path, text).unwrap();
        let out = Command::new(BIN)
            .args(["config", "check", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let two = check(&format!(
        "{}{}",
        listen("telnet", 2323, "dvr-xiongmai"),
        listen("http", 8080, "camera-basic")
    ));
    assert!(
        two.contains("warning: 127.0.0.1 shows 2 devices (telnet 127.0.0.1:2323 as dvr-xiongmai; http 127.0.0.1:8080 as camera-basic)"),
        "{two}"
    );
    let one = check(&format!(
        "{}{}",
        listen("telnet", 2323, "dvr-xiongmai"),
        listen("http", 8080, "dvr")
    ));
    assert!(!one.contains("warning"), "{one}");
}

/// A honeypot killed (SIGKILL) in the middle of a session leaves it open in
/// the store; the next start closes it as `interrupted`, at its last event,
/// and the sessions after it are untouched.
#[test]
fn sessions_a_killed_honeypot_left_open_end_as_interrupted() {
    let mut hp = Honeypot::start("interrupted", "dvr-xiongmai", "");
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "xc3511");
    bot.run("echo still-here");
    // Until the command is stored, then no goodbye at all.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while column(
        &hp.db(),
        "SELECT session FROM events WHERE eventid = 'iotpot.command.input'",
    )
    .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the command was not stored"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut child = hp.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    drop(bot);
    let open = column(
        &hp.db(),
        "SELECT session FROM sessions WHERE \"end\" IS NULL",
    );
    assert_eq!(open.len(), 1, "the killed session is open in the store");

    // The same config again.
    let dir = std::mem::replace(&mut hp.dir, TempDir::new("interrupted-unused"));
    let config = dir.0.join("iotpot.toml");
    let mut again = Honeypot::spawn(
        std::process::Command::new(BIN)
            .arg("run")
            .arg("--config")
            .arg(&config)
            .current_dir(&dir.0),
        hp.addr,
        dir,
    );
    again.wait_ready();
    let mut bot = Bot::connect(again.addr);
    bot.login_ok("root", "xc3511");
    bot.send("exit");
    again.wait_closed(2);
    drop(bot);
    again.stop();
    let db = again.db();
    let (reason, end, last): (String, String, String) = db
        .query_row(
            "SELECT close_reason, \"end\", (SELECT MAX(timestamp) FROM events e WHERE e.session = s.session AND e.eventid <> 'iotpot.session.closed')
             FROM sessions s WHERE session = ?1",
            [&open[0]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(reason, "interrupted");
    assert_eq!(end, last, "closed at its last event");
    assert_eq!(
        column(&db, "SELECT close_reason FROM sessions ORDER BY start"),
        ["interrupted", "exit"]
    );
    // The event is in the log too, as any other session's end.
    let closed: Vec<serde_json::Value> = again
        .jsonl()
        .into_iter()
        .filter(|e| e["eventid"] == "iotpot.session.closed" && e["session"] == open[0].as_str())
        .collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["reason"], "interrupted");
}
