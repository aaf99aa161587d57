//! What a batch of events does to the store's tables, on SQLite and on
//! PostgreSQL alike (`sql.rs`): each event a row of `events`, each
//! session one row of `sessions` kept current, samples and where they came
//! from, learned answers, the profiler's grabs and verdicts, and the
//! rollups (`rollup::Batch`) while they are current.

use crate::params;
use crate::sql::{Db, Param};
use iotpot_core::{Event, EventKind};

/// Write one batch, inside the caller's transaction.
pub fn batch(db: &dyn Db, events: &[Event], json: &[String]) -> anyhow::Result<()> {
    finish(db, Staged::default(), events, json)
}

/// A batch written in parts inside one transaction: its events' rows go
/// in as the events arrive ([`stage`]), its sessions and rollups when the
/// batch is whole ([`finish`]).
#[derive(Debug, Default)]
pub struct Staged {
    /// Whether the rollups were current when the batch began (asked
    /// before its first row).
    rollup: Option<bool>,
    stamps: Vec<String>,
    /// Whether each staged event was new (a replayed one may be stored
    /// already).
    added: Vec<bool>,
}

/// Insert the rows of the next events of the batch.
pub fn stage(
    db: &dyn Db,
    staged: &mut Staged,
    events: &[Event],
    json: &[String],
) -> anyhow::Result<()> {
    if staged.rollup.is_none() {
        // The rollups are current (every stored event counted): this
        // batch is counted as it is written, and they stay current.
        let last_id = db.one("SELECT COALESCE(MAX(id), 0) FROM events", &[])?;
        let rolled = db.one(
            "SELECT last_id FROM rollup_state WHERE name = 'events'",
            &[],
        )?;
        staged.rollup = Some(rolled == last_id);
    }
    let stamps: Vec<String> = events
        .iter()
        .map(|e| iotpot_core::event::timestamp::format(&e.timestamp))
        .collect();
    let added = insert_events(db, events, json, &stamps)?;
    staged.stamps.extend(stamps);
    staged.added.extend(added);
    Ok(())
}

/// The rest of the batch: `events` is all of it, the first of them
/// staged already (as many as `staged` holds).
pub fn finish(
    db: &dyn Db,
    mut staged: Staged,
    events: &[Event],
    json: &[String],
) -> anyhow::Result<()> {
    let done = staged.added.len().min(events.len());
    stage(db, &mut staged, &events[done..], &json[done..])?;
    let mut rollup = (staged.rollup == Some(true)).then(crate::rollup::Batch::default);
    // One statement per session per batch, not one per event.
    let mut deltas: Vec<SessionDelta> = Vec::new();
    let mut index: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
    for ((e, ts), added) in events.iter().zip(staged.stamps).zip(staged.added) {
        // A replayed event already stored (its spool id is known) changes
        // nothing: not its row, not its session's.
        if !added {
            continue;
        }
        let i = *index.entry(e.session.as_str()).or_insert_with(|| {
            deltas.push(SessionDelta::default());
            deltas.len() - 1
        });
        sample_rows(db, e, &ts)?;
        learned_rows(db, e, &ts)?;
        profiler_rows(db, e, &ts)?;
        if let Some(r) = rollup.as_mut() {
            r.add(e, &ts);
        }
        deltas[i].add(e, ts);
    }
    for d in &deltas {
        d.apply(db)?;
    }
    if let Some(r) = rollup {
        r.apply(db)?;
        db.exec(
            "UPDATE rollup_state SET last_id = (SELECT COALESCE(MAX(id), 0) FROM events) WHERE name = 'events'",
            &[],
        )?;
    }
    Ok(())
}

/// Insert the batch's events in order; whether each was new. Local events
/// go [`Db::rows_per_insert`] to a statement (a network round trip each
/// to PostgreSQL); a replayed one alone (its spool id may be stored
/// already, and then it changes nothing).
fn insert_events(
    db: &dyn Db,
    events: &[Event],
    json: &[String],
    stamps: &[String],
) -> anyhow::Result<Vec<bool>> {
    const COLUMNS: &str = "INSERT INTO events (timestamp, eventid, session, src_ip, protocol, data, spool_id) VALUES ";
    let ips: Vec<String> = events
        .iter()
        .map(|e| iotpot_core::event::ip_text::format(&e.src_ip))
        .collect();
    let row = |i: usize| {
        let e = &events[i];
        [
            Param::Text(&stamps[i]),
            Param::Text(e.kind.eventid()),
            Param::Text(&e.session),
            Param::Text(&ips[i]),
            Param::Text(&e.protocol),
            Param::Text(&json[i]),
            e.spool_id.as_deref().map_or(Param::Null, Param::Text),
        ]
    };
    let mut added = vec![true; events.len()];
    let rows = db.rows_per_insert().max(1);
    if rows == 1 {
        let mut insert = db.prepare(&format!(
            "{COLUMNS}(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (spool_id) WHERE spool_id IS NOT NULL DO NOTHING"
        ))?;
        for (i, added) in added.iter_mut().enumerate() {
            *added = insert.exec(&row(i))? == 1;
        }
        return Ok(added);
    }
    let mut start = 0;
    while start < events.len() {
        if events[start].spool_id.is_some() {
            added[start] = db.exec(
                &format!("{COLUMNS}(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (spool_id) WHERE spool_id IS NOT NULL DO NOTHING"),
                &row(start),
            )? == 1;
            start += 1;
            continue;
        }
        let end = (start..events.len())
            .take(rows)
            .find(|&i| events[i].spool_id.is_some())
            .unwrap_or((start + rows).min(events.len()));
        let mut sql = String::from(COLUMNS);
        let mut params = Vec::with_capacity((end - start) * 7);
        for (n, i) in (start..end).enumerate() {
            if n > 0 {
                sql.push_str(", ");
            }
            let b = n * 7;
            sql.push_str(&format!(
                "(?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            ));
            params.extend(row(i));
        }
        db.exec(&sql, &params)?;
        start = end;
    }
    Ok(added)
}

/// Keep the `samples` and `sample_sources` tables current.
fn sample_rows(db: &dyn Db, e: &Event, ts: &str) -> anyhow::Result<()> {
    let upsert = |sha: &str, size: u64| -> anyhow::Result<()> {
        db.exec(
            "INSERT INTO samples (sha256, size, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(sha256) DO UPDATE SET last_seen = ?3",
            &params![sha, size as i64, ts],
        )?;
        Ok(())
    };
    let source = |sha: &str,
                  src: &str,
                  outfile: Option<&str>,
                  parent: Option<&str>|
     -> anyhow::Result<()> {
        db.exec("INSERT INTO sample_sources (sha256, source, session, src_ip, timestamp, outfile, parent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &params![sha, src, e.session, iotpot_core::event::ip_text::format(&e.src_ip), ts, outfile, parent])?;
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
            db.exec(
                "UPDATE samples SET kind = ?2, arch = ?3, triage = ?4, tags = ?5 WHERE sha256 = ?1",
                &params![shasum, kind, arch, triage.to_string(), tags],
            )?;
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
fn learned_rows(db: &dyn Db, e: &Event, ts: &str) -> anyhow::Result<()> {
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
        db.exec("UPDATE learned SET hits = hits + 1 WHERE profile = ?1 AND command = ?2 AND stdin_sha256 = ?3", &params![profile, command, stdin])?;
    } else if *learned || *volatile {
        let bytes = hex::decode(output).unwrap_or_default();
        db.exec("INSERT INTO learned (profile, command, stdin_sha256, output, status, volatile, arch, first_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(profile, command, stdin_sha256) DO UPDATE SET output = ?4, status = ?5, volatile = ?6", &params![profile, command, stdin, bytes, status, *volatile as i64, arch, ts])?;
    }
    Ok(())
}

/// Keep the profiler's tables current: a row per grab (its raw bytes as a
/// blob), and each host's latest verdict.
fn profiler_rows(db: &dyn Db, e: &Event, ts: &str) -> anyhow::Result<()> {
    let addr = || iotpot_core::event::ip_text::format(&e.src_ip);
    match &e.kind {
        EventKind::ProfilerGrab { grab } => {
            db.exec("INSERT INTO profiler_grabs (scan, addr, port, timestamp, state, service, raw, grab)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &params![
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
            db.exec("INSERT INTO profiler_hosts (addr, scan, scanned, reachable, device, vendor, product, os, infected, verdict)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(addr) DO UPDATE SET scan = ?2, scanned = ?3, reachable = ?4, device = ?5,
                   vendor = ?6, product = ?7, os = ?8, infected = ?9, verdict = ?10", &params![
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

    fn apply(&self, db: &dyn Db) -> anyhow::Result<()> {
        let Some(session) = self.session else {
            return Ok(());
        };
        let (user, pass) = self.creds.unzip();
        let (end, duration, reason) = match &self.closed {
            Some((ts, d, r)) => (Some(ts.as_str()), Some(*d), Some(*r)),
            None => (None, None, None),
        };
        if let Some((e, ts)) = &self.connect {
            db.exec("INSERT INTO sessions (session, start, src_ip, src_port, dst_ip, dst_port, sensor, protocol,
                   profile, arch, username, password, login_ok, login_attempts, commands, downloads, \"end\", duration, close_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
                 ON CONFLICT DO NOTHING", &params![
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
        db.exec("UPDATE sessions SET
               profile = COALESCE(?2, profile),
               arch = COALESCE(?3, arch),
               username = CASE WHEN ?6 OR (login_ok = 0 AND CAST(?4 AS TEXT) IS NOT NULL) THEN ?4 ELSE username END,
               password = CASE WHEN ?6 OR (login_ok = 0 AND CAST(?4 AS TEXT) IS NOT NULL) THEN ?5 ELSE password END,
               login_ok = CASE WHEN ?6 THEN 1 ELSE login_ok END,
               login_attempts = login_attempts + ?7,
               commands = commands + ?8,
               downloads = downloads + ?9,
               \"end\" = COALESCE(?10, \"end\"),
               duration = COALESCE(?11, duration),
               close_reason = COALESCE(?12, close_reason)
             WHERE session = ?1", &params![
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
