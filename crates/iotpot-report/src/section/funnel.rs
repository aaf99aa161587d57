//! 1. The attack funnel: connections → login attempts → logins → commands
//!    → download attempts → samples stored → samples analysed.

use super::{count, single, Kind, Section};
use crate::{Table, Window};
use iotpot_store::sql::Db;

pub fn build(conn: &dyn Db, w: &Window) -> anyhow::Result<Section> {
    // Events per day and kind, from the rollup.
    let events = |ids: &str| {
        count(
            conn,
            w,
            &format!(
                "SELECT COALESCE(SUM(n), 0) FROM event_days
                 WHERE eventid IN ({ids}) AND day >= substr(?1, 1, 10) AND day < ?2"
            ),
        )
    };
    let steps: Vec<(&str, i64)> = vec![
        ("connections", events("'iotpot.session.connect'")?),
        (
            "login attempts",
            events("'iotpot.login.success', 'iotpot.login.failed'")?,
        ),
        ("logins", events("'iotpot.login.success'")?),
        ("commands", events("'iotpot.command.input'")?),
        ("download attempts", events("'iotpot.download.requested'")?),
        (
            "samples stored",
            count(
                conn,
                w,
                "SELECT COUNT(DISTINCT sha256) FROM sample_sources WHERE timestamp >= ?1 AND timestamp < ?2",
            )?,
        ),
        (
            "samples analysed",
            count(
                conn,
                w,
                "SELECT COUNT(DISTINCT json_extract(data, '$.shasum')) FROM events \
                 WHERE eventid = 'iotpot.analysis.report' AND timestamp >= ?1 AND timestamp < ?2",
            )?,
        ),
    ];
    let rows: Vec<Vec<serde_json::Value>> = steps
        .iter()
        .map(|(k, v)| vec![(*k).into(), (*v).into()])
        .collect();
    Ok(Section {
        id: "funnel",
        title: "Attack funnel",
        charts: vec![single(
            "From connection to sample",
            Kind::Bars,
            "count",
            &rows,
        )],
        tables: vec![Table {
            title: "Funnel".into(),
            columns: vec!["step".into(), "count".into()],
            rows,
        }],
        trees: vec![],
        notes: vec![],
    })
}
