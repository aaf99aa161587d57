//! A real PostgreSQL server for a test: Debian's `postgresql` package
//! (scripts/test installs it), a cluster of its own in a temporary
//! directory, on a free loopback port, stopped and removed on drop. As
//! root the server runs as the `postgres` user (it refuses root).

use super::{free_port, TempDir};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    server: Child,
    pub port: u16,
    bin: PathBuf,
    _dir: TempDir,
}

/// The directory of the newest installed server's programs.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.retain(|b| b.join("initdb").exists());
    versions.sort();
    versions.pop().expect(
        "PostgreSQL's server is missing (/usr/lib/postgresql/*/bin/initdb): run the README's test command (scripts/test)",
    )
}

/// `cmd` as the `postgres` user when we are root.
fn as_owner(bin: &std::path::Path, program: &str) -> Command {
    let root = is_root();
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    };
    cmd.stdin(Stdio::null());
    cmd
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Postgres {
    /// initdb, start, and create the database `iotpot` (user `iotpot`,
    /// trusted on loopback).
    pub fn start(name: &str) -> Postgres {
        Self::start_on(name, free_port())
    }

    /// The same on a given port.
    pub fn start_on(name: &str, port: u16) -> Postgres {
        let bin = bin_dir();
        let dir = TempDir::new(name);
        if is_root() {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir.0)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown of the cluster's directory to postgres failed");
        }
        let data = dir.0.join("cluster");
        let out = as_owner(&bin, "initdb")
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "iotpot", "-E", "UTF8"])
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let server = as_owner(&bin, "postgres")
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(&dir.0)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting postgres");
        let pg = Postgres {
            server,
            port,
            bin,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let made = pg
                .client("createdb")
                .arg("iotpot")
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if made {
                return pg;
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// One of the server's client programs, pointed at it as `iotpot`.
    fn client(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "iotpot",
        ]);
        cmd
    }

    /// The connection string for `[store] postgres`.
    pub fn conninfo(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=iotpot dbname=iotpot",
            self.port
        )
    }

    /// `psql -At -c SQL`: its output.
    pub fn psql(&self, sql: &str) -> String {
        let out = self
            .client("psql")
            .args(["-At", "-c", sql, "iotpot"])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGTERM: a smart shutdown (SIGKILL would leave shared memory).
        super::unsafe_sigterm(self.server.id());
        let _ = self.server.wait();
    }
}
