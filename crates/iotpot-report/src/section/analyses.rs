//! 8. Sandbox analyses: the names and addresses samples contacted, the
//!    scan targets per /24 and /16 (the Linux/Moose figure), packet rates.

use super::{rows, table, Kind, Section, TOP};
use crate::Window;
use iotpot_store::sql::Db;

const REPORTS: &str =
    "FROM events WHERE eventid = 'iotpot.analysis.report' AND timestamp >= ?1 AND timestamp < ?2";

pub fn build(conn: &dyn Db, w: &Window) -> anyhow::Result<Section> {
    // One of a report's maps (`dns`, `tcp`, `per_24`...), summed over the
    // reports: key, total, samples.
    let per = |field: &str| {
        format!(
            "SELECT j.key AS k, SUM(CAST(j.value AS BIGINT)) AS n, COUNT(DISTINCT json_extract(events.data, '$.shasum'))
             FROM events, json_each(events.data, '$.{field}') AS j
             WHERE eventid = 'iotpot.analysis.report' AND timestamp >= ?1 AND timestamp < ?2
             GROUP BY k ORDER BY n DESC, k LIMIT {TOP}"
        )
    };
    let names = table(
        conn,
        w,
        "Names looked up",
        &["name", "lookups", "samples"],
        &per("dns"),
    )?;
    let tcp = table(
        conn,
        w,
        "TCP destinations",
        &["address:port", "attempts", "samples"],
        &per("tcp"),
    )?;
    let per24 = rows(conn, w, &per("per_24"))?;
    let per16 = table(
        conn,
        w,
        "Scan targets per /16",
        &["/16", "addresses", "samples"],
        &per("per_16"),
    )?;
    let runs = table(
        conn,
        w,
        "Analyses",
        &["sha256", "arch", "seconds", "packets", "packets/s"],
        &format!(
            "SELECT json_extract(data, '$.shasum'), json_extract(data, '$.arch'),
                CAST(json_extract(data, '$.seconds') AS DOUBLE PRECISION), CAST(json_extract(data, '$.packets') AS BIGINT),
                round(CAST(json_extract(data, '$.packets_per_second') AS DOUBLE PRECISION), 1)
             {REPORTS} ORDER BY timestamp DESC, id DESC LIMIT {TOP}"
        ),
    )?;
    Ok(Section {
        id: "analyses",
        title: "Sandbox analyses",
        charts: vec![super::single(
            "Scan targets per /24 (distinct addresses)",
            Kind::Bars,
            "addresses",
            &per24,
        )],
        tables: vec![
            runs,
            names,
            tcp,
            crate::Table {
                title: "Scan targets per /24".into(),
                columns: vec!["/24".into(), "addresses".into(), "samples".into()],
                rows: per24,
            },
            per16,
        ],
        trees: vec![],
        notes: vec![],
    })
}
