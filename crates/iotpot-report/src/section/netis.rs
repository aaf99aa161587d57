//! 6. The 53413/UDP backdoor: datagrams by kind over time, the 18-byte
//!    scans, and datagrams whose IP or UDP lengths lie.

use super::{count, pivot, rows, table, Kind, Section, TOP};
use crate::Window;
use iotpot_store::sql::Db;

pub fn build(conn: &dyn Db, w: &Window) -> anyhow::Result<Section> {
    let d = "FROM netis_days WHERE day >= substr(?1, 1, 10) AND day < ?2";
    let kinds = rows(
        conn,
        w,
        "SELECT day, kind, n FROM event_days WHERE eventid = 'iotpot.netis.datagram'
           AND day >= substr(?1, 1, 10) AND day < ?2 ORDER BY day, kind",
    )?;
    let chart = pivot(
        "53413/udp datagrams per day, by kind",
        Kind::Stacked,
        &kinds,
    );
    let scans = count(
        conn,
        w,
        "SELECT COALESCE(SUM(n), 0) FROM event_days WHERE eventid = 'iotpot.netis.datagram'
           AND kind = 'scan-18' AND day >= substr(?1, 1, 10) AND day < ?2",
    )?;
    let anomalies = count(
        conn,
        w,
        "SELECT COALESCE(SUM(n), 0) FROM event_days WHERE eventid = 'iotpot.packet.anomaly'
           AND day >= substr(?1, 1, 10) AND day < ?2",
    )?;
    let sources = table(
        conn,
        w,
        "Sources",
        &["source", "datagrams", "kinds"],
        // The busiest sources first, then the kinds of those alone (in
        // name order): listing every source's kinds cost more than
        // counting them.
        &format!(
            "SELECT t.src_ip, t.c, (SELECT group_concat(k.kind) FROM (SELECT DISTINCT kind FROM netis_days x
                 WHERE x.src_ip = t.src_ip AND day >= substr(?1, 1, 10) AND day < ?2 ORDER BY kind) AS k)
             FROM (SELECT src_ip, SUM(n) AS c {d} GROUP BY src_ip ORDER BY c DESC, src_ip LIMIT {TOP}) AS t
             ORDER BY t.c DESC, t.src_ip"
        ),
    )?;
    let lengths = table(
        conn,
        w,
        "Datagram lengths",
        &["bytes", "datagrams"],
        &format!(
            "SELECT length, SUM(n) AS c {d} GROUP BY length ORDER BY c DESC, length LIMIT {TOP}"
        ),
    )?;
    Ok(Section {
        id: "netis",
        title: "53413/UDP (Netis backdoor)",
        tables: vec![super::chart_table(&chart, "day"), sources, lengths],
        charts: vec![chart],
        trees: vec![],
        notes: vec![format!(
            "{scans} 18-byte scans; {anomalies} packets whose IP or UDP length fields lie (iotpot.packet.anomaly)."
        )],
    })
}
