//! One sandbox: a QEMU process running an image, driven over its serial
//! console (the guest has no network device at all).
//!
//! The control protocol: each command is sent base64-encoded to the guest's
//! shell, which `eval`s it with stdin from /dev/null and then prints a
//! marker with a per-command nonce and the exit status:
//! `\n__IOTBOX_<nonce>_<status>__\n`. Everything before the marker is the
//! command's output, byte for byte. `cd` and variables persist (one shell).

use crate::image::Image;
use crate::qmp::Qmp;
use anyhow::{bail, Context};
use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// What a guest printed for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub output: Vec<u8>,
    pub status: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No marker within the deadline: the command was interrupted (^C).
    #[error("timeout")]
    Timeout { partial: Vec<u8> },
    /// The control shell died (`exit`, `kill $$`): init started a new one;
    /// the session's shell state is gone.
    #[error("shell restarted")]
    ShellRestarted { partial: Vec<u8> },
    /// QEMU is gone (the guest rebooted or panicked).
    #[error("vm exited")]
    Exited,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

const READY: &[u8] = b"IOTBOX-READY";
/// The guest tty's canonical line limit is 4095 bytes: longer commands are
/// sent in pieces.
const LINE_CHUNK: usize = 3000;
/// Most output kept from one command.
pub const MAX_OUTPUT: usize = 1 << 20;

pub struct Vm {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    qmp: Qmp,
    buf: Vec<u8>,
    pub run_dir: PathBuf,
    pub started: Instant,
}

/// The QEMU command line of an image: the same for a cold boot and a
/// restore (a template only loads into an identical machine).
pub fn qemu_args(image: &Image, qmp: &Path) -> Vec<String> {
    qemu_args_net(image, qmp, None)
}

/// With `net`: one network card whose every frame goes to the unix
/// socket `net` (QEMU's `stream` netdev), where iotpot's sinkhole is the
/// only thing listening: the guest reaches neither the host nor the
/// Internet (for analysis runs).
pub fn qemu_args_net(image: &Image, qmp: &Path, net: Option<&Path>) -> Vec<String> {
    let a = image.arch;
    let mut v: Vec<String> = a.machine.iter().map(|s| s.to_string()).collect();
    v.extend([
        "-m".to_string(),
        a.mem_mib.to_string(),
        "-accel".into(),
        "tcg,tb-size=64".into(),
        "-kernel".into(),
        image.kernel().display().to_string(),
        "-initrd".into(),
        image.initramfs().display().to_string(),
        "-append".into(),
        format!(
            "console={} panic=-1 quiet loglevel=1 nokaslr{}",
            a.console,
            if net.is_some() { " iotbox.net=1" } else { "" }
        ),
        "-nodefaults".into(),
        "-display".into(),
        "none".into(),
        "-monitor".into(),
        "none".into(),
        "-serial".into(),
        "stdio".into(),
        "-no-reboot".into(),
        "-sandbox".into(),
        "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny".into(),
        "-qmp".into(),
        format!("unix:{},server=on,wait=off", qmp.display()),
    ]);
    match net {
        None => v.extend(["-nic".to_string(), "none".to_string()]),
        Some(p) => v.extend([
            "-netdev".to_string(),
            format!(
                "stream,id=n0,server=off,addr.type=unix,addr.path={}",
                p.display()
            ),
            "-device".to_string(),
            format!(
                "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56{}",
                a.nic_bus.map(|b| format!(",bus={b}")).unwrap_or_default()
            ),
        ]),
    }
    v
}

impl Vm {
    /// Start QEMU: a cold boot, or a restore of `template` (`-incoming`).
    pub async fn start(
        image: &Image,
        run_dir: &Path,
        template: Option<&Path>,
    ) -> anyhow::Result<Vm> {
        Vm::start_with(image, run_dir, template, None).await
    }

    /// [`Vm::start`], with a network card on the socket `net` when given
    /// (see [`qemu_args_net`]; something must listen there).
    pub async fn start_with(
        image: &Image,
        run_dir: &Path,
        template: Option<&Path>,
        net: Option<&Path>,
    ) -> anyhow::Result<Vm> {
        std::fs::create_dir_all(run_dir)?;
        let qmp_path = run_dir.join("qmp.sock");
        let _ = std::fs::remove_file(&qmp_path);
        let mut cmd = Command::new(image.arch.qemu);
        cmd.args(qemu_args_net(image, &qmp_path, net));
        if let Some(t) = template {
            cmd.arg("-incoming").arg(format!("file:{}", t.display()));
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} (is QEMU installed?)", image.arch.qemu))?;
        let stdin = child.stdin.take().context("qemu stdin")?;
        let stdout = child.stdout.take().context("qemu stdout")?;
        let qmp = Qmp::connect(&qmp_path, Duration::from_secs(20)).await?;
        let mut vm = Vm {
            child,
            stdin,
            stdout,
            qmp,
            buf: Vec::new(),
            run_dir: run_dir.to_path_buf(),
            started: Instant::now(),
        };
        if template.is_some() {
            // Never type into the UART before the restored VM runs.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let s = vm.qmp.status().await?;
                if s == "running" {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("restored VM not running (status {s})");
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // The guest's clock stopped when the template was saved.
            vm.set_clock().await?;
        } else {
            vm.wait_for(READY, Duration::from_secs(120)).await?;
            vm.sync().await?;
        }
        Ok(vm)
    }

    /// Read until `needle` appears; what came before it is dropped.
    async fn wait_for(&mut self, needle: &[u8], within: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(i) = find(&self.buf, needle) {
                self.buf.drain(..i + needle.len());
                return Ok(());
            }
            let mut tmp = [0u8; 4096];
            let n = tokio::time::timeout_at(deadline, self.stdout.read(&mut tmp))
                .await
                .with_context(|| format!("waiting for {:?}", String::from_utf8_lossy(needle)))??;
            if n == 0 {
                bail!("QEMU exited while booting");
            }
            self.buf.extend_from_slice(&tmp[..n]);
            if self.buf.len() > MAX_OUTPUT {
                let cut = self.buf.len() - needle.len();
                self.buf.drain(..cut);
            }
        }
    }

    /// Run one command line in the guest's shell.
    pub async fn run(&mut self, command: &[u8], timeout: Duration) -> Result<Answer, RunError> {
        let nonce = format!("{:016x}", fastrand::u64(..));
        // Printable commands go as one single-quoted eval (no process
        // started to decode them); anything else (control bytes would act
        // on the guest's tty, newlines end lines) goes base64-encoded.
        if command.len() < LINE_CHUNK && command.iter().all(|b| (0x20..0x7f).contains(b)) {
            let mut line = b"eval '".to_vec();
            for &b in command {
                if b == b'\'' {
                    line.extend_from_slice(b"'\\''");
                } else {
                    line.push(b);
                }
            }
            line.extend_from_slice(
                format!("' </dev/null; printf '\\n__IOTBOX_{nonce}_%d__\\n' $?\n").as_bytes(),
            );
            self.stdin.write_all(&line).await?;
            self.stdin.flush().await?;
            return self.answer(&nonce, timeout).await;
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(command);
        // Long commands go in pieces, each acknowledged before the next:
        // the guest tty holds 4 KiB of input at most.
        let chunks: Vec<&[u8]> = b64.as_bytes().chunks(LINE_CHUNK).collect();
        let ack = format!("__IOTBOX_{nonce}_k__");
        let mut line = String::from("_b=\n");
        for (i, chunk) in chunks.iter().enumerate() {
            let chunk = std::str::from_utf8(chunk).unwrap_or("");
            let assign = if i == 0 {
                format!("_b={chunk}")
            } else {
                format!("_b=\"${{_b}}{chunk}\"")
            };
            if i + 1 < chunks.len() {
                let l = format!("{assign}; printf '{ack}\\n'\n");
                self.stdin.write_all(l.as_bytes()).await?;
                let done = format!("{ack}\n");
                if self.wait_for(done.as_bytes(), timeout).await.is_err() {
                    return Err(RunError::Timeout {
                        partial: Vec::new(),
                    });
                }
            } else {
                line = format!("{assign}\n");
            }
        }
        line.push_str(&format!(
            "eval \"$(echo \"$_b\" | base64 -d)\" </dev/null; printf '\\n__IOTBOX_{nonce}_%d__\\n' $?\n"
        ));
        self.stdin.write_all(line.as_bytes()).await?;
        self.stdin.flush().await?;
        self.answer(&nonce, timeout).await
    }

    /// Read the answer up to the marker of `nonce`.
    async fn answer(&mut self, nonce: &str, timeout: Duration) -> Result<Answer, RunError> {
        let marker = format!("\n__IOTBOX_{nonce}_");
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(i) = find(&self.buf, marker.as_bytes()) {
                let rest = &self.buf[i + marker.len()..];
                if let Some(end) = find(rest, b"__\n") {
                    let status = std::str::from_utf8(&rest[..end])
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(-1);
                    let output = self.buf[..i].to_vec();
                    self.buf.drain(..i + marker.len() + end + 3);
                    return Ok(Answer { output, status });
                }
            }
            if let Some(i) = find(&self.buf, READY) {
                let partial = self.buf[..i].to_vec();
                self.buf.drain(..i + READY.len());
                // The new shell's banner is not anybody's output.
                let _ = self.sync().await;
                return Err(RunError::ShellRestarted { partial });
            }
            let mut tmp = [0u8; 8192];
            let read = tokio::time::timeout_at(deadline, self.stdout.read(&mut tmp)).await;
            match read {
                Err(_) => {
                    let partial = std::mem::take(&mut self.buf);
                    self.interrupt().await;
                    return Err(RunError::Timeout { partial });
                }
                Ok(Ok(0)) => return Err(RunError::Exited),
                Ok(Ok(n)) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    if self.buf.len() > MAX_OUTPUT {
                        // Keep the tail (where the marker will be).
                        let cut = self.buf.len() - MAX_OUTPUT / 2;
                        self.buf.drain(..cut);
                    }
                }
                Ok(Err(e)) => return Err(RunError::Io(e)),
            }
        }
    }

    /// Set the guest's clock to the host's.
    pub async fn set_clock(&mut self) -> anyhow::Result<()> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.run(
            format!("date -s @{now} >/dev/null").as_bytes(),
            Duration::from_secs(30),
        )
        .await
        .map_err(|e| anyhow::anyhow!("setting the guest clock: {e}"))?;
        Ok(())
    }

    /// ^C, then find the shell again.
    async fn interrupt(&mut self) {
        let _ = self.stdin.write_all(b"\x03").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = self.sync().await;
    }

    /// Send a fresh marker and drop everything up to it: the shell is
    /// waiting for a command and nothing stale is left.
    async fn sync(&mut self) -> anyhow::Result<()> {
        let nonce = format!("{:016x}", fastrand::u64(..));
        let line = format!("printf '\\n__IOTBOX_{nonce}_s__\\n'\n");
        self.stdin.write_all(line.as_bytes()).await?;
        let done = format!("__IOTBOX_{nonce}_s__\n");
        self.wait_for(done.as_bytes(), Duration::from_secs(10))
            .await
    }

    /// Save the running machine's state to `path` (a template that
    /// `Vm::start` restores). The machine stays paused afterwards.
    pub async fn save(&mut self, path: &Path) -> anyhow::Result<()> {
        let _ = std::fs::remove_file(path);
        self.qmp
            .execute(
                "migrate",
                serde_json::json!({"uri": format!("file:{}", path.display())}),
            )
            .await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self
                .qmp
                .execute("query-migrate", serde_json::json!({}))
                .await?;
            match r["status"].as_str().unwrap_or("") {
                "completed" => return Ok(()),
                "failed" | "cancelled" => bail!("saving the VM failed: {r}"),
                _ if Instant::now() > deadline => bail!("saving the VM timed out"),
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// Resident memory of the QEMU process, KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        let pid = self.child.id()?;
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_file(self.run_dir.join("qmp.sock"));
    }

    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}
