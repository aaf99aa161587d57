//! 7. The bait: fetches of a DVR's config file (whose credentials are
//!    honeytokens), the honeytokens used again (who leaked them, who used
//!    them, how, and how long after), and the camera's viewers.

use super::{count, rows, table, Kind, Section, TOP};
use crate::Window;
use iotpot_store::sql::Db;

pub fn build(conn: &dyn Db, w: &Window) -> anyhow::Result<Section> {
    let fetches = count(
        conn,
        w,
        "SELECT COALESCE(SUM(n), 0) FROM event_days WHERE eventid = 'iotpot.http.request'
           AND kind = 'config file' AND day >= substr(?1, 1, 10) AND day < ?2",
    )?;
    let used = "FROM events WHERE eventid = 'iotpot.honeytoken.used' AND timestamp >= ?1 AND timestamp < ?2";
    let reuse = table(
        conn,
        w,
        "Honeytokens used again",
        &["used at", "by", "via", "token", "shown in", "leaked to", "leaked at", "hours after", "human watching"],
        &format!(
            "SELECT timestamp, src_ip, json_extract(data, '$.via'), json_extract(data, '$.token'),
                json_extract(data, '$.source'), json_extract(data, '$.leaked_src'), json_extract(data, '$.leaked_at'),
                round((julianday(timestamp) - julianday(json_extract(data, '$.leaked_at'))) * 24, 2),
                CASE WHEN CAST(json_extract(data, '$.human_watching') AS TEXT) IN ('1', 'true') THEN 1 ELSE 0 END
             {used} ORDER BY timestamp DESC, id DESC LIMIT {TOP}"
        ),
    )?;
    let by_via = rows(
        conn,
        w,
        &format!("SELECT json_extract(data, '$.via') AS v, COUNT(*) AS n {used} GROUP BY v ORDER BY n DESC, v"))?;
    let human = count(
        conn,
        w,
        &format!(
            "SELECT COUNT(*) {used} AND CAST(json_extract(data, '$.human_watching') AS TEXT) IN ('1', 'true')"
        ),
    )?;
    let viewers = table(
        conn,
        w,
        "Camera viewers",
        &["viewer", "views", "seconds watched", "longest view (s)", "frames"],
        &format!(
            "SELECT src_ip, COUNT(*) AS n, round(SUM(CAST(json_extract(data, '$.duration') AS DOUBLE PRECISION)), 1),
                round(MAX(CAST(json_extract(data, '$.duration') AS DOUBLE PRECISION)), 1),
                SUM(CAST(json_extract(data, '$.frames') AS BIGINT))
             FROM events WHERE eventid = 'iotpot.video.stopped' AND timestamp >= ?1 AND timestamp < ?2
             GROUP BY src_ip ORDER BY n DESC, src_ip LIMIT {TOP}"
        ),
    )?;
    Ok(Section {
        id: "bait",
        title: "The DVR.cfg bait and the camera",
        charts: vec![super::single("Honeytokens used, by how", Kind::Bars, "uses", &by_via)],
        tables: vec![reuse, viewers],
        trees: vec![],
        notes: vec![format!(
            "{fetches} fetches of a device's config file; {} honeytoken uses, {human} of credentials shown only in the camera's picture (a human was watching).",
            by_via.iter().map(|r| r[1].as_i64().unwrap_or(0)).sum::<i64>()
        )],
    })
}
