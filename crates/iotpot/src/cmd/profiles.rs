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
    /// Answers learned from IoTBOX sandboxes, and the table's hit rate.
    Learned {
        /// One JSON object per answer (output as hex).
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: ProfilesCmd, config: Option<&Path>) -> anyhow::Result<()> {
    match cmd {
        ProfilesCmd::Learned { json } => {
            let conn = super::events::open_store(config)?;
            let rows = iotpot_store::query::learned(&conn)?;
            let asked: i64 = conn.query_row(
                "SELECT count(*) FROM events WHERE eventid = 'iotpot.iotbox.answer' AND json_extract(data, '$.source') = 'iotbox'",
                [],
                |r| r.get(0),
            )?;
            let hits: i64 = rows.iter().map(|r| r.hits).sum();
            for r in &rows {
                let l = &r.learned;
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "profile": l.profile, "command": l.command,
                            "stdin_sha256": l.stdin_sha256.clone().unwrap_or_default(),
                            "output": hex::encode(&l.answer.output), "status": l.answer.status,
                            "volatile": l.volatile,
                            "arch": r.arch, "first_seen": r.first_seen, "hits": r.hits,
                        })
                    );
                }
            }
            if json {
                return Ok(());
            }
            println!(
                "{:<18}  {:<28}  {:>5}  {:>8}  {:>4}  ANSWER",
                "PROFILE", "COMMAND", "HITS", "VOLATILE", "RC"
            );
            for r in &rows {
                let l = &r.learned;
                let out = &l.answer.output;
                let answer = iotpot_core::escape::for_terminal(&out[..out.len().min(60)]);
                println!(
                    "{:<18}  {:<28}  {:>5}  {:>8}  {:>4}  {}",
                    l.profile,
                    iotpot_core::escape::str_for_terminal(&l.command),
                    r.hits,
                    if l.volatile { "yes" } else { "no" },
                    l.answer.status,
                    answer
                );
            }
            let total = hits + asked;
            println!(
                "\n{} answers learned, {} volatile (never replayed); served from the table {hits} times, by sandboxes {asked} times (hit rate {:.1}%)",
                rows.iter().filter(|r| !r.learned.volatile).count(),
                rows.iter().filter(|r| r.learned.volatile).count(),
                if total > 0 { hits as f64 * 100.0 / total as f64 } else { 0.0 }
            );
        }
        ProfilesCmd::List => {
            // A device's faces may be several profiles (`dvr` is the web
            // server of `dvr-xiongmai`): DEVICE names the device.
            println!(
                "{:<20}  {:<20}  {:<9}  {:<12}  {:<18}  DESCRIPTION",
                "NAME", "DEVICE", "ARCH", "TYPE", "FACES"
            );
            for p in Profile::builtins() {
                use iotpot_core::config::Service;
                let faces: Vec<&str> = [Service::Telnet, Service::Http, Service::Netis]
                    .into_iter()
                    .filter(|s| p.has_face(*s))
                    .map(Service::name)
                    .collect();
                println!(
                    "{:<20}  {:<20}  {:<9}  {:<12}  {:<18}  {}",
                    p.name,
                    p.device,
                    p.arch.name(),
                    p.device_type,
                    faces.join(","),
                    p.description
                );
            }
        }
        ProfilesCmd::Show { name } => {
            // A built-in as written (with its comments), unless it extends
            // another: then as it resolves.
            let builtin = iotpot_core::profile::BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .filter(|(_, text)| !text.lines().any(|l| l.starts_with("extends")));
            if let Some((_, text)) = builtin {
                print!("{text}");
            } else {
                let p = Profile::load(&name)?;
                print!("{}", toml::to_string_pretty(&p)?);
            }
        }
    }
    Ok(())
}
