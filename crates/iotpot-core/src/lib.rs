//! The types every part of iotpot shares, and nothing that does I/O on the
//! network.
//!
//! - [`event`]: the one typed event catalogue (cowrie-compatible JSON).
//! - [`profile`]: device profiles (schema, built-ins, per-deployment personas).
//! - [`arch`]: CPU architectures and what a persona shows of them.
//! - [`config`]: the configuration file and its defaults.
//! - [`deployment`]: the per-deployment seed that varies every persona.
//! - [`honeytoken`]: bait credentials and the alarm when they are used.
//! - [`escape`]: showing attacker strings to a human safely.

pub mod answer;
pub mod arch;
pub mod config;
pub mod deployment;
pub mod device;
pub mod download;
pub mod escape;
pub mod event;
pub mod honeytoken;
pub mod profile;

pub use arch::Arch;
pub use config::Config;
pub use event::{Event, EventKind, SessionInfo};
pub use profile::{Persona, Profile};
