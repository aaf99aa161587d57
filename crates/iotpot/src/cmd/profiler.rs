//! `iotpot profiler ...`: the profiler's own tools.
//!
//! `selftest [DIR]` checks Recog fingerprint files the way Recog's
//! `recog_verify` does: every `<example>` must match its fingerprint and
//! yield the params it names.

use clap::Subcommand;
use iotpot_core::escape::str_for_terminal;
use iotpot_core::profiler::{Grab, Verdict};
use iotpot_profiler::recog::{self, selftest, Database, Library};
use iotpot_profiler::scan::Scanner;
use iotpot_profiler::service::scan_events;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ProfilerCmd {
    /// Check every example of every fingerprint file: the built-in ones and
    /// `[profiler] fingerprints`, or only the `*.xml` files in DIR.
    Selftest {
        dir: Option<PathBuf>,
        /// Also list the examples an earlier fingerprint matches first.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Scan hosts now, once, with `[profiler]`'s ports and limits: a grab per
    /// port and the verdict, recorded in the store. Reserved, private and
    /// loopback addresses and `[profiler] exclude` are refused unless allowed.
    Scan {
        #[arg(required = true)]
        addrs: Vec<std::net::IpAddr>,
        /// CIDRs to allow for this scan (a lab): `--allow 10.0.0.0/8`.
        #[arg(long)]
        allow: Vec<String>,
        /// Ports instead of `[profiler] ports`.
        #[arg(long, value_delimiter = ',')]
        ports: Vec<u16>,
        /// One JSON object per host.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: ProfilerCmd, config: Option<&Path>) -> anyhow::Result<()> {
    match cmd {
        ProfilerCmd::Selftest { dir, verbose } => {
            let dbs: Vec<Database> = match dir {
                Some(d) => recog::load_dir(&d)?,
                None => library(&super::load_config(config)?)?.into_databases(),
            };
            if dbs.is_empty() {
                anyhow::bail!("no fingerprint files (*.xml) to check");
            }
            selftest_all(&dbs, verbose)
        }
        ProfilerCmd::Scan {
            addrs,
            allow,
            ports,
            json,
        } => {
            let cfg = super::load_config(config)?;
            let lib = std::sync::Arc::new(library(&cfg)?);
            let mut scanner = Scanner::new(&cfg.profiler, lib, &allow)?;
            if !ports.is_empty() {
                scanner.ports = ports;
            }
            // Refuse before contacting anyone.
            for a in &addrs {
                if let Err(r) = scanner.check(*a) {
                    anyhow::bail!(
                        "{a} is not scanned: {} (add --allow {a} for a lab host)",
                        r.text()
                    );
                }
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let scanner = std::sync::Arc::new(scanner);
            rt.block_on(async {
                // Hosts side by side (the scanner bounds the connections),
                // reported in the order given.
                let tasks: Vec<_> = addrs
                    .iter()
                    .map(|&a| {
                        let s = scanner.clone();
                        tokio::spawn(async move { s.scan(a).await })
                    })
                    .collect();
                let sensor = cfg.sensor_name();
                for t in tasks {
                    let scan = t.await?.map_err(|r| anyhow::anyhow!("{}", r.text()))?;
                    // Recorded as the scan-back's are: `iotpot devices` shows it.
                    super::record(&cfg, &scan_events(&scan, &sensor))?;
                    if json {
                        println!("{}", serde_json::to_string(&scan)?);
                    } else {
                        print_scan(&scan.addr.to_string(), &scan.grabs, &scan.verdict);
                    }
                }
                anyhow::Ok(())
            })
        }
    }
}

/// A host's grabs and verdict, for a terminal (everything the host sent
/// is escaped).
pub fn print_scan(addr: &str, grabs: &[Grab], v: &Verdict) {
    let mut what: Vec<String> = [&v.device, &v.vendor, &v.product, &v.os]
        .into_iter()
        .flatten()
        .map(|s| str_for_terminal(s))
        .collect();
    if what.is_empty() {
        what.push(
            if v.reachable {
                "not identified"
            } else {
                "not reachable"
            }
            .into(),
        );
    }
    println!("{addr}: {}", what.join(", "));
    if let Some(w) = &v.infected {
        println!("  INFECTED: {}", str_for_terminal(w));
    }
    println!("  {:<6} {:<9} {:<7} WHAT", "PORT", "STATE", "SERVICE");
    for g in grabs {
        let mut said: Vec<String> = Vec::new();
        if let Some(l) = &g.status_line {
            said.push(str_for_terminal(l));
        }
        for (k, val) in &g.fields {
            let short: String = val.chars().take(60).collect();
            said.push(format!("{k}={}", str_for_terminal(&format!("{short:?}"))));
        }
        if let Some(c) = &g.cut {
            said.push(format!("(cut: {c})"));
        }
        println!(
            "  {:<6} {:<9} {:<7} {}",
            g.port,
            g.state,
            g.service,
            said.join("  ")
        );
    }
    for e in &v.evidence {
        let params: Vec<String> = e
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", str_for_terminal(v)))
            .collect();
        println!(
            "  evidence: port {} {} {}.xml {:?}: {}",
            e.port,
            e.field,
            e.file,
            e.fingerprint,
            params.join(" ")
        );
    }
}

/// Start the scan-back of `iotpot run`: attacking addresses arrive on
/// `queue` (from the bus); the scans' events go back on `events`.
pub fn start(
    config: &iotpot_core::Config,
    queue: tokio::sync::mpsc::Receiver<std::net::IpAddr>,
    events: iotpot_store::bus::EventTx,
    sensor: &str,
    stop: tokio_util::sync::CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let p = &config.profiler;
    let lib = std::sync::Arc::new(library(config)?);
    let scanner = std::sync::Arc::new(Scanner::new(p, lib, &[])?);
    // Hosts already scanned (a restart does not scan them again early).
    let scanned = match iotpot_store::sqlite::open_read(&config.data_dir.join("iotpot.db")) {
        Ok(conn) => iotpot_store::query::scanned_hosts(&conn).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let now = time::OffsetDateTime::now_utc();
    let scanned = scanned
        .into_iter()
        .filter_map(|h| {
            let ip = h.addr.parse().ok()?;
            let at = iotpot_core::event::timestamp::parse(&h.scanned)?;
            Some((ip, (now - at).try_into().unwrap_or_default()))
        })
        .collect();
    let pace = iotpot_profiler::service::Pace {
        hosts_per_minute: p.hosts_per_minute,
        revisit: std::time::Duration::from_secs(p.revisit_hours * 3600),
        hosts_at_once: p.concurrency,
        own: config
            .listen
            .iter()
            .map(|l| l.address.ip())
            .filter(|ip| !ip.is_unspecified())
            .collect(),
        sensor: sensor.to_string(),
    };
    tracing::info!(
        ports = ?p.ports,
        hosts_per_minute = p.hosts_per_minute,
        "profiler: scanning attackers back"
    );
    Ok(tokio::spawn(iotpot_profiler::service::run(
        scanner, pace, queue, events, scanned, stop,
    )))
}

/// The built-in fingerprint files and `[profiler] fingerprints`.
pub fn library(config: &iotpot_core::Config) -> anyhow::Result<Library> {
    let own = &config.profiler.fingerprints;
    Library::with_dir((!own.is_empty()).then(|| Path::new(own)))
}

fn selftest_all(dbs: &[Database], verbose: bool) -> anyhow::Result<()> {
    let (mut examples, mut passed, mut skipped) = (0, 0, 0);
    for db in dbs {
        let r = selftest::check(db);
        println!(
            "{:<24} {:<22} {:>4} fingerprints {:>5} examples {:>5} pass{}{}{}",
            format!("{}.xml", r.file),
            db.matches,
            r.fingerprints,
            r.examples,
            r.passed,
            if r.shadowed > 0 {
                format!(", {} shadowed", r.shadowed)
            } else {
                String::new()
            },
            if r.external > 0 {
                format!(", {} in other files (not checked)", r.external)
            } else {
                String::new()
            },
            if r.skipped.is_empty() {
                String::new()
            } else {
                format!(", {} fingerprints not used", r.skipped.len())
            },
        );
        for f in &r.failures {
            println!("  FAIL {f}");
        }
        for s in &r.skipped {
            println!("  NOT USED {s}");
        }
        if verbose && r.shadowed > 0 {
            println!("  (shadowed: the example's own fingerprint matches, but an earlier one of the file matches first)");
        }
        examples += r.examples;
        passed += r.passed;
        skipped += r.skipped.len();
    }
    println!(
        "selftest: {passed} of {examples} examples pass in {} files{}",
        dbs.len(),
        if skipped > 0 {
            format!("; {skipped} fingerprints not used")
        } else {
            String::new()
        }
    );
    if passed < examples || skipped > 0 {
        anyhow::bail!("{} examples fail", examples - passed + skipped);
    }
    Ok(())
}
