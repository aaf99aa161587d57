//! `iotpot sensors`: a central's sensors, as `iotpot run` last wrote them
//! (`data_dir/sensors.json`), with their sessions from the store. The
//! spool backlog is the sensor's own word, from its last replay; REPLAYED
//! counts the events its spools gave since the central started.

use std::path::Path;

#[derive(clap::Args)]
pub struct SensorsArgs {
    /// One JSON array.
    #[arg(long)]
    json: bool,
}

pub fn run(a: SensorsArgs, config: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(config)?;
    let list = iotpot_proxy::status::read(&config.data_dir.join("sensors.json"))?;
    // Sessions per sensor, from the store (none yet: no database).
    let db = config.data_dir.join("iotpot.db");
    let sessions = |name: &str| -> Option<i64> {
        let conn = iotpot_store::sqlite::open_read(&db).ok()?;
        conn.query_row(
            "SELECT count(*) FROM sessions WHERE sensor = ?1",
            [name],
            |r| r.get(0),
        )
        .ok()
    };
    if a.json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|s| {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                v["sessions"] = sessions(&s.name).into();
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<16} {:<36} {:<22} {:>9} {:>9} {:>12} {:>12} {:>12} {:>9}  LAST ERROR",
        "SENSOR",
        "STATE",
        "FROM",
        "LISTENERS",
        "SESSIONS",
        "BYTES IN",
        "BYTES OUT",
        "SPOOL BYTES",
        "REPLAYED"
    );
    for s in &list {
        let state = match (&s.since, s.connected) {
            (Some(t), true) => format!("connected since {t}"),
            (Some(t), false) => format!("away since {t}"),
            (None, _) => "never connected".to_string(),
        };
        println!(
            "{:<16} {:<36} {:<22} {:>9} {:>9} {:>12} {:>12} {:>12} {:>9}  {}",
            s.name,
            state,
            s.address.as_deref().unwrap_or("-"),
            s.listeners.len(),
            sessions(&s.name).map_or("-".to_string(), |n| n.to_string()),
            s.bytes_in,
            s.bytes_out,
            s.spool_backlog.bytes,
            s.replayed_events,
            iotpot_core::escape::str_for_terminal(s.last_error.as_deref().unwrap_or("")),
        );
    }
    Ok(())
}
