//! `iotpot export`: the store for other tools (`iotpot-report`'s
//! exports).

use iotpot_report::Window;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The days an export covers.
#[derive(clap::Args)]
pub struct Period {
    /// The first day covered (YYYY-MM-DD, UTC).
    #[arg(long)]
    since: Option<String>,
    /// The last day covered (YYYY-MM-DD, UTC, inclusive).
    #[arg(long)]
    until: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

impl Period {
    fn window(&self) -> anyhow::Result<Window> {
        Ok(Window {
            since: self.since.as_deref().map(Window::parse_date).transpose()?,
            until: self.until.as_deref().map(Window::parse_date).transpose()?,
        })
    }

    /// Run `write` on the output file, or on standard output.
    fn write<T>(
        &self,
        write: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut out: Box<dyn std::io::Write> = match &self.output {
            Some(file) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(file)
                    .map_err(|e| anyhow::anyhow!("creating {}: {e}", file.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        };
        let t = write(&mut out)?;
        out.flush()?;
        Ok(t)
    }
}

#[derive(clap::Subcommand)]
pub enum ExportCmd {
    /// One table as CSV (RFC 4180, a header row; attacker strings defused
    /// for spreadsheets): sessions, events, credentials, samples,
    /// downloads, devices.
    Csv {
        /// The table.
        table: String,
        #[command(flatten)]
        period: Period,
    },
    /// Indicators as a STIX 2.1 bundle (JSON): sample hashes, download
    /// URLs, what samples contacted in a sandbox; malware families and
    /// `indicates` relationships.
    Stix {
        #[command(flatten)]
        period: Period,
    },
    /// One MISP event (JSON): sample hashes, download URLs, what samples
    /// contacted, attacking addresses; families as tags.
    Misp {
        #[command(flatten)]
        period: Period,
    },
}

pub fn run(c: ExportCmd, path: Option<&Path>) -> anyhow::Result<()> {
    let conn = super::report::open_rolled_up(path)?;
    match c {
        ExportCmd::Csv { table, period } => {
            let window = period.window()?;
            let n = period.write(|out| {
                iotpot_report::export::csv::write(&conn, &table, &window, &mut &mut *out)
            })?;
            eprintln!("{n} rows of {table}");
        }
        ExportCmd::Stix { period } => {
            let bundle = iotpot_report::export::stix::bundle(&conn, &period.window()?)?;
            let n = bundle["objects"].as_array().map_or(0, Vec::len);
            period.write(|out| {
                serde_json::to_writer_pretty(&mut *out, &bundle)?;
                Ok(writeln!(out)?)
            })?;
            eprintln!("a STIX 2.1 bundle of {n} objects");
        }
        ExportCmd::Misp { period } => {
            let event = iotpot_report::export::misp::event(&conn, &period.window()?)?;
            let n = event["Event"]["Attribute"].as_array().map_or(0, Vec::len);
            period.write(|out| {
                serde_json::to_writer_pretty(&mut *out, &event)?;
                Ok(writeln!(out)?)
            })?;
            eprintln!("a MISP event of {n} attributes");
        }
    }
    Ok(())
}
