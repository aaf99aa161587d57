//! `iotpot box build|list|status|shell`: IoTBOX images and sandboxes.

use clap::Subcommand;
use iotpot_iotbox::sinkhole::{Files, NoFiles};
use iotpot_iotbox::{image, template, BoxArch, Image, Vm, ARCHES};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BoxCmd {
    /// Build sandbox images from Debian packages into data_dir/images/.
    Build {
        /// Architectures (default: every one Debian has; with
        /// --from-source, every one it lacks).
        #[arg(long, value_delimiter = ',')]
        arch: Vec<String>,
        /// Cross-build kernel and BusyBox from Debian's source packages,
        /// for the architectures Debian 12 lacks (mips). Needs the cross
        /// compiler; the kernel takes 10-15 min on 2 cores, once.
        #[arg(long)]
        from_source: bool,
    },
    /// The architectures and which images are built.
    List,
    /// Images, templates and QEMU on this host, checked.
    Status,
    /// An interactive console on a fresh sandbox (for the operator).
    Shell { arch: String },
    /// Run a sample in a sandbox of its architecture (from its ELF header)
    /// and report its network behaviour.
    Analyze {
        sample: PathBuf,
        /// How long it runs.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// The sandbox, for scripts (default mipsel) or to override.
        #[arg(long)]
        arch: Option<String>,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The sandbox architecture for a sample: from its ELF header.
fn sample_arch(bytes: &[u8]) -> anyhow::Result<(&'static BoxArch, bool)> {
    let t = iotpot_downloader::triage::triage(bytes);
    if t.is_script() {
        return Ok((arch("mipsel")?, true));
    }
    if let Some(a) = t.cpu.and_then(BoxArch::for_arch) {
        return Ok((a, false));
    }
    if let Some((name, why)) = t.cpu.and_then(|cpu| {
        iotpot_iotbox::arch::UNAVAILABLE
            .iter()
            .find(|(n, _)| *n == cpu.name())
    }) {
        anyhow::bail!("{name} sandboxes cannot be built: {why}");
    }
    anyhow::bail!(
        "no sandbox for this sample ({} {}): sandboxes exist for {}",
        t.kind,
        t.arch.as_deref().unwrap_or("unknown architecture"),
        known_arches()
    )
}

/// The sandbox architectures, for messages.
fn known_arches() -> String {
    ARCHES
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn images_dir(config: &iotpot_core::Config) -> PathBuf {
    if config.iotbox.images.is_empty() {
        config.data_dir.join("images")
    } else {
        PathBuf::from(&config.iotbox.images)
    }
}

fn arch(name: &str) -> anyhow::Result<&'static BoxArch> {
    if let Some((_, why)) = iotpot_iotbox::arch::UNAVAILABLE
        .iter()
        .find(|(n, _)| *n == name)
    {
        anyhow::bail!("{name} sandboxes cannot be built: {why}");
    }
    BoxArch::by_name(name)
        .ok_or_else(|| anyhow::anyhow!("unknown architecture {name:?} (known: {})", known_arches()))
}

struct Bar(indicatif::ProgressBar);

impl image::Progress for Bar {
    fn step(&self, arch: &str, what: &str) {
        self.0.set_message(format!("{arch}: {what}"));
        if what == "done" {
            self.0.inc(1);
        }
    }
}

pub fn run(cmd: BoxCmd, config: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(config)?;
    let images = images_dir(&config);
    match cmd {
        BoxCmd::Build {
            arch: names,
            from_source,
        } => {
            let list: Vec<&'static BoxArch> = if names.is_empty() {
                ARCHES
                    .iter()
                    .filter(|a| a.source.is_some() == from_source)
                    .collect()
            } else {
                names
                    .iter()
                    .map(|n| arch(n))
                    .collect::<anyhow::Result<_>>()?
            };
            for a in &list {
                match (a.source, from_source) {
                    (Some(r), false) => anyhow::bail!(
                        "{} is not in Debian 12: cross-build it with iotpot box build --from-source --arch {} (needs {}; the kernel compiles in 10-15 min on 2 cores)",
                        a.name(),
                        a.name(),
                        r.packages
                    ),
                    (None, true) => anyhow::bail!(
                        "{} is built from Debian's packages: drop --from-source",
                        a.name()
                    ),
                    _ => {}
                }
            }
            std::fs::create_dir_all(&images)?;
            let cache = images.join(".cache");
            let bar = indicatif::ProgressBar::new(list.len() as u64).with_style(
                indicatif::ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            let bar = Bar(bar);
            for a in list {
                let started = Instant::now();
                let img = if from_source {
                    iotpot_iotbox::source::build(&images, &cache, a, &bar)?
                } else {
                    image::build(&images, &cache, a, &bar)?
                };
                bar.0.println(format!(
                    "{:<9} {}  busybox {}  ({:.0} s)",
                    a.name(),
                    img.manifest.kernel_package,
                    img.manifest.busybox_version,
                    started.elapsed().as_secs_f64()
                ));
            }
            bar.0.finish_and_clear();
            println!("images in {}", images.display());
        }
        BoxCmd::List => {
            println!("{:<9}  {:<8}  {:<22}  KERNEL", "ARCH", "DEBIAN", "QEMU");
            for a in ARCHES {
                let built = Image::load(&images, a, false)
                    .map(|i| {
                        format!(
                            "{} {}",
                            i.manifest.kernel_package, i.manifest.kernel_version
                        )
                    })
                    .unwrap_or_else(|_| match a.source {
                        Some(_) => format!(
                            "(not built: iotpot box build --from-source --arch {})",
                            a.name()
                        ),
                        None => "(not built)".into(),
                    });
                println!("{:<9}  {:<8}  {:<22}  {built}", a.name(), a.debian, a.qemu);
            }
        }
        BoxCmd::Status => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let run_dir =
                std::env::temp_dir().join(format!("iotpot-status-{}", std::process::id()));
            let mut problems = 0;
            for a in ARCHES {
                let lines = rt.block_on(status(a, &images, &run_dir));
                problems += lines.iter().filter(|l| l.starts_with('!')).count();
                println!("{:<9} {}", a.name(), lines[0].trim_start_matches('!'));
                for l in &lines[1..] {
                    println!("{:<9}   {}", "", l.trim_start_matches('!'));
                }
            }
            let _ = std::fs::remove_dir_all(&run_dir);
            if problems > 0 {
                anyhow::bail!("{problems} problem(s) with built images: see above");
            }
        }
        BoxCmd::Analyze {
            sample,
            seconds,
            arch: forced,
            json,
        } => {
            let bytes =
                std::fs::read(&sample).map_err(|e| anyhow::anyhow!("{}: {e}", sample.display()))?;
            let (mut a, script) = sample_arch(&bytes).or_else(|e| match &forced {
                Some(_) => Ok((arch("mipsel")?, false)),
                None => Err(e),
            })?;
            if let Some(f) = &forced {
                a = arch(f)?;
            }
            let img = Image::load(&images, a, true)?;
            let sha = iotpot_core::sample::sha256_hex(&bytes);
            let run_dir = config.data_dir.join("analysis").join(format!(
                "{}-{}",
                &sha[..12],
                iotpot_core::clock::unix_now()
            ));
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            eprintln!(
                "running {} in a {} sandbox for {seconds} s...",
                sample.display(),
                a.name()
            );
            let files = store_files(&config);
            let mut report = rt.block_on(iotpot_iotbox::analyze::analyze(
                &img, &bytes, script, seconds, &run_dir, files,
            ))?;
            report.sha256 = sha.clone();
            record(&config, &report)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
        }
        BoxCmd::Shell { arch: name } => {
            let a = arch(&name)?;
            let img = Image::load(&images, a, true)?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(shell(img))?;
        }
    }
    Ok(())
}

/// What `box status` says of one architecture: its QEMU, its image, and
/// for a built image, whether QEMU can run it (firmware, a dry start).
/// Lines starting with `!` are problems with a built image.
async fn status(a: &'static BoxArch, images: &Path, run_dir: &Path) -> Vec<String> {
    let host = iotpot_iotbox::host::check(a);
    let image = Image::load(images, a, true);
    let built = image.is_ok();
    let mark = |ok: bool| if ok || !built { "" } else { "!" };
    let mut lines = vec![format!(
        "{}{}",
        mark(host.version.is_ok()),
        match &host.version {
            Ok(v) => v.clone(),
            Err(e) => e.clone(),
        }
    )];
    for f in &host.firmware {
        lines.push(match &f.found {
            Some(p) => format!("firmware {} ok ({})", f.file, p.display()),
            None => format!(
                "{}firmware {} missing: install {}",
                mark(false),
                f.file,
                f.package
            ),
        });
    }
    match image {
        Err(_) if !images.join(a.name()).join("manifest.toml").exists() => lines.push(format!(
            "image not built (iotpot box build {}--arch {})",
            if a.source.is_some() {
                "--from-source "
            } else {
                ""
            },
            a.name()
        )),
        Err(e) => lines.push(format!("!image damaged: {e:#}")),
        Ok(i) => {
            lines.push("image ok".to_string());
            if host.version.is_ok() {
                let dir = run_dir.join(a.name());
                lines.push(match iotpot_iotbox::host::dry_start(&i, &dir).await {
                    Ok(()) => "QEMU accepts its machine (dry start: ok)".to_string(),
                    Err(e) => format!("!QEMU cannot start it: {e:#}"),
                });
                lines.push(template_status(&i, &dir).await);
            }
        }
    }
    lines
}

/// Whether the image's template restores (a sandbox from it answers).
async fn template_status(i: &Image, dir: &Path) -> String {
    if !i.arch.snapshot {
        return "template: none (this machine boots cold)".into();
    }
    let Some(t) = template::path(i).ok().filter(|p| p.exists()) else {
        return "template not made yet (iotpot run or box shell makes it)".into();
    };
    let started = Instant::now();
    match Vm::start(i, &dir.join("restore"), Some(&t)).await {
        Ok(mut vm) => {
            let ok = vm.run(b"true", Duration::from_secs(10)).await;
            vm.kill().await;
            match ok {
                Ok(_) => format!(
                    "template ready (restored and answering in {:.2} s)",
                    started.elapsed().as_secs_f64()
                ),
                Err(e) => format!(
                    "!template restored but does not answer: {e} ({})",
                    t.display()
                ),
            }
        }
        Err(e) => format!(
            "!template does not restore: {e:#} (delete {} and it is made again)",
            t.display()
        ),
    }
}

/// The sinkhole serves downloads from the sample store: a URL the
/// downloader fetched (or the same path on another host) gets those bytes.
struct StoreFiles {
    db: std::sync::Mutex<rusqlite::Connection>,
    samples: iotpot_downloader::store::SampleStore,
}

impl Files for StoreFiles {
    fn get(&self, url: &str) -> Option<Vec<u8>> {
        let sha = {
            let db = self.db.lock().ok()?;
            iotpot_store::query::sample_for_url(&db, url).ok()??
        };
        self.samples.get(&sha).ok()
    }
}

fn store_files(config: &iotpot_core::Config) -> Arc<dyn Files> {
    let db = config.data_dir.join("iotpot.db");
    let opened = iotpot_store::sqlite::open_read(&db)
        .ok()
        .zip(iotpot_downloader::store::SampleStore::open(&config.data_dir.join("samples")).ok());
    match opened {
        Some((db, samples)) if config.store.sqlite => Arc::new(StoreFiles {
            db: std::sync::Mutex::new(db),
            samples,
        }),
        _ => Arc::new(NoFiles),
    }
}

async fn shell(img: Image) -> anyhow::Result<()> {
    let run_dir = std::env::temp_dir().join(format!("iotpot-box-{}", std::process::id()));
    let result = shell_in(img, &run_dir).await;
    // Whatever ended the shell (exit, ^D, an error), its disk goes with it.
    let _ = std::fs::remove_dir_all(&run_dir);
    result
}

async fn shell_in(img: Image, run_dir: &std::path::Path) -> anyhow::Result<()> {
    let tmpl = template::ensure(&img, run_dir).await?;
    let started = Instant::now();
    let mut vm = Vm::start(&img, &run_dir.join("shell"), tmpl.as_deref()).await?;
    eprintln!(
        "{} sandbox ready in {:.2} s ({}; nothing you do here lasts). exit or ^D to leave.",
        img.arch.name(),
        started.elapsed().as_secs_f64(),
        if tmpl.is_some() {
            "restored from its template"
        } else {
            "booted: this machine cannot be restored from a snapshot"
        }
    );
    let stdin = std::io::stdin();
    loop {
        eprint!("{}# ", img.arch.name());
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 || line.trim() == "exit" {
            break;
        }
        match vm
            .run(line.trim_end().as_bytes(), Duration::from_secs(30))
            .await
        {
            Ok(a) => {
                std::io::stdout().write_all(&a.output)?;
                std::io::stdout().flush()?;
            }
            Err(e) => eprintln!("({e})"),
        }
    }
    vm.kill().await;
    Ok(())
}

/// The report as an event in the store (SQLite and JSONL, as configured).
fn record(config: &iotpot_core::Config, r: &iotpot_iotbox::analyze::Report) -> anyhow::Result<()> {
    let unspecified: std::net::SocketAddr = ([0, 0, 0, 0], 0).into();
    let info = iotpot_core::SessionInfo::new(
        unspecified,
        unspecified,
        config.sensor_name().as_str().into(),
        "iotbox",
    );
    let event = info.event(iotpot_core::EventKind::AnalysisReport {
        shasum: r.sha256.clone(),
        arch: r.arch.clone(),
        seconds: r.seconds,
        dns: r.dns.clone(),
        tcp: r.tcp.clone(),
        udp: r.udp.clone(),
        ports: r.ports.clone(),
        per_24: r.per_24.clone(),
        per_16: r.per_16.clone(),
        packets: r.packets,
        packets_per_second: r.packets_per_second,
        resolved: r.resolved.clone(),
        contacts: r.contacts.clone(),
        pcap: r.pcap.display().to_string(),
    });
    super::record(config, &[event])
}

fn print_report(r: &iotpot_iotbox::analyze::Report) {
    let esc = iotpot_core::escape::str_for_terminal;
    println!("sample   {}", r.sha256);
    println!(
        "sandbox  {} for {:.1} s; {} packets ({:.1}/s)",
        r.arch, r.seconds, r.packets, r.packets_per_second
    );
    println!("pcap     {}", r.pcap.display());
    let list = |title: &str, m: &std::collections::BTreeMap<String, u64>| {
        if !m.is_empty() {
            println!("{title}");
            for (k, v) in m {
                println!("  {:<40} {v}", esc(k));
            }
        }
    };
    if !r.dns.is_empty() {
        println!("DNS names (answered by the sinkhole)");
        for (name, n) in &r.dns {
            let to = r.resolved.get(name).map_or("-", String::as_str);
            println!("  {:<40} {n:<5} -> {to}", esc(name));
        }
    }
    list("TCP connection attempts", &r.tcp);
    list("UDP destinations", &r.udp);
    if !r.ports.is_empty() {
        println!("destination ports (distinct addresses)");
        for (p, n) in &r.ports {
            println!("  {p:<40} {n}");
        }
    }
    list("destinations per /24", &r.per_24);
    list("destinations per /16", &r.per_16);
    if !r.contacts.is_empty() {
        println!("connections accepted by the sinkhole (what the sample sent first)");
        for c in &r.contacts {
            let first = hex::decode(&c.first_bytes).unwrap_or_default();
            let shown = String::from_utf8_lossy(&first[..first.len().min(64)]).into_owned();
            println!(
                "  {:<21} {:<24} {:>6} B  {}",
                c.dst,
                c.name.as_deref().map(esc).unwrap_or_default(),
                c.sent,
                esc(&shown)
            );
            if let (Some(url), Some(served)) = (&c.http, &c.served) {
                println!("    GET {} -> {}", esc(url), served);
            }
        }
    }
    if r.pcap_truncated {
        println!("(the capture reached its size bound: the figures count only its start)");
    }
    if !r.output.is_empty() {
        println!("its output\n{}", esc(&r.output));
    }
}
