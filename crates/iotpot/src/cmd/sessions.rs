//! `iotpot sessions`: recent sessions from the store.

use iotpot_core::escape::str_for_terminal;
use iotpot_store::query;
use std::path::Path;

#[derive(clap::Args)]
pub struct SessionsArgs {
    /// How many of the most recent sessions.
    #[arg(long, short = 'n', default_value_t = 50)]
    limit: usize,
    /// Only sessions from this source address.
    #[arg(long)]
    src: Option<String>,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

pub fn run(a: SessionsArgs, path: Option<&Path>) -> anyhow::Result<()> {
    let conn = super::events::open_store(path)?;
    let rows = query::sessions(&conn, a.src.as_deref(), a.limit)?;
    if a.json {
        for r in rows {
            println!("{}", serde_json::to_string(&r)?);
        }
        return Ok(());
    }
    println!(
        "{:<19}  {:<12}  {:<21}  {:>5}  {:<20}  {:<24}  {:>4}  {:>3}  {:>8}  END",
        "START (UTC)", "SESSION", "SOURCE", "PORT", "PROFILE", "LOGIN", "CMDS", "DLS", "SECONDS"
    );
    for r in rows {
        let login = match (&r.username, &r.password) {
            (Some(u), Some(p)) => format!("{}{}:{}", if r.login_ok { "" } else { "✗ " }, u, p),
            _ => "-".into(),
        };
        let login = str_for_terminal(&login);
        let login = if login.chars().count() > 24 {
            login.chars().take(21).collect::<String>() + "..."
        } else {
            login
        };
        println!(
            "{:<19}  {:<12}  {:<21}  {:>5}  {:<20}  {:<24}  {:>4}  {:>3}  {:>8}  {}",
            r.start.get(..19).unwrap_or(&r.start).replace('T', " "),
            str_for_terminal(&r.session),
            format!("{}:{}", r.src_ip, r.src_port),
            r.dst_port,
            r.profile.as_deref().unwrap_or("-"),
            login,
            r.commands,
            r.downloads,
            r.duration
                .map(|d| format!("{d:.1}"))
                .unwrap_or_else(|| "open".into()),
            r.close_reason.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}
