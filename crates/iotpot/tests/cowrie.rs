//! `iotpot import cowrie` on a real cowrie log: cowrie (from PyPI,
//! installed by scripts/test) runs here with Telnet on a loopback port, as
//! `nobody` (it refuses root), and Debian's telnet client logs in to it
//! three times; its `cowrie.json` is imported and `iotpot report` must
//! count what cowrie's own events count. Imported again, nothing doubles.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where scripts/test installed cowrie (readable by `nobody`).
fn cowrie_lib() -> String {
    pypi_install("IOTPOT_COWRIE", "cowrie", "cowrie")
}

/// A command run as `nobody` with Debian's python3 and cowrie's modules.
fn as_nobody(dir: &std::path::Path, lib: &str, args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "env"])
        .arg(format!("HOME={}", dir.display()))
        .arg(format!("PYTHONPATH={lib}"))
        .args(args)
        .current_dir(dir);
    c
}

struct Cowrie(std::process::Child);

impl Drop for Cowrie {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_cowrie_log_imported_counts_what_cowrie_counted() {
    for tool in ["telnet", "setpriv", "/usr/bin/python3"] {
        require(tool);
    }
    let lib = cowrie_lib();
    let tmp = TempDir::new("cowrie");
    let dir = tmp.0.join("cowrie");
    std::fs::create_dir_all(&dir).unwrap();
    // cowrie writes its etc/ and var/ here, as nobody.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    std::fs::write(
        dir.join("twistd.py"),
        "import sys\nfrom twisted.scripts.twistd import run\nsys.argv = ['twistd'] + sys.argv[1:]\nrun()\n",
    )
    .unwrap();
    let init = as_nobody(
        &dir,
        &lib,
        &[
            "/usr/bin/python3",
            "-c",
            "import sys; sys.argv = ['cowrie', 'init']\nfrom cowrie.scripts.cowrie import run\nrun()",
        ],
    )
    .output()
    .unwrap();
    assert!(init.status.success(), "cowrie init: {init:?}");
    let (telnet_port, ssh_port) = (free_port(), free_port());
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut child = as_nobody(
        &dir,
        &lib,
        &[
            "COWRIE_TELNET_ENABLED=yes",
            &format!("COWRIE_TELNET_LISTEN_ENDPOINTS=tcp:{telnet_port}:interface=127.0.0.1"),
            &format!("COWRIE_SSH_LISTEN_ENDPOINTS=tcp:{ssh_port}:interface=127.0.0.1"),
            "/usr/bin/python3",
            "twistd.py",
            "--umask=0022",
            "-n",
            "--logger",
            "cowrie.python.logfile.stdoutLogger",
            "cowrie",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    capture(child.stdout.take().unwrap(), log.clone());
    capture(child.stderr.take().unwrap(), log.clone());
    let cowrie = Cowrie(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", telnet_port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cowrie never listened: {}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Three visits with Debian's telnet client.
    let port = telnet_port.to_string();
    let visit = |attempts: &[(&str, &str)], commands: &[&str]| {
        let mut t = Terminal::telnet(&["127.0.0.1", &port]);
        t.expect("login: ");
        for (i, (user, pass)) in attempts.iter().enumerate() {
            if i > 0 {
                t.expect("Login incorrect");
            }
            t.type_line(user);
            t.expect("Password: ");
            t.type_line(pass);
        }
        if commands.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
            return;
        }
        t.expect("# ");
        for c in commands {
            t.type_line(c);
            std::thread::sleep(Duration::from_millis(300));
        }
        t.wait_end();
    };
    visit(
        &[("root", "root"), ("root", "xc3511")],
        &["uname -a", "cat /proc/cpuinfo", "exit"],
    );
    visit(
        &[("root", "123456"), ("root", "vizxv")],
        &["echo hi; ls /tmp", "exit"],
    );
    visit(&[("root", "root")], &[]);
    std::thread::sleep(Duration::from_secs(1));
    drop(cowrie);

    // What cowrie itself counted.
    let json_log = dir.join("var/log/cowrie/cowrie.json");
    let text = std::fs::read_to_string(&json_log).unwrap();
    let mut counted: BTreeMap<String, i64> = BTreeMap::new();
    for l in text.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        *counted
            .entry(v["eventid"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let n = |k: &str| counted.get(k).copied().unwrap_or(0);
    // The three visits, and the test's own check that the port was open.
    assert_eq!(n("cowrie.session.connect"), 4, "{counted:?}");
    assert!(n("cowrie.command.input") >= 5, "{counted:?}");

    // Into iotpot's store, twice.
    let cfg = tmp.0.join("iotpot.toml");
    std::fs::write(
        &cfg,
        format!("data_dir = \"{}\"\n", tmp.0.join("data").display()),
    )
    .unwrap();
    let iotpot = |args: &[&str]| run_ok(Command::new(BIN).arg("--config").arg(&cfg).args(args));
    for _ in 0..2 {
        let said = iotpot(&["import", "cowrie", json_log.to_str().unwrap()]);
        assert!(said.contains("lines read"), "{said}");
    }
    let report: Value = serde_json::from_str(&iotpot(&["report", "--json"])).unwrap();
    let funnel = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "funnel")
        .unwrap();
    let steps: BTreeMap<String, i64> = funnel["tables"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_i64().unwrap()))
        .collect();
    assert_eq!(steps["connections"], n("cowrie.session.connect"));
    assert_eq!(
        steps["login attempts"],
        n("cowrie.login.success") + n("cowrie.login.failed")
    );
    assert_eq!(steps["logins"], n("cowrie.login.success"));
    assert_eq!(steps["commands"], n("cowrie.command.input"));
    assert_eq!(
        steps["download attempts"],
        n("cowrie.session.file_download") + n("cowrie.session.file_download.failed")
    );
    // The sessions keep cowrie's ids and the pairs tried.
    let sessions = iotpot(&["sessions", "--json"]);
    assert_eq!(sessions.lines().count() as i64, n("cowrie.session.connect"));
    assert!(sessions.contains("\"password\":\"xc3511\""), "{sessions}");
}
