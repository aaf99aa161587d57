//! The vocabulary every part of iotpot shares, and nothing that does I/O on
//! the network: one type per thing, so the frontend, the shell, the
//! downloader, the store and IoTBOX never translate between names.
//!
//! - [`event`]: the one typed event catalogue (cowrie-compatible JSON).
//! - [`profile`]: device profiles (schema, built-ins, per-deployment personas).
//! - [`trap`]: exploit traps, the known holes of a device's web server.
//! - [`device`]: which device's faces one address shows.
//! - [`arch`]: CPU architectures (profiles, triage and sandboxes use the one
//!   [`Arch`]) and what a persona shows of them.
//! - [`download`]: the attacker's download tools and what they see.
//! - [`answer`]: a sandbox's question, answer and learned answer.
//! - [`config`]: the configuration file and its defaults.
//! - [`deployment`]: the per-deployment seed that varies every persona.
//! - [`honeytoken`]: bait credentials and the alarm when they are used.
//! - [`escape`]: showing attacker strings to a human safely.
//! - [`sample`], [`clock`]: SHA-256 names and file kinds, Unix time.
//!
//! Not for: behaviour. What a device does with these is in
//! `iotpot-session` and `iotpot-shell`; what is done with events is in
//! `iotpot-store`.

pub mod answer;
pub mod arch;
pub mod clock;
pub mod config;
pub mod deployment;
pub mod device;
pub mod download;
pub mod escape;
pub mod event;
pub mod guard;
pub mod honeytoken;
pub mod profile;
pub mod profiler;
pub mod sample;
pub mod tls;
pub mod trap;

pub use arch::Arch;
pub use config::Config;
pub use event::{Event, EventKind, SessionInfo};
pub use profile::{Persona, Profile};
