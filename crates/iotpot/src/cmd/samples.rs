//! `iotpot samples` and `iotpot samples show SHA`.

use iotpot_core::escape::str_for_terminal;
use iotpot_store::query;
use std::path::Path;

#[derive(clap::Args)]
pub struct SamplesArgs {
    #[command(subcommand)]
    show: Option<SamplesCmd>,
    /// How many of the most recently seen samples.
    #[arg(long, short = 'n', default_value_t = 50)]
    limit: usize,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum SamplesCmd {
    /// Everything known about one sample (a SHA-256 prefix is enough).
    Show { sha: String },
}

pub fn run(a: SamplesArgs, path: Option<&Path>) -> anyhow::Result<()> {
    let conn = super::events::open_store(path)?;
    if let Some(SamplesCmd::Show { sha }) = a.show {
        let rows = query::samples(&conn, Some(&sha), 2)?;
        let [s] = rows.as_slice() else {
            anyhow::bail!(
                "{} samples match {sha:?}",
                if rows.is_empty() { "no" } else { "several" }
            );
        };
        if a.json {
            println!("{}", serde_json::to_string_pretty(s)?);
            return Ok(());
        }
        let config = super::load_config(path)?;
        println!("sha256      {}", s.sha256);
        println!(
            "file        {}",
            config.data_dir.join("samples").join(&s.sha256).display()
        );
        println!("size        {}", s.size);
        println!("kind        {}", s.kind.as_deref().unwrap_or("-"));
        println!("arch        {}", s.arch.as_deref().unwrap_or("-"));
        println!("tags        {}", s.tags);
        println!("first seen  {}", s.first_seen);
        println!("last seen   {}", s.last_seen);
        println!("sessions    {}", s.sessions);
        println!("sources");
        for src in &s.sources {
            println!("  {}", str_for_terminal(src));
        }
        println!("triage");
        if let serde_json::Value::Object(m) = &s.triage {
            for (k, v) in m {
                println!("  {k:<14} {}", str_for_terminal(&v.to_string()));
            }
        }
        return Ok(());
    }
    let rows = query::samples(&conn, None, a.limit)?;
    if a.json {
        for r in rows {
            println!("{}", serde_json::to_string(&r)?);
        }
        return Ok(());
    }
    println!(
        "{:<64}  {:>8}  {:<19}  {:<19}  {:<8}  {:<6}  {:<16}  {:>4}  SOURCES",
        "SHA256", "SIZE", "FIRST SEEN (UTC)", "LAST SEEN (UTC)", "ARCH", "KIND", "TAGS", "SESS"
    );
    for r in rows {
        let short = |t: &str| t.get(..19).unwrap_or(t).replace('T', " ");
        let tags = match &r.tags {
            serde_json::Value::Array(a) if !a.is_empty() => a
                .iter()
                .filter_map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(","),
            _ => "-".into(),
        };
        let sources = str_for_terminal(&r.sources.join(" "));
        let sources = if sources.chars().count() > 80 {
            sources.chars().take(77).collect::<String>() + "..."
        } else {
            sources
        };
        println!(
            "{:<64}  {:>8}  {:<19}  {:<19}  {:<8}  {:<6}  {:<16}  {:>4}  {}",
            r.sha256,
            r.size,
            short(&r.first_seen),
            short(&r.last_seen),
            r.arch.as_deref().unwrap_or("-"),
            r.kind.as_deref().unwrap_or("-"),
            str_for_terminal(&tags),
            r.sessions,
            sources
        );
    }
    Ok(())
}
