//! `iotpot import cowrie FILE...`: cowrie's JSON logs into the store, so a
//! cowrie operator gets iotpot's reports from the logs they have.

use iotpot_report::import::cowrie::{self, Skip};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// A log line longer than this is skipped (no cowrie event is near it).
const MAX_LINE: usize = 1 << 20;
/// Events written per transaction.
const BATCH: usize = 5_000;

#[derive(clap::Subcommand)]
pub enum ImportCmd {
    /// cowrie's JSON log files (`var/log/cowrie/cowrie.json*`): sessions,
    /// logins, commands, downloads. A file imported again is stored once.
    Cowrie {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn run(c: ImportCmd, path: Option<&Path>) -> anyhow::Result<()> {
    let ImportCmd::Cowrie { files } = c;
    let config = super::load_config(path)?;
    let mut batch = Vec::new();
    let (mut lines, mut imported) = (0u64, 0u64);
    let mut invalid = 0u64;
    let mut unmapped: BTreeMap<String, u64> = BTreeMap::new();
    for file in &files {
        let f = std::fs::File::open(file)
            .map_err(|e| anyhow::anyhow!("opening {}: {e}", file.display()))?;
        let mut r = std::io::BufReader::new(f);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            // Bounded: a line past MAX_LINE is read no further.
            let n = std::io::Read::take(&mut r, MAX_LINE as u64 + 1).read_until(b'\n', &mut buf)?;
            if n == 0 {
                break;
            }
            if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
                // Skip the rest of that line.
                let mut rest = Vec::new();
                while r.read_until(b'\n', &mut rest)? > 0 && !rest.ends_with(b"\n") {
                    rest.clear();
                }
                invalid += 1;
                lines += 1;
                continue;
            }
            lines += 1;
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match cowrie::events(line) {
                Ok(events) => batch.extend(events),
                Err(Skip::Invalid(why)) => {
                    invalid += 1;
                    if invalid.is_power_of_two() {
                        eprintln!("{}:{lines}: skipped: {why}", file.display());
                    }
                }
                Err(Skip::Unmapped(id)) => *unmapped.entry(id).or_default() += 1,
            }
            if batch.len() >= BATCH {
                imported += batch.len() as u64;
                super::record(&config, &batch)?;
                batch.clear();
            }
        }
    }
    imported += batch.len() as u64;
    super::record(&config, &batch)?;
    println!(
        "{lines} lines read: {imported} iotpot events (a line imported before is stored once), {invalid} lines unreadable, {} cowrie events with no iotpot counterpart",
        unmapped.values().sum::<u64>()
    );
    for (id, n) in unmapped {
        println!(
            "  skipped {n:>8} {}",
            iotpot_core::escape::str_for_terminal(&id)
        );
    }
    Ok(())
}
