//! `[store] postgres` against a real PostgreSQL server (Debian's, started
//! here on a free loopback port): `iotpot run` writes every event to
//! PostgreSQL beside SQLite, attackers' strings (NUL, quotes, backslashes,
//! markup, non-ASCII) included; three months of history and one event of
//! every rarer kind go through both stores' writers; then every table
//! holds as many rows in one as in the other, and `iotpot report --json`
//! reads the same numbers from PostgreSQL as from SQLite, whole and in a
//! window, with every section drawn.

mod common;
use common::history::{history_events, write};
use common::postgres::Postgres;
use common::*;
use iotpot_core::{Event, EventKind, SessionInfo};
use serde_json::Value;

/// One event of each kind the sections read beyond sessions and logins.
fn rare_events() -> Vec<Event> {
    let info = SessionInfo::new(
        "203.0.113.7:41000".parse().unwrap(),
        "198.51.100.2:80".parse().unwrap(),
        "tokyo-1".into(),
        "http",
    );
    let at = |d: &str| {
        time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).unwrap()
    };
    let map = |pairs: &[(&str, u64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let mut kinds = vec![
        (
            "2026-09-16T08:00:00Z",
            EventKind::AnalysisReport {
                shasum: "ab".repeat(32),
                arch: "arm7".into(),
                seconds: 30.5,
                dns: map(&[("cnc.example", 4), ("o'hara.example", 1)]),
                tcp: map(&[("192.0.2.9:23", 7)]),
                udp: map(&[("192.0.2.10:53", 2)]),
                ports: [(23u16, 40u64), (2323, 3)].into_iter().collect(),
                per_24: map(&[("192.0.2.0/24", 40)]),
                per_16: map(&[("192.0.0.0/16", 41)]),
                packets: 1234,
                packets_per_second: 40.456,
                resolved: Default::default(),
                contacts: Vec::new(),
                pcap: String::new(),
            },
        ),
        (
            "2026-09-17T09:00:00Z",
            EventKind::HoneytokenUsed {
                token: "video".into(),
                source: "video".into(),
                via: "telnet-login".into(),
                username: "admin".into(),
                password: "s3cret".into(),
                human_watching: true,
                leaked_session: Some("abc".into()),
                leaked_src: Some("203.0.113.8".into()),
                leaked_at: Some("2026-09-16T21:30:00Z".into()),
            },
        ),
        (
            "2026-09-17T10:00:00Z",
            EventKind::VideoStopped {
                path: "/live.mjpg".into(),
                duration: 12.25,
                frames: 49,
                bytes: 100_000,
            },
        ),
        (
            "2026-09-17T11:00:00Z",
            EventKind::IotboxAnswer {
                profile: "dvr-xiongmai".into(),
                command: "cat /proc/mounts".into(),
                stdin_sha256: None,
                source: "sandbox".into(),
                arch: "armhf".into(),
                status: 0,
                output: hex::encode("rootfs / rootfs rw 0 0\n"),
                learned: true,
                volatile: false,
                elapsed_ms: 200.0,
                sandbox: Some("armhf/vm1".into()),
                reason: None,
            },
        ),
        (
            "2026-09-17T12:00:00Z",
            EventKind::ProfilerVerdict {
                verdict: iotpot_core::profiler::Verdict {
                    device: Some("DVR".into()),
                    vendor: Some("Xiongmai".into()),
                    reachable: true,
                    ..Default::default()
                },
            },
        ),
        (
            "2026-09-17T12:00:00Z",
            EventKind::PacketAnomaly {
                anomalies: vec!["udp_length".into()],
                real_length: 46,
                ip_total_length: 46,
                udp_length: 400,
                payload: "4141".into(),
            },
        ),
    ];
    // A NUL, which PostgreSQL's text cannot hold (the Telnet line
    // discipline ends a line there, so it comes here, not from a bot).
    kinds.push((
        "2026-09-18T00:00:00Z",
        EventKind::LoginFailed {
            username: "ro\0ot".into(),
            password: "pw\0x".into(),
        },
    ));
    kinds
        .into_iter()
        .map(|(t, k)| {
            let mut e = info.event(k);
            e.timestamp = at(t);
            e
        })
        .collect()
}

/// `iotpot dashboard` on a free loopback port over `config`, with a fixed
/// token: the process and its port, once it answers.
fn dashboard(config: &std::path::Path) -> (Daemon, u16) {
    let port = free_port();
    let d = Daemon::start(
        std::process::Command::new(BIN)
            .args([
                "dashboard",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--config",
            ])
            .arg(config)
            .env("IOTPOT_DASHBOARD_TOKEN", TOKEN),
    );
    wait_port(port);
    (d, port)
}

const TOKEN: &str = "postgres-test-token-0123";

/// GET `path` with curl and the token: the body (curl fails on an HTTP error).
fn curl(port: u16, path: &str) -> String {
    run_ok(std::process::Command::new("curl").args([
        "-sS",
        "--fail",
        "-H",
        &format!("Authorization: Bearer {TOKEN}"),
        &format!("http://127.0.0.1:{port}{path}"),
    ]))
}

/// A report without the moment it was made.
fn report(hp: &Honeypot, config: &std::path::Path, window: &[&str]) -> Value {
    let mut args = vec!["report", "--json", "--config", config.to_str().unwrap()];
    args.extend_from_slice(window);
    let out = std::process::Command::new(BIN)
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "iotpot report ({}): {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = hp;
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_object_mut().unwrap().remove("generated");
    v
}

#[test]
fn postgres_holds_what_sqlite_holds_and_reports_the_same() {
    let pg = Postgres::start("postgres");
    // `config check` reaches the server and changes nothing there.
    let check = TempDir::new("pg-check");
    let config = check.0.join("iotpot.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[store]\npostgres = \"{}\"\n",
            check.0.join("data").display(),
            pg.conninfo()
        ),
    )
    .unwrap();
    let out = run_ok(
        std::process::Command::new(BIN)
            .args(["config", "check", "--config"])
            .arg(&config),
    );
    assert!(out.contains("configuration OK"), "{out}");
    assert_eq!(pg.psql("SELECT to_regclass('iotpot_schema') IS NULL"), "t");
    let netis = free_port();
    let mut hp = Honeypot::start(
        "pg-run",
        "dvr-xiongmai",
        &format!(
            "{}\n[store]\npostgres = \"{}\"\n",
            listen("netis", netis, "router-netis"),
            pg.conninfo()
        ),
    );
    // Attackers' strings PostgreSQL must take as they are.
    let nasty = [
        "o'hara\"; DROP TABLE events;--",
        "back\\slash \\u0000",
        "<script>é😀</script>",
    ];
    for user in nasty {
        let mut bot = Bot::connect(hp.addr);
        bot.login(user, "pw");
    }
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "xc3511");
    bot.run("echo 'it''s' \"a\\\\b\" ; uname -a");
    drop(bot);
    netis_probe(netis);
    hp.wait_closed(nasty.len() + 1);
    hp.stop();
    let log = hp.stderr.lock().unwrap().clone();
    assert!(!log.contains("sink write failed"), "{log}");

    // The history, and one event of each rarer kind, through both writers.
    let mut sqlite = iotpot_store::sqlite::SqliteSink::open(&hp.data().join("iotpot.db")).unwrap();
    let mut postgres = iotpot_store::postgres::PostgresSink::open(&pg.conninfo()).unwrap();
    let mut events = history_events();
    events.extend(rare_events());
    write(&mut sqlite, &events);
    write(&mut postgres, &events);
    drop((sqlite, postgres));

    // Every table: as many rows.
    let db = hp.db();
    let tables = column(
        &db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    assert!(tables.len() >= 20, "{tables:?}");
    for t in &tables {
        let here: i64 = db
            .query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
            .unwrap();
        let there: i64 = pg
            .psql(&format!("SELECT COUNT(*) FROM {t}"))
            .parse()
            .unwrap();
        assert_eq!(
            here, there,
            "rows of {t}: SQLite {here}, PostgreSQL {there}"
        );
    }
    assert!(
        pg.psql("SELECT COUNT(*) FROM events")
            .parse::<i64>()
            .unwrap()
            > 1000,
        "the history is in PostgreSQL"
    );
    // The attackers' strings, read back by psql: NUL as \x00, the rest
    // as sent, in the columns and in the events' JSON.
    let users =
        pg.psql("SELECT username FROM sessions WHERE username IS NOT NULL ORDER BY username");
    for expected in [
        "o'hara\"; DROP TABLE events;--",
        "back\\slash \\u0000",
        "<script>é😀</script>",
    ] {
        assert!(
            users.lines().any(|l| l == expected),
            "{expected:?} not in {users:?}"
        );
    }
    let from_json = pg.psql(
        "SELECT data->>'password' FROM events WHERE eventid = 'iotpot.login.failed' AND data->>'username' = 'ro\\x00ot'",
    );
    assert_eq!(from_json, "pw\\x00x");
    assert_eq!(pg.psql("SELECT COUNT(*) FROM iotpot_schema"), "1");

    // The reports: PostgreSQL (the honeypot's config) against SQLite (the
    // same data_dir without `postgres`).
    let with_pg = hp.dir.0.join("iotpot.toml");
    let sqlite_only = hp.dir.0.join("sqlite.toml");
    let text = std::fs::read_to_string(&with_pg).unwrap();
    std::fs::write(
        &sqlite_only,
        text.lines()
            .filter(|l| !l.starts_with("postgres ="))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    for window in [
        &[][..],
        &["--since", "2026-08-20", "--until", "2026-09-17"][..],
    ] {
        let a = report(&hp, &sqlite_only, window);
        let b = report(&hp, &with_pg, window);
        for (x, y) in a["sections"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b["sections"].as_array().unwrap())
        {
            assert_eq!(x, y, "section {} differs ({window:?})", x["id"]);
        }
        assert_eq!(a, b);
        // Every section has something to show, so the comparison means
        // something.
        for s in b["sections"].as_array().unwrap() {
            let rows: usize = s["tables"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["rows"].as_array().unwrap().len())
                .sum();
            assert!(rows > 0, "section {} is empty ({window:?})", s["id"]);
        }
    }

    // The dashboard over PostgreSQL answers as over SQLite (curl, as a
    // script would read it): the live sessions, a transcript with the
    // device's answers, a section, a sample's page.
    require("curl");
    let (_a, over_sqlite) = dashboard(&sqlite_only);
    let (_b, over_pg) = dashboard(&with_pg);
    let sessions = curl(over_pg, "/api/sessions");
    assert_eq!(sessions, curl(over_sqlite, "/api/sessions"));
    let live: Value = serde_json::from_str(&sessions).unwrap();
    let id = live
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["commands"].as_i64() > Some(0) && s["sensor"] == "e2e")
        .expect("the bot's session is among the live ones")["session"]
        .as_str()
        .unwrap()
        .to_string();
    let transcript = curl(over_pg, &format!("/api/session/{id}"));
    assert!(transcript.contains("Linux"), "uname's answer: {transcript}");
    assert_eq!(transcript, curl(over_sqlite, &format!("/api/session/{id}")));
    for path in [
        "/api/section/credentials".to_string(),
        "/api/section/malware".to_string(),
        format!("/session/{id}"),
        format!("/sample/{}", "ab".repeat(32)),
        "/fragment/sessions".to_string(),
    ] {
        assert_eq!(curl(over_pg, &path), curl(over_sqlite, &path), "{path}");
    }
    // And they did read different databases: a row written to PostgreSQL
    // alone shows in its report and its dashboard only.
    pg.psql("INSERT INTO session_days VALUES ('2026-09-01', 'pg-only-sensor', 'x', 1)");
    pg.psql(
        "INSERT INTO sessions (session, start, src_ip, src_port, dst_ip, dst_port, sensor, protocol)
         VALUES ('pgonly', '2099-01-01T00:00:00.000000Z', '192.0.2.99', 1, '198.51.100.2', 23, 'e2e', 'telnet')",
    );
    let only = |v: &Value| v.to_string().contains("pg-only-sensor");
    assert!(only(&report(&hp, &with_pg, &[])));
    assert!(!only(&report(&hp, &sqlite_only, &[])));
    assert!(curl(over_pg, "/api/sessions").contains("pgonly"));
    assert!(!curl(over_sqlite, "/api/sessions").contains("pgonly"));
}

/// A honeypot whose PostgreSQL is down starts and serves all the same
/// (SQLite holds everything), and its sessions reach PostgreSQL once the
/// server is up.
#[test]
fn a_honeypot_runs_on_while_postgres_is_down() {
    let port = free_port();
    let conninfo = format!("host=127.0.0.1 port={port} user=iotpot dbname=iotpot");
    let mut hp = Honeypot::start(
        "pg-down",
        "dvr-xiongmai",
        &format!("[store]\npostgres = \"{conninfo}\"\n"),
    );
    // `config check` says the server does not answer, and passes.
    let out = std::process::Command::new(BIN)
        .args(["config", "check", "--config"])
        .arg(hp.dir.0.join("iotpot.toml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("warning: PostgreSQL") && said.contains("Connection refused"),
        "{said}"
    );
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "xc3511");
    bot.run("echo while-down");
    drop(bot);
    hp.wait_closed(1);
    assert!(
        hp.stderr
            .lock()
            .unwrap()
            .contains("PostgreSQL: not connected"),
        "{}",
        hp.stderr.lock().unwrap()
    );
    let pg = Postgres::start_on("pg-late", port);
    // Sessions until one is in PostgreSQL (a retry every 5 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut n = 1;
    loop {
        let mut bot = Bot::connect(hp.addr);
        bot.login_ok("root", "xc3511");
        bot.run("echo after");
        drop(bot);
        n += 1;
        hp.wait_closed(n);
        let there = pg.psql("SELECT to_regclass('sessions') IS NOT NULL");
        if there == "t" && pg.psql("SELECT COUNT(*) FROM sessions") != "0" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing reached PostgreSQL: {}",
            hp.stderr.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    hp.stop();
    assert!(hp
        .stderr
        .lock()
        .unwrap()
        .contains("PostgreSQL: connected again"));
    // SQLite has every session; PostgreSQL those after it came up, each
    // whole (its commands counted).
    let all: i64 = hp
        .db()
        .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(all, n as i64);
    let later: i64 = pg.psql("SELECT COUNT(*) FROM sessions").parse().unwrap();
    assert!(later >= 1 && later < all, "{later} of {all}");
    assert_eq!(
        pg.psql("SELECT COUNT(*) FROM sessions WHERE commands = 0 AND login_ok = 1"),
        "0"
    );
    assert_eq!(
        pg.psql("SELECT COUNT(*) FROM events WHERE data->>'input' = 'echo while-down'"),
        "0"
    );
}
