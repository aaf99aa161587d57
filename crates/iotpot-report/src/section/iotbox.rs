//! 9. IoTBOX: who answered the commands the emulation does not know
//!    (the learned table, a sandbox, or nobody), and how often the learned
//!    table was hit.

use super::{count, rows, table, Kind, Section, TOP};
use crate::Window;
use iotpot_store::sql::Db;

pub fn build(conn: &dyn Db, w: &Window) -> anyhow::Result<Section> {
    let answers =
        "FROM events WHERE eventid = 'iotpot.iotbox.answer' AND timestamp >= ?1 AND timestamp < ?2";
    let by_source = rows(
        conn,
        w,
        &format!("SELECT json_extract(data, '$.source') AS s, COUNT(*) AS n {answers} GROUP BY s ORDER BY n DESC, s"))?;
    let emulated = count(
        conn,
        w,
        "SELECT COALESCE(SUM(n), 0) FROM event_days WHERE eventid = 'iotpot.command.input' AND kind = 'known'
           AND day >= substr(?1, 1, 10) AND day < ?2",
    )?;
    let mut all = vec![vec![serde_json::Value::from("emulated"), emulated.into()]];
    all.extend(by_source.iter().cloned());
    let asked: i64 = by_source.iter().map(|r| r[1].as_i64().unwrap_or(0)).sum();
    let learned: i64 = by_source
        .iter()
        .filter(|r| r[0] == "learned")
        .map(|r| r[1].as_i64().unwrap_or(0))
        .sum();
    let commands = table(
        conn,
        w,
        "Commands answered by IoTBOX",
        &["command", "source", "times"],
        &format!(
            "SELECT json_extract(data, '$.command') AS c, json_extract(data, '$.source') AS s, COUNT(*) AS n
             {answers} GROUP BY c, s ORDER BY n DESC, c, s LIMIT {TOP}"
        ),
    )?;
    let note = if asked > 0 {
        format!(
            "{asked} commands went to IoTBOX; the learned table answered {learned} ({:.1}%).",
            100.0 * learned as f64 / asked as f64
        )
    } else {
        "No command went to IoTBOX in the period.".into()
    };
    Ok(Section {
        id: "iotbox",
        title: "IoTBOX answers",
        charts: vec![super::single(
            "Command lines by who answered",
            Kind::Bars,
            "lines",
            &all,
        )],
        tables: vec![
            crate::Table {
                title: "Answers by source".into(),
                columns: vec!["source".into(), "answers".into()],
                rows: all,
            },
            commands,
        ],
        trees: vec![],
        notes: vec![note],
    })
}
