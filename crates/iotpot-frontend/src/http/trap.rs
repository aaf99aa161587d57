//! Running an exploit trap's command for one request: in the shell of the
//! request's source address (one per address, kept between its requests,
//! so an exploit that writes a file and then reads it back sees it, as on
//! the device), with real downloads, and the `sleep` it asks for honoured
//! up to the trap's bound. What to run and what to answer come from
//! [`iotpot_session::http::trap`].

use super::HttpContext;
use iotpot_core::clock::unix_now;
use iotpot_core::SessionInfo;
use iotpot_session::command::Terminal;
use iotpot_session::http::trap::{Hit, Run};
use iotpot_session::http::Page;
use iotpot_session::{Step, Wait};
use iotpot_shell::{Shell, System};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Source addresses whose shells are kept at once, and how long a silent
/// one is kept.
const MAX_SOURCES: usize = 1024;
const SOURCE_IDLE: Duration = Duration::from_secs(600);
/// Bytes of files one source's shell may create (as on the 53413 backdoor).
const MAX_VFS_PER_SOURCE: usize = crate::netis::MAX_VFS_PER_SOURCE;

type Shared = Arc<tokio::sync::Mutex<Terminal>>;

/// The shells of the sources that reached a trap of one listener.
#[derive(Default)]
pub struct Sources {
    map: Mutex<HashMap<IpAddr, (Shared, Instant)>>,
    /// Hits answered without running: the table was full.
    refused: std::sync::atomic::AtomicU64,
}

impl Sources {
    /// `ip`'s shell, if it has one yet.
    fn existing(&self, ip: IpAddr) -> Option<Shared> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip).map(|(t, _)| t.clone())
    }

    /// `ip`'s shell, made on its first request; `None` when the table is
    /// full of sources still active.
    fn get(&self, ip: IpAddr, device: &Arc<System>, fetching: bool) -> Option<Shared> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some((t, last)) = map.get_mut(&ip) {
            *last = now;
            return Some(t.clone());
        }
        if map.len() >= MAX_SOURCES {
            map.retain(|_, (t, last)| {
                Arc::strong_count(t) > 1 || now.duration_since(*last) < SOURCE_IDLE
            });
            if map.len() >= MAX_SOURCES {
                return None;
            }
        }
        let limits = iotpot_shell::Limits {
            vfs_bytes: MAX_VFS_PER_SOURCE,
            ..iotpot_shell::Limits::default()
        };
        let mut shell = Shell::new(device.clone(), "root", limits);
        // The web server's system(): root, `sh -c`, in its directory.
        shell.for_daemon(&device.persona.profile.http.cwd);
        if fetching {
            shell.enable_fetching();
        }
        let t = Arc::new(tokio::sync::Mutex::new(Terminal::new(shell)));
        map.insert(ip, (t.clone(), now));
        Some(t)
    }
}

/// Whether the file a trap that only reads shows is there for `info`'s
/// source (the answer is the server's 404 when it is not).
pub(crate) async fn readable(ctx: &Arc<HttpContext>, info: &SessionInfo, hit: &Hit) -> bool {
    let Some(path) = &hit.read else {
        return true;
    };
    if !hit.run.is_empty() {
        // The command may write it.
        return true;
    }
    match ctx.sources.existing(info.src.ip()) {
        Some(t) => t.lock().await.shell().read_file(path).is_some(),
        // A source without a shell yet sees the device's own files (a
        // scanner's guesses do not take a place in the table).
        None => Shell::new(
            ctx.site.device.clone(),
            "root",
            iotpot_shell::Limits::default(),
        )
        .read_file(path)
        .is_some(),
    }
}

/// Run `hit`'s command for `info`'s source, its events sent as they come;
/// the page to answer with, once the `sleep` it asked for is waited.
pub(crate) async fn run(
    ctx: &Arc<HttpContext>,
    info: &SessionInfo,
    hit: &Hit,
    fetches: &mut u32,
) -> Page {
    let site = &ctx.site;
    let trap = site.trap(hit);
    let Some(shared) = ctx
        .sources
        .get(info.src.ip(), &site.device, ctx.downloads.enabled())
    else {
        // Logged at the first and at each doubling: a flood writes a few
        // lines, not one per request.
        let n = ctx
            .sources
            .refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        if n.is_power_of_two() {
            tracing::warn!(
                refused = n,
                max_sources = MAX_SOURCES,
                "exploit traps: too many sources at once; hits answered without running"
            );
        }
        return site.trap_page(hit, b"", None);
    };
    let mut term = shared.lock().await;
    let mut run = Run::new(hit);
    loop {
        let mut step = Step::default();
        let done = run.advance(&mut term, unix_now(), &mut step);
        ctx.events
            .send_all(step.events.into_iter().map(|k| info.event(k)))
            .await;
        if !step.keep.is_empty() {
            ctx.downloads.keep(info, step.keep).await;
        }
        if done {
            break;
        }
        let Some(Wait::Fetch(req)) = step.wait else {
            break;
        };
        *fetches += 1;
        let result = tokio::select! {
            // Shutting down: the rest of the command does not run.
            _ = ctx.downloads.stop.cancelled() => break,
            r = ctx.downloads.fetch(info, &req, *fetches) => r,
        };
        run.fetched(&mut term, &req.url, result);
    }
    if !trap.save.is_empty() {
        term.shell_mut()
            .write_file(&trap.save, &run.output, unix_now());
    }
    let file = hit.read.as_deref().and_then(|p| term.shell().read_file(p));
    drop(term);
    let wait = run.slept_ms.min(u64::from(trap.sleep_max) * 1000);
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    site.trap_page(hit, &run.output, file.as_deref().map(|f| f.as_slice()))
}
