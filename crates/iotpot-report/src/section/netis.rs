//! 6. The 53413/UDP backdoor: datagrams by kind over time, the 18-byte
//!    scans, and datagrams whose IP or UDP lengths lie.

use super::{count, pivot, rows, table, Kind, Section, TOP};
use crate::Window;
use rusqlite::Connection;

pub fn build(conn: &Connection, w: &Window) -> anyhow::Result<Section> {
    let d = "FROM events WHERE eventid = 'iotpot.netis.datagram' AND timestamp >= ?1 AND timestamp < ?2";
    let kinds = rows(
        conn,
        w,
        &format!(
            "SELECT substr(timestamp, 1, 10) AS day, json_extract(data, '$.kind') AS k, COUNT(*) {d}
             GROUP BY day, k ORDER BY day, k"
        ),
    )?;
    let chart = pivot(
        "53413/udp datagrams per day, by kind",
        Kind::Stacked,
        &kinds,
    );
    let scans = count(
        conn,
        w,
        &format!("SELECT COUNT(*) {d} AND json_extract(data, '$.kind') = 'scan-18'"),
    )?;
    let anomalies = count(
        conn,
        w,
        "SELECT COUNT(*) FROM events WHERE eventid = 'iotpot.packet.anomaly' AND timestamp >= ?1 AND timestamp < ?2",
    )?;
    let sources = table(
        conn,
        w,
        "Sources",
        &["source", "datagrams", "kinds"],
        &format!(
            "SELECT src_ip, COUNT(*) AS n, group_concat(DISTINCT json_extract(data, '$.kind')) {d}
             GROUP BY src_ip ORDER BY n DESC LIMIT {TOP}"
        ),
    )?;
    let lengths = table(
        conn,
        w,
        "Datagram lengths",
        &["bytes", "datagrams"],
        &format!(
            "SELECT json_extract(data, '$.length') AS l, COUNT(*) AS n {d} GROUP BY l ORDER BY n DESC LIMIT {TOP}"
        ),
    )?;
    Ok(Section {
        id: "netis",
        title: "53413/UDP (Netis backdoor)",
        tables: vec![super::chart_table(&chart, "day"), sources, lengths],
        charts: vec![chart],
        notes: vec![format!(
            "{scans} 18-byte scans; {anomalies} packets whose IP or UDP length fields lie (iotpot.packet.anomaly)."
        )],
    })
}
