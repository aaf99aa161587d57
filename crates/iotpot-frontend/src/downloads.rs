//! Downloads on behalf of a session, shared by every service whose shell
//! can fetch (Telnet, the 53413/UDP backdoor): fetch through the
//! [`Downloader`], store and triage the sample, follow nested droppers, and
//! say all of it in events.

use iotpot_core::clock::unix_now;
use iotpot_core::{EventKind, SessionInfo};
use iotpot_downloader::fetch::{FetchError, Tool};
use iotpot_downloader::Downloader;
use iotpot_shell::System;
use iotpot_shell::{FetchFailure, FetchRequest, FetchResult};
use iotpot_store::EventTx;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// How deep the downloader follows scripts found in scripts, and how many
/// URLs it takes from one script.
const FOLLOW_DEPTH: u32 = 2;
const FOLLOW_URLS: usize = 32;

/// What a service needs to download for its sessions.
pub struct Downloads {
    /// The device whose shell runs downloaded scripts to find their URLs.
    pub device: Arc<System>,
    pub events: EventTx,
    /// Fetches downloads; `None`: the device behaves as if offline.
    pub downloader: Option<Arc<Downloader>>,
    /// Cancelled at shutdown: background work (following scripts) stops.
    pub stop: CancellationToken,
}

impl Downloads {
    pub fn enabled(&self) -> bool {
        self.downloader.is_some()
    }

    /// Fetch the `count`th download of a session: the events it makes, and
    /// the truth the attacker's tool will print.
    pub async fn fetch(
        self: &Arc<Self>,
        info: &SessionInfo,
        req: &FetchRequest,
        count: u32,
    ) -> FetchResult {
        let Some(dl) = &self.downloader else {
            return FetchResult::Failed(FetchFailure::Timeout);
        };
        if count > dl.max_per_session {
            self.events
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
        match self
            .download(info, &req.url, req.tool, &req.dest, None)
            .await
        {
            Ok(d) => FetchResult::Fetched {
                remote: d.fetched.remote.to_string(),
                bytes: Arc::new(d.fetched.bytes),
            },
            Err(e) => FetchResult::Failed(e.failure()),
        }
    }

    /// Download, store, triage, and say so in events. A new script is
    /// followed in the background: the URLs it would fetch are fetched too.
    async fn download(
        self: &Arc<Self>,
        info: &SessionInfo,
        url: &str,
        tool: Tool,
        outfile: &str,
        parent: Option<(&str, u32)>,
    ) -> Result<iotpot_downloader::Download, FetchError> {
        let Some(dl) = &self.downloader else {
            return Err(FetchError::Timeout);
        };
        match dl.download(url, tool).await {
            Ok(d) => {
                self.events
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
                if let Some(t) = &d.triage {
                    let is_script = t.is_script();
                    self.events
                        .send(info.event(t.event(&d.stored.sha256, d.stored.size, url)))
                        .await;
                    let depth = parent.map(|p| p.1).unwrap_or(0) + 1;
                    if is_script && depth <= FOLLOW_DEPTH {
                        tokio::spawn(self.clone().follow(
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
                self.events
                    .send(info.event(EventKind::DownloadFailed {
                        url: url.to_string(),
                        reason: e.reason(),
                    }))
                    .await;
                Err(e)
            }
        }
    }

    /// Fetch what a downloaded script would fetch, whether or not the
    /// attacker runs it (nested droppers), recording the script as the
    /// parent. (Boxed as `dyn Send`: it and `download` call each other.)
    fn follow(
        self: Arc<Self>,
        info: SessionInfo,
        script: Vec<u8>,
        sha: String,
        depth: u32,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            let urls = iotpot_shell::script_downloads(self.device.clone(), &script, unix_now());
            for (url, tool) in urls.into_iter().take(FOLLOW_URLS) {
                tokio::select! {
                    _ = self.stop.cancelled() => return,
                    _ = self.download(&info, &url, tool, "", Some((&sha, depth))) => {}
                }
            }
        })
    }

    /// Store the files a session built (echo droppers) as samples.
    pub async fn keep(&self, info: &SessionInfo, files: Vec<(String, Arc<Vec<u8>>)>) {
        let Some(dl) = &self.downloader else {
            return;
        };
        for (path, bytes) in files {
            match dl.keep(bytes).await {
                Ok((stored, Some(t))) => {
                    let source = format!("echo:{path}");
                    self.events
                        .send(info.event(t.event(&stored.sha256, stored.size, &source)))
                        .await;
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "storing a sample failed"),
            }
        }
    }
}
