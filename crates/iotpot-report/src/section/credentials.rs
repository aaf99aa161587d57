//! 3. Credentials: the pairs tried most, distinct pairs over time (the
//!    2015 paper's Fig. 2: new pairs per day and their running total), and
//!    the pairs that logged in, per profile.

use super::{chart_table, rows, table, Kind, Section, TOP};
use crate::{Chart, Series, Window};
use rusqlite::Connection;

const LOGINS: &str =
    "SELECT json_extract(data, '$.username') AS u, json_extract(data, '$.password') AS p,
        eventid = 'iotpot.login.success' AS ok, timestamp AS t
    FROM events WHERE eventid IN ('iotpot.login.success', 'iotpot.login.failed')";

pub fn build(conn: &Connection, w: &Window) -> anyhow::Result<Section> {
    let top = table(
        conn,
        w,
        "Pairs tried most",
        &["username", "password", "attempts", "logins"],
        &format!(
            "SELECT u, p, COUNT(*) AS n, SUM(ok) FROM ({LOGINS}) WHERE t >= ?1 AND t < ?2
             GROUP BY u, p ORDER BY n DESC, u, p LIMIT {TOP}"
        ),
    )?;
    // New pairs per day: a pair is new on the day of its first attempt ever.
    let daily = rows(
        conn,
        w,
        &format!(
            "SELECT d, COUNT(*) FROM (SELECT substr(MIN(t), 1, 10) AS d FROM ({LOGINS}) GROUP BY u, p)
             WHERE d >= substr(?1, 1, 10) AND d < ?2 GROUP BY d ORDER BY d"
        ))?;
    let labels: Vec<String> = daily.iter().map(|r| super::text(&r[0])).collect();
    let new: Vec<i64> = daily.iter().map(|r| r[1].as_i64().unwrap_or(0)).collect();
    let before = super::count(
        conn,
        w,
        &format!(
            "SELECT COUNT(*) FROM (SELECT MIN(t) AS f FROM ({LOGINS}) GROUP BY u, p) WHERE f < ?1"
        ),
    )?;
    let total: Vec<i64> = new
        .iter()
        .scan(before, |acc, n| {
            *acc += n;
            Some(*acc)
        })
        .collect();
    let over_time = Chart {
        title: "Distinct credential pairs over time".into(),
        kind: Kind::Lines,
        labels,
        series: vec![
            Series {
                name: "distinct pairs (running total)".into(),
                values: total,
            },
            Series {
                name: "new pairs that day".into(),
                values: new,
            },
        ],
    };
    let per_profile = table(
        conn,
        w,
        "Pairs that logged in, per profile",
        &["profile", "username", "password", "sessions"],
        &format!(
            "SELECT COALESCE(profile, '-'), username, password, COUNT(*) AS n FROM sessions
             WHERE login_ok AND start >= ?1 AND start < ?2
             GROUP BY profile, username, password ORDER BY profile, n DESC LIMIT {}",
            TOP * 5
        ),
    )?;
    let distinct = super::count(
        conn,
        w,
        &format!("SELECT COUNT(*) FROM (SELECT 1 FROM ({LOGINS}) WHERE t >= ?1 AND t < ?2 GROUP BY u, p)"),
    )?;
    let days = chart_table(&over_time, "day");
    Ok(Section {
        id: "credentials",
        title: "Credentials",
        charts: vec![over_time],
        tables: vec![top, days, per_profile],
        notes: vec![format!(
            "{distinct} distinct username/password pairs tried in the period."
        )],
    })
}
