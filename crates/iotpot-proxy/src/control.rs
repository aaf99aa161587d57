//! What the central tells a sensor: the listeners it must open, and what
//! it needs to answer on them itself while the central is away (the
//! devices' profiles and the deployment's seed: degraded mode). One JSON
//! message per unidirectional stream, sent when the sensor connects (and
//! again whenever they change); the newest replaces the others.
//!
//! Relayed datagrams go both ways as QUIC datagrams (a PROXY v2 DGRAM
//! header, then the payload); one too large for a QUIC datagram goes on a
//! unidirectional stream of its own, told apart from a JSON message by the
//! header's signature.

use iotpot_core::config::Service;
use iotpot_core::profile::Profile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// The largest message read (profiles with their pages and files).
pub const MAX_MESSAGE: usize = 8 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listeners {
    pub listen: Vec<Face>,
    /// For degraded mode: the deployment's seed (hex) and each face's
    /// profile by name, so the sensor's own answers are the same device's.
    pub seed: String,
    pub profiles: BTreeMap<String, Device>,
}

/// One listener on the sensor: an address whose connections (TCP) or
/// datagrams (`netis`, UDP) are relayed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Face {
    /// `telnet`, `http` or `netis`.
    pub service: Service,
    pub address: SocketAddr,
    /// The profile that answers on it (a key of [`Listeners::profiles`]).
    pub profile: String,
}

/// A profile as the central resolved it (its `extends` chain included).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Device {
    /// The device it is a face of ([`Profile::device`], not serialized
    /// with the profile).
    pub device: String,
    pub profile: Profile,
}

impl Device {
    pub fn new(profile: &Profile) -> Device {
        Device {
            device: profile.device.clone(),
            profile: profile.clone(),
        }
    }

    pub fn into_profile(self) -> Profile {
        let mut p = self.profile;
        p.device = self.device;
        p
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A sensor answering alone gets every built-in profile whole: what
    /// the central pushes reads back as the same profile.
    #[test]
    fn every_builtin_profile_travels_whole() {
        for p in Profile::builtins() {
            let sent = serde_json::to_vec(&Device::new(&p)).unwrap();
            let got = serde_json::from_slice::<Device>(&sent)
                .unwrap()
                .into_profile();
            assert_eq!(got.device, p.device, "{}", p.name);
            assert_eq!(
                serde_json::to_value(&got).unwrap(),
                serde_json::to_value(&p).unwrap(),
                "{}",
                p.name
            );
            assert!(
                sent.len() < MAX_MESSAGE / 8,
                "{}: {} bytes",
                p.name,
                sent.len()
            );
        }
    }
}
