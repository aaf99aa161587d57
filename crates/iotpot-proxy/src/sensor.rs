//! The sensor's end of the link: one QUIC connection to the central; the
//! listeners the central names; every TCP connection accepted on them
//! becomes one QUIC stream that starts with a PROXY v2 header (the
//! attacker's address and port, the address and port it reached here) and
//! then carries the bytes both ways, half-closes included; every datagram
//! on a UDP face (the 53413 backdoor) becomes one QUIC datagram with a
//! PROXY v2 DGRAM header, and the central's answers leave from the same
//! socket. Nothing the attacker sends is read here beyond the transport.
//!
//! When the link drops, the listeners close (attackers see a closed port)
//! and the sensor connects again, with backoff and jitter.

use crate::control::{Face, Listeners, MAX_MESSAGE};
use crate::pki::SensorFile;
use iotpot_wire::proxy;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;

/// Largest datagram read on a backdoor face.
const MAX_DATAGRAM: usize = 2048;
/// Reconnect backoff: from the first to the longest wait.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(30));

/// Run the sensor until `shutdown`.
pub async fn run(file: SensorFile, shutdown: CancellationToken) -> anyhow::Result<()> {
    let link = file.central;
    let config = crate::link::sensor_config(&link)?;
    let mut endpoint = quinn::Endpoint::client("0.0.0.0:0".parse()?)?;
    endpoint.set_default_client_config(config);
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
                let why = serve(&conn, &shutdown).await;
                if shutdown.is_cancelled() {
                    conn.close(0u32.into(), b"sensor shutting down");
                    break;
                }
                tracing::warn!(central = %link.address, "link to the central lost: {why}; reconnecting");
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
    endpoint.wait_idle().await;
    Ok(())
}

/// Serve one connection to the central until it ends; why it ended.
async fn serve(conn: &quinn::Connection, shutdown: &CancellationToken) -> String {
    // Listeners by face; each one's loop stops with its token.
    let mut open: HashMap<Face, CancellationToken> = HashMap::new();
    // The backdoor faces' sockets, by address: the central's answers leave
    // from the socket the attacker wrote to.
    let udp: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::default();
    let ended = loop {
        let uni = tokio::select! {
            _ = shutdown.cancelled() => break "shutdown".to_string(),
            d = conn.read_datagram() => {
                match d {
                    Ok(d) => answer(&d, &udp).await,
                    Err(e) => break e.to_string(),
                }
                continue;
            }
            u = conn.accept_uni() => u,
        };
        let mut recv = match uni {
            Ok(r) => r,
            Err(e) => break e.to_string(),
        };
        let message = match recv.read_to_end(MAX_MESSAGE).await {
            Ok(m) => m,
            Err(e) => break format!("a message from the central: {e}"),
        };
        // An answer too large for a QUIC datagram came on a stream.
        if crate::control::is_datagram(&message) {
            answer(&message, &udp).await;
            continue;
        }
        let listeners: Listeners = match serde_json::from_slice(&message).map_err(|e| e.to_string())
        {
            Ok(l) => l,
            Err(e) => break format!("a bad message from the central: {e}"),
        };
        // Close what is gone, open what is new.
        open.retain(|face, stop| {
            let keep = listeners.listen.contains(face);
            if !keep {
                stop.cancel();
                lock(&udp).remove(&face.address);
            }
            keep
        });
        for face in listeners.listen {
            if open.contains_key(&face) {
                continue;
            }
            let stop = CancellationToken::new();
            let bound = if face.service == "netis" {
                UdpSocket::bind(face.address).await.map(|s| {
                    let s = Arc::new(s);
                    lock(&udp).insert(face.address, s.clone());
                    tokio::spawn(datagrams(s, face.address, conn.clone(), stop.clone()));
                })
            } else {
                TcpListener::bind(face.address)
                    .await
                    .map(|l| drop(tokio::spawn(accept(l, conn.clone(), stop.clone()))))
            };
            match bound {
                Ok(()) => {
                    tracing::info!(address = %face.address, service = %face.service, "listening (relayed to the central)");
                    open.insert(face, stop);
                }
                Err(e) => {
                    tracing::warn!(address = %face.address, service = %face.service, error = %e, "cannot listen");
                }
            }
        }
    };
    for stop in open.values() {
        stop.cancel();
    }
    ended
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A backdoor face: each datagram to the central as one QUIC datagram with
/// a PROXY v2 header (the attacker, this face).
async fn datagrams(
    sock: Arc<UdpSocket>,
    face: SocketAddr,
    conn: quinn::Connection,
    stop: CancellationToken,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = tokio::select! {
            _ = stop.cancelled() => return,
            r = sock.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(_) => continue,
            },
        };
        let mut d = proxy::encode_v2(canonical(from), face, true, None);
        d.extend_from_slice(&buf[..n]);
        crate::control::send_datagram(&conn, d);
    }
}

/// An answer from the central: sent from the face's socket to the attacker
/// its header names.
async fn answer(d: &[u8], udp: &Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>) {
    let proxy::Parse::Done {
        header:
            proxy::Header::Proxy {
                source,
                destination,
                datagram: true,
                ..
            },
        len,
    } = proxy::parse(d)
    else {
        return;
    };
    let sock = lock(udp).get(&source).cloned();
    if let Some(sock) = sock {
        let _ = sock.send_to(&d[len..], destination).await;
    }
}

async fn accept(listener: TcpListener, conn: quinn::Connection, stop: CancellationToken) {
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
        let conn = conn.clone();
        tokio::spawn(async move {
            let local = match stream.local_addr() {
                Ok(a) => a,
                Err(_) => return,
            };
            relay(stream, peer, local, conn).await;
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
