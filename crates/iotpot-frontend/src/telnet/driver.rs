//! The async driver of one Telnet session: socket, clock and timeouts around
//! a [`TelnetSession`].

use super::session::{Output, SessionLimits, TelnetSession};
use iotpot_core::config::Limits;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_downloader::fetch::{FetchError, Tool};
use iotpot_downloader::Downloader;
use iotpot_shell::System;
use iotpot_shell::{FetchFailure, FetchRequest, FetchResult};
use iotpot_store::EventTx;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long a write may wait for a peer that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Context {
    pub device: Arc<System>,
    pub limits: Limits,
    pub events: EventTx,
    /// Fetches downloads; `None`: the device behaves as if offline.
    pub downloader: Option<Arc<Downloader>>,
    /// Cancelled at shutdown: background work (following scripts) stops.
    pub stop: CancellationToken,
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

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Serve one connection until it ends; every event goes to the bus.
pub async fn serve(
    mut stream: TcpStream,
    info: SessionInfo,
    ctx: Arc<Context>,
    shutdown: CancellationToken,
) {
    let start = Instant::now();
    let _ = stream.set_nodelay(true);
    let p = &ctx.device.persona.profile;
    ctx.events
        .send(info.event(EventKind::SessionConnect {}))
        .await;
    ctx.events
        .send(info.event(EventKind::SessionParams {
            profile: p.name.clone(),
            arch: p.arch.name().to_string(),
            device_type: p.device_type.clone(),
        }))
        .await;
    let mut session = TelnetSession::new(
        ctx.device.clone(),
        session_limits(&ctx.limits),
        ctx.downloader.is_some(),
    );
    let mut fetches = 0u32;
    let mut out = Output::default();
    session.open(&mut out);
    let mut bytes_out = 0u64;
    let l = &ctx.limits;
    let session_deadline = start + Duration::from_secs(l.session_timeout);
    let login_deadline = start + Duration::from_secs(l.login_timeout);
    let mut last_input = start;
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
        for kind in out.events.drain(..) {
            ctx.events.send(info.event(kind)).await;
        }
        if !out.keep.is_empty() {
            Box::pin(keep_files(&ctx, &info, &mut out)).await;
        }
        if let Some(req) = out.fetch.take() {
            fetches += 1;
            // Boxed: the fetch's buffers must not live in every idle
            // session's future (they would cost ~20 KiB per session).
            let result = tokio::select! {
                _ = shutdown.cancelled() => break "shutdown",
                r = Box::pin(fetch(&ctx, &info, &req, fetches)) => r,
            };
            session.resume(&req.url, result, unix_now(), &mut out);
            continue;
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
        tokio::select! {
            _ = shutdown.cancelled() => break "shutdown",
            r = tokio::time::timeout_at(deadline, stream.readable()) => match r {
                Err(_) => break why,
                Ok(Err(_)) => break "error",
                Ok(Ok(())) => {}
            },
        }
        match read_some(&stream, &mut session, &mut out) {
            ReadResult::Closed => break "client",
            ReadResult::Error => break "error",
            ReadResult::WouldBlock => {}
            ReadResult::Data => last_input = Instant::now(),
        }
    };
    // Anything still pending (e.g. the output of `exit`).
    if !out.to_peer.is_empty() && reason != "client" {
        let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(&out.to_peer)).await;
        bytes_out += out.to_peer.len() as u64;
    }
    out.to_peer.clear();
    session.finish(&mut out);
    for kind in out.events.drain(..) {
        ctx.events.send(info.event(kind)).await;
    }
    if !out.keep.is_empty() {
        Box::pin(keep_files(&ctx, &info, &mut out)).await;
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

/// How deep the downloader follows scripts found in scripts, and how many
/// URLs it takes from one script.
const FOLLOW_DEPTH: u32 = 2;
const FOLLOW_URLS: usize = 32;

/// Fetch one download for the session: the events it makes, and the truth
/// the attacker's tool will print.
async fn fetch(
    ctx: &Arc<Context>,
    info: &SessionInfo,
    req: &FetchRequest,
    count: u32,
) -> FetchResult {
    let Some(dl) = &ctx.downloader else {
        return FetchResult::Failed(FetchFailure::Timeout);
    };
    if count > dl.max_per_session {
        ctx.events
            .send(info.event(EventKind::DownloadFailed {
                url: req.url.clone(),
                reason: format!(
                    "limit: more than {} fetches in this session",
                    dl.max_per_session
                ),
            }))
            .await;
        return FetchResult::Failed(FetchFailure::Timeout);
    }
    let tool = Tool::from_name(req.tool).unwrap_or(Tool::Wget);
    match download(ctx, info, &req.url, tool, &req.dest, None).await {
        Ok(d) => FetchResult::Fetched {
            remote: d.fetched.remote.to_string(),
            bytes: Arc::new(d.fetched.bytes),
        },
        Err(e) => FetchResult::Failed(failure(&e)),
    }
}

/// Download, store, triage, and say so in events. A new script is followed
/// in the background: the URLs it would fetch are fetched too.
async fn download(
    ctx: &Arc<Context>,
    info: &SessionInfo,
    url: &str,
    tool: Tool,
    outfile: &str,
    parent: Option<(&str, u32)>,
) -> Result<iotpot_downloader::Download, FetchError> {
    let Some(dl) = &ctx.downloader else {
        return Err(FetchError::Timeout);
    };
    match dl.download(url, tool).await {
        Ok(d) => {
            ctx.events
                .send(info.event(EventKind::DownloadSuccess {
                    url: url.to_string(),
                    final_url: d.fetched.final_url.clone(),
                    outfile: outfile.to_string(),
                    shasum: d.stored.sha256.clone(),
                    size: d.stored.size,
                    duplicate: d.stored.duplicate,
                    remote: d.fetched.remote.to_string(),
                    parent: parent.map(|p| p.0.to_string()),
                }))
                .await;
            if let Some(t) = d.triage.clone() {
                let is_script = t.kind == "script";
                ctx.events
                    .send(info.event(triaged(&d.stored.sha256, d.stored.size, url, t)))
                    .await;
                let depth = parent.map(|p| p.1).unwrap_or(0) + 1;
                if is_script && depth <= FOLLOW_DEPTH {
                    tokio::spawn(follow(
                        ctx.clone(),
                        info.clone(),
                        d.fetched.bytes.clone(),
                        d.stored.sha256.clone(),
                        depth,
                    ));
                }
            }
            Ok(d)
        }
        Err(e) => {
            tracing::debug!(url, error = %e.reason(), "download failed");
            ctx.events
                .send(info.event(EventKind::DownloadFailed {
                    url: url.to_string(),
                    reason: e.reason(),
                }))
                .await;
            Err(e)
        }
    }
}

/// Fetch what a downloaded script would fetch, whether or not the attacker
/// runs it (nested droppers), recording the script as the parent.
/// (Boxed as `dyn Send`: it and `download` call each other.)
fn follow(
    ctx: Arc<Context>,
    info: SessionInfo,
    script: Vec<u8>,
    sha: String,
    depth: u32,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        let urls = iotpot_shell::script_downloads(ctx.device.clone(), &script, unix_now());
        for (url, tool) in urls.into_iter().take(FOLLOW_URLS) {
            let tool = Tool::from_name(tool).unwrap_or(Tool::Wget);
            tokio::select! {
                _ = ctx.stop.cancelled() => return,
                _ = download(&ctx, &info, &url, tool, "", Some((&sha, depth))) => {}
            }
        }
    })
}

/// What the device's tool sees of a failed fetch.
fn failure(e: &FetchError) -> FetchFailure {
    match e {
        FetchError::Url(_) | FetchError::Resolve(_) => FetchFailure::BadAddress,
        FetchError::Refused { .. } | FetchError::Connect(_) | FetchError::Unsupported(_) => {
            FetchFailure::ConnectionRefused
        }
        FetchError::Timeout | FetchError::RateLimited(_) => FetchFailure::Timeout,
        FetchError::TooLarge(_) => FetchFailure::TooLarge,
        FetchError::Status(code, reason) => FetchFailure::HttpStatus(*code, reason.clone()),
        FetchError::Protocol(m) => FetchFailure::Server(m.clone()),
    }
}

fn triaged(sha: &str, size: u64, source: &str, t: iotpot_downloader::triage::Triage) -> EventKind {
    EventKind::SampleTriaged {
        shasum: sha.to_string(),
        size,
        kind: t.kind.clone(),
        arch: t.arch.clone(),
        tags: t.tags.clone(),
        source: source.to_string(),
        triage: serde_json::to_value(&t).unwrap_or_default(),
    }
}

/// Store the files the session built (echo droppers) as samples.
async fn keep_files(ctx: &Context, info: &SessionInfo, out: &mut Output) {
    let Some(dl) = &ctx.downloader else {
        out.keep.clear();
        return;
    };
    for (path, bytes) in out.keep.drain(..) {
        match dl.keep(bytes).await {
            Ok((stored, Some(t))) => {
                ctx.events
                    .send(info.event(triaged(
                        &stored.sha256,
                        stored.size,
                        &format!("echo:{path}"),
                        t,
                    )))
                    .await;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "storing a sample failed"),
        }
    }
}

enum ReadResult {
    Data,
    WouldBlock,
    Closed,
    Error,
}

/// Read what is there and feed it to the session. Not async: the read
/// buffer lives on the stack only here, not in every idle session's future.
fn read_some(stream: &TcpStream, session: &mut TelnetSession, out: &mut Output) -> ReadResult {
    let mut buf = [0u8; 4096];
    match stream.try_read(&mut buf) {
        Ok(0) => ReadResult::Closed,
        Ok(n) => {
            session.receive(&buf[..n], unix_now(), out);
            ReadResult::Data
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => ReadResult::WouldBlock,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => ReadResult::Closed,
        Err(_) => ReadResult::Error,
    }
}
