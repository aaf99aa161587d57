//! Listeners behind a proxy (`[[listen]] proxy_protocol = true`): the
//! PROXY protocol header that starts each connection, read before the
//! session starts (the parsing is `iotpot_wire::proxy`'s).

use iotpot_wire::proxy::{self, Header, Parse, MAX_HEADER};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// How long a proxy may take to send the header (HAProxy sends it with the
/// connection).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections closed for a missing or bad header, for the log's pace.
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// What the header says about the session.
pub(crate) struct Proxied {
    /// The client, and what it reached.
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// The sensor the central's relay names (see `ListenerSpec::relay`).
    pub sensor: Option<proxy::SensorName>,
}

/// The session's addresses from the header: (the client, what it reached).
/// The connection's own for a `LOCAL` header (the proxy's health check).
/// `None`, after a log line, when the header is missing, bad or late: the
/// connection is then closed. Reads exactly the header: the client's first
/// bytes stay for the session.
pub(crate) async fn header(
    stream: &mut TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
) -> Option<Proxied> {
    let mut buf = [0u8; MAX_HEADER];
    let mut have = 0;
    let read = async {
        loop {
            match proxy::parse(&buf[..have]) {
                Parse::Need(n) => {
                    stream
                        .read_exact(&mut buf[have..n])
                        .await
                        .map_err(|e| format!("closed before the header ended ({e})"))?;
                    have = n;
                }
                Parse::Done { header, .. } => return Ok(header),
                Parse::Invalid(why) => return Err(why),
            }
        }
    };
    let why = match tokio::time::timeout(HEADER_TIMEOUT, read).await {
        Ok(Ok(Header::Local)) => {
            return Some(Proxied {
                peer,
                local,
                sensor: None,
            })
        }
        Ok(Ok(Header::Proxy {
            datagram: false,
            source,
            destination,
            sensor,
        })) => {
            return Some(Proxied {
                peer: SocketAddr::new(super::server::canonical(source.ip()), source.port()),
                local: SocketAddr::new(
                    super::server::canonical(destination.ip()),
                    destination.port(),
                ),
                sensor,
            })
        }
        Ok(Ok(Header::Proxy { datagram: true, .. })) => {
            "a datagram header on a TCP listener".into()
        }
        Ok(Err(why)) => why,
        Err(_) => format!("no header in {} s", HEADER_TIMEOUT.as_secs()),
    };
    let n = REFUSED.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_power_of_two() {
        tracing::warn!(
            from = %peer,
            listener = %local,
            refused = n,
            "proxy_protocol listener: connection closed: {why} (is a proxy sending the PROXY header in front of it?)"
        );
    }
    None
}
