//! 2. Unique attacking addresses per day, week and month (the 2015
//!    paper's Fig. 1): those first seen in that period (new) and those seen
//!    before. An attacker is any address with a session or a 53413
//!    datagram.

use super::{pivot, rows, Kind, Section};
use crate::Window;
use rusqlite::Connection;

/// Every attacking address and time, and each address's first time ever.
const SEEN: &str = "WITH seen AS (
        SELECT src_ip, start AS t FROM sessions
        UNION ALL
        SELECT src_ip, timestamp AS t FROM events WHERE eventid = 'iotpot.netis.datagram'
    ), first AS (SELECT src_ip, MIN(t) AS f FROM seen GROUP BY src_ip)";

pub fn build(conn: &Connection, w: &Window) -> anyhow::Result<Section> {
    let mut charts = Vec::new();
    let mut tables = Vec::new();
    for (name, period) in [
        ("day", "substr({c}, 1, 10)"),
        ("week", "strftime('%Y-W%W', {c})"),
        ("month", "substr({c}, 1, 7)"),
    ] {
        let (first, period) = (period.replace("{c}", "f"), period.replace("{c}", "t"));
        let sql = format!(
            "{SEEN}
             SELECT p, CASE WHEN p = fp THEN 'new' ELSE 'seen before' END AS k, COUNT(DISTINCT src_ip) FROM (
                SELECT {period} AS p, seen.src_ip, {first} AS fp
                FROM seen JOIN first USING (src_ip) WHERE t >= ?1 AND t < ?2
             ) GROUP BY p, k ORDER BY p, k"
        );
        let r = rows(conn, w, &sql)?;
        let chart = pivot(
            &format!("Unique attacking addresses per {name}"),
            Kind::Stacked,
            &r,
        );
        tables.push(super::chart_table(&chart, name));
        charts.push(chart);
    }
    let total = rows(
        conn,
        w,
        &format!("{SEEN} SELECT COUNT(DISTINCT src_ip) FROM seen WHERE t >= ?1 AND t < ?2"),
    )?;
    let total = total[0][0].as_i64().unwrap_or(0);
    Ok(Section {
        id: "attackers",
        title: "Attacking addresses",
        charts,
        tables,
        notes: vec![format!(
            "{total} distinct attacking addresses in the period."
        )],
    })
}
