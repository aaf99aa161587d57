//! The Telnet service: the async driver of one session (socket, clock,
//! timeouts, downloads and sandbox answers) around the sans-I/O
//! [`TelnetSession`].

use crate::conn::Conn;
use crate::downloads::Downloads;
use crate::server::Slot;
use iotpot_core::clock::unix_now;
use iotpot_core::config::Limits;
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_iotbox::pool::Backend;
use iotpot_session::{SessionLimits, Step, TelnetSession, Wait};
use iotpot_shell::System;
use iotpot_store::EventTx;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long a write may wait for a peer that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Context {
    pub device: Arc<System>,
    pub limits: Limits,
    pub events: EventTx,
    pub downloads: Arc<Downloads>,
    /// Bait credentials: a login or command that uses one raises the alarm.
    pub tokens: Arc<Honeytokens>,
    /// IoTBOX: answers what the emulation does not implement.
    pub backend: Option<Arc<Backend>>,
}

fn session_limits(l: &Limits) -> SessionLimits {
    SessionLimits {
        max_line: l.max_line,
        max_input_bytes: l.max_input_bytes,
        shell: iotpot_shell::Limits {
            vfs_bytes: l.max_vfs_bytes,
            ..iotpot_shell::Limits::default()
        },
    }
}

/// Serve one connection until it ends; every event goes to the bus.
///
/// An `async move` block rather than an `async fn`: the arguments live in
/// the future once, not twice (an `async fn` keeps them and its locals
/// apart), which is 168 bytes of every idle session.
#[allow(clippy::manual_async_fn)] // on purpose: see above
pub(crate) fn serve<C: Conn>(
    mut stream: C,
    slot: Slot,
    info: SessionInfo,
    ctx: Arc<Context>,
    shutdown: CancellationToken,
) -> impl std::future::Future<Output = ()> + Send {
    async move {
        // The connection's slot is freed when the session ends.
        let _slot = slot;
        let start = Instant::now();
        stream.no_delay();
        let opening = iotpot_session::opening_events(&ctx.device);
        ctx.events.send_all(opening.map(|k| info.event(k))).await;
        let mut session = TelnetSession::new(
            ctx.device.clone(),
            session_limits(&ctx.limits),
            ctx.downloads.enabled(),
        );
        if let Some(b) = &ctx.backend {
            session.enable_backend(b.never());
        }
        let mut lease = None;
        let mut fetches = 0u32;
        let mut out = Step::default();
        session.open(&mut out);
        let mut bytes_out = 0u64;
        let l = &ctx.limits;
        let session_deadline = start + Duration::from_secs(l.session_timeout);
        let login_deadline = start + Duration::from_secs(l.login_timeout);
        let mut last_input = start;
        // One timer per session, moved to each wait's deadline (a timer
        // per wait cost an allocation per line; boxed, it is a pointer in
        // the idle session's future).
        let mut timer = Box::pin(tokio::time::sleep_until(session_deadline));
        let reason: &'static str = loop {
            if !out.to_peer.is_empty() {
                bytes_out += out.to_peer.len() as u64;
                match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&out.to_peer)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => break "client",
                    Err(_) => break "write_timeout",
                }
                out.to_peer = Vec::new();
            }
            let alarms = ctx.tokens.scan(&out.events, "telnet", info.src.ip());
            // Taken, not drained: a drained Vec keeps its room for events
            // (288 bytes each) in every idle session.
            let events = std::mem::take(&mut out.events).into_iter().chain(alarms);
            ctx.events.send_all(events.map(|k| info.event(k))).await;
            if !out.keep.is_empty() {
                let files = std::mem::take(&mut out.keep);
                Box::pin(ctx.downloads.keep(&info, files)).await;
            }
            match out.wait.take() {
                Some(Wait::Fetch(req)) => {
                    fetches += 1;
                    // Boxed: the fetch's buffers must not live in every idle
                    // session's future (they would cost ~20 KiB per session).
                    let result = tokio::select! {
                        _ = shutdown.cancelled() => break "shutdown",
                        r = Box::pin(ctx.downloads.fetch(&info, &req, fetches)) => r,
                    };
                    session.fetched(&req.url, result, unix_now(), &mut out);
                    continue;
                }
                Some(Wait::Ask(q)) => {
                    let Some(b) = &ctx.backend else { break "error" };
                    let p = &ctx.device.persona.profile;
                    let (answer, event) = tokio::select! {
                        _ = shutdown.cancelled() => break "shutdown",
                        r = Box::pin(b.answer(&mut lease, p, &q)) => r,
                    };
                    ctx.events.send(info.event(event)).await;
                    session.answered(q, answer, unix_now(), &mut out);
                    continue;
                }
                None => {}
            }
            if let Some(reason) = out.close {
                break reason;
            }
            let (deadline, why) = {
                let idle = last_input + Duration::from_secs(l.idle_timeout);
                let mut d = (session_deadline, "session_timeout");
                if idle < d.0 {
                    d = (idle, "idle_timeout");
                }
                if !session.logged_in() && login_deadline < d.0 {
                    d = (login_deadline, "login_timeout");
                }
                d
            };
            timer.as_mut().reset(deadline);
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break "shutdown",
                r = stream.readable() => if r.is_err() {
                    break "error";
                },
                _ = &mut timer => break why,
            }
            match read_some(&mut stream, &mut session, &mut out) {
                ReadResult::Closed => break "client",
                ReadResult::Error => break "error",
                ReadResult::WouldBlock => {}
                ReadResult::Data => last_input = Instant::now(),
            }
        };
        // Anything still pending (e.g. the output of `exit`).
        if !out.to_peer.is_empty() && reason != "client" {
            let _ =
                tokio::time::timeout(Duration::from_secs(2), stream.write_all(&out.to_peer)).await;
            bytes_out += out.to_peer.len() as u64;
        }
        out.to_peer.clear();
        session.finish(&mut out);
        ctx.events
            .send_all(out.events.drain(..).map(|k| info.event(k)))
            .await;
        if !out.keep.is_empty() {
            let files = std::mem::take(&mut out.keep);
            Box::pin(ctx.downloads.keep(&info, files)).await;
        }
        if let Some(b) = &ctx.backend {
            b.release(lease);
        }
        ctx.events
            .send(info.event(EventKind::SessionClosed {
                duration: start.elapsed().as_secs_f64(),
                reason: reason.to_string(),
                bytes_in: session.bytes_in(),
                bytes_out,
            }))
            .await;
    }
}

enum ReadResult {
    Data,
    WouldBlock,
    Closed,
    Error,
}

/// Read what is there and feed it to the session. Not async: the read
/// buffer is the worker thread's, not in every idle session's future, and
/// it is zeroed once per thread, not once per read (a 4 KiB stack buffer
/// cost 15% of the workers' instructions in memset).
fn read_some<C: Conn>(stream: &mut C, session: &mut TelnetSession, out: &mut Step) -> ReadResult {
    thread_local! {
        static BUF: std::cell::RefCell<Box<[u8]>> = std::cell::RefCell::new(vec![0u8; 4096].into());
    }
    let read = BUF.with_borrow_mut(|buf| {
        let n = stream.try_read(buf)?;
        if n > 0 {
            session.receive(&buf[..n], unix_now(), out);
        }
        Ok::<_, std::io::Error>(n)
    });
    match read {
        Ok(0) => ReadResult::Closed,
        Ok(_) => ReadResult::Data,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => ReadResult::WouldBlock,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => ReadResult::Closed,
        Err(_) => ReadResult::Error,
    }
}
