//! What the central knows of its sensors, for `iotpot sensors`: kept in
//! memory and written to `data_dir/sensors.json` when it changes (and every
//! few seconds, for the byte counts).

use crate::control::Face;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the byte counts are written out.
const WRITE_EVERY: Duration = Duration::from_secs(2);

/// One sensor, as `sensors.json` records it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SensorStatus {
    pub name: String,
    pub connected: bool,
    /// RFC 3339: when it connected (or, disconnected, when it left).
    pub since: Option<String>,
    /// Where its link comes from.
    pub address: Option<String>,
    pub listeners: Vec<Face>,
    /// Connections relayed, and bytes from and to attackers (connections
    /// when they end, and datagrams), since the central started.
    pub connections: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// What the sensor recorded on its own (degraded mode) and has not yet
    /// replayed, as it last said: event segments, samples, bytes.
    #[serde(default)]
    pub spool_backlog: crate::spool::Backlog,
    /// Events and samples replayed from its spool since the central started.
    #[serde(default)]
    pub replayed_events: u64,
    #[serde(default)]
    pub replayed_samples: u64,
    pub last_error: Option<String>,
}

/// The counters one sensor's relayed connections add to.
#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub replayed_events: AtomicU64,
    pub replayed_samples: AtomicU64,
}

/// Each sensor's status and counters, by name.
type Table = BTreeMap<String, (SensorStatus, Arc<Counters>)>;

/// The central's table of sensors.
#[derive(Clone)]
pub struct Board {
    path: PathBuf,
    inner: Arc<Mutex<Table>>,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Board {
    /// Every sensor of the config, none connected yet.
    pub fn new(path: &Path, names: impl Iterator<Item = String>) -> Board {
        let inner = names
            .map(|n| {
                let s = SensorStatus {
                    name: n.clone(),
                    ..SensorStatus::default()
                };
                (n, (s, Arc::new(Counters::default())))
            })
            .collect();
        let b = Board {
            path: path.to_path_buf(),
            inner: Arc::new(Mutex::new(inner)),
        };
        b.write();
        b
    }

    /// Sensors the config names now (read again): listed from now on.
    pub fn know(&self, names: impl Iterator<Item = String>) {
        if let Ok(mut m) = self.inner.lock() {
            for n in names {
                m.entry(n.clone()).or_insert_with(|| {
                    let s = SensorStatus {
                        name: n,
                        ..SensorStatus::default()
                    };
                    (s, Arc::new(Counters::default()))
                });
            }
        }
        self.write();
    }

    fn update(&self, name: &str, f: impl FnOnce(&mut SensorStatus)) {
        if let Ok(mut m) = self.inner.lock() {
            if let Some((s, _)) = m.get_mut(name) {
                f(s);
            }
        }
        self.write();
    }

    /// The counters of `name` (for its relays).
    pub fn counters(&self, name: &str) -> Arc<Counters> {
        self.inner
            .lock()
            .ok()
            .and_then(|m| m.get(name).map(|(_, c)| c.clone()))
            .unwrap_or_default()
    }

    pub fn connected(&self, name: &str, from: std::net::SocketAddr, listeners: Vec<Face>) {
        self.update(name, |s| {
            s.connected = true;
            s.since = Some(now());
            s.address = Some(from.to_string());
            s.listeners = listeners;
        });
    }

    pub fn disconnected(&self, name: &str, why: &str) {
        self.update(name, |s| {
            s.connected = false;
            s.since = Some(now());
            s.last_error = Some(why.to_string());
        });
    }

    /// The sensor's spool, as it says at the start of a replay (and, once
    /// the replay is through, empty).
    pub fn backlog(&self, name: &str, backlog: crate::spool::Backlog) {
        self.update(name, |s| s.spool_backlog = backlog);
    }

    /// A connection refused, for a sensor the central knows by name.
    pub fn refused(&self, name: &str, why: &str) {
        self.update(name, |s| {
            s.last_error = Some(format!("{} refused: {why}", now()))
        });
    }

    /// Write `sensors.json` (atomically: a reader never sees half of it).
    pub fn write(&self) {
        let list: Vec<SensorStatus> = match self.inner.lock() {
            Ok(m) => m
                .values()
                .map(|(s, c)| SensorStatus {
                    connections: c.connections.load(Ordering::Relaxed),
                    bytes_in: c.bytes_in.load(Ordering::Relaxed),
                    bytes_out: c.bytes_out.load(Ordering::Relaxed),
                    replayed_events: c.replayed_events.load(Ordering::Relaxed),
                    replayed_samples: c.replayed_samples.load(Ordering::Relaxed),
                    ..s.clone()
                })
                .collect(),
            Err(_) => return,
        };
        let tmp = self.path.with_extension("json.new");
        let written = serde_json::to_vec_pretty(&list)
            .map_err(std::io::Error::other)
            .and_then(|b| std::fs::write(&tmp, b))
            .and_then(|_| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot write the sensors' status");
        }
    }

    /// Write the counts now and then until `stop`.
    pub async fn keep_written(self, stop: tokio_util::sync::CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(WRITE_EVERY) => self.write(),
            }
        }
        self.write();
    }
}

/// Read `sensors.json` (for `iotpot sensors`).
pub fn read(path: &Path) -> anyhow::Result<Vec<SensorStatus>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e} (it is written by `iotpot run` on a central with [[sensor]] tables)",
            path.display()
        )
    })?;
    Ok(serde_json::from_str(&text)?)
}
