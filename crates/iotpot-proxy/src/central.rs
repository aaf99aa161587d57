//! The central's end of the link: it accepts sensors (each known by its
//! certificate), tells each its listeners, and hands every relayed
//! connection to the listener of the central that serves that face.
//!
//! A relayed connection arrives as a QUIC stream that starts with a PROXY
//! v2 header (the attacker, and what they reached on the sensor). The
//! central hands the stream, as it is, to the service that serves that
//! face (a [`RelayFace`]: the same services, limits and events as a local
//! listener's), in the process. A datagram goes to the central's loopback
//! backdoor socket for its face, with the header and the sensor's name.

use crate::control::{Face, Listeners, MAX_MESSAGE};
use crate::pki::Pki;
use crate::status::{Board, Counters};
use iotpot_core::config::Service;
use iotpot_frontend::{RelayFace, RelayTarget};
use iotpot_wire::proxy::{self, Header, Parse, MAX_HEADER};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a sensor has to send a stream's header.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the revoked list is read again (a revoked sensor is dropped).
const REVOCATION_CHECK: Duration = Duration::from_secs(1);

/// One face of one sensor: where it listens, and what serves it on the
/// central.
#[derive(Clone)]
pub struct Route {
    pub face: Face,
    pub to: RelayTarget,
}

/// What the central has for one sensor: its routes, and the message that
/// tells it its listeners.
#[derive(Clone)]
pub struct Plan {
    pub routes: Vec<Route>,
    pub listeners: Listeners,
}

/// A central's sensors by name; a new value (the config read again) is
/// pushed to the connected sensors.
pub type Sensors = tokio::sync::watch::Receiver<Arc<std::collections::HashMap<String, Plan>>>;

/// Everything a sensor's link needs from the central.
#[derive(Clone)]
pub struct Central {
    pub pki_dir: PathBuf,
    pub sensors: Sensors,
    pub board: Board,
    /// Where replayed spools go.
    pub intake: Arc<crate::replay::Intake>,
    /// The capture's report of relayed connections.
    pub tap: iotpot_capture::tap::Tap,
}

/// The central's QUIC endpoint on `bind` (UDP), with the keys in `pki_dir`.
pub fn endpoint(bind: SocketAddr, pki_dir: &std::path::Path) -> anyhow::Result<quinn::Endpoint> {
    let pki = Pki::open(pki_dir)?;
    crate::link::endpoint(bind, Some(crate::link::central_config(&pki)?))
}

/// Accept sensors on `endpoint` until `shutdown`; what is known of them
/// goes on `board`.
pub async fn serve(endpoint: quinn::Endpoint, central: Central, shutdown: CancellationToken) {
    tokio::spawn(central.board.clone().keep_written(shutdown.clone()));
    if let Ok(a) = endpoint.local_addr() {
        let n = central.sensors.borrow().len();
        tracing::info!(address = %a, sensors = n, "listening for sensors (QUIC)");
    }
    loop {
        let incoming = tokio::select! {
            _ = shutdown.cancelled() => break,
            i = endpoint.accept() => match i {
                Some(i) => i,
                None => break,
            },
        };
        let (central, shutdown) = (central.clone(), shutdown.clone());
        tokio::spawn(async move {
            let from = incoming.remote_address();
            if let Err(e) = sensor(incoming, central, shutdown).await {
                tracing::warn!(%from, error = %e, "sensor link ended");
            }
        });
    }
    endpoint.close(0u32.into(), b"central shutting down");
    endpoint.wait_idle().await;
}

/// The sensor a connection's certificate names, if it may connect; else
/// why not (and the name, for a revoked sensor).
fn identify(
    conn: &quinn::Connection,
    pki_dir: &std::path::Path,
) -> Result<String, (Option<String>, String)> {
    let refused = |why: &str| (None, why.to_string());
    let certs = conn
        .peer_identity()
        .and_then(|i| {
            i.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
                .ok()
        })
        .ok_or_else(|| refused("no certificate"))?;
    let der = certs.first().ok_or_else(|| refused("no certificate"))?;
    let pki = Pki::open(pki_dir).map_err(|e| refused(&e.to_string()))?;
    match pki.issued_to(der) {
        None => Err(refused("a certificate not issued here")),
        Some(n) if pki.is_revoked(n) => Err((Some(n.to_string()), "revoked".into())),
        Some(n) => Ok(n.to_string()),
    }
}

async fn sensor(
    incoming: quinn::Incoming,
    central: Central,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let Central {
        pki_dir,
        mut sensors,
        board,
        intake,
        tap,
    } = central;
    let from = incoming.remote_address();
    let conn = incoming.await?;
    let name = match identify(&conn, &pki_dir) {
        Ok(n) => n,
        Err((name, why)) => {
            conn.close(1u32.into(), b"refused");
            if let Some(n) = &name {
                board.refused(n, &why);
            }
            anyhow::bail!("refused {}: {why}", name.as_deref().unwrap_or("a sensor"));
        }
    };
    let plan = sensors.borrow_and_update().get(&name).cloned();
    let Some(plan) = plan else {
        conn.close(2u32.into(), b"no listeners for this sensor");
        anyhow::bail!("sensor {name:?} has no [[sensor]] table here: refused");
    };
    tracing::info!(sensor = %name, %from, listeners = plan.routes.len(), "sensor connected");
    board.connected(&name, from, plan.listeners.listen.clone());
    let counters = board.counters(&name);
    tell(&conn, &plan.listeners).await?;
    let mut routes = Arc::new(plan.routes);
    let name: Arc<str> = name.into();
    let mut check = tokio::time::interval(REVOCATION_CHECK);
    // Datagrams: to the central's backdoor listeners and back, through one
    // loopback socket for this sensor.
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    iotpot_frontend::udp::roomy(&udp);
    let mut buf = vec![0u8; MAX_HEADER + MAX_DATAGRAM];
    let ended = loop {
        tokio::select! {
            _ = shutdown.cancelled() => {
                conn.close(0u32.into(), b"central shutting down");
                break "shutdown".to_string();
            }
            _ = check.tick() => {
                if Pki::open(&pki_dir).is_ok_and(|p| p.is_revoked(&name)) {
                    conn.close(3u32.into(), b"revoked");
                    break "revoked: dropped".to_string();
                }
            }
            Ok(()) = sensors.changed() => {
                // The config was read again: this sensor's new listeners.
                let plan = sensors.borrow_and_update().get(&*name).cloned();
                let Some(plan) = plan else {
                    conn.close(2u32.into(), b"no listeners for this sensor");
                    break "its [[sensor]] table was removed".to_string();
                };
                tracing::info!(sensor = %name, listeners = plan.routes.len(), "sensor's listeners changed: pushed");
                board.connected(&name, from, plan.listeners.listen.clone());
                if let Err(e) = tell(&conn, &plan.listeners).await {
                    break format!("pushing its listeners: {e}");
                }
                routes = Arc::new(plan.routes);
            }
            d = conn.read_datagram() => match d {
                Ok(d) => datagram_in(&d, &routes, &name, &udp, &counters).await,
                Err(e) => break e.to_string(),
            },
            r = udp.recv_from(&mut buf) => {
                // An answer, with its PROXY header for the sensor.
                if let Ok((n, _)) = r {
                    // The answer's payload, after its header.
                    if let Parse::Done { len, .. } = proxy::parse(&buf[..n]) {
                        counters.bytes_out.fetch_add((n - len) as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                    crate::control::send_datagram(&conn, buf[..n].to_vec());
                }
            }
            u = conn.accept_uni() => match u {
                // A datagram too large for a QUIC datagram.
                Ok(mut recv) => {
                    if let Ok(d) = recv.read_to_end(MAX_HEADER + MAX_DATAGRAM).await {
                        datagram_in(&d, &routes, &name, &udp, &counters).await;
                    }
                }
                Err(e) => break e.to_string(),
            },
            s = conn.accept_bi() => match s {
                Ok((send, recv)) => {
                    let stream = Stream { routes: routes.clone(), sensor: name.clone(), counters: counters.clone(), intake: intake.clone(), board: board.clone(), tap: tap.clone() };
                    tokio::spawn(stream.serve(send, recv));
                }
                Err(e) => break e.to_string(),
            },
        }
    };
    tracing::info!(sensor = %name, %from, "sensor disconnected: {ended}");
    board.disconnected(&name, &ended);
    Ok(())
}

/// Tell a sensor its listeners (a message on a stream of its own).
async fn tell(conn: &quinn::Connection, listeners: &Listeners) -> anyhow::Result<()> {
    let message = serde_json::to_vec(listeners)?;
    anyhow::ensure!(
        message.len() <= MAX_MESSAGE,
        "the sensor's listeners and profiles take {} bytes (at most {MAX_MESSAGE})",
        message.len()
    );
    let mut control = conn.open_uni().await?;
    control.write_all(&message).await?;
    control.finish()?;
    Ok(())
}

/// Largest datagram relayed (the backdoor reads at most 2 KiB).
const MAX_DATAGRAM: usize = 2048;

/// A datagram from the sensor: to the central's listener of its face.
async fn datagram_in(
    d: &[u8],
    routes: &[Route],
    sensor: &str,
    udp: &tokio::net::UdpSocket,
    counters: &Counters,
) {
    let Some(proxy::Datagram {
        source,
        destination,
        payload: len,
        ..
    }) = proxy::datagram(d)
    else {
        tracing::debug!(%sensor, "a datagram without a header: dropped");
        return;
    };
    let Some(RelayTarget::Listener(to)) = find(routes, true, destination).map(|r| &r.to) else {
        tracing::debug!(%sensor, %destination, "a datagram to no face of the sensor: dropped");
        return;
    };
    counters
        .bytes_in
        .fetch_add((d.len() - len) as u64, std::sync::atomic::Ordering::Relaxed);
    let mut out = proxy::encode_v2(source, destination, true, Some(sensor));
    out.extend_from_slice(&d[len..]);
    let _ = udp.send_to(&out, to).await;
}

/// The face a relayed connection (or, `datagram`, a datagram) reached.
fn find(routes: &[Route], datagram: bool, destination: SocketAddr) -> Option<&Route> {
    routes.iter().find(|r| {
        (r.face.service == Service::Netis) == datagram
            && r.face.address.port() == destination.port()
            && (r.face.address.ip().is_unspecified() || r.face.address.ip() == destination.ip())
    })
}

/// Read a stream's PROXY header, exactly (its first byte read already).
async fn read_header(recv: &mut quinn::RecvStream, first: u8) -> Result<Header, String> {
    let mut buf = [0u8; MAX_HEADER];
    buf[0] = first;
    let mut have = 1;
    loop {
        match proxy::parse(&buf[..have]) {
            Parse::Need(n) => {
                recv.read_exact(&mut buf[have..n])
                    .await
                    .map_err(|e| format!("the stream ended in its header ({e})"))?;
                have = n;
            }
            Parse::Done { header, .. } => return Ok(header),
            Parse::Invalid(why) => return Err(why),
        }
    }
}

/// A stream a sensor opened: a relayed connection, or its spool replayed.
struct Stream {
    routes: Arc<Vec<Route>>,
    sensor: Arc<str>,
    counters: Arc<Counters>,
    intake: Arc<crate::replay::Intake>,
    board: Board,
    tap: iotpot_capture::tap::Tap,
}

impl Stream {
    async fn serve(self, send: quinn::SendStream, mut recv: quinn::RecvStream) {
        let sensor = self.sensor.clone();
        let mut first = [0u8; 1];
        let header = async {
            recv.read_exact(&mut first)
                .await
                .map_err(|e| format!("the stream ended at once ({e})"))?;
            if first[0] == crate::replay::MAGIC[0] {
                return Ok(None);
            }
            read_header(&mut recv, first[0]).await.map(Some)
        };
        let header = match tokio::time::timeout(HEADER_TIMEOUT, header).await {
            Ok(Ok(Some(h))) => h,
            Ok(Ok(None)) => {
                let replayed = crate::replay::receive(
                    send,
                    recv,
                    &sensor,
                    &self.intake,
                    &self.counters,
                    &self.board,
                )
                .await;
                if let Err(e) = replayed {
                    tracing::warn!(%sensor, error = %e, "a spool replay ended early (the sensor sends the rest again)");
                }
                return;
            }
            Ok(Err(why)) => {
                tracing::warn!(%sensor, "a relayed stream refused: {why}");
                return;
            }
            Err(_) => {
                tracing::warn!(%sensor, "a relayed stream sent no header");
                return;
            }
        };
        self.relay(header, send, recv).await;
    }

    /// One relayed connection: to the service of its face.
    async fn relay(self, header: Header, mut send: quinn::SendStream, recv: quinn::RecvStream) {
        let sensor = self.sensor;
        let Header::Proxy {
            source,
            destination,
            datagram: false,
            ..
        } = header
        else {
            tracing::warn!(%sensor, "a relayed stream without a TCP client's addresses");
            return;
        };
        let face: Option<&RelayFace> = match find(&self.routes, false, destination).map(|r| &r.to) {
            Some(RelayTarget::Direct(face)) => Some(face),
            _ => None,
        };
        let Some(face) = face else {
            tracing::warn!(%sensor, %destination, "a relayed connection to no listener of the sensor");
            let _ = send.reset(4u32.into());
            return;
        };
        let tap = self.tap.open(source, destination);
        let conn = crate::relayed::Relayed::new(send, recv, self.counters, tap);
        // Refused by a connection limit (reported by the face): the
        // stream is dropped, and the attacker's connection closed.
        face.serve(conn, source, destination, sensor);
    }
}
