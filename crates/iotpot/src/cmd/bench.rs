//! `iotpot bench telnet`, `iotpot bench video`, `iotpot bench box` and
//! `iotpot bench reference`.
//!
//! Without `--target`, `bench telnet` starts two servers as child processes
//! (the bare reference and `iotpot run` on a temporary data dir), runs the
//! same load against both, and prints every figure with its ratio to the
//! reference. With `--target ADDR [--pid PID]` it measures any Telnet
//! honeypot (cowrie, another iotpot...).

use clap::Subcommand;
use iotpot_loadgen::client::{cpu_time, rss_kib, LoadResult, Scenario};
use serde::Serialize;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Load a Telnet honeypot with Mirai-style sessions.
    Telnet(TelnetArgs),
    /// Render camera frames: the CPU one camera's video costs (a frame is
    /// rendered once per period and shared by all its viewers).
    Video {
        /// The camera profile.
        #[arg(long, default_value = "camera-basic")]
        profile: String,
        /// Frames to render.
        #[arg(long, default_value_t = 100)]
        frames: u64,
    },
    /// IoTBOX sandboxes: cold boot, reset (restore to first answer), command
    /// round trip, RSS, and a learned answer, for every built architecture.
    Box {
        /// Architectures (default: every built one).
        #[arg(long, value_delimiter = ',')]
        arch: Vec<String>,
        /// Round trips measured per architecture.
        #[arg(long, default_value_t = 20)]
        rounds: usize,
    },
    /// Classify banners with every Recog file (built-in and `[profiler]
    /// fingerprints`) on one core: every example of every file, then as many
    /// banners no fingerprint knows.
    Recog {
        /// Seconds per corpus.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// The scan-back of many attackers at once (in a network namespace of
    /// its own, fake devices on a block of addresses): its speed, and the
    /// Telnet throughput with it running against without it.
    Profiler {
        /// Attackers, each scanned back on 8 ports.
        #[arg(long, default_value_t = 1000)]
        hosts: usize,
        /// Seconds of the closed loop.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value_t = 50)]
        concurrency: usize,
        /// `[profiler] hosts_per_minute` (the default 60 would take 17
        /// minutes for 1000 hosts: the bench scans as fast as it can).
        #[arg(long, default_value_t = 60000)]
        hosts_per_minute: u32,
    },
    /// The same Telnet sessions straight to a central and through a sensor
    /// of it (started here, on loopback): the latency the relay adds, its
    /// sessions/s, the sensor's memory per idle relayed session.
    Sensor(SensorArgs),
    /// `iotpot report` over a large store: each section's time and the
    /// whole HTML report's (the store is made once in `--db` and reused).
    Report {
        /// Events in the store.
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// The store to make or reuse.
        #[arg(long, default_value = "iotpot-bench-report.db")]
        db: PathBuf,
        /// Make (or reuse) the store in this PostgreSQL database instead (a
        /// connection string, as `[store] postgres`), and time the report
        /// there.
        #[arg(long, value_name = "CONNINFO")]
        postgres: Option<String>,
    },
    /// A device web server's work per request before any I/O: routing,
    /// looking for droppers and matching the exploit traps (ordinary
    /// requests and exploits').
    Http {
        /// Seconds of measuring in all.
        #[arg(long, default_value_t = 6.0)]
        seconds: f64,
    },
    /// Run the bare reference server (prints `listening on ADDR`).
    Reference {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

#[derive(clap::Args, Clone)]
pub struct TelnetArgs {
    /// A running honeypot to measure; without it, the reference server and
    /// iotpot are started and compared.
    #[arg(long)]
    target: Option<SocketAddr>,
    /// The target's process id, to measure its memory per idle session.
    #[arg(long)]
    pid: Option<u32>,
    /// Concurrency levels of the closed loop.
    #[arg(long, value_delimiter = ',', default_value = "1,50,200")]
    concurrency: Vec<usize>,
    /// Seconds per concurrency level.
    #[arg(long, default_value_t = 10.0)]
    pub(super) seconds: f64,
    /// Without --target: measure each server in this many rounds, the
    /// seconds of each level split between them, the reference and iotpot
    /// taking turns to go first (reference, iotpot, iotpot, reference...),
    /// and pool the rounds. A machine whose speed drifts during the run
    /// (a VM's neighbours) then weighs on both alike.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=100))]
    rounds: u32,
    /// Idle logged-in sessions for the memory figure (0 to skip).
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    #[arg(long, default_value = "root")]
    username: String,
    #[arg(long, default_value = "xc3511")]
    password: String,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub(super) json: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct SensorArgs {
    /// Concurrency levels of the closed loop.
    #[arg(long, value_delimiter = ',', default_value = "50,200")]
    concurrency: Vec<usize>,
    /// Seconds per concurrency level.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Idle relayed sessions for the sensor's memory figure (0 to skip).
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// Rates (probes/s) of 53413/udp datagrams sent through the sensor.
    #[arg(long, value_delimiter = ',', default_value = "20000")]
    udp_rates: Vec<u64>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub(super) struct ServerResult {
    name: String,
    /// Rounds pooled into these figures.
    rounds: u32,
    pub(super) load: Vec<LoadResult>,
    idle_sessions: usize,
    idle_failed: usize,
    pub(super) rss_per_idle_session_kib: Option<f64>,
}

pub fn run(cmd: BenchCmd, _config: Option<&Path>) -> anyhow::Result<()> {
    super::raise_fd_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cmd {
        BenchCmd::Reference { listen } => rt.block_on(async move {
            let l = tokio::net::TcpListener::bind(listen).await?;
            println!("listening on {}", l.local_addr()?);
            iotpot_loadgen::reference::serve(l).await
        }),
        BenchCmd::Telnet(a) => rt.block_on(telnet(a)),
        BenchCmd::Report {
            events,
            db,
            postgres,
        } => match postgres {
            Some(conninfo) => super::bench_report::run_postgres(events, &conninfo),
            None => super::bench_report::run(events, &db),
        },
        BenchCmd::Http { seconds } => super::bench_http::run(seconds),
        BenchCmd::Sensor(a) => rt.block_on(super::bench_sensor::run(
            TelnetArgs {
                target: None,
                pid: None,
                concurrency: a.concurrency,
                seconds: a.seconds,
                idle: a.idle,
                rounds: 1,
                username: "root".into(),
                password: "xc3511".into(),
                json: a.json,
            },
            a.udp_rates,
        )),
        BenchCmd::Video { profile, frames } => video(&profile, frames),
        BenchCmd::Profiler {
            hosts,
            seconds,
            concurrency,
            hosts_per_minute,
        } => {
            drop(rt);
            super::bench_profiler::run(hosts, seconds, concurrency, hosts_per_minute)
        }
        BenchCmd::Recog { seconds } => {
            let config = super::load_config(_config)?;
            recog(&config, seconds)
        }
        BenchCmd::Box { arch, rounds } => {
            let config = super::load_config(_config)?;
            let images = super::boxcmd::images_dir(&config);
            rt.block_on(sandbox(&images, &arch, rounds))
        }
    }
}

async fn telnet(a: TelnetArgs) -> anyhow::Result<()> {
    let results = match a.target {
        Some(target) => vec![measure("target", target, a.pid, true, &a).await],
        None => against_reference(&a).await?,
    };
    print_results(&results, "reference");
    if a.target.is_none() && a.rounds > 1 {
        println!(
            "each server measured in {} rounds of {:.1} s per level, taking turns to go first; the figures pool the rounds",
            a.rounds,
            a.seconds / a.rounds as f64
        );
    }
    if let Some(path) = &a.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)? + "\n")?;
    }
    Ok(())
}

/// The reference and iotpot, each started afresh for every round (iotpot
/// on the same data dir, so its store keeps growing as a running
/// honeypot's does), in ABBA order: the reference first in even rounds,
/// iotpot first in odd ones; every phase starts with the page cache
/// written out. The idle sessions are measured in each server's first
/// round only, on a fresh process.
async fn against_reference(a: &TelnetArgs) -> anyhow::Result<Vec<ServerResult>> {
    let rounds = a.rounds.max(1);
    let exe = std::env::current_exe()?;
    let dir = std::env::temp_dir().join(format!("iotpot-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let round_args = |first: bool| TelnetArgs {
        seconds: a.seconds / rounds as f64,
        idle: if first { a.idle } else { 0 },
        ..a.clone()
    };
    // Indexes into `pooled`.
    const REFERENCE: usize = 0;
    const IOTPOT: usize = 1;
    let mut pooled: [Option<ServerResult>; 2] = [None, None];
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [REFERENCE, IOTPOT]
        } else {
            [IOTPOT, REFERENCE]
        };
        for which in order {
            if rounds > 1 {
                eprintln!("round {} of {rounds}", round + 1);
            }
            let ra = round_args(round == 0);
            // What the last phase left in the page cache (iotpot's JSONL
            // and pcap files) is written out now, not during the next
            // server's measurement.
            // SAFETY: sync(2) takes no arguments and cannot fail.
            unsafe { libc::sync() };
            let r = if which == REFERENCE {
                let (child, addr) = spawn_server(Command::new(&exe).args(["bench", "reference"]))?;
                let reference = KillOnDrop(child);
                measure("reference", addr, Some(reference.0.id()), false, &ra).await
            } else {
                let port = free_port()?;
                let config = bench_config(&dir, port, "")?;
                let iotpot = spawn_run(&config)?;
                let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
                wait_listening(addr).await?;
                let r = measure("iotpot", addr, Some(iotpot.0.id()), true, &ra).await;
                terminate(iotpot);
                r
            };
            match &mut pooled[which] {
                Some(p) => p.merge(r),
                slot => *slot = Some(r),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(pooled.into_iter().flatten().collect())
}

pub(super) async fn measure(
    name: &str,
    target: SocketAddr,
    pid: Option<u32>,
    expect_busybox: bool,
    a: &TelnetArgs,
) -> ServerResult {
    let sc = Scenario {
        target,
        username: a.username.clone(),
        password: a.password.clone(),
        expect_busybox,
    };
    // Idle sessions first, on a server that has not yet freed memory a new
    // session could reuse (or hand back to the system): the figure is what
    // a session costs, not what was lying around.
    let mut per_session = None;
    let mut idle_failed = 0;
    if a.idle > 0 {
        eprintln!("{name}: {} idle logged-in sessions", a.idle);
        // What a server allocates once as it starts (threads, buffers) is
        // not a session's.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = pid.and_then(rss_kib);
        let (conns, failed) = sc.idle_sessions(a.idle).await;
        idle_failed = failed;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = pid.and_then(rss_kib);
        if let (Some(b), Some(af)) = (before, after) {
            let n = conns.len().max(1) as f64;
            per_session = Some((af as f64 - b as f64) / n);
        }
        drop(conns);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut load = Vec::new();
    for &c in &a.concurrency {
        eprintln!("{name}: closed loop, concurrency {c}, {} s", a.seconds);
        let cpu_before = pid.and_then(cpu_time);
        let mut l = sc.closed_loop(c, Duration::from_secs_f64(a.seconds)).await;
        // Let the server settle between levels (and finish writing what
        // the sessions left it: that CPU is theirs too).
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let (Some(b), Some(af)) = (cpu_before, pid.and_then(cpu_time)) {
            let used = af.saturating_sub(b).as_secs_f64() * 1e6;
            l.server_cpu_us_per_session = Some(used / l.sessions.max(1) as f64);
        }
        load.push(l);
    }
    ServerResult {
        name: name.to_string(),
        rounds: 1,
        load,
        idle_sessions: a.idle,
        idle_failed,
        rss_per_idle_session_kib: per_session,
    }
}

impl ServerResult {
    /// Pool a later round of the same server: each level's runs merged,
    /// the idle figures kept from the round that measured them.
    fn merge(&mut self, later: ServerResult) {
        self.rounds += later.rounds;
        for l in later.load {
            match self
                .load
                .iter_mut()
                .find(|x| x.concurrency == l.concurrency)
            {
                Some(x) => x.merge(l),
                None => self.load.push(l),
            }
        }
        if self.rss_per_idle_session_kib.is_none() {
            self.idle_sessions = later.idle_sessions;
            self.idle_failed = later.idle_failed;
            self.rss_per_idle_session_kib = later.rss_per_idle_session_kib;
        }
    }
}

pub(super) fn print_results(results: &[ServerResult], baseline: &str) {
    let reference = results.iter().find(|r| r.name == baseline);
    println!(
        "{:<10} {:>5} {:>9} {:>7} {:>12} {:>9} {:>9} {:>11}  vs {baseline}",
        "server", "conc", "sessions", "failed", "sessions/s", "p50 ms", "p99 ms", "CPU µs/ses"
    );
    for r in results {
        for l in &r.load {
            let ratio = reference
                .and_then(|re| re.load.iter().find(|x| x.concurrency == l.concurrency))
                .filter(|_| r.name != baseline)
                .map(|x| {
                    format!(
                        "{:.0}% of sessions/s, p99 x{:.2}",
                        100.0 * l.sessions_per_sec / x.sessions_per_sec.max(1e-9),
                        l.p99_ms / x.p99_ms.max(1e-9)
                    )
                })
                .unwrap_or_default();
            let cpu = l
                .server_cpu_us_per_session
                .map(|us| format!("{us:.0}"))
                .unwrap_or_else(|| "-".into());
            println!(
                "{:<10} {:>5} {:>9} {:>7} {:>12.0} {:>9.2} {:>9.2} {:>11}  {}",
                r.name,
                l.concurrency,
                l.sessions,
                l.failed,
                l.sessions_per_sec,
                l.p50_ms,
                l.p99_ms,
                cpu,
                ratio
            );
        }
    }
    for r in results {
        if let Some(kib) = r.rss_per_idle_session_kib {
            println!(
                "{:<10} idle sessions: {} ({} failed), RSS per idle session: {:.2} KiB",
                r.name, r.idle_sessions, r.idle_failed, kib
            );
        }
    }
}

pub(super) struct KillOnDrop(pub(super) Child);

/// The benchmarks' honeypot: one Telnet listener on `port` (a Xiongmai DVR),
/// limits out of the way, quiet logs; `extra` TOML after that.
pub(super) fn bench_config(dir: &Path, port: u16, extra: &str) -> anyhow::Result<PathBuf> {
    let config = dir.join("iotpot.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nsensor = \"bench\"\n[[listen]]\nservice = \"telnet\"\naddress = \"127.0.0.1:{port}\"\nprofile = \"dvr-xiongmai\"\n[limits]\nmax_sessions = 200000\nmax_sessions_per_ip = 200000\n[log]\nlevel = \"warn\"\n{extra}",
            dir.join("data")
        ),
    )?;
    Ok(config)
}

/// `iotpot run --config CONFIG` in the background (its log on stderr).
pub(super) fn spawn_run(config: &Path) -> anyhow::Result<KillOnDrop> {
    let child = Command::new(std::env::current_exe()?)
        .arg("run")
        .arg("--config")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    Ok(KillOnDrop(child))
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGTERM, so iotpot shuts down cleanly, then wait.
pub(super) fn terminate(mut c: KillOnDrop) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(c.0.id() as i32, libc::SIGTERM);
    }
    for _ in 0..100 {
        if let Ok(Some(_)) = c.0.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn_server(cmd: &mut Command) -> anyhow::Result<(Child, SocketAddr)> {
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| anyhow::anyhow!("unexpected output from the reference server: {line:?}"))?
        .parse()?;
    Ok((child, addr))
}

pub(super) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(super) async fn wait_listening(addr: SocketAddr) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("iotpot did not start listening on {addr}")
}

fn video(profile: &str, frames: u64) -> anyhow::Result<()> {
    let p = iotpot_core::Profile::load(profile)?;
    let v = &p.http.video;
    let cam = iotpot_frontend::http::video::Camera::new(v, v.note.clone());
    let start = std::time::Instant::now();
    let mut bytes = 0;
    for i in 0..frames {
        bytes += cam.render(i, 1_700_000_000 + i as i64).len();
    }
    let per = start.elapsed().as_secs_f64() * 1000.0 / frames.max(1) as f64;
    println!(
        "{profile}: {}x{} at {} fps: {per:.2} ms per frame ({:.1}% of one core per camera), {:.1} KiB per frame ({:.0} KiB/s per viewer)",
        v.width,
        v.height,
        v.fps,
        per * v.fps as f64 / 10.0,
        bytes as f64 / frames.max(1) as f64 / 1024.0,
        bytes as f64 / frames.max(1) as f64 / 1024.0 * v.fps as f64,
    );
    Ok(())
}

fn recog(config: &iotpot_core::Config, seconds: f64) -> anyhow::Result<()> {
    let t = std::time::Instant::now();
    let lib = super::profiler::library(config)?;
    let fingerprints: usize = lib.databases().iter().map(|d| d.fingerprints.len()).sum();
    println!(
        "{} files, {fingerprints} fingerprints, loaded in {:.0} ms",
        lib.databases().len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    // Each example as the grab of its file's field would be.
    let known: Vec<(String, Vec<u8>)> = lib
        .databases()
        .iter()
        .flat_map(|d| {
            d.fingerprints
                .iter()
                .flat_map(|f| f.examples.iter())
                .map(move |e| (d.matches.clone(), e.text.clone()))
        })
        .collect();
    // As many made-up banners of the same fields and lengths.
    let mut rng = fastrand::Rng::with_seed(14);
    let unknown: Vec<(String, Vec<u8>)> = known
        .iter()
        .map(|(field, text)| {
            let junk = (0..text.len().max(8))
                .map(|_| rng.u8(b' '..=b'~'))
                .collect();
            (field.clone(), junk)
        })
        .collect();
    for (name, corpus) in [("known (Recog's examples)", &known), ("unknown", &unknown)] {
        // The first pass meets every banner for the first time (the lazy
        // DFAs build their states and the matched fingerprints compile
        // their groups); the passes after it are the steady state, as a
        // fleet of the same devices is seen again and again.
        let (mut banners, mut matched) = (0u64, 0u64);
        let start = std::time::Instant::now();
        let mut passes = Vec::new();
        while start.elapsed().as_secs_f64() < seconds || passes.len() < 2 {
            let pass = std::time::Instant::now();
            for (field, text) in corpus.iter() {
                matched += !lib.matches(field, text).is_empty() as u64;
                banners += 1;
            }
            passes.push(corpus.len() as f64 / pass.elapsed().as_secs_f64());
        }
        let first = passes.remove(0);
        println!(
            "{name:<26} {:>6} banners: {:>9.0} banners/s on one core, {:>9.0} the first time ({:.0}% matched)   (target >= 100000)",
            corpus.len(),
            median(passes),
            first,
            matched as f64 * 100.0 / banners.max(1) as f64
        );
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

async fn sandbox(images: &Path, names: &[String], rounds: usize) -> anyhow::Result<()> {
    use iotpot_iotbox::{template, Image, Vm, ARCHES};
    let run = std::env::temp_dir().join(format!("iotpot-bench-box-{}", std::process::id()));
    println!(
        "{:<9} {:>8} {:>9} {:>9} {:>10} {:>8}   (targets: reset <= 0.5 s, round trip <= 30 ms, RSS <= 150 MiB)",
        "ARCH", "BOOT s", "RESET s", "RTT ms", "HEAVY ms", "RSS MiB"
    );
    for a in ARCHES {
        if !names.is_empty() && !names.iter().any(|n| n == a.name()) {
            continue;
        }
        let Ok(img) = Image::load(images, a, true) else {
            continue;
        };
        // Cold boot: from spawn to the first answer.
        let t = std::time::Instant::now();
        let mut vm = Vm::start(&img, &run.join(a.name()).join("cold"), None).await?;
        vm.run(b"true", Duration::from_secs(60)).await?;
        let boot = t.elapsed().as_secs_f64();
        vm.kill().await;
        let tmpl = template::ensure(&img, &run.join(a.name())).await?;
        let t = std::time::Instant::now();
        let mut vm = Vm::start(&img, &run.join(a.name()).join("warm"), tmpl.as_deref()).await?;
        vm.run(b"true", Duration::from_secs(30)).await?;
        let reset = t.elapsed().as_secs_f64();
        let mut rtt = Vec::new();
        let mut heavy = Vec::new();
        for _ in 0..rounds {
            let t = std::time::Instant::now();
            vm.run(b"true", Duration::from_secs(30)).await?;
            rtt.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = std::time::Instant::now();
            vm.run(
                b"cat /proc/cpuinfo; uname -a; busybox",
                Duration::from_secs(30),
            )
            .await?;
            heavy.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let rss = vm.rss_kib().unwrap_or(0) as f64 / 1024.0;
        vm.kill().await;
        println!(
            "{:<9} {boot:>8.2} {reset:>9.2} {:>9.1} {:>10.1} {rss:>8.0}",
            a.name(),
            median(rtt),
            median(heavy)
        );
    }
    // A learned answer: the table lookup the frontend does instead of a
    // sandbox.
    let cfg = iotpot_core::config::IotboxConfig::default();
    let learned = vec![iotpot_core::answer::Learned {
        profile: "router-dlink".into(),
        command: "expr 6 * 7".into(),
        stdin_sha256: None,
        answer: iotpot_core::answer::Answer {
            output: b"42\n".to_vec(),
            status: 0,
        },
        volatile: false,
    }];
    let backend = iotpot_iotbox::pool::Backend::start(&cfg, &run.join("none"), &run, learned, &[]);
    let q = iotpot_shell::Question {
        command: "expr 6 * 7".into(),
        argv: vec![
            b"expr".to_vec(),
            b"6".to_vec(),
            b"*".to_vec(),
            b"7".to_vec(),
        ],
        stdin: Vec::new(),
    };
    let profile = iotpot_core::Profile::load("router-dlink")?;
    let n = 10_000;
    let t = std::time::Instant::now();
    let mut lease = None;
    for _ in 0..n {
        let _ = backend.answer(&mut lease, &profile, &q).await;
    }
    println!(
        "learned answer: {:.1} us per command (target < 1 ms)",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let _ = std::fs::remove_dir_all(&run);
    Ok(())
}
