//! `iotpot export csv TABLE`: one of the store's tables as RFC 4180 CSV,
//! with a header row. Every cell that came from an attacker is a string a
//! spreadsheet must not run: a cell that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return gets a leading `'` (OWASP's advice against CSV
//! injection), and numbers stay numbers.

use crate::Window;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::io::Write;

/// The tables one can export: name, what it is, and its query (`?1`/`?2`
/// the window's bounds).
pub const TABLES: &[(&str, &str, &str)] = &[
    (
        "sessions",
        "one row per connection: addresses, sensor, profile, login, counts, end",
        "SELECT session, start, end, src_ip, src_port, dst_ip, dst_port, sensor, protocol, profile, arch,
            username, password, login_ok, login_attempts, commands, downloads, duration, close_reason
         FROM sessions WHERE start >= ?1 AND start < ?2 ORDER BY start",
    ),
    (
        "events",
        "every event: time, id, session, source, and the whole event as JSON",
        "SELECT timestamp, eventid, session, src_ip, protocol, data FROM events
         WHERE timestamp >= ?1 AND timestamp < ?2 ORDER BY id",
    ),
    (
        "credentials",
        "username/password pairs: attempts, logins, first and last day tried",
        "SELECT username, password, SUM(attempts), SUM(logins), MIN(day), MAX(day) FROM cred_days
         WHERE day >= substr(?1, 1, 10) AND day < ?2 GROUP BY username, password ORDER BY SUM(attempts) DESC",
    ),
    (
        "samples",
        "malware samples: SHA-256, size, kind, CPU, families, first and last seen",
        "SELECT sha256, size, kind, arch, tags, first_seen, last_seen FROM samples
         WHERE last_seen >= ?1 AND first_seen < ?2 ORDER BY first_seen",
    ),
    (
        "downloads",
        "where each sample came from: URL, session, source address, time, dropper",
        "SELECT timestamp, sha256, source, session, src_ip, outfile, parent FROM sample_sources
         WHERE timestamp >= ?1 AND timestamp < ?2 ORDER BY timestamp",
    ),
    (
        "devices",
        "attacking hosts scanned back: device type, vendor, product, OS, worm",
        "SELECT addr, scanned, reachable, device, vendor, product, os, infected, verdict FROM profiler_hosts
         WHERE scanned >= ?1 AND scanned < ?2 ORDER BY scanned",
    ),
];

/// Write `table` for `window` to `out`; the rows written.
pub fn write(
    conn: &Connection,
    table: &str,
    window: &Window,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    let Some((_, _, sql)) = TABLES.iter().find(|(name, _, _)| *name == table) else {
        anyhow::bail!(
            "no table {table:?} to export; the tables: {}",
            TABLES
                .iter()
                .map(|(n, _, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let (from, to) = window.bounds();
    let mut stmt = conn.prepare(sql)?;
    let names: Vec<String> = stmt.column_names().map(header).collect();
    line(out, names.iter().map(|n| field(n)))?;
    let mut rows = stmt.query([&from, &to])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let cells = (0..names.len())
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    ValueRef::Null => String::new(),
                    ValueRef::Integer(v) => v.to_string(),
                    ValueRef::Real(v) => v.to_string(),
                    ValueRef::Text(t) | ValueRef::Blob(t) => field(&String::from_utf8_lossy(t)),
                })
            })
            .collect::<rusqlite::Result<Vec<String>>>()?;
        line(out, cells.into_iter())?;
        n += 1;
    }
    Ok(n)
}

/// A column's name as the header says it (`SUM(attempts)` → `attempts`).
fn header(column: &str) -> String {
    match column {
        "SUM(attempts)" => "attempts".into(),
        "SUM(logins)" => "logins".into(),
        "MIN(day)" => "first_day".into(),
        "MAX(day)" => "last_day".into(),
        c => c.into(),
    }
}

fn line(out: &mut impl Write, cells: impl Iterator<Item = String>) -> std::io::Result<()> {
    let cells: Vec<String> = cells.collect();
    out.write_all(cells.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

/// One text cell: defused (a leading `'` before what a spreadsheet would
/// evaluate), then quoted when it holds a comma, quote or line break.
pub fn field(s: &str) -> String {
    let defused = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_defused() {
        assert_eq!(field("root"), "root");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(field("-1+1"), "'-1+1");
        assert_eq!(field("x\r\ny"), "\"x\r\ny\"");
    }
}
