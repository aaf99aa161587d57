//! `iotpot config default` / `iotpot config check`.

use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Print the full default configuration, every key commented.
    Default,
    /// Load the configuration (`--config`) and print it as iotpot reads it.
    Check,
}

pub fn run(cmd: ConfigCmd, path: Option<&Path>) -> anyhow::Result<()> {
    match cmd {
        ConfigCmd::Default => print!("{}", iotpot_core::config::DEFAULT_TOML),
        ConfigCmd::Check => {
            let c = super::load_config(path)?;
            for l in &c.listen {
                if let Some(p) = &l.profile {
                    iotpot_core::Profile::load(p)?;
                }
            }
            // One address, one device: say where a scan would see two.
            for warning in iotpot_core::device::mixed(&c.listen)? {
                eprintln!("iotpot: warning: {warning}");
            }
            // An operator's fingerprint files must load as they would at run.
            if !c.profiler.fingerprints.is_empty() {
                let dir = std::path::Path::new(&c.profiler.fingerprints);
                for db in iotpot_profiler::recog::load_dir(dir)? {
                    for s in &db.skipped {
                        eprintln!(
                            "iotpot: warning: {}.xml: fingerprint not used: {s}",
                            db.file
                        );
                    }
                }
            }
            // The central store: its address must read, and it should answer.
            if !c.store.postgres.is_empty() {
                super::postgres_check(&c.store.postgres)?;
            }
            println!("# configuration OK");
            print!("{}", toml_of(&c)?);
        }
    }
    Ok(())
}

fn toml_of(c: &iotpot_core::Config) -> anyhow::Result<String> {
    Ok(toml::to_string_pretty(c)?)
}
