//! A BusyBox-like shell for emulated devices, pure: it never performs I/O.
//!
//! [`Shell::run_line`] parses one command line, runs it against the session's
//! virtual filesystem ([`vfs`]) and the persona's device ([`system`]), and
//! returns an [`Outcome`]: the bytes the terminal shows and the [`Effect`]s the
//! caller acts on (record a download, keep a dropped file, forward an unknown
//! command). Nothing an attacker types is executed on the host; "running"
//! a dropped binary only records that it was run.
//!
//! Layout: [`parser`] (sh syntax), `exec` (expansion, redirections, control
//! flow), `applets/` (one file per BusyBox applet or ash builtin), [`vfs`]
//! (copy-on-write filesystem), [`system`] (what the device is).
//!
//! Every resource is bounded: commands per line, output per line, nesting
//! depth and filesystem bytes (see [`Limits`]).
//!
//! Not for: protocols (the Telnet session and the UDP backdoor that feed it
//! lines are in `iotpot-session`), fetching (a download is a request the
//! caller fulfils), or what a device is (its profile, in `iotpot-core`).

mod applets;
mod exec;
pub mod parser;
pub mod system;
pub mod usage;
pub mod vfs;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
pub use system::System;
use vfs::Vfs;

/// Something the caller must act on. The shell only describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A download command (`wget`, `curl`, `tftp`, `ftpget`, `nc`).
    Download {
        url: String,
        tool: Tool,
        /// Where the file was asked to go: a path, or `-` for stdout.
        dest: String,
    },
    /// A file the attacker created or changed is complete (it was executed,
    /// made executable, moved, or the session ended).
    FileWritten { path: String, bytes: Arc<Vec<u8>> },
    /// The attacker ran a file of its own. It was not executed.
    Executed {
        path: String,
        args: String,
        bytes: Option<Arc<Vec<u8>>>,
    },
    /// A command the emulation does not know.
    Unknown { command: String },
    /// A limit cut the line short.
    Limit { limit: &'static str, detail: String },
    /// `exit` / `logout`: the session should end.
    Exit,
}

/// The result of one line.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// What the terminal shows (LF line ends; the caller converts).
    pub output: Vec<u8>,
    pub effects: Vec<Effect>,
    /// The line needs this download before it can finish. Nothing of the
    /// line happened: fetch it, [`Shell::provide`] the result, and run the
    /// same line again (it replays from the same state).
    pub pending: Option<FetchRequest>,
    /// The line runs a command only the backend (a real device of the same
    /// architecture, IoTBOX) can answer. Nothing of the line happened: get
    /// the answer, [`Shell::provide_answer`] it, and run the line again.
    pub ask: Option<Question>,
    /// Milliseconds of `sleep` the line asked for. The shell does not
    /// wait; a caller answering timing checkers may.
    pub slept_ms: u64,
}

/// A command for the backend, and its answer (shared with IoTBOX).
pub use iotpot_core::answer::{Answer, Question};

/// Downloads as the attacker's tool sees them (shared with the downloader).
pub use iotpot_core::download::{FetchFailure, FetchRequest, FetchResult, Tool};

impl Outcome {
    pub fn exit(&self) -> bool {
        self.effects.contains(&Effect::Exit)
    }

    /// Whether every command in the line was known to the emulation.
    pub fn known(&self) -> bool {
        !self
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Unknown { .. }))
    }
}

/// Bounds on one shell.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of files the session may create.
    pub vfs_bytes: usize,
    /// Simple commands one line may run (loops included).
    pub steps_per_line: usize,
    /// Bytes of output one line may produce (and one pipe may carry).
    pub output_per_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            vfs_bytes: 16 << 20,
            steps_per_line: 20_000,
            output_per_line: 4 << 20,
        }
    }
}

/// One session's shell.
#[derive(Debug)]
pub struct Shell {
    sys: Arc<System>,
    vfs: Vfs,
    cwd: String,
    vars: HashMap<String, Vec<u8>>,
    status: i32,
    user: String,
    /// Started by a daemon's `system()` (`sh -c`) in this directory, not
    /// by a login: it is `$HOME`, and errors name the profile's shell
    /// without a login's `-` (`sh:`, not `-sh:`).
    daemon: Option<Box<str>>,
    /// Files changed since they were last reported.
    dirty: BTreeSet<String>,
    limits: Limits,
    /// Set per line.
    now: i64,
    run: exec::RunState,
    /// `$0`, `$1`... of the running script.
    args: Vec<Vec<u8>>,
    /// Whether downloads are really fetched (by the caller, through
    /// [`Outcome::pending`]); when off, tools answer as if offline.
    fetching: bool,
    /// Results provided for the line being run, by URL.
    fetched: HashMap<String, FetchResult>,
    /// Whether applets that are not emulated are asked of the backend
    /// (through [`Outcome::ask`]), and which never are.
    asking: bool,
    never_ask: Arc<std::collections::HashSet<String>>,
    /// Answers provided for the line being run.
    answers: HashMap<Question, Answer>,
}

/// The empty set of applets, shared (one allocation, not one per shell).
fn no_applets() -> Arc<std::collections::HashSet<String>> {
    static EMPTY: std::sync::OnceLock<Arc<std::collections::HashSet<String>>> =
        std::sync::OnceLock::new();
    EMPTY.get_or_init(Arc::default).clone()
}

impl Shell {
    pub fn new(sys: Arc<System>, user: &str, limits: Limits) -> Shell {
        let home = if user == "root" { "/root" } else { "/" };
        Shell {
            vfs: Vfs::new(sys.base.clone(), limits.vfs_bytes),
            sys,
            cwd: home.to_string(),
            vars: HashMap::new(),
            status: 0,
            user: user.to_string(),
            daemon: None,
            dirty: BTreeSet::new(),
            limits,
            now: 0,
            run: exec::RunState::default(),
            args: Vec::new(),
            fetching: false,
            fetched: HashMap::new(),
            asking: false,
            never_ask: no_applets(),
            answers: HashMap::new(),
        }
    }

    /// Be the shell a daemon's `system()` starts (`sh -c`): in the
    /// daemon's directory `dir`, which is also `$HOME` (not root's login
    /// directory), its errors prefixed as a shell that is not a login's
    /// (`sh:`, not `-sh:`).
    pub fn for_daemon(&mut self, dir: &str) {
        self.cwd = dir.to_string();
        self.daemon = Some(dir.into());
    }

    /// Ask the backend for applets this emulation does not implement
    /// (except those in `never`): lines that run one return
    /// [`Outcome::ask`] until it is [`Shell::provide_answer`]ed.
    pub fn enable_backend(&mut self, never: Arc<std::collections::HashSet<String>>) {
        self.asking = true;
        self.never_ask = never;
    }

    /// The backend's answer, for the next run of the same line.
    pub fn provide_answer(&mut self, q: Question, a: Answer) {
        self.answers.insert(q, a);
    }

    /// Ask for real downloads: lines that download return
    /// [`Outcome::pending`] until every URL has been [`Shell::provide`]d.
    pub fn enable_fetching(&mut self) {
        self.fetching = true;
    }

    /// The result of a pending fetch, for the next run of the same line.
    pub fn provide(&mut self, url: &str, result: FetchResult) {
        self.fetched.insert(url.to_string(), result);
    }

    /// Run one line typed at the prompt; `now` is the Unix time.
    pub fn run_line(&mut self, line: &[u8], now: i64) -> Outcome {
        // A line that turns out to need a download is replayed from here.
        let snapshot = (self.fetching || self.asking).then(|| Snapshot {
            vfs: self.vfs.clone(),
            cwd: self.cwd.clone(),
            vars: self.vars.clone(),
            status: self.status,
            dirty: self.dirty.clone(),
        });
        let mut outcome = self.run_line_once(line, now);
        let pending = self.run.pending.take();
        let ask = self.run.ask.take();
        if pending.is_some() || ask.is_some() {
            if let Some(s) = snapshot {
                self.vfs = s.vfs;
                self.cwd = s.cwd;
                self.vars = s.vars;
                self.status = s.status;
                self.dirty = s.dirty;
            }
            return Outcome {
                pending,
                ask,
                ..Outcome::default()
            };
        }
        self.fetched.clear();
        self.answers.clear();
        outcome.pending = None;
        outcome.ask = None;
        outcome
    }

    fn run_line_once(&mut self, line: &[u8], now: i64) -> Outcome {
        self.now = now;
        self.run = exec::RunState::new(self.limits);
        let mut outcome = Outcome::default();
        match parser::parse(line) {
            Ok(list) => {
                let mut stdin = exec::Stdin::default();
                let mut out = Vec::new();
                let mut err = Vec::new();
                let mut io = exec::Io {
                    stdin: &mut stdin,
                    out: &mut out,
                    err: &mut err,
                    out_tty: true,
                    err_tty: true,
                };
                self.exec_list(&list, &mut io);
                // Both streams are the terminal: everything is in order there.
                outcome.output = std::mem::take(&mut self.run.terminal);
            }
            Err(e) => {
                self.status = 2;
                outcome.output =
                    format!("{}: {}\n", self.shell_name(), e.ash_message()).into_bytes();
            }
        }
        outcome.effects = std::mem::take(&mut self.run.effects);
        outcome.slept_ms = self.run.slept_ms;
        outcome
    }

    /// Report every changed file not yet reported (call at session end).
    pub fn finish(&mut self) -> Vec<Effect> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .filter_map(|p| {
                let bytes = self.vfs.read(&p).ok()?;
                (!bytes.is_empty()).then_some(Effect::FileWritten { path: p, bytes })
            })
            .collect()
    }

    pub fn cwd(&self) -> &str {
        &self.cwd
    }

    pub fn system(&self) -> &System {
        &self.sys
    }

    /// A file of this session's device as it is now (what the attacker
    /// wrote over the device's own), `path` resolved from `/`; `None` when
    /// it is missing or not a file.
    pub fn read_file(&self, path: &str) -> Option<Arc<Vec<u8>>> {
        self.vfs.read(&vfs::normalize("/", path)).ok()
    }

    /// Write a file as the device's firmware would (its diagnostics
    /// output); false when the filesystem refuses (no such directory, the
    /// session's space used up).
    pub fn write_file(&mut self, path: &str, data: &[u8], now: i64) -> bool {
        self.vfs
            .write(&vfs::normalize("/", path), data, false, now)
            .is_ok()
    }

    /// Bytes this session's files use.
    pub fn vfs_used(&self) -> usize {
        self.vfs.used()
    }

    pub(crate) fn shell_name(&self) -> &str {
        let login = &self.sys.persona.profile.system.shell_name;
        match self.daemon {
            // The same shell, not as a login: `-sh` prints `sh`.
            Some(_) => login.trim_start_matches('-'),
            None => login,
        }
    }

    /// `$HOME` unless set: where `cd` alone goes.
    pub(crate) fn home(&self) -> &str {
        match &self.daemon {
            Some(dir) => dir,
            None if self.user == "root" => "/root",
            None => "/",
        }
    }
}

/// The downloads a script would make, found by running it in a scratch
/// shell of the same device with fetching off (so loops and variables are
/// expanded; nothing is fetched). Used to follow droppers the attacker
/// fetched but did not run.
pub fn script_downloads(sys: Arc<System>, script: &[u8], now: i64) -> Vec<(String, Tool)> {
    let limits = Limits {
        vfs_bytes: 1 << 20,
        steps_per_line: 5_000,
        output_per_line: 1 << 20,
    };
    let mut sh = Shell::new(sys, "root", limits);
    let outcome = sh.run_line(script, now);
    let mut urls: Vec<(String, Tool)> = Vec::new();
    for e in outcome.effects {
        if let Effect::Download { url, tool, .. } = e {
            if tool != Tool::Nc && !urls.iter().any(|(u, _)| *u == url) {
                urls.push((url, tool));
            }
        }
    }
    urls
}

/// The state a replayed line starts from again.
struct Snapshot {
    vfs: Vfs,
    cwd: String,
    vars: HashMap<String, Vec<u8>>,
    status: i32,
    dirty: BTreeSet<String>,
}

#[cfg(test)]
mod tests;
