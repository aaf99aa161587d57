//! `iotpot report`: the deployment's tables and figures from the store, as
//! text, JSON or one self-contained HTML file (`iotpot-report`).

use iotpot_report::Window;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The first day covered (YYYY-MM-DD, UTC); default: the first event.
    #[arg(long)]
    since: Option<String>,
    /// The last day covered (YYYY-MM-DD, UTC, inclusive); default: now.
    #[arg(long)]
    until: Option<String>,
    /// Write the report as one self-contained HTML file (inline SVG
    /// charts, no script, nothing fetched).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print the numbers behind every chart and table as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: ReportArgs, path: Option<&Path>) -> anyhow::Result<()> {
    let window = Window {
        since: a.since.as_deref().map(Window::parse_date).transpose()?,
        until: a.until.as_deref().map(Window::parse_date).transpose()?,
    };
    let config = super::load_config(path)?;
    let report = if config.store.postgres.is_empty() {
        iotpot_report::build(&open_rolled_up(path)?, &window)?
    } else {
        postgres_report(&config, &window)?
    };
    if let Some(file) = &a.html {
        std::fs::write(file, iotpot_report::html::render(&report))
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", file.display()))?;
        eprintln!("report written to {}", file.display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if a.html.is_none() {
        print!("{}", iotpot_report::text::render(&report));
    }
    Ok(())
}

/// The report over `[store] postgres` (its rollups are kept by its writer
/// from the first event).
fn postgres_report(
    config: &iotpot_core::Config,
    window: &Window,
) -> anyhow::Result<iotpot_report::Report> {
    let pg = iotpot_store::postgres::Pg::connect(&config.store.postgres)?;
    iotpot_report::build(&pg, window)
}

/// The store, its rollups brought up to date (the writer of a running
/// honeypot keeps them within seconds; this rolls up what is left).
pub fn open_rolled_up(path: Option<&Path>) -> anyhow::Result<iotpot_store::sqlite::Connection> {
    // Checks that the store exists.
    drop(super::events::open_store(path)?);
    let config = super::load_config(path)?;
    let conn = iotpot_store::sqlite::open(&config.data_dir.join("iotpot.db"))?;
    iotpot_store::rollup::update(&conn)?;
    Ok(conn)
}
