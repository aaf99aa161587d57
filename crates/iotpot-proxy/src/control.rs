//! What the central tells a sensor: the listeners it must open. One JSON
//! message per unidirectional stream, sent when the sensor connects (and
//! again whenever they change); the newest replaces the others.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The largest message read.
pub const MAX_MESSAGE: usize = 64 << 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listeners {
    pub listen: Vec<Face>,
}

/// One listener on the sensor: a TCP address whose connections are relayed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Face {
    /// `telnet` or `http` (for the sensor's log; the central decides what answers).
    pub service: String,
    pub address: SocketAddr,
}
