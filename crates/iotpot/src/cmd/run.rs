//! `iotpot run`: the honeypot.

use iotpot_core::deployment::Deployment;
use iotpot_core::device::{self, Wear};
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::Config;
use iotpot_downloader::Downloader;
use iotpot_frontend::{Frontend, ListenerSpec};
use iotpot_store::{jsonl::JsonlSink, sqlite::SqliteSink, Bus, Sink};
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
    rt.block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("creating data_dir {}: {e}", config.data_dir.display()))?;
    let deployment = Deployment::load_or_create(&config.data_dir)?;
    for warning in device::mixed(&config.listen)? {
        tracing::warn!("{warning}");
    }
    let mut specs = Vec::new();
    for (l, wear) in config
        .listen
        .iter()
        .zip(device::assign(&config.listen, &deployment)?)
    {
        match wear {
            Wear::Profile(profile) => specs.push(ListenerSpec {
                service: l.service,
                address: l.address,
                proxy_protocol: l.proxy_protocol,
                persona: profile.instantiate(&deployment),
            }),
            Wear::Skip(why) => tracing::warn!("{why}"),
        }
    }
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if config.store.jsonl {
        sinks.push(Box::new(JsonlSink::open(
            &config.data_dir.join("events.jsonl"),
        )?));
    }
    if config.store.sqlite {
        sinks.push(Box::new(SqliteSink::open(
            &config.data_dir.join("iotpot.db"),
        )?));
    }
    // The profiler hears of attacking addresses from the bus, as a sink.
    let profiler_queue = config.profiler.enabled.then(|| {
        let (tx, rx) = tokio::sync::mpsc::channel(iotpot_profiler::service::QUEUE);
        sinks.push(Box::new(iotpot_profiler::service::Feed(tx)));
        rx
    });
    let (bus, events) = Bus::start(sinks, config.store.queue, config.store.batch);
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
    let frontend = Frontend::bind(
        specs,
        config.limits.clone(),
        events.clone(),
        &sensor,
        downloader,
        Arc::new(Honeytokens::new(&deployment)),
        backend,
    )
    .await?;
    let capture = iotpot_capture::start(
        &config.capture,
        &config.data_dir.join("pcap"),
        frontend.ports(),
        events.clone(),
        sensor.as_str().into(),
    );
    drop(events);
    tracing::info!(data_dir = %config.data_dir.display(), sensor, "iotpot running; Ctrl-C or SIGTERM to stop");
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: closing sessions and writing their events");
        signal.cancel();
    });
    frontend.run(shutdown).await;
    if let Some(p) = profiler {
        let _ = p.await;
    }
    // Stop the capture (it flushes its file) before the bus closes: its
    // events go through the bus too.
    tokio::task::spawn_blocking(move || drop(capture)).await?;
    let stats = bus.stats().clone();
    tokio::task::spawn_blocking(move || bus.finish()).await?;
    tracing::info!(
        events = stats.written.load(std::sync::atomic::Ordering::Relaxed),
        dropped = stats.dropped.load(std::sync::atomic::Ordering::Relaxed),
        "stopped"
    );
    Ok(())
}

async fn wait_for_signal() {
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
