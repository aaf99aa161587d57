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
    CREATE INDEX events_eventid ON events(eventid);
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
];

/// Open (creating and migrating) the database for writing.
pub fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    migrate(&conn)?;
    Ok(conn)
}

/// Open an existing database read-only (for the CLI).
pub fn open_read(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

pub fn migrate(conn: &Connection) -> anyhow::Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
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
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (timestamp, eventid, session, src_ip, protocol, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (e, j) in events.iter().zip(json) {
                let ts = iotpot_core::event::timestamp::format(&e.timestamp);
                insert.execute(params![ts, e.kind.eventid(), e.session, e.src_ip.to_string(), e.protocol, j])?;
                update_session(&tx, e, &ts)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

fn update_session(tx: &rusqlite::Transaction, e: &Event, ts: &str) -> rusqlite::Result<()> {
    match &e.kind {
        EventKind::SessionConnect {} => {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO sessions (session, start, src_ip, src_port, dst_ip, dst_port, sensor, protocol)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                e.session,
                ts,
                e.src_ip.to_string(),
                e.src_port,
                e.dst_ip.to_string(),
                e.dst_port,
                e.sensor,
                e.protocol
            ])?;
        }
        EventKind::SessionParams { profile, arch, .. } => {
            tx.prepare_cached("UPDATE sessions SET profile = ?2, arch = ?3 WHERE session = ?1")?
                .execute(params![e.session, profile, arch])?;
        }
        EventKind::LoginSuccess { username, password } => {
            tx.prepare_cached(
                "UPDATE sessions SET username = ?2, password = ?3, login_ok = 1, login_attempts = login_attempts + 1 WHERE session = ?1",
            )?
            .execute(params![e.session, username, password])?;
        }
        EventKind::LoginFailed { username, password } => {
            tx.prepare_cached(
                "UPDATE sessions SET username = ?2, password = ?3, login_attempts = login_attempts + 1 WHERE session = ?1 AND login_ok = 0",
            )?
            .execute(params![e.session, username, password])?;
        }
        EventKind::CommandInput { .. } => {
            tx.prepare_cached("UPDATE sessions SET commands = commands + 1 WHERE session = ?1")?
                .execute(params![e.session])?;
        }
        EventKind::DownloadRequested { .. } => {
            tx.prepare_cached("UPDATE sessions SET downloads = downloads + 1 WHERE session = ?1")?
                .execute(params![e.session])?;
        }
        EventKind::SessionClosed { duration, reason, .. } => {
            tx.prepare_cached("UPDATE sessions SET end = ?2, duration = ?3, close_reason = ?4 WHERE session = ?1")?
                .execute(params![e.session, ts, duration, reason])?;
        }
        _ => {}
    }
    Ok(())
}
