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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{channel, Receiver, Sender};

    /// A far sink that says when it took a batch, writes it only when
    /// told to, and says what it wrote.
    struct Held {
        took: Sender<()>,
        go: Receiver<()>,
        wrote: Sender<usize>,
    }

    impl Sink for Held {
        fn name(&self) -> &'static str {
            "held"
        }
        fn write(&mut self, events: &[Event], _: &[String]) -> anyhow::Result<()> {
            self.took.send(())?;
            self.go.recv()?;
            self.wrote.send(events.len())?;
            Ok(())
        }
        fn flush(&mut self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_far_sink_that_falls_behind_misses_batches_and_never_holds_up_the_writer() {
        let (held_wrote, wrote) = channel();
        let (held_took, took) = channel();
        let (go_tx, held_go) = channel();
        let mut d = Detached::new(Box::new(Held {
            took: held_took,
            go: held_go,
            wrote: held_wrote,
        }))
        .unwrap();
        // Declared after `d`, dropped before it: a failed assertion ends
        // the held thread instead of waiting on it for ever.
        let go = go_tx;
        let e =
            iotpot_core::SessionInfo::default().event(iotpot_core::EventKind::SessionConnect {});
        let batch = vec![e];
        let json = vec![batch[0].to_json()];
        // The thread takes one batch and waits on it; the queue takes
        // QUEUE more; the next ones are refused at once, and counted.
        d.write(&batch, &json).unwrap();
        took.recv_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        let start = std::time::Instant::now();
        for _ in 0..QUEUE {
            d.write(&batch, &json).unwrap();
        }
        for _ in 0..5 {
            assert!(d.write(&batch, &json).is_err());
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(1),
            "the writer waited"
        );
        assert_eq!(d.missed, 5);
        // Released, it writes every batch it took, in order, and the next
        // write goes through again.
        for _ in 0..=QUEUE {
            go.send(()).unwrap();
        }
        for _ in 0..=QUEUE {
            assert_eq!(
                wrote
                    .recv_timeout(std::time::Duration::from_secs(5))
                    .unwrap(),
                1
            );
        }
        assert!(d.write(&batch, &json).is_ok());
        assert_eq!(d.missed, 0);
        let _ = go.send(());
        drop(d);
        assert_eq!(
            wrote
                .recv_timeout(std::time::Duration::from_secs(5))
                .unwrap(),
            1
        );
    }
}
