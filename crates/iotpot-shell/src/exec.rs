//! Running a parsed line: expansion, redirections, pipelines, control flow,
//! and finding what a command name means on the device.

use crate::applets;
use crate::parser::{
    AndOr, Command, Compound, Connector, List, Pipeline, RedirOp, Redirect, Word, WordPart,
};
use crate::vfs::{self, Node};
use crate::{Effect, Limits, Shell};
use std::sync::Arc;

/// Deepest `sh script` / `$(...)` nesting at run time.
const MAX_RUN_DEPTH: usize = 8;
/// Downloads one line may really fetch; later ones time out.
pub(crate) const MAX_FETCHES_PER_LINE: usize = 32;
/// Longest value one shell variable holds.
pub(crate) const MAX_VAR: usize = 64 << 10;
/// Bytes all shell variables of a session hold.
pub(crate) const MAX_VARS_BYTES: usize = 256 << 10;

/// Per-line bookkeeping.
#[derive(Debug, Default)]
pub(crate) struct RunState {
    pub steps: usize,
    pub limits: Option<Limits>,
    pub effects: Vec<Effect>,
    /// Terminal output so far, in order.
    pub terminal: Vec<u8>,
    pub output_bytes: usize,
    /// Stop running (limit hit, or `exit`).
    pub abort: bool,
    /// `exit` inside a script: unwind to the script's caller.
    pub leave_script: bool,
    pub depth: usize,
    /// A download the line must wait for (see `Outcome::pending`).
    pub pending: Option<crate::FetchRequest>,
    /// Downloads asked for in this line.
    pub downloads: usize,
    /// A command the line must ask the backend (see `Outcome::ask`).
    pub ask: Option<crate::Question>,
    /// Backend questions in this line.
    pub asked: usize,
    /// Milliseconds the line's `sleep`s asked for (the shell never waits;
    /// a caller that times answers may).
    pub slept_ms: u64,
}

impl RunState {
    pub fn new(limits: Limits) -> RunState {
        RunState {
            limits: Some(limits),
            ..RunState::default()
        }
    }

    fn limits(&self) -> Limits {
        self.limits.unwrap_or_default()
    }
}

/// A command's standard input: bytes and a read position shared by every
/// command that reads it (so `read` in a loop consumes lines).
#[derive(Debug, Default)]
pub(crate) struct Stdin {
    pub data: Arc<Vec<u8>>,
    pub pos: usize,
}

impl Stdin {
    pub fn new(data: Arc<Vec<u8>>) -> Stdin {
        Stdin { data, pos: 0 }
    }

    /// The unread rest, consuming it.
    pub fn take_all(&mut self) -> &[u8] {
        let start = self.pos.min(self.data.len());
        self.pos = self.data.len();
        &self.data[start..]
    }

    /// One line without its newline; `None` at end of input.
    pub fn read_line(&mut self) -> Option<Vec<u8>> {
        let rest = self.data.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let end = rest.iter().position(|&c| c == b'\n');
        let line = rest[..end.unwrap_or(rest.len())].to_vec();
        self.pos += end.map(|e| e + 1).unwrap_or(rest.len());
        Some(line)
    }
}

/// Where a command's standard streams go.
pub(crate) struct Io<'a> {
    pub stdin: &'a mut Stdin,
    pub out: &'a mut Vec<u8>,
    pub err: &'a mut Vec<u8>,
    /// `out` / `err` are the terminal: write to [`RunState::terminal`].
    pub out_tty: bool,
    pub err_tty: bool,
}

#[derive(Debug, Clone)]
enum Target {
    Out,
    Err,
    File(String),
    Null,
}

impl Shell {
    /// Write to the command's stdout.
    pub(crate) fn out(&mut self, io: &mut Io, bytes: &[u8]) {
        let tty = io.out_tty;
        self.emit(bytes, tty, io.out);
    }

    /// BusyBox's usage text of `applet`, as this device's BusyBox words it.
    pub(crate) fn usage_text(&self, applet: &str) -> Vec<u8> {
        crate::usage::usage(&self.sys, applet).unwrap_or_else(|| {
            format!(
                "{}\n\nUsage: {applet}\n\n",
                crate::usage::first_line(&self.sys)
            )
            .into_bytes()
        })
    }

    /// Print `applet`'s usage on stderr, as BusyBox does when called
    /// wrongly; its exit status (1).
    pub(crate) fn usage(&mut self, io: &mut Io, applet: &str) -> i32 {
        let text = self.usage_text(applet);
        self.err(io, &text);
        1
    }

    /// Write to the command's stderr.
    pub(crate) fn err(&mut self, io: &mut Io, bytes: &[u8]) {
        let tty = io.err_tty;
        self.emit(bytes, tty, io.err);
    }

    fn emit(&mut self, bytes: &[u8], tty: bool, buf: &mut Vec<u8>) {
        let limit = self.run.limits().output_per_line;
        let room = limit.saturating_sub(self.run.output_bytes);
        let n = bytes.len().min(room);
        self.run.output_bytes += n;
        if tty {
            self.run.terminal.extend_from_slice(&bytes[..n]);
        } else {
            buf.extend_from_slice(&bytes[..n]);
        }
        if n < bytes.len() {
            self.limit_hit(
                "output_per_line",
                format!("more than {limit} bytes of output"),
            );
        }
    }

    pub(crate) fn limit_hit(&mut self, limit: &'static str, detail: String) {
        if !self.run.abort {
            self.run.effects.push(Effect::Limit { limit, detail });
        }
        self.run.abort = true;
    }

    /// `-sh: ` (the shell's name) + message, as ash prints errors.
    pub(crate) fn sh_error(&mut self, io: &mut Io, msg: &str) {
        let line = format!("{}: {msg}\n", self.shell_name());
        self.err(io, line.as_bytes());
    }

    pub(crate) fn now(&self) -> i64 {
        self.now
    }

    pub(crate) fn abs(&self, path: &[u8]) -> String {
        vfs::normalize(&self.cwd, &String::from_utf8_lossy(path))
    }

    pub(crate) fn exec_list(&mut self, list: &List, io: &mut Io) -> i32 {
        for item in &list.items {
            if self.run.abort || self.run.leave_script {
                break;
            }
            self.status = self.exec_and_or(item, io);
        }
        self.status
    }

    fn exec_and_or(&mut self, item: &AndOr, io: &mut Io) -> i32 {
        let mut status = self.exec_pipeline(&item.first, io);
        for (conn, p) in &item.rest {
            if self.run.abort || self.run.leave_script {
                break;
            }
            let run = match conn {
                Connector::And => status == 0,
                Connector::Or => status != 0,
            };
            if run {
                status = self.exec_pipeline(p, io);
            }
        }
        status
    }

    fn exec_pipeline(&mut self, p: &Pipeline, io: &mut Io) -> i32 {
        let n = p.commands.len();
        let mut status = 0;
        if n == 1 {
            status = self.exec_command(&p.commands[0], io);
        } else {
            let mut input: Option<Vec<u8>> = None;
            for (i, cmd) in p.commands.iter().enumerate() {
                if self.run.abort {
                    break;
                }
                let last = i + 1 == n;
                let mut pipe_in = Stdin::new(Arc::new(input.take().unwrap_or_default()));
                let mut pipe_out = Vec::new();
                let mut child = Io {
                    stdin: if i == 0 { &mut *io.stdin } else { &mut pipe_in },
                    out: if last { &mut *io.out } else { &mut pipe_out },
                    err: &mut *io.err,
                    out_tty: last && io.out_tty,
                    err_tty: io.err_tty,
                };
                status = self.exec_command(cmd, &mut child);
                input = Some(pipe_out);
            }
        }
        if p.negate {
            status = i32::from(status == 0);
        }
        self.status = status;
        status
    }

    fn exec_command(&mut self, cmd: &Command, io: &mut Io) -> i32 {
        match cmd {
            Command::Simple {
                assigns,
                words,
                redirects,
            } => {
                self.run.steps += 1;
                if self.run.steps > self.run.limits().steps_per_line {
                    let max = self.run.limits().steps_per_line;
                    self.limit_hit(
                        "steps_per_line",
                        format!("more than {max} commands in one line"),
                    );
                    return 1;
                }
                let argv = self.expand_words(words, io);
                for (name, value) in assigns {
                    let v = self.expand_single(value, io);
                    self.set_var(name, v);
                }
                if argv.is_empty() {
                    return self.with_redirects(redirects, io, |_, _| 0);
                }
                self.with_redirects(redirects, io, |sh, io| sh.run_argv(&argv, io))
            }
            Command::Compound { body, redirects } => {
                self.with_redirects(redirects, io, |sh, io| sh.exec_compound(body, io))
            }
        }
    }

    fn exec_compound(&mut self, body: &Compound, io: &mut Io) -> i32 {
        match body {
            Compound::Group(list) => self.exec_list(list, io),
            Compound::Subshell(list) => {
                let cwd = self.cwd.clone();
                let vars = self.vars.clone();
                let status = self.exec_list(list, io);
                self.cwd = cwd;
                self.vars = vars;
                status
            }
            Compound::While { cond, body, until } => {
                let mut status = 0;
                loop {
                    if self.run.abort || self.run.leave_script {
                        break;
                    }
                    let c = self.exec_list(cond, io);
                    if (c == 0) == *until {
                        break;
                    }
                    // An empty body would spin without spending steps.
                    self.run.steps += 1;
                    status = self.exec_list(body, io);
                }
                status
            }
            Compound::For { var, items, body } => {
                let values = match items {
                    Some(words) => self.expand_words(words, io),
                    None => self.args.iter().skip(1).cloned().collect(),
                };
                let mut status = 0;
                for v in values {
                    if self.run.abort || self.run.leave_script {
                        break;
                    }
                    self.run.steps += 1;
                    self.set_var(var, v);
                    status = self.exec_list(body, io);
                }
                status
            }
            Compound::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches {
                    if self.exec_list(cond, io) == 0 {
                        return self.exec_list(body, io);
                    }
                }
                match otherwise {
                    Some(list) => self.exec_list(list, io),
                    None => 0,
                }
            }
        }
    }

    /// Apply redirections around `f`.
    fn with_redirects(
        &mut self,
        redirects: &[Redirect],
        io: &mut Io,
        f: impl FnOnce(&mut Shell, &mut Io) -> i32,
    ) -> i32 {
        if redirects.is_empty() {
            return f(self, io);
        }
        let mut targets = [Target::Out, Target::Out, Target::Err];
        let mut new_stdin: Option<Stdin> = None;
        for r in redirects {
            let word = self.expand_single(&r.target, io);
            let fd = r.fd as usize;
            match r.op {
                RedirOp::Out | RedirOp::Append => {
                    let path = self.abs(&word);
                    let target = if path == "/dev/null" {
                        Target::Null
                    } else {
                        match self
                            .vfs
                            .write(&path, b"", r.op == RedirOp::Append, self.now)
                        {
                            Ok(real) => {
                                self.dirty.insert(real.clone());
                                Target::File(real)
                            }
                            Err(e) => {
                                let msg = format!(
                                    "can't create {}: {}",
                                    String::from_utf8_lossy(&word),
                                    e.text()
                                );
                                self.sh_error(io, &msg);
                                return 1;
                            }
                        }
                    };
                    if fd < 3 {
                        targets[fd] = target;
                    }
                }
                RedirOp::In => {
                    let path = self.abs(&word);
                    match self.vfs.read(&path) {
                        Ok(data) => new_stdin = Some(Stdin::new(data)),
                        Err(e) => {
                            let msg = format!(
                                "can't open {}: {}",
                                String::from_utf8_lossy(&word),
                                e.text()
                            );
                            self.sh_error(io, &msg);
                            return 1;
                        }
                    }
                }
                RedirOp::DupOut => {
                    let t = match word.as_slice() {
                        b"1" => targets[1].clone(),
                        b"2" => targets[2].clone(),
                        b"-" => Target::Null,
                        _ => {
                            // `>&file` is `>file 2>&1` in ash.
                            let path = self.abs(&word);
                            match self.vfs.write(&path, b"", false, self.now) {
                                Ok(real) => Target::File(real),
                                Err(_) => Target::Null,
                            }
                        }
                    };
                    if fd < 3 {
                        targets[fd] = t;
                    }
                }
                RedirOp::DupIn => {}
            }
        }
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut child = Io {
            stdin: match new_stdin.as_mut() {
                Some(s) => s,
                None => &mut *io.stdin,
            },
            out: &mut out,
            err: &mut err,
            out_tty: false,
            err_tty: false,
        };
        let status = f(self, &mut child);
        let streams = [(std::mem::take(&mut out), 1), (std::mem::take(&mut err), 2)];
        for (bytes, fd) in streams {
            if bytes.is_empty() {
                continue;
            }
            match &targets[fd] {
                Target::Out => self.out(io, &bytes),
                Target::Err => self.err(io, &bytes),
                Target::Null => {}
                Target::File(path) => {
                    let path = path.clone();
                    if let Err(e) = self.vfs.write(&path, &bytes, true, self.now) {
                        let msg = format!("write error: {}", e.text());
                        self.sh_error(io, &msg);
                        if e == vfs::FsError::NoSpace {
                            let max = self.limits.vfs_bytes;
                            self.limit_hit(
                                "max_vfs_bytes",
                                format!("session filesystem over {max} bytes"),
                            );
                        }
                    }
                }
            }
        }
        status
    }

    /// Expand words into fields (with field splitting and globbing).
    pub(crate) fn expand_words(&mut self, words: &[Word], io: &mut Io) -> Vec<Vec<u8>> {
        let mut fields = Vec::new();
        for w in words {
            let mut cur: Option<Vec<u8>> = None;
            let mut glob = false;
            for part in &w.parts {
                match part {
                    WordPart::Lit(b) => {
                        glob |= b.iter().any(|&c| c == b'*' || c == b'?');
                        cur.get_or_insert_with(Vec::new).extend_from_slice(b);
                    }
                    WordPart::Quoted(b) => cur.get_or_insert_with(Vec::new).extend_from_slice(b),
                    WordPart::Var { name, quoted } => {
                        let v = self.var(name);
                        self.push_expansion(&mut fields, &mut cur, v, *quoted);
                    }
                    WordPart::CmdSub { list, quoted } => {
                        let v = self.command_subst(list, io);
                        self.push_expansion(&mut fields, &mut cur, v, *quoted);
                    }
                }
            }
            if let Some(f) = cur {
                if glob {
                    let matches = self.glob(&f);
                    if !matches.is_empty() {
                        fields.extend(matches);
                        continue;
                    }
                }
                fields.push(f);
            }
        }
        fields
    }

    /// Append an expansion to the current field, splitting unquoted values
    /// on blanks (IFS).
    fn push_expansion(
        &self,
        fields: &mut Vec<Vec<u8>>,
        cur: &mut Option<Vec<u8>>,
        value: Vec<u8>,
        quoted: bool,
    ) {
        if quoted {
            cur.get_or_insert_with(Vec::new).extend_from_slice(&value);
            return;
        }
        for c in value {
            if c == b' ' || c == b'\t' || c == b'\n' {
                if let Some(f) = cur.take() {
                    fields.push(f);
                }
            } else {
                cur.get_or_insert_with(Vec::new).push(c);
            }
        }
    }

    /// Expand without splitting (redirection targets, assignments).
    pub(crate) fn expand_single(&mut self, w: &Word, io: &mut Io) -> Vec<u8> {
        let mut out = Vec::new();
        for part in &w.parts {
            match part {
                WordPart::Lit(b) | WordPart::Quoted(b) => out.extend_from_slice(b),
                WordPart::Var { name, .. } => out.extend(self.var(name)),
                WordPart::CmdSub { list, .. } => out.extend(self.command_subst(list, io)),
            }
        }
        out
    }

    fn var(&self, name: &str) -> Vec<u8> {
        match name {
            "?" => self.status.to_string().into_bytes(),
            "$" => self.shell_pid().to_string().into_bytes(),
            "#" => self.args.len().saturating_sub(1).to_string().into_bytes(),
            "@" | "*" => self
                .args
                .iter()
                .skip(1)
                .cloned()
                .collect::<Vec<_>>()
                .join(&b' '),
            "!" | "-" => Vec::new(),
            "HOSTNAME" => self.sys.hostname().as_bytes().to_vec(),
            n if n.len() == 1 && n.as_bytes()[0].is_ascii_digit() => {
                let i = (n.as_bytes()[0] - b'0') as usize;
                match self.args.get(i) {
                    Some(a) => a.clone(),
                    None if i == 0 => b"-sh".to_vec(),
                    None => Vec::new(),
                }
            }
            _ => match self.vars.get(name) {
                Some(v) => v.clone(),
                None => default_var(name, &self.user, self.home(), &self.cwd).into_bytes(),
            },
        }
    }

    pub(crate) fn shell_pid(&self) -> u32 {
        self.sys.processes.last().map(|p| p.0).unwrap_or(300)
    }

    fn command_subst(&mut self, list: &List, io: &mut Io) -> Vec<u8> {
        if self.run.depth >= MAX_RUN_DEPTH {
            return Vec::new();
        }
        self.run.depth += 1;
        let mut out = Vec::new();
        let mut sub = Io {
            stdin: &mut *io.stdin,
            out: &mut out,
            err: &mut *io.err,
            out_tty: false,
            err_tty: io.err_tty,
        };
        let cwd = self.cwd.clone();
        self.exec_list(list, &mut sub);
        self.cwd = cwd;
        self.run.depth -= 1;
        while out.last() == Some(&b'\n') {
            out.pop();
        }
        out
    }

    /// Paths matching a pattern with `*` / `?` in its last component.
    fn glob(&self, pattern: &[u8]) -> Vec<Vec<u8>> {
        let pat = String::from_utf8_lossy(pattern);
        let (dir, base) = match pat.rfind('/') {
            Some(i) => (&pat[..i + 1], &pat[i + 1..]),
            None => ("", &pat[..]),
        };
        if dir.contains(['*', '?']) {
            return Vec::new();
        }
        let dir_abs = if dir.is_empty() {
            self.cwd.clone()
        } else {
            self.abs(dir.as_bytes())
        };
        let Ok(names) = self.vfs.list(&dir_abs) else {
            return Vec::new();
        };
        names
            .into_iter()
            .filter(|n| {
                (!n.starts_with('.') || base.starts_with('.'))
                    && wildcard(base.as_bytes(), n.as_bytes())
            })
            .map(|n| format!("{dir}{n}").into_bytes())
            .collect()
    }

    /// Run a command by name: fixed answers, builtins, then the filesystem.
    pub(crate) fn run_argv(&mut self, argv: &[Vec<u8>], io: &mut Io) -> i32 {
        let name = String::from_utf8_lossy(&argv[0]).into_owned();
        if !self.sys.commands.is_empty() {
            let line = argv
                .iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(answer) = self.sys.commands.get(&line).cloned() {
                self.out(io, answer.as_bytes());
                return 0;
            }
        }
        if name.is_empty() {
            self.sh_error(io, ": not found");
            return 127;
        }
        if !name.contains('/') {
            if let Some(status) = applets::builtin(self, &name, argv, io) {
                return status;
            }
        }
        let path = if name.contains('/') {
            Some(self.abs(name.as_bytes()))
        } else {
            self.which(&name)
        };
        let Some(path) = path else {
            return self.not_found(&name, argv, io);
        };
        let (real, entry) = match self.vfs.stat(&path) {
            Ok((real, e)) => (real, e.clone()),
            Err(_) => return self.not_found(&name, argv, io),
        };
        match &entry.node {
            Node::Dir | Node::Device => {
                self.sh_error(io, &format!("{name}: Permission denied"));
                126
            }
            Node::Link(_) => self.not_found(&name, argv, io),
            Node::File(bytes) => {
                if entry.mode & 0o111 == 0 {
                    self.sh_error(io, &format!("{name}: Permission denied"));
                    return 126;
                }
                if real == "/bin/busybox" {
                    let applet = vfs::basename(&name).to_string();
                    return self.run_applet(&applet, argv, io);
                }
                self.execute_file(&real, bytes.clone(), argv, io)
            }
        }
    }

    /// Set a variable within the shell's memory bounds: values are cut at
    /// [`MAX_VAR`] bytes, and past [`MAX_VARS_BYTES`] in all new values are
    /// refused (`X=$X$X` doubling cannot exhaust memory).
    pub(crate) fn set_var(&mut self, name: &str, mut value: Vec<u8>) {
        value.truncate(MAX_VAR);
        let old = self
            .vars
            .get(name)
            .map(|v| v.len() + name.len())
            .unwrap_or(0);
        let total: usize = self
            .vars
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
            - old;
        if total + name.len() + value.len() > MAX_VARS_BYTES {
            self.limit_hit(
                "variables",
                format!("shell variables over {MAX_VARS_BYTES} bytes"),
            );
            return;
        }
        self.vars.insert(name.to_string(), value);
    }

    /// Where `$PATH` finds a command name.
    pub(crate) fn which(&self, name: &str) -> Option<String> {
        ["/bin", "/sbin", "/usr/bin", "/usr/sbin"]
            .iter()
            .map(|d| vfs::join(d, name))
            .find(|p| self.vfs.lstat(p).is_some())
    }

    fn not_found(&mut self, name: &str, argv: &[Vec<u8>], io: &mut Io) -> i32 {
        applets::record_intent(self, name, argv);
        self.run.effects.push(Effect::Unknown {
            command: name.to_string(),
        });
        self.sh_error(io, &format!("{name}: not found"));
        127
    }

    /// Run a BusyBox applet by name (`busybox` itself included).
    pub(crate) fn run_applet(&mut self, applet: &str, argv: &[Vec<u8>], io: &mut Io) -> i32 {
        if applet == "busybox" {
            return applets::busybox::run(self, argv, io);
        }
        if !self.sys.applets.contains(applet) {
            self.err(io, format!("{applet}: applet not found\n").as_bytes());
            return 127;
        }
        match applets::applet(self, applet, argv, io) {
            Some(status) => status,
            None => {
                // Part of this BusyBox but not emulated: what IoTBOX answers.
                let command = argv
                    .iter()
                    .map(|a| String::from_utf8_lossy(a))
                    .collect::<Vec<_>>()
                    .join(" ");
                self.run.effects.push(Effect::Unknown {
                    command: command.clone(),
                });
                if self.asking && !self.never_ask.contains(applet) {
                    return self.ask(command, argv, io);
                }
                0
            }
        }
    }

    /// The attacker ran one of its own files. Scripts are interpreted by this
    /// emulation; anything else is only recorded.
    fn execute_file(
        &mut self,
        path: &str,
        bytes: Arc<Vec<u8>>,
        argv: &[Vec<u8>],
        io: &mut Io,
    ) -> i32 {
        self.report_file(path);
        let args = argv[1..]
            .iter()
            .map(|a| String::from_utf8_lossy(a))
            .collect::<Vec<_>>()
            .join(" ");
        self.run.effects.push(Effect::Executed {
            path: path.to_string(),
            args,
            bytes: Some(bytes.clone()),
        });
        if looks_like_script(&bytes) {
            return self.run_script(&bytes, argv, io);
        }
        if !bytes.starts_with(b"\x7fELF") {
            self.sh_error(
                io,
                &format!(
                    "{}: line 1: syntax error: unexpected word",
                    String::from_utf8_lossy(&argv[0])
                ),
            );
            return 2;
        }
        0
    }

    /// Interpret a script from the virtual filesystem (`sh FILE`, `./x.sh`).
    pub(crate) fn run_script(&mut self, text: &[u8], argv: &[Vec<u8>], io: &mut Io) -> i32 {
        if self.run.depth >= MAX_RUN_DEPTH {
            return 2;
        }
        let list = match crate::parser::parse(text) {
            Ok(l) => l,
            Err(e) => {
                let msg = format!("{}: {}", String::from_utf8_lossy(&argv[0]), e.ash_message());
                self.sh_error(io, &msg);
                return 2;
            }
        };
        self.run.depth += 1;
        let saved = std::mem::replace(&mut self.args, argv.to_vec());
        let status = self.exec_list(&list, io);
        self.args = saved;
        self.run.depth -= 1;
        self.run.leave_script = false;
        status
    }

    /// Report a changed file now (it is complete: executed, chmodded, moved).
    pub(crate) fn report_file(&mut self, path: &str) {
        if self.dirty.remove(path) {
            if let Ok(bytes) = self.vfs.read(path) {
                if !bytes.is_empty() {
                    self.run.effects.push(Effect::FileWritten {
                        path: path.to_string(),
                        bytes,
                    });
                }
            }
        }
    }

    pub(crate) fn mark_dirty(&mut self, real: String) {
        self.dirty.insert(real);
    }

    /// The result of fetching `url` for this line: `Some` when known (or
    /// when fetching is off: then an offline failure), `None` when the line
    /// must stop and wait for it.
    pub(crate) fn fetch(
        &mut self,
        url: &str,
        tool: crate::Tool,
        dest: &str,
    ) -> Option<crate::FetchResult> {
        if let Some(r) = self.fetched.get(url) {
            return Some(r.clone());
        }
        self.run.downloads += 1;
        if !self.fetching || self.run.downloads > MAX_FETCHES_PER_LINE {
            return Some(crate::FetchResult::Failed(crate::FetchFailure::Timeout));
        }
        self.run.pending = Some(crate::FetchRequest {
            url: url.to_string(),
            tool,
            dest: dest.to_string(),
        });
        self.run.abort = true;
        None
    }

    /// The backend's answer to a command: written out when provided, else
    /// the line stops and asks for it.
    fn ask(&mut self, command: String, argv: &[Vec<u8>], io: &mut Io) -> i32 {
        let stdin = io.stdin.data[io.stdin.pos.min(io.stdin.data.len())..].to_vec();
        let q = crate::Question {
            command,
            argv: argv.to_vec(),
            stdin,
        };
        if let Some(a) = self.answers.get(&q).cloned() {
            io.stdin.pos = io.stdin.data.len();
            self.out(io, &a.output);
            return a.status;
        }
        self.run.asked += 1;
        if self.run.asked > MAX_FETCHES_PER_LINE {
            return 0;
        }
        self.run.ask = Some(q);
        self.run.abort = true;
        0
    }

    pub(crate) fn effect(&mut self, e: Effect) {
        self.run.effects.push(e);
    }

    /// `exit`: end the script, or the session.
    pub(crate) fn exit(&mut self) {
        if self.run.depth > 0 {
            self.run.leave_script = true;
        } else {
            self.run.effects.push(Effect::Exit);
            self.run.abort = true;
        }
    }
}

fn looks_like_script(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"#!") {
        return true;
    }
    let head = &bytes[..bytes.len().min(512)];
    !head.is_empty()
        && head
            .iter()
            .all(|&c| c == b'\n' || c == b'\t' || c == b'\r' || (0x20..0x7f).contains(&c))
}

fn default_var(name: &str, user: &str, home: &str, cwd: &str) -> String {
    match name {
        "PATH" => "/bin:/sbin:/usr/bin:/usr/sbin".into(),
        "HOME" => home.into(),
        "USER" | "LOGNAME" => user.into(),
        "SHELL" => "/bin/sh".into(),
        "PWD" => cwd.into(),
        "TERM" => "vt100".into(),
        "PS1" => "\\w \\$ ".into(),
        "IFS" => " \t\n".into(),
        _ => String::new(),
    }
}

/// Shell wildcard match: `*`, `?`, literal otherwise.
pub(crate) fn wildcard(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while i < s.len() {
        if p < pat.len() && (pat[p] == b'?' || pat[p] == s[i]) {
            p += 1;
            i += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            star = Some(p);
            mark = i;
            p += 1;
        } else if let Some(sp) = star {
            p = sp + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    while p < pat.len() && pat[p] == b'*' {
        p += 1;
    }
    p == pat.len()
}
