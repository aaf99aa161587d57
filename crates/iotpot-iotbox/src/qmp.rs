//! A minimal QMP client (QEMU's JSON control protocol: one JSON object per
//! line over a unix socket).

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

pub struct Qmp {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
}

impl Qmp {
    /// Connect (waiting for QEMU to create the socket) and negotiate.
    pub async fn connect(path: &Path, within: Duration) -> anyhow::Result<Qmp> {
        let deadline = tokio::time::Instant::now() + within;
        let stream = loop {
            match UnixStream::connect(path).await {
                Ok(s) => break s,
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    return Err(e).with_context(|| format!("QMP socket {}", path.display()))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        let (r, w) = stream.into_split();
        let mut q = Qmp {
            read: BufReader::new(r),
            write: w,
        };
        q.line().await.context("QMP greeting")?;
        q.execute("qmp_capabilities", json!({})).await?;
        Ok(q)
    }

    async fn line(&mut self) -> anyhow::Result<Value> {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(30), self.read.read_line(&mut line))
            .await
            .context("QMP: no answer")??;
        if n == 0 {
            bail!("QMP: QEMU closed the socket");
        }
        Ok(serde_json::from_str(&line)?)
    }

    /// Run a command; its `return` value (events in between are skipped).
    pub async fn execute(&mut self, command: &str, arguments: Value) -> anyhow::Result<Value> {
        let msg = json!({"execute": command, "arguments": arguments});
        self.write.write_all(format!("{msg}\n").as_bytes()).await?;
        loop {
            let v = self.line().await?;
            if let Some(r) = v.get("return") {
                return Ok(r.clone());
            }
            if let Some(e) = v.get("error") {
                bail!("QMP {command}: {e}");
            }
        }
    }

    /// `query-status`'s `status` (`running`, `inmigrate`, `postmigrate`...).
    pub async fn status(&mut self) -> anyhow::Result<String> {
        let r = self.execute("query-status", json!({})).await?;
        Ok(r["status"].as_str().unwrap_or("").to_string())
    }
}
