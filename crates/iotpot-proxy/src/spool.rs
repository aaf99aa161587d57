//! A sensor's spool: what it recorded on its own while the central was
//! away (degraded mode), on disk until the central has stored it.
//!
//! `dir/events/<n>.jsonl`: segments of events, one JSON object a line,
//! each with a random `spool_id` (the central stores an event once however
//! often it arrives); `dir/samples/<sha256>`: the samples downloaded
//! meanwhile (the downloader's own store layout). Segments are written in
//! order and replayed in order; a segment is deleted only when the central
//! has said it stored it. `dir/listeners.json` keeps the central's last
//! word (a sensor restarted while the central is away still serves).
//!
//! Bounded: past `max_bytes` on disk (segments and samples), new events
//! are dropped (counted, and logged) rather than the old ones: a session
//! whose start was kept is not cut in the middle.

use iotpot_core::Event;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A segment is closed when it reaches this size (and at each replay).
const SEGMENT: u64 = 1 << 20;
/// How long the samples' size is trusted before the directory is listed
/// again (the downloader adds samples behind the spool's back; listing it
/// for every batch of events cost a directory walk per batch).
const SAMPLES_RECOUNT: std::time::Duration = std::time::Duration::from_secs(1);

pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
    /// Events not written because the spool was full.
    pub dropped: AtomicU64,
}

struct State {
    /// The segment being written, and its size.
    current: Option<(u64, File, u64)>,
    /// The next segment's number.
    next: u64,
    /// Bytes of the segments on disk.
    bytes: u64,
    /// Bytes of the samples on disk, and when they were counted.
    samples: Option<(u64, std::time::Instant)>,
}

/// What is waiting for the central.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Backlog {
    pub segments: u64,
    pub samples: u64,
    pub bytes: u64,
}

impl Spool {
    /// Open (creating) the spool in `dir`; what an earlier run left there
    /// is kept for the next replay.
    pub fn open(dir: &Path, max_bytes: u64) -> anyhow::Result<Arc<Spool>> {
        let events = dir.join("events");
        std::fs::create_dir_all(&events)
            .map_err(|e| anyhow::anyhow!("creating the spool {}: {e}", events.display()))?;
        let spool = Spool {
            dir: dir.to_path_buf(),
            max_bytes,
            state: Mutex::new(State {
                current: None,
                next: 0,
                bytes: 0,
                samples: None,
            }),
            dropped: AtomicU64::new(0),
        };
        let segments = spool.segments();
        let bytes = segments
            .iter()
            .filter_map(|(_, p)| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        {
            let mut st = spool.lock();
            st.next = segments.last().map_or(0, |(n, _)| n + 1);
            st.bytes = bytes;
        }
        Ok(Arc::new(spool))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the downloader keeps the samples of degraded sessions.
    pub fn samples_dir(&self) -> PathBuf {
        self.dir.join("samples")
    }

    /// Append events (in order), each with a fresh spool id. Those that
    /// do not fit are dropped and counted.
    pub fn append(&self, events: &[Event]) -> std::io::Result<()> {
        let mut st = self.lock();
        let samples = match st.samples {
            Some((bytes, at)) if at.elapsed() < SAMPLES_RECOUNT => bytes,
            _ => {
                let bytes = self.sample_bytes();
                st.samples = Some((bytes, std::time::Instant::now()));
                bytes
            }
        };
        let mut text = String::new();
        let mut dropped = 0u64;
        for e in events {
            let mut e = e.clone();
            e.spool_id = Some(new_id());
            let line = e.to_json();
            if st.bytes + samples + (text.len() + line.len() + 1) as u64 > self.max_bytes {
                dropped += 1;
                continue;
            }
            text.push_str(&line);
            text.push('\n');
        }
        if dropped > 0 {
            let before = self.dropped.fetch_add(dropped, Ordering::Relaxed);
            // At the first, and then at each doubling.
            if (before + dropped).ilog2() != before.checked_ilog2().unwrap_or(u32::MAX) {
                tracing::warn!(
                    dropped = before + dropped,
                    max_bytes = self.max_bytes,
                    "the spool is full: events of degraded sessions dropped"
                );
            }
        }
        if text.is_empty() {
            return Ok(());
        }
        if st.current.is_none() {
            let n = st.next;
            st.next += 1;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.segment_path(n))?;
            st.current = Some((n, file, 0));
        }
        let Some((_, file, len)) = st.current.as_mut() else {
            return Ok(());
        };
        file.write_all(text.as_bytes())?;
        file.flush()?;
        *len += text.len() as u64;
        let full = *len >= SEGMENT;
        st.bytes += text.len() as u64;
        if full {
            st.current = None;
        }
        Ok(())
    }

    fn segment_path(&self, n: u64) -> PathBuf {
        self.dir.join("events").join(format!("{n:016}.jsonl"))
    }

    /// Close the segment being written: it can be replayed.
    pub fn rotate(&self) {
        if let Some((_, file, _)) = self.lock().current.take() {
            let _ = file.sync_all();
        }
    }

    /// The segments on disk, oldest first (the one being written too).
    fn segments(&self) -> Vec<(u64, PathBuf)> {
        let mut out: Vec<(u64, PathBuf)> = std::fs::read_dir(self.dir.join("events"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let n = name.to_str()?.strip_suffix(".jsonl")?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect();
        out.sort();
        out
    }

    /// The closed segments, oldest first: what a replay sends.
    pub fn closed(&self) -> Vec<PathBuf> {
        let open = self.lock().current.as_ref().map(|(n, _, _)| *n);
        self.segments()
            .into_iter()
            .filter(|(n, _)| Some(*n) != open)
            .map(|(_, p)| p)
            .collect()
    }

    /// The samples waiting, by name (their SHA-256).
    pub fn samples(&self) -> Vec<(String, PathBuf)> {
        let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(self.samples_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                (name.len() == 64 && name.bytes().all(|c| c.is_ascii_hexdigit()))
                    .then(|| (name, e.path()))
            })
            .collect();
        out.sort();
        out
    }

    fn sample_bytes(&self) -> u64 {
        self.samples()
            .iter()
            .filter_map(|(_, p)| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// The central stored this segment (or sample): forget it.
    pub fn done(&self, path: &Path) {
        let len = std::fs::metadata(path).map_or(0, |m| m.len());
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove a replayed spool file");
            return;
        }
        let mut st = self.lock();
        if path.parent().is_some_and(|p| p.ends_with("events")) {
            st.bytes = st.bytes.saturating_sub(len);
        } else {
            // A sample: counted again at the next append.
            st.samples = None;
        }
    }

    pub fn backlog(&self) -> Backlog {
        let samples = self.samples();
        let segments = self.segments();
        let bytes = segments
            .iter()
            .map(|(_, p)| p)
            .chain(samples.iter().map(|(_, p)| p))
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        Backlog {
            segments: segments.len() as u64,
            samples: samples.len() as u64,
            bytes,
        }
    }

    /// Keep the central's last listeners (for a restart while it is away).
    pub fn save_listeners(&self, json: &[u8]) {
        let path = self.dir.join("listeners.json");
        let tmp = self.dir.join(".listeners.json.tmp");
        let written = std::fs::write(&tmp, json).and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot keep the central's listeners");
        }
    }

    /// The central refused this sensor: nothing to serve after a restart.
    pub fn forget_listeners(&self) {
        let _ = std::fs::remove_file(self.dir.join("listeners.json"));
    }

    pub fn saved_listeners(&self) -> Option<Vec<u8>> {
        std::fs::read(self.dir.join("listeners.json")).ok()
    }
}

/// 128 random bits, hex.
fn new_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// The bus's sink for degraded sessions: into the spool.
pub struct SpoolSink(pub Arc<Spool>);

impl iotpot_store::Sink for SpoolSink {
    fn name(&self) -> &'static str {
        "spool"
    }

    fn write(&mut self, events: &[Event], _json: &[String]) -> anyhow::Result<()> {
        Ok(self.0.append(events)?)
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotpot_core::{EventKind, SessionInfo};

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("iotpot-spool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn event(i: usize) -> Event {
        SessionInfo::default().event(EventKind::CommandInput {
            input: format!("echo {i}"),
            known: true,
            output: format!("{i}\n"),
            output_size: i.to_string().len() as u64 + 1,
        })
    }

    #[test]
    fn segments_in_order_each_event_its_own_id_and_kept_across_opens() {
        let d = dir("order");
        let spool = Spool::open(&d, 1 << 30).unwrap();
        for i in 0..3 {
            spool.append(&[event(i)]).unwrap();
            spool.rotate();
        }
        spool.append(&[event(3)]).unwrap();
        assert_eq!(spool.closed().len(), 3, "the open segment is not replayed");
        drop(spool);
        let spool = Spool::open(&d, 1 << 30).unwrap();
        spool.append(&[event(4)]).unwrap();
        spool.rotate();
        let mut lines = Vec::new();
        for p in spool.closed() {
            lines.extend(
                std::fs::read_to_string(&p)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str::<Event>(l).unwrap()),
            );
        }
        let inputs: Vec<String> = lines
            .iter()
            .map(|e| match &e.kind {
                EventKind::CommandInput { input, .. } => input.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(inputs, ["echo 0", "echo 1", "echo 2", "echo 3", "echo 4"]);
        let mut ids: Vec<_> = lines.iter().map(|e| e.spool_id.clone().unwrap()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 5);
        for p in spool.closed() {
            spool.done(&p);
        }
        assert_eq!(spool.backlog(), Backlog::default());
    }

    #[test]
    fn a_full_spool_drops_new_events_and_counts_them() {
        let d = dir("full");
        let one = event(0).to_json().len() as u64 + 60;
        let spool = Spool::open(&d, one * 10).unwrap();
        let batch: Vec<Event> = (0..30).map(event).collect();
        spool.append(&batch).unwrap();
        let b = spool.backlog();
        assert!(b.bytes <= one * 10, "{b:?}");
        let dropped = spool.dropped.load(Ordering::Relaxed);
        assert!((15..30).contains(&dropped), "{dropped}");
    }

    #[test]
    fn samples_count_against_the_bound_and_free_it_when_stored() {
        let d = dir("samples");
        let spool = Spool::open(&d, 64 << 10).unwrap();
        std::fs::create_dir_all(spool.samples_dir()).unwrap();
        let sample = spool.samples_dir().join("ab".repeat(32));
        std::fs::write(&sample, vec![0u8; 64 << 10]).unwrap();
        spool.append(&[event(0)]).unwrap();
        assert_eq!(
            spool.dropped.load(Ordering::Relaxed),
            1,
            "the sample fills it"
        );
        // The central stored the sample: room again at once.
        spool.done(&sample);
        spool.append(&[event(1)]).unwrap();
        assert_eq!(spool.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(spool.backlog().samples, 0);
    }
}
