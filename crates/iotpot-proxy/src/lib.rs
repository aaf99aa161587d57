//! iotpot's sensors: one honeypot behind many addresses, as IoTPOT ran in
//! 2016 (thin proxies in many networks, the emulation in one place).
//!
//! - [`pki`]: the deployment's own certificate authority, the central's
//!   certificate, each sensor's, and the revoked list (`iotpot pki`).
//! - [`link`]: the QUIC link's TLS (both ends certified by that CA).
//! - [`control`]: what the central tells a sensor (its listeners).
//! - [`sensor`]: `iotpot sensor`: listeners whose connections become QUIC
//!   streams with a PROXY v2 header.
//! - [`central`]: accepting sensors and handing their streams to the
//!   central's services.
//! - [`relayed`]: a relayed QUIC stream as the central's services read and
//!   write it.
//! - [`pump`]: a connection's bytes between TCP and a QUIC stream (the
//!   sensor's).
//! - [`status`]: what the central knows of its sensors (`iotpot sensors`).
//! - [`spool`]: what a sensor records on its own while the central is
//!   away (degraded mode), on disk until the central stored it.
//! - [`replay`]: the spool, sent to the central and stored exactly once.
//!
//! Not for: the PROXY protocol header itself (`iotpot_wire::proxy`), the
//! services that answer relayed attackers (`iotpot-frontend`,
//! `iotpot-session`).

pub mod central;
pub mod control;
pub mod link;
pub mod pki;
pub mod pump;
pub mod relayed;
pub mod replay;
pub mod sensor;
pub mod spool;
pub mod status;
