//! `iotpot sensor --config NAME.toml`: a sensor, relaying its listeners'
//! attackers to the central (the file is what `iotpot pki sensor NAME`
//! printed).

use iotpot_proxy::pki::SensorFile;
use std::path::Path;
use tokio_util::sync::CancellationToken;

pub fn run(path: Option<&Path>) -> anyhow::Result<()> {
    let path = path.ok_or_else(|| {
        anyhow::anyhow!("a sensor needs its config: `iotpot sensor --config NAME.toml` (from `iotpot pki sensor NAME` on the central)")
    })?;
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let file =
        SensorFile::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    super::run::init_logging("info");
    super::raise_fd_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let shutdown = CancellationToken::new();
        let signal = shutdown.clone();
        tokio::spawn(async move {
            super::run::wait_for_signal().await;
            tracing::info!("sensor shutting down");
            signal.cancel();
        });
        tracing::info!(central = %file.central.address, "sensor starting");
        iotpot_proxy::sensor::run(file, shutdown).await
    })
}
