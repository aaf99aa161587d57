//! The event bus: sessions → bounded channel → one writer thread → sinks.

use crate::Sink;
use iotpot_core::Event;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use tokio::sync::mpsc;

/// Counters a user can read (and the writer logs).
#[derive(Debug, Default)]
pub struct Stats {
    pub written: AtomicU64,
    /// Events refused by [`EventTx::try_send`] because the queue was full.
    pub dropped: AtomicU64,
    pub sink_errors: AtomicU64,
}

/// What the writer thread reads: an event, or a request to hear when
/// everything queued before it is written.
// The queue's slots are an event's size either way: boxing the event
// would cost every event an allocation for the rare barrier's sake.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Item {
    Event(Event),
    Written(tokio::sync::oneshot::Sender<bool>),
}

/// The sending side, cloned into every session.
#[derive(Clone, Debug)]
pub struct EventTx {
    tx: mpsc::Sender<Item>,
    stats: Arc<Stats>,
}

impl EventTx {
    /// Queue an event, waiting while the queue is full (backpressure).
    ///
    /// The event is queued at once when there is room, and the returned
    /// future is two words: a session's future does not carry room for an
    /// event and a channel send at every place it records something (that
    /// was 1.4 KiB of every idle session). Only a full queue boxes a wait.
    pub fn send(&self, event: Event) -> Sending {
        self.send_all(std::iter::once(event))
    }

    /// Queue events in order, as [`EventTx::send`] does one: what fits is
    /// queued at once, and only the rest (when the queue is full) is kept
    /// in a boxed wait. No iterator lives in the caller's future.
    pub fn send_all<I: IntoIterator<Item = Event>>(&self, events: I) -> Sending {
        let mut events = events.into_iter();
        for event in events.by_ref() {
            match self.tx.try_send(Item::Event(event)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(first)) => {
                    let rest: Vec<Item> = std::iter::once(first)
                        .chain(events.map(Item::Event))
                        .collect();
                    let tx = self.tx.clone();
                    let stats = self.stats.clone();
                    return Sending(Some(Box::pin(async move {
                        for item in rest {
                            if tx.send(item).await.is_err() {
                                lost(&stats);
                            }
                        }
                    })));
                }
                Err(mpsc::error::TrySendError::Closed(_)) => lost(&self.stats),
            }
        }
        Sending(None)
    }

    /// Queue from a plain thread (not a tokio task), waiting while the
    /// queue is full.
    pub fn blocking_send(&self, event: Event) {
        if self.tx.blocking_send(Item::Event(event)).is_err() {
            lost(&self.stats);
        }
    }

    /// Queue without waiting (for places that must never block, such as the
    /// accept loop). A full queue counts the event as dropped.
    pub fn try_send(&self, event: Event) -> bool {
        match self.tx.try_send(Item::Event(event)) {
            Ok(()) => true,
            Err(_) => {
                let n = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n, "event queue full: events dropped (counted)");
                }
                false
            }
        }
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// Wait until every event queued so far (by anyone) is written to
    /// every sink; `false` when a sink failed or the writer is gone. For a caller that
    /// must not acknowledge events before they are stored (a sensor's
    /// spool, replayed).
    pub async fn written(&self) -> bool {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send(Item::Written(tx)).await.is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }
}

/// Only after shutdown: the writer is gone.
fn lost(stats: &Stats) {
    stats.dropped.fetch_add(1, Ordering::Relaxed);
    tracing::error!("event bus closed: event lost");
}

/// An [`EventTx::send`] under way: done, or waiting for room in the queue.
#[must_use = "an event waits for room in the queue only while this is awaited"]
pub struct Sending(Option<Pin<Box<dyn Future<Output = ()> + Send>>>);

impl Future for Sending {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.0.as_mut() {
            None => Poll::Ready(()),
            Some(wait) => wait.as_mut().poll(cx),
        }
    }
}

/// The writer thread. Dropping every [`EventTx`] and calling
/// [`Bus::finish`] drains the queue, flushes the sinks and joins the thread.
pub struct Bus {
    thread: Option<JoinHandle<()>>,
    stats: Arc<Stats>,
}

impl Bus {
    /// Start the writer with these sinks. `queue` bounds the channel, `batch`
    /// the events written per transaction.
    pub fn start(sinks: Vec<Box<dyn Sink>>, queue: usize, batch: usize) -> (Bus, EventTx) {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let stats = Arc::new(Stats::default());
        let s = stats.clone();
        let thread = std::thread::Builder::new()
            .name("iotpot-store".into())
            .spawn(move || writer(rx, sinks, batch.max(1), s))
            .expect("spawning the store writer thread");
        (
            Bus {
                thread: Some(thread),
                stats: stats.clone(),
            },
            EventTx { tx, stats },
        )
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// Wait until every queued event is written (all senders must be gone).
    pub fn finish(mut self) {
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("store writer thread panicked");
            }
        }
    }
}

/// How long a busy writer gathers events before writing them, and how many
/// events waiting at once make it busy. 20 ms rather than 5: most of a
/// busy honeypot's short sessions then open and close within one batch
/// (one `sessions` insert instead of an insert and updates), and the
/// pages every commit rewrites (the tables' and indexes' last pages, the
/// rollups) are written a quarter as often: the writer's share of the CPU
/// fell by about 15% under `bench telnet` at c=50.
const LINGER: std::time::Duration = std::time::Duration::from_millis(20);
const BUSY: usize = 64;
/// While it gathers, the writer hands what came to the sinks this often
/// ([`Sink::stage`]): the events' rows go into the open transaction as they
/// come, and only the sessions, rollups and commit are left for the end.
/// Done in one burst every 20 ms, a busy batch took one of the two cores
/// from the sessions for 3-5 ms at a time: the p99 of `bench telnet` at
/// c=50 (median of seven alternated runs) was 17.0 ms in one burst and is
/// 15.7 ms spread, at the same CPU per session (docs/performance.md).
const STAGE: std::time::Duration = std::time::Duration::from_millis(2);

fn writer(
    mut rx: mpsc::Receiver<Item>,
    mut sinks: Vec<Box<dyn Sink>>,
    batch: usize,
    stats: Arc<Stats>,
) {
    let mut events = Vec::with_capacity(batch);
    let mut json = Vec::with_capacity(batch);
    // Who waits for this batch to be written.
    let mut waiting = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        take(first, &mut events, &mut waiting);
        // What came with it; and when that is many (the honeypot is busy),
        // what comes in the next moment: one transaction (and one JSONL
        // write) for many events, not one per trickle (each commit writes
        // WAL pages: under load, a commit per few events cost more system
        // time than the sessions did). A quiet honeypot writes at once: a
        // long commit would delay its few sessions.
        let linger = std::time::Instant::now() + LINGER;
        loop {
            while events.len() < batch {
                match rx.try_recv() {
                    Ok(item) => take(item, &mut events, &mut waiting),
                    Err(_) => break,
                }
            }
            if events.len() >= batch || events.len() < BUSY || std::time::Instant::now() >= linger {
                break;
            }
            // Meanwhile the sinks start on what came: the batch's work is
            // spread over its 20 ms instead of done in one burst at the end.
            let done = json.len();
            if done < events.len() {
                json.extend(events[done..].iter().map(Event::to_json));
                for sink in sinks.iter_mut() {
                    sink.stage(&events[done..], &json[done..]);
                }
            }
            std::thread::sleep(STAGE);
        }
        let mut ok = true;
        if !events.is_empty() {
            let done = json.len();
            json.extend(events[done..].iter().map(Event::to_json));
            for sink in sinks.iter_mut() {
                if let Err(e) = sink.write(&events, &json).and_then(|_| sink.flush()) {
                    ok = false;
                    stats.sink_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(sink = sink.name(), error = %e, events = events.len(), "sink write failed");
                }
            }
            stats
                .written
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            events.clear();
            json.clear();
        }
        for w in waiting.drain(..) {
            let _ = w.send(ok);
        }
    }
    let dropped = stats.dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        tracing::warn!(dropped, "events were dropped because the queue was full");
    }
}

fn take(
    item: Item,
    events: &mut Vec<Event>,
    waiting: &mut Vec<tokio::sync::oneshot::Sender<bool>>,
) {
    match item {
        Item::Event(e) => events.push(e),
        Item::Written(w) => waiting.push(w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotpot_core::{EventKind, SessionInfo};
    use std::sync::Mutex;

    /// A sink slower than the senders: the queue fills.
    struct Slow(Arc<Mutex<Vec<String>>>);

    impl Sink for Slow {
        fn name(&self) -> &'static str {
            "slow"
        }
        fn write(&mut self, events: &[Event], _json: &[String]) -> anyhow::Result<()> {
            std::thread::sleep(std::time::Duration::from_millis(2));
            let mut seen = self.0.lock().unwrap();
            for e in events {
                if let EventKind::CommandInput { input, .. } = &e.kind {
                    seen.push(input.clone());
                }
            }
            Ok(())
        }
        fn flush(&mut self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    /// The lines staged, and the whole batch written.
    type Batches = Arc<Mutex<Vec<(Vec<String>, Vec<String>)>>>;

    /// Records what it was given, batch by batch.
    struct Recording {
        staged: Vec<String>,
        batches: Batches,
    }

    impl Sink for Recording {
        fn name(&self) -> &'static str {
            "recording"
        }
        fn stage(&mut self, _events: &[Event], json: &[String]) {
            self.staged.extend_from_slice(json);
        }
        fn write(&mut self, _events: &[Event], json: &[String]) -> anyhow::Result<()> {
            let staged = std::mem::take(&mut self.staged);
            self.batches.lock().unwrap().push((staged, json.to_vec()));
            // A slow disk: the next batch gathers while this one is written.
            std::thread::sleep(std::time::Duration::from_millis(30));
            Ok(())
        }
        fn flush(&mut self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_busy_writer_stages_each_batch_as_it_gathers_and_writes_every_event_once() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let sink = Recording {
            staged: Vec::new(),
            batches: batches.clone(),
        };
        let (bus, tx) = Bus::start(vec![Box::new(sink)], 100_000, 100_000);
        let info = SessionInfo::default();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            for round in 0..40 {
                tx.send_all((0..100).map(|i| {
                    info.event(EventKind::SessionRejected {
                        reason: "max_sessions".into(),
                        count: round * 100 + i,
                    })
                }))
                .await;
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            }
        });
        drop(tx);
        bus.finish();
        let batches = batches.lock().unwrap();
        let mut written = Vec::new();
        for (staged, batch) in batches.iter() {
            assert!(
                batch.starts_with(staged),
                "what was staged begins its batch"
            );
            written.extend(batch.iter().map(|j| {
                let v: serde_json::Value = serde_json::from_str(j).unwrap();
                v["count"].as_u64().unwrap()
            }));
        }
        assert_eq!(
            written,
            (0..4000).collect::<Vec<u64>>(),
            "every event once, in order"
        );
        assert!(
            batches.iter().any(|(staged, _)| !staged.is_empty()),
            "a busy writer stages: {:?}",
            batches
                .iter()
                .map(|(s, b)| (s.len(), b.len()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_full_queue_makes_senders_wait_and_loses_nothing() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (bus, tx) = Bus::start(vec![Box::new(Slow(seen.clone()))], 2, 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let info = SessionInfo::default();
        let event = |i: usize| {
            info.event(EventKind::CommandInput {
                input: i.to_string(),
                known: true,
                output: String::new(),
                output_size: 0,
            })
        };
        rt.block_on(async {
            for round in 0..5 {
                tx.send_all((0..20).map(|i| event(round * 21 + i))).await;
                tx.send(event(round * 21 + 20)).await;
            }
        });
        drop(tx);
        let stats = bus.stats().clone();
        bus.finish();
        let want: Vec<String> = (0..105).map(|i| i.to_string()).collect();
        assert_eq!(*seen.lock().unwrap(), want, "every event, in order");
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 0);
        assert_eq!(stats.written.load(Ordering::Relaxed), 105);
    }
}
