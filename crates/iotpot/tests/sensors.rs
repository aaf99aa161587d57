//! Sensors: a central and sensors on their own loopback addresses, keys
//! made by `iotpot pki`, attackers with addresses of their own (a real
//! telnet client, curl, nmap) reaching the sensors only; the events on the
//! central say who came in where, through which sensor. A revoked sensor
//! one certified by another CA and one whose certificate expired get no
//! listener. A face a SIGHUP adds is in the central's capture at once.

mod common;
use common::*;
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Wait until `a` accepts connections (or, `open` false, refuses them).
fn wait_state(a: SocketAddr, open: bool, what: &str, logs: &[&Daemon]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ok = TcpStream::connect_timeout(&a, Duration::from_millis(200)).is_ok();
        if ok == open {
            return;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = logs.iter().map(|s| s.log()).collect();
            panic!(
                "{what}: {a} never {}\n{}",
                if open { "opened" } else { "closed" },
                logs.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// nmap -sV's service lines (service and version) of `a` and `b`, scanned
/// at once (nmap takes ~40 s over a BusyBox telnetd's probes).
fn nmap_lines(a: SocketAddr, b: SocketAddr) -> (String, String) {
    require("nmap");
    let out = run_ok(Command::new("nmap").args([
        "-sV",
        "-Pn",
        "-n",
        "--version-light",
        "-p",
        &format!("{},{}", a.port(), b.port()),
        &a.ip().to_string(),
        &b.ip().to_string(),
    ]));
    let line = |x: SocketAddr| {
        let report = out
            .split("Nmap scan report for ")
            .find(|r| r.starts_with(&x.ip().to_string()))
            .unwrap_or_else(|| panic!("{out}"));
        let l = report
            .lines()
            .find(|l| l.starts_with(&format!("{}/tcp", x.port())))
            .unwrap_or_else(|| panic!("{out}"));
        l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    };
    (line(a), line(b))
}

#[test]
fn attackers_come_in_through_sensors_and_the_central_knows_where() {
    require("curl");
    let dir = TempDir::new("sensors");
    let link = free_port();
    let (direct, t_telnet, t_web, o_telnet, k_telnet, n_telnet) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let t_udp = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let central = format!(
        r#"data_dir = "{data}"
[[listen]]
service = "sensors"
address = "127.0.0.1:{link}"
[[listen]]
service = "telnet"
address = "127.0.0.1:{direct}"
profile = "dvr-xiongmai"

[[sensor]]
name = "tokyo-1"
[[sensor.listen]]
service = "telnet"
address = "127.0.0.2:{t_telnet}"
profile = "dvr-xiongmai"
[[sensor.listen]]
service = "http"
address = "127.0.0.2:{t_web}"
profile = "dvr"
[[sensor.listen]]
service = "netis"
address = "127.0.0.5:{t_udp}"
profile = "router-netis"

[[sensor]]
name = "osaka-2"
[[sensor.listen]]
service = "telnet"
address = "127.0.0.3:{o_telnet}"
profile = "router-tplink"

[[sensor]]
name = "kyoto-3"
[[sensor.listen]]
service = "telnet"
address = "127.0.0.4:{k_telnet}"
profile = "router-tplink"

[[sensor]]
name = "nara-4"
[[sensor.listen]]
service = "telnet"
address = "127.0.0.6:{n_telnet}"
profile = "router-tplink"

[downloader]
enabled = false
"#,
        data = dir.0.join("data").display()
    );
    let cfg = dir.0.join("central.toml");
    std::fs::write(&cfg, central).unwrap();
    let iotpot = |args: &[&str]| iotpot_cmd(&cfg, args);
    pki_init(&cfg, &format!("127.0.0.1:{link}"));
    for name in ["tokyo-1", "osaka-2"] {
        let toml = run_ok(&mut iotpot(&["pki", "sensor", name]));
        std::fs::write(dir.0.join(format!("{name}.toml")), toml).unwrap();
    }
    // kyoto-3's keys come from another deployment's CA.
    let other = dir.0.join("other.toml");
    std::fs::write(
        &other,
        format!("data_dir = \"{}\"\n", dir.0.join("other").display()),
    )
    .unwrap();
    let other_pki =
        |args: &[&str]| run_ok(Command::new(BIN).arg("--config").arg(&other).args(args));
    other_pki(&["pki", "init", "--central", &format!("127.0.0.1:{link}")]);
    std::fs::write(
        dir.0.join("kyoto-3.toml"),
        other_pki(&["pki", "sensor", "kyoto-3"]),
    )
    .unwrap();

    // nara-4's certificate, of this CA, expired: issued for a day in 2024
    // (libfaketime sets the clock `iotpot pki` reads).
    require("faketime");
    let mut old = Command::new("faketime");
    old.args(["2024-01-01 00:00:00", BIN])
        .arg("--config")
        .arg(&cfg)
        .args(["pki", "sensor", "nara-4", "--days", "1"]);
    std::fs::write(dir.0.join("nara-4.toml"), run_ok(&mut old)).unwrap();

    let tokyo = Daemon::sensor(&dir.0.join("tokyo-1.toml"));
    let osaka = Daemon::sensor(&dir.0.join("osaka-2.toml"));
    let kyoto = Daemon::sensor(&dir.0.join("kyoto-3.toml"));
    let nara = Daemon::sensor(&dir.0.join("nara-4.toml"));
    // The sensors started first: they find the central when it comes.
    let mut run = iotpot(&["run"]);
    run.current_dir(&dir.0);
    let mut hp = Honeypot::spawn(&mut run, addr(&format!("127.0.0.1:{direct}")), dir);
    hp.wait_ready();
    let all = [&tokyo, &osaka, &kyoto, &nara];
    let t0 = Instant::now();
    let mark = |what: &str| eprintln!("{:>6.1} s  {what}", t0.elapsed().as_secs_f64());
    // The central tells each sensor what to open.
    let t_telnet_addr = addr(&format!("127.0.0.2:{t_telnet}"));
    let o_telnet_addr = addr(&format!("127.0.0.3:{o_telnet}"));
    wait_state(t_telnet_addr, true, "tokyo-1's telnet", &all);
    wait_state(
        addr(&format!("127.0.0.2:{t_web}")),
        true,
        "tokyo-1's web",
        &all,
    );
    wait_state(o_telnet_addr, true, "osaka-2's telnet", &all);

    mark("sensors listening");
    // A real telnet client from an address of its own, through tokyo-1.
    let mut t = Terminal::telnet(&["-b", "127.0.0.9", "127.0.0.2", &t_telnet.to_string()]);
    t.expect("login: ");
    t.type_line("root");
    t.expect("Password: ");
    t.type_line("xc3511");
    t.expect("# ");
    t.type_line("cat /proc/cpuinfo | grep -c processor");
    t.expect("\n1\r\n");
    t.type_line("exit");
    t.wait_end();
    // curl, through tokyo-1's web face: the DVR's server.
    let head = run_ok(Command::new("curl").args([
        "-sS",
        "-D",
        "-",
        "-o",
        "/dev/null",
        "--interface",
        "127.0.0.10",
        &format!("http://127.0.0.2:{t_web}/"),
    ]));
    assert!(head.contains("Server: uc-httpd 1.0.0"), "{head}");
    // A bot through osaka-2.
    let logins = profile_logins("router-tplink");
    let mut bot = Bot::connect_from("127.0.0.11", o_telnet_addr).unwrap();
    bot.login_ok(&logins[0].0, &logins[0].1);
    assert_eq!(bot.run("echo thr''ough-osaka"), "through-osaka\n");
    drop(bot);
    // A bot that hangs up with the device's answer unread (the kernel
    // resets the connection): the session on the central ends with it, not
    // at its idle timeout.
    let dvr = profile_logins("dvr-xiongmai");
    let mut rude = Bot::connect_from("127.0.0.12", t_telnet_addr).unwrap();
    rude.login_ok(&dvr[0].0, &dvr[0].1);
    rude.send("cat /proc/cpuinfo");
    std::thread::sleep(Duration::from_millis(300));
    drop(rude);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let closed = column(
            &hp.db(),
            "SELECT close_reason FROM sessions WHERE src_ip = '127.0.0.12' AND close_reason IS NOT NULL",
        );
        if !closed.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a reset relayed connection left its session open"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The 53413 backdoor through tokyo-1: datagrams from an address of
    // their own, answered from the sensor's socket.
    let udp = std::net::UdpSocket::bind("127.0.0.13:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let face = addr(&format!("127.0.0.5:{t_udp}"));
    let ask = |payload: &[u8]| {
        udp.send_to(payload, face).unwrap();
        let mut buf = [0u8; 4096];
        let (n, from) = udp
            .recv_from(&mut buf)
            .expect("an answer through the sensor");
        assert_eq!(from, face, "answered from another address");
        buf[..n].to_vec()
    };
    assert!(ask(&[0; 8]).ends_with(b"Login:"));
    ask(b"AA\0\0AAAAnetcore\0");
    let r = ask(b"AA\0\0AAAAuname -m; echo ok\0");
    assert!(
        r[8..].starts_with(b"mips\nok\n"),
        "{:?}",
        String::from_utf8_lossy(&r)
    );
    // One larger than a QUIC datagram (it travels on a stream), and so is
    // its answer.
    let long = "x".repeat(1700);
    let r = ask(format!("AA\0\0AAAAecho {long}\0").as_bytes());
    assert!(
        String::from_utf8_lossy(&r[8..]).starts_with(&long),
        "{} bytes back",
        r.len()
    );
    mark("telnet, curl, bot");
    // nmap names the relayed service as it names the central's own.
    let (relayed, straight) = nmap_lines(t_telnet_addr, addr(&format!("127.0.0.1:{direct}")));
    assert!(relayed.starts_with("open telnet"), "{relayed}");
    assert_eq!(relayed, straight, "nmap through a sensor and direct");

    mark("nmap");
    // Revoked: the central drops osaka-2 at once, and refuses it after.
    run_ok(&mut iotpot(&["pki", "revoke", "osaka-2"]));
    wait_state(o_telnet_addr, false, "osaka-2 revoked", &all);
    mark("osaka-2 dropped");
    std::thread::sleep(Duration::from_secs(3));
    let no_listener = |a: SocketAddr, why: &str| {
        assert!(
            TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_err(),
            "{why}"
        )
    };
    no_listener(o_telnet_addr, "a revoked sensor listens again");
    // Another CA's certificate: never a listener.
    no_listener(
        addr(&format!("127.0.0.4:{k_telnet}")),
        "a sensor of another CA got its listener",
    );
    // An expired certificate of this CA: never a listener either.
    no_listener(
        addr(&format!("127.0.0.6:{n_telnet}")),
        "a sensor with an expired certificate got its listener",
    );
    // Refused for that, by the central's TLS (alert 45).
    assert!(nara.log().contains("certificate expired"), "{}", nara.log());
    // What the central says of its sensors.
    let list: serde_json::Value =
        serde_json::from_str(&run_ok(&mut iotpot(&["sensors", "--json"]))).unwrap();
    let of = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in {list:#}"))
            .clone()
    };
    let t = of("tokyo-1");
    assert_eq!(t["connected"], true, "{t:#}");
    assert_eq!(t["listeners"].as_array().unwrap().len(), 3, "{t:#}");
    assert!(t["sessions"].as_i64().unwrap() >= 3, "{t:#}");
    assert!(
        t["bytes_in"].as_u64().unwrap() > 0 && t["bytes_out"].as_u64().unwrap() > 0,
        "{t:#}"
    );
    let o = of("osaka-2");
    assert_eq!(o["connected"], false, "{o:#}");
    assert!(
        o["last_error"].as_str().unwrap_or("").contains("revoked"),
        "{o:#}"
    );
    assert_eq!(of("kyoto-3")["since"], serde_json::Value::Null, "{list:#}");
    assert_eq!(of("nara-4")["since"], serde_json::Value::Null, "{list:#}");
    let table = run_ok(&mut iotpot(&["sensors"]));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("tokyo-1") && l.contains("connected since")),
        "{table}"
    );
    drop((tokyo, osaka, kyoto, nara));
    hp.stop();

    let db = hp.db();
    let rows = column(
        &db,
        "SELECT protocol || ' ' || src_ip || ' ' || dst_ip || ':' || dst_port || ' ' || sensor \
         FROM sessions ORDER BY start",
    );
    let has = |want: &str| rows.iter().any(|r| r == want);
    for want in [
        format!("telnet 127.0.0.9 127.0.0.2:{t_telnet} tokyo-1"),
        format!("http 127.0.0.10 127.0.0.2:{t_web} tokyo-1"),
        format!("telnet 127.0.0.11 127.0.0.3:{o_telnet} osaka-2"),
    ] {
        assert!(has(&want), "no session {want:?} in {rows:#?}");
    }
    // Every session came in through a sensor named by its certificate, or
    // straight to the central (nmap's direct scan); none through kyoto-3.
    assert!(rows.iter().all(|r| !r.contains("kyoto-3")), "{rows:#?}");
    let datagrams = column(
        &db,
        "SELECT src_ip || ' ' || json_extract(data, '$.dst_ip') || ':' || json_extract(data, '$.dst_port') \
         || ' ' || json_extract(data, '$.sensor') FROM events WHERE eventid = 'iotpot.netis.datagram'",
    );
    assert_eq!(datagrams.len(), 4, "{datagrams:?}");
    assert!(
        datagrams
            .iter()
            .all(|d| *d == format!("127.0.0.13 127.0.0.5:{t_udp} tokyo-1")),
        "{datagrams:?}"
    );
    let sensors = column(
        &db,
        "SELECT DISTINCT json_extract(data, '$.sensor') FROM events ORDER BY 1",
    );
    assert!(
        sensors.contains(&"tokyo-1".to_string()) && sensors.contains(&"osaka-2".to_string()),
        "{sensors:?}"
    );
}

/// A central whose only listener is its sensors' link captures what comes
/// through them (there is no port of its own to capture at start): a
/// relayed Telnet session, and a face a SIGHUP gives a sensor from the
/// moment it opens — a 53413 backdoor added live (a new relay listener on
/// the central). tcpdump reads the attacker's packets and the device's
/// answers, addressed as on the sensor.
#[test]
fn a_central_with_no_listener_of_its_own_captures_its_sensors_faces() {
    require("tcpdump");
    let dir = TempDir::new("sensor-hup-capture");
    let (link, telnet) = (free_port(), free_port());
    let udp_port = {
        let s = std::net::UdpSocket::bind("127.0.3.21:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let cfg = dir.0.join("central.toml");
    let data = dir.0.join("data");
    let write_config = |extra: &str| {
        std::fs::write(
            &cfg,
            format!(
                r#"data_dir = "{data}"
[[listen]]
service = "sensors"
address = "127.0.0.1:{link}"

[[sensor]]
name = "sendai-5"
[[sensor.listen]]
service = "telnet"
address = "127.0.3.20:{telnet}"
profile = "router-netis"
{extra}
[downloader]
enabled = false
[capture]
enabled = true
"#,
                data = data.display()
            ),
        )
        .unwrap()
    };
    write_config("");
    let iotpot = |args: &[&str]| iotpot_cmd(&cfg, args);
    pki_init(&cfg, &format!("127.0.0.1:{link}"));
    let toml = run_ok(&mut iotpot(&["pki", "sensor", "sendai-5"]));
    std::fs::write(dir.0.join("sendai-5.toml"), toml).unwrap();
    let sensor_file = dir.0.join("sendai-5.toml");
    let mut run = iotpot(&["run"]);
    run.current_dir(&dir.0);
    // No port of its own to capture at start: only its sensors' faces.
    let mut hp = Honeypot::spawn(&mut run, addr(&format!("127.0.0.1:{link}")), dir);
    hp.wait_ready();
    // Started once the central listens: its first try connects (no
    // reconnection backoff to wait out on a busy machine). Its addresses
    // (127.0.3.x) are no other test's: a bot's source port there would
    // hold the face's port.
    let sensor = Daemon::sensor(&sensor_file);
    wait_state(
        addr(&format!("127.0.3.20:{telnet}")),
        true,
        "sendai-5's telnet",
        &[&sensor],
    );
    // A relayed Telnet session, from the attacker's address.
    let door = addr(&format!("127.0.3.20:{telnet}"));
    let mut bot = Bot::connect_from("127.0.3.22", door).unwrap();
    let intruder = bot.s.local_addr().unwrap();
    bot.until_prompt(Some("ogin"));
    drop(bot);
    // The backdoor, added while the central runs.
    let face = addr(&format!("127.0.3.21:{udp_port}"));
    write_config(&format!(
        "[[sensor.listen]]\nservice = \"netis\"\naddress = \"{face}\"\nprofile = \"router-netis\"\n"
    ));
    let pid = hp.child.as_ref().unwrap().id();
    run_ok(Command::new("kill").args(["-HUP", &pid.to_string()]));
    let udp = std::net::UdpSocket::bind("127.0.3.22:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let bot = udp.local_addr().unwrap();
    let mut buf = [0u8; 4096];
    let mut ask = |payload: &[u8]| -> Option<Vec<u8>> {
        udp.send_to(payload, face).unwrap();
        let (n, from) = udp.recv_from(&mut buf).ok()?;
        assert_eq!(from, face, "answered from another address");
        Some(buf[..n].to_vec())
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while ask(&[0; 8]).is_none() {
        assert!(
            Instant::now() < deadline,
            "the backdoor never answered\n{}",
            sensor.log()
        );
    }
    assert!(ask(b"AA\0\0AAAAnetcore\0").is_some());
    let said = ask(b"AA\0\0AAAAecho hu''pped\0").expect("the command's answer");
    assert!(
        said[8..].starts_with(b"hupped\n"),
        "{:?}",
        String::from_utf8_lossy(&said)
    );
    // Flushed within a second.
    std::thread::sleep(Duration::from_millis(1500));
    let mut text = String::new();
    let mut files: Vec<_> = std::fs::read_dir(hp.data().join("pcap"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in &files {
        text += &run_ok(Command::new("tcpdump").args(["-nn", "-A", "-r"]).arg(f));
    }
    drop(sensor);
    hp.stop();
    // The attacker's datagrams to the sensor's address and the answers
    // back, the command in them: the central's loopback hop rewritten.
    let dotted = |a: SocketAddr| format!("{}.{}", a.ip(), a.port());
    let syn = format!("IP {} > {}: Flags [S]", dotted(intruder), dotted(door));
    assert!(text.contains(&syn), "no {syn:?} in the capture:\n{text}");
    assert!(text.contains("Netcore login:"), "the login prompt:\n{text}");
    let to = format!("IP {} > {}: UDP", dotted(bot), dotted(face));
    let from = format!("IP {} > {}: UDP", dotted(face), dotted(bot));
    let lines = |dir: &str| text.lines().filter(|l| l.contains(dir)).count();
    assert!(lines(&to) >= 3, "no {to:?} x3 in the capture:\n{text}");
    assert!(lines(&from) >= 3, "no {from:?} x3 in the capture:\n{text}");
    assert!(text.contains("echo hu''pped"), "the command:\n{text}");
    assert!(text.contains("hupped"), "the answer:\n{text}");
}
