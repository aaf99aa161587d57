//! The QUIC link's TLS: both ends authenticated by the deployment's CA
//! (TLS 1.3, as QUIC requires; ring), the transport's keepalives, and
//! the endpoints' UDP sockets.

use crate::pki::{Pki, SensorLink};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use std::time::Duration;

/// The link's ALPN: a central answers nothing else.
pub const ALPN: &[u8] = b"iotpot-sensor/1";
/// A silent link is kept alive by pings this often...
pub const KEEPALIVE: Duration = Duration::from_secs(1);
/// ... and given up after this long without a packet: a sensor whose
/// central died answers on its own (degraded) this soon.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Relayed connections open at once on one link.
pub const MAX_STREAMS: u32 = 65_536;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(pem: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("a certificate: {e}"))?;
    if certs.is_empty() {
        anyhow::bail!("no certificate in the PEM");
    }
    Ok(certs)
}

fn key(pem: &str) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| anyhow::anyhow!("a private key: {e}"))
}

fn roots(ca_pem: &str) -> anyhow::Result<Arc<rustls::RootCertStore>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs(ca_pem)? {
        roots.add(c)?;
    }
    Ok(Arc::new(roots))
}

fn transport() -> anyhow::Result<Arc<quinn::TransportConfig>> {
    let mut t = quinn::TransportConfig::default();
    t.keep_alive_interval(Some(KEEPALIVE));
    t.max_idle_timeout(Some(IDLE_TIMEOUT.try_into()?));
    t.max_concurrent_bidi_streams(MAX_STREAMS.into());
    t.max_concurrent_uni_streams(16u32.into());
    Ok(Arc::new(t))
}

/// A QUIC endpoint on `bind` (a central's when `server` is given, a
/// sensor's otherwise) whose UDP socket has roomy buffers
/// (`iotpot_frontend::udp::roomy`): a burst of the link's packets waits
/// in the kernel instead of being dropped.
pub fn endpoint(
    bind: std::net::SocketAddr,
    server: Option<quinn::ServerConfig>,
) -> anyhow::Result<quinn::Endpoint> {
    let sock = std::net::UdpSocket::bind(bind)
        .map_err(|e| anyhow::anyhow!("binding {bind} (QUIC, UDP): {e}"))?;
    iotpot_frontend::udp::roomy(&sock);
    let runtime = quinn::default_runtime().ok_or_else(|| anyhow::anyhow!("no async runtime"))?;
    Ok(quinn::Endpoint::new(
        quinn::EndpointConfig::default(),
        server,
        sock,
        runtime,
    )?)
}

/// The central's side: its certificate, and every sensor must show one the
/// deployment's CA signed (which one it is, `Pki::issued_to` says).
pub fn central_config(pki: &Pki) -> anyhow::Result<quinn::ServerConfig> {
    let (cert, key_pem) = pki.central_identity()?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        roots(&pki.ca_pem()?)?,
        provider(),
    )
    .build()?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(&cert)?, key(&key_pem)?)?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(transport()?);
    Ok(config)
}

/// The sensor's side: the central must show the CA's certificate for
/// `server_name`; the sensor shows its own.
pub fn sensor_config(link: &SensorLink) -> anyhow::Result<quinn::ClientConfig> {
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots(&link.ca)?)
        .with_client_auth_cert(certs(&link.certificate)?, key(&link.key)?)?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls)?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    config.transport_config(transport()?);
    Ok(config)
}
