//! The profiler: which kinds of real devices attack the honeypot.
//!
//! The 2016 paper connected back to each attacking address and read its
//! banners and web pages to build its table of infected device types. This
//! crate does that with Rapid7's Recog fingerprint databases, loaded as they
//! are ([`recog`]): the vendored files in `fingerprints/recog/`, iotpot's
//! own worm marks in `fingerprints/iotpot/`, and any an operator adds.
//!
//! What this crate is not for: accepting connections from attackers
//! (`iotpot-frontend`), fetching what they point at (`iotpot-downloader`),
//! or storing events (`iotpot-store`). It is the only part of iotpot that
//! opens connections to attackers' addresses.

pub mod generate;
pub mod grab;
pub mod recog;
pub mod scan;
pub mod service;
pub mod verdict;
