//! What the central tells a sensor: the listeners it must open. One JSON
//! message per unidirectional stream, sent when the sensor connects (and
//! again whenever they change); the newest replaces the others.
//!
//! Relayed datagrams go both ways as QUIC datagrams (a PROXY v2 DGRAM
//! header, then the payload); one too large for a QUIC datagram goes on a
//! unidirectional stream of its own, told apart from a JSON message by the
//! header's signature.

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

/// Whether a unidirectional stream's content is a relayed datagram (it
/// starts with a PROXY v2 header; a message starts with `{`).
pub fn is_datagram(message: &[u8]) -> bool {
    message.starts_with(b"\r\n\r\n\0\r\nQUIT\n")
}

/// Send a relayed datagram (header and payload): as a QUIC datagram, or on
/// a stream of its own when it is too large for one.
pub fn send_datagram(conn: &quinn::Connection, d: Vec<u8>) {
    if conn.max_datagram_size().is_some_and(|max| d.len() <= max) {
        let _ = conn.send_datagram(bytes::Bytes::from(d));
        return;
    }
    let conn = conn.clone();
    tokio::spawn(async move {
        if let Ok(mut s) = conn.open_uni().await {
            if s.write_all(&d).await.is_ok() {
                let _ = s.finish();
            }
        }
    });
}
