//! The report's sections, one file each, in the order a report shows them.
//! Each is a function from the store and the window to a [`Section`];
//! timestamps in the store are RFC 3339 text in UTC, so a day is the first
//! ten characters and a window is a range of strings.

mod analyses;
mod attackers;
mod bait;
mod credentials;
mod devices;
mod funnel;
mod iotbox;
mod malware;
mod netis;
mod sensors;

use crate::{Chart, Kind, Section, Series, Table, Window};
use iotpot_store::sql::{parameter_count, Db, Param};
use serde_json::Value;

pub type Build = fn(&dyn Db, &Window) -> anyhow::Result<Section>;

/// Every section by its id, in order.
pub const ALL: &[(&str, Build)] = &[
    ("funnel", funnel::build),
    ("attackers", attackers::build),
    ("credentials", credentials::build),
    ("devices", devices::build),
    ("malware", malware::build),
    ("netis", netis::build),
    ("bait", bait::build),
    ("analyses", analyses::build),
    ("iotbox", iotbox::build),
    ("sensors", sensors::build),
];

/// How many rows a "top" table shows.
const TOP: usize = 20;

/// The rows of `sql` (`?1` and `?2` the window's bounds, if it uses
/// them), each as JSON values.
fn rows(db: &dyn Db, w: &Window, sql: &str) -> anyhow::Result<Vec<Vec<Value>>> {
    let (from, to) = w.bounds();
    let bounds = [Param::Text(&from), Param::Text(&to)];
    db.rows(sql, &bounds[..parameter_count(sql).min(2)])
}

/// One number.
fn count(conn: &dyn Db, w: &Window, sql: &str) -> anyhow::Result<i64> {
    Ok(rows(conn, w, sql)?
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0))
}

/// A table of `sql`'s rows.
fn table(
    conn: &dyn Db,
    w: &Window,
    title: &str,
    columns: &[&str],
    sql: &str,
) -> anyhow::Result<Table> {
    Ok(Table {
        title: title.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows: rows(conn, w, sql)?,
    })
}

/// Text of a cell (`-` for null).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A chart of rows `(label, series, value)`: labels in order of first
/// appearance, one series per distinct series name (missing points 0).
fn pivot(title: &str, kind: Kind, rows: &[Vec<Value>]) -> Chart {
    let mut labels: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        let (l, s) = (text(&r[0]), text(&r[1]));
        if !labels.contains(&l) {
            labels.push(l);
        }
        if !names.contains(&s) {
            names.push(s);
        }
    }
    let mut series: Vec<Series> = names
        .iter()
        .map(|n| Series {
            name: n.clone(),
            values: vec![0; labels.len()],
        })
        .collect();
    for r in rows {
        let li = labels.iter().position(|l| *l == text(&r[0])).unwrap_or(0);
        let si = names.iter().position(|s| *s == text(&r[1])).unwrap_or(0);
        series[si].values[li] += r[2].as_i64().unwrap_or(0);
    }
    Chart {
        title: title.into(),
        kind,
        labels,
        series,
    }
}

/// A one-series chart of rows `(label, value)`.
fn single(title: &str, kind: Kind, name: &str, rows: &[Vec<Value>]) -> Chart {
    Chart {
        title: title.into(),
        kind,
        labels: rows.iter().map(|r| text(&r[0])).collect(),
        series: vec![Series {
            name: name.into(),
            values: rows.iter().map(|r| r[1].as_i64().unwrap_or(0)).collect(),
        }],
    }
}

/// A chart's numbers as a table: the label column, then one per series.
fn chart_table(chart: &Chart, label: &str) -> Table {
    Table {
        title: chart.title.clone(),
        columns: std::iter::once(label.to_string())
            .chain(chart.series.iter().map(|s| s.name.clone()))
            .collect(),
        rows: chart
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                std::iter::once(Value::from(l.clone()))
                    .chain(chart.series.iter().map(|s| Value::from(s.values[i])))
                    .collect()
            })
            .collect(),
    }
}
