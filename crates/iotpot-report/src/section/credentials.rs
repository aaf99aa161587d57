//! 3. Credentials: the pairs tried most, distinct pairs over time (the
//!    2015 paper's Fig. 2: new pairs per day and their running total), and
//!    the pairs that logged in, per profile. Read from the rollups
//!    (`iotpot_store::rollup`).

use super::{chart_table, count, rows, table, Kind, Section, TOP};
use crate::{Chart, Series, Window};
use iotpot_store::sql::Db;

const DAYS: &str = "FROM cred_days WHERE day >= substr(?1, 1, 10) AND day < ?2";

pub fn build(conn: &dyn Db, w: &Window) -> anyhow::Result<Section> {
    // Over everything, the totals; inside a window, the days it covers.
    let windowed = w.since.is_some() || w.until.is_some();
    let top = table(
        conn,
        w,
        "Pairs tried most",
        &["username", "password", "attempts", "logins"],
        &if windowed {
            format!(
                "SELECT username, password, SUM(attempts) AS n, SUM(logins) {DAYS}
                 GROUP BY username, password ORDER BY n DESC, username, password LIMIT {TOP}"
            )
        } else {
            format!(
                "SELECT username, password, attempts, logins FROM cred_totals
                 ORDER BY attempts DESC, username, password LIMIT {TOP}"
            )
        },
    )?;
    // New pairs per day: a pair is new on the day of its first attempt ever.
    let daily = rows(
        conn,
        w,
        "SELECT substr(first, 1, 10) AS d, COUNT(*) FROM cred_first
         WHERE substr(first, 1, 10) >= substr(?1, 1, 10) AND first < ?2 GROUP BY d ORDER BY d",
    )?;
    let labels: Vec<String> = daily.iter().map(|r| super::text(&r[0])).collect();
    let new: Vec<i64> = daily.iter().map(|r| r[1].as_i64().unwrap_or(0)).collect();
    let before = count(
        conn,
        w,
        "SELECT COUNT(*) FROM cred_first WHERE substr(first, 1, 10) < substr(?1, 1, 10)",
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
        &if windowed {
            format!(
                "SELECT profile, username, password, SUM(logins) AS n FROM cred_profiles
                 WHERE day >= substr(?1, 1, 10) AND day < ?2
                 GROUP BY profile, username, password ORDER BY n DESC, profile, username, password LIMIT {TOP}"
            )
        } else {
            format!(
                "SELECT profile, username, password, logins FROM cred_profile_totals
                 ORDER BY logins DESC, profile, username, password LIMIT {TOP}"
            )
        },
    )?;
    let distinct = count(
        conn,
        w,
        &if windowed {
            format!("SELECT COUNT(*) FROM (SELECT 1 {DAYS} GROUP BY username, password) AS u")
        } else {
            "SELECT COUNT(*) FROM cred_totals".to_string()
        },
    )?;
    let days = chart_table(&over_time, "day");
    Ok(Section {
        id: "credentials",
        title: "Credentials",
        charts: vec![over_time],
        tables: vec![top, days, per_profile],
        trees: vec![],
        notes: vec![format!(
            "{distinct} distinct username/password pairs tried in the period."
        )],
    })
}
