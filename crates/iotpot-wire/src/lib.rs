//! Protocol codecs for iotpot, written sans-I/O.
//!
//! Every type here is a state machine fed the bytes that arrived from an
//! attacker and returning the bytes to send back plus the protocol events it
//! saw. Nothing here owns a socket, a timer or a task: the async drivers in
//! `iotpot-frontend` move the bytes. That keeps every parser unit-testable and
//! fuzzable (see `fuzz/`), and it is the only place that interprets raw
//! attacker bytes at the protocol level.
//!
//! - [`telnet`]: RFC 854/855 command parsing, RFC 1143 ("Q method") option
//!   negotiation, NAWS (RFC 1073) and TTYPE (RFC 1091) sub-negotiation, IAC
//!   escaping in both directions.
//! - [`http`]: HTTP/1.x request heads, kept as sent; Basic credentials.
//! - [`ipcheck`]: IPv4/UDP length fields against the real packet length.
//! - [`netis`]: the Netis/Netcore 53413/UDP backdoor: datagram kinds and replies.
//! - [`line`]: the line discipline of a device's login and shell: CR/LF/NUL
//!   terminators as real clients and bots send them, echo, backspace, ^C, ^D,
//!   a bounded line length.
//! - [`proxy`]: the PROXY protocol header (v1 and v2) a proxy or an iotpot
//!   sensor sends before a relayed client's bytes.
//!
//! Not for: what a device answers (`iotpot-session` decides that, with the
//! shell of `iotpot-shell`), or any I/O.

pub mod http;
pub mod ipcheck;
pub mod line;
pub mod netis;
pub mod proxy;
pub mod telnet;
