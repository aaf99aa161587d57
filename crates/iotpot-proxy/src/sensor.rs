//! The sensor's end of the link: one QUIC connection to the central; the
//! listeners the central names; every TCP connection accepted on them
//! becomes one QUIC stream that starts with a PROXY v2 header (the
//! attacker's address and port, the address and port it reached here) and
//! then carries the bytes both ways, half-closes included; every datagram
//! on a UDP face (the 53413 backdoor) becomes one QUIC datagram with a
//! PROXY v2 DGRAM header, and the central's answers leave from the same
//! socket. Nothing the attacker sends is read here beyond the transport.
//!
//! When the link drops, the listeners stay open and the sensor answers on
//! its own (degraded mode): the same devices, from the profiles and seed
//! the central last pushed, served by an [`Emulator`] (the same services
//! as the central's, without IoTBOX) whose events go to the [`Spool`].
//! Meanwhile it connects again, with backoff and jitter; once the link is
//! back, new connections are relayed again and the spool is replayed
//! ([`crate::replay`]).

use crate::control::{Face, Listeners, MAX_MESSAGE};
use crate::pki::SensorFile;
use crate::spool::Spool;
use iotpot_core::config::Service;
use iotpot_frontend::udp::Udp;
use iotpot_wire::proxy;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;

/// Largest datagram read on a backdoor face.
const MAX_DATAGRAM: usize = 2048;
/// Reconnect backoff: from the first to the longest wait.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(15));
/// How often a connected sensor looks for spooled work to replay.
const REPLAY_EVERY: Duration = Duration::from_secs(1);

/// The sensor's own answers while the central is away.
pub trait Emulator: Send {
    /// Answer these faces from now on (what was served before stops):
    /// for each face, in order, the loopback listener that serves it with
    /// a PROXY v2 header first (`None`: this face cannot be served).
    fn serve<'a>(
        &'a mut self,
        listeners: &'a Listeners,
    ) -> Pin<Box<dyn Future<Output = Vec<Option<SocketAddr>>> + Send + 'a>>;
}

/// What a sensor has besides its link.
pub struct Options {
    /// Where degraded sessions' events and samples wait for the central.
    pub spool: Option<Arc<Spool>>,
    pub emulator: Option<Box<dyn Emulator>>,
    /// The name degraded events carry (the central replaces it with the
    /// name of the sensor's certificate).
    pub name: String,
}

/// The backdoor faces' sockets, by the address each is bound to.
type Faces = Mutex<HashMap<SocketAddr, Arc<Udp>>>;

/// What the listeners' tasks share.
struct Shared {
    /// The link, while there is one.
    link: Mutex<Option<quinn::Connection>>,
    /// Degraded mode: each face's local listener, by (UDP?, face address).
    local: Mutex<HashMap<(bool, SocketAddr), SocketAddr>>,
    /// The backdoor faces' sockets, by address: answers leave from the
    /// socket (and the address) the attacker wrote to.
    udp: Faces,
    /// Degraded datagrams go to the local backdoor from here (and its
    /// answers come back here).
    local_udp: Arc<UdpSocket>,
    name: String,
}

impl Shared {
    fn link(&self) -> Option<quinn::Connection> {
        lock(&self.link).clone()
    }

    fn local(&self, udp: bool, face: SocketAddr) -> Option<SocketAddr> {
        lock(&self.local).get(&(udp, face)).copied()
    }
}

/// Run the sensor until `shutdown`.
pub async fn run(
    file: SensorFile,
    mut options: Options,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let link = file.central;
    let config = crate::link::sensor_config(&link)?;
    let mut endpoint = crate::link::endpoint("0.0.0.0:0".parse()?, None)?;
    endpoint.set_default_client_config(config);
    let shared = Arc::new(Shared {
        link: Mutex::default(),
        local: Mutex::default(),
        udp: Mutex::default(),
        local_udp: Arc::new({
            let s = UdpSocket::bind("127.0.0.1:0").await?;
            iotpot_frontend::udp::roomy(&s);
            s
        }),
        name: options.name.clone(),
    });
    tokio::spawn(local_answers(shared.clone(), shutdown.clone()));
    let mut faces: HashMap<Face, CancellationToken> = HashMap::new();
    // The central's last word, from an earlier run: serve it until the
    // central says otherwise.
    if let Some(saved) = options.spool.as_ref().and_then(|s| s.saved_listeners()) {
        match serde_json::from_slice::<Listeners>(&saved) {
            Ok(l) => {
                tracing::info!(
                    listeners = l.listen.len(),
                    "serving the listeners the central last pushed"
                );
                apply(&l, &shared, &mut faces, &mut options).await;
            }
            Err(e) => tracing::warn!(error = %e, "the kept listeners do not read: ignored"),
        }
    }
    let mut wait = BACKOFF.0;
    loop {
        let attempt = async {
            let addr = tokio::net::lookup_host(&link.address)
                .await?
                .next()
                .ok_or_else(|| anyhow::anyhow!("{}: no address", link.address))?;
            let conn = endpoint.connect(addr, &link.server_name)?.await?;
            tracing::info!(central = %link.address, "connected to the central");
            Ok::<_, anyhow::Error>(conn)
        };
        let conn = tokio::select! {
            _ = shutdown.cancelled() => break,
            c = attempt => c,
        };
        match conn {
            Ok(conn) => {
                wait = BACKOFF.0;
                *lock(&shared.link) = Some(conn.clone());
                let replay = options
                    .spool
                    .clone()
                    .map(|s| tokio::spawn(replayer(conn.clone(), s)));
                let why = serve(&conn, &shared, &mut faces, &mut options, &shutdown).await;
                *lock(&shared.link) = None;
                if let Some(r) = replay {
                    r.abort();
                }
                if shutdown.is_cancelled() {
                    conn.close(0u32.into(), b"sensor shutting down");
                    break;
                }
                if let Some(why) = refused(&conn) {
                    // Not a central that went away: one that will not
                    // have this sensor. Nothing more is answered here.
                    tracing::error!(central = %link.address, "the central refused this sensor ({why}): listeners closed");
                    let none = Listeners {
                        listen: Vec::new(),
                        seed: String::new(),
                        profiles: Default::default(),
                    };
                    apply(&none, &shared, &mut faces, &mut options).await;
                    if let Some(spool) = &options.spool {
                        spool.forget_listeners();
                    }
                } else {
                    let mode = if options.emulator.is_some() {
                        "answering on its own (degraded)"
                    } else {
                        "not answering"
                    };
                    tracing::warn!(central = %link.address, "link to the central lost: {why}; {mode} until it is back");
                }
            }
            Err(e) => {
                tracing::warn!(central = %link.address, error = %e, retry_in = ?wait, "cannot reach the central");
            }
        }
        // Jitter: sensors that lost one central do not all come back at once.
        let jittered = wait.mul_f64(0.5 + fastrand::f64());
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(jittered) => {}
        }
        wait = (wait * 2).min(BACKOFF.1);
    }
    for stop in faces.values() {
        stop.cancel();
    }
    endpoint.wait_idle().await;
    Ok(())
}

/// Why the central closed the link, when it refused this sensor (its
/// certificate is unknown or revoked, or it has no listeners for it); not
/// for a central that shut down or a link that was lost.
fn refused(conn: &quinn::Connection) -> Option<String> {
    match conn.close_reason()? {
        quinn::ConnectionError::ApplicationClosed(c) if c.error_code != 0u32.into() => {
            Some(String::from_utf8_lossy(&c.reason).into_owned())
        }
        _ => None,
    }
}

/// While connected: replay the spool whenever it holds something.
async fn replayer(conn: quinn::Connection, spool: Arc<Spool>) {
    loop {
        match crate::replay::send(&conn, &spool).await {
            Ok((0, 0)) => {}
            Ok((segments, samples)) => {
                tracing::info!(segments, samples, "spool replayed to the central")
            }
            Err(e) => {
                tracing::warn!(error = %e, "replaying the spool stopped; trying again")
            }
        }
        tokio::time::sleep(REPLAY_EVERY).await;
    }
}

/// Serve one connection to the central until it ends; why it ended.
async fn serve(
    conn: &quinn::Connection,
    shared: &Arc<Shared>,
    faces: &mut HashMap<Face, CancellationToken>,
    options: &mut Options,
    shutdown: &CancellationToken,
) -> String {
    loop {
        let uni = tokio::select! {
            _ = shutdown.cancelled() => return "shutdown".to_string(),
            d = conn.read_datagram() => {
                match d {
                    Ok(d) => answer(&d, &shared.udp).await,
                    Err(e) => return e.to_string(),
                }
                continue;
            }
            u = conn.accept_uni() => u,
        };
        let mut recv = match uni {
            Ok(r) => r,
            Err(e) => return e.to_string(),
        };
        let message = match recv.read_to_end(MAX_MESSAGE).await {
            Ok(m) => m,
            Err(e) => return format!("a message from the central: {e}"),
        };
        // An answer too large for a QUIC datagram came on a stream.
        if crate::control::is_datagram(&message) {
            answer(&message, &shared.udp).await;
            continue;
        }
        let listeners: Listeners = match serde_json::from_slice(&message) {
            Ok(l) => l,
            Err(e) => return format!("a bad message from the central: {e}"),
        };
        if let Some(spool) = &options.spool {
            spool.save_listeners(&message);
        }
        apply(&listeners, shared, faces, options).await;
    }
}

/// Make the faces what `listeners` says: close what is gone, open what
/// is new, and have the emulator ready to answer them all.
async fn apply(
    listeners: &Listeners,
    shared: &Arc<Shared>,
    faces: &mut HashMap<Face, CancellationToken>,
    options: &mut Options,
) {
    faces.retain(|face, stop| {
        let keep = listeners.listen.contains(face);
        if !keep {
            stop.cancel();
            lock(&shared.udp).remove(&face.address);
            tracing::info!(address = %face.address, service = %face.service.name(), "listener closed (the central's config)");
        }
        keep
    });
    for face in &listeners.listen {
        if faces.contains_key(face) {
            continue;
        }
        let stop = CancellationToken::new();
        let bound = if face.service == Service::Netis {
            Udp::bind(face.address).await.map(|s| {
                let s = Arc::new(s);
                lock(&shared.udp).insert(face.address, s.clone());
                tokio::spawn(datagrams(s, face.address, shared.clone(), stop.clone()));
            })
        } else {
            TcpListener::bind(face.address).await.map(|l| {
                drop(tokio::spawn(accept(
                    l,
                    face.address,
                    shared.clone(),
                    stop.clone(),
                )))
            })
        };
        match bound {
            Ok(()) => {
                tracing::info!(address = %face.address, service = %face.service.name(), profile = %face.profile, "listening (relayed to the central)");
                faces.insert(face.clone(), stop);
            }
            Err(e) => {
                tracing::warn!(address = %face.address, service = %face.service.name(), error = %e, "cannot listen");
            }
        }
    }
    let Some(emulator) = options.emulator.as_mut() else {
        return;
    };
    let served = emulator.serve(listeners).await;
    let mut local = HashMap::new();
    for (face, to) in listeners.listen.iter().zip(served) {
        if let Some(to) = to {
            local.insert((face.service == Service::Netis, face.address), to);
        }
    }
    *lock(&shared.local) = local;
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A backdoor face: each datagram to the central as one QUIC datagram with
/// a PROXY v2 header (the attacker, this face); without the central, to
/// the local backdoor.
async fn datagrams(sock: Arc<Udp>, face: SocketAddr, shared: Arc<Shared>, stop: CancellationToken) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        // `reached`: the address the attacker wrote to (the face may be
        // bound to every address).
        let (n, from, reached) = tokio::select! {
            _ = stop.cancelled() => return,
            r = sock.recv(&mut buf) => match r {
                Ok(x) => x,
                Err(_) => continue,
            },
        };
        if let Some(conn) = shared.link() {
            let mut d = proxy::encode_v2(from, reached, true, None);
            d.extend_from_slice(&buf[..n]);
            crate::control::send_datagram(&conn, d);
        } else if let Some(to) = shared.local(true, face) {
            let mut d = proxy::encode_v2(from, reached, true, Some(&shared.name));
            d.extend_from_slice(&buf[..n]);
            let _ = shared.local_udp.send_to(&d, to).await;
        }
    }
}

/// The local backdoor's answers (degraded mode), to the attackers.
async fn local_answers(shared: Arc<Shared>, stop: CancellationToken) {
    let mut buf = vec![0u8; proxy::MAX_HEADER + MAX_DATAGRAM];
    loop {
        let n = tokio::select! {
            _ = stop.cancelled() => return,
            r = shared.local_udp.recv_from(&mut buf) => match r {
                Ok((n, _)) => n,
                Err(_) => continue,
            },
        };
        answer(&buf[..n], &shared.udp).await;
    }
}

/// An answer (from the central, or the local backdoor): sent from the
/// face's socket, and the address the attacker reached, to the attacker
/// its header names.
async fn answer(d: &[u8], udp: &Faces) {
    let Some(proxy::Datagram {
        source,
        destination,
        payload: len,
        ..
    }) = proxy::datagram(d)
    else {
        return;
    };
    let sock = {
        let faces = lock(udp);
        faces.get(&source).cloned().or_else(|| {
            faces
                .iter()
                .find(|(a, _)| a.port() == source.port() && a.ip().is_unspecified())
                .map(|(_, s)| s.clone())
        })
    };
    if let Some(sock) = sock {
        let _ = sock.send(&d[len..], destination, source.ip()).await;
    }
}

async fn accept(
    listener: TcpListener,
    face: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(local) = stream.local_addr() else {
                return;
            };
            if let Some(conn) = shared.link() {
                relay(stream, peer, local, conn).await;
            } else if let Some(to) = shared.local(false, face) {
                degraded(stream, peer, local, to, &shared.name).await;
            }
            // Neither: the attacker sees the connection closed.
        });
    }
}

/// One attacker's connection, through one QUIC stream.
async fn relay(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    conn: quinn::Connection,
) {
    let _ = stream.set_nodelay(true);
    let Ok((mut send, recv)) = conn.open_bi().await else {
        return;
    };
    let header = proxy::encode_v2(canonical(peer), canonical(local), false, None);
    if send.write_all(&header).await.is_err() {
        return;
    }
    let _ = crate::pump::pump(stream, send, recv).await;
}

/// One attacker's connection, answered here (the central is away).
async fn degraded(
    mut stream: tokio::net::TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    to: SocketAddr,
    name: &str,
) {
    let _ = stream.set_nodelay(true);
    let Ok(mut answering) = tokio::net::TcpStream::connect(to).await else {
        return;
    };
    let _ = answering.set_nodelay(true);
    let header = proxy::encode_v2(canonical(peer), canonical(local), false, Some(name));
    if answering.write_all(&header).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut stream, &mut answering).await;
}

/// `::ffff:a.b.c.d` is `a.b.c.d`.
fn canonical(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), a.port()),
            None => a,
        },
        v4 => v4,
    }
}
