//! The profiler's command line: `iotpot profiler selftest` over the vendored
//! Recog files (what CI runs) and over an operator's own directory, and
//! `iotpot bench recog`.

mod common;
use common::*;
use std::process::Command;

#[test]
fn selftest_passes_every_example_of_the_vendored_files() {
    let out = run_ok(Command::new(BIN).args(["profiler", "selftest"]));
    let last = out.lines().last().unwrap_or("");
    // "selftest: N of N examples pass in 6 files"
    let words: Vec<&str> = last.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"selftest:"), "{out}");
    let (passed, total): (usize, usize) = (words[1].parse().unwrap(), words[3].parse().unwrap());
    assert_eq!(passed, total, "{out}");
    assert!(total >= 2000, "{out}");
    for file in [
        "telnet_banners.xml",
        "ftp_banners.xml",
        "http_servers.xml",
        "http_wwwauth.xml",
        "html_title.xml",
        "worm_marks.xml",
    ] {
        assert!(out.contains(file), "{file} not checked:\n{out}");
    }
}

const OWN_SSH: &str = r#"<?xml version="1.0"?>
<fingerprints matches="ssh.banner" protocol="ssh" preference="0.9">
  <fingerprint pattern="^dropbear_(\d{4}\.\d+)$">
    <description>Dropbear</description>
    <example service.version="2019.78">dropbear_2019.78</example>
    <param pos="0" name="service.product" value="Dropbear SSH"/>
    <param pos="1" name="service.version"/>
  </fingerprint>
  <fingerprint pattern="^OpenSSH_(\S+)$">
    <description>OpenSSH, with a wrong expectation</description>
    <example service.version="7.4">OpenSSH_7.4p1</example>
    <param pos="0" name="service.product" value="OpenSSH"/>
    <param pos="1" name="service.version"/>
  </fingerprint>
</fingerprints>"#;

#[test]
fn selftest_of_an_operators_directory_names_what_fails() {
    let dir = TempDir::new("recog-own");
    std::fs::write(dir.0.join("ssh_banners.xml"), OWN_SSH).unwrap();
    let out = Command::new(BIN)
        .args(["profiler", "selftest"])
        .arg(&dir.0)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a failing example fails the run:\n{text}"
    );
    assert!(text.contains("ssh_banners.xml"), "{text}");
    assert!(text.contains("selftest: 1 of 2 examples pass"), "{text}");
    assert!(
        text.contains("service.version is Some(\"7.4p1\"), expected \"7.4\""),
        "the failure says what differs:\n{text}"
    );

    // A broken file is an error that names it, not a panic.
    std::fs::write(dir.0.join("broken.xml"), "<fingerprints><fingerprint").unwrap();
    let out = Command::new(BIN)
        .args(["profiler", "selftest"])
        .arg(&dir.0)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("broken"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bench_recog_reports_banners_per_second() {
    let out = run_ok(Command::new(BIN).args(["bench", "recog", "--seconds", "0.2"]));
    for corpus in ["known", "unknown"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(corpus))
            .unwrap_or_else(|| panic!("no {corpus} line:\n{out}"));
        let rate: f64 = line
            .split("banners:")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("no rate in {line:?}"));
        assert!(rate > 0.0, "{line}");
    }
    assert!(
        out.contains("(100% matched)"),
        "every example matches:\n{out}"
    );
    assert!(
        out.contains("(0% matched)"),
        "no made-up banner matches:\n{out}"
    );
}

/// The fake fleet's network: addresses the test adds inside its own network
/// namespace (`unshare -rn`); nothing leaves it.
const NET: &str = "198.51.100.";

/// In a network namespace of the test's own (`unshare -rn`): loopback up,
/// the fleet's addresses (and the honeypot's, `.1`) on it, `.99` routed to
/// nowhere (a host that never answers), the fake devices
/// started (with the TLS servers when the certificates in `dir` exist), then
/// the shell `body`. Fails with the fake devices' and iotpot's logs.
fn in_fleet_netns(dir: &TempDir, body: &str) {
    for tool in ["unshare", "ip", "python3"] {
        require(tool);
    }
    let fake = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fake_devices.py");
    let d = dir.0.display();
    let certs = if dir.0.join("old.pem").exists() {
        format!("{d}/modern.pem {d}/old.pem")
    } else {
        String::new()
    };
    let script = format!(
        r#"set -e
ip link set lo up
for h in 1 11 12 13 14 15 16 17 18 19; do ip addr add {NET}$h/32 dev lo; done
# .99 never answers: its packets go to a tun device nobody reads, and vanish.
ip tuntap add quiet mode tun
ip link set quiet up
ip route add {NET}99/32 dev quiet
python3 {fake} {NET} {certs} > {d}/fake.log 2>&1 &
fake=$!
for i in $(seq 100); do grep -q ready {d}/fake.log && break; sleep 0.1; done
{body}
kill $fake
"#
    );
    let out = Command::new("unshare")
        .args(["-rn", "sh", "-c", &script])
        .output()
        .unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.0.join(f)).unwrap_or_default();
    assert!(
        out.status.success(),
        "{}\nfake devices: {}\niotpot: {}",
        String::from_utf8_lossy(&out.stderr),
        read("fake.log"),
        read("iotpot.log")
    );
}

/// Start the fake devices in a new network namespace and run `iotpot
/// profiler scan` on them there; its JSON lines (one per host) and how long
/// the scan took.
fn scan_fleet(hosts: &[u8], ports: &str, config: &str) -> (Vec<serde_json::Value>, f64) {
    require("openssl");
    let dir = TempDir::new("fleet");
    // Self-signed certificates (key and certificate in one file each).
    for (name, subject) in [
        ("modern", "/C=TW/O=Acme Cam/CN=ipcam.local"),
        ("old", "/C=CN/O=Hi-Link/CN=DVR Web Server"),
    ] {
        let pem = dir.0.join(format!("{name}.pem"));
        run_ok(
            Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                ])
                .args(["-subj", subject, "-keyout"])
                .arg(&pem)
                .arg("-out")
                .arg(dir.0.join("cert.tmp")),
        );
        let cert = std::fs::read(dir.0.join("cert.tmp")).unwrap();
        let mut f = std::fs::OpenOptions::new().append(true).open(&pem).unwrap();
        std::io::Write::write_all(&mut f, &cert).unwrap();
    }
    let cfg = dir.0.join("iotpot.toml");
    std::fs::write(
        &cfg,
        format!("data_dir = \"{}\"\n{config}", dir.0.join("data").display()),
    )
    .unwrap();
    let addrs: Vec<String> = hosts.iter().map(|h| format!("{NET}{h}")).collect();
    in_fleet_netns(
        &dir,
        &format!(
            r#"start=$(date +%s.%N)
{bin} --config {cfg} profiler scan --json --allow {NET}0/24 --ports {ports} {addrs} > {d}/scan.jsonl
end=$(date +%s.%N)
echo "$start $end" > {d}/time"#,
            bin = BIN,
            cfg = cfg.display(),
            d = dir.0.display(),
            addrs = addrs.join(" "),
        ),
    );
    let times = std::fs::read_to_string(dir.0.join("time")).unwrap();
    let t: Vec<f64> = times
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let scans = std::fs::read_to_string(dir.0.join("scan.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (scans, t[1] - t[0])
}

fn grab(host: &serde_json::Value, port: u64) -> &serde_json::Value {
    host["grabs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["port"] == port)
        .unwrap_or_else(|| panic!("no grab of port {port}: {host}"))
}

fn field<'a>(g: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    g["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f[0] == name)
        .and_then(|f| f[1].as_str())
}

const FLEET_PORTS: &str = "21,22,23,80,554,8080";

const LIMITS: &str = "[profiler]\nconnect_timeout = 2\nread_timeout = 3\nmax_bytes = 65536\n";

#[test]
fn scan_names_the_fleets_devices_and_flags_the_infected_one() {
    let (scans, _) = scan_fleet(&[11, 12, 13, 14, 15, 17], FLEET_PORTS, LIMITS);
    assert_eq!(scans.len(), 6);
    let host = |h: u8| {
        scans
            .iter()
            .find(|s| s["addr"] == format!("{NET}{h}"))
            .unwrap()
    };

    // The DVR: its Telnet negotiation answered (the banner only comes
    // after the client's answers), the realm and the server header.
    let dvr = host(11);
    assert_eq!(dvr["verdict"]["device"], "DVR", "{dvr:#}");
    let t = grab(dvr, 23);
    assert_eq!(t["service"], "telnet");
    assert_eq!(
        t["negotiation"],
        serde_json::json!(["WILL 1", "WILL 3", "DO 31"])
    );
    assert_eq!(t["prompt"], "IMDVRS login:");
    assert_eq!(field(t, "telnet.banner"), Some("IMDVRS login:"));
    let w = grab(dvr, 80);
    assert_eq!(w["status"], 401);
    assert_eq!(field(w, "http_header.wwwauth"), Some("Basic realm=\"DVR\""));
    assert_eq!(
        field(grab(dvr, 21), "ftp.banner"),
        Some("DVR FTP server ready.")
    );
    assert_eq!(grab(dvr, 22)["state"], "closed");
    let evidence = dvr["verdict"]["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["port"] == 23 && e["file"] == "telnet_banners"),
        "{evidence:#?}"
    );
    assert!(evidence
        .iter()
        .any(|e| e["port"] == 80 && e["file"] == "http_wwwauth"));

    // The camera: FTP names its model; RTSP answered OPTIONS.
    let cam = host(12);
    assert_eq!(cam["verdict"]["device"], "IP Camera", "{cam:#}");
    assert_eq!(cam["verdict"]["product"], "2100");
    let r = grab(cam, 554);
    assert_eq!(r["service"], "rtsp");
    assert_eq!(
        field(r, "rtsp_header.server"),
        Some("Hipcam RealServer/V1.0")
    );
    let web = grab(cam, 80);
    assert_eq!(field(web, "html_title"), Some("Camera"));
    // Its favicon (served chunked): the MD5 Recog matches and Shodan's hash,
    // as Python's hashlib and mmh3 compute them for these bytes.
    assert_eq!(
        field(web, "favicon.md5"),
        Some("e6899eaaf06fd702f3ed3f988eb19362")
    );
    assert_eq!(field(web, "favicon.mmh3"), Some("1836528006"));
    assert_eq!(
        field(grab(dvr, 80), "favicon.md5"),
        None,
        "a 404 is no favicon"
    );

    let router = host(13);
    assert_eq!(router["verdict"]["device"], "Router", "{router:#}");
    assert_eq!(router["verdict"]["product"], "KWS-1043N");

    // Owned by a worm: infected, not a device type.
    let owned = host(14);
    assert_eq!(owned["verdict"]["infected"], "Linux.Wifatch", "{owned:#}");
    assert!(owned["verdict"]["device"].is_null());

    // Nobody home.
    let empty = host(15);
    assert_eq!(empty["verdict"]["reachable"], false);
    assert!(empty["grabs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["state"] == "closed"));

    // SSH: the software part of the identification line.
    assert_eq!(
        field(grab(host(17), 22), "ssh.banner"),
        Some("dropbear_2019.78")
    );

    let identified = [11, 12, 13, 14, 15, 17]
        .iter()
        .filter(|&&h| !host(h)["verdict"]["device"].is_null())
        .count();
    eprintln!("identified {identified} of 6 hosts (one infected, one unreachable, one SSH-only)");
    assert_eq!(identified, 3);
}

#[test]
fn a_host_that_never_answers_costs_one_connect_timeout() {
    let (scans, took) = scan_fleet(&[99], FLEET_PORTS, LIMITS);
    let h = &scans[0];
    assert_eq!(h["verdict"]["reachable"], false);
    for g in h["grabs"].as_array().unwrap() {
        assert_eq!(g["state"], "filtered", "{g:#}");
        // connect_timeout = 2
        assert!(g["duration"].as_f64().unwrap() < 2.5, "{g:#}");
    }
    assert!(took < 8.0, "the scan took {took:.1} s");
}

#[test]
fn a_hostile_device_is_cut_off_within_the_limits() {
    let (scans, took) = scan_fleet(&[16], FLEET_PORTS, LIMITS);
    let h = &scans[0];
    // Trickling bytes forever: cut at the grab's time limit.
    let t = grab(h, 23);
    assert_eq!(t["cut"], "timeout", "{t:#}");
    assert!(t["duration"].as_f64().unwrap() < 3.5, "{t:#}");
    // 100 MB of body: cut at the byte limit, exactly.
    let w = grab(h, 80);
    assert_eq!(w["cut"], "max_bytes", "{w:#}");
    assert_eq!(w["bytes"], 65536);
    // Negotiation without end: one answer per option, then a limit.
    let n = grab(h, 21);
    assert!(n["cut"] == "timeout" || n["cut"] == "max_bytes", "{n:#}");
    assert!(n["negotiation"].as_array().unwrap().len() > 100);
    // All of it inside the read timeout (3 s), plus the command's start
    // (loading the fingerprints in a debug build), not the fake's 100 s.
    assert!(took < 10.0, "the scan took {took:.1} s");
    for g in h["grabs"].as_array().unwrap() {
        assert!(g["duration"].as_f64().unwrap() < 3.5, "{g:#}");
    }
}

#[test]
fn scan_refuses_reserved_addresses_unless_allowed() {
    let out = Command::new(BIN)
        .args(["profiler", "scan", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1 is not scanned: loopback"), "{err}");
    let out = Command::new(BIN)
        .args(["profiler", "scan", "10.1.2.3", "192.168.1.1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("private"));
}

/// The whole loop: the fleet attacks the honeypot (a Telnet login from each
/// device's own address), the honeypot scans each attacker back once, and
/// `iotpot devices` shows what they are.
#[test]
fn attackers_are_scanned_back_and_counted_by_device_type() {
    let dir = TempDir::new("scanback");
    let data = dir.0.join("data");
    let cfg = dir.0.join("iotpot.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\nsensor = \"e2e\"\n\
             [[listen]]\nservice = \"telnet\"\naddress = \"{NET}1:2323\"\nprofile = \"dvr-xiongmai\"\n\
             [capture]\nenabled = false\n[downloader]\nenabled = false\n[iotbox]\nenabled = false\n\
             {LIMITS}enabled = true\nallow = [\"{NET}0/24\"]\nports = [21, 22, 23, 80, 554, 8080]\nhosts_per_minute = 600\n",
            data.display()
        ),
    )
    .unwrap();
    let attack = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/attack.py");
    let fleet: Vec<String> = [11, 12, 13, 14, 15, 16, 17]
        .iter()
        .map(|h| format!("{NET}{h}"))
        .collect();
    in_fleet_netns(
        &dir,
        &format!(
            r#"{bin} --config {cfg} run 2> {dir}/iotpot.log &
pot=$!
for i in $(seq 100); do grep -q "iotpot running" {dir}/iotpot.log && break; sleep 0.1; done
python3 {attack} {NET}1 2323 {fleet}
# Every attacker scanned back (7 verdicts), then the same attackers again:
# no second scan within revisit_hours.
for i in $(seq 150); do
  n=$({bin} --config {cfg} devices --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["scanned"])')
  [ "$n" = 7 ] && break
  sleep 0.2
done
python3 {attack} {NET}1 2323 {NET}11 {NET}12
sleep 2
{bin} --config {cfg} devices > {dir}/devices.txt
{bin} --config {cfg} devices --by vendor > {dir}/vendors.txt
{bin} --config {cfg} devices show {NET}11 > {dir}/show.txt
kill -TERM $pot
wait $pot"#,
            bin = BIN,
            cfg = cfg.display(),
            dir = dir.0.display(),
            fleet = fleet.join(" "),
        ),
    );
    let log = std::fs::read_to_string(dir.0.join("iotpot.log")).unwrap_or_default();
    let devices = std::fs::read_to_string(dir.0.join("devices.txt")).unwrap();
    eprintln!("{devices}");
    for row in [
        "DVR",
        "IP Camera",
        "Router",
        "infected: Linux.Wifatch",
        "not reachable",
    ] {
        assert!(
            devices.lines().any(|l| l.starts_with(row)),
            "no {row} row:\n{devices}\n{log}"
        );
    }
    assert!(
        devices.contains("7 attackers scanned: 3 identified (42.9%), 1 infected by a known worm, 1 not reachable (14.3%)"),
        "{devices}"
    );
    let vendors = std::fs::read_to_string(dir.0.join("vendors.txt")).unwrap();
    assert!(vendors.starts_with("VENDOR"), "{vendors}");
    let show = std::fs::read_to_string(dir.0.join("show.txt")).unwrap();
    assert!(show.contains(&format!("{NET}11: DVR")), "{show}");
    assert!(
        show.contains("evidence: port 23 telnet.banner telnet_banners.xml"),
        "{show}"
    );

    // One scan per attacker, although .11 and .12 attacked twice; every grab
    // is an event and a row, with its raw bytes.
    let db = rusqlite::Connection::open(data.join("iotpot.db")).unwrap();
    let verdicts = column(
        &db,
        "SELECT src_ip FROM events WHERE eventid = 'iotpot.profiler.verdict' ORDER BY src_ip",
    );
    assert_eq!(verdicts, fleet, "{log}");
    let grabs = column(
        &db,
        "SELECT count(*) FROM events WHERE eventid = 'iotpot.profiler.grab'",
    );
    assert_eq!(grabs, ["42"], "7 hosts x 6 ports");
    let raw = column(
        &db,
        &format!("SELECT hex(raw) FROM profiler_grabs WHERE addr = '{NET}14' AND port = 23"),
    );
    assert!(
        String::from_utf8(hex::decode(&raw[0]).unwrap())
            .unwrap()
            .starts_with("Telnet has been closed"),
        "{raw:?}"
    );
}

/// The test that matters for wearing what attackers are: scan a device,
/// generate its profile, wear it, and nmap -sV names the honeypot as it
/// names the device.
#[test]
fn a_generated_profile_looks_to_nmap_like_the_device() {
    require("nmap");
    let dir = TempDir::new("wear");
    let cfg = dir.0.join("iotpot.toml");
    let data = dir.0.join("data");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\n[capture]\nenabled = false\n{LIMITS}",
            data.display()
        ),
    )
    .unwrap();
    let wear = dir.0.join("wear.toml");
    std::fs::write(
        &wear,
        format!(
            "data_dir = \"{}\"\n[capture]\nenabled = false\n[iotbox]\nenabled = false\n\
             [[listen]]\nservice = \"telnet\"\naddress = \"{NET}1:23\"\nprofile = \"{gen}\"\n\
             [[listen]]\nservice = \"http\"\naddress = \"{NET}1:80\"\nprofile = \"{gen}\"\n",
            dir.0.join("data2").display(),
            gen = dir.0.join("gen.toml").display()
        ),
    )
    .unwrap();
    in_fleet_netns(
        &dir,
        &format!(
            r#"{bin} --config {cfg} profiler scan --allow {NET}0/24 --ports 23,80 {NET}18 > {dir}/scan.txt
{bin} --config {cfg} profiles generate {NET}18 --name worn-router > {dir}/gen.toml
{bin} --config {wear} run 2> {dir}/iotpot.log &
pot=$!
for i in $(seq 100); do grep -q "iotpot running" {dir}/iotpot.log && break; sleep 0.1; done
# Both at once (each waits out nmap's probe timeouts).
nmap -sT -sV -Pn -n --version-light -p 23,80 {NET}18 > {dir}/device.nmap &
a=$!
nmap -sT -sV -Pn -n --version-light -p 23,80 {NET}1 > {dir}/honeypot.nmap &
b=$!
wait $a
wait $b
kill -TERM $pot
wait $pot"#,
            bin = BIN,
            cfg = cfg.display(),
            wear = wear.display(),
            dir = dir.0.display(),
        ),
    );
    let read = |f: &str| std::fs::read_to_string(dir.0.join(f)).unwrap_or_default();
    let generated = read("gen.toml");
    assert!(generated.contains("name = \"worn-router\""), "{generated}");
    assert!(
        generated.contains("negotiation = \"fffd01fffd1ffffb01fffb03\""),
        "{generated}"
    );
    let (device, honeypot) = (read("device.nmap"), read("honeypot.nmap"));
    // "23/tcp open  telnet  <version>": everything after the port.
    let service = |text: &str, port: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(&format!("{port}/tcp")))
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    for port in ["23", "80"] {
        let d = service(&device, port);
        assert!(d.starts_with("open"), "{device}");
        assert_eq!(
            d,
            service(&honeypot, port),
            "nmap on the device:\n{device}\nnmap on the honeypot wearing its profile:\n{honeypot}\n{generated}"
        );
        eprintln!("{port}: {d}");
    }
}

/// TLS certificates, from a modern server and from an old one that speaks
/// only TLS 1.0 with RSA key exchange (modern TLS libraries refuse it; the
/// certificate is read from the handshake in the clear), and the modern
/// one's page over HTTPS.
#[test]
fn certificates_are_read_even_from_tls_1_0_only_devices() {
    let (scans, _) = scan_fleet(&[12, 19], "443,8443", LIMITS);
    let cert = |i: usize| grab(&scans[i], 443)["certificate"].clone();
    let modern = cert(0);
    assert_eq!(
        modern["subject"], "CN=ipcam.local,O=Acme Cam,C=TW",
        "{:#}",
        scans[0]
    );
    assert_eq!(modern["issuer"], modern["subject"], "self-signed");
    assert_eq!(modern["version"], "TLS 1.2");
    let old = cert(1);
    assert_eq!(
        old["subject"], "CN=DVR Web Server,O=Hi-Link,C=CN",
        "{:#}",
        scans[1]
    );
    assert_eq!(old["version"], "TLS 1.0");
    assert!(
        ["0x002f", "0x0035"].contains(&old["cipher"].as_str().unwrap()),
        "{old:#}"
    );
    assert_eq!(old["sha256"].as_str().unwrap().len(), 64);
    assert!(old["not_after"].as_str().unwrap() > old["not_before"].as_str().unwrap());
    assert_eq!(
        field(grab(&scans[1], 443), "x509.subject"),
        Some("CN=DVR Web Server,O=Hi-Link,C=CN")
    );
    // The modern server's page over a real TLS session too; the old one's
    // certificate is all (rustls, like browsers, refuses TLS 1.0).
    let page = grab(&scans[0], 443);
    assert_eq!(page["service"], "https", "{page:#}");
    assert_eq!(field(page, "html_title"), Some("Secure"));
    assert_eq!(field(page, "http_header.server"), Some("lighttpd"));
    assert_eq!(grab(&scans[1], 443)["service"], "tls");
    // TLS 1.3 only: the certificate from the HTTPS session.
    let t13 = grab(&scans[0], 8443);
    assert_eq!(t13["certificate"]["version"], "TLS 1.3", "{t13:#}");
    assert_eq!(
        t13["certificate"]["subject"],
        "CN=ipcam.local,O=Acme Cam,C=TW"
    );
    assert_eq!(field(t13, "html_title"), Some("Secure"));
}

#[test]
fn bench_profiler_scans_its_fake_attackers_and_compares_throughput() {
    for tool in ["unshare", "ip"] {
        require(tool);
    }
    let out = run_ok(Command::new(BIN).args([
        "bench",
        "profiler",
        "--hosts",
        "20",
        "--seconds",
        "1",
        "--concurrency",
        "4",
    ]));
    assert!(out.contains("of the Telnet sessions/s without it"), "{out}");
    assert!(
        out.contains("20 of 20 attackers x 8 ports scanned"),
        "every fake attacker scanned back:\n{out}"
    );
}
