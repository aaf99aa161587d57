//! One HTTP connection: read request heads and bodies, answer what the
//! site ([`iotpot_session::http`]) routes them to, stream video, record
//! everything.

use super::HttpContext;
use crate::conn::Conn;
use crate::server::Slot;
use iotpot_core::clock::unix_now;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_session::http::Page;
use iotpot_shell::FetchRequest;
use iotpot_wire::http::{parse_head, HeadError, Request, MAX_HEAD};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Body bytes read (and hashed) per request; the rest is not read.
const MAX_BODY: usize = 64 * 1024;
/// Requests served on one connection.
const MAX_REQUESTS: u32 = 100;
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The connection, what has been read of it, and its byte counts.
struct Http<C> {
    stream: C,
    buf: Vec<u8>,
    bytes_in: u64,
    bytes_out: u64,
    /// Droppers fetched for this connection (bounded as a session's).
    fetches: u32,
}

enum Read {
    Head(Request, usize),
    Malformed(String),
    Closed,
    Timeout,
}

impl<C: Conn> Http<C> {
    /// Read until `buf` starts with a whole request head.
    async fn read_head(&mut self, deadline: Instant, shutdown: &CancellationToken) -> Read {
        loop {
            if !self.buf.is_empty() {
                match parse_head(&self.buf) {
                    Ok(Some((req, n))) => return Read::Head(req, n),
                    Ok(None) => {}
                    Err(HeadError::TooLarge) => {
                        return Read::Malformed("request head too large".into())
                    }
                    Err(HeadError::Malformed(why)) => return Read::Malformed(why.into()),
                }
            }
            match self.fill(deadline, shutdown).await {
                Some(0) => {
                    return if self.buf.is_empty() {
                        Read::Closed
                    } else {
                        Read::Malformed("connection closed inside the request head".into())
                    }
                }
                Some(_) => {}
                None => return Read::Timeout,
            }
        }
    }

    /// Read more into `buf` (at most MAX_HEAD + MAX_BODY held); `None` on
    /// timeout or shutdown, `Some(0)` at end of stream or error.
    async fn fill(&mut self, deadline: Instant, shutdown: &CancellationToken) -> Option<usize> {
        let room = (MAX_HEAD + MAX_BODY)
            .saturating_sub(self.buf.len())
            .min(8192);
        if room == 0 {
            return Some(0);
        }
        tokio::select! {
            _ = shutdown.cancelled() => None,
            r = tokio::time::timeout_at(deadline, self.stream.readable()) => match r {
                Err(_) => None,
                Ok(Err(_)) => Some(0),
                Ok(Ok(())) => {
                    let mut tmp = [0u8; 8192];
                    match self.stream.try_read(&mut tmp[..room]) {
                        Ok(n) => {
                            self.buf.extend_from_slice(&tmp[..n]);
                            self.bytes_in += n as u64;
                            Some(n)
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Some(usize::MAX),
                        Err(_) => Some(0),
                    }
                }
            },
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> bool {
        self.bytes_out += bytes.len() as u64;
        matches!(
            tokio::time::timeout(WRITE_TIMEOUT, self.stream.write_all(bytes)).await,
            Ok(Ok(()))
        )
    }
}

/// Serve one connection until it ends.
/// The connection's slot is freed when it ends.
pub(crate) async fn serve<C: Conn>(
    stream: C,
    _slot: Slot,
    info: SessionInfo,
    ctx: Arc<HttpContext>,
    shutdown: CancellationToken,
) {
    let start = Instant::now();
    stream.no_delay();
    let opening = iotpot_session::opening_events(&ctx.site.device);
    ctx.events.send_all(opening.map(|k| info.event(k))).await;
    let mut conn = Http {
        stream,
        buf: Vec::new(),
        bytes_in: 0,
        bytes_out: 0,
        fetches: 0,
    };
    let session_deadline = start + Duration::from_secs(ctx.limits.session_timeout);
    let mut served = 0u32;
    let reason: &'static str = loop {
        let deadline =
            (Instant::now() + Duration::from_secs(ctx.limits.idle_timeout)).min(session_deadline);
        match conn.read_head(deadline, &shutdown).await {
            Read::Closed => break "client",
            Read::Timeout if shutdown.is_cancelled() => break "shutdown",
            Read::Timeout => break "idle_timeout",
            Read::Malformed(why) => {
                malformed(&ctx, &info, &mut conn, why).await;
                break "malformed";
            }
            Read::Head(req, n) => {
                served += 1;
                let read = Reading {
                    head_len: n,
                    deadline,
                };
                match request(&ctx, &info, &mut conn, req, read, &shutdown).await {
                    Next::KeepAlive if served < MAX_REQUESTS => continue,
                    Next::KeepAlive | Next::Close => break "exit",
                    Next::Error => break "client",
                    Next::Streamed(why) => break why,
                }
            }
        }
    };
    let _ = conn.stream.shutdown().await;
    ctx.events
        .send(info.event(EventKind::SessionClosed {
            duration: start.elapsed().as_secs_f64(),
            reason: reason.to_string(),
            bytes_in: conn.bytes_in,
            bytes_out: conn.bytes_out,
        }))
        .await;
}

/// Answer bytes that are not a request the way the device does: its 400
/// page, then close.
async fn malformed(ctx: &HttpContext, info: &SessionInfo, conn: &mut Http<impl Conn>, why: String) {
    tracing::debug!(src = %info.src, reason = %why, "malformed HTTP request");
    let (bytes, event) = ctx
        .site
        .malformed(&conn.buf, why, OffsetDateTime::now_utc());
    conn.write(&bytes).await;
    ctx.events.send(info.event(event)).await;
}

enum Next {
    KeepAlive,
    Close,
    Error,
    /// A video stream ended the connection, for this reason.
    Streamed(&'static str),
}

/// Where the request's head ends in the buffer, and until when its body
/// may take to arrive.
struct Reading {
    head_len: usize,
    deadline: Instant,
}

/// Read the body, route, record, answer.
async fn request<C: Conn>(
    ctx: &Arc<HttpContext>,
    info: &SessionInfo,
    conn: &mut Http<C>,
    req: Request,
    read: Reading,
    shutdown: &CancellationToken,
) -> Next {
    // The body: what Content-Length announces, up to MAX_BODY.
    let announced = req.content_length().unwrap_or(0);
    let want = read.head_len + (announced as usize).min(MAX_BODY);
    while conn.buf.len() < want {
        match conn.fill(read.deadline, shutdown).await {
            Some(0) | None => break,
            Some(_) => {}
        }
    }
    let end = want.min(conn.buf.len());
    let body = &conn.buf[read.head_len.min(end)..end];
    // A trap that reads a file the source's device lacks is not there:
    // the request goes to the pages (and their 404).
    let mut hit = ctx.site.trap_hit(&req, body);
    if let Some(h) = &hit {
        if !super::trap::readable(ctx, info, h).await {
            hit = None;
        }
    }
    // (A trap's challenge runs nothing: droppers in it are looked for.)
    let trapped = hit.as_ref().is_some_and(|h| !h.challenge);
    let routed = ctx.site.route(&req, body, hit, &ctx.tokens, info);
    // A request that reached a trap runs its command there; any other
    // dropper is caught on the suspicious path.
    let (suspicious, urls) = if trapped {
        Default::default()
    } else {
        ctx.site.droppers(&req, body, unix_now())
    };
    conn.buf.drain(..end);
    let requested = urls.iter().map(|(url, tool)| EventKind::DownloadRequested {
        url: url.clone(),
        tool: tool.name().to_string(),
        outfile: String::new(),
    });
    let events = routed.events.into_iter().chain(suspicious).chain(requested);
    ctx.events.send_all(events.map(|k| info.event(k))).await;
    // The droppers are fetched beside the answer, which does not wait.
    for (url, tool) in urls {
        conn.fetches += 1;
        let (downloads, info, count) = (ctx.downloads.clone(), info.clone(), conn.fetches);
        let req = FetchRequest {
            url,
            tool,
            dest: String::new(),
        };
        tokio::spawn(async move { downloads.fetch(&info, &req, count).await });
    }
    let page = match routed.page {
        Page::Trap(hit) => super::trap::run(ctx, info, &hit, &mut conn.fetches).await,
        page => page,
    };
    let head_only = req.method == "HEAD";
    let (status, content_type, body, extra) = match page {
        Page::Stream => return Next::Streamed(stream_video(ctx, info, conn, &req, shutdown).await),
        // Ran above: what it answers is a body.
        Page::Trap(_) => return Next::Error,
        Page::Snapshot {
            content_type,
            extra,
        } => (200, content_type, ctx.camera.frame().await, extra),
        Page::Body {
            status,
            content_type,
            body,
            extra,
        } => (status, content_type, body, extra),
    };
    let out = ctx.site.response(
        status,
        &content_type,
        &body,
        extra,
        head_only,
        OffsetDateTime::now_utc(),
    );
    if !conn.write(&out).await {
        Next::Error
    } else if routed.keep_alive {
        Next::KeepAlive
    } else {
        Next::Close
    }
}

/// Stream the camera until the viewer goes away (or the session's time is
/// up); the viewing is two events, started and stopped with its duration.
async fn stream_video<C: Conn>(
    ctx: &Arc<HttpContext>,
    info: &SessionInfo,
    conn: &mut Http<C>,
    req: &Request,
    shutdown: &CancellationToken,
) -> &'static str {
    let cam = &ctx.camera;
    let content_type = format!("multipart/x-mixed-replace; boundary={}", cam.boundary);
    let h = ctx
        .site
        .stream_head(&content_type, OffsetDateTime::now_utc());
    let path = req.path().to_string();
    if !conn.write(&h).await {
        return "client";
    }
    if req.method == "HEAD" {
        return "exit";
    }
    ctx.events
        .send(info.event(EventKind::VideoStarted { path: path.clone() }))
        .await;
    let start = Instant::now();
    let end = start + Duration::from_secs(ctx.limits.session_timeout);
    let (mut frames, mut bytes) = (0u64, 0u64);
    let mut tick = tokio::time::interval(cam.frame_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let why = loop {
        tokio::select! {
            _ = shutdown.cancelled() => break "shutdown",
            _ = tokio::time::sleep_until(end) => break "session_timeout",
            r = conn.stream.readable() => {
                // The viewer says nothing while watching: end of stream or
                // an error is the viewer leaving; anything else is dropped.
                if r.is_err() {
                    break "client";
                }
                let mut sink = [0u8; 1024];
                match conn.stream.try_read(&mut sink) {
                    Ok(0) => break "client",
                    Ok(n) => conn.bytes_in += n as u64,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => break "client",
                }
            }
            _ = tick.tick() => {
                let frame = cam.frame().await;
                let mut part = format!(
                    "--{}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                    cam.boundary,
                    frame.len()
                )
                .into_bytes();
                part.extend_from_slice(&frame);
                part.extend_from_slice(b"\r\n");
                if !conn.write(&part).await {
                    break "client";
                }
                frames += 1;
                bytes += part.len() as u64;
            }
        }
    };
    ctx.events
        .send(info.event(EventKind::VideoStopped {
            path,
            duration: start.elapsed().as_secs_f64(),
            frames,
            bytes,
        }))
        .await;
    why
}
