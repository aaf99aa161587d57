//! A sink on a thread of its own, behind a bounded queue of batches: for a
//! database across the network (PostgreSQL), whose round trips must not
//! hold up the bus's writer and through it the sessions. The local sinks
//! (SQLite, JSONL) stay the record of everything; when the far one falls
//! [`QUEUE`] batches behind, a batch is not sent to it, and the log says
//! how many events it missed.

use crate::Sink;
use iotpot_core::Event;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};

/// Batches waiting for the far sink at most (a batch is at most
/// `[store] batch` events).
pub const QUEUE: usize = 64;

type Batch = (Vec<Event>, Vec<String>);

pub struct Detached {
    name: &'static str,
    tx: Option<SyncSender<Batch>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Events not sent because the queue was full, since the last report.
    missed: u64,
}

impl Detached {
    pub fn new(mut sink: Box<dyn Sink>) -> anyhow::Result<Detached> {
        let name = sink.name();
        let (tx, rx) = sync_channel::<Batch>(QUEUE);
        let thread = std::thread::Builder::new()
            .name(format!("iotpot-{name}"))
            .spawn(move || {
                for (events, json) in rx {
                    if let Err(e) = sink.write(&events, &json).and_then(|_| sink.flush()) {
                        tracing::error!(sink = name, error = %e, events = events.len(), "sink write failed");
                    }
                }
            })?;
        Ok(Detached {
            name,
            tx: Some(tx),
            thread: Some(thread),
            missed: 0,
        })
    }
}

impl Sink for Detached {
    fn name(&self) -> &'static str {
        self.name
    }

    fn write(&mut self, events: &[Event], json: &[String]) -> anyhow::Result<()> {
        let Some(tx) = &self.tx else {
            anyhow::bail!("{}: stopped", self.name);
        };
        match tx.try_send((events.to_vec(), json.to_vec())) {
            Ok(()) => {
                if self.missed > 0 {
                    tracing::warn!(
                        sink = self.name,
                        missed = self.missed,
                        "sink caught up; events it missed while behind"
                    );
                    self.missed = 0;
                }
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                if self.missed == 0 {
                    tracing::warn!(
                        sink = self.name,
                        queued = QUEUE,
                        "sink is behind: batches are not sent to it until it catches up"
                    );
                }
                self.missed += events.len() as u64;
                anyhow::bail!(
                    "{} is {QUEUE} batches behind: {} events not sent to it",
                    self.name,
                    events.len()
                )
            }
            Err(TrySendError::Disconnected(_)) => anyhow::bail!("{}: its thread ended", self.name),
        }
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

impl Drop for Detached {
    /// Let the far sink write what is queued, then stop.
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
