//! The sensor's end of the link: one QUIC connection to the central; the
//! listeners the central names; every TCP connection accepted on them
//! becomes one QUIC stream that starts with a PROXY v2 header (the
//! attacker's address and port, the address and port it reached here) and
//! then carries the bytes both ways, half-closes included. Nothing the
//! attacker sends is read here beyond the transport.
//!
//! When the link drops, the listeners close (attackers see a closed port)
//! and the sensor connects again, with backoff and jitter.

use crate::control::{Face, Listeners, MAX_MESSAGE};
use crate::pki::SensorFile;
use iotpot_wire::proxy;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

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
    // Listeners by face; each accept loop stops with its token.
    let mut open: HashMap<Face, CancellationToken> = HashMap::new();
    let ended = loop {
        let uni = tokio::select! {
            _ = shutdown.cancelled() => break "shutdown".to_string(),
            u = conn.accept_uni() => u,
        };
        let mut recv = match uni {
            Ok(r) => r,
            Err(e) => break e.to_string(),
        };
        let listeners: Listeners = match recv
            .read_to_end(MAX_MESSAGE)
            .await
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(l) => l,
            Err(e) => break format!("a bad message from the central: {e}"),
        };
        // Close what is gone, open what is new.
        open.retain(|face, stop| {
            let keep = listeners.listen.contains(face);
            if !keep {
                stop.cancel();
            }
            keep
        });
        for face in listeners.listen {
            if open.contains_key(&face) {
                continue;
            }
            match TcpListener::bind(face.address).await {
                Ok(l) => {
                    tracing::info!(address = %face.address, service = %face.service, "listening (relayed to the central)");
                    let stop = CancellationToken::new();
                    tokio::spawn(accept(l, conn.clone(), stop.clone()));
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
