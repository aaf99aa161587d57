//! The benchmark harness (a benchmark, not a timed test).
//!
//! - [`client`]: plays the Mirai-style session (negotiation answered the
//!   way Mirai's scanner answers it, login, `enable`, `/bin/busybox ECCHI`,
//!   `cat /proc/cpuinfo`) against any Telnet honeypot: closed loop at a given
//!   concurrency, and N idle logged-in sessions.
//! - [`reference`]: the bare reference server (sends the negotiation and the
//!   prompts, answers each line with a prompt, nothing else), so every figure
//!   can be given as a ratio to what the machine can do at all.
//!
//! Not for: correctness tests (those run real clients against the real
//! honeypot in `crates/iotpot/tests/`).

pub mod client;
pub mod reference;
