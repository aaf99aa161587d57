//! `iotpot honeytokens`: this deployment's bait credentials (what the DVR's
//! config file and the cameras' pictures show), so an operator knows what a
//! `honeytoken.used` event refers to.

use clap::Args;
use iotpot_core::deployment::Deployment;
use iotpot_core::honeytoken::Honeytokens;
use std::path::Path;

#[derive(Args)]
pub struct HoneytokensArgs {
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: HoneytokensArgs, config: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(config)?;
    // The baits derive from the deployment seed: create it if this data dir
    // has none yet, as `iotpot run` would.
    std::fs::create_dir_all(&config.data_dir)?;
    let d = Deployment::load_or_create(&config.data_dir)?;
    let tokens = Honeytokens::new(&d);
    if !args.json {
        println!(
            "{:<8}  {:<8}  {:<16}  PASSWORD",
            "TOKEN", "SHOWN IN", "USER"
        );
    }
    for t in tokens.tokens() {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"token": t.name, "source": t.source, "user": t.user, "password": t.password})
            );
        } else {
            println!(
                "{:<8}  {:<8}  {:<16}  {}",
                t.name, t.source, t.user, t.password
            );
        }
    }
    Ok(())
}
