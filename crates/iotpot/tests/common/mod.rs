//! Helpers for the end-to-end tests: run the real `iotpot` binary on a
//! temporary data dir and talk to it over loopback.
#![allow(dead_code)]

pub mod browser;
pub mod history;
pub mod postgres;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_iotpot");

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "iotpot-e2e-{name}-{}-{}",
            std::process::id(),
            fastrand_u32()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fastrand_u32() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    t.subsec_nanos()
}

/// A free loopback port, never the same twice in one test process (the
/// kernel may hand a just-closed port out again).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut given = GIVEN.lock().unwrap();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Append everything read from `pipe` to `into`, on a background thread.
pub fn capture(mut pipe: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
}

/// A long-running process of the test (`iotpot sensor`...), its standard
/// error kept for failure messages; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub log: Arc<Mutex<String>>,
}

impl Daemon {
    pub fn start(cmd: &mut Command) -> Daemon {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        capture(child.stderr.take().unwrap(), log.clone());
        Daemon { child, log }
    }

    /// `iotpot sensor --config FILE`, in a directory of its own beside the
    /// file (where its spool goes).
    pub fn sensor(config: &Path) -> Daemon {
        let home = config.with_extension("d");
        std::fs::create_dir_all(&home).unwrap();
        Daemon::start(
            Command::new(BIN)
                .args(["sensor", "--config"])
                .arg(config)
                .current_dir(&home),
        )
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real Telnet client (Debian's `telnet`) on pipes: what it prints, and
/// lines typed into it.
pub struct Terminal {
    pub child: Child,
    pub screen: Arc<Mutex<String>>,
}

impl Terminal {
    /// `telnet ARGS...` (the host and port last).
    pub fn telnet(args: &[&str]) -> Terminal {
        require("telnet");
        Terminal::spawn(Command::new("telnet").args(args))
    }

    /// A Telnet client started by `cmd` (`telnet` run on another host...).
    pub fn spawn(cmd: &mut Command) -> Terminal {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        capture(child.stdout.take().unwrap(), screen.clone());
        capture(child.stderr.take().unwrap(), screen.clone());
        Terminal { child, screen }
    }

    pub fn expect(&self, what: &str) {
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

    pub fn type_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Wait for the client to end (the device hung up).
    pub fn wait_end(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "telnet did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `iotpot run`.
pub struct Honeypot {
    pub child: Option<Child>,
    pub addr: SocketAddr,
    pub dir: TempDir,
    pub stderr: Arc<Mutex<String>>,
}

impl Honeypot {
    /// Start with a telnet listener on a free loopback port; `extra` is
    /// appended to the config (more `[limits]`, ...). `profile` may be empty.
    pub fn start(name: &str, profile: &str, extra: &str) -> Honeypot {
        let dir = TempDir::new(name);
        let port = free_port();
        let profile_line = if profile.is_empty() {
            String::new()
        } else {
            format!("profile = \"{profile}\"\n")
        };
        // Tests never send traffic beyond loopback: the downloader is off
        // unless the test configures it (and then allows only loopback).
        let extra = if extra.contains("[downloader]") {
            extra.to_string()
        } else {
            format!("{extra}\n[downloader]\nenabled = false\n")
        };
        let config = format!(
            "data_dir = \"{}\"\nsensor = \"e2e\"\n[[listen]]\nservice = \"telnet\"\naddress = \"127.0.0.1:{port}\"\n{profile_line}{extra}",
            dir.0.join("data").display()
        );
        let cfg = dir.0.join("iotpot.toml");
        std::fs::write(&cfg, config).unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut hp = Self::spawn(
            Command::new(BIN)
                .arg("run")
                .arg("--config")
                .arg(&cfg)
                .current_dir(&dir.0),
            addr,
            dir,
        );
        hp.wait_ready();
        hp
    }

    pub fn spawn(cmd: &mut Command, addr: SocketAddr, dir: TempDir) -> Honeypot {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting iotpot");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let s = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Honeypot {
            child: Some(child),
            addr,
            dir,
            stderr,
        }
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.stderr.lock().unwrap().contains("iotpot running") {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!(
                        "iotpot exited early ({status}): {}",
                        self.stderr.lock().unwrap()
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("iotpot did not start: {}", self.stderr.lock().unwrap());
    }

    pub fn data(&self) -> PathBuf {
        self.dir.0.join("data")
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        unsafe_sigterm(child.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                assert!(
                    status.success(),
                    "iotpot exit status {status}: {}",
                    self.stderr.lock().unwrap()
                );
                return;
            }
            assert!(Instant::now() < deadline, "iotpot did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Run an `iotpot` subcommand against this honeypot's config.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(BIN)
            .args(args)
            .arg("--config")
            .arg(self.dir.0.join("iotpot.toml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "iotpot {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data().join("iotpot.db")).unwrap()
    }

    /// Wait (10 s at most) until `n` sessions have closed and their events
    /// are written: a client that hung up just before a SIGTERM is otherwise
    /// a race between its EOF and the shutdown.
    pub fn wait_closed(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let text =
                std::fs::read_to_string(self.data().join("events.jsonl")).unwrap_or_default();
            if text.matches("\"iotpot.session.closed\"").count() >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{n} sessions did not close within 10 s");
    }

    pub fn jsonl(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.data().join("events.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Honeypot {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn unsafe_sigterm(pid: u32) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// A raw Telnet client that answers negotiation like Mirai's scanner.
pub struct Bot {
    pub s: TcpStream,
    pub seen: Vec<u8>,
    /// The shell prompt, learned at login (what follows the last line
    /// break once logged in).
    pub prompt: Option<String>,
}

impl Bot {
    pub fn connect(addr: SocketAddr) -> Bot {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Bot {
            s,
            seen: Vec::new(),
            prompt: None,
        }
    }

    pub fn connect_from(src: &str, addr: SocketAddr) -> std::io::Result<Bot> {
        let s = connect_from(src, addr)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Bot {
            s,
            seen: Vec::new(),
            prompt: None,
        })
    }

    /// Read (answering negotiation) until the data ends with a prompt as
    /// Mirai detects it, and `must` (if any) was seen. Returns the data.
    pub fn until_prompt(&mut self, must: Option<&str>) -> String {
        self.try_until_prompt(must)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Bot::until_prompt`], or why not (the device hung up...).
    pub fn try_until_prompt(&mut self, must: Option<&str>) -> Result<String, String> {
        let mut data = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            let n = match self.s.read(&mut buf) {
                Ok(0) => {
                    return Err(format!(
                        "closed; got so far: {:?}",
                        String::from_utf8_lossy(&data)
                    ))
                }
                Ok(n) => n,
                Err(e) => {
                    return Err(format!(
                        "read: {e}; got so far: {:?}",
                        String::from_utf8_lossy(&data)
                    ))
                }
            };
            self.seen.extend_from_slice(&buf[..n]);
            let mut i = 0;
            let mut reply = Vec::new();
            while i < n {
                if buf[i] == 0xff && i + 2 < n && matches!(buf[i + 1], 0xfb..=0xfe) {
                    let (verb, opt) = (buf[i + 1], buf[i + 2]);
                    match verb {
                        0xfd if opt == 31 => reply.extend_from_slice(&[
                            0xff, 0xfb, 31, 0xff, 0xfa, 31, 0, 80, 0, 24, 0xff, 0xf0,
                        ]),
                        0xfd => reply.extend_from_slice(&[0xff, 0xfc, opt]),
                        0xfb => reply.extend_from_slice(&[0xff, 0xfd, opt]),
                        _ => {}
                    }
                    i += 3;
                } else if buf[i] == 0xff && i + 1 < n && buf[i + 1] == 0xff {
                    data.push(0xff);
                    i += 2;
                } else {
                    data.push(buf[i]);
                    i += 1;
                }
            }
            if !reply.is_empty() {
                self.s.write_all(&reply).unwrap();
            }
            let last = data
                .iter()
                .rev()
                .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0));
            let prompt = last.is_some_and(|b| b":>$#%".contains(b));
            let found = must.is_none_or(|m| data.windows(m.len()).any(|w| w == m.as_bytes()));
            if prompt && found {
                return Ok(String::from_utf8_lossy(&data).into_owned());
            }
        }
    }

    pub fn send(&mut self, line: &str) {
        self.s.write_all(line.as_bytes()).unwrap();
        self.s.write_all(b"\r\n").unwrap();
    }

    /// Send a line and return everything up to the next prompt.
    pub fn cmd(&mut self, line: &str) -> String {
        self.send(line);
        self.until_prompt(None)
    }

    /// What the device printed for `line`: without the echo of the line
    /// itself (the devices echo what is typed, `WILL ECHO`) and without
    /// the prompt after it, lines ending in `\n`. So a test of `echo ok`
    /// cannot pass on the echo alone.
    pub fn run(&mut self, line: &str) -> String {
        let all = self.cmd(line);
        let rest = all
            .strip_prefix(line)
            .and_then(|r| r.strip_prefix("\r\n"))
            .unwrap_or_else(|| panic!("the device did not echo {line:?} first: {all:?}"));
        let out = match self.prompt.as_deref() {
            Some(p) if rest.ends_with(p) => &rest[..rest.len() - p.len()],
            // No prompt learned: it is the last line.
            _ => &rest[..rest.rfind('\n').map_or(0, |i| i + 1)],
        };
        out.replace("\r\n", "\n")
    }

    /// Log in and check the device let us in: its shell prompt follows,
    /// with no "incorrect" on the way.
    pub fn login_ok(&mut self, user: &str, pass: &str) -> String {
        let motd = self.login(user, pass);
        assert!(
            !motd.to_lowercase().contains("incorrect") && !motd.trim_end().ends_with(':'),
            "login {user}/{pass} refused: {motd:?}"
        );
        assert!(
            motd.trim_end().ends_with(['#', '$', '>']),
            "no shell prompt after login {user}/{pass}: {motd:?}"
        );
        motd
    }

    pub fn login(&mut self, user: &str, pass: &str) -> String {
        self.until_prompt(Some("ogin"));
        self.login_again(user, pass)
    }

    /// Answer a login prompt already read (after a refused login).
    pub fn login_again(&mut self, user: &str, pass: &str) -> String {
        self.send(user);
        self.until_prompt(Some("assword"));
        self.send(pass);
        let out = self.until_prompt(None);
        self.learn_prompt(&out);
        out
    }

    /// After a login: the prompt is what follows the last line break.
    fn learn_prompt(&mut self, out: &str) {
        let last = out.rsplit('\n').next().unwrap_or(out);
        if last.trim_end().ends_with(['#', '$', '>']) {
            self.prompt = Some(last.to_string());
        }
    }
}

/// The logins a built-in profile accepts, as a dictionary attack would try
/// them (from `iotpot profiles show`): a profile that refuses the first
/// attempts gets the same pair again.
pub fn profile_logins(profile: &str) -> Vec<(String, String)> {
    let text = run_ok(Command::new(BIN).args(["profiles", "show", profile]));
    let v: toml::Value = toml::from_str(&text).unwrap();
    let any = toml::Value::Table(Default::default());
    let auth = v.get("auth").unwrap_or(&any);
    let pair = |c: &str| {
        let (u, p) = c.split_once(':').unwrap();
        (u.to_string(), p.to_string())
    };
    match auth.get("policy").and_then(|p| p.as_str()).unwrap_or("any") {
        "list" => auth["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| pair(c.as_str().unwrap()))
            .collect(),
        "per_user" => auth["users"]
            .as_table()
            .unwrap()
            .iter()
            .flat_map(|(u, ps)| {
                ps.as_array().unwrap().iter().map(move |p| {
                    let p = p.as_str().unwrap();
                    (u.clone(), if p == "*" { "x".into() } else { p.to_string() })
                })
            })
            .collect(),
        _ => vec![("root".into(), "root".into())],
    }
}

impl Bot {
    /// Log in to the device at `addr` like a dictionary attack: the pairs
    /// in turn (again from the first when the list ends), a new connection
    /// when the device hangs up; fails after 12 tries.
    pub fn break_in(addr: SocketAddr, pairs: &[(String, String)]) -> Bot {
        let mut bot = Bot::connect(addr);
        bot.until_prompt(Some("ogin"));
        let mut tried = Vec::new();
        for (user, pass) in pairs.iter().cycle().take(12) {
            tried.push(format!("{user}/{pass}"));
            bot.send(user);
            let after = bot.try_until_prompt(Some("assword")).and_then(|_| {
                bot.send(pass);
                bot.try_until_prompt(None)
            });
            match after {
                Ok(out) if out.trim_end().ends_with(['#', '$', '>']) => {
                    bot.learn_prompt(&out);
                    return bot;
                }
                Ok(_) => {} // "Login incorrect" and the login prompt again
                Err(_) => {
                    bot = Bot::connect(addr);
                    bot.until_prompt(Some("ogin"));
                }
            }
        }
        panic!("no login accepted: {tried:?}");
    }
}

/// Connect from a chosen loopback source address (std cannot bind before
/// connect; tokio's socket API can).
pub fn connect_from(src: &str, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let src: SocketAddr = format!("{src}:0").parse().map_err(std::io::Error::other)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let sock = tokio::net::TcpSocket::new_v4()?;
        sock.bind(src)?;
        let s = sock.connect(addr).await?.into_std()?;
        s.set_nonblocking(false)?;
        Ok(s)
    })
}

/// Require a tool: tests never skip silently. The README's test command
/// installs everything.
pub fn require(tool: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(found, "`{tool}` is not installed: run the README's test command (scripts/test), which installs it");
}

pub fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The values of a one-column query, in order.
/// The first column of a query, each value as text (NULL as "NULL").
pub fn column(db: &rusqlite::Connection, sql: &str) -> Vec<String> {
    use rusqlite::types::Value;
    db.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get::<_, Value>(0))
        .unwrap()
        .map(|v| match v.unwrap() {
            Value::Null => "NULL".to_string(),
            Value::Integer(i) => i.to_string(),
            Value::Real(f) => f.to_string(),
            Value::Text(t) => t,
            Value::Blob(b) => hex::encode(b),
        })
        .collect()
}

/// A helper server process (HTTP, TFTP, FTP...); killed when dropped.
pub struct Server(pub std::process::Child);

/// Start a server quietly.
pub fn quiet(cmd: &mut Command) -> Server {
    Server(
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}")),
    )
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Wait until something listens on 127.0.0.1:`port`.
pub fn wait_port(port: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "server on {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Serve `dir` over HTTP on 127.0.0.1:`port` (Python's http.server).
pub fn http_server(dir: &Path, port: u16) -> Server {
    require("python3");
    let s = quiet(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(dir),
    );
    wait_port(port);
    s
}

/// Where scripts/test installed `what` from PyPI for Debian's python3: the
/// directory in environment variable `var`, which must hold `marker`.
pub fn pypi_install(var: &str, marker: &str, what: &str) -> String {
    let dir = std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: run the README's test command (scripts/test), which installs {what}"
        )
    });
    assert!(
        Path::new(&dir).join(marker).exists(),
        "no {what} in {dir}: run scripts/test"
    );
    dir
}

/// A 3000-byte bot for `arch`: a real ELF header, a tag and a C2 string.
pub fn elf(arch: iotpot_core::Arch, tag: &str) -> Vec<u8> {
    let mut b = arch.elf_header();
    b.extend_from_slice(format!("\0\0{tag} cnc 203.0.113.77:23\0").as_bytes());
    b.resize(3000, 0x90);
    b
}

/// Run a command to completion; its stdout. Fails the test (with the
/// command's stderr) when it fails.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `iotpot --config CONFIG ARGS...`, to run.
pub fn iotpot_cmd(config: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--config").arg(config).args(args);
    c
}

/// A central's CA, for sensors that reach it at `central`
/// (`iotpot pki init --central ADDR`).
pub fn pki_init(config: &Path, central: &str) {
    run_ok(&mut iotpot_cmd(
        config,
        &["pki", "init", "--central", central],
    ));
}

/// A `[[listen]]` table for the config: `service` on 127.0.0.1:`port`.
pub fn listen(service: &str, port: u16, profile: &str) -> String {
    format!("[[listen]]\nservice = \"{service}\"\naddress = \"127.0.0.1:{port}\"\nprofile = \"{profile}\"\n")
}

/// One 53413/udp probe (a 9-byte "AA\0\0AAAA\0") to a Netis face on
/// loopback, and its answer awaited (5 s at most).
pub fn netis_probe(port: u16) {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    udp.send_to(b"AA\0\0AAAA\0", ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 512];
    udp.recv_from(&mut buf).expect("an answer from 53413/udp");
}
