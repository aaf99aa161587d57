//! A sensor's spool, replayed to the central once the link is back.
//!
//! One bidirectional QUIC stream: [`MAGIC`], then frames, each a kind
//! byte, a 32-bit big-endian length and the payload:
//! - `B`: the backlog (JSON [`Backlog`]), for `iotpot sensors`;
//! - `S`: a sample (its bytes; the central checks nothing is lost on the
//!   way by hashing them itself);
//! - `E`: a segment of events (JSON lines, each with its `spool_id`).
//!
//! The central answers each frame with one byte, `A`, once what it
//! carried is stored (events: written by every sink); only then does the
//! sensor delete it. A frame whose answer is lost is sent again, and the
//! store keeps an event once by its spool id: every event exactly once.
//! Samples go before events, so an event names a sample the central has.

use crate::spool::{Backlog, Spool};
use crate::status::Counters;
use iotpot_core::Event;
use iotpot_store::EventTx;
use std::sync::atomic::Ordering;

/// How a replay stream starts (a relayed connection starts with a PROXY
/// header: `\r\n\r\n...` or `PROXY`).
pub const MAGIC: &[u8] = b"iotpot-spool/1\n";
/// The largest frame: a sample at the downloader's largest, or a segment.
pub const MAX_FRAME: usize = 64 << 20;

/// What the central does with what a sensor replays.
pub struct Intake {
    pub events: EventTx,
    /// Store a sample's bytes (as the central's downloader would).
    #[allow(clippy::type_complexity)]
    pub put_sample: std::sync::Arc<dyn Fn(&[u8]) -> std::io::Result<()> + Send + Sync>,
}

async fn frame(send: &mut quinn::SendStream, kind: u8, payload: &[u8]) -> anyhow::Result<()> {
    let len = u32::try_from(payload.len())?;
    send.write_all(&[kind]).await?;
    send.write_all(&len.to_be_bytes()).await?;
    send.write_all(payload).await?;
    Ok(())
}

async fn acked(recv: &mut quinn::RecvStream) -> anyhow::Result<()> {
    let mut a = [0u8; 1];
    recv.read_exact(&mut a).await?;
    anyhow::ensure!(a[0] == b'A', "the central answered {:?}", a[0]);
    Ok(())
}

/// The sensor's end: send what the spool holds, deleting each part the
/// central stored. Returns the events' segments and samples sent.
pub async fn send(conn: &quinn::Connection, spool: &Spool) -> anyhow::Result<(usize, usize)> {
    spool.rotate();
    let segments = spool.closed();
    let samples = spool.samples();
    if segments.is_empty() && samples.is_empty() {
        return Ok((0, 0));
    }
    let (mut send, mut recv) = conn.open_bi().await?;
    send.write_all(MAGIC).await?;
    frame(&mut send, b'B', &serde_json::to_vec(&spool.backlog())?).await?;
    acked(&mut recv).await?;
    for (_, path) in &samples {
        let bytes = tokio::fs::read(path).await?;
        frame(&mut send, b'S', &bytes).await?;
        acked(&mut recv).await?;
        spool.done(path);
    }
    for path in &segments {
        let bytes = tokio::fs::read(path).await?;
        frame(&mut send, b'E', &bytes).await?;
        acked(&mut recv).await?;
        spool.done(path);
    }
    frame(&mut send, b'B', &serde_json::to_vec(&spool.backlog())?).await?;
    acked(&mut recv).await?;
    send.finish()?;
    Ok((segments.len(), samples.len()))
}

/// The central's end, after [`MAGIC`]'s first byte: store each frame,
/// then say so. `sensor` is the link's certified name: every event is
/// recorded as that sensor's, whatever the line says.
pub async fn receive(
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
    sensor: &str,
    intake: &Intake,
    counters: &Counters,
    board: &crate::status::Board,
) -> anyhow::Result<()> {
    let mut magic = [0u8; MAGIC.len() - 1];
    recv.read_exact(&mut magic).await?;
    anyhow::ensure!(magic == MAGIC[1..], "not a replay stream");
    loop {
        let mut head = [0u8; 5];
        match recv.read_exact(&mut head).await {
            Ok(()) => {}
            Err(quinn::ReadExactError::FinishedEarly(0)) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        anyhow::ensure!(len <= MAX_FRAME, "a frame of {len} bytes");
        let mut payload = vec![0u8; len];
        recv.read_exact(&mut payload).await?;
        match head[0] {
            b'B' => board.backlog(sensor, serde_json::from_slice::<Backlog>(&payload)?),
            b'S' => {
                let put = intake.put_sample.clone();
                tokio::task::spawn_blocking(move || put(&payload)).await??;
                counters.replayed_samples.fetch_add(1, Ordering::Relaxed);
            }
            b'E' => {
                let events = events(&payload, sensor);
                let n = events.len() as u64;
                intake.events.send_all(events).await;
                anyhow::ensure!(
                    intake.events.written().await,
                    "the store did not take a replayed segment"
                );
                counters.replayed_events.fetch_add(n, Ordering::Relaxed);
            }
            k => anyhow::bail!("an unknown frame kind {k:?}"),
        }
        send.write_all(b"A").await?;
    }
}

/// A segment's events, each the link's sensor's; a line that is not an
/// event with a spool id is logged and skipped.
fn events(segment: &[u8], sensor: &str) -> Vec<Event> {
    let text = String::from_utf8_lossy(segment);
    text.lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| match Event::from_spool_line(l) {
            Ok(mut e) => {
                e.sensor = sensor.to_string();
                Some(e)
            }
            Err(why) => {
                tracing::warn!(%sensor, "a replayed line that is not a spooled event ({why}): skipped");
                None
            }
        })
        .collect()
}
