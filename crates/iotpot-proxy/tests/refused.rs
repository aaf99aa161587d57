//! A central on loopback (real QUIC, real TLS) and clients that try it: a
//! sensor with its certificate is told its listeners; a client with no
//! certificate, one with a certificate of the right CA but another
//! name's key, or one that does not know the central's CA get nothing.

use iotpot_proxy::central::{Central, Plan};
use iotpot_proxy::control::Listeners;
use iotpot_proxy::pki::{Pki, SensorLink};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client that trusts the deployment's CA and shows no certificate.
fn anonymous(link: &SensorLink) -> quinn::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(link.ca.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![iotpot_proxy::link::ALPN.to_vec()];
    quinn::ClientConfig::new(Arc::new(
        quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap(),
    ))
}

/// What the central tells a client configured with `config`: its first
/// message, or why there is none.
async fn told(central: SocketAddr, config: quinn::ClientConfig) -> Result<Listeners, String> {
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(config);
    let attempt = async {
        let conn = endpoint
            .connect(central, "127.0.0.1")
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let mut uni = conn
            .accept_uni()
            .await
            .map_err(|e| format!("closed: {e}"))?;
        let message = uni.read_to_end(1 << 23).await.map_err(|e| e.to_string())?;
        serde_json::from_slice(&message).map_err(|e| e.to_string())
    };
    tokio::time::timeout(Duration::from_secs(10), attempt)
        .await
        .map_err(|_| "no answer in 10 s".to_string())?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_certified_sensor_is_told_anything() {
    let dir = std::env::temp_dir().join(format!("iotpot-refused-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let socket = std::net::UdpSocket::bind(bind).unwrap();
    let port = socket.local_addr().unwrap().port();
    drop(socket);
    let pki_dir = dir.join("pki");
    let mut pki = Pki::init(&pki_dir, &format!("127.0.0.1:{port}")).unwrap();
    let osaka = pki.issue_sensor("osaka-2", 1).unwrap();
    let nara = pki.issue_sensor("nara-4", 1).unwrap();
    let mut foreign = Pki::init(&dir.join("other"), &format!("127.0.0.1:{port}")).unwrap();
    let stranger = foreign.issue_sensor("osaka-2", 1).unwrap();

    let listeners = Listeners {
        listen: Vec::new(),
        seed: "00".repeat(32),
        profiles: Default::default(),
    };
    let plans: HashMap<String, Plan> = [(
        "osaka-2".to_string(),
        Plan {
            routes: Vec::new(),
            listeners,
        },
    )]
    .into();
    let (_plans_tx, plans_rx) = tokio::sync::watch::channel(Arc::new(plans));
    let (_bus, events) = iotpot_store::Bus::start(Vec::new(), 16, 16);
    let central = Central {
        pki_dir: pki_dir.clone(),
        sensors: plans_rx,
        board: iotpot_proxy::status::Board::new(
            &dir.join("sensors.json"),
            ["osaka-2".to_string()].into_iter(),
        ),
        intake: Arc::new(iotpot_proxy::replay::Intake {
            events,
            put_sample: Arc::new(|_: &[u8]| Ok(())),
        }),
        tap: Default::default(),
    };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let endpoint = iotpot_proxy::central::endpoint(addr, &pki_dir).unwrap();
    let stop = CancellationToken::new();
    let served = tokio::spawn(iotpot_proxy::central::serve(
        endpoint,
        central,
        stop.clone(),
    ));

    // The sensor itself: told its (empty) listeners and the seed.
    let ok = told(addr, iotpot_proxy::link::sensor_config(&osaka).unwrap()).await;
    assert_eq!(ok.map(|l| l.seed), Ok("00".repeat(32)));
    // No certificate: the handshake fails.
    let none = told(addr, anonymous(&osaka)).await;
    assert!(none.is_err(), "{none:?}");
    // Another CA's certificate with the same name: the handshake fails.
    let other = SensorLink {
        ca: osaka.ca.clone(),
        ..stranger.clone()
    };
    let r = told(addr, iotpot_proxy::link::sensor_config(&other).unwrap()).await;
    assert!(r.is_err(), "{r:?}");
    // A certificate of this CA for a sensor without a [[sensor]] table:
    // closed at once, told nothing.
    let r = told(addr, iotpot_proxy::link::sensor_config(&nara).unwrap()).await;
    assert!(r.as_ref().is_err_and(|e| e.starts_with("closed")), "{r:?}");
    // Revoked: refused.
    pki.revoke("osaka-2").unwrap();
    let r = told(addr, iotpot_proxy::link::sensor_config(&osaka).unwrap()).await;
    assert!(r.as_ref().is_err_and(|e| e.starts_with("closed")), "{r:?}");
    stop.cancel();
    served.await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
