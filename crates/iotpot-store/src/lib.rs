//! The store: where every event goes, and where everything a user sees is
//! read from. The only code that writes to the database.
//!
//! - [`bus`]: a bounded channel from the sessions to one writer thread. When
//!   the writer falls behind, senders wait (backpressure): no event is ever
//!   dropped silently, and memory never grows without bound.
//! - [`detached`]: a sink on a thread of its own (a database across the
//!   network must not hold up the others).
//! - [`jsonl`]: `events.jsonl`, one cowrie-compatible JSON object a line.
//! - [`sqlite`]: `iotpot.db` (WAL, batched transactions, versioned schema).
//! - [`query`]: what `iotpot events` and `iotpot sessions` read.
//! - [`rollup`]: the small tables reports read instead of every event.
//! - [`write`]: what a batch of events does to the tables, on SQLite and on
//!   PostgreSQL (`postgres`, behind the `postgres` feature) alike, through
//!   [`sql`].
//!
//! Not for: deciding what an event says (the catalogue is in
//! `iotpot-core`), or sample files (the downloader's store keeps those).

pub mod bus;
pub mod detached;
pub mod jsonl;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(not(feature = "postgres"))]
#[path = "postgres_off.rs"]
pub mod postgres;
pub mod query;
pub mod rollup;
pub mod sql;
pub mod sqlite;
pub mod write;

pub use rusqlite;

pub use bus::{Bus, EventTx};

/// A destination for events, written in batches by the bus's writer thread.
pub trait Sink: Send {
    fn name(&self) -> &'static str;
    /// The first events of the batch that [`Sink::write`] will be given
    /// whole, while the writer gathers the rest: a sink may start on them,
    /// so that its work is spread over the batch's time and not done in
    /// one burst (the sessions share the CPU with it). An error is
    /// returned by the `write` that follows.
    fn stage(&mut self, _events: &[iotpot_core::Event], _json: &[String]) {}
    /// Write one batch; `json[i]` is `events[i]` already serialized.
    fn write(&mut self, events: &[iotpot_core::Event], json: &[String]) -> anyhow::Result<()>;
    /// Make everything written so far durable.
    fn flush(&mut self) -> anyhow::Result<()>;
}
