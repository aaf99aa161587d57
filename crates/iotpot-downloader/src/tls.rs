//! TLS for HTTPS downloads: iotpot's client that does not verify
//! certificates (`iotpot_core::tls`, see there why).

use crate::fetch::FetchError;
use crate::url::{Host, Url};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The TLS handshake over an already-checked TCP connection.
pub async fn connect(tcp: TcpStream, url: &Url) -> Result<TlsStream<TcpStream>, FetchError> {
    let name = match &url.host {
        Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        Host::Name(n) => {
            ServerName::try_from(n.clone()).map_err(|e| FetchError::Url(e.to_string()))?
        }
    };
    let config = iotpot_core::tls::any_certificate_config()
        .map_err(|e| FetchError::Unsupported(format!("tls: {e}")))?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| FetchError::Protocol(format!("tls: {e}")))
}
