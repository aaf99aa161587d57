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
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

/// What a guest printed for one command, and its exit status.
pub use iotpot_core::answer::Answer;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No marker within the deadline: the command was interrupted (^C).
    #[error("timeout")]
    Timeout { partial: Vec<u8> },
    /// The control shell died (`exit`, `kill $$`): init started a new one;
    /// the session's shell state is gone.
    #[error("shell restarted")]
    ShellRestarted { partial: Vec<u8> },
    /// QEMU is gone (the guest rebooted or panicked, or QEMU failed): why,
    /// in QEMU's words.
    #[error("{0}")]
    Exited(String),
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
    stderr: StderrTail,
    qemu: &'static str,
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
                // romfile=: no option ROM (a sandbox never boots from the
                // network), so no firmware package is needed for the NIC.
                "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile={}",
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
        let qemu = image.arch.qemu;
        let mut cmd = Command::new(qemu);
        cmd.args(qemu_args_net(image, &qmp_path, net));
        if let Some(t) = template {
            cmd.arg("-incoming").arg(format!("file:{}", t.display()));
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| spawn_error(image, e))?;
        let stdin = child.stdin.take().context("qemu stdin")?;
        let stdout = child.stdout.take().context("qemu stdout")?;
        let stderr = StderrTail::collect(child.stderr.take());
        let qmp = match Qmp::connect(&qmp_path, Duration::from_secs(20)).await {
            Ok(q) => q,
            Err(e) => return Err(failure(&mut child, &stderr, qemu, e).await),
        };
        let mut vm = Vm {
            child,
            stdin,
            stdout,
            stderr,
            qemu,
            qmp,
            buf: Vec::new(),
            run_dir: run_dir.to_path_buf(),
            started: Instant::now(),
        };
        match vm.boot(template.is_some()).await {
            Ok(()) => Ok(vm),
            Err(e) => Err(failure(&mut vm.child, &vm.stderr, qemu, e).await),
        }
    }

    /// Wait until a restored machine runs (and set its clock), or a booted
    /// one's shell is ready.
    async fn boot(&mut self, restored: bool) -> anyhow::Result<()> {
        if restored {
            // Never type into the UART before the restored VM runs.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let s = self.qmp.status().await?;
                if s == "running" {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("restored VM not running (status {s})");
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // The guest's clock stopped when the template was saved.
            self.set_clock().await
        } else {
            self.wait_for(READY, Duration::from_secs(120)).await?;
            self.sync().await
        }
    }

    /// Why QEMU is gone: its exit status and the last lines it wrote.
    pub async fn exit_reason(&mut self) -> String {
        exit_reason(&mut self.child, &self.stderr, self.qemu).await
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
                bail!("QEMU closed its console");
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
                Ok(Ok(0)) => return Err(RunError::Exited(self.exit_reason().await)),
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
        let now = iotpot_core::clock::unix_now();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_messages_fit_one_line() {
        let err = b"qemu-system-mipsel: warning: x\n\nqemu-system-mipsel: -device virtio-net-pci,netdev=n0: failed to find romfile \"efi-virtio.rom\"\n";
        assert_eq!(
            last_lines(err, 1),
            "qemu-system-mipsel: -device virtio-net-pci,netdev=n0: failed to find romfile \"efi-virtio.rom\""
        );
        assert_eq!(last_lines(b"a\nb\x1b[2J\nc\n", 2), "b?[2J | c");
        assert_eq!(last_lines(b"", 3), "");
    }
}

/// See [`crate::host::dry_start`].
pub(crate) async fn dry_start(image: &Image, run_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(run_dir)?;
    let qmp_path = run_dir.join("qmp.sock");
    let net = run_dir.join("net.sock");
    let _ = std::fs::remove_file(&qmp_path);
    let _ = std::fs::remove_file(&net);
    // The NIC's other end (nobody reads it: the machine never runs).
    let _listener = tokio::net::UnixListener::bind(&net)?;
    let qemu = image.arch.qemu;
    let mut child = Command::new(qemu)
        .args(qemu_args_net(image, &qmp_path, Some(&net)))
        .arg("-S")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| spawn_error(image, e))?;
    let stderr = StderrTail::collect(child.stderr.take());
    // The monitor answers once the machine is made (devices realized,
    // firmware and ROMs loaded); a failure there ends QEMU.
    let made = async {
        let mut qmp = Qmp::connect(&qmp_path, Duration::from_secs(20)).await?;
        qmp.status().await?;
        let _ = qmp.execute("quit", serde_json::json!({})).await;
        anyhow::Ok(())
    }
    .await;
    let result = match made {
        Ok(()) => Ok(()),
        Err(e) => Err(failure(&mut child, &stderr, qemu, e).await),
    };
    let _ = child.kill().await;
    let _ = std::fs::remove_file(&qmp_path);
    let _ = std::fs::remove_file(&net);
    result
}

/// The last bytes QEMU wrote to stderr (its own messages: a missing ROM, a
/// template that does not load...), kept for the error a user sees.
#[derive(Clone, Default)]
struct StderrTail {
    kept: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    /// Done when QEMU closed its stderr (it exited).
    reader: Option<std::sync::Arc<tokio::sync::Notify>>,
    closed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Bytes of QEMU's stderr kept (the end).
const STDERR_KEPT: usize = 4096;

impl StderrTail {
    fn collect(pipe: Option<ChildStderr>) -> StderrTail {
        let mut tail = StderrTail::default();
        let Some(mut pipe) = pipe else {
            return tail;
        };
        let done = std::sync::Arc::new(tokio::sync::Notify::new());
        tail.reader = Some(done.clone());
        let (kept, closed) = (tail.kept.clone(), tail.closed.clone());
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let mut k = kept.lock().unwrap_or_else(|e| e.into_inner());
                k.extend_from_slice(&buf[..n]);
                if k.len() > STDERR_KEPT {
                    let cut = k.len() - STDERR_KEPT;
                    k.drain(..cut);
                }
            }
            closed.store(true, std::sync::atomic::Ordering::SeqCst);
            done.notify_one();
        });
        tail
    }

    /// Everything QEMU wrote is in (it closed stderr), or a moment passed.
    async fn settle(&self) {
        if let Some(done) = &self.reader {
            if !self.closed.load(std::sync::atomic::Ordering::SeqCst) {
                let _ = tokio::time::timeout(Duration::from_millis(500), done.notified()).await;
            }
        }
    }

    /// The last lines, on one line (`" | "` between them), printable.
    fn last_lines(&self, n: usize) -> String {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        last_lines(&kept, n)
    }
}

/// The last `n` non-empty lines of `text` joined with `" | "`; control
/// characters become `?`.
fn last_lines(text: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(text);
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            l.trim()
                .chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect::<String>()
        })
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// Starting QEMU failed: a missing binary names its package.
fn spawn_error(image: &Image, e: std::io::Error) -> anyhow::Error {
    let a = image.arch;
    if e.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!(
            "{} is not installed: install the Debian package {} from bookworm-backports \
             (apt-get install -t bookworm-backports {})",
            a.qemu,
            a.qemu_package(),
            a.qemu_package()
        )
    } else {
        anyhow::anyhow!("starting {}: {e}", a.qemu)
    }
}

/// Why QEMU is gone (or, if it still runs, what it said): its exit status
/// and the last lines of its stderr, on one line.
async fn exit_reason(child: &mut Child, stderr: &StderrTail, qemu: &str) -> String {
    let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
    stderr.settle().await;
    let said = stderr.last_lines(3);
    let how = match status {
        Ok(Ok(s)) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
            (Some(code), _) => format!("{qemu} exited with status {code}"),
            (None, Some(sig)) => format!("{qemu} was killed by signal {sig}"),
            _ => format!("{qemu} exited"),
        },
        _ => format!("{qemu} stopped answering"),
    };
    if said.is_empty() {
        format!("{how} (it printed nothing)")
    } else {
        format!("{how}: {said}")
    }
}

/// A sandbox that did not come up: when QEMU is gone, its own reason
/// (the error seen on this side, "connection reset", says nothing); when it
/// still runs, the error seen here and what QEMU printed, and it is killed.
async fn failure(
    child: &mut Child,
    stderr: &StderrTail,
    qemu: &str,
    e: anyhow::Error,
) -> anyhow::Error {
    let gone = tokio::time::timeout(Duration::from_millis(300), child.wait())
        .await
        .is_ok();
    if gone {
        return anyhow::anyhow!("{}", exit_reason(child, stderr, qemu).await);
    }
    let _ = child.kill().await;
    stderr.settle().await;
    let said = stderr.last_lines(3);
    if said.is_empty() {
        e
    } else {
        anyhow::anyhow!("{e:#} ({qemu} said: {said})")
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}
