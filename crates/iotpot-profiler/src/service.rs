//! The scan-back: every address that attacks is queued, scanned once per
//! `revisit_hours` at most, `hosts_per_minute` new hosts at most, and its
//! grabs and verdict recorded as events.
//!
//! The addresses come from the event bus itself ([`Feed`] is a sink): a
//! Telnet login attempt, a 53413/UDP datagram, an HTTP request to a
//! device. The queue is bounded; when it is full an address waits for its
//! next attack.

use crate::scan::{HostScan, Scanner};
use iotpot_core::{Event, EventKind, SessionInfo};
use iotpot_store::bus::EventTx;
use iotpot_store::Sink;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Addresses waiting to be scanned, at most.
pub const QUEUE: usize = 4096;
/// Hosts remembered as scanned, at most (the oldest are forgotten first).
const REMEMBERED: usize = 1 << 20;

/// Whether an event is an attack from its source address.
pub fn is_attack(e: &Event) -> bool {
    matches!(
        e.kind,
        EventKind::LoginFailed { .. }
            | EventKind::LoginSuccess { .. }
            | EventKind::NetisDatagram { .. }
            | EventKind::HttpRequest { .. }
    )
}

/// The sink that hands attacking addresses to the scan-back.
pub struct Feed(pub mpsc::Sender<IpAddr>);

impl Sink for Feed {
    fn name(&self) -> &'static str {
        "profiler"
    }

    fn write(&mut self, events: &[Event], _json: &[String]) -> anyhow::Result<()> {
        let mut last = None;
        for e in events.iter().filter(|e| is_attack(e)) {
            // A session's many attempts in one batch: one offer.
            if last != Some(e.src_ip) {
                let _ = self.0.try_send(e.src_ip);
                last = Some(e.src_ip);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The scan-back's settings beyond the scanner's.
pub struct Pace {
    pub hosts_per_minute: u32,
    pub revisit: Duration,
    /// Hosts scanned at once.
    pub hosts_at_once: usize,
    /// The honeypot's own addresses: never scanned.
    pub own: Vec<IpAddr>,
    pub sensor: String,
}

/// Run until `stop` (or the queue's senders are gone). `scanned` holds the
/// hosts already scanned and how long ago (from the store, at start).
pub async fn run(
    scanner: Arc<Scanner>,
    pace: Pace,
    mut queue: mpsc::Receiver<IpAddr>,
    events: EventTx,
    scanned: Vec<(IpAddr, Duration)>,
    stop: CancellationToken,
) {
    let now = Instant::now();
    let mut last: HashMap<IpAddr, Instant> = scanned
        .into_iter()
        .filter(|(_, ago)| *ago < pace.revisit)
        .filter_map(|(ip, ago)| now.checked_sub(ago).map(|t| (ip, t)))
        .collect();
    let gap = Duration::from_secs(60) / pace.hosts_per_minute.max(1);
    let mut next_start = Instant::now();
    let hosts = Arc::new(tokio::sync::Semaphore::new(pace.hosts_at_once.max(1)));
    let mut running = tokio::task::JoinSet::new();
    loop {
        let ip = tokio::select! {
            _ = stop.cancelled() => break,
            ip = queue.recv() => match ip {
                Some(ip) => ip,
                None => break,
            },
        };
        while running.try_join_next().is_some() {}
        if last.get(&ip).is_some_and(|t| t.elapsed() < pace.revisit) {
            continue;
        }
        if pace.own.contains(&ip) {
            continue;
        }
        if let Err(why) = scanner.check(ip) {
            tracing::debug!(%ip, reason = why.text(), "attacker not scanned back");
            last.insert(ip, Instant::now());
            continue;
        }
        if last.len() >= REMEMBERED {
            let revisit = pace.revisit;
            last.retain(|_, t| t.elapsed() < revisit);
            if last.len() >= REMEMBERED {
                last.clear();
            }
        }
        // hosts_per_minute: one new host per gap.
        let slot = tokio::select! {
            _ = stop.cancelled() => break,
            slot = async {
                tokio::time::sleep_until(next_start).await;
                hosts.clone().acquire_owned().await
            } => match slot {
                Ok(s) => s,
                Err(_) => break,
            },
        };
        next_start = Instant::now() + gap;
        last.insert(ip, Instant::now());
        let (scanner, events, sensor) = (scanner.clone(), events.clone(), pace.sensor.clone());
        running.spawn(async move {
            let _slot = slot;
            if let Ok(scan) = scanner.scan(ip).await {
                tracing::info!(
                    %ip,
                    device = scan.verdict.device.as_deref().unwrap_or("-"),
                    infected = scan.verdict.infected.as_deref().unwrap_or("-"),
                    "attacker scanned back"
                );
                events.send_all(scan_events(&scan, &sensor)).await;
            }
        });
    }
    // The honeypot is stopping: scans in flight are dropped unrecorded.
    running.abort_all();
    while running.join_next().await.is_some() {}
}

/// A scan as events: one per grab, then the verdict; one session id.
pub fn scan_events(scan: &HostScan, sensor: &str) -> Vec<Event> {
    let unspecified: SocketAddr = ([0, 0, 0, 0], 0).into();
    let mut info = SessionInfo::new(
        SocketAddr::new(scan.addr, 0),
        unspecified,
        sensor.into(),
        "profiler",
    );
    let mut out = Vec::with_capacity(scan.grabs.len() + 1);
    for g in &scan.grabs {
        info.src = SocketAddr::new(scan.addr, g.port);
        out.push(info.event(EventKind::ProfilerGrab { grab: g.clone() }));
    }
    info.src = SocketAddr::new(scan.addr, 0);
    out.push(info.event(EventKind::ProfilerVerdict {
        verdict: scan.verdict.clone(),
    }));
    out
}
