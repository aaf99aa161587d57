//! The rollups of one batch of events, gathered by the event writer as it
//! stores them and written in the same transaction: typed events counted in
//! memory (nothing read back, no JSON parsed), then one upsert per distinct
//! key of the batch — a Telnet flood from a few addresses costs a handful
//! of rows per batch. The same figures as [`super::step`]'s SQL, which
//! rolls up what the writer did not (a store written by an older iotpot);
//! `the_writer_rolls_up_what_the_sql_does` keeps the two equal.

use crate::params;
use crate::sql::Db;
use iotpot_core::{Event, EventKind};
// foldhash, not SipHash: the maps live for one batch (`[store] batch`
// events at most, 4,096 by default) under a seed of their own, too short
// a life for an attacker to learn it and aim collisions.
use foldhash::{HashMap, HashMapExt, HashSet};
use std::net::IpAddr;
use time::{Date, UtcOffset};

/// What one batch adds to each rollup table.
#[derive(Default)]
pub struct Batch<'a> {
    attacker_days: HashSet<(Date, IpAddr)>,
    attacker_weeks: HashSet<(i32, u8, IpAddr)>,
    attacker_months: HashSet<(i32, u8, IpAddr)>,
    /// Each address's earliest time in the batch.
    attacker_first: HashMap<IpAddr, String>,
    event_days: HashMap<(Date, &'static str, &'a str), i64>,
    /// Attempts and logins.
    cred_days: HashMap<(Date, &'a str, &'a str), (i64, i64)>,
    cred_first: HashMap<(&'a str, &'a str), String>,
    session_days: HashMap<(Date, &'a str, &'a str), i64>,
    netis_days: HashMap<(Date, IpAddr, &'a str, u64), i64>,
    /// Each session's profile, from its parameters in this batch.
    profiles: HashMap<&'a str, &'a str>,
    /// Successful logins: day, session, username, password.
    logins: Vec<(Date, &'a str, &'a str, &'a str)>,
}

impl<'a> Batch<'a> {
    /// Count one stored event (`ts`: its timestamp as stored).
    pub fn add(&mut self, e: &'a Event, ts: &str) {
        let t = e.timestamp.to_offset(UtcOffset::UTC);
        let day = t.date();
        let kind: &'a str = match &e.kind {
            EventKind::NetisDatagram { kind, .. } => kind,
            EventKind::CommandInput { known: true, .. } => "known",
            EventKind::CommandInput { known: false, .. } => "unknown",
            EventKind::HttpRequest { status, path, .. }
                if *status == 200 && path.to_ascii_lowercase().ends_with(".cfg") =>
            {
                "config file"
            }
            _ => "",
        };
        *self
            .event_days
            .entry((day, e.kind.eventid(), kind))
            .or_default() += 1;
        match &e.kind {
            EventKind::SessionConnect {} | EventKind::NetisDatagram { .. } => {
                let ip = e.src_ip;
                self.attacker_days.insert((day, ip));
                self.attacker_weeks
                    .insert((t.year(), t.monday_based_week(), ip));
                self.attacker_months.insert((t.year(), t.month() as u8, ip));
                let first = self.attacker_first.entry(ip).or_insert_with(|| ts.into());
                if ts < first.as_str() {
                    *first = ts.into();
                }
            }
            _ => {}
        }
        match &e.kind {
            EventKind::LoginSuccess { username, password }
            | EventKind::LoginFailed { username, password } => {
                let ok = matches!(e.kind, EventKind::LoginSuccess { .. });
                let c = self.cred_days.entry((day, username, password)).or_default();
                c.0 += 1;
                c.1 += i64::from(ok);
                let first = self
                    .cred_first
                    .entry((username, password))
                    .or_insert_with(|| ts.into());
                if ts < first.as_str() {
                    *first = ts.into();
                }
                if ok {
                    self.logins.push((day, &e.session, username, password));
                }
            }
            EventKind::SessionParams { profile, .. } => {
                *self
                    .session_days
                    .entry((day, &e.sensor, profile))
                    .or_default() += 1;
                self.profiles.entry(&e.session).or_insert(profile);
            }
            EventKind::NetisDatagram { kind, length, .. } => {
                *self
                    .netis_days
                    .entry((day, e.src_ip, kind, *length))
                    .or_default() += 1;
            }
            _ => {}
        }
    }

    /// Write the batch's counts (after its sessions' rows: a login's
    /// profile is its session's).
    pub fn apply(&self, db: &dyn Db) -> anyhow::Result<()> {
        let ip = iotpot_core::event::ip_text::format;
        let mut stmt = db.prepare("INSERT INTO event_days VALUES (?1, ?2, ?3, ?4) ON CONFLICT (day, eventid, kind) DO UPDATE SET n = event_days.n + excluded.n")?;
        for ((d, id, k), n) in &self.event_days {
            stmt.exec(&params![d.to_string(), id, k, n])?;
        }
        // Per period: the addresses new to it (`n`), and the change in
        // those first seen in it (`new`).
        let mut counts: HashMap<(&str, String), (i64, i64)> = HashMap::new();
        // Each address new to its day, week and month counts once there.
        let tables: [(&str, &str, Vec<Seen>); 3] = [
            (
                "day",
                "attacker_days",
                (self.attacker_days.iter())
                    .map(|(d, a)| (d.to_string(), a))
                    .collect(),
            ),
            (
                "week",
                "attacker_weeks",
                (self.attacker_weeks.iter())
                    .map(|(y, w, a)| (format!("{y:04}-W{w:02}"), a))
                    .collect(),
            ),
            (
                "month",
                "attacker_months",
                (self.attacker_months.iter())
                    .map(|(y, m, a)| (format!("{y:04}-{m:02}"), a))
                    .collect(),
            ),
        ];
        for (kind, table, rows) in tables {
            let mut stmt = db.prepare(&format!(
                "INSERT INTO {table} VALUES (?1, ?2) ON CONFLICT DO NOTHING"
            ))?;
            for (period, a) in rows {
                if stmt.exec(&params![period, ip(a)])? == 1 {
                    counts.entry((kind, period)).or_default().0 += 1;
                }
            }
        }
        let was = "SELECT first FROM attacker_first WHERE src_ip = ?1";
        let mut stmt = db.prepare("INSERT INTO attacker_first VALUES (?1, ?2) ON CONFLICT (src_ip) DO UPDATE
             SET first = CASE WHEN excluded.first < attacker_first.first THEN excluded.first ELSE attacker_first.first END")?;
        for (a, first) in &self.attacker_first {
            let old: Option<String> = db
                .one(was, &params![ip(a)])?
                .and_then(|v| v.as_str().map(String::from));
            if old.as_ref().is_none_or(|o| first < o) {
                for (kind, period) in periods(first) {
                    counts.entry((kind, period)).or_default().1 += 1;
                }
                for (kind, period) in old.iter().flat_map(|o| periods(o)) {
                    counts.entry((kind, period)).or_default().1 -= 1;
                }
            }
            stmt.exec(&params![ip(a), first])?;
        }
        let mut stmt = db.prepare("INSERT INTO attacker_counts VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind, period) DO UPDATE SET n = attacker_counts.n + excluded.n, new = attacker_counts.new + excluded.new")?;
        for ((kind, period), (n, new)) in &counts {
            stmt.exec(&params![kind, period, n, new])?;
        }
        let mut stmt = db.prepare("INSERT INTO cred_days VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (day, username, password)
             DO UPDATE SET attempts = cred_days.attempts + excluded.attempts, logins = cred_days.logins + excluded.logins")?;
        let mut totals: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
        for ((d, u, p), (attempts, logins)) in &self.cred_days {
            stmt.exec(&params![d.to_string(), u, p, attempts, logins])?;
            let t = totals.entry((u, p)).or_default();
            t.0 += attempts;
            t.1 += logins;
        }
        let mut stmt = db.prepare("INSERT INTO cred_totals VALUES (?1, ?2, ?3, ?4) ON CONFLICT (username, password)
             DO UPDATE SET attempts = cred_totals.attempts + excluded.attempts, logins = cred_totals.logins + excluded.logins")?;
        for ((u, p), (attempts, logins)) in &totals {
            stmt.exec(&params![u, p, attempts, logins])?;
        }
        let mut stmt = db.prepare("INSERT INTO cred_first VALUES (?1, ?2, ?3) ON CONFLICT (username, password) DO UPDATE
             SET first = CASE WHEN excluded.first < cred_first.first THEN excluded.first ELSE cred_first.first END")?;
        for ((u, p), first) in &self.cred_first {
            stmt.exec(&params![u, p, first])?;
        }
        let mut stmt = db.prepare(
            "INSERT INTO session_days VALUES (?1, ?2, ?3, ?4) ON CONFLICT (day, sensor, profile)
             DO UPDATE SET n = session_days.n + excluded.n",
        )?;
        for ((d, s, p), n) in &self.session_days {
            stmt.exec(&params![d.to_string(), s, p, n])?;
        }
        let mut stmt = db.prepare("INSERT INTO netis_days VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (day, src_ip, kind, length)
             DO UPDATE SET n = netis_days.n + excluded.n")?;
        for ((d, a, k, l), n) in &self.netis_days {
            stmt.exec(&params![d.to_string(), ip(a), k, *l as i64, n])?;
        }
        // A login's profile: its session's parameters, in this batch or
        // in the session's row from an earlier one.
        let mut logins: HashMap<(Date, String, &str, &str), i64> = HashMap::new();
        let profile_of = "SELECT profile FROM sessions WHERE session = ?1";
        for (d, session, u, p) in &self.logins {
            let profile = match self.profiles.get(session) {
                Some(p) => p.to_string(),
                None => db
                    .one(profile_of, &params![session])?
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
            };
            *logins.entry((*d, profile, u, p)).or_default() += 1;
        }
        let mut stmt = db.prepare("INSERT INTO cred_profiles VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (day, profile, username, password)
             DO UPDATE SET logins = cred_profiles.logins + excluded.logins")?;
        let mut totals: HashMap<(&str, &str, &str), i64> = HashMap::new();
        for ((d, profile, u, p), n) in &logins {
            stmt.exec(&params![d.to_string(), profile, u, p, n])?;
            *totals.entry((profile, u, p)).or_default() += n;
        }
        let mut stmt = db.prepare("INSERT INTO cred_profile_totals VALUES (?1, ?2, ?3, ?4) ON CONFLICT (profile, username, password)
             DO UPDATE SET logins = cred_profile_totals.logins + excluded.logins")?;
        for ((profile, u, p), n) in &totals {
            stmt.exec(&params![profile, u, p, n])?;
        }
        Ok(())
    }
}

/// An address seen in a period (its name), for the attacker tables.
type Seen<'a> = (String, &'a IpAddr);

/// The day, week and month of a stored timestamp, as the rollups name
/// them (SQLite's `substr` and `strftime('%Y-W%W')`).
fn periods(ts: &str) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("day", ts.get(..10).unwrap_or(ts).to_string()),
        ("month", ts.get(..7).unwrap_or(ts).to_string()),
    ];
    if let Some(t) = iotpot_core::event::timestamp::parse(ts) {
        let t = t.to_offset(UtcOffset::UTC);
        out.push((
            "week",
            format!("{:04}-W{:02}", t.year(), t.monday_based_week()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::sqlite::{self, SqliteSink};
    use crate::Sink;
    use iotpot_core::{Event, EventKind, SessionInfo};

    const TABLES: [&str; 13] = [
        "attacker_days",
        "attacker_weeks",
        "attacker_months",
        "attacker_first",
        "cred_days",
        "cred_first",
        "event_days",
        "cred_profiles",
        "session_days",
        "netis_days",
        "attacker_counts",
        "cred_totals",
        "cred_profile_totals",
    ];

    fn dump(conn: &rusqlite::Connection) -> Vec<Vec<String>> {
        TABLES
            .iter()
            .map(|t| {
                let mut s = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
                let n = s.column_count();
                let mut rows = s
                    .query_map([], |r| {
                        Ok((0..n)
                            .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                            .collect::<Vec<_>>()
                            .join("|"))
                    })
                    .unwrap()
                    .map(Result::unwrap)
                    .collect::<Vec<_>>();
                rows.sort();
                rows
            })
            .collect()
    }

    /// Sessions over two years (week numbers around New Year, dates out
    /// of order, a few addresses and pairs again and again), 53413
    /// datagrams, config files fetched: written in batches by the writer,
    /// which rolls them up as it goes; then the rollups are emptied and
    /// made again by the SQL over the stored events. Both must be equal.
    #[test]
    fn the_writer_rolls_up_what_the_sql_does() {
        let dir = std::env::temp_dir().join(format!("iotpot-rollup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("iotpot.db");
        let mut sink = SqliteSink::open(&db).unwrap();
        let seed = std::cell::Cell::new(7u64);
        let next = |n: u64| {
            seed.set(
                seed.get()
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407),
            );
            (seed.get() >> 33) % n
        };
        // 2025-12-24 10:00 UTC.
        let base = time::OffsetDateTime::from_unix_timestamp(1_766_570_400).unwrap();
        let mut events: Vec<Event> = Vec::new();
        for s in 0..600 {
            let src = format!("198.51.100.{}:{}", next(40), 1024 + s)
                .parse()
                .unwrap();
            let dst = format!("127.0.0.1:{}", [23, 2323, 80, 53413][next(4) as usize])
                .parse()
                .unwrap();
            let info = SessionInfo::new(
                src,
                dst,
                ["tokyo", "osaka"][next(2) as usize].into(),
                "telnet",
            );
            let at = base
                + time::Duration::hours(next(24 * 30) as i64)
                + time::Duration::microseconds(next(1_000_000) as i64);
            let mut e = |kind: EventKind| {
                let mut e = info.event(kind);
                e.timestamp = at + time::Duration::seconds(next(60) as i64);
                events.push(e);
            };
            let pair = |n: u64| {
                (
                    ["root", "admin", "<b>"][n as usize % 3].to_string(),
                    ["xc3511", "admin", "1234", ""][n as usize % 4].to_string(),
                )
            };
            match next(3) {
                0 => e(EventKind::NetisDatagram {
                    length: [8, 18, 40][next(3) as usize],
                    kind: ["probe", "scan-18", "command"][next(3) as usize].into(),
                    payload: String::new(),
                    reply_length: 0,
                }),
                _ => {
                    e(EventKind::SessionConnect {});
                    e(EventKind::SessionParams {
                        profile: ["dvr-xiongmai", "router-zte"][next(2) as usize].into(),
                        arch: "arm".into(),
                        device_type: "DVR".into(),
                    });
                    for _ in 0..next(3) {
                        let (username, password) = pair(next(12));
                        e(EventKind::LoginFailed { username, password });
                    }
                    if next(2) == 0 {
                        let (username, password) = pair(next(12));
                        e(EventKind::LoginSuccess { username, password });
                        e(EventKind::CommandInput {
                            input: "enable".into(),
                            known: next(2) == 0,
                            output: String::new(),
                            output_size: 0,
                        });
                    }
                    if next(4) == 0 {
                        e(EventKind::HttpRequest {
                            method: "GET".into(),
                            path: ["/DVR.CFG", "/index.html", "/a.cfg"][next(3) as usize].into(),
                            query: String::new(),
                            version: "HTTP/1.1".into(),
                            headers: vec![],
                            user_agent: None,
                            username: None,
                            password: None,
                            body_length: 0,
                            body_sha256: None,
                            body: None,
                            status: [200, 401][next(2) as usize],
                        });
                    }
                }
            }
        }
        // Batches of odd sizes: a session's login often lands in a later
        // batch than its parameters.
        let mut rest = &events[..];
        while !rest.is_empty() {
            let n = (1 + next(97) as usize).min(rest.len());
            let json: Vec<String> = rest[..n].iter().map(Event::to_json).collect();
            sink.write(&rest[..n], &json).unwrap();
            rest = &rest[n..];
        }
        let conn = sqlite::open(&db).unwrap();
        let by_writer = dump(&conn);
        assert!(by_writer.iter().all(|t| !t.is_empty()), "{by_writer:?}");
        let last: i64 = conn
            .query_row("SELECT last_id FROM rollup_state", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            last,
            events.len() as i64,
            "the writer kept the rollups current"
        );
        for t in TABLES {
            conn.execute(&format!("DELETE FROM {t}"), []).unwrap();
        }
        conn.execute("UPDATE rollup_state SET last_id = 0", [])
            .unwrap();
        assert_eq!(crate::rollup::update(&conn).unwrap(), events.len() as i64);
        let by_sql = dump(&conn);
        for (i, t) in TABLES.iter().enumerate() {
            assert_eq!(by_writer[i], by_sql[i], "{t}");
        }
        // The totals made from the other rollups (schema migration 8, for
        // a store rolled up before they existed) are the same too.
        conn.execute_batch(
            "DROP TABLE attacker_counts; DROP TABLE cred_totals; DROP TABLE cred_profile_totals;",
        )
        .unwrap();
        conn.execute_batch(crate::rollup::TOTALS).unwrap();
        assert_eq!(dump(&conn), by_sql);
        // Behind (a store from before the writer rolled up): the writer
        // leaves the new batch to the SQL, which counts it once.
        conn.execute("UPDATE rollup_state SET last_id = last_id - 5", [])
            .unwrap();
        let more = &events[..10];
        let json: Vec<String> = more.iter().map(Event::to_json).collect();
        sink.write(more, &json).unwrap();
        assert_eq!(crate::rollup::update(&conn).unwrap(), 15);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
