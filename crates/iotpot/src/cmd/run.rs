//! `iotpot run`: the honeypot.

use iotpot_core::config::Service;
use iotpot_core::deployment::Deployment;
use iotpot_core::device::{self, Wear};
use iotpot_core::honeytoken::Honeytokens;
use iotpot_core::Config;
use iotpot_downloader::Downloader;
use iotpot_frontend::{Frontend, ListenerSpec};
use iotpot_proxy::central::Route;
use iotpot_proxy::control::Face;
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
    // The device listeners: this host's own, and each sensor's faces (the
    // central's loopback listeners that serve them).
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
    let mut add =
        |listen: &[iotpot_core::config::Listen], relay: bool| -> anyhow::Result<Vec<Face>> {
            let mut faces = Vec::new();
            for (l, wear) in listen.iter().zip(device::assign(listen, &deployment)?) {
                match wear {
                    Wear::Profile(profile) => {
                        specs.push(ListenerSpec {
                            service: l.service,
                            address: if relay {
                                "127.0.0.1:0".parse()?
                            } else {
                                l.address
                            },
                            proxy_protocol: l.proxy_protocol,
                            relay,
                            persona: profile.instantiate(&deployment),
                        });
                        faces.push(Face {
                            service: l.service.name().to_string(),
                            address: l.address,
                        });
                    }
                    Wear::Skip(why) => tracing::warn!("{why}"),
                }
            }
            Ok(faces)
        };
    add(&own, false)?;
    let mut sensor_faces = Vec::new();
    for s in config.sensors() {
        sensor_faces.push((s.name.clone(), add(&s.listen, true)?));
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
    // Each sensor face's route: its listener on the sensor, the central's
    // listener that serves it (bound in the same order).
    let mut relay_addrs = frontend.relay_addrs().into_iter();
    let mut routes = std::collections::HashMap::new();
    for (name, faces) in sensor_faces {
        let r: Vec<Route> = faces
            .into_iter()
            .filter_map(|face| {
                Some(Route {
                    face,
                    to: relay_addrs.next()?,
                })
            })
            .collect();
        routes.insert(name, r);
    }
    let board = iotpot_proxy::status::Board::new(
        &config.data_dir.join("sensors.json"),
        config.sensors().iter().map(|s| s.name.clone()),
    );
    let routes = Arc::new(routes);
    let mut links = Vec::new();
    for l in config
        .listen
        .iter()
        .filter(|l| l.service == Service::Sensors)
    {
        let pki = config.data_dir.join("pki");
        let endpoint = iotpot_proxy::central::endpoint(l.address, &pki)?;
        links.push(tokio::spawn(iotpot_proxy::central::serve(
            endpoint,
            pki,
            routes.clone(),
            board.clone(),
            shutdown.clone(),
        )));
    }
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
    for l in links {
        let _ = l.await;
    }
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
