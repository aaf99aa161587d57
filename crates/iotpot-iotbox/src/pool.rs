//! The backend of the responder chain (design.md §1): BusyBox applets the
//! emulation does not implement are answered by a QEMU sandbox of the
//! profile's architecture (IoTBOX), and the answers are learned, so the
//! next identical command is answered here without a sandbox.
//!
//! Sandboxes come from one pool per architecture: restored from a snapshot
//! template (a clean machine every time), one kept ready as a spare, one
//! bound to a session for the session's life (its `cd` and files persist),
//! reset after `max_commands` commands or `max_minutes`, and destroyed when
//! the session ends. Everything is bounded by `max_vms`; when the pool is
//! exhausted or a sandbox fails, the emulation answers and the event says so.

use crate::{template, BoxArch, Image, RunError, Vm};
use iotpot_core::answer::{Answer, Learned, Question};
use iotpot_core::config::IotboxConfig;
use iotpot_core::profile::Profile;
use iotpot_core::sample::sha256_hex;
use iotpot_core::EventKind;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most output kept from a sandbox's answer (and in the event); longer
/// answers are relayed but not learned.
const MAX_ANSWER: usize = 64 * 1024;
/// Answers the table holds at most (past that, nothing new is learned).
const MAX_LEARNED: usize = 50_000;

type Key = (String, String, Option<String>);

/// A sandbox architecture's pool.
struct Pool {
    image: Image,
    /// `None`: the machine boots cold (see `BoxArch::snapshot`).
    template: Option<PathBuf>,
    run_root: PathBuf,
    spare: tokio::sync::Mutex<Vec<Vm>>,
    spares: usize,
    seq: AtomicU64,
    /// A refill is under way (one at a time: never more spares than asked).
    refilling: std::sync::atomic::AtomicBool,
    /// The last time QEMU failed to start a sandbox, and why: for a while
    /// no new one is tried (a broken template must not cost a QEMU start
    /// per command).
    failed: Mutex<Option<(Instant, String)>>,
}

/// How long after a failed start no sandbox of that pool is tried.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

pub struct Backend {
    cfg: IotboxConfig,
    never: Arc<HashSet<String>>,
    pools: Mutex<HashMap<&'static str, Arc<Pool>>>,
    /// Why an architecture has no pool: its image, or its template failed
    /// (QEMU's own words), or it is still being made.
    missing: Mutex<HashMap<&'static str, String>>,
    live: Arc<AtomicUsize>,
    learned: Mutex<HashMap<Key, Learned>>,
}

/// A session's sandbox (a session holds it boxed: idle sessions without
/// one carry a pointer, not the lease).
pub struct Lease {
    /// Its name in events (`mipsel/vm3`): a reset shows as a new name.
    name: String,
    vm: Option<Vm>,
    pool: Arc<Pool>,
    commands: u32,
    /// Answers this session had checked for learning (the budget is
    /// `max_learn`).
    learning: u32,
    since: Instant,
    /// The sandbox's own strings -> the persona's (kernel, BusyBox).
    rewrites: Vec<(Vec<u8>, Vec<u8>)>,
}

/// What would give the sandbox away in an answer, and the persona's
/// version of it: the kernel release and version of the Debian kernel, the
/// BusyBox banner of Debian's build.
async fn disguise(vm: &mut Vm, p: &Profile) -> Vec<(Vec<u8>, Vec<u8>)> {
    let t = Duration::from_secs(10);
    let mut out = Vec::new();
    let ask = |a: Result<Answer, RunError>| {
        a.ok()
            .map(|a| String::from_utf8_lossy(&a.output).trim_end().to_string())
            .filter(|s| !s.is_empty())
    };
    let s = &p.system;
    if let Some(v) = ask(vm.run(b"uname -v", t).await) {
        out.push((v.into_bytes(), s.kernel_version.clone().into_bytes()));
    }
    if let Some(r) = ask(vm.run(b"uname -r", t).await) {
        out.push((r.into_bytes(), s.kernel_release.clone().into_bytes()));
    }
    // "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)" -> the persona's.
    if let Some(b) = ask(vm.run(b"busybox | head -n 1", t).await) {
        if let Some(end) = b.find(')') {
            out.push((
                b.as_bytes()[..=end].to_vec(),
                s.busybox.clone().into_bytes(),
            ));
        }
    }
    out
}

fn rewrite(mut bytes: Vec<u8>, rewrites: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    for (from, to) in rewrites {
        if from.is_empty() {
            continue;
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i..].starts_with(from) {
                out.extend_from_slice(to);
                i += from.len();
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        bytes = out;
    }
    bytes
}

/// The argv as a shell command line (single-quoted words).
fn quoted(argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'\'');
        for &b in a {
            if b == b'\'' {
                out.extend_from_slice(b"'\\''");
            } else {
                out.push(b);
            }
        }
        out.push(b'\'');
    }
    out
}

impl Backend {
    /// A backend over the images in `images` of the architectures in
    /// `archs` (those the listeners' devices have; only they get spares,
    /// so unused images never take a share of `max_vms`); the templates are
    /// made in the background (a cold boot each), and until an
    /// architecture's is ready its commands fall back to the emulation.
    pub fn start(
        cfg: &IotboxConfig,
        images: &Path,
        run_root: &Path,
        learned: Vec<Learned>,
        archs: &[iotpot_core::Arch],
    ) -> Arc<Backend> {
        let backend = Arc::new(Backend {
            cfg: cfg.clone(),
            never: Arc::new(cfg.never.iter().cloned().collect()),
            pools: Mutex::new(HashMap::new()),
            missing: Mutex::new(HashMap::new()),
            live: Arc::new(AtomicUsize::new(0)),
            learned: Mutex::new(
                learned
                    .into_iter()
                    .map(|l| {
                        (
                            (l.profile.clone(), l.command.clone(), l.stdin_sha256.clone()),
                            l,
                        )
                    })
                    .collect(),
            ),
        });
        let mut built: Vec<Image> = Vec::new();
        for a in crate::ARCHES.iter().filter(|a| archs.contains(&a.arch)) {
            let why = match Image::load(images, a, true) {
                Ok(i) => {
                    built.push(i);
                    format!("the {} template is still being made", a.name())
                }
                Err(e) => format!("{e:#}"),
            };
            backend.set_missing(a.name(), why);
        }
        if built.is_empty() {
            tracing::info!(images = %images.display(), archs = ?archs, "no IoTBOX image for the listeners' architectures: unknown commands are answered by the emulation alone (iotpot box build)");
            return backend;
        }
        let b = backend.clone();
        let run_root = run_root.to_path_buf();
        tokio::spawn(async move {
            for image in built {
                let arch = image.arch.name();
                let started = Instant::now();
                match template::ensure(&image, &run_root.join(arch)).await {
                    Ok(t) => {
                        let pool = Arc::new(Pool {
                            image,
                            template: t,
                            run_root: run_root.join(arch),
                            spare: tokio::sync::Mutex::new(Vec::new()),
                            spares: b.cfg.spares,
                            seq: AtomicU64::new(0),
                            refilling: Default::default(),
                            failed: Mutex::new(None),
                        });
                        b.pools
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(arch, pool.clone());
                        b.missing
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(arch);
                        b.refill(pool);
                        tracing::info!(
                            arch,
                            seconds = started.elapsed().as_secs_f64(),
                            "IoTBOX sandbox ready"
                        );
                    }
                    Err(e) => {
                        let why = format!("cannot make the {arch} template: {e:#}");
                        tracing::warn!(arch, error = %format!("{e:#}"), "IoTBOX: cannot make this architecture's template; its commands are emulated");
                        b.set_missing(arch, why);
                    }
                }
            }
        });
        backend
    }

    /// Applets never asked of the backend.
    pub fn never(&self) -> Arc<HashSet<String>> {
        self.never.clone()
    }

    fn set_missing(&self, arch: &'static str, why: String) {
        self.missing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(arch, why);
    }

    /// The pool of `arch`, or why there is none.
    fn pool(&self, arch: iotpot_core::Arch) -> Result<Arc<Pool>, String> {
        let a = BoxArch::for_arch(arch).ok_or_else(|| format!("no {arch} sandboxes"))?;
        if let Some(p) = self
            .pools
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(a.name())
        {
            return Ok(p.clone());
        }
        Err(self
            .missing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(a.name())
            .cloned()
            .unwrap_or_else(|| format!("no {} image", a.name())))
    }

    /// Keep the pool's spares restored, within `max_vms`.
    fn refill(self: &Arc<Self>, pool: Arc<Pool>) {
        if pool.refilling.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            while pool.spare.lock().await.len() < pool.spares {
                let Ok(vm) = me.restore(&pool).await else {
                    break;
                };
                pool.spare.lock().await.push(vm);
            }
            pool.refilling.store(false, Ordering::SeqCst);
        });
    }

    /// A fresh sandbox from the template, if `max_vms` allows; or why not.
    async fn restore(&self, pool: &Pool) -> Result<Vm, NoSandbox> {
        if let Some((at, why)) = &*pool.failed.lock().unwrap_or_else(|e| e.into_inner()) {
            if at.elapsed() < RETRY_AFTER_FAILURE {
                return Err(NoSandbox::Failed(why.clone()));
            }
        }
        if self.live.fetch_add(1, Ordering::SeqCst) >= self.cfg.max_vms {
            self.live.fetch_sub(1, Ordering::SeqCst);
            return Err(NoSandbox::Busy(format!(
                "max_vms reached: {} sandboxes already run",
                self.cfg.max_vms
            )));
        }
        let n = pool.seq.fetch_add(1, Ordering::Relaxed);
        let dir = pool.run_root.join(format!("vm{n}"));
        match Vm::start(&pool.image, &dir, pool.template.as_deref()).await {
            Ok(vm) => Ok(vm),
            Err(e) => {
                self.live.fetch_sub(1, Ordering::SeqCst);
                let why = format!("{e:#}");
                tracing::warn!(arch = pool.image.arch.name(), error = %why, "IoTBOX: starting a sandbox failed");
                let why = format!(
                    "starting a {} sandbox failed: {why}",
                    pool.image.arch.name()
                );
                *pool.failed.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((Instant::now(), why.clone()));
                Err(NoSandbox::Failed(why))
            }
        }
    }

    /// Destroy a sandbox (its changes with it) and restore a spare.
    fn discard(self: &Arc<Self>, pool: Arc<Pool>, vm: Vm) {
        let me = self.clone();
        tokio::spawn(async move {
            let dir = vm.run_dir.clone();
            vm.kill().await;
            let _ = std::fs::remove_dir_all(dir);
            me.live.fetch_sub(1, Ordering::SeqCst);
            me.refill(pool);
        });
    }

    /// End a session's lease: its sandbox is destroyed.
    pub fn release(self: &Arc<Self>, lease: Option<Box<Lease>>) {
        if let Some(mut l) = lease {
            if let Some(vm) = l.vm.take() {
                self.discard(l.pool.clone(), vm);
            }
        }
    }

    /// Answer `q` for a session of the device `p` (a persona's profile):
    /// from the learned table, or from the session's sandbox (leased now if
    /// it has none). The answer, and its event.
    pub async fn answer(
        self: &Arc<Self>,
        lease: &mut Option<Box<Lease>>,
        p: &Profile,
        q: &Question,
    ) -> (Answer, EventKind) {
        let (profile, arch) = (p.name.as_str(), p.arch.name());
        let started = Instant::now();
        let stdin_sha256 = (!q.stdin.is_empty()).then(|| sha256_hex(&q.stdin));
        let key: Key = (profile.to_string(), q.command.clone(), stdin_sha256.clone());
        let event = |source: &str,
                     a: &Answer,
                     learned: bool,
                     volatile: bool,
                     sandbox: Option<String>,
                     reason: Option<String>| EventKind::IotboxAnswer {
            profile: profile.to_string(),
            command: q.command.clone(),
            stdin_sha256: stdin_sha256.clone(),
            source: source.to_string(),
            arch: arch.to_string(),
            status: a.status as i64,
            output: hex::encode(&a.output[..a.output.len().min(MAX_ANSWER)]),
            learned,
            volatile,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            sandbox,
            reason,
        };
        let known = self
            .learned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(l) = known.filter(|l| !l.volatile) {
            let a = l.answer;
            let e = event("learned", &a, false, false, None, None);
            return (a, e);
        }
        let first = match self.ask_sandbox(lease, p, q).await {
            Ok(a) => a,
            Err(why) => {
                let fallback = Answer {
                    output: Vec::new(),
                    status: 0,
                };
                let e = event("unavailable", &fallback, false, false, None, Some(why));
                return (fallback, e);
            }
        };
        let sandbox = lease.as_ref().map(|l| l.name.clone());
        // A table of bounded size, of answers of bounded size; a session
        // may only make so many checks (each costs a clean sandbox).
        let room = first.output.len() <= MAX_ANSWER
            && self.learned.lock().unwrap_or_else(|e| e.into_inner()).len() < MAX_LEARNED;
        let budget = match lease.as_mut() {
            Some(l) if l.learning < self.cfg.max_learn => {
                l.learning += 1;
                true
            }
            _ => false,
        };
        if !room || !budget {
            let e = event("iotbox", &first, false, false, sandbox, None);
            return (first, e);
        }
        // Asked again, and asked of a clean sandbox: an answer that changes
        // with time or with what the session did is never replayed (nor is
        // an interrupted command's, status 130).
        let second = self.ask_sandbox(lease, p, q).await.ok();
        let mut volatile = second.as_ref() != Some(&first) || first.status == 130;
        if !volatile {
            if let Ok(clean) = self.ask_clean(p, q).await {
                volatile = clean != first;
            }
        }
        self.learned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                key,
                Learned {
                    profile: profile.to_string(),
                    command: q.command.clone(),
                    stdin_sha256: stdin_sha256.clone(),
                    answer: first.clone(),
                    volatile,
                },
            );
        let e = event("iotbox", &first, !volatile, volatile, sandbox, None);
        (first, e)
    }

    /// Run `q` in the session's sandbox; or why no sandbox could.
    async fn ask_sandbox(
        self: &Arc<Self>,
        lease: &mut Option<Box<Lease>>,
        p: &Profile,
        q: &Question,
    ) -> Result<Answer, String> {
        let pool = self.pool(p.arch)?;
        // The reset policy: a sandbox serves a session for so many commands
        // or minutes, then a clean one takes over.
        // The learning budget is the session's: a reset does not renew it.
        let learning = lease.as_ref().map_or(0, |l| l.learning);
        if let Some(l) = lease.as_ref() {
            if l.commands >= self.cfg.max_commands
                || l.since.elapsed() >= Duration::from_secs_f64(self.cfg.max_minutes * 60.0)
                || l.vm.is_none()
            {
                self.release(lease.take());
            }
        }
        if lease.is_none() {
            let (vm, rewrites) = self.fresh(&pool, p).await?;
            *lease = Some(Box::new(Lease {
                name: sandbox_name(&vm),
                vm: Some(vm),
                pool: pool.clone(),
                commands: 0,
                learning,
                since: Instant::now(),
                rewrites,
            }));
        }
        let l = lease.as_mut().ok_or("no sandbox")?;
        let vm = l.vm.as_mut().ok_or("no sandbox")?;
        l.commands += 1;
        match self.run_question(vm, &l.rewrites, q).await {
            Ok(a) => Ok(a),
            Err(why) => {
                if let Some(vm) = l.vm.take() {
                    self.discard(l.pool.clone(), vm);
                }
                Err(why)
            }
        }
    }

    /// Run `q` in a clean sandbox (then destroyed): what a device that no
    /// attacker has touched answers.
    async fn ask_clean(self: &Arc<Self>, p: &Profile, q: &Question) -> Result<Answer, String> {
        let pool = self.pool(p.arch)?;
        let (mut vm, rewrites) = self.fresh(&pool, p).await?;
        let a = self.run_question(&mut vm, &rewrites, q).await;
        self.discard(pool, vm);
        a
    }

    /// A restored sandbox wearing the persona: the spare, or a new one;
    /// when neither is possible yet (a spare still restoring, max_vms
    /// reached), wait a little; then say why there is none.
    async fn fresh(
        self: &Arc<Self>,
        pool: &Arc<Pool>,
        p: &Profile,
    ) -> Result<(Vm, Vec<(Vec<u8>, Vec<u8>)>), String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let vm = loop {
            if let Some(vm) = pool.spare.lock().await.pop() {
                break Ok(vm);
            }
            match self.restore(pool).await {
                Ok(vm) => break Ok(vm),
                // QEMU failed: trying again at once would fail the same way.
                Err(NoSandbox::Failed(why)) => break Err(why),
                Err(NoSandbox::Busy(why)) if Instant::now() >= deadline => break Err(why),
                Err(NoSandbox::Busy(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.refill(pool.clone());
        let mut vm = vm?;
        let mut cmd = b"hostname ".to_vec();
        cmd.extend_from_slice(&quoted(&[p.system.hostname.as_bytes().to_vec()]));
        let _ = vm.run(&cmd, Duration::from_secs(10)).await;
        let rewrites = disguise(&mut vm, p).await;
        Ok((vm, rewrites))
    }

    /// `q` in `vm`, its stdin piped in; why not, when the sandbox is lost
    /// (QEMU exited). An interrupted command answers what it printed, with
    /// status 130.
    async fn run_question(
        &self,
        vm: &mut Vm,
        rewrites: &[(Vec<u8>, Vec<u8>)],
        q: &Question,
    ) -> Result<Answer, String> {
        let mut line = Vec::new();
        if !q.stdin.is_empty() {
            use base64::Engine;
            line.extend_from_slice(b"echo ");
            line.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(&q.stdin)
                    .as_bytes(),
            );
            line.extend_from_slice(b" | base64 -d | ");
        }
        line.extend_from_slice(&quoted(&q.argv));
        let timeout = Duration::from_secs(self.cfg.command_timeout.max(1));
        match vm.run(&line, timeout).await {
            Ok(a) => Ok(Answer {
                output: rewrite(a.output, rewrites),
                status: a.status,
            }),
            Err(RunError::Timeout { partial }) | Err(RunError::ShellRestarted { partial }) => {
                Ok(Answer {
                    output: rewrite(partial, rewrites),
                    status: 130,
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "IoTBOX: sandbox lost");
                Err(format!("sandbox lost: {e}"))
            }
        }
    }
}

/// Why no sandbox could be had.
enum NoSandbox {
    /// `max_vms` run already: one may be free in a moment.
    Busy(String),
    /// QEMU could not start one (its words).
    Failed(String),
}

/// A sandbox's name in events: its architecture and number (`mipsel/vm3`).
fn sandbox_name(vm: &Vm) -> String {
    let part = |p: Option<&std::ffi::OsStr>| {
        p.map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    format!(
        "{}/{}",
        part(vm.run_dir.parent().and_then(|p| p.file_name())),
        part(vm.run_dir.file_name())
    )
}
