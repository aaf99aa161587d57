//! Sensors on hosts of their own: network namespaces this test creates
//! (in a user namespace of its own, `unshare -rn`; nothing leaves it): a
//! router, a central (10.9.1.2), three sensors (10.9.2.2, .3.2, .4.2) and
//! the attackers (10.9.5.2), who have routes to the sensors only. Real
//! clients from the attackers' host (telnet, curl, the 53413 datagrams,
//! nmap -sV) reach the devices on the sensors' own ports (23, 80, 53413);
//! the central's events name the attacker's address, the sensor-side
//! address and port, and the sensor.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The hosts: name and subnet (10.9.N.0/24; the host is .2, the router .1).
const HOSTS: &[(&str, u8)] = &[
    ("central", 1),
    ("tokyo", 2),
    ("osaka", 3),
    ("kyoto", 4),
    ("attackers", 5),
];

/// The namespaces, held by a `sleep` each; torn down when dropped.
struct Net {
    router: Child,
    dir: PathBuf,
    /// The holders' pids, by host (read once: the directory may be gone
    /// when the namespaces are torn down).
    pids: Vec<(&'static str, String)>,
}

impl Net {
    fn start(dir: &Path) -> Net {
        for tool in ["unshare", "nsenter", "ip"] {
            require(tool);
        }
        std::fs::create_dir_all(dir).unwrap();
        let d = dir.display();
        let mut script = format!(
            "set -e\nip link set lo up\necho 1 > /proc/sys/net/ipv4/ip_forward\n\
             mk() {{\n\
               unshare -n sh -c \"echo \\$\\$ > {d}/$1.pid.tmp; mv {d}/$1.pid.tmp {d}/$1.pid; exec sleep 600\" &\n\
               while [ ! -s {d}/$1.pid ]; do sleep 0.05; done\n\
               pid=$(cat {d}/$1.pid)\n\
               ip link add r-$1 type veth peer name eth0 netns $pid\n\
               ip addr add 10.9.$2.1/24 dev r-$1\n\
               ip link set r-$1 up\n\
               nsenter -t $pid -n sh -c \"ip link set lo up; ip addr add 10.9.$2.2/24 dev eth0; ip link set eth0 up\"\n\
             }}\n"
        );
        for (name, net) in HOSTS {
            script.push_str(&format!("mk {name} {net}\n"));
        }
        // Everyone but the attackers goes anywhere through the router; the
        // attackers reach the sensors' networks only.
        for (name, _) in &HOSTS[..4] {
            script.push_str(&format!(
                "nsenter -t $(cat {d}/{name}.pid) -n ip route add default via 10.9.{}.1\n",
                HOSTS.iter().find(|h| h.0 == *name).unwrap().1
            ));
        }
        for net in [2, 3, 4] {
            script.push_str(&format!(
                "nsenter -t $(cat {d}/attackers.pid) -n ip route add 10.9.{net}.0/24 via 10.9.5.1\n"
            ));
        }
        script.push_str(&format!("touch {d}/ready\nexec sleep 600\n"));
        let mut router = Command::new("unshare")
            .args(["-rn", "sh", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        capture(router.stderr.take().unwrap(), log.clone());
        let mut net = Net {
            router,
            dir: dir.to_path_buf(),
            pids: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !dir.join("ready").exists() {
            assert!(
                Instant::now() < deadline,
                "the namespaces were not made: {}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        for (name, _) in HOSTS {
            let pid = std::fs::read_to_string(net.dir.join(format!("{name}.pid"))).unwrap();
            net.pids.push((name, pid.trim().to_string()));
        }
        net
    }

    fn pid(&self, host: &str) -> String {
        self.pids
            .iter()
            .find(|(h, _)| *h == host)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("no host {host}"))
    }

    /// `program` run on `host`.
    fn on(&self, host: &str, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.args([
            "-t",
            &self.pid(host),
            "-U",
            "--preserve-credentials",
            "-n",
            program,
        ]);
        c
    }

    /// Whether `host` can open a TCP connection to `to` (one try, 1 s).
    fn reaches(&self, host: &str, to: &str, port: u16) -> bool {
        self.on(host, "python3")
            .args([
                "-c",
                "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)",
                to,
                &port.to_string(),
            ])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for (_, pid) in &self.pids {
            let _ = Command::new("kill").arg(pid).status();
        }
        let _ = self.router.kill();
        let _ = self.router.wait();
    }
}

/// `nmap -sV` of `host:port`, run on `from` (started, not waited for).
fn nmap(net: &Net, from: &str, host: &str, port: u16) -> Child {
    net.on(from, "nmap")
        .args([
            "-sV",
            "-Pn",
            "-n",
            "--version-light",
            "-p",
            &port.to_string(),
            host,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The service line (service and version) of a finished nmap.
fn nmap_line(nmap: Child, port: u16) -> String {
    let out = String::from_utf8(nmap.wait_with_output().unwrap().stdout).unwrap();
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{port}/tcp")))
        .unwrap_or_else(|| panic!("{out}"));
    line.split_whitespace()
        .skip(1)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn sensors_on_hosts_of_their_own_relay_real_clients_with_their_addresses() {
    for tool in ["telnet", "curl", "nmap", "python3", "tcpdump"] {
        require(tool);
    }
    let dir = TempDir::new("sensor-netns");
    let root = dir.0.clone();
    let net = Net::start(&root.join("net"));
    let cfg = root.join("central.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"data_dir = "{data}"
[[listen]]
service = "sensors"
address = "10.9.1.2:4433"
[[listen]]
service = "telnet"
address = "10.9.1.2:23"
profile = "dvr-xiongmai"

[[sensor]]
name = "tokyo-1"
[[sensor.listen]]
service = "telnet"
address = "0.0.0.0:23"
profile = "dvr-xiongmai"
[[sensor.listen]]
service = "http"
address = "0.0.0.0:80"
profile = "dvr"
[[sensor.listen]]
service = "netis"
address = "0.0.0.0:53413"
profile = "router-netis"

[[sensor]]
name = "osaka-2"
[[sensor.listen]]
service = "telnet"
address = "0.0.0.0:23"
profile = "router-tplink"

[[sensor]]
name = "kyoto-3"
[[sensor.listen]]
service = "telnet"
address = "10.9.4.2:2323"
profile = "dvr-xiongmai"

[downloader]
enabled = false
[capture]
enabled = true
"#,
            data = root.join("data").display()
        ),
    )
    .unwrap();
    let iotpot = |args: &[&str]| iotpot_cmd(&cfg, args);
    pki_init(&cfg, "10.9.1.2:4433");
    let mut run = net.on("central", BIN);
    run.arg("--config").arg(&cfg).arg("run");
    let mut hp = Honeypot::spawn(&mut run, "10.9.1.2:23".parse().unwrap(), dir);
    hp.wait_ready();
    let mut sensors = Vec::new();
    for (host, name) in [
        ("tokyo", "tokyo-1"),
        ("osaka", "osaka-2"),
        ("kyoto", "kyoto-3"),
    ] {
        let file = root.join(format!("{name}.toml"));
        std::fs::write(&file, run_ok(&mut iotpot(&["pki", "sensor", name]))).unwrap();
        let home = root.join(name);
        std::fs::create_dir_all(&home).unwrap();
        sensors.push(Daemon::start(
            net.on(host, BIN)
                .args(["sensor", "--config"])
                .arg(&file)
                .current_dir(&home),
        ));
    }
    let logs = || {
        sensors
            .iter()
            .map(Daemon::log)
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    // Each sensor opens what the central gave it, on its own address.
    for (host, port) in [
        ("10.9.2.2", 23),
        ("10.9.2.2", 80),
        ("10.9.3.2", 23),
        ("10.9.4.2", 2323),
    ] {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !net.reaches("attackers", host, port) {
            assert!(
                Instant::now() < deadline,
                "{host}:{port} never opened\n{}",
                logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // ... and nothing else: osaka-2 has no web face.
    assert!(!net.reaches("attackers", "10.9.3.2", 80));
    // The attackers reach the sensors only.
    assert!(
        !net.reaches("attackers", "10.9.1.2", 23),
        "the attackers reach the central"
    );

    // A real telnet client, on port 23 of tokyo-1.
    let mut t = Terminal::spawn(net.on("attackers", "telnet").args(["10.9.2.2", "23"]));
    t.expect("login: ");
    t.type_line("root");
    t.expect("Password: ");
    t.type_line("xc3511");
    t.expect("# ");
    t.type_line("cat /proc/cpuinfo | grep -c processor");
    t.expect("\n1\r\n");
    t.type_line("exit");
    t.wait_end();
    // curl on its port 80: the DVR's web server.
    let head = run_ok(net.on("attackers", "curl").args([
        "-sS",
        "-D",
        "-",
        "-o",
        "/dev/null",
        "http://10.9.2.2/",
    ]));
    assert!(head.contains("Server: uc-httpd 1.0.0"), "{head}");
    // The netis backdoor on its 53413/udp: the probe, the password, a command.
    let said = run_ok(net.on("attackers", "python3").args([
        "-c",
        r#"import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
for p in [b"AA\0\0AAAA\0", b"AA\0\0AAAAnetcore\0", b"AA\0\0AAAAuname -m; echo far\0"]:
    s.sendto(p, ("10.9.2.2", 53413))
    d, a = s.recvfrom(4096)
    assert a == ("10.9.2.2", 53413), a
print(d[8:].decode())"#,
    ]));
    assert!(said.starts_with("mips\nfar\n"), "{said:?}");
    // The router on osaka-2, and kyoto-3's own port.
    for (host, port, profile) in [
        ("10.9.3.2", "23", "router-tplink"),
        ("10.9.4.2", "2323", "dvr-xiongmai"),
    ] {
        let (user, pass) = profile_logins(profile)[0].clone();
        let mut t = Terminal::spawn(net.on("attackers", "telnet").args([host, port]));
        t.expect("ogin");
        t.type_line(&user);
        t.expect("assword");
        t.type_line(&pass);
        std::thread::sleep(Duration::from_millis(500));
        t.type_line("echo fo''rty-two");
        t.expect("\nforty-two");
        t.type_line("exit");
        t.wait_end();
    }
    // nmap -sV from the attackers' host names the device on tokyo-1 as it
    // names the central's own listener (scanned on the central's host).
    // (at once: each takes ~40 s over a BusyBox telnetd's probes).
    let through = nmap(&net, "attackers", "10.9.2.2", 23);
    let direct = nmap(&net, "central", "10.9.1.2", 23);
    let (relayed, straight) = (nmap_line(through, 23), nmap_line(direct, 23));
    assert!(relayed.starts_with("open telnet"), "{relayed}");
    assert_eq!(relayed, straight, "nmap through a sensor and direct");
    drop(t);
    hp.stop();
    drop(sensors);

    let db = hp.db();
    let rows = column(
        &db,
        "SELECT protocol || ' ' || src_ip || ' ' || dst_ip || ':' || dst_port || ' ' || sensor \
         FROM sessions WHERE src_ip = '10.9.5.2' ORDER BY start",
    );
    for want in [
        "telnet 10.9.5.2 10.9.2.2:23 tokyo-1",
        "http 10.9.5.2 10.9.2.2:80 tokyo-1",
        "telnet 10.9.5.2 10.9.3.2:23 osaka-2",
        "telnet 10.9.5.2 10.9.4.2:2323 kyoto-3",
    ] {
        assert!(rows.iter().any(|r| r == want), "no {want:?} in {rows:#?}");
    }
    // Every session of the attackers came through the sensor that owns
    // the address they reached.
    for r in &rows {
        let owner = match r.split(' ').nth(2).unwrap().split(':').next().unwrap() {
            "10.9.2.2" => "tokyo-1",
            "10.9.3.2" => "osaka-2",
            "10.9.4.2" => "kyoto-3",
            other => panic!("{other} in {r}"),
        };
        assert!(r.ends_with(owner), "{r}");
    }
    let datagrams = column(
        &db,
        "SELECT src_ip || ' ' || json_extract(data, '$.dst_ip') || ':' || json_extract(data, '$.dst_port') \
         || ' ' || json_extract(data, '$.sensor') FROM events WHERE eventid = 'iotpot.netis.datagram'",
    );
    assert_eq!(
        datagrams, ["10.9.5.2 10.9.2.2:53413 tokyo-1"; 3],
        "{datagrams:?}"
    );

    // The central's capture, as tcpdump reads it: the relayed sessions as
    // the attackers' own packets (their address to the sensor's), the
    // handshake, the password typed, every checksum right, and no trace
    // of a loopback hop.
    let mut text = String::new();
    let mut files: Vec<_> = std::fs::read_dir(hp.data().join("pcap"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in &files {
        text += &run_ok(
            Command::new("tcpdump")
                .args(["-nn", "-vv", "-A", "-r"])
                .arg(f),
        );
    }
    assert!(
        text.lines()
            .any(|l| l.contains(" 10.9.5.2.") && l.contains(" > 10.9.2.2.23: Flags [S]")),
        "no relayed SYN in the capture:\n{text}"
    );
    for want in [
        "xc3511",
        "10.9.2.2.80: Flags [P.]",
        "> 10.9.4.2.2323: Flags [P.]",
        "> 10.9.3.2.23",
        "10.9.2.2.53413: [udp sum ok] UDP",
    ] {
        assert!(text.contains(want), "no {want:?} in the capture:\n{text}");
    }
    assert!(text.contains("Server: uc-httpd"), "the device's answer");
    assert!(
        !text.contains("127.0.0.1."),
        "loopback in the capture:\n{text}"
    );
    // (The central's own loopback-routed packets carry the partial
    // checksums of an offloading stack; the relayed ones are computed.)
    let relayed: Vec<&str> = text.lines().filter(|l| l.contains(" 10.9.5.2.")).collect();
    assert!(relayed.len() > 50, "{relayed:#?}");
    // (tcpdump says `(incorrect -> 0x...)` of a TCP or UDP checksum and
    // `bad cksum` of an IP header's; a checksum may itself read 0xbad5.)
    for l in relayed {
        assert!(!l.contains("incorrect") && !l.contains("bad cksum"), "{l}");
    }
}
