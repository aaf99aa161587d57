//! `iotpot export`: the store for other tools (`iotpot-report`'s
//! exports).

use iotpot_report::Window;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum ExportCmd {
    /// One table as CSV (RFC 4180, a header row; attacker strings defused
    /// for spreadsheets): sessions, events, credentials, samples,
    /// downloads, devices.
    Csv {
        /// The table.
        table: String,
        /// The first day covered (YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<String>,
        /// The last day covered (YYYY-MM-DD, UTC, inclusive).
        #[arg(long)]
        until: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn run(c: ExportCmd, path: Option<&Path>) -> anyhow::Result<()> {
    match c {
        ExportCmd::Csv {
            table,
            since,
            until,
            output,
        } => {
            let window = Window {
                since: since.as_deref().map(Window::parse_date).transpose()?,
                until: until.as_deref().map(Window::parse_date).transpose()?,
            };
            let conn = super::report::open_rolled_up(path)?;
            let n = match &output {
                Some(file) => {
                    let mut f = std::io::BufWriter::new(
                        std::fs::File::create(file)
                            .map_err(|e| anyhow::anyhow!("creating {}: {e}", file.display()))?,
                    );
                    let n = iotpot_report::export::csv::write(&conn, &table, &window, &mut f)?;
                    std::io::Write::flush(&mut f)?;
                    n
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    let n = iotpot_report::export::csv::write(&conn, &table, &window, &mut out)?;
                    std::io::Write::flush(&mut out)?;
                    n
                }
            };
            eprintln!("{n} rows of {table}");
            Ok(())
        }
    }
}
