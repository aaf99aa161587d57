//! `iotpot`: the command line. Thin: each subcommand wires the parts together
//! (`cmd/` holds one file per subcommand). Not for logic of its own: what it
//! prints comes from the library crates (see docs/architecture.md).

mod cmd;

/// jemalloc, not glibc's malloc: a session's events are made on the tokio
/// workers and freed on the store's writer thread, and glibc pays for
/// every such cross-thread free (its arenas' locks, consolidation). Under
/// `bench telnet` the honeypot's CPU per session fell by about 10%
/// (docs/performance.md).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// One arena, not jemalloc's default of four per core: the honeypot's few
/// threads do not contend for it, and an idle session costs what it did
/// with glibc (3.8 KiB, 3.9-4.0 with the default arenas). The
/// `_RJEM_MALLOC_CONF` environment variable still overrides it.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: Option<&'static std::ffi::CStr> = Some(c"narenas:1");

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "iotpot",
    version,
    about = "IoT honeypot: emulated embedded devices that record every step of the attacks on them"
)]
struct Cli {
    /// Configuration file (TOML). Without it, the built-in defaults apply.
    #[arg(long, short = 'c', global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the honeypot until Ctrl-C or SIGTERM.
    Run,
    /// Show or check the configuration.
    #[command(subcommand)]
    Config(cmd::config::ConfigCmd),
    /// Recent events from the store.
    Events(cmd::events::EventsArgs),
    /// Recent sessions from the store.
    Sessions(cmd::sessions::SessionsArgs),
    /// The deployment's tables and figures (attackers, credentials, device
    /// types, malware, 53413/udp, bait, sandboxes, sensors): text, `--json`,
    /// or `--html FILE`.
    Report(cmd::report::ReportArgs),
    /// The report's sections live in a browser, with the live session list
    /// and each session's transcript (read-only; a token is required).
    Dashboard(cmd::dashboard::DashboardArgs),
    /// The store for other tools: `iotpot export csv TABLE`, `iotpot export
    /// stix`, `iotpot export misp`.
    #[command(subcommand)]
    Export(cmd::export::ExportCmd),
    /// Other honeypots' logs into the store: `iotpot import cowrie FILE...`.
    #[command(subcommand)]
    Import(cmd::import::ImportCmd),
    /// The exploit traps each profile answers, and what each caught (per
    /// trap and per CVE).
    Exploits(cmd::exploits::ExploitsArgs),
    /// Collected malware samples (`iotpot samples show SHA` for one).
    Samples(cmd::samples::SamplesArgs),
    /// This deployment's bait credentials (DVR.cfg, camera pictures).
    Honeytokens(cmd::honeytokens::HoneytokensArgs),
    /// Packet captures: `iotpot pcap check FILE` finds IPv4/UDP length lies.
    #[command(subcommand)]
    Pcap(cmd::pcap::PcapCmd),
    /// Device profiles.
    #[command(subcommand)]
    Profiles(cmd::profiles::ProfilesCmd),
    /// What the attackers are: device types of the scanned attackers
    /// (`iotpot devices show ADDR` for one host's grabs and evidence).
    Devices(cmd::devices::DevicesArgs),
    /// The profiler: `selftest` checks fingerprint files, `scan` scans hosts.
    #[command(subcommand)]
    Profiler(cmd::profiler::ProfilerCmd),
    /// Run as a sensor: relay attackers to the central (`--config NAME.toml`
    /// from `iotpot pki sensor NAME`).
    Sensor,
    /// A central's sensors: connected or not, from where, listeners,
    /// sessions, bytes, the last error.
    Sensors(cmd::sensors::SensorsArgs),
    /// Keys for sensors: the deployment's CA, a sensor's config, revocation.
    #[command(subcommand)]
    Pki(cmd::pki::PkiCmd),
    /// IoTBOX sandboxes: build images, list, status, an operator's shell.
    #[command(subcommand, name = "box")]
    Box(cmd::boxcmd::BoxCmd),
    /// Benchmarks (a load generator and a bare reference server).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCmd),
}

/// The commands that only print what the store or a file holds end
/// quietly when their reader goes away (`iotpot events | head`), as Unix
/// tools do. Not the others: they write to sockets and QEMU's pipes, where
/// a closed peer must be an error, not the end of iotpot.
fn default_sigpipe(command: &Command) {
    if matches!(
        command,
        Command::Config(_)
            | Command::Events(_)
            | Command::Sessions(_)
            | Command::Report(_)
            | Command::Export(_)
            | Command::Samples(_)
            | Command::Exploits(_)
            | Command::Honeytokens(_)
            | Command::Pcap(_)
            | Command::Profiles(_)
            | Command::Profiler(_)
            | Command::Devices(_)
            | Command::Pki(_)
            | Command::Sensors(_)
    ) {
        // SAFETY: setting a signal's disposition to the default, before
        // any other thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    default_sigpipe(&cli.command);
    let result = match cli.command {
        Command::Run => cmd::run::run(cli.config.as_deref()),
        Command::Config(c) => cmd::config::run(c, cli.config.as_deref()),
        Command::Events(a) => cmd::events::run(a, cli.config.as_deref()),
        Command::Sessions(a) => cmd::sessions::run(a, cli.config.as_deref()),
        Command::Report(a) => cmd::report::run(a, cli.config.as_deref()),
        Command::Dashboard(a) => cmd::dashboard::run(a, cli.config.as_deref()),
        Command::Export(c) => cmd::export::run(c, cli.config.as_deref()),
        Command::Import(c) => cmd::import::run(c, cli.config.as_deref()),
        Command::Samples(a) => cmd::samples::run(a, cli.config.as_deref()),
        Command::Exploits(a) => cmd::exploits::run(a, cli.config.as_deref()),
        Command::Profiles(c) => cmd::profiles::run(c, cli.config.as_deref()),
        Command::Honeytokens(a) => cmd::honeytokens::run(a, cli.config.as_deref()),
        Command::Pcap(c) => cmd::pcap::run(c, cli.config.as_deref()),
        Command::Devices(a) => cmd::devices::run(a, cli.config.as_deref()),
        Command::Profiler(c) => cmd::profiler::run(c, cli.config.as_deref()),
        Command::Pki(c) => cmd::pki::run(c, cli.config.as_deref()),
        Command::Sensor => cmd::sensor::run(cli.config.as_deref()),
        Command::Sensors(a) => cmd::sensors::run(a, cli.config.as_deref()),
        Command::Box(c) => cmd::boxcmd::run(c, cli.config.as_deref()),
        Command::Bench(c) => cmd::bench::run(c, cli.config.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iotpot: {e:#}");
            ExitCode::FAILURE
        }
    }
}
