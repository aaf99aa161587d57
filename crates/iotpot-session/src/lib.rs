//! The conversations of iotpot's devices, without I/O.
//!
//! Each type here is fed what arrived (bytes, a datagram, a parsed HTTP
//! request) and the clock, and gives back values: the bytes to send, the
//! events to record, and what it waits for (a download to fetch, a sandbox
//! to ask). No sockets, no tasks, no timers: that is what makes them easy
//! to test, fuzz and benchmark, and what lets one attacker's line run the
//! same way whether it came over Telnet or the UDP backdoor.
//!
//! - [`telnet`]: one Telnet session: negotiation, `login:`, shell.
//! - [`netis`]: one source's conversation with the 53413/UDP backdoor.
//! - [`http`]: a device web server's routing (request → page, auth, bait
//!   configs) and its response heads.
//! - [`command`]: the shell line path both shells share, and the event
//!   each shell effect becomes.
//!
//! What this crate is not for: listening, reading and writing sockets,
//! timeouts, per-source limits (`iotpot-frontend`), fetching
//! (`iotpot-downloader`), sandboxes (`iotpot-iotbox`), or storing events
//! (`iotpot-store`). It builds on the shell emulation (`iotpot-shell`) and
//! the wire codecs (`iotpot-wire`).

pub mod command;
pub mod http;
pub mod netis;
pub mod telnet;

use iotpot_core::EventKind;
use std::sync::Arc;

pub use command::Wait;
pub use iotpot_core::deployment::Deployment;
pub use iotpot_core::download::{FetchFailure, FetchRequest, FetchResult};
pub use iotpot_core::Profile;
pub use iotpot_shell::{Answer, Limits as ShellLimits, Question, System};
pub use netis::NetisPeer;
pub use telnet::{SessionLimits, TelnetSession};

/// What one step of a conversation produced.
#[derive(Debug, Default)]
pub struct Step {
    /// Bytes for the peer (Telnet-encoded for Telnet; one datagram for the
    /// backdoor, nothing sent when empty).
    pub to_peer: Vec<u8>,
    pub events: Vec<EventKind>,
    /// The session must end, for this reason (`exit`, `login_failed`...).
    pub close: Option<&'static str>,
    /// The line being run waits for this: get it and hand it back
    /// (`fetched` / `answered`); no input is taken meanwhile.
    pub wait: Option<Wait>,
    /// Files built in the session worth keeping as samples (`echo:<path>`).
    pub keep: Vec<(String, Arc<Vec<u8>>)>,
}

/// The first two events of every TCP session: the connection, and which
/// persona answers it.
pub fn opening_events(device: &System) -> [EventKind; 2] {
    let p = &device.persona.profile;
    [
        EventKind::SessionConnect {},
        EventKind::SessionParams {
            profile: p.name.clone(),
            arch: p.arch.name().to_string(),
            device_type: p.device_type.clone(),
        },
    ]
}
