//! iotpot's sensors: one honeypot behind many addresses, as IoTPOT ran in
//! 2016 (thin proxies in many networks, the emulation in one place).
//!
//! - [`pki`]: the deployment's own certificate authority, the central's
//!   certificate, each sensor's, and the revoked list (`iotpot pki`).
//!
//! Not for: the PROXY protocol header itself (`iotpot_wire::proxy`), the
//! services that answer relayed attackers (`iotpot-frontend`,
//! `iotpot-session`).

pub mod pki;
