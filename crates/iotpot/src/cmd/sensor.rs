//! `iotpot sensor --config NAME.toml`: a sensor, relaying its listeners'
//! attackers to the central (the file is what `iotpot pki sensor NAME`
//! printed), and answering them itself while the central is away
//! (degraded mode: the same services as the central's, no IoTBOX, events
//! and samples into the spool until the central has them).

use iotpot_core::deployment::Deployment;
use iotpot_core::honeytoken::Honeytokens;
use iotpot_downloader::Downloader;
use iotpot_frontend::{Frontend, ListenerSpec, Relay, RelayTarget};
use iotpot_proxy::control::Listeners;
use iotpot_proxy::pki::{Degraded, SensorFile};
use iotpot_proxy::sensor::{Emulator, Options};
use iotpot_proxy::spool::{Spool, SpoolSink};
use iotpot_store::{Bus, EventTx};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
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
        let (options, bus) = if file.degraded.enabled {
            let spool = Spool::open(&file.degraded.spool, file.degraded.spool_max_bytes)?;
            let (bus, events) = Bus::start(vec![Box::new(SpoolSink(spool.clone()))], 4096, 512);
            let local = Local::new(&file, &spool, events, shutdown.clone())?;
            let options = Options {
                spool: Some(spool),
                emulator: Some(Box::new(local)),
                name: file.name.clone(),
            };
            (options, Some(bus))
        } else {
            let options = Options {
                spool: None,
                emulator: None,
                name: file.name.clone(),
            };
            (options, None)
        };
        let ran = iotpot_proxy::sensor::run(file, options, shutdown).await;
        if let Some(bus) = bus {
            // The degraded sessions' last events, into the spool.
            tokio::task::spawn_blocking(move || bus.finish()).await?;
        }
        ran
    })
}

/// The sensor's own device services (degraded mode).
struct Local {
    name: String,
    config: Degraded,
    events: EventTx,
    downloader: Option<Arc<Downloader>>,
    shutdown: CancellationToken,
    /// What serves the current faces: stopped when they change.
    running: Option<CancellationToken>,
}

impl Local {
    fn new(
        file: &SensorFile,
        spool: &Spool,
        events: EventTx,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Local> {
        let d = &file.degraded;
        let downloader = if d.downloader.enabled {
            Some(Arc::new(Downloader::new(
                &d.downloader,
                &spool.samples_dir(),
            )?))
        } else {
            None
        };
        Ok(Local {
            name: file.name.clone(),
            config: d.clone(),
            events,
            downloader,
            shutdown,
            running: None,
        })
    }

    async fn bind(&mut self, listeners: &Listeners) -> anyhow::Result<Vec<Option<SocketAddr>>> {
        if let Some(old) = self.running.take() {
            old.cancel();
        }
        if listeners.listen.is_empty() {
            return Ok(Vec::new());
        }
        let deployment = Deployment::from_hex(&listeners.seed)
            .ok_or_else(|| anyhow::anyhow!("the central's seed does not read"))?;
        let mut specs = Vec::new();
        let mut served = Vec::new();
        for face in &listeners.listen {
            let Some(device) = listeners.profiles.get(&face.profile) else {
                served.push(false);
                continue;
            };
            let profile = device.clone().into_profile();
            specs.push(ListenerSpec {
                service: face.service,
                address: SocketAddr::from(([127, 0, 0, 1], 0)),
                proxy_protocol: false,
                relay: Relay::Loopback,
                persona: profile.instantiate(&deployment),
            });
            served.push(true);
        }
        let frontend = Frontend::bind(
            specs,
            self.config.limits.clone(),
            self.events.clone(),
            &self.name,
            self.downloader.clone(),
            Arc::new(Honeytokens::new(&deployment)),
            None,
        )
        .await?;
        let mut addrs = frontend.relays().into_iter().map(|r| match r {
            RelayTarget::Listener(a) => Some(a),
            RelayTarget::Direct(_) => None,
        });
        let stop = self.shutdown.child_token();
        tokio::spawn(frontend.run(stop.clone()));
        self.running = Some(stop);
        Ok(served
            .into_iter()
            .map(|s| if s { addrs.next().flatten() } else { None })
            .collect())
    }
}

impl Emulator for Local {
    fn serve<'a>(
        &'a mut self,
        listeners: &'a Listeners,
    ) -> Pin<Box<dyn Future<Output = Vec<Option<SocketAddr>>> + Send + 'a>> {
        Box::pin(async move {
            match self.bind(listeners).await {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!(error = %e, "cannot answer on its own: while the central is away, connections are closed");
                    vec![None; listeners.listen.len()]
                }
            }
        })
    }
}
