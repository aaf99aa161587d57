//! The Downloader (IoTPOT's part of that name): the only code that fetches
//! an attacker's URL.
//!
//! - [`url`]: parsing the URLs attackers write, every host spelling included
//!   (`http://2130706433/`, `http://0x7f.1/`, `http://[::ffff:127.0.0.1]/`).
//! - [`guard`]: which addresses may be reached. Loopback, private, shared,
//!   link-local, multicast, broadcast, unspecified, IPv4-mapped/compatible
//!   IPv6 and NAT64 of forbidden addresses are refused unless the operator
//!   allows them (`[downloader] allow`).
//! - [`fetch`]: resolve once, check, connect to exactly that address; size
//!   and time limits; [`http`], [`tftp`] and [`ftp`] clients that send what
//!   the imitated tool sends.
//! - [`store`]: `samples/<sha256>`, read-only, deduplicated.
//! - [`triage`]: offline ELF triage (architecture, linking, UPX, indicators).
//! - [`yara`]: family tags from YARA rules (boreal): built-in and the operator's.
//!
//! Not for: deciding *what* to fetch (the shell emulation does) or running
//! anything it fetched (nothing ever runs).

pub mod fetch;
pub mod ftp;
pub use iotpot_core::guard;
pub mod http;
pub mod store;
pub mod tftp;
pub mod tls;
pub mod triage;
pub mod url;
pub mod yara;

use fetch::{FetchError, Fetched, Fetcher, Limits, Tool};
use std::path::Path;
use std::sync::Arc;
use store::{SampleStore, Stored};
use triage::Triage;

/// The downloader as the frontend uses it: fetch, store, triage, with a
/// bound on fetches running at once.
pub struct Downloader {
    fetcher: Fetcher,
    store: Arc<SampleStore>,
    rules: Arc<yara::Rules>,
    permits: tokio::sync::Semaphore,
    /// Recent fetch times per remote host (rate limit).
    recent: std::sync::Mutex<
        std::collections::HashMap<String, std::collections::VecDeque<std::time::Instant>>,
    >,
    per_host_per_minute: u32,
    /// Fetches one session may cause.
    pub max_per_session: u32,
}

/// A fetched and stored download.
#[derive(Debug, Clone)]
pub struct Download {
    pub fetched: Fetched,
    pub stored: Stored,
    /// For content the store did not have yet.
    pub triage: Option<Triage>,
}

impl Downloader {
    pub fn new(
        cfg: &iotpot_core::config::DownloaderConfig,
        samples: &Path,
    ) -> anyhow::Result<Downloader> {
        let guard = guard::Guard::new(&cfg.allow, &cfg.deny)
            .map_err(|e| anyhow::anyhow!("[downloader] {e}"))?;
        Ok(Downloader {
            fetcher: Fetcher {
                guard,
                limits: Limits {
                    max_bytes: cfg.max_bytes,
                    timeout: std::time::Duration::from_secs(cfg.timeout),
                    max_redirects: cfg.max_redirects,
                },
            },
            store: Arc::new(SampleStore::open(samples)?),
            rules: Arc::new(yara::Rules::load(
                (!cfg.rules.is_empty()).then(|| Path::new(&cfg.rules)),
            )?),
            permits: tokio::sync::Semaphore::new(cfg.max_concurrent.max(1)),
            recent: Default::default(),
            per_host_per_minute: cfg.per_host_per_minute,
            max_per_session: cfg.max_per_session,
        })
    }

    pub fn store(&self) -> &SampleStore {
        &self.store
    }

    /// Whether one more fetch from `host` fits in the per-host rate limit.
    fn rate_ok(&self, host: &str) -> bool {
        let now = std::time::Instant::now();
        let minute = std::time::Duration::from_secs(60);
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() > 10_000 {
            recent.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < minute));
        }
        let q = recent.entry(host.to_string()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= minute) {
            q.pop_front();
        }
        if q.len() as u32 >= self.per_host_per_minute {
            return false;
        }
        q.push_back(now);
        true
    }

    /// Fetch `url` as `tool` would, then keep the bytes as a sample.
    pub async fn download(&self, url: &str, tool: Tool) -> Result<Download, FetchError> {
        // Parsed once: the rate limit and the fetch see the same host.
        let parsed = url::parse(url).map_err(|e| FetchError::Url(e.to_string()))?;
        if !self.rate_ok(&parsed.host.to_string()) {
            return Err(FetchError::RateLimited(self.per_host_per_minute));
        }
        let fetched = {
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|_| FetchError::Timeout)?;
            self.fetcher.fetch_url(parsed, tool).await?
        };
        let (stored, triage) = self
            .keep(Arc::new(fetched.bytes.clone()))
            .await
            .map_err(|e| FetchError::Protocol(format!("storing the sample: {e}")))?;
        Ok(Download {
            fetched,
            stored,
            triage,
        })
    }

    /// Keep bytes as a sample (a download, or a file built in a session);
    /// new content is triaged.
    pub async fn keep(&self, bytes: Arc<Vec<u8>>) -> std::io::Result<(Stored, Option<Triage>)> {
        let store = self.store.clone();
        let rules = self.rules.clone();
        tokio::task::spawn_blocking(move || {
            let stored = store.put(&bytes)?;
            let t = (!stored.duplicate).then(|| {
                let mut t = triage::triage(&bytes);
                t.tags = rules.tags(&bytes);
                t
            });
            Ok((stored, t))
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_host_rate_limit() {
        let dir = std::env::temp_dir().join(format!("iotpot-dl-{}", std::process::id()));
        let cfg = iotpot_core::config::DownloaderConfig {
            per_host_per_minute: 2,
            ..Default::default()
        };
        let d = Downloader::new(&cfg, &dir).unwrap();
        assert!(d.rate_ok("198.51.100.1"));
        assert!(d.rate_ok("198.51.100.1"));
        assert!(
            !d.rate_ok("198.51.100.1"),
            "third fetch in a minute from one host"
        );
        assert!(d.rate_ok("198.51.100.2"), "other hosts are not slowed");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(d.download("http://198.51.100.1/x", Tool::Wget))
            .unwrap_err();
        assert_eq!(err, FetchError::RateLimited(2), "refused before any packet");
        std::fs::remove_dir_all(&dir).ok();
    }
}
