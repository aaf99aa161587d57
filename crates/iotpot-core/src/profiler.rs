//! What the profiler finds when it scans an attacker back: the grab of
//! each port and the host's verdict. Types only (the event catalogue
//! carries them); the scanning and matching are in `iotpot-profiler`.

use serde::{Deserialize, Serialize};

/// Bytes of a grab's raw answer kept in its event (hex) and row.
pub const RAW_KEPT: usize = 16 << 10;

/// What one port answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Grab {
    pub port: u16,
    /// `open`, `closed` (refused), `filtered` (no answer to connect),
    /// `error`.
    pub state: String,
    /// `telnet`, `ftp`, `ssh`, `http`, `rtsp`; empty when nothing was read.
    pub service: String,
    /// The fields the fingerprints match (`telnet.banner`,
    /// `http_header.server`, `html_title`...), as text.
    pub fields: Vec<(String, String)>,
    /// Telnet: the device's negotiation commands in order (`DO 24`...).
    pub negotiation: Vec<String>,
    /// Telnet: the prompt it ended on (`login:`).
    pub prompt: Option<String>,
    /// HTTP/RTSP: status line and headers in the device's order.
    pub status: Option<u16>,
    pub status_line: Option<String>,
    pub headers: Vec<(String, String)>,
    /// TLS: the server's certificate, read from the handshake.
    pub certificate: Option<Certificate>,
    /// HTTP: body size and SHA-256 (of what was read).
    pub body_sha256: Option<String>,
    /// Bytes read in all, and the first [`RAW_KEPT`] of them, hex.
    pub bytes: u64,
    pub raw: String,
    /// Why the grab stopped before the device was done: `max_bytes`,
    /// `timeout`.
    pub cut: Option<String>,
    pub error: Option<String>,
    pub duration: f64,
}

impl Grab {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The raw bytes kept.
    pub fn raw_bytes(&self) -> Vec<u8> {
        hex::decode(&self.raw).unwrap_or_default()
    }
}

/// A TLS server's certificate as the profiler read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// RFC 2253 (`CN=ipcam,O=Acme,C=TW`), as Recog's X.509 files match.
    pub subject: String,
    pub issuer: String,
    /// ISO 8601 (`2025-01-31T12:00:00Z`).
    pub not_before: String,
    pub not_after: String,
    /// Of the DER.
    pub sha256: String,
    /// What the server chose: `TLS 1.0`..., and its cipher suite (`0x002f`).
    pub version: String,
    pub cipher: String,
}

/// One fingerprint that said something, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub port: u16,
    pub field: String,
    /// The fingerprint file and the fingerprint's description.
    pub file: String,
    pub fingerprint: String,
    pub certainty: Option<String>,
    /// What it yielded (`hw.device`, `os.vendor`...).
    pub params: Vec<(String, String)>,
}

/// What the host is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Recog's `hw.device` (`DVR`, `IP Camera`, `Router`, `WAP`...).
    pub device: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub os: Option<String>,
    /// The worm whose mark the host carries (`Linux.Wifatch`).
    pub infected: Option<String>,
    /// Whether any port answered at all.
    pub reachable: bool,
    pub evidence: Vec<Evidence>,
}

impl Verdict {
    /// Whether the fingerprints named anything about the host.
    pub fn identified(&self) -> bool {
        self.device.is_some() || self.vendor.is_some() || self.product.is_some()
    }
}
