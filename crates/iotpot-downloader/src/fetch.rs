//! Fetching one URL: resolve once, check the address, connect to exactly
//! that address, with size and time limits. Protocol clients: [`crate::http`],
//! [`crate::tftp`], [`crate::ftp`].

use crate::guard::{Guard, Refusal};
use crate::url::{self, Host, Scheme, Url};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Limits on one fetch.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_bytes: u64,
    pub timeout: Duration,
    pub max_redirects: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 << 20,
            timeout: Duration::from_secs(60),
            max_redirects: 5,
        }
    }
}

use iotpot_core::download::FetchFailure;
/// The tool being imitated: decides the request's headers.
pub use iotpot_core::download::Tool;

/// A successful fetch.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The URL the bytes came from (after redirects).
    pub final_url: String,
    pub remote: SocketAddr,
    /// HTTP status, for HTTP.
    pub status: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    Url(String),
    /// The address is not allowed; nothing was sent to it.
    Refused {
        addr: IpAddr,
        reason: Refusal,
    },
    Resolve(String),
    Connect(String),
    Timeout,
    TooLarge(u64),
    /// An HTTP error status.
    Status(u16, String),
    /// The server broke the protocol, or said no (TFTP/FTP error).
    Protocol(String),
    Unsupported(String),
    /// More fetches from this host in the last minute than allowed.
    RateLimited(u32),
    /// More redirects than `max_redirects` (the limit).
    TooManyRedirects(u32),
}

impl FetchError {
    /// What the attacker's tool sees of this failure (each tool words it
    /// its own way): a refused address looks like a refused connection, a
    /// rate limit like a timeout.
    pub fn failure(&self) -> FetchFailure {
        match self {
            FetchError::Url(_) | FetchError::Resolve(_) => FetchFailure::BadAddress,
            FetchError::Refused { .. } | FetchError::Connect(_) | FetchError::Unsupported(_) => {
                FetchFailure::ConnectionRefused
            }
            FetchError::Timeout | FetchError::RateLimited(_) => FetchFailure::Timeout,
            FetchError::TooLarge(_) => FetchFailure::TooLarge,
            FetchError::Status(code, reason) => FetchFailure::HttpStatus(*code, reason.clone()),
            FetchError::Protocol(m) => FetchFailure::Server(m.clone()),
            FetchError::TooManyRedirects(n) => FetchFailure::TooManyRedirects(*n),
        }
    }

    /// A short machine-friendly reason for events.
    pub fn reason(&self) -> String {
        match self {
            FetchError::Url(e) => format!("bad url: {e}"),
            FetchError::Refused { addr, reason } => {
                format!("refused address {addr}: {}", reason.text())
            }
            FetchError::Resolve(e) => format!("resolve: {e}"),
            FetchError::Connect(e) => format!("connect: {e}"),
            FetchError::Timeout => "timeout".into(),
            FetchError::TooLarge(n) => format!("larger than {n} bytes"),
            FetchError::Status(s, r) => format!("http status {s} {r}"),
            FetchError::Protocol(e) => format!("protocol: {e}"),
            FetchError::Unsupported(e) => format!("unsupported: {e}"),
            FetchError::RateLimited(n) => {
                format!("limit: more than {n} fetches from this host per minute")
            }
            FetchError::TooManyRedirects(n) => format!("limit: more than {n} redirects"),
        }
    }
}

/// Everything a fetch needs from the operator.
#[derive(Debug, Clone, Default)]
pub struct Fetcher {
    pub guard: Guard,
    pub limits: Limits,
}

impl Fetcher {
    /// Fetch `url` as `tool` would.
    pub async fn fetch(&self, url: &str, tool: Tool) -> Result<Fetched, FetchError> {
        let parsed = url::parse(url).map_err(|e| FetchError::Url(e.to_string()))?;
        self.fetch_url(parsed, tool).await
    }

    /// Fetch an already parsed URL as `tool` would.
    pub async fn fetch_url(&self, parsed: Url, tool: Tool) -> Result<Fetched, FetchError> {
        let work = async {
            match parsed.scheme {
                Scheme::Http | Scheme::Https => crate::http::get(self, parsed, tool).await,
                Scheme::Tftp => crate::tftp::get(self, &parsed).await,
                Scheme::Ftp => crate::ftp::get(self, &parsed).await,
            }
        };
        tokio::time::timeout(self.limits.timeout, work)
            .await
            .map_err(|_| FetchError::Timeout)?
    }

    /// Resolve once and pick the first allowed address. Nothing is sent to
    /// any address the guard refuses.
    pub async fn resolve(&self, url: &Url) -> Result<SocketAddr, FetchError> {
        let candidates: Vec<SocketAddr> = match &url.host {
            Host::Ip(ip) => vec![SocketAddr::new(*ip, url.port)],
            Host::Name(name) => tokio::net::lookup_host((name.as_str(), url.port))
                .await
                .map_err(|e| FetchError::Resolve(e.to_string()))?
                .collect(),
        };
        let mut refusal = None;
        for a in candidates {
            match self.guard.check(a.ip()) {
                Ok(()) => return Ok(a),
                Err(reason) => {
                    refusal = refusal.or(Some(FetchError::Refused {
                        addr: a.ip(),
                        reason,
                    }))
                }
            }
        }
        Err(refusal.unwrap_or_else(|| FetchError::Resolve("no address".into())))
    }
}
