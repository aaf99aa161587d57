//! Scanning one host back: every configured port, one grab each, inside
//! the limits, then the verdict.

use crate::grab::{self, Grab, Limits};
use crate::recog::Library;
use crate::verdict::{self, Verdict};
use iotpot_core::config::ProfilerConfig;
use iotpot_core::guard::{Guard, Refusal};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// What a scan of one host found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostScan {
    pub addr: IpAddr,
    pub grabs: Vec<Grab>,
    pub verdict: Verdict,
}

/// Everything a scan needs, built once from `[profiler]`.
pub struct Scanner {
    pub ports: Vec<u16>,
    pub limits: Limits,
    guard: Guard,
    /// Connections open at once, all hosts together.
    slots: Arc<Semaphore>,
    lib: Arc<Library>,
}

impl Scanner {
    /// `allow` adds to `[profiler] allow` (the command line's `--allow`).
    pub fn new(
        cfg: &ProfilerConfig,
        lib: Arc<Library>,
        allow: &[String],
    ) -> anyhow::Result<Scanner> {
        let allow: Vec<String> = cfg.allow.iter().chain(allow).cloned().collect();
        let guard =
            Guard::new(&allow, &cfg.exclude).map_err(|e| anyhow::anyhow!("profiler: {e}"))?;
        Ok(Scanner {
            ports: cfg.ports.clone(),
            limits: Limits {
                connect: Duration::from_secs(cfg.connect_timeout),
                total: Duration::from_secs(cfg.read_timeout),
                max_bytes: cfg.max_bytes,
                user_agent: cfg.user_agent.clone(),
            },
            guard,
            slots: Arc::new(Semaphore::new(cfg.concurrency.max(1))),
            lib,
        })
    }

    /// Whether `ip` may be contacted: reserved, private, loopback... ranges
    /// and `exclude` are refused unless `allow` lists them.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        self.guard.check(ip)
    }

    /// Scan one host: every port at once (within the shared connection
    /// limit), then the verdict. Refused addresses are never contacted.
    pub async fn scan(&self, ip: IpAddr) -> Result<HostScan, Refusal> {
        self.check(ip)?;
        let mut tasks = tokio::task::JoinSet::new();
        for &port in &self.ports {
            let (slots, limits) = (self.slots.clone(), self.limits.clone());
            tasks.spawn(async move {
                let _slot = slots.acquire_owned().await;
                grab::grab(SocketAddr::new(ip, port), &limits).await
            });
        }
        let mut grabs = Vec::with_capacity(self.ports.len());
        while let Some(g) = tasks.join_next().await {
            if let Ok(g) = g {
                grabs.push(g);
            }
        }
        grabs.sort_by_key(|g| g.port);
        let verdict = verdict::judge(&self.lib, &grabs);
        Ok(HostScan {
            addr: ip,
            grabs,
            verdict,
        })
    }
}
