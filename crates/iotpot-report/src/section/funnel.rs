//! 1. The attack funnel: connections → login attempts → logins → commands
//!    → download attempts → samples stored → samples analysed.

use super::{count, single, Kind, Section};
use crate::{Table, Window};
use rusqlite::Connection;

pub fn build(conn: &Connection, w: &Window) -> anyhow::Result<Section> {
    let s = "FROM sessions WHERE start >= ?1 AND start < ?2";
    let steps: Vec<(&str, i64)> = vec![
        ("connections", count(conn, w, &format!("SELECT COUNT(*) {s}"))?),
        (
            "login attempts",
            count(conn, w, &format!("SELECT COALESCE(SUM(login_attempts), 0) {s}"))?,
        ),
        ("logins", count(conn, w, &format!("SELECT COUNT(*) {s} AND login_ok"))?),
        (
            "commands",
            count(conn, w, &format!("SELECT COALESCE(SUM(commands), 0) {s}"))?,
        ),
        (
            "download attempts",
            count(conn, w, &format!("SELECT COALESCE(SUM(downloads), 0) {s}"))?,
        ),
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
        notes: vec![],
    })
}
