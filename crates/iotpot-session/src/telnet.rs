//! One Telnet session of a device, sans-I/O: bytes in, bytes and events out.
//!
//! The phases are a real embedded device's: `login:` → `Password:` → shell.
//! The frontend's driver owns the socket and the clock; this type owns
//! everything else, so it can be tested and benchmarked without one.

use crate::command::{Ran, Terminal};
use crate::Step;
use iotpot_core::escape::bytes_to_string;
use iotpot_core::EventKind;
use iotpot_shell::{Answer, FetchResult, Question, Shell, System};
use iotpot_wire::line::{LineDiscipline, LineEvent};
use iotpot_wire::telnet::{self, opt, Telnet};
use std::sync::Arc;

/// Most negotiation verbs kept for the negotiation event.
const MAX_LOGGED_OPTIONS: usize = 32;

thread_local! {
    /// The codec's output for one [`TelnetSession::receive`], reused by
    /// every session of the thread: no allocation per call, and no buffers
    /// kept in each idle session.
    static CODEC_OUT: std::cell::Cell<telnet::Output> = std::cell::Cell::new(telnet::Output::default());
}

/// Per-session limits the session enforces itself.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub max_line: usize,
    pub max_input_bytes: u64,
    pub shell: iotpot_shell::Limits,
}

#[derive(Debug)]
enum Phase {
    Login,
    Password { user: String },
    Shell(Terminal),
    Closed,
}

#[derive(Debug)]
pub struct TelnetSession {
    device: Arc<System>,
    limits: SessionLimits,
    telnet: Telnet,
    line: LineDiscipline,
    phase: Phase,
    attempts: u32,
    bytes_in: u64,
    /// Negotiation seen so far, until it is reported.
    options: Vec<String>,
    size: Option<(u16, u16)>,
    ttype: Option<String>,
    negotiation_reported: bool,
    truncation_reported: bool,
    /// Real downloads through [`Step::wait`].
    fetching: bool,
    /// Applets never asked of the backend, when there is one.
    backend: Option<Arc<std::collections::HashSet<String>>>,
}

impl TelnetSession {
    /// `fetching`: downloads are really fetched by the driver.
    pub fn new(device: Arc<System>, limits: SessionLimits, fetching: bool) -> TelnetSession {
        let t = &device.persona.profile.telnet;
        let policy = telnet::Policy::new(&t.local_options, &t.remote_options);
        TelnetSession {
            telnet: Telnet::new(policy),
            line: LineDiscipline::new(limits.max_line),
            device,
            limits,
            phase: Phase::Login,
            attempts: 0,
            bytes_in: 0,
            options: Vec::new(),
            size: None,
            ttype: None,
            negotiation_reported: false,
            truncation_reported: false,
            fetching,
            backend: None,
        }
    }

    /// Commands the emulation does not implement go to the backend
    /// (through [`Step::wait`]), but those in `never`.
    pub fn enable_backend(&mut self, never: Arc<std::collections::HashSet<String>>) {
        self.backend = Some(never);
    }

    /// What the device sends on connect: negotiation, banner, login prompt.
    pub fn open(&mut self, out: &mut Step) {
        let d = self.device.clone();
        self.telnet.open(&d.persona.negotiation, &mut out.to_peer);
        let t = &d.persona.profile.telnet;
        Telnet::encode_data(t.banner.as_bytes(), &mut out.to_peer);
        Telnet::encode_data(t.login_prompt.as_bytes(), &mut out.to_peer);
    }

    pub fn logged_in(&self) -> bool {
        matches!(self.phase, Phase::Shell(_))
    }

    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Feed bytes from the peer; `now` is the Unix time.
    pub fn receive(&mut self, data: &[u8], now: i64, out: &mut Step) {
        if matches!(self.phase, Phase::Closed) {
            return;
        }
        self.bytes_in += data.len() as u64;
        if self.bytes_in > self.limits.max_input_bytes {
            out.events.push(EventKind::SessionLimit {
                limit: "max_input_bytes".into(),
                detail: format!("more than {} bytes received", self.limits.max_input_bytes),
            });
            self.close(out, "input_limit");
            return;
        }
        let mut codec_out = CODEC_OUT.take();
        codec_out.clear();
        self.telnet.receive(data, &mut codec_out);
        out.to_peer.extend_from_slice(&codec_out.reply);
        for ev in &codec_out.events {
            self.note_protocol_event(ev);
        }
        let mut rest: &[u8] = &codec_out.data;
        while !rest.is_empty() && out.close.is_none() {
            let echo = !matches!(self.phase, Phase::Password { .. })
                && self.telnet.local_enabled(opt::ECHO);
            let mut echo_bytes = Vec::new();
            let (n, event) = self.line.feed(rest, echo, &mut echo_bytes);
            rest = &rest[n..];
            Telnet::encode_data(&echo_bytes, &mut out.to_peer);
            if let Some(event) = event {
                self.report_negotiation(out);
                self.on_line(event, now, out);
            }
        }
        codec_out.data.clear();
        CODEC_OUT.set(codec_out);
    }

    /// The session is over: report what it left behind.
    pub fn finish(&mut self, out: &mut Step) {
        self.report_negotiation(out);
        if let Phase::Shell(term) = &mut self.phase {
            term.finish(out);
        }
        self.phase = Phase::Closed;
    }

    fn close(&mut self, out: &mut Step, reason: &'static str) {
        out.close = Some(reason);
    }

    fn note_protocol_event(&mut self, ev: &telnet::Event) {
        match ev {
            telnet::Event::Option { verb, option } if self.options.len() < MAX_LOGGED_OPTIONS => {
                self.options
                    .push([verb.name(), " ", &telnet::option_name(*option)].concat());
            }
            telnet::Event::WindowSize { cols, rows } => self.size = Some((*cols, *rows)),
            telnet::Event::TerminalType(t) => self.ttype = Some(t.clone()),
            _ => {}
        }
    }

    /// Report the client's negotiation once (at its first line, or at the end).
    fn report_negotiation(&mut self, out: &mut Step) {
        if self.negotiation_reported {
            return;
        }
        self.negotiation_reported = true;
        if self.options.is_empty() && self.size.is_none() && self.ttype.is_none() {
            return;
        }
        out.events.push(EventKind::TelnetNegotiation {
            options: std::mem::take(&mut self.options),
            width: self.size.map(|s| s.0),
            height: self.size.map(|s| s.1),
            ttype: self.ttype.take(),
        });
    }

    fn on_line(&mut self, event: LineEvent, now: i64, out: &mut Step) {
        let (bytes, truncated) = match event {
            LineEvent::Line { bytes, truncated } => (bytes, truncated),
            LineEvent::Interrupt => {
                if !matches!(self.phase, Phase::Shell(_)) {
                    self.phase = Phase::Login;
                }
                self.prompt(out);
                return;
            }
            LineEvent::Eof => {
                self.close(out, if self.logged_in() { "exit" } else { "client" });
                return;
            }
        };
        if truncated > 0 && !self.truncation_reported {
            self.truncation_reported = true;
            out.events.push(EventKind::SessionLimit {
                limit: "max_line".into(),
                detail: format!(
                    "line longer than {} bytes ({} dropped)",
                    self.limits.max_line, truncated
                ),
            });
        }
        let device = self.device.clone();
        let t = &device.persona.profile.telnet;
        match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Login => {
                let user = bytes_to_string(trim(&bytes));
                if user.is_empty() {
                    self.phase = Phase::Login;
                    Telnet::encode_data(t.login_prompt.as_bytes(), &mut out.to_peer);
                    return;
                }
                Telnet::encode_data(t.password_prompt.as_bytes(), &mut out.to_peer);
                self.phase = Phase::Password { user };
            }
            Phase::Password { user } => {
                let password = bytes_to_string(&bytes);
                let ok = device
                    .persona
                    .profile
                    .auth
                    .accepts(&user, &password, self.attempts);
                self.attempts += 1;
                if ok {
                    out.events.push(EventKind::LoginSuccess {
                        username: user.clone(),
                        password,
                    });
                    Telnet::encode_data(t.motd.as_bytes(), &mut out.to_peer);
                    let sys_user = &device.persona.profile.system.default_user;
                    let shell_user = if user == "root" || user == *sys_user {
                        user.as_str()
                    } else {
                        sys_user.as_str()
                    };
                    let mut shell = Shell::new(device.clone(), shell_user, self.limits.shell);
                    if self.fetching {
                        shell.enable_fetching();
                    }
                    if let Some(never) = &self.backend {
                        shell.enable_backend(never.clone());
                    }
                    self.phase = Phase::Shell(Terminal::new(shell));
                    self.prompt(out);
                } else {
                    out.events.push(EventKind::LoginFailed {
                        username: user,
                        password,
                    });
                    // A newline first: the password was not echoed.
                    Telnet::encode_data(b"\n", &mut out.to_peer);
                    Telnet::encode_data(t.login_incorrect.as_bytes(), &mut out.to_peer);
                    if self.attempts >= t.max_attempts {
                        self.close(out, "login_failed");
                        return;
                    }
                    self.phase = Phase::Login;
                    Telnet::encode_data(t.login_prompt.as_bytes(), &mut out.to_peer);
                }
            }
            Phase::Shell(term) => {
                self.phase = Phase::Shell(term);
                let line = trim(&bytes);
                if line.is_empty() {
                    self.prompt(out);
                    return;
                }
                self.run_shell_line(line.to_vec(), now, out);
            }
            Phase::Closed => {}
        }
    }

    /// The download [`Step::wait`] asked for: the waiting line runs again
    /// with it.
    pub fn fetched(&mut self, url: &str, result: FetchResult, now: i64, out: &mut Step) {
        let Phase::Shell(term) = &mut self.phase else {
            return;
        };
        if let Some(line) = term.fetched(url, result) {
            self.run_shell_line(line, now, out);
        }
    }

    /// The sandbox's answer [`Step::wait`] asked for: the waiting line runs
    /// again with it.
    pub fn answered(&mut self, q: Question, a: Answer, now: i64, out: &mut Step) {
        let Phase::Shell(term) = &mut self.phase else {
            return;
        };
        if let Some(line) = term.answered(q, a) {
            self.run_shell_line(line, now, out);
        }
    }

    /// A line waits for a download or an answer.
    pub fn waiting(&self) -> bool {
        matches!(&self.phase, Phase::Shell(t) if t.waiting())
    }

    fn run_shell_line(&mut self, line: Vec<u8>, now: i64, out: &mut Step) {
        let Phase::Shell(term) = &mut self.phase else {
            return;
        };
        match term.run(line, now, out) {
            Ran::Waiting => {}
            Ran::Done { output, exit, .. } => {
                Telnet::encode_data(&output, &mut out.to_peer);
                if exit {
                    self.close(out, "exit");
                } else {
                    self.prompt(out);
                }
            }
        }
    }

    fn prompt(&mut self, out: &mut Step) {
        let t = &self.device.persona.profile.telnet;
        match &self.phase {
            Phase::Shell(term) => {
                let p = &t.prompt;
                if p.contains("{cwd}") {
                    Telnet::encode_data(
                        p.replace("{cwd}", term.shell().cwd()).as_bytes(),
                        &mut out.to_peer,
                    );
                } else {
                    Telnet::encode_data(p.as_bytes(), &mut out.to_peer);
                }
            }
            _ => Telnet::encode_data(t.login_prompt.as_bytes(), &mut out.to_peer),
        }
    }
}

/// Strip the blanks a terminal leaves around a line.
fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0))
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0))
        .map(|e| e + 1)
        .unwrap_or(start);
    &b[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotpot_core::deployment::Deployment;
    use iotpot_core::Profile;

    fn session(profile: &str) -> TelnetSession {
        let persona = Profile::load(profile)
            .unwrap()
            .instantiate(&Deployment::from_seed([3; 32]));
        let device = System::new(persona, 1_700_000_000);
        TelnetSession::new(
            device,
            SessionLimits {
                max_line: 256,
                max_input_bytes: 1 << 20,
                shell: iotpot_shell::Limits::default(),
            },
            false,
        )
    }

    fn feed(s: &mut TelnetSession, data: &[u8]) -> Step {
        let mut out = Step::default();
        s.receive(data, 1_700_000_000, &mut out);
        out
    }

    #[test]
    fn login_then_shell() {
        let mut s = session("router-tplink");
        let mut out = Step::default();
        s.open(&mut out);
        assert_eq!(out.to_peer[0], 0xff);
        assert!(out.to_peer.ends_with(b"(none) login: "));
        // Mirai answers our negotiation, then sends the user name.
        let o = feed(
            &mut s,
            &[
                0xff, 0xfc, 1, 0xff, 0xfb, 31, 0xff, 0xfa, 31, 0, 80, 0, 24, 0xff, 0xf0, 0xff,
                0xfd, 1, 0xff, 0xfd, 3,
            ],
        );
        assert!(o.to_peer.is_empty());
        let o = feed(&mut s, b"root\r\n");
        assert!(matches!(
            &o.events[0],
            EventKind::TelnetNegotiation {
                width: Some(80),
                height: Some(24),
                ..
            }
        ));
        assert!(
            o.to_peer.ends_with(b"root\r\nPassword: "),
            "echo then prompt: {:?}",
            String::from_utf8_lossy(&o.to_peer)
        );
        let o = feed(&mut s, b"xc3511\r\n");
        assert!(
            matches!(&o.events[0], EventKind::LoginSuccess { username, password } if username == "root" && password == "xc3511")
        );
        assert!(
            !String::from_utf8_lossy(&o.to_peer).contains("xc3511"),
            "passwords are not echoed"
        );
        assert!(o.to_peer.ends_with(b"# "));
        let o = feed(&mut s, b"/bin/busybox MIRAI\r\n");
        assert!(String::from_utf8_lossy(&o.to_peer).contains("MIRAI: applet not found\r\n# "));
        let o = feed(&mut s, b"enable\0");
        assert!(
            matches!(&o.events[0], EventKind::CommandInput { input, known: false, .. } if input == "enable")
        );
        let o = feed(&mut s, b"exit\r\n");
        assert_eq!(o.close, Some("exit"));
    }

    #[test]
    fn failed_logins_then_hangup() {
        let mut s = session("camera-hikvision");
        let mut out = Step::default();
        s.open(&mut out);
        for i in 0..3 {
            let o = feed(&mut s, b"root\r\nwrong\r\n");
            assert!(o
                .events
                .iter()
                .any(|e| matches!(e, EventKind::LoginFailed { .. })));
            assert!(
                String::from_utf8_lossy(&o.to_peer).contains("ncorrect"),
                "Mirai looks for 'ncorrect'"
            );
            assert_eq!(o.close.is_some(), i == 2);
        }
    }

    #[test]
    fn input_limit_closes() {
        let mut s = session("router-tplink");
        let o = feed(&mut s, &vec![b'a'; 2 << 20]);
        assert_eq!(o.close, Some("input_limit"));
    }
}
