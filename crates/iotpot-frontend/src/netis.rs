//! The 53413/UDP Netis/Netcore backdoor's socket.
//!
//! Each source address gets its own conversation ([`NetisPeer`], sans-I/O,
//! in iotpot-session: logged in or not, and a shell of the router persona)
//! for as long as it keeps talking. Everything is bounded here: datagram
//! size, datagrams per source per second and in all, remembered sources;
//! the conversation bounds every reply to 3x the datagram it answers or 16
//! bytes (the source of a UDP datagram is unverified: the honeypot must not
//! be an amplifier).
//!
//! A command that downloads waits for the real fetch (the attacker's reply
//! carries the tool's true output) without holding up the socket: the fetch
//! runs in its own task and the command is run again when it is done, as on
//! Telnet. Meanwhile that source's datagrams are recorded, not answered
//! (the device is busy).

use crate::downloads::Downloads;
use crate::udp::Udp;
use iotpot_core::clock::unix_now;
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_session::{NetisPeer, Step, Wait};
use iotpot_shell::{FetchRequest, FetchResult, System};
use iotpot_store::EventTx;
use iotpot_wire::netis;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Largest datagram read; the rest is cut.
const MAX_DATAGRAM: usize = 2048;
/// Sources remembered at once, and how long a silent one is kept.
/// (The per-address rate buckets are bounded by the same number.)
const MAX_PEERS: usize = 1024;
/// Bytes of files one source's shell may create.
pub const MAX_VFS_PER_SOURCE: usize = 256 << 10;
const PEER_IDLE: Duration = Duration::from_secs(600);

struct Peer {
    info: SessionInfo,
    talk: NetisPeer,
    last: Instant,
    fetches: u32,
    /// Relayed from a sensor: the central's relay socket that brought the
    /// datagram, and the sensor-side address the attacker sent it to (the
    /// answer goes back through the relay with a PROXY header).
    via: Option<(SocketAddr, SocketAddr)>,
}

/// A finished fetch, back to the socket's loop.
struct FetchDone {
    from: SocketAddr,
    url: String,
    result: FetchResult,
}

/// Datagrams dropped by a limit, logged at powers of two (a flood writes a
/// few log lines, not one per datagram).
#[derive(Default)]
struct Dropped(u64);

impl Dropped {
    fn one(&mut self, limit: &'static str) {
        self.0 += 1;
        if self.0.is_power_of_two() {
            tracing::warn!(
                dropped = self.0,
                limit,
                "netis: datagrams dropped unanswered by a limit"
            );
        }
    }
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
    /// Datagrams per second from one address (`[limits]
    /// datagrams_per_ip_per_second`), and from all (`datagrams_per_second`);
    /// bursts of twice that.
    pub per_ip_rate: f64,
    pub rate: f64,
    pub device: Arc<System>,
    pub events: EventTx,
    pub shell_limits: iotpot_shell::Limits,
    pub downloads: Arc<Downloads>,
    pub tokens: Arc<Honeytokens>,
}

/// Serve the backdoor on `sock` until `shutdown`. `relay`: the central's
/// listener for a sensor's backdoor face, whose datagrams start with a
/// PROXY v2 header (the attacker, the sensor-side address, the sensor's
/// name) and whose answers go back with one.
pub async fn serve(
    sock: Udp,
    ctx: Arc<NetisContext>,
    sensor: Arc<str>,
    relay: bool,
    shutdown: CancellationToken,
) {
    let mut peers: HashMap<SocketAddr, Peer> = HashMap::new();
    // Rates are per address, not per socket: a flood cannot escape its
    // limit by changing source ports.
    let mut per_ip: HashMap<std::net::IpAddr, Bucket> = HashMap::new();
    let mut global = Bucket {
        tokens: ctx.rate * 2.0,
        last: Instant::now(),
    };
    let mut dropped = Dropped::default();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    // At most one fetch per source is under way: MAX_PEERS is room enough.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<FetchDone>(MAX_PEERS);
    loop {
        // `local`: the address the datagram was sent to (this socket may
        // be bound to every address).
        let (n, from, local) = tokio::select! {
            _ = shutdown.cancelled() => return,
            Some(done) = done_rx.recv() => {
                let Some(peer) = peers.get_mut(&done.from) else { continue };
                let mut step = Step::default();
                peer.talk.fetched(&done.url, done.result, unix_now(), &mut step);
                finish(&sock, &ctx, peer, done.from, step, &done_tx).await;
                continue;
            }
            r = sock.recv(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "netis recv failed");
                    continue;
                }
            },
        };
        // A relayed datagram: who sent it comes from its header.
        let (from, start, via, sensor) = if relay {
            match iotpot_wire::proxy::datagram(&buf[..n]) {
                Some(d) => (
                    d.source,
                    d.payload,
                    Some((from, d.destination)),
                    d.sensor.map_or(sensor.clone(), |s| s.as_str().into()),
                ),
                None => {
                    dropped.one("relayed datagrams without a header");
                    continue;
                }
            }
        } else {
            (from, 0, None, sensor.clone())
        };
        let now = Instant::now();
        if !global.take(ctx.rate, now) {
            dropped.one("datagrams_per_second");
            continue;
        }
        if !peers.contains_key(&from) && peers.len() >= MAX_PEERS {
            peers.retain(|_, p| p.talk.waiting() || now.duration_since(p.last) < PEER_IDLE);
            if peers.len() >= MAX_PEERS {
                dropped.one("sources remembered");
                continue;
            }
        }
        if !per_ip.contains_key(&from.ip()) && per_ip.len() >= MAX_PEERS {
            // A full bucket is as good as none: forget those.
            let full = ctx.per_ip_rate * 2.0;
            per_ip.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * ctx.per_ip_rate < full
            });
            if per_ip.len() >= MAX_PEERS {
                dropped.one("sources remembered");
                continue;
            }
        }
        let bucket = per_ip.entry(from.ip()).or_insert(Bucket {
            tokens: ctx.per_ip_rate * 2.0,
            last: now,
        });
        if !bucket.take(ctx.per_ip_rate, now) {
            dropped.one("datagrams_per_ip_per_second");
            continue;
        }
        let peer = peers.entry(from).or_insert_with(|| Peer {
            info: SessionInfo::new(from, via.map_or(local, |v| v.1), sensor, "netis"),
            talk: NetisPeer::new(
                ctx.device.clone(),
                ctx.shell_limits,
                ctx.downloads.enabled(),
            ),
            last: now,
            fetches: 0,
            via,
        });
        peer.last = now;
        let data = &buf[start..n];
        let n = data.len();
        let mut step = Step::default();
        peer.talk.datagram(data, unix_now(), &mut step);
        let payload = hex::encode(&data[..n.min(256)]);
        ctx.events
            .send(peer.info.event(EventKind::NetisDatagram {
                length: n as u64,
                kind: netis::classify(data).name().to_string(),
                payload,
                reply_length: step.to_peer.len() as u64,
            }))
            .await;
        // Bait credentials tried on the backdoor, as password or in a command.
        if let Some(alarm) = ctx.tokens.check_text(data, "netis", from.ip()) {
            ctx.events.send(peer.info.event(alarm)).await;
        }
        finish(&sock, &ctx, peer, from, step, &done_tx).await;
    }
}

/// Send the reply, write the events, keep the files, start the fetch the
/// line waits for.
async fn finish(
    sock: &Udp,
    ctx: &NetisContext,
    peer: &mut Peer,
    to: SocketAddr,
    step: Step,
    done: &tokio::sync::mpsc::Sender<FetchDone>,
) {
    if !step.to_peer.is_empty() {
        match peer.via {
            None => {
                let _ = sock.send(&step.to_peer, to, peer.info.dst.ip()).await;
            }
            Some((relay, face)) => {
                let mut d = iotpot_wire::proxy::encode_v2(face, to, true, None);
                d.extend_from_slice(&step.to_peer);
                let _ = sock
                    .send(&d, relay, std::net::Ipv4Addr::UNSPECIFIED.into())
                    .await;
            }
        }
    }
    let events = step.events.into_iter().map(|k| peer.info.event(k));
    ctx.events.send_all(events).await;
    if !step.keep.is_empty() {
        let downloads = ctx.downloads.clone();
        let info = peer.info.clone();
        let files = step.keep;
        tokio::spawn(async move { downloads.keep(&info, files).await });
    }
    // The backdoor has no sandbox behind it: only fetches are waited for.
    if let Some(Wait::Fetch(req)) = step.wait {
        peer.fetches += 1;
        start_fetch(ctx, peer, req, done.clone());
    }
}

fn start_fetch(
    ctx: &NetisContext,
    peer: &Peer,
    req: FetchRequest,
    done: tokio::sync::mpsc::Sender<FetchDone>,
) {
    let downloads = ctx.downloads.clone();
    let info = peer.info.clone();
    let from = info.src;
    let count = peer.fetches;
    tokio::spawn(async move {
        let result = tokio::select! {
            _ = downloads.stop.cancelled() => return,
            r = downloads.fetch(&info, &req, count) => r,
        };
        let _ = done
            .send(FetchDone {
                from,
                url: req.url,
                result,
            })
            .await;
    });
}
