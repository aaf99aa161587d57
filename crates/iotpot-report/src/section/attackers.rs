//! 2. Unique attacking addresses per day, week and month (the 2015
//!    paper's Fig. 1): those first seen in that period (new) and those seen
//!    before. An attacker is any address with a session or a 53413
//!    datagram. Read from the rollups (`iotpot_store::rollup`): each
//!    period's counts; inside a window that cuts a week or a month, the
//!    addresses of the days it covers and each address's first time.

use super::{chart_table, count, rows, Kind, Section};
use crate::{Chart, Series, Window};
use iotpot_store::sql::Db;
use std::collections::BTreeMap;

pub fn build(conn: &dyn Db, w: &Window) -> anyhow::Result<Section> {
    let windowed = w.since.is_some() || w.until.is_some();
    let days = "day >= substr(?1, 1, 10) AND day < ?2";
    // Whole periods (days; weeks and months when nothing is cut) by name.
    let periods = "period >= substr(?1, 1, 10) AND period < ?2";
    let mut charts = Vec::new();
    let mut tables = Vec::new();
    for (name, period) in [
        ("day", "substr({c}, 1, 10)"),
        ("week", "strftime('%Y-W%W', {c})"),
        ("month", "substr({c}, 1, 7)"),
    ] {
        // Distinct addresses per period, and those first seen in it: whole
        // periods from their counts (days are always whole); inside a
        // window, from the days it covers.
        let (all, new) = if name == "day" || !windowed {
            (
                format!("SELECT period, n FROM attacker_counts WHERE kind = '{name}' AND n > 0 AND {periods}"),
                format!("SELECT period, new FROM attacker_counts WHERE kind = '{name}' AND new > 0 AND {periods}"),
            )
        } else {
            let p = period.replace("{c}", "day");
            (
                format!("SELECT {p} AS p, COUNT(DISTINCT src_ip) FROM attacker_days WHERE {days} GROUP BY p"),
                format!(
                    "SELECT {p} AS p, COUNT(*) FROM attacker_first WHERE substr(first, 1, 10) >= substr(?1, 1, 10)
                       AND first < ?2 GROUP BY p",
                    p = period.replace("{c}", "first")
                ),
            )
        };
        let all: BTreeMap<String, i64> = rows(conn, w, &all)?
            .into_iter()
            .map(|r| (super::text(&r[0]), r[1].as_i64().unwrap_or(0)))
            .collect();
        let new: BTreeMap<String, i64> = rows(conn, w, &new)?
            .into_iter()
            .map(|r| (super::text(&r[0]), r[1].as_i64().unwrap_or(0)))
            .collect();
        let chart = Chart {
            title: format!("Unique attacking addresses per {name}"),
            kind: Kind::Stacked,
            labels: all.keys().cloned().collect(),
            series: vec![
                Series {
                    name: "new".into(),
                    values: all
                        .keys()
                        .map(|p| new.get(p).copied().unwrap_or(0))
                        .collect(),
                },
                Series {
                    name: "seen before".into(),
                    values: all
                        .iter()
                        .map(|(p, n)| n - new.get(p).copied().unwrap_or(0))
                        .collect(),
                },
            ],
        };
        tables.push(chart_table(&chart, name));
        charts.push(chart);
    }
    let total = if windowed {
        count(
            conn,
            w,
            &format!("SELECT COUNT(DISTINCT src_ip) FROM attacker_days WHERE {days}"),
        )?
    } else {
        count(conn, w, "SELECT COUNT(*) FROM attacker_first")?
    };
    Ok(Section {
        id: "attackers",
        title: "Attacking addresses",
        charts,
        tables,
        trees: vec![],
        notes: vec![format!(
            "{total} distinct attacking addresses in the period."
        )],
    })
}
