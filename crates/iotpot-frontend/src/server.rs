//! Listeners: bind, accept, enforce the connection limits, shut down cleanly.

use crate::conn::Conn;
use crate::downloads::Downloads;
use crate::http::HttpContext;
use crate::netis::NetisContext;
use crate::telnet::{self, Context};
use iotpot_core::config::{Limits, Service};
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::{EventKind, Persona, SessionInfo};
use iotpot_downloader::Downloader;
use iotpot_shell::System;
use iotpot_store::EventTx;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// One listener to start.
pub struct ListenerSpec {
    pub service: Service,
    pub address: SocketAddr,
    /// Connections start with a PROXY protocol header.
    pub proxy_protocol: bool,
    /// Whether this is a face of a sensor, and how its sessions arrive.
    pub relay: Relay,
    pub persona: Persona,
}

/// How a sensor face's sessions reach the services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relay {
    /// Not a sensor face: attackers (or a proxy) connect to the listener.
    No,
    /// A loopback listener reached only by a relay in this process, which
    /// names the sensor in the PROXY header (believed here, and nowhere
    /// else): the sensor's own answers while its central is away.
    Loopback,
    /// No listener: each relayed stream is handed to the face in the
    /// process ([`Frontend::relays`]), as the central does. A datagram
    /// face is a loopback socket all the same.
    Direct,
}

struct Bound {
    listener: TcpListener,
    proxy_protocol: bool,
    relay: bool,
    a: Arc<Accepting>,
}

/// Where a relay hands one sensor face's sessions (in the order of the
/// specs with a `relay`).
#[derive(Clone)]
pub enum RelayTarget {
    /// A loopback listener or backdoor socket: connect (or send) to it,
    /// with a PROXY v2 header that names the sensor.
    Listener(SocketAddr),
    /// A face served in the process.
    Direct(RelayFace),
}

/// A sensor face served in the process: a relayed stream is given to it
/// as an accepted connection is to a listener (the same limits, services
/// and events).
#[derive(Clone)]
pub struct RelayFace(Arc<Accepting>);

impl RelayFace {
    /// Serve one relayed connection: `src` the attacker, `dst` what they
    /// reached on `sensor`. `false` when a connection limit refused it or
    /// the honeypot is shutting down (the connection is then dropped).
    pub fn serve<C: Conn>(
        &self,
        conn: C,
        src: SocketAddr,
        dst: SocketAddr,
        sensor: Arc<str>,
    ) -> bool {
        let a = &self.0;
        if a.shutdown.is_cancelled() {
            return false;
        }
        let src = SocketAddr::new(canonical(src.ip()), src.port());
        let dst = SocketAddr::new(canonical(dst.ip()), dst.port());
        let Some((slot, mut info)) = admit(a, src, dst) else {
            return false;
        };
        info.sensor = sensor;
        spawn(a, conn, slot, info);
        true
    }
}

/// The service behind a TCP listener.
#[derive(Clone)]
enum Svc {
    Telnet(Arc<Context>),
    Http(Arc<HttpContext>),
}

impl Svc {
    fn protocol(&self) -> &'static str {
        match self {
            Svc::Telnet(_) => "telnet",
            Svc::Http(_) => "http",
        }
    }
}

/// Every listener of the honeypot and their shared limits.
pub struct Frontend {
    bound: Vec<Bound>,
    /// 53413/UDP backdoor listeners.
    udp: Vec<(crate::udp::Udp, Arc<NetisContext>, bool)>,
    /// The sensor faces, in the order of their specs.
    relays: Vec<RelayTarget>,
    /// Cancelled with the shutdown token: stops background work and the
    /// sessions.
    stop: CancellationToken,
    /// Every session, accepted or relayed.
    tracker: TaskTracker,
    sensor: Arc<str>,
}

impl Frontend {
    /// Bind every listener. A privileged port that cannot be bound for lack
    /// of permission is a warning; any other failure, or no listener at all,
    /// is an error.
    pub async fn bind(
        specs: Vec<ListenerSpec>,
        limits: Limits,
        events: EventTx,
        sensor: &str,
        downloader: Option<Arc<Downloader>>,
        tokens: Arc<Honeytokens>,
        backend: Option<Arc<iotpot_iotbox::pool::Backend>>,
    ) -> anyhow::Result<Frontend> {
        let mut bound = Vec::new();
        let mut udp = Vec::new();
        let mut relays = Vec::new();
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let conns = Arc::new(Connections::default());
        let sensor: Arc<str> = sensor.into();
        let now = iotpot_core::clock::unix_now();
        for spec in specs {
            let device = System::new(spec.persona, now);
            let profile = device.persona.profile.name.clone();
            let downloads = Arc::new(Downloads {
                device: device.clone(),
                events: events.clone(),
                downloader: downloader.clone(),
                stop: stop.clone(),
            });
            if spec.service == Service::Netis {
                let sock = match crate::udp::Udp::bind(spec.address).await {
                    Ok(s) => s,
                    Err(e)
                        if e.kind() == std::io::ErrorKind::PermissionDenied
                            && spec.address.port() < 1024 =>
                    {
                        tracing::warn!(address = %spec.address, "cannot bind privileged port (permission denied): skipping");
                        continue;
                    }
                    Err(e) => anyhow::bail!("binding {} (netis): {e}", spec.address),
                };
                tracing::info!(address = %sock.local_addr(), service = "netis", profile = %device.persona.profile.name, "listening");
                let ctx = Arc::new(NetisContext {
                    per_ip_rate: limits.datagrams_per_ip_per_second as f64,
                    rate: limits.datagrams_per_second as f64,
                    device,
                    downloads,
                    tokens: tokens.clone(),
                    events: events.clone(),
                    // Many sources share one socket: each gets a small
                    // filesystem (1024 sources x 256 KiB at most).
                    shell_limits: iotpot_shell::Limits {
                        vfs_bytes: limits.max_vfs_bytes.min(crate::netis::MAX_VFS_PER_SOURCE),
                        ..iotpot_shell::Limits::default()
                    },
                });
                let relay = spec.relay != Relay::No;
                if relay {
                    relays.push(RelayTarget::Listener(sock.local_addr()));
                }
                udp.push((sock, ctx, relay));
                continue;
            }
            let svc = match spec.service {
                Service::Http => Svc::Http(Arc::new(HttpContext::new(
                    device,
                    limits.clone(),
                    events.clone(),
                    tokens.clone(),
                    downloads,
                ))),
                _ => Svc::Telnet(Arc::new(Context {
                    device,
                    limits: limits.clone(),
                    events: events.clone(),
                    downloads,
                    tokens: tokens.clone(),
                    backend: backend.clone(),
                })),
            };
            let accepting = |local| {
                Arc::new(Accepting {
                    svc,
                    local,
                    limits: limits.clone(),
                    events: events.clone(),
                    sensor: sensor.clone(),
                    conns: conns.clone(),
                    tracker: tracker.clone(),
                    shutdown: stop.clone(),
                })
            };
            if spec.relay == Relay::Direct {
                tracing::info!(service = spec.service.name(), profile = %profile, "serving a sensor face");
                relays.push(RelayTarget::Direct(RelayFace(accepting(spec.address))));
                continue;
            }
            let listener = match TcpListener::bind(spec.address).await {
                Ok(l) => l,
                Err(e)
                    if e.kind() == std::io::ErrorKind::PermissionDenied
                        && spec.address.port() < 1024 =>
                {
                    tracing::warn!(
                        address = %spec.address,
                        "cannot bind privileged port {} (permission denied): skipping this listener. \
                         Grant CAP_NET_BIND_SERVICE or redirect the port (see README)",
                        spec.address.port()
                    );
                    continue;
                }
                Err(e) => anyhow::bail!("binding {} ({}): {e}", spec.address, spec.service.name()),
            };
            let local = listener.local_addr()?;
            tracing::info!(address = %local, service = spec.service.name(), profile = %profile, "listening");
            let relay = spec.relay == Relay::Loopback;
            if spec.proxy_protocol && !relay {
                tracing::info!(address = %local, "each connection must start with a PROXY protocol header (proxy_protocol = true)");
            }
            bound.push(Bound {
                listener,
                proxy_protocol: spec.proxy_protocol || relay,
                relay,
                a: accepting(local),
            });
            if relay {
                relays.push(RelayTarget::Listener(local));
            }
        }
        if bound.is_empty() && udp.is_empty() && relays.is_empty() {
            anyhow::bail!("no listener could be started");
        }
        Ok(Frontend {
            bound,
            udp,
            relays,
            stop,
            tracker,
            sensor,
        })
    }

    /// The (IP protocol number, port) of every listener: what the capture
    /// keeps.
    pub fn ports(&self) -> Vec<(u8, u16)> {
        let udp = self
            .udp
            .iter()
            .map(|(s, _, _)| s.local_addr())
            .map(|a| (17, a.port()));
        self.bound
            .iter()
            .map(|b| (6, b.a.local.port()))
            .chain(udp)
            .collect()
    }

    /// The relay listeners' ports: (IP protocol, port), for the capture.
    pub fn relay_ports(&self) -> Vec<(u8, u16)> {
        let udp = self
            .udp
            .iter()
            .filter(|(_, _, relay)| *relay)
            .map(|(s, _, _)| (17, s.local_addr().port()));
        self.bound
            .iter()
            .filter(|b| b.relay)
            .map(|b| (6, b.a.local.port()))
            .chain(udp)
            .collect()
    }

    /// The sensor faces, in the order of their specs.
    pub fn relays(&self) -> Vec<RelayTarget> {
        self.relays.clone()
    }

    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        let udp = self.udp.iter().map(|(s, _, _)| s.local_addr());
        self.bound.iter().map(|b| b.a.local).chain(udp).collect()
    }

    /// Accept and serve until `shutdown`, then wait for every session to
    /// finish writing its events.
    pub async fn run(self, shutdown: CancellationToken) {
        let stop = self.stop.clone();
        let watch = shutdown.clone();
        tokio::spawn(async move {
            watch.cancelled().await;
            stop.cancel();
        });
        let mut accept_loops = Vec::new();
        for (sock, ctx, relay) in self.udp {
            accept_loops.push(tokio::spawn(crate::netis::serve(
                sock,
                ctx,
                self.sensor.clone(),
                relay,
                shutdown.clone(),
            )));
        }
        for b in self.bound {
            accept_loops.push(tokio::spawn(accept_loop(
                b.listener,
                b.proxy_protocol,
                b.relay,
                b.a,
            )));
        }
        for l in accept_loops {
            let _ = l.await;
        }
        // Relayed sessions too: none starts once `stop` is cancelled.
        shutdown.cancelled().await;
        self.stop.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// Live connections, overall and per source address.
#[derive(Default)]
struct Connections {
    inner: Mutex<ConnState>,
}

#[derive(Default)]
struct ConnState {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
    /// Rejections not yet reported: (count, when the last report went out).
    rejected: HashMap<(IpAddr, &'static str), (u64, Option<Instant>)>,
}

/// Holds one connection slot; frees it when dropped (the driver holds it
/// until its session ends).
pub(crate) struct Slot {
    conns: Arc<Connections>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.conns.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.total -= 1;
        if let Some(n) = s.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                s.per_ip.remove(&self.ip);
            }
        }
    }
}

impl Connections {
    /// Take a slot, or say which limit refused it and how many refusals to
    /// report now (at most one report per source and limit per minute).
    fn acquire(
        self: &Arc<Self>,
        ip: IpAddr,
        limits: &Limits,
    ) -> Result<Slot, (&'static str, Option<u64>)> {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let reason = if s.total >= limits.max_sessions {
            Some("max_sessions")
        } else if s.per_ip.get(&ip).copied().unwrap_or(0) >= limits.max_sessions_per_ip {
            Some("max_sessions_per_ip")
        } else {
            None
        };
        if let Some(reason) = reason {
            if s.rejected.len() > 65_536 {
                s.rejected.clear();
            }
            let now = Instant::now();
            let entry = s.rejected.entry((ip, reason)).or_insert((0, None));
            entry.0 += 1;
            let due = entry
                .1
                .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(60));
            let report = due.then(|| {
                let n = entry.0;
                *entry = (0, Some(now));
                n
            });
            return Err((reason, report));
        }
        s.total += 1;
        *s.per_ip.entry(ip).or_insert(0) += 1;
        Ok(Slot {
            conns: self.clone(),
            ip,
        })
    }
}

/// What every connection of one listener shares.
struct Accepting {
    svc: Svc,
    local: SocketAddr,
    limits: Limits,
    events: EventTx,
    sensor: Arc<str>,
    conns: Arc<Connections>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

/// Accept on `listener` until shutdown. `proxy_protocol`: each connection
/// starts with a PROXY header; `relay`: the central's listener for a sensor
/// face, whose header names the sensor.
async fn accept_loop(listener: TcpListener, proxy_protocol: bool, relay: bool, a: Arc<Accepting>) {
    loop {
        let accepted = tokio::select! {
            _ = a.shutdown.cancelled() => return,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: back off, never die.
                tracing::warn!(address = %a.local, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let peer = SocketAddr::new(canonical(peer.ip()), peer.port());
        // The address the attacker reached: the listener's own, or when it
        // listens on a wildcard, the socket's (a system call per session
        // only then).
        let local = if a.local.ip().is_unspecified() {
            stream
                .local_addr()
                .map(|a| SocketAddr::new(canonical(a.ip()), a.port()))
                .unwrap_or(a.local)
        } else {
            a.local
        };
        if proxy_protocol {
            // The header is read in the connection's own task: a slow or
            // silent proxy holds up nobody else.
            let a = a.clone();
            let mut stream = stream;
            a.tracker.clone().spawn(async move {
                let Some(h) = crate::proxied::header(&mut stream, peer, local).await else {
                    return;
                };
                let Some((slot, mut info)) = admit(&a, h.peer, h.local) else {
                    return;
                };
                // Only the central's relay names a sensor.
                if let (true, Some(sensor)) = (relay, h.sensor) {
                    info.sensor = sensor.as_str().into();
                }
                let shutdown = a.shutdown.clone();
                match &a.svc {
                    Svc::Telnet(ctx) => {
                        telnet::serve(stream, slot, info, ctx.clone(), shutdown).await
                    }
                    Svc::Http(ctx) => {
                        crate::http::driver::serve(stream, slot, info, ctx.clone(), shutdown).await
                    }
                }
            });
            continue;
        }
        let Some((slot, info)) = admit(&a, peer, local) else {
            continue;
        };
        spawn(&a, stream, slot, info);
    }
}

/// Serve one admitted connection in a task of its own. The driver's
/// future itself is the task (wrapping it in another async block would
/// store it twice), and one spawn per service: a task is as large as its
/// own driver's future, not the largest of them.
fn spawn<C: Conn>(a: &Accepting, conn: C, slot: Slot, info: SessionInfo) {
    let shutdown = a.shutdown.clone();
    match &a.svc {
        Svc::Telnet(ctx) => {
            a.tracker
                .spawn(telnet::serve(conn, slot, info, ctx.clone(), shutdown));
        }
        Svc::Http(ctx) => {
            a.tracker.spawn(crate::http::driver::serve(
                conn,
                slot,
                info,
                ctx.clone(),
                shutdown,
            ));
        }
    }
}

/// A connection slot and the session's identity, or `None` when a limit
/// refused the connection (reported at most once a minute per source).
fn admit(a: &Accepting, peer: SocketAddr, local: SocketAddr) -> Option<(Slot, SessionInfo)> {
    match a.conns.acquire(peer.ip(), &a.limits) {
        Ok(slot) => Some((
            slot,
            SessionInfo::new(peer, local, a.sensor.clone(), a.svc.protocol()),
        )),
        Err((reason, report)) => {
            if let Some(count) = report {
                let info = SessionInfo::new(peer, local, a.sensor.clone(), a.svc.protocol());
                a.events.try_send(info.event(EventKind::SessionRejected {
                    reason: reason.to_string(),
                    count,
                }));
            }
            None
        }
    }
}

/// `::ffff:1.2.3.4` is `1.2.3.4`: one source, one limit.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}
