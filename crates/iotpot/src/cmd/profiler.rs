//! `iotpot profiler ...`: the profiler's own tools.
//!
//! `selftest [DIR]` checks Recog fingerprint files the way Recog's
//! `recog_verify` does: every `<example>` must match its fingerprint and
//! yield the params it names.

use clap::Subcommand;
use iotpot_profiler::recog::{self, selftest, Database, Library};
use std::path::{Path, PathBuf};

/// What `[profiler] enabled = true` does in this version (said at start
/// and by `config check`, so nobody waits for scans that never come).
pub const NOT_YET: &str = "[profiler] enabled: this version has the profiler's fingerprint engine (`iotpot profiler selftest`, `iotpot bench recog`) but not its scan-back yet: no attacker is scanned";

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
    }
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
