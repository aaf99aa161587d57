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
pub mod guard;
pub mod http;
pub mod store;
pub mod tftp;
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
            max_per_session: cfg.max_per_session,
        })
    }

    pub fn store(&self) -> &SampleStore {
        &self.store
    }

    /// Fetch `url` as `tool` would, then keep the bytes as a sample.
    pub async fn download(&self, url: &str, tool: Tool) -> Result<Download, FetchError> {
        let fetched = {
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|_| FetchError::Timeout)?;
            self.fetcher.fetch(url, tool).await?
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
