//! The 53413/UDP Netis/Netcore backdoor service.
//!
//! Each source address gets its own state (logged in or not, and a shell of
//! the router persona) for as long as it keeps talking. Everything is
//! bounded: datagram size, datagrams per source per second and in all,
//! remembered sources, and every reply is at most 3x the datagram it answers
//! or 16 bytes (the source of a UDP datagram is unverified: the honeypot must
//! not be an amplifier).

use crate::telnet::session::{effect_event, Output};
use iotpot_core::escape::bytes_to_string;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_shell::{Shell, System};
use iotpot_store::EventTx;
use iotpot_wire::netis::{self, Kind};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

/// Largest datagram read; the rest is cut.
const MAX_DATAGRAM: usize = 2048;
/// Reply size limit, as a factor of the datagram's size.
const AMPLIFICATION: usize = 3;
/// Datagrams per second per source (burst twice that), and in all.
const PER_SOURCE_RATE: f64 = 20.0;
const GLOBAL_RATE: f64 = 2000.0;
/// Sources remembered at once, and how long a silent one is kept.
const MAX_PEERS: usize = 1024;
/// Bytes of files one source's shell may create.
pub const MAX_VFS_PER_SOURCE: usize = 256 << 10;
const PEER_IDLE: Duration = Duration::from_secs(600);

struct Peer {
    info: SessionInfo,
    shell: Option<Box<Shell>>,
    tokens: f64,
    last: Instant,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self, rate: f64, now: Instant) -> bool {
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * rate).min(rate * 2.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub struct NetisContext {
    pub device: Arc<System>,
    pub events: EventTx,
    pub shell_limits: iotpot_shell::Limits,
}

/// Serve the backdoor on `sock` until `shutdown`.
pub async fn serve(
    sock: UdpSocket,
    ctx: Arc<NetisContext>,
    sensor: Arc<str>,
    shutdown: CancellationToken,
) {
    let local = sock
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 53413)));
    let mut peers: HashMap<SocketAddr, Peer> = HashMap::new();
    let mut global = Bucket {
        tokens: GLOBAL_RATE,
        last: Instant::now(),
    };
    let mut dropped: u64 = 0;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = sock.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "netis recv failed");
                    continue;
                }
            },
        };
        let now = Instant::now();
        if !global.take(GLOBAL_RATE, now) {
            dropped += 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped,
                    "netis: global datagram rate exceeded, datagrams dropped"
                );
            }
            continue;
        }
        if !peers.contains_key(&from) && peers.len() >= MAX_PEERS {
            peers.retain(|_, p| now.duration_since(p.last) < PEER_IDLE);
            if peers.len() >= MAX_PEERS {
                dropped += 1;
                continue;
            }
        }
        let peer = peers.entry(from).or_insert_with(|| Peer {
            info: SessionInfo::new(from, local, sensor.clone(), "netis"),
            shell: None,
            tokens: PER_SOURCE_RATE * 2.0,
            last: now,
        });
        let mut bucket = Bucket {
            tokens: peer.tokens,
            last: peer.last,
        };
        let allowed = bucket.take(PER_SOURCE_RATE, now);
        peer.tokens = bucket.tokens;
        peer.last = now;
        if !allowed {
            dropped += 1;
            continue;
        }
        let data = &buf[..n];
        let (reply, events) = answer(&ctx, peer, data);
        let mut reply_length = 0;
        if let Some(r) = reply {
            reply_length = r.len() as u64;
            let _ = sock.send_to(&r, from).await;
        }
        let kind = netis::classify(data).name().to_string();
        let payload = data[..n.min(256)]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        ctx.events
            .send(peer.info.event(EventKind::NetisDatagram {
                length: n as u64,
                kind,
                payload,
                reply_length,
            }))
            .await;
        for e in events {
            ctx.events.send(peer.info.event(e)).await;
        }
    }
}

/// The backdoor's answer to one datagram, and the events it makes.
fn answer(ctx: &NetisContext, peer: &mut Peer, data: &[u8]) -> (Option<Vec<u8>>, Vec<EventKind>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let prompt = ctx.device.persona.profile.telnet.prompt.as_bytes();
    match netis::classify(data) {
        Kind::Probe | Kind::CarriageReturn => (
            Some(netis::reply(netis::LOGIN_TAIL, data.len(), AMPLIFICATION)),
            vec![],
        ),
        Kind::Login => {
            peer.shell = Some(Box::new(Shell::new(
                ctx.device.clone(),
                "root",
                ctx.shell_limits,
            )));
            let events = vec![EventKind::LoginSuccess {
                username: String::new(),
                password: bytes_to_string(netis::PASSWORD),
            }];
            (
                Some(netis::reply(prompt, data.len(), AMPLIFICATION)),
                events,
            )
        }
        Kind::Command(cmd) => {
            let Some(shell) = peer.shell.as_mut() else {
                return (
                    Some(netis::reply(netis::LOGIN_TAIL, data.len(), AMPLIFICATION)),
                    vec![],
                );
            };
            let outcome = shell.run_line(&cmd, now);
            let mut out = Output::default();
            out.events.push(EventKind::CommandInput {
                input: bytes_to_string(&cmd),
                known: outcome.known(),
            });
            for e in outcome.effects {
                effect_event(e, &mut out);
            }
            let mut body = outcome.output;
            body.extend_from_slice(prompt);
            (
                Some(netis::reply(&body, data.len(), AMPLIFICATION)),
                out.events,
            )
        }
        Kind::Scan18 | Kind::Other => (None, vec![]),
    }
}
