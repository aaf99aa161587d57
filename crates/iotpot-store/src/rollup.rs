//! Rollups for reports: what the report's heaviest figures need, so that
//! a report over ten million events reads a few small tables. The event
//! writer keeps them as it stores each batch ([`Batch`]: counted in
//! memory, one upsert per distinct key, in the batch's transaction), as
//! long as they were current when the batch began; events it did not roll
//! up (a store written by an older iotpot) are rolled up here, in
//! set-based SQL steps over the `events` table. Either way an event is
//! counted once: `rollup_state.last_id` is the last event id counted (an
//! event replayed from a sensor's spool, dated in the past, is a new id
//! and is counted). The tables:
//!
//! - `attacker_days` / `attacker_weeks` / `attacker_months`: which
//!   addresses attacked (a session or a 53413 datagram) in which period;
//!   `attacker_first`: each address's first time.
//! - `cred_days`: login attempts and successes per day and pair;
//!   `cred_first`: each pair's first attempt.
//! - `event_days`: events per day, event id and kind (a 53413 datagram's
//!   kind; `known` or `unknown` for a command line; `config file` for a
//!   device's config file served).
//! - `cred_profiles`: successful logins per day, profile and pair;
//!   `session_days`: sessions per day, sensor and profile; `netis_days`:
//!   53413 datagrams per day, source, kind and length.
//!
//! - `attacker_counts`: per day, week and month, the addresses that
//!   attacked (`n`) and those first seen then (`new`); `cred_totals` and
//!   `cred_profile_totals`: the same as `cred_days` and `cred_profiles`
//!   over all time — what a report of everything (the dashboard's default)
//!   reads without scanning a row per day.
//!
//! For a backlog, `iotpot run` has a thread of its own ([`keep_up`]: every
//! few seconds, in short transactions) and `iotpot report` rolls up what is
//! left before it reads.

mod batch;

pub use batch::Batch;
use rusqlite::Connection;

/// The tables (schema migration 7), and the rarer events a report lists,
/// each kind indexed by time (partial indexes: the events of a Telnet
/// session pay nothing for them).
pub const SCHEMA: &str = "
    CREATE INDEX events_analysis ON events(timestamp) WHERE eventid = 'iotpot.analysis.report';
    CREATE INDEX events_honeytoken ON events(timestamp) WHERE eventid = 'iotpot.honeytoken.used';
    CREATE INDEX events_video ON events(timestamp) WHERE eventid = 'iotpot.video.stopped';
    CREATE INDEX events_iotbox ON events(timestamp) WHERE eventid = 'iotpot.iotbox.answer';
    CREATE INDEX events_anomaly ON events(timestamp) WHERE eventid = 'iotpot.packet.anomaly';
    CREATE INDEX sample_sources_time ON sample_sources(timestamp);
    CREATE TABLE rollup_state (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
    INSERT INTO rollup_state VALUES ('events', 0);
    CREATE TABLE attacker_days (day TEXT NOT NULL, src_ip TEXT NOT NULL, PRIMARY KEY (day, src_ip)) WITHOUT ROWID;
    CREATE TABLE attacker_weeks (week TEXT NOT NULL, src_ip TEXT NOT NULL, PRIMARY KEY (week, src_ip)) WITHOUT ROWID;
    CREATE TABLE attacker_months (month TEXT NOT NULL, src_ip TEXT NOT NULL, PRIMARY KEY (month, src_ip)) WITHOUT ROWID;
    CREATE TABLE attacker_first (src_ip TEXT PRIMARY KEY, first TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE cred_days (day TEXT NOT NULL, username TEXT NOT NULL, password TEXT NOT NULL,
        attempts INTEGER NOT NULL, logins INTEGER NOT NULL, PRIMARY KEY (day, username, password)) WITHOUT ROWID;
    CREATE TABLE cred_first (username TEXT NOT NULL, password TEXT NOT NULL, first TEXT NOT NULL,
        PRIMARY KEY (username, password)) WITHOUT ROWID;
    CREATE TABLE event_days (day TEXT NOT NULL, eventid TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (day, eventid, kind)) WITHOUT ROWID;
    CREATE INDEX cred_days_pair ON cred_days(username, password);
    CREATE TABLE cred_profiles (day TEXT NOT NULL, profile TEXT NOT NULL, username TEXT NOT NULL,
        password TEXT NOT NULL, logins INTEGER NOT NULL, PRIMARY KEY (day, profile, username, password)) WITHOUT ROWID;
    CREATE TABLE session_days (day TEXT NOT NULL, sensor TEXT NOT NULL, profile TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (day, sensor, profile)) WITHOUT ROWID;
    CREATE TABLE netis_days (day TEXT NOT NULL, src_ip TEXT NOT NULL, kind TEXT NOT NULL, length INTEGER NOT NULL,
        n INTEGER NOT NULL, PRIMARY KEY (day, src_ip, kind, length)) WITHOUT ROWID;
";

/// The totals (schema migration 8), filled from the rollups already made.
pub const TOTALS: &str = "
    CREATE TABLE attacker_counts (kind TEXT NOT NULL, period TEXT NOT NULL, n INTEGER NOT NULL,
        new INTEGER NOT NULL, PRIMARY KEY (kind, period)) WITHOUT ROWID;
    INSERT INTO attacker_counts SELECT 'day', day, COUNT(*), 0 FROM attacker_days GROUP BY day;
    INSERT INTO attacker_counts SELECT 'week', week, COUNT(*), 0 FROM attacker_weeks GROUP BY week;
    INSERT INTO attacker_counts SELECT 'month', month, COUNT(*), 0 FROM attacker_months GROUP BY month;
    INSERT INTO attacker_counts SELECT k, p, 0, SUM(d) FROM (
        SELECT 'day' AS k, substr(first, 1, 10) AS p, 1 AS d FROM attacker_first
        UNION ALL SELECT 'week', strftime('%Y-W%W', first), 1 FROM attacker_first
        UNION ALL SELECT 'month', substr(first, 1, 7), 1 FROM attacker_first) AS f
        WHERE true GROUP BY k, p ON CONFLICT (kind, period) DO UPDATE SET new = attacker_counts.new + excluded.new;
    CREATE TABLE cred_totals (username TEXT NOT NULL, password TEXT NOT NULL, attempts INTEGER NOT NULL,
        logins INTEGER NOT NULL, PRIMARY KEY (username, password)) WITHOUT ROWID;
    INSERT INTO cred_totals SELECT username, password, SUM(attempts), SUM(logins) FROM cred_days
        GROUP BY username, password;
    CREATE TABLE cred_profile_totals (profile TEXT NOT NULL, username TEXT NOT NULL, password TEXT NOT NULL,
        logins INTEGER NOT NULL, PRIMARY KEY (profile, username, password)) WITHOUT ROWID;
    INSERT INTO cred_profile_totals SELECT profile, username, password, SUM(logins) FROM cred_profiles
        GROUP BY profile, username, password;
";

/// Events rolled up per step by [`update`] (a long backlog takes several).
const STEP: i64 = 500_000;
/// Events per step of the [`keep_up`] thread: a short transaction (about
/// 10 ms on this project's 2-core box), so the event writer never waits
/// long for the database, and a small temporary table.
const SMALL_STEP: i64 = 2_000;
/// After a step, the [`keep_up`] thread rests this many times as long as
/// the step took: under a flood it takes the write lock a third of the
/// time at most, falls behind, and catches up when the flood ends (a
/// report also catches up by itself).
const REST: u32 = 2;
/// How often the [`keep_up`] thread looks for new events.
const EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Roll up the events added since the last step (all of them, in steps of
/// [`STEP`]); the events rolled up.
pub fn update(conn: &Connection) -> rusqlite::Result<i64> {
    let mut done = 0;
    loop {
        let n = step(conn, STEP)?;
        done += n;
        if n == 0 {
            return Ok(done);
        }
    }
}

/// One step over at most `limit` events, in one transaction; the events
/// it covered (0: none new). The transaction takes the write lock at once
/// (`BEGIN IMMEDIATE`): two rollups at the same time (a report beside a
/// running honeypot) wait for each other instead of failing on a stale
/// read.
pub fn step(conn: &Connection, limit: i64) -> rusqlite::Result<i64> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match step_in(conn, limit) {
        Ok(n) => {
            conn.execute_batch("COMMIT")?;
            Ok(n)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn step_in(tx: &Connection, limit: i64) -> rusqlite::Result<i64> {
    let last: i64 = tx.query_row(
        "SELECT last_id FROM rollup_state WHERE name = 'events'",
        [],
        |r| r.get(0),
    )?;
    let max: i64 = tx.query_row(
        "SELECT COALESCE(MAX(id), 0) FROM events WHERE id <= ?1",
        [last + limit],
        |r| r.get(0),
    )?;
    if max <= last {
        return Ok(0);
    }
    // The new events, once.
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS rollup_new (t TEXT, eventid TEXT, src_ip TEXT, session TEXT, data TEXT);
         DELETE FROM rollup_new;",
    )?;
    tx.execute(
        "INSERT INTO rollup_new SELECT timestamp, eventid, src_ip, session,
            CASE WHEN eventid IN ('iotpot.login.success', 'iotpot.login.failed', 'iotpot.netis.datagram',
                                  'iotpot.command.input', 'iotpot.session.params', 'iotpot.http.request')
                 THEN data END
         FROM events WHERE id > ?1 AND id <= ?2",
        [last, max],
    )?;
    tx.execute_batch(
        "
        INSERT INTO event_days
            SELECT substr(t, 1, 10) AS d, eventid,
                CASE eventid
                    WHEN 'iotpot.netis.datagram' THEN COALESCE(json_extract(data, '$.kind'), '')
                    WHEN 'iotpot.command.input' THEN
                        CASE WHEN json_extract(data, '$.known') THEN 'known' ELSE 'unknown' END
                    WHEN 'iotpot.http.request' THEN
                        CASE WHEN json_extract(data, '$.status') = 200
                              AND lower(json_extract(data, '$.path')) LIKE '%.cfg' THEN 'config file' ELSE '' END
                    ELSE '' END AS k,
                COUNT(*)
            FROM rollup_new WHERE true GROUP BY d, eventid, k
            ON CONFLICT DO UPDATE SET n = n + excluded.n;
        CREATE TEMP VIEW IF NOT EXISTS rollup_attacks AS
            SELECT t, src_ip FROM rollup_new
            WHERE eventid IN ('iotpot.session.connect', 'iotpot.netis.datagram');
        -- Each period's count grows by the addresses new to that period...
        INSERT INTO attacker_counts SELECT 'day', p, COUNT(*), 0
            FROM (SELECT DISTINCT substr(t, 1, 10) AS p, src_ip FROM rollup_attacks) x
            WHERE NOT EXISTS (SELECT 1 FROM attacker_days a WHERE a.day = x.p AND a.src_ip = x.src_ip)
            GROUP BY p ON CONFLICT DO UPDATE SET n = n + excluded.n;
        INSERT INTO attacker_counts SELECT 'week', p, COUNT(*), 0
            FROM (SELECT DISTINCT strftime('%Y-W%W', t) AS p, src_ip FROM rollup_attacks) x
            WHERE NOT EXISTS (SELECT 1 FROM attacker_weeks a WHERE a.week = x.p AND a.src_ip = x.src_ip)
            GROUP BY p ON CONFLICT DO UPDATE SET n = n + excluded.n;
        INSERT INTO attacker_counts SELECT 'month', p, COUNT(*), 0
            FROM (SELECT DISTINCT substr(t, 1, 7) AS p, src_ip FROM rollup_attacks) x
            WHERE NOT EXISTS (SELECT 1 FROM attacker_months a WHERE a.month = x.p AND a.src_ip = x.src_ip)
            GROUP BY p ON CONFLICT DO UPDATE SET n = n + excluded.n;
        INSERT OR IGNORE INTO attacker_days SELECT DISTINCT substr(t, 1, 10), src_ip FROM rollup_attacks;
        INSERT OR IGNORE INTO attacker_weeks SELECT DISTINCT strftime('%Y-W%W', t), src_ip FROM rollup_attacks;
        INSERT OR IGNORE INTO attacker_months SELECT DISTINCT substr(t, 1, 7), src_ip FROM rollup_attacks;
        -- ...and its new ones by the addresses whose first time moves
        -- into it (from nowhere, or from a later period).
        CREATE TEMP TABLE IF NOT EXISTS rollup_firsts (src_ip TEXT, m TEXT, o TEXT);
        DELETE FROM rollup_firsts;
        INSERT INTO rollup_firsts SELECT x.src_ip, x.m, a.first
            FROM (SELECT src_ip, MIN(t) AS m FROM rollup_attacks GROUP BY src_ip) x
            LEFT JOIN attacker_first a ON a.src_ip = x.src_ip WHERE a.first IS NULL OR x.m < a.first;
        INSERT INTO attacker_counts SELECT k, p, 0, SUM(d) FROM (
            SELECT 'day' AS k, substr(m, 1, 10) AS p, 1 AS d FROM rollup_firsts
            UNION ALL SELECT 'week', strftime('%Y-W%W', m), 1 FROM rollup_firsts
            UNION ALL SELECT 'month', substr(m, 1, 7), 1 FROM rollup_firsts
            UNION ALL SELECT 'day', substr(o, 1, 10), -1 FROM rollup_firsts WHERE o IS NOT NULL
            UNION ALL SELECT 'week', strftime('%Y-W%W', o), -1 FROM rollup_firsts WHERE o IS NOT NULL
            UNION ALL SELECT 'month', substr(o, 1, 7), -1 FROM rollup_firsts WHERE o IS NOT NULL)
            WHERE true GROUP BY k, p ON CONFLICT DO UPDATE SET new = new + excluded.new;
        INSERT INTO attacker_first SELECT src_ip, MIN(t) FROM rollup_attacks WHERE true GROUP BY src_ip
            ON CONFLICT DO UPDATE SET first = MIN(first, excluded.first);
        CREATE TEMP VIEW IF NOT EXISTS rollup_logins AS
            SELECT t, json_extract(data, '$.username') AS u, json_extract(data, '$.password') AS p,
                eventid = 'iotpot.login.success' AS ok
            FROM rollup_new WHERE eventid IN ('iotpot.login.success', 'iotpot.login.failed');
        INSERT INTO cred_days SELECT substr(t, 1, 10) AS d, u, p, COUNT(*), SUM(ok) FROM rollup_logins
            WHERE u IS NOT NULL AND p IS NOT NULL GROUP BY d, u, p
            ON CONFLICT DO UPDATE SET attempts = attempts + excluded.attempts, logins = logins + excluded.logins;
        INSERT INTO cred_first SELECT u, p, MIN(t) FROM rollup_logins
            WHERE u IS NOT NULL AND p IS NOT NULL GROUP BY u, p
            ON CONFLICT DO UPDATE SET first = MIN(first, excluded.first);
        INSERT INTO cred_totals SELECT u, p, COUNT(*), SUM(ok) FROM rollup_logins
            WHERE u IS NOT NULL AND p IS NOT NULL GROUP BY u, p
            ON CONFLICT DO UPDATE SET attempts = attempts + excluded.attempts, logins = logins + excluded.logins;
        INSERT INTO session_days
            SELECT substr(t, 1, 10) AS d, COALESCE(json_extract(data, '$.sensor'), '') AS s,
                COALESCE(json_extract(data, '$.profile'), '') AS p, COUNT(*)
            FROM rollup_new WHERE eventid = 'iotpot.session.params' GROUP BY d, s, p
            ON CONFLICT DO UPDATE SET n = n + excluded.n;
        INSERT INTO netis_days
            SELECT substr(t, 1, 10) AS d, src_ip, COALESCE(json_extract(data, '$.kind'), '') AS k,
                COALESCE(json_extract(data, '$.length'), 0) AS l, COUNT(*)
            FROM rollup_new WHERE eventid = 'iotpot.netis.datagram' GROUP BY d, src_ip, k, l
            ON CONFLICT DO UPDATE SET n = n + excluded.n;
        -- A login's profile: its session's parameters (the same step, or
        -- an earlier one).
        CREATE TEMP TABLE IF NOT EXISTS rollup_profiles (d TEXT, pr TEXT, u TEXT, p TEXT, n INTEGER);
        DELETE FROM rollup_profiles;
        INSERT INTO rollup_profiles
            SELECT substr(l.t, 1, 10) AS d,
                COALESCE((SELECT json_extract(e.data, '$.profile') FROM events e
                          WHERE e.session = l.session AND e.eventid = 'iotpot.session.params' LIMIT 1), '') AS pr,
                json_extract(l.data, '$.username') AS u, json_extract(l.data, '$.password') AS p, COUNT(*)
            FROM rollup_new l WHERE l.eventid = 'iotpot.login.success' AND u IS NOT NULL AND p IS NOT NULL
            GROUP BY d, pr, u, p;
        INSERT INTO cred_profiles SELECT d, pr, u, p, n FROM rollup_profiles WHERE true
            ON CONFLICT DO UPDATE SET logins = logins + excluded.logins;
        INSERT INTO cred_profile_totals SELECT pr, u, p, SUM(n) FROM rollup_profiles WHERE true
            GROUP BY pr, u, p ON CONFLICT DO UPDATE SET logins = logins + excluded.logins;
        DELETE FROM rollup_new;
        ",
    )?;
    tx.execute(
        "UPDATE rollup_state SET last_id = ?1 WHERE name = 'events'",
        [max],
    )?;
    Ok(max - last)
}

/// Keep the rollups of the database at `path` up to date until `stop` is
/// set: every [`EVERY`], the new events in steps of [`SMALL_STEP`] (short
/// transactions beside the event writer's). For a thread of its own.
pub fn keep_up(path: &std::path::Path, stop: &std::sync::atomic::AtomicBool) {
    // A small page cache: the steps touch few pages, and a honeypot's
    // memory is for its sessions.
    let conn = match crate::sqlite::open(path)
        .and_then(|c| Ok(c.pragma_update(None, "cache_size", -1_024).map(|()| c)?))
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "report rollups: cannot open the store; `iotpot report` will roll up by itself");
            return;
        }
    };
    let mut last = std::time::Instant::now() - EVERY;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        if last.elapsed() >= EVERY {
            last = std::time::Instant::now();
            loop {
                let began = std::time::Instant::now();
                match step(&conn, SMALL_STEP) {
                    Ok(0) => break,
                    Ok(_) if stop.load(std::sync::atomic::Ordering::Relaxed) => return,
                    Ok(_) => std::thread::sleep(
                        (began.elapsed() * REST).max(std::time::Duration::from_millis(5)),
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, code = ?e.sqlite_error_code(), "report rollups: a step failed (tried again later)");
                        break;
                    }
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
