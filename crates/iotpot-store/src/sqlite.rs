//! `iotpot.db`: SQLite in WAL mode, written in batched transactions.
//!
//! Two tables: `events` (every event, its JSON in `data`) and `sessions` (one
//! row per connection, kept current as its events arrive). The schema is
//! versioned with `PRAGMA user_version`; [`MIGRATIONS`] only ever grows.

use crate::Sink;
use iotpot_core::Event;
pub use rusqlite::Connection;
use rusqlite::OpenFlags;
use std::path::Path;

/// Schema migrations; entry `i` takes the database from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: events and sessions.
    "CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        timestamp TEXT NOT NULL,
        eventid TEXT NOT NULL,
        session TEXT NOT NULL,
        src_ip TEXT NOT NULL,
        protocol TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX events_session ON events(session);
    CREATE TABLE sessions (
        session TEXT PRIMARY KEY,
        start TEXT NOT NULL,
        end TEXT,
        src_ip TEXT NOT NULL,
        src_port INTEGER NOT NULL,
        dst_ip TEXT NOT NULL,
        dst_port INTEGER NOT NULL,
        sensor TEXT NOT NULL,
        protocol TEXT NOT NULL,
        profile TEXT,
        arch TEXT,
        username TEXT,
        password TEXT,
        login_ok INTEGER NOT NULL DEFAULT 0,
        login_attempts INTEGER NOT NULL DEFAULT 0,
        commands INTEGER NOT NULL DEFAULT 0,
        downloads INTEGER NOT NULL DEFAULT 0,
        duration REAL,
        close_reason TEXT
    );
    CREATE INDEX sessions_start ON sessions(start);
    CREATE INDEX sessions_src ON sessions(src_ip);",
    // 2: samples and where each came from.
    "CREATE TABLE samples (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        kind TEXT,
        arch TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        triage TEXT
    );
    CREATE TABLE sample_sources (
        sha256 TEXT NOT NULL,
        source TEXT NOT NULL,
        session TEXT NOT NULL,
        src_ip TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        outfile TEXT
    );
    CREATE INDEX sample_sources_sha ON sample_sources(sha256);",
    // 3: the script a followed download was found in.
    "ALTER TABLE sample_sources ADD COLUMN parent TEXT;",
    // 4: answers learned from IoTBOX sandboxes.
    "CREATE TABLE learned (
        profile TEXT NOT NULL,
        command TEXT NOT NULL,
        stdin_sha256 TEXT NOT NULL DEFAULT '',
        output BLOB NOT NULL,
        status INTEGER NOT NULL,
        volatile INTEGER NOT NULL,
        arch TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (profile, command, stdin_sha256)
    );",
    // 5: the profiler's scans of attacking hosts: every grab, and each
    // host's latest verdict.
    "CREATE TABLE profiler_grabs (
        scan TEXT NOT NULL,
        addr TEXT NOT NULL,
        port INTEGER NOT NULL,
        timestamp TEXT NOT NULL,
        state TEXT NOT NULL,
        service TEXT NOT NULL,
        raw BLOB NOT NULL,
        grab TEXT NOT NULL
    );
    CREATE INDEX profiler_grabs_addr ON profiler_grabs(addr);
    CREATE TABLE profiler_hosts (
        addr TEXT PRIMARY KEY,
        scan TEXT NOT NULL,
        scanned TEXT NOT NULL,
        reachable INTEGER NOT NULL,
        device TEXT,
        vendor TEXT,
        product TEXT,
        os TEXT,
        infected TEXT,
        verdict TEXT NOT NULL
    );",
    // 6: events a sensor recorded on its own (degraded mode), replayed:
    // stored once whatever how many times they arrive.
    "ALTER TABLE events ADD COLUMN spool_id TEXT;
    CREATE UNIQUE INDEX events_spool_id ON events(spool_id);",
    // 7: for reports: rollups and indexes (`rollup.rs`).
    crate::rollup::SCHEMA,
    // 8: totals for the dashboard (`rollup.rs`), from the rollups so far.
    crate::rollup::TOTALS,
    // 9: the sessions still open, for the dashboard's live list (a small
    // index: a session leaves it when it closes).
    "CREATE INDEX sessions_open ON sessions(start) WHERE end IS NULL;",
    // 10: only replayed events have a spool id: the index holds them alone
    // (a NULL entry per local event was one more B-tree insert each).
    "DROP INDEX events_spool_id;
    CREATE UNIQUE INDEX events_spool_id ON events(spool_id) WHERE spool_id IS NOT NULL;",
    // 11: the 53413 section's busiest sources, each one's kinds.
    "CREATE INDEX netis_days_src ON netis_days(src_ip);",
    // 12: exploit traps reached (`iotpot exploits`): a small index, of
    // those events alone.
    "CREATE INDEX events_exploit_hits ON events(session) WHERE eventid = 'iotpot.exploit.hit';",
];

/// Open (creating and migrating) the database for writing.
pub fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // A large page cache and memory-mapped reads keep index updates off the
    // disk path at tens of thousands of events per second.
    conn.pragma_update(None, "cache_size", -8_192)?;
    conn.pragma_update(None, "mmap_size", 268_435_456)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Checkpoint every 1,000 WAL pages (SQLite's default): about 4 MiB
    // written and synced at a time. At 8,192 pages each sync was 32 MiB
    // and took 65-105 ms on the project's VM, and every session in
    // progress stalled with it (disk writes there cost CPU the guest does
    // not see): the p99 of `bench telnet` at c=50 fell from 23-26 to
    // 16-19 ms, at the same throughput and CPU (docs/performance.md).
    conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Every statement the writer runs per batch stays prepared (events,
    // sessions, samples, the rollups: more than rusqlite's default 16,
    // which made each batch prepare some of them again).
    conn.set_prepared_statement_cache_capacity(64);
    migrate(&conn)?;
    Ok(conn)
}

/// Open an existing database read-only (for the CLI).
pub fn open_read(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

pub fn migrate(conn: &Connection) -> anyhow::Result<()> {
    let version: usize =
        conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    if version > MIGRATIONS.len() {
        anyhow::bail!(
            "database schema version {version} is newer than this iotpot knows ({}); upgrade iotpot",
            MIGRATIONS.len()
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "database schema migrated");
    }
    Ok(())
}

pub struct SqliteSink {
    conn: Connection,
    /// The batch in progress: its transaction is open and its first
    /// events are in; or the error that ended it.
    staged: Option<anyhow::Result<crate::write::Staged>>,
}

impl SqliteSink {
    pub fn open(path: &Path) -> anyhow::Result<SqliteSink> {
        Ok(SqliteSink {
            conn: open(path)?,
            staged: None,
        })
    }

    fn begin(&mut self) -> anyhow::Result<crate::write::Staged> {
        match self.staged.take() {
            Some(staged) => staged,
            None => {
                // The write lock at once: the reads in the batch must not
                // go stale.
                self.conn.execute_batch("BEGIN IMMEDIATE")?;
                Ok(crate::write::Staged::default())
            }
        }
    }

    fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl Sink for SqliteSink {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn stage(&mut self, events: &[Event], json: &[String]) {
        let staged = self.begin().and_then(|mut staged| {
            crate::write::stage(&self.conn, &mut staged, events, json)?;
            Ok(staged)
        });
        if staged.is_err() {
            self.rollback();
        }
        self.staged = Some(staged);
    }

    fn write(&mut self, events: &[Event], json: &[String]) -> anyhow::Result<()> {
        let done = self.begin().and_then(|staged| {
            crate::write::finish(&self.conn, staged, events, json)?;
            self.conn.execute_batch("COMMIT")?;
            Ok(())
        });
        if done.is_err() {
            self.rollback();
        }
        done
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sink;
    use iotpot_core::{EventKind, SessionInfo};

    /// Three interleaved sessions (connect, params, a failed and a good
    /// login, commands, close), and one event replayed from a spool.
    fn sessions() -> Vec<Event> {
        let infos: Vec<SessionInfo> = (0..3)
            .map(|i| SessionInfo {
                src: format!("192.0.2.{}:4{i}000", i + 1).parse().unwrap(),
                ..SessionInfo::default()
            })
            .map(|mut s| {
                s.session = format!("{}{}", s.session, s.src.port());
                s
            })
            .collect();
        let mut events = Vec::new();
        for step in 0..6 {
            for (i, info) in infos.iter().enumerate() {
                events.push(info.event(match step {
                    0 => EventKind::SessionConnect {},
                    1 => EventKind::SessionParams {
                        profile: "dvr-xiongmai".into(),
                        arch: "armhf".into(),
                        device_type: "DVR".into(),
                    },
                    2 => EventKind::LoginFailed {
                        username: "root".into(),
                        password: format!("guess{i}"),
                    },
                    3 => EventKind::LoginSuccess {
                        username: "root".into(),
                        password: "xc3511".into(),
                    },
                    4 => EventKind::CommandInput {
                        input: format!("/bin/busybox ECCHI{i}"),
                        known: false,
                        output: String::new(),
                        output_size: 0,
                    },
                    _ => EventKind::SessionClosed {
                        duration: 0.5,
                        reason: "client".into(),
                        bytes_in: 40,
                        bytes_out: 300,
                    },
                }));
            }
        }
        let mut replayed = infos[0].event(EventKind::CommandInput {
            input: "echo replayed".into(),
            known: true,
            output: "replayed\n".into(),
            output_size: 9,
        });
        replayed.spool_id = Some(format!("{:032x}", 7));
        events.insert(7, replayed);
        events
    }

    /// What a batch leaves in the tables a user and the reports read.
    fn tables(path: &Path) -> Vec<String> {
        let conn = open_read(path).unwrap();
        let mut out = Vec::new();
        for sql in [
            "SELECT timestamp, eventid, session, src_ip, protocol, data, spool_id FROM events ORDER BY id",
            "SELECT * FROM sessions ORDER BY session",
            "SELECT * FROM cred_days",
            "SELECT * FROM event_days",
            "SELECT * FROM attacker_days",
            "SELECT * FROM session_days",
            "SELECT * FROM rollup_state",
        ] {
            let mut stmt = conn.prepare(sql).unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")))
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap();
            for row in rows {
                out.push(format!("{sql}: {}", row.unwrap().join("|")));
            }
        }
        out
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("iotpot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_batch_staged_in_parts_stores_what_one_write_stores() {
        let dir = scratch("staged");
        let events = sessions();
        let json: Vec<String> = events.iter().map(Event::to_json).collect();
        let (whole, parts) = (dir.join("whole.db"), dir.join("parts.db"));
        for path in [&whole, &parts] {
            let mut sink = SqliteSink::open(path).unwrap();
            // The replayed event is stored already: the batch must not
            // count it again, staged or not.
            sink.write(&events[7..8], &json[7..8]).unwrap();
            if path == &parts {
                sink.stage(&events[..5], &json[..5]);
                sink.stage(&events[5..12], &json[5..12]);
            }
            sink.write(&events, &json).unwrap();
        }
        let (a, b) = (tables(&whole), tables(&parts));
        assert!(
            a.iter().filter(|r| r.contains("FROM events")).count() == events.len(),
            "every event once: {a:#?}"
        );
        assert!(
            a.iter().any(|r| r.contains("FROM cred_days")),
            "rolled up: {a:#?}"
        );
        assert_eq!(a, b);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_stage_that_fails_fails_its_whole_batch_and_not_the_next() {
        let dir = scratch("stage-fails");
        let path = dir.join("t.db");
        let events = sessions();
        let json: Vec<String> = events.iter().map(Event::to_json).collect();
        let mut sink = SqliteSink::open(&path).unwrap();
        sink.conn
            .busy_timeout(std::time::Duration::from_millis(10))
            .unwrap();
        // Another writer holds the database: the stage cannot begin.
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        sink.stage(&events[..6], &json[..6]);
        other.execute_batch("COMMIT").unwrap();
        let err = sink.write(&events[..12], &json[..12]).unwrap_err();
        assert!(err.to_string().contains("locked"), "{err:#}");
        // None of that batch is stored, not even its unstaged rest.
        let count = |conn: &Connection| -> i64 {
            conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(count(&open_read(&path).unwrap()), 0);
        // The next batch is written whole.
        sink.stage(&events[12..15], &json[12..15]);
        sink.write(&events[12..], &json[12..]).unwrap();
        assert_eq!(
            count(&open_read(&path).unwrap()),
            (events.len() - 12) as i64
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_replayed_event_is_stored_once_however_often_it_comes() {
        let dir = std::env::temp_dir().join(format!("iotpot-spool-db-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let _ = std::fs::remove_file(&path);
        let mut sink = SqliteSink::open(&path).unwrap();
        let info = SessionInfo::default();
        let mut spooled = vec![
            info.event(EventKind::SessionConnect {}),
            info.event(EventKind::CommandInput {
                input: "echo once".into(),
                known: true,
                output: "once\n".into(),
                output_size: 5,
            }),
        ];
        for (i, e) in spooled.iter_mut().enumerate() {
            e.spool_id = Some(format!("{i:032x}"));
        }
        // Local events (no spool id) are never taken for one another.
        let local = vec![info.event(EventKind::CommandInput {
            input: "echo local".into(),
            known: true,
            output: "local\n".into(),
            output_size: 6,
        })];
        for batch in [&spooled, &local, &spooled, &local] {
            let json: Vec<String> = batch.iter().map(Event::to_json).collect();
            sink.write(batch, &json).unwrap();
        }
        let conn = open_read(&path).unwrap();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            count("SELECT count(*) FROM events WHERE spool_id IS NOT NULL"),
            2
        );
        assert_eq!(
            count("SELECT count(*) FROM events WHERE spool_id IS NULL"),
            2
        );
        // The session's counts took the replayed events once.
        assert_eq!(count("SELECT commands FROM sessions"), 3);
        std::fs::remove_dir_all(&dir).ok();
    }
}
