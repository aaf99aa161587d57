//! `iotpot run`: the honeypot.

use super::relays;
use iotpot_core::config::Service;
use iotpot_core::deployment::Deployment;
use iotpot_core::device::{self, Wear};
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::Config;
use iotpot_downloader::Downloader;
use iotpot_frontend::{Frontend, ListenerSpec, Relay, RelayTarget};
use iotpot_store::{jsonl::JsonlSink, sqlite::SqliteSink, Bus, EventTx, Sink};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(path: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(path)?;
    init_logging(&config.log.level);
    super::raise_fd_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(config, path.map(Path::to_path_buf)))
}

async fn serve(config: Config, path: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("creating data_dir {}: {e}", config.data_dir.display()))?;
    let deployment = Deployment::load_or_create(&config.data_dir)?;
    // The device listeners: this host's own, and each sensor's faces (the
    // central's services that serve them).
    let own: Vec<_> = config
        .listen
        .iter()
        .filter(|l| l.service.is_device())
        .cloned()
        .collect();
    for warning in device::mixed(&own)? {
        tracing::warn!("{warning}");
    }
    let mut specs = Vec::new();
    for (l, wear) in own.iter().zip(device::assign(&own, &deployment)?) {
        match wear {
            Wear::Profile(profile) => specs.push(ListenerSpec {
                service: l.service,
                address: l.address,
                proxy_protocol: l.proxy_protocol,
                relay: Relay::No,
                persona: profile.instantiate(&deployment),
            }),
            Wear::Skip(why) => tracing::warn!("{why}"),
        }
    }
    // After them, the services the sensors' faces need.
    let wanted = relays::wanted(&config, &deployment)?;
    let relay_specs = relays::missing(&wanted, &HashMap::new());
    let relay_keys: Vec<relays::Key> = relay_specs.iter().map(|(k, _)| k.clone()).collect();
    specs.extend(relay_specs.into_iter().map(|(_, s)| s));
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if config.store.jsonl {
        sinks.push(Box::new(JsonlSink::open(
            &config.data_dir.join("events.jsonl"),
        )?));
    }
    // The reports' rollups: the SQLite writer keeps them as it stores; this
    // thread rolls up what a store from an older iotpot left behind.
    let rollup_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut rollups = None;
    if config.store.sqlite {
        let db = config.data_dir.join("iotpot.db");
        sinks.push(Box::new(SqliteSink::open(&db)?));
        let stop = rollup_stop.clone();
        rollups = std::thread::Builder::new()
            .name("iotpot-rollup".into())
            .spawn(move || iotpot_store::rollup::keep_up(&db, &stop))
            .ok();
    }
    if !config.store.postgres.is_empty() {
        sinks.push(Box::new(iotpot_store::detached::Detached::new(
            super::postgres_sink(&config)?,
        )?));
    }
    // The profiler hears of attacking addresses from the bus, as a sink.
    let profiler_queue = config.profiler.enabled.then(|| {
        let (tx, rx) = tokio::sync::mpsc::channel(iotpot_profiler::service::QUEUE);
        sinks.push(Box::new(iotpot_profiler::service::Feed(tx)));
        rx
    });
    // Sessions an earlier process left open (it was killed) end now, at
    // their last event, before any new one starts.
    let interrupted = match config.store.sqlite {
        true => iotpot_store::sqlite::open_read(&config.data_dir.join("iotpot.db"))
            .and_then(|db| iotpot_store::query::interrupted(&db))
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not read the sessions left open");
                Vec::new()
            }),
        false => Vec::new(),
    };
    let (bus, events) = Bus::start(sinks, config.store.queue, config.store.batch);
    if !interrupted.is_empty() {
        tracing::info!(
            sessions = interrupted.len(),
            "sessions left open by the last run closed as interrupted"
        );
        events.send_all(interrupted).await;
    }
    let sensor = config.sensor_name();
    let shutdown = CancellationToken::new();
    let profiler = match profiler_queue {
        Some(queue) => Some(super::profiler::start(
            &config,
            queue,
            events.clone(),
            &sensor,
            shutdown.clone(),
        )?),
        None => None,
    };
    let downloader = if config.downloader.enabled {
        Some(Arc::new(Downloader::new(
            &config.downloader,
            &config.data_dir.join("samples"),
        )?))
    } else {
        None
    };
    let mut archs: Vec<iotpot_core::Arch> = specs.iter().map(|s| s.persona.profile.arch).collect();
    archs.sort_by_key(|a| a.name());
    archs.dedup();
    let backend = backend(&config, &archs);
    let tokens = Arc::new(Honeytokens::new(&deployment));
    let frontend = Frontend::bind(
        specs,
        config.limits.clone(),
        events.clone(),
        &sensor,
        downloader.clone(),
        tokens.clone(),
        backend.clone(),
    )
    .await?;
    // The sensor faces, in the order of their specs.
    let bound: HashMap<relays::Key, RelayTarget> =
        relay_keys.into_iter().zip(frontend.relays()).collect();
    let plans = relays::plans(wanted, &bound, &deployment);
    let (plans_tx, plans_rx) = tokio::sync::watch::channel(Arc::new(plans));
    let board = iotpot_proxy::status::Board::new(
        &config.data_dir.join("sensors.json"),
        config.sensors().iter().map(|s| s.name.clone()),
    );
    let samples = iotpot_downloader::store::SampleStore::open(&config.data_dir.join("samples"))?;
    let intake = Arc::new(iotpot_proxy::replay::Intake {
        events: events.clone(),
        put_sample: Arc::new(move |bytes: &[u8]| samples.put(bytes).map(drop)),
    });
    let tap = iotpot_capture::tap::Tap::default();
    let mut links = Vec::new();
    for l in config
        .listen
        .iter()
        .filter(|l| l.service == Service::Sensors)
    {
        let pki = config.data_dir.join("pki");
        let endpoint = iotpot_proxy::central::endpoint(l.address, &pki)?;
        let central = iotpot_proxy::central::Central {
            pki_dir: pki,
            sensors: plans_rx.clone(),
            board: board.clone(),
            intake: intake.clone(),
            tap: tap.clone(),
        };
        links.push(tokio::spawn(iotpot_proxy::central::serve(
            endpoint,
            central,
            shutdown.clone(),
        )));
    }
    let capture = iotpot_capture::start(
        &config.capture,
        &config.data_dir.join("pcap"),
        frontend.ports(),
        frontend.relay_ports(),
        &tap,
        events.clone(),
        sensor.as_str().into(),
    );
    drop(intake);
    // The plans hold the sensor faces, and they the event bus: none may
    // outlive the links and the reloader, or the bus would never finish.
    drop(plans_rx);
    if links.is_empty() {
        drop(bound);
    } else {
        let reload = Reload {
            path,
            deployment: deployment.clone(),
            bound,
            plans: plans_tx,
            board: board.clone(),
            capture: capture.as_ref().map(iotpot_capture::Capture::more_ports),
            frontend: FrontendParts {
                limits: config.limits.clone(),
                events: events.clone(),
                sensor: sensor.clone(),
                downloader,
                tokens,
                backend,
            },
        };
        tokio::spawn(reload.on_sighup(shutdown.clone()));
    }
    drop(events);
    tracing::info!(data_dir = %config.data_dir.display(), sensor, "iotpot running; Ctrl-C or SIGTERM to stop");
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: closing sessions and writing their events");
        signal.cancel();
    });
    frontend.run(shutdown).await;
    for l in links {
        let _ = l.await;
    }
    if let Some(p) = profiler {
        let _ = p.await;
    }
    // Stop the capture (it flushes its file) before the bus closes: its
    // events go through the bus too.
    tokio::task::spawn_blocking(move || drop(capture)).await?;
    rollup_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = rollups {
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }
    let stats = bus.stats().clone();
    tokio::task::spawn_blocking(move || bus.finish()).await?;
    tracing::info!(
        events = stats.written.load(std::sync::atomic::Ordering::Relaxed),
        dropped = stats.dropped.load(std::sync::atomic::Ordering::Relaxed),
        "stopped"
    );
    Ok(())
}

/// What binding more listeners takes (the sensors' new faces).
struct FrontendParts {
    limits: iotpot_core::config::Limits,
    events: EventTx,
    sensor: String,
    downloader: Option<Arc<Downloader>>,
    tokens: Arc<Honeytokens>,
    backend: Option<Arc<iotpot_iotbox::pool::Backend>>,
}

/// The sensors' part of the config, read again on SIGHUP and pushed to
/// the connected sensors (the rest of the config needs a restart).
struct Reload {
    path: Option<std::path::PathBuf>,
    deployment: Deployment,
    bound: HashMap<relays::Key, RelayTarget>,
    plans: tokio::sync::watch::Sender<Arc<HashMap<String, iotpot_proxy::central::Plan>>>,
    board: iotpot_proxy::status::Board,
    /// The capture, told of the faces a reload binds.
    capture: Option<iotpot_capture::MorePorts>,
    frontend: FrontendParts,
}

impl Reload {
    async fn on_sighup(mut self, shutdown: CancellationToken) {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGHUP: the sensors' listeners change only on restart");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = hup.recv() => {}
            }
            match self.once(&shutdown).await {
                Ok(n) => tracing::info!(
                    sensors = n,
                    "config read again (SIGHUP): the sensors' listeners pushed"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "config read again (SIGHUP): not taken, the sensors keep their listeners")
                }
            }
        }
    }

    async fn once(&mut self, shutdown: &CancellationToken) -> anyhow::Result<usize> {
        let config = super::load_config(self.path.as_deref())?;
        let wanted = relays::wanted(&config, &self.deployment)?;
        let missing = relays::missing(&wanted, &self.bound);
        if !missing.is_empty() {
            let (keys, specs): (Vec<_>, Vec<_>) = missing.into_iter().unzip();
            let f = &self.frontend;
            let more = Frontend::bind(
                specs,
                f.limits.clone(),
                f.events.clone(),
                &f.sensor,
                f.downloader.clone(),
                f.tokens.clone(),
                f.backend.clone(),
            )
            .await?;
            self.bound.extend(keys.into_iter().zip(more.relays()));
            if let Some(c) = &self.capture {
                c.add(more.ports(), more.relay_ports());
            }
            tokio::spawn(more.run(shutdown.clone()));
        }
        self.board
            .know(config.sensors().iter().map(|s| s.name.clone()));
        let plans = relays::plans(wanted, &self.bound, &self.deployment);
        let n = plans.len();
        self.plans.send_replace(Arc::new(plans));
        Ok(n)
    }
}

pub async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM; Ctrl-C still stops iotpot");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// IoTBOX, when enabled: the sandboxes of the built images of `archs`, and
/// the answers learned so far (from the store).
fn backend(
    config: &Config,
    archs: &[iotpot_core::Arch],
) -> Option<Arc<iotpot_iotbox::pool::Backend>> {
    if !config.iotbox.enabled {
        return None;
    }
    let learned = if config.store.sqlite {
        iotpot_store::sqlite::open(&config.data_dir.join("iotpot.db"))
            .and_then(|c| iotpot_store::query::learned(&c))
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading the learned answers failed; starting with none");
                Vec::new()
            })
    } else {
        Vec::new()
    };
    let learned = learned.into_iter().map(|r| r.learned).collect();
    Some(iotpot_iotbox::pool::Backend::start(
        &config.iotbox,
        &super::boxcmd::images_dir(config),
        &config.data_dir.join("iotbox-run"),
        learned,
        archs,
    ))
}
