//! Reading the store back: what `iotpot events` and `iotpot sessions` show.

use crate::sql::{Db, Param};
use rusqlite::Connection;
use serde_json::Value;

/// One stored event, as the CLI shows it.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub timestamp: String,
    pub eventid: String,
    pub session: String,
    pub src_ip: String,
    /// The whole event, as written to `events.jsonl`.
    pub data: Value,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub session: Option<String>,
    /// An exact id, or a prefix ending in `.` / `*` (`iotpot.login.`).
    pub eventid: Option<String>,
    pub src_ip: Option<String>,
    pub limit: usize,
}

/// The most recent events matching the filter, oldest first.
pub fn events(db: &dyn Db, f: &EventFilter) -> anyhow::Result<Vec<EventRow>> {
    let mut sql =
        String::from("SELECT id, timestamp, eventid, session, src_ip, data FROM events WHERE 1=1");
    let mut args: Vec<String> = Vec::new();
    if let Some(s) = &f.session {
        args.push(s.clone());
        sql.push_str(&format!(" AND session = ?{}", args.len()));
    }
    if let Some(e) = &f.eventid {
        if let Some(prefix) = e
            .strip_suffix('*')
            .or_else(|| e.ends_with('.').then_some(e.as_str()))
        {
            args.push(format!("{}%", prefix.replace('%', "")));
            sql.push_str(&format!(" AND eventid LIKE ?{}", args.len()));
        } else {
            args.push(e.clone());
            sql.push_str(&format!(" AND eventid = ?{}", args.len()));
        }
    }
    if let Some(ip) = &f.src_ip {
        args.push(ip.clone());
        sql.push_str(&format!(" AND src_ip = ?{}", args.len()));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", f.limit.max(1)));
    let params: Vec<Param> = args.iter().map(|a| Param::Text(a)).collect();
    let mut rows: Vec<EventRow> = db
        .rows(&sql, &params)?
        .into_iter()
        .map(|r| {
            let data = text(&r[5]);
            EventRow {
                id: r[0].as_i64().unwrap_or(0),
                timestamp: text(&r[1]),
                eventid: text(&r[2]),
                session: text(&r[3]),
                src_ip: text(&r[4]),
                data: serde_json::from_str(&data).unwrap_or(Value::String(data)),
            }
        })
        .collect();
    rows.reverse();
    Ok(rows)
}

/// A column's text ("" for null).
fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A column's text, if not null.
fn maybe(v: &Value) -> Option<String> {
    v.as_str().map(String::from)
}

/// One session, as the CLI shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionRow {
    pub session: String,
    pub start: String,
    pub end: Option<String>,
    pub src_ip: String,
    pub src_port: u16,
    pub dst_port: u16,
    /// The sensor (site or machine) that saw it.
    pub sensor: String,
    pub protocol: String,
    pub profile: Option<String>,
    pub arch: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub login_ok: bool,
    pub login_attempts: i64,
    pub commands: i64,
    pub downloads: i64,
    pub duration: Option<f64>,
    pub close_reason: Option<String>,
}

/// The most recent sessions (newest last), optionally from one source.
pub fn sessions(
    db: &dyn Db,
    src_ip: Option<&str>,
    limit: usize,
) -> anyhow::Result<Vec<SessionRow>> {
    let mut sql = String::from(
        "SELECT session, start, \"end\", src_ip, src_port, dst_port, protocol, profile, arch, username, password,
                login_ok, login_attempts, commands, downloads, duration, close_reason, sensor
         FROM sessions",
    );
    let mut args = Vec::new();
    if let Some(ip) = src_ip {
        sql.push_str(" WHERE src_ip = ?1");
        args.push(ip.to_string());
    }
    // Newest first; of two that started in the same microsecond, the
    // later session id (ids grow as sessions open).
    sql.push_str(&format!(
        " ORDER BY start DESC, session DESC LIMIT {}",
        limit.max(1)
    ));
    let params: Vec<Param> = args.iter().map(|a| Param::Text(a)).collect();
    let mut rows: Vec<SessionRow> = db
        .rows(&sql, &params)?
        .into_iter()
        .map(|r| SessionRow {
            session: text(&r[0]),
            start: text(&r[1]),
            end: maybe(&r[2]),
            src_ip: text(&r[3]),
            src_port: r[4].as_u64().unwrap_or(0) as u16,
            dst_port: r[5].as_u64().unwrap_or(0) as u16,
            protocol: text(&r[6]),
            profile: maybe(&r[7]),
            arch: maybe(&r[8]),
            username: maybe(&r[9]),
            password: maybe(&r[10]),
            login_ok: r[11].as_i64().unwrap_or(0) != 0,
            login_attempts: r[12].as_i64().unwrap_or(0),
            commands: r[13].as_i64().unwrap_or(0),
            downloads: r[14].as_i64().unwrap_or(0),
            duration: r[15].as_f64(),
            close_reason: maybe(&r[16]),
            sensor: text(&r[17]),
        })
        .collect();
    rows.reverse();
    Ok(rows)
}

/// The sessions a stopped process left open (killed, or the machine went
/// down), each closed by an `iotpot.session.closed` of reason
/// `interrupted` at its last event (its duration up to then; bytes
/// unknown, 0). Read from the store at start, before any new session.
pub fn interrupted(db: &dyn Db) -> anyhow::Result<Vec<iotpot_core::Event>> {
    let rows = db.rows(
        "SELECT s.session, s.start, s.src_ip, s.src_port, s.dst_ip, s.dst_port, s.sensor, s.protocol,
                (SELECT MAX(e.timestamp) FROM events e WHERE e.session = s.session)
         FROM sessions s WHERE s.\"end\" IS NULL ORDER BY s.start",
        &[],
    )?;
    let time = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap_or_default(),
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
    };
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let start = time(&r[1])?;
            let last = time(&r[8]).unwrap_or(start);
            Some(iotpot_core::Event {
                timestamp: last,
                session: text(&r[0]),
                src_ip: text(&r[2]).parse().ok()?,
                src_port: r[3].as_u64().unwrap_or(0) as u16,
                dst_ip: text(&r[4]).parse().ok()?,
                dst_port: r[5].as_u64().unwrap_or(0) as u16,
                sensor: text(&r[6]),
                protocol: text(&r[7]),
                spool_id: None,
                kind: iotpot_core::EventKind::SessionClosed {
                    duration: (last - start).as_seconds_f64().max(0.0),
                    reason: "interrupted".into(),
                    bytes_in: 0,
                    bytes_out: 0,
                },
            })
        })
        .collect())
}

/// One sample, as `iotpot samples` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SampleRow {
    pub sha256: String,
    pub size: i64,
    pub first_seen: String,
    pub last_seen: String,
    pub kind: Option<String>,
    pub arch: Option<String>,
    pub tags: Value,
    /// Distinct URLs (or `echo:<path>`) it came from.
    pub sources: Vec<String>,
    pub sessions: i64,
    pub triage: Value,
}

/// Samples, most recently seen last; `sha` selects one (a prefix is enough).
pub fn samples(db: &dyn Db, sha: Option<&str>, limit: usize) -> anyhow::Result<Vec<SampleRow>> {
    let mut sql = String::from(
        "SELECT s.sha256, s.size, s.first_seen, s.last_seen, s.kind, s.arch, s.tags, s.triage,
                (SELECT group_concat(source, '\n') FROM (SELECT DISTINCT source FROM sample_sources x WHERE x.sha256 = s.sha256) AS d),
                (SELECT count(DISTINCT session) FROM sample_sources x WHERE x.sha256 = s.sha256)
         FROM samples s",
    );
    let mut args = Vec::new();
    if let Some(p) = sha {
        sql.push_str(" WHERE s.sha256 LIKE ?1");
        args.push(format!(
            "{}%",
            p.to_ascii_lowercase().replace(['%', '_'], "")
        ));
    }
    sql.push_str(&format!(
        " ORDER BY s.last_seen DESC, s.sha256 DESC LIMIT {}",
        limit.max(1)
    ));
    let params: Vec<Param> = args.iter().map(|a| Param::Text(a)).collect();
    let mut rows: Vec<SampleRow> = db
        .rows(&sql, &params)?
        .into_iter()
        .map(|r| SampleRow {
            sha256: text(&r[0]),
            size: r[1].as_i64().unwrap_or(0),
            first_seen: text(&r[2]),
            last_seen: text(&r[3]),
            kind: maybe(&r[4]),
            arch: maybe(&r[5]),
            tags: serde_json::from_str(&text(&r[6])).unwrap_or(Value::Null),
            sources: maybe(&r[8])
                .map(|s| s.split('\n').map(str::to_string).collect())
                .unwrap_or_default(),
            sessions: r[9].as_i64().unwrap_or(0),
            triage: maybe(&r[7])
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null),
        })
        .collect();
    rows.reverse();
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{jsonl::JsonlSink, sqlite, sqlite::SqliteSink, Bus, Sink};
    use iotpot_core::{EventKind, SessionInfo};

    #[tokio::test(flavor = "current_thread")]
    async fn events_round_trip_through_both_sinks() {
        let dir = std::env::temp_dir().join(format!("iotpot-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("iotpot.db");
        let sinks: Vec<Box<dyn Sink>> = vec![
            Box::new(JsonlSink::open(&dir.join("events.jsonl")).unwrap()),
            Box::new(SqliteSink::open(&db).unwrap()),
        ];
        // A tiny queue: senders must wait, nothing may be lost.
        let (bus, tx) = Bus::start(sinks, 2, 3);
        let info = SessionInfo::new(
            "198.51.100.2:5555".parse().unwrap(),
            "127.0.0.1:2323".parse().unwrap(),
            "t".into(),
            "telnet",
        );
        tx.send(info.event(EventKind::SessionConnect {})).await;
        tx.send(info.event(EventKind::LoginFailed {
            username: "root".into(),
            password: "x".into(),
        }))
        .await;
        tx.send(info.event(EventKind::LoginSuccess {
            username: "root".into(),
            password: "xc3511".into(),
        }))
        .await;
        for i in 0..100 {
            tx.send(info.event(EventKind::CommandInput {
                input: format!("echo {i}"),
                known: true,
                output: format!("{i}\n"),
                output_size: i.to_string().len() as u64 + 1,
            }))
            .await;
        }
        tx.send(info.event(EventKind::SessionClosed {
            duration: 1.5,
            reason: "exit".into(),
            bytes_in: 1,
            bytes_out: 2,
        }))
        .await;
        drop(tx);
        bus.finish();
        let conn = sqlite::open_read(&db).unwrap();
        let all = events(
            &conn,
            &EventFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(all.len(), 104);
        assert_eq!(all[0].eventid, "iotpot.session.connect");
        assert_eq!(all[103].data["reason"], "exit");
        let logins = events(
            &conn,
            &EventFilter {
                eventid: Some("iotpot.login.*".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(logins.len(), 2);
        let s = sessions(&conn, None, 10).unwrap();
        assert_eq!(s.len(), 1);
        assert!(s[0].login_ok);
        assert_eq!(s[0].password.as_deref(), Some("xc3511"));
        assert_eq!(s[0].commands, 100);
        assert_eq!(s[0].login_attempts, 2);
        assert_eq!(s[0].close_reason.as_deref(), Some("exit"));
        let lines = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 104);
        let wal: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(wal, "wal");
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// One row of the table of answers learned from IoTBOX sandboxes: the
/// answer, and what the table knows of it.
#[derive(Debug, Clone)]
pub struct LearnedRow {
    pub learned: iotpot_core::answer::Learned,
    pub arch: String,
    pub first_seen: String,
    /// Times it was served from the table.
    pub hits: i64,
}

pub fn learned(conn: &Connection) -> anyhow::Result<Vec<LearnedRow>> {
    let mut st = conn.prepare(
        "SELECT profile, command, stdin_sha256, output, status, volatile, arch, first_seen, hits
         FROM learned ORDER BY profile, command",
    )?;
    let rows = st
        .query_map([], |r| {
            let stdin: String = r.get(2)?;
            Ok(LearnedRow {
                learned: iotpot_core::answer::Learned {
                    profile: r.get(0)?,
                    command: r.get(1)?,
                    stdin_sha256: (!stdin.is_empty()).then_some(stdin),
                    answer: iotpot_core::answer::Answer {
                        output: r.get(3)?,
                        status: r.get::<_, i64>(4)? as i32,
                    },
                    volatile: r.get::<_, i64>(5)? != 0,
                },
                arch: r.get(6)?,
                first_seen: r.get(7)?,
                hits: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The sample last fetched from `url`, or else the one last fetched from
/// another host with the same path (a dropper script names the server it
/// was fetched from; a sandbox may ask a different one for the same file).
pub fn sample_for_url(conn: &Connection, url: &str) -> anyhow::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    let exact = conn
        .query_row(
            "SELECT sha256 FROM sample_sources WHERE source = ?1 ORDER BY timestamp DESC LIMIT 1",
            [url],
            |r| r.get(0),
        )
        .optional()?;
    if exact.is_some() {
        return Ok(exact);
    }
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("");
    if path.len() < 2 {
        return Ok(None);
    }
    Ok(conn
        .query_row(
            "SELECT sha256 FROM sample_sources
             WHERE source LIKE 'http%' AND length(source) > length(?1)
               AND substr(source, -length(?1)) = ?1
               AND instr(substr(source, instr(source, '://') + 3), '/') = length(source) - length(?1) - instr(source, '://') - 1
             ORDER BY timestamp DESC LIMIT 1",
            [path],
            |r| r.get(0),
        )
        .optional()?)
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn samples_by_url_then_by_path() {
        let dir = std::env::temp_dir().join(format!("iotpot-url-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conn = crate::sqlite::open(&dir.join("t.db")).unwrap();
        for (sha, source, ts) in [
            ("aa", "http://198.51.100.1/bins/mips", "2026-01-01"),
            ("bb", "http://198.51.100.2:8080/bins/mips", "2026-01-02"),
            ("cc", "http://198.51.100.3/x/bins/arm", "2026-01-03"),
            ("dd", "echo:/bins/arm", "2026-01-04"),
        ] {
            conn.execute(
                "INSERT INTO sample_sources (sha256, source, session, src_ip, timestamp) VALUES (?1, ?2, 's', '1', ?3)",
                [sha, source, ts],
            )
            .unwrap();
        }
        let get = |u: &str| sample_for_url(&conn, u).unwrap();
        assert_eq!(get("http://198.51.100.1/bins/mips").as_deref(), Some("aa"));
        // Another host, the same path: the newest.
        assert_eq!(get("http://203.0.113.9/bins/mips").as_deref(), Some("bb"));
        // A path is matched whole, never as a suffix of a longer one.
        assert_eq!(get("http://203.0.113.9/bins/arm"), None);
        assert_eq!(get("http://203.0.113.9/x/bins/arm").as_deref(), Some("cc"));
        assert_eq!(get("http://203.0.113.9/"), None);
        assert_eq!(get("http://203.0.113.9/%"), None);
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// A host the profiler scanned: its latest verdict.
#[derive(Debug, Clone)]
pub struct ScannedHost {
    pub addr: String,
    pub scan: String,
    pub scanned: String,
    pub verdict: iotpot_core::profiler::Verdict,
}

/// Every scanned host's latest verdict, newest first. A database older
/// than the profiler has none.
pub fn scanned_hosts(conn: &Connection) -> anyhow::Result<Vec<ScannedHost>> {
    if !has_table(conn, "profiler_hosts")? {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare(
        "SELECT addr, scan, scanned, verdict FROM profiler_hosts ORDER BY scanned DESC, addr",
    )?;
    let rows = st
        .query_map([], |r| {
            let verdict: String = r.get(3)?;
            Ok(ScannedHost {
                addr: r.get(0)?,
                scan: r.get(1)?,
                scanned: r.get(2)?,
                verdict: serde_json::from_str(&verdict).unwrap_or_default(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The grabs of one scan, by port.
pub fn scan_grabs(
    conn: &Connection,
    scan: &str,
) -> anyhow::Result<Vec<iotpot_core::profiler::Grab>> {
    let mut st = conn.prepare("SELECT grab FROM profiler_grabs WHERE scan = ?1 ORDER BY port")?;
    let rows = st
        .query_map([scan], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .iter()
        .filter_map(|g| serde_json::from_str(g).ok())
        .collect())
}

fn has_table(conn: &Connection, name: &str) -> anyhow::Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

/// What one exploit trap caught, as `iotpot exploits` shows it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExploitCaught {
    pub profile: String,
    pub trap: String,
    pub cves: Vec<String>,
    /// Requests that reached it.
    pub hits: i64,
    /// Distinct source addresses.
    pub sources: i64,
    /// Distinct samples downloaded in the sessions that reached it.
    pub samples: i64,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// Every trap that was reached, by profile and trap.
pub fn exploits_caught(db: &dyn Db) -> anyhow::Result<Vec<ExploitCaught>> {
    let hits = db.rows(
        "SELECT json_extract(data, '$.profile') AS profile, json_extract(data, '$.trap') AS trap,
                max(CAST(json_extract(data, '$.cves') AS TEXT)), count(*), count(DISTINCT src_ip),
                min(timestamp), max(timestamp)
         FROM events WHERE eventid = 'iotpot.exploit.hit'
         GROUP BY json_extract(data, '$.profile'), json_extract(data, '$.trap')
         ORDER BY 1, 2",
        &[],
    )?;
    let samples = db.rows(
        "SELECT h.profile, h.trap, count(DISTINCT json_extract(d.data, '$.shasum'))
         FROM (SELECT DISTINCT session, json_extract(data, '$.profile') AS profile,
                      json_extract(data, '$.trap') AS trap
               FROM events WHERE eventid = 'iotpot.exploit.hit') AS h
         JOIN events d ON d.session = h.session AND d.eventid = 'iotpot.download.success'
         GROUP BY h.profile, h.trap",
        &[],
    )?;
    Ok(hits
        .into_iter()
        .map(|r| {
            let (profile, trap) = (text(&r[0]), text(&r[1]));
            let samples = samples
                .iter()
                .find(|s| text(&s[0]) == profile && text(&s[1]) == trap)
                .and_then(|s| s[2].as_i64())
                .unwrap_or(0);
            ExploitCaught {
                cves: maybe(&r[2])
                    .and_then(|c| serde_json::from_str(&c).ok())
                    .unwrap_or_default(),
                hits: r[3].as_i64().unwrap_or(0),
                sources: r[4].as_i64().unwrap_or(0),
                samples,
                first: maybe(&r[5]),
                last: maybe(&r[6]),
                profile,
                trap,
            }
        })
        .collect())
}

/// What the traps answering one CVE caught: hits, distinct sources and
/// distinct samples downloaded in those sessions. `cve` empty: the traps
/// of holes without a CVE.
pub fn exploits_for_cve(db: &dyn Db, cve: &str) -> anyhow::Result<(i64, i64, i64)> {
    let (filter, needle) = if cve.is_empty() {
        (
            "CAST(json_extract(data, '$.cves') AS TEXT) = ?",
            "[]".to_string(),
        )
    } else {
        (
            "instr(CAST(json_extract(data, '$.cves') AS TEXT), ?) > 0",
            format!("\"{cve}\""),
        )
    };
    let params = [Param::Text(&needle)];
    let hits = db.rows(
        &format!(
            "SELECT count(*), count(DISTINCT src_ip) FROM events
             WHERE eventid = 'iotpot.exploit.hit' AND {filter}"
        ),
        &params,
    )?;
    let samples = db.one(
        &format!(
            "SELECT count(DISTINCT json_extract(d.data, '$.shasum'))
             FROM (SELECT DISTINCT session FROM events
                   WHERE eventid = 'iotpot.exploit.hit' AND {filter}) AS h
             JOIN events d ON d.session = h.session AND d.eventid = 'iotpot.download.success'"
        ),
        &params,
    )?;
    let row = hits.first();
    let at = |i: usize| row.and_then(|r| r[i].as_i64()).unwrap_or(0);
    Ok((at(0), at(1), samples.and_then(|v| v.as_i64()).unwrap_or(0)))
}
