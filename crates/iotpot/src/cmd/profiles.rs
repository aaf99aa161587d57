//! `iotpot profiles list|show`.

use clap::Subcommand;
use iotpot_core::Profile;
use std::path::Path;

#[derive(Subcommand)]
pub enum ProfilesCmd {
    /// The built-in device profiles.
    List,
    /// One profile as TOML (a built-in name or a file path).
    Show { name: String },
}

pub fn run(cmd: ProfilesCmd, _config: Option<&Path>) -> anyhow::Result<()> {
    match cmd {
        ProfilesCmd::List => {
            println!(
                "{:<22}  {:<10}  {:<20}  DESCRIPTION",
                "NAME", "ARCH", "TYPE"
            );
            for p in Profile::builtins() {
                println!(
                    "{:<22}  {:<10}  {:<20}  {}",
                    p.name,
                    p.arch.name(),
                    p.device_type,
                    p.description
                );
            }
        }
        ProfilesCmd::Show { name } => {
            if let Some((_, text)) = iotpot_core::profile::BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
            {
                print!("{text}");
            } else {
                let p = Profile::load(&name)?;
                print!("{}", toml::to_string_pretty(&p)?);
            }
        }
    }
    Ok(())
}
