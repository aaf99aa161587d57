//! A real Telnet client (Debian's `telnet`) logs in and runs commands.

mod common;
use common::*;

#[test]
fn debian_telnet_client_session() {
    require("telnet");
    let mut hp = Honeypot::start("telnet", "router-tplink", "");
    let mut t = Terminal::telnet(&[&hp.addr.ip().to_string(), &hp.addr.port().to_string()]);
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
    t.wait_end();
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
