//! The frontend: the sockets that face the attacker.
//!
//! It binds the listeners, accepts, enforces the timeouts and the
//! connection and datagram limits, and drives the sans-I/O conversations of
//! `iotpot-session` with the bytes that arrive: what they ask for (a
//! download, a sandbox's answer) it gets, and every event they make goes to
//! the bus.
//!
//! - [`server`]: binding listeners, accepting, per-source and global limits,
//!   clean shutdown.
//! - [`proxied`]: the PROXY protocol header of listeners behind a proxy.
//! - [`telnet`]: the Telnet driver.
//! - [`http`]: the HTTP driver (DVR, cameras, router admin) and the
//!   camera's generated video.
//! - [`netis`]: the 53413/UDP backdoor's socket, rates and sources.
//! - [`downloads`]: fetching, storing and following downloads for any
//!   service's sessions.
//!
//! What it is not for: what a device says (`iotpot-session`,
//! `iotpot-shell`, the profiles in `iotpot-core`), fetching itself
//! (`iotpot-downloader`), sandboxes (`iotpot-iotbox`), packet capture
//! (`iotpot-capture`).

pub mod conn;
pub mod downloads;
pub mod http;
pub mod netis;
pub mod proxied;
pub mod server;
pub mod telnet;
pub mod udp;

pub use conn::Conn;
pub use server::{Frontend, ListenerSpec, Relay, RelayFace, RelayTarget};
