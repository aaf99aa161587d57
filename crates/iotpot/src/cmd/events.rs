//! `iotpot events`: recent events from the store.

use iotpot_core::escape::str_for_terminal;
use iotpot_core::event::COMMON_FIELDS;
use iotpot_store::query::{self, EventFilter};
use serde_json::Value;
use std::path::Path;

#[derive(clap::Args)]
pub struct EventsArgs {
    /// How many of the most recent events.
    #[arg(long, short = 'n', default_value_t = 50)]
    limit: usize,
    /// Only this session.
    #[arg(long)]
    session: Option<String>,
    /// Only this event id, or a prefix ending in `*` (`iotpot.login.*`).
    #[arg(long = "type", short = 't', value_name = "EVENTID")]
    eventid: Option<String>,
    /// Only events from this source address.
    #[arg(long)]
    src: Option<String>,
    /// One JSON object per line, as in events.jsonl.
    #[arg(long)]
    json: bool,
}

pub fn open_store(path: Option<&Path>) -> anyhow::Result<iotpot_store::sqlite::Connection> {
    let config = super::load_config(path)?;
    let db = config.data_dir.join("iotpot.db");
    if !db.exists() {
        anyhow::bail!(
            "no database at {} (has `iotpot run` run with this data_dir?)",
            db.display()
        );
    }
    iotpot_store::sqlite::open_read(&db)
}

pub fn run(a: EventsArgs, path: Option<&Path>) -> anyhow::Result<()> {
    let conn = open_store(path)?;
    let rows = query::events(
        &conn,
        &EventFilter {
            session: a.session,
            eventid: a.eventid,
            src_ip: a.src,
            limit: a.limit,
        },
    )?;
    if a.json {
        for r in rows {
            println!("{}", r.data);
        }
        return Ok(());
    }
    println!(
        "{:<19}  {:<12}  {:<15}  {:<20}  DETAIL",
        "TIME (UTC)", "SESSION", "SOURCE", "EVENT"
    );
    for r in rows {
        let time = r
            .timestamp
            .get(..19)
            .unwrap_or(&r.timestamp)
            .replace('T', " ");
        let event = r.eventid.strip_prefix("iotpot.").unwrap_or(&r.eventid);
        println!(
            "{:<19}  {:<12}  {:<15}  {:<20}  {}",
            time,
            str_for_terminal(&r.session),
            str_for_terminal(&r.src_ip),
            event,
            detail(&r.data)
        );
    }
    Ok(())
}

/// The fields worth a glance, escaped and cut to one line.
fn detail(v: &Value) -> String {
    let mut parts = Vec::new();
    if let Value::Object(map) = v {
        for (k, val) in map {
            if COMMON_FIELDS.contains(&k.as_str()) || k == "content" || val.is_null() {
                continue;
            }
            let text = match val {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            parts.push(format!("{k}={}", str_for_terminal(&text)));
        }
    }
    let line = parts.join(" ");
    if line.chars().count() > 120 {
        line.chars().take(117).collect::<String>() + "..."
    } else {
        line
    }
}
