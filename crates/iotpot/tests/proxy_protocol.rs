//! Listeners behind a proxy: HAProxy in front of iotpot, sending the PROXY
//! protocol header (v2 to the Telnet listener, v1 to the web one), and the
//! clients' own addresses in the events.

mod common;
use common::*;
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

#[test]
fn haproxy_in_front_gives_the_clients_addresses_to_the_events() {
    require("haproxy");
    require("curl");
    let dir = TempDir::new("proxy-protocol");
    let (telnet, web) = (free_port(), free_port());
    let (front_telnet, front_web) = (free_port(), free_port());
    let config = format!(
        "data_dir = \"{}\"\nsensor = \"e2e\"\n{}proxy_protocol = true\n{}proxy_protocol = true\n[downloader]\nenabled = false\n",
        dir.0.join("data").display(),
        listen("telnet", telnet, "router-tplink"),
        listen("http", web, "dvr"),
    );
    let cfg = dir.0.join("iotpot.toml");
    std::fs::write(&cfg, config).unwrap();
    let haproxy_cfg = dir.0.join("haproxy.cfg");
    std::fs::write(
        &haproxy_cfg,
        format!(
            "global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n\
             frontend telnet\n  bind 127.0.0.1:{front_telnet}\n  default_backend telnet\n\
             backend telnet\n  server honeypot 127.0.0.1:{telnet} send-proxy-v2\n\
             frontend web\n  bind 127.0.0.1:{front_web}\n  default_backend web\n\
             backend web\n  server honeypot 127.0.0.1:{web} send-proxy\n"
        ),
    )
    .unwrap();
    let mut hp = Honeypot::spawn(
        Command::new(BIN)
            .arg("run")
            .arg("--config")
            .arg(&cfg)
            .current_dir(&dir.0),
        format!("127.0.0.1:{telnet}").parse().unwrap(),
        dir,
    );
    hp.wait_ready();
    let _haproxy = quiet(
        Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&haproxy_cfg),
    );
    wait_port(front_telnet);
    wait_port(front_web);

    // A real telnet client from its own loopback address, through HAProxy.
    let mut t = Terminal::telnet(&["-b", "127.0.0.9", "127.0.0.1", &front_telnet.to_string()]);
    t.expect("login: ");
    t.type_line("admin");
    t.expect("Password: ");
    t.type_line("admin");
    t.expect("# ");
    t.type_line("exit");
    t.wait_end();

    // curl from another address and a port of its own, through HAProxy.
    let curl_port = free_port();
    let code = run_ok(Command::new("curl").args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--interface",
        "127.0.0.10",
        "--local-port",
        &curl_port.to_string(),
        &format!("http://127.0.0.1:{front_web}/"),
    ]));
    assert_eq!(code, "200", "the DVR's page through HAProxy");

    // Straight to the listener, no header: closed before a byte is sent,
    // and no session.
    let mut direct =
        connect_from("127.0.0.11", format!("127.0.0.1:{telnet}").parse().unwrap()).unwrap();
    direct
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    direct.write_all(b"root\r\nxc3511\r\n").unwrap();
    let mut got = Vec::new();
    let _ = direct.read_to_end(&mut got);
    assert!(got.is_empty(), "a headerless connection got {got:?}");

    hp.stop();
    let db = hp.db();
    // The clients' sessions (waiting for HAProxy's ports connected through
    // it too, from 127.0.0.1).
    let rows: Vec<(String, String, i64, String, i64, Option<String>)> = db
        .prepare(
            "SELECT protocol, src_ip, src_port, dst_ip, dst_port, username FROM sessions \
             WHERE src_ip != '127.0.0.1' ORDER BY start",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (proto, src, _, dst, dst_port, user) = &rows[0];
    assert_eq!(
        (
            proto.as_str(),
            src.as_str(),
            dst.as_str(),
            *dst_port,
            user.as_deref()
        ),
        (
            "telnet",
            "127.0.0.9",
            "127.0.0.1",
            front_telnet as i64,
            Some("admin")
        ),
        "the telnet client's address and what it reached, not HAProxy's"
    );
    let (proto, src, src_port, _, dst_port, _) = &rows[1];
    assert_eq!(
        (proto.as_str(), src.as_str(), *src_port, *dst_port),
        ("http", "127.0.0.10", curl_port as i64, front_web as i64)
    );
    // Every event carries the address of a client of HAProxy; none the
    // headerless connection's.
    let srcs = column(&db, "SELECT DISTINCT src_ip FROM events ORDER BY src_ip");
    assert_eq!(srcs, ["127.0.0.1", "127.0.0.10", "127.0.0.9"]);
}
