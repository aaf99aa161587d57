//! The Downloader (IoTPOT's part of that name): the only code that fetches
//! an attacker's URL.
//!
//! - [`url`]: parsing the URLs attackers write, every host spelling included
//!   (`http://2130706433/`, `http://0x7f.1/`, `http://[::ffff:127.0.0.1]/`).
//! - [`guard`]: which addresses may be reached. Loopback, private, shared,
//!   link-local, multicast, broadcast, unspecified, IPv4-mapped/compatible
//!   IPv6 and NAT64 of forbidden addresses are refused unless the operator
//!   allows them (`[downloader] allow`).
//! - [`fetch`]: resolve once, check, connect to exactly that address; size
//!   and time limits; [`http`], [`tftp`] and [`ftp`] clients that send what
//!   the imitated tool sends.
//! - [`store`]: `samples/<sha256>`, read-only, deduplicated.
//! - [`triage`]: offline ELF triage (architecture, linking, UPX, indicators).
//!
//! Not for: deciding *what* to fetch (the shell emulation does) or running
//! anything it fetched (nothing ever runs).

pub mod fetch;
pub mod ftp;
pub mod guard;
pub mod http;
pub mod store;
pub mod tftp;
pub mod triage;
pub mod url;
