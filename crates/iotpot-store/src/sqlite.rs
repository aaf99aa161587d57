//! `iotpot.db`: SQLite in WAL mode, written in batched transactions.
//!
//! Two tables: `events` (every event, its JSON in `data`) and `sessions` (one
//! row per connection, kept current as its events arrive). The schema is
//! versioned with `PRAGMA user_version`; [`MIGRATIONS`] only ever grows.

use crate::Sink;
use iotpot_core::{Event, EventKind};
pub use rusqlite::Connection;
use rusqlite::{params, OpenFlags};
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
    conn.pragma_update(None, "wal_autocheckpoint", 8192)?;
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
}

impl SqliteSink {
    pub fn open(path: &Path) -> anyhow::Result<SqliteSink> {
        Ok(SqliteSink { conn: open(path)? })
    }
}

impl Sink for SqliteSink {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn write(&mut self, events: &[Event], json: &[String]) -> anyhow::Result<()> {
        // The write lock at once: the reads below must not go stale.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            // The rollups are current (every stored event counted): this
            // batch is counted as it is written, and they stay current.
            let last_id: i64 = tx
                .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM events")?
                .query_row([], |r| r.get(0))?;
            let rolled: i64 = tx
                .prepare_cached("SELECT last_id FROM rollup_state WHERE name = 'events'")?
                .query_row([], |r| r.get(0))?;
            let mut rollup = (rolled == last_id).then(crate::rollup::Batch::default);
            // A replayed event already stored (its spool id is known)
            // changes nothing: not its row, not its session's.
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (timestamp, eventid, session, src_ip, protocol, data, spool_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(spool_id) WHERE spool_id IS NOT NULL DO NOTHING",
            )?;
            // One statement per session per batch, not one per event.
            let mut deltas: Vec<SessionDelta> = Vec::new();
            let mut index: std::collections::HashMap<&str, usize> =
                std::collections::HashMap::new();
            for (e, j) in events.iter().zip(json) {
                let ts = iotpot_core::event::timestamp::format(&e.timestamp);
                let added = insert.execute(params![
                    ts,
                    e.kind.eventid(),
                    e.session,
                    iotpot_core::event::ip_text::format(&e.src_ip),
                    e.protocol,
                    j,
                    e.spool_id
                ])?;
                if added == 0 {
                    continue;
                }
                let i = *index.entry(e.session.as_str()).or_insert_with(|| {
                    deltas.push(SessionDelta::default());
                    deltas.len() - 1
                });
                sample_rows(&tx, e, &ts)?;
                learned_rows(&tx, e, &ts)?;
                profiler_rows(&tx, e, &ts)?;
                if let Some(r) = rollup.as_mut() {
                    r.add(e, &ts);
                }
                deltas[i].add(e, ts);
            }
            for d in &deltas {
                d.apply(&tx)?;
            }
            if let Some(r) = rollup {
                r.apply(&tx)?;
                tx.prepare_cached(
                    "UPDATE rollup_state SET last_id = (SELECT COALESCE(MAX(id), 0) FROM events) WHERE name = 'events'",
                )?
                .execute([])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Keep the `samples` and `sample_sources` tables current.
fn sample_rows(tx: &rusqlite::Transaction, e: &Event, ts: &str) -> rusqlite::Result<()> {
    let upsert = |sha: &str, size: u64| -> rusqlite::Result<()> {
        tx.prepare_cached(
            "INSERT INTO samples (sha256, size, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(sha256) DO UPDATE SET last_seen = ?3",
        )?
        .execute(params![sha, size as i64, ts])?;
        Ok(())
    };
    let source = |sha: &str,
                  src: &str,
                  outfile: Option<&str>,
                  parent: Option<&str>|
     -> rusqlite::Result<()> {
        tx.prepare_cached(
            "INSERT INTO sample_sources (sha256, source, session, src_ip, timestamp, outfile, parent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![sha, src, e.session, iotpot_core::event::ip_text::format(&e.src_ip), ts, outfile, parent])?;
        Ok(())
    };
    match &e.kind {
        EventKind::DownloadSuccess {
            url,
            outfile,
            shasum,
            size,
            parent,
            ..
        } => {
            upsert(shasum, *size)?;
            source(shasum, url, Some(outfile), parent.as_deref())?;
        }
        EventKind::SampleTriaged {
            shasum,
            size,
            kind,
            arch,
            tags,
            source: src,
            triage,
        } => {
            upsert(shasum, *size)?;
            let tags = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
            tx.prepare_cached(
                "UPDATE samples SET kind = ?2, arch = ?3, triage = ?4, tags = ?5 WHERE sha256 = ?1",
            )?
            .execute(params![shasum, kind, arch, triage.to_string(), tags])?;
            if let Some(path) = src.strip_prefix("echo:") {
                source(shasum, src, Some(path), None)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Keep the `learned` table current: new answers, and how often each was
/// served from the table.
fn learned_rows(tx: &rusqlite::Transaction, e: &Event, ts: &str) -> rusqlite::Result<()> {
    let EventKind::IotboxAnswer {
        profile,
        command,
        stdin_sha256,
        source,
        arch,
        status,
        output,
        learned,
        volatile,
        ..
    } = &e.kind
    else {
        return Ok(());
    };
    let stdin = stdin_sha256.as_deref().unwrap_or("");
    if source == "learned" {
        tx.prepare_cached(
            "UPDATE learned SET hits = hits + 1 WHERE profile = ?1 AND command = ?2 AND stdin_sha256 = ?3",
        )?
        .execute(params![profile, command, stdin])?;
    } else if *learned || *volatile {
        let bytes = hex::decode(output).unwrap_or_default();
        tx.prepare_cached(
            "INSERT INTO learned (profile, command, stdin_sha256, output, status, volatile, arch, first_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(profile, command, stdin_sha256) DO UPDATE SET output = ?4, status = ?5, volatile = ?6",
        )?
        .execute(params![profile, command, stdin, bytes, status, *volatile as i64, arch, ts])?;
    }
    Ok(())
}

/// Keep the profiler's tables current: a row per grab (its raw bytes as a
/// blob), and each host's latest verdict.
fn profiler_rows(tx: &rusqlite::Transaction, e: &Event, ts: &str) -> rusqlite::Result<()> {
    let addr = || iotpot_core::event::ip_text::format(&e.src_ip);
    match &e.kind {
        EventKind::ProfilerGrab { grab } => {
            tx.prepare_cached(
                "INSERT INTO profiler_grabs (scan, addr, port, timestamp, state, service, raw, grab)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                e.session,
                addr(),
                grab.port,
                ts,
                grab.state,
                grab.service,
                grab.raw_bytes(),
                serde_json::to_string(grab).unwrap_or_default()
            ])?;
        }
        EventKind::ProfilerVerdict { verdict } => {
            tx.prepare_cached(
                "INSERT INTO profiler_hosts (addr, scan, scanned, reachable, device, vendor, product, os, infected, verdict)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(addr) DO UPDATE SET scan = ?2, scanned = ?3, reachable = ?4, device = ?5,
                   vendor = ?6, product = ?7, os = ?8, infected = ?9, verdict = ?10",
            )?
            .execute(params![
                addr(),
                e.session,
                ts,
                verdict.reachable,
                verdict.device,
                verdict.vendor,
                verdict.product,
                verdict.os,
                verdict.infected,
                serde_json::to_string(verdict).unwrap_or_default()
            ])?;
        }
        _ => {}
    }
    Ok(())
}

/// What one batch says about one session.
#[derive(Default)]
struct SessionDelta<'a> {
    connect: Option<(&'a Event, String)>,
    session: Option<&'a str>,
    profile: Option<&'a str>,
    arch: Option<&'a str>,
    /// Success credentials, or the last failed ones.
    creds: Option<(&'a str, &'a str)>,
    login_ok: bool,
    attempts: i64,
    commands: i64,
    downloads: i64,
    closed: Option<(String, f64, &'a str)>,
}

impl<'a> SessionDelta<'a> {
    fn add(&mut self, e: &'a Event, ts: String) {
        self.session = Some(&e.session);
        match &e.kind {
            EventKind::SessionConnect {} => self.connect = Some((e, ts)),
            EventKind::SessionParams { profile, arch, .. } => {
                self.profile = Some(profile);
                self.arch = Some(arch);
            }
            EventKind::LoginSuccess { username, password } => {
                self.creds = Some((username, password));
                self.login_ok = true;
                self.attempts += 1;
            }
            EventKind::LoginFailed { username, password } => {
                if !self.login_ok {
                    self.creds = Some((username, password));
                }
                self.attempts += 1;
            }
            EventKind::CommandInput { .. } => self.commands += 1,
            EventKind::DownloadRequested { .. } => self.downloads += 1,
            EventKind::SessionClosed {
                duration, reason, ..
            } => self.closed = Some((ts, *duration, reason)),
            _ => {}
        }
    }

    fn apply(&self, tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
        let Some(session) = self.session else {
            return Ok(());
        };
        let (user, pass) = self.creds.unzip();
        let (end, duration, reason) = match &self.closed {
            Some((ts, d, r)) => (Some(ts.as_str()), Some(*d), Some(*r)),
            None => (None, None, None),
        };
        if let Some((e, ts)) = &self.connect {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO sessions (session, start, src_ip, src_port, dst_ip, dst_port, sensor, protocol,
                   profile, arch, username, password, login_ok, login_attempts, commands, downloads, end, duration, close_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            )?
            .execute(params![
                session,
                ts,
                iotpot_core::event::ip_text::format(&e.src_ip),
                e.src_port,
                iotpot_core::event::ip_text::format(&e.dst_ip),
                e.dst_port,
                e.sensor,
                e.protocol,
                self.profile,
                self.arch,
                user,
                pass,
                self.login_ok,
                self.attempts,
                self.commands,
                self.downloads,
                end,
                duration,
                reason
            ])?;
            return Ok(());
        }
        tx.prepare_cached(
            "UPDATE sessions SET
               profile = COALESCE(?2, profile),
               arch = COALESCE(?3, arch),
               username = CASE WHEN ?6 OR (login_ok = 0 AND ?4 IS NOT NULL) THEN ?4 ELSE username END,
               password = CASE WHEN ?6 OR (login_ok = 0 AND ?4 IS NOT NULL) THEN ?5 ELSE password END,
               login_ok = MAX(login_ok, ?6),
               login_attempts = login_attempts + ?7,
               commands = commands + ?8,
               downloads = downloads + ?9,
               end = COALESCE(?10, end),
               duration = COALESCE(?11, duration),
               close_reason = COALESCE(?12, close_reason)
             WHERE session = ?1",
        )?
        .execute(params![
            session,
            self.profile,
            self.arch,
            user,
            pass,
            self.login_ok,
            self.attempts,
            self.commands,
            self.downloads,
            end,
            duration,
            reason
        ])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sink;
    use iotpot_core::{EventKind, SessionInfo};

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
