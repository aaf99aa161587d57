//! `iotpot devices`: what the attackers are — the 2016 paper's Table 1 from
//! the profiler's verdicts; `iotpot devices show ADDR` for one host's grabs
//! and the evidence of its verdict.

use iotpot_core::escape::str_for_terminal;
use iotpot_store::query::{self, ScannedHost};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(clap::Args)]
pub struct DevicesArgs {
    #[command(subcommand)]
    show: Option<Show>,
    /// Group by `device` (type, the default) or `vendor`.
    #[arg(long, default_value = "device", value_parser = ["device", "vendor"])]
    by: String,
    /// One JSON object: the rows and the totals.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Show {
    /// Every grab of a host's latest scan, its verdict and the evidence.
    Show {
        addr: String,
        #[arg(long)]
        json: bool,
    },
}

/// The attackers scanned, by what they are.
#[derive(Debug, serde::Serialize)]
pub struct Table {
    pub by: String,
    pub rows: Vec<Row>,
    pub scanned: usize,
    pub identified: usize,
    pub infected: usize,
    pub unreachable: usize,
}

#[derive(Debug, serde::Serialize)]
pub struct Row {
    /// The device type (or vendor); `infected: NAME`, `not identified` and
    /// `not reachable` for the hosts the fingerprints name no type for.
    pub name: String,
    pub hosts: usize,
    /// Of the scanned attackers, percent.
    pub share: f64,
}

pub fn table(hosts: &[ScannedHost], by: &str) -> Table {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let (mut identified, mut infected, mut unreachable) = (0, 0, 0);
    for h in hosts {
        let v = &h.verdict;
        let key = if let Some(w) = &v.infected {
            infected += 1;
            format!("infected: {w}")
        } else if !v.reachable {
            unreachable += 1;
            "not reachable".to_string()
        } else {
            let named = if by == "vendor" { &v.vendor } else { &v.device };
            if v.identified() {
                identified += 1;
            }
            named.clone().unwrap_or_else(|| "not identified".into())
        };
        *counts.entry(key).or_default() += 1;
    }
    let scanned = hosts.len();
    let mut rows: Vec<Row> = counts
        .into_iter()
        .map(|(name, n)| Row {
            name,
            hosts: n,
            share: percent(n, scanned),
        })
        .collect();
    // Most hosts first; the buckets without a type last.
    let last = |r: &Row| r.name.starts_with("infected") || r.name.starts_with("not ");
    rows.sort_by(|a, b| last(a).cmp(&last(b)).then(b.hosts.cmp(&a.hosts)));
    Table {
        by: by.to_string(),
        rows,
        scanned,
        identified,
        infected,
        unreachable,
    }
}

fn percent(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        (n as f64 * 1000.0 / of as f64).round() / 10.0
    }
}

pub fn run(a: DevicesArgs, path: Option<&Path>) -> anyhow::Result<()> {
    let conn = super::events::open_store(path)?;
    let hosts = query::scanned_hosts(&conn)?;
    if let Some(Show::Show { addr, json }) = a.show {
        let host = hosts
            .iter()
            .find(|h| h.addr == addr)
            .ok_or_else(|| anyhow::anyhow!("{addr} has not been scanned"))?;
        let grabs = query::scan_grabs(&conn, &host.scan)?;
        if json {
            let out = serde_json::json!({
                "addr": host.addr, "scan": host.scan, "scanned": host.scanned,
                "grabs": grabs, "verdict": host.verdict,
            });
            println!("{out}");
        } else {
            println!("scanned {} (scan {})", host.scanned, host.scan);
            super::profiler::print_scan(&host.addr, &grabs, &host.verdict);
        }
        return Ok(());
    }
    let t = table(&hosts, &a.by);
    if a.json {
        println!("{}", serde_json::to_string(&t)?);
        return Ok(());
    }
    let title = if a.by == "vendor" {
        "VENDOR"
    } else {
        "DEVICE TYPE"
    };
    println!("{title:<32} {:>7} {:>7}", "HOSTS", "SHARE");
    for r in &t.rows {
        println!(
            "{:<32} {:>7} {:>6.1}%",
            str_for_terminal(&r.name),
            r.hosts,
            r.share
        );
    }
    println!(
        "{} attackers scanned: {} identified ({:.1}%), {} infected by a known worm, {} not reachable ({:.1}%)",
        t.scanned,
        t.identified,
        percent(t.identified, t.scanned),
        t.infected,
        t.unreachable,
        percent(t.unreachable, t.scanned)
    );
    Ok(())
}
