//! A real Telnet client (Debian's `telnet`) logs in and runs commands.

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Terminal {
    child: std::process::Child,
    screen: Arc<Mutex<String>>,
}

impl Terminal {
    fn expect(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if self.screen.lock().unwrap().contains(what) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {what:?}; screen: {}",
                self.screen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }
}

#[test]
fn debian_telnet_client_session() {
    require("telnet");
    let mut hp = Honeypot::start("telnet", "router-tplink", "");
    let mut child = Command::new("telnet")
        .arg(hp.addr.ip().to_string())
        .arg(hp.addr.port().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let screen = Arc::new(Mutex::new(String::new()));
    capture(child.stdout.take().unwrap(), screen.clone());
    capture(child.stderr.take().unwrap(), screen.clone());
    let mut t = Terminal { child, screen };
    t.expect("(none) login: ");
    t.type_line("admin");
    t.expect("Password: ");
    t.type_line("admin");
    t.expect("# ");
    // What the device prints, never what the echo of the typed line shows
    // (`hel''lo` is echoed as typed and printed as `hello`).
    t.type_line("uname -a; echo done-$?");
    t.expect("mips GNU/Linux");
    t.expect("done-0");
    t.type_line("cd /tmp && echo hel''lo > f && cat f && ls -l");
    t.expect("\nhello\r\n");
    t.expect("root     root");
    t.type_line("exit");
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "telnet did not end after exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    hp.stop();
    let screen = t.screen.lock().unwrap().clone();
    assert!(
        screen.contains("Connection closed by foreign host"),
        "{screen}"
    );
    let db = hp.db();
    let (user, pass, cmds, reason): (String, String, i64, String) = db
        .query_row(
            "SELECT username, password, commands, close_reason FROM sessions",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (user.as_str(), pass.as_str(), cmds, reason.as_str()),
        ("admin", "admin", 3, "exit")
    );
    let neg: String = db
        .query_row(
            "SELECT data FROM events WHERE eventid = 'iotpot.telnet.negotiation'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        neg.contains("WILL NAWS") || neg.contains("DO ECHO"),
        "{neg}"
    );
}
