//! The frontend: what faces the attacker.
//!
//! It owns the sockets, the timeouts and the connection limits, and drives
//! the sans-I/O session types with the bytes that arrive. Answers come from
//! the persona (device profile) through the shell emulation; everything that
//! happens becomes an event on the bus.
//!
//! - [`server`]: binding listeners, accepting, per-source and global limits,
//!   clean shutdown.
//! - [`telnet`]: the Telnet service (sans-I/O session + async driver).
//! - [`downloads`]: fetching, storing and following downloads for any
//!   service's sessions.
//! - [`http`]: device web servers (DVR, cameras, router admin).
//! - [`netis`]: the 53413/UDP Netis/Netcore router backdoor.

pub mod downloads;
pub mod http;
pub mod netis;
pub mod server;
pub mod telnet;

pub use server::{Frontend, ListenerSpec};
