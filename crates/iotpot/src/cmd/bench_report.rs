//! `iotpot bench report`: how long `iotpot report` takes over a large
//! store. A store of `--events` events (a year of Mirai-style sessions and
//! 53413 probes, written through the SQLite writer `iotpot run` uses) is
//! made once in `--db` and kept; then each section is timed, and the whole
//! HTML report.

use iotpot_core::{EventKind, SessionInfo};
use iotpot_store::Sink;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Instant;

/// Make (or reuse) the store, then time the report.
pub fn run(events: u64, db: &Path) -> anyhow::Result<()> {
    let have = count(db);
    if have < events {
        if have > 0 {
            std::fs::remove_file(db)?;
            let _ = std::fs::remove_file(db.with_extension("db-wal"));
            let _ = std::fs::remove_file(db.with_extension("db-shm"));
        }
        println!("writing {events} events to {} (once)...", db.display());
        generate(&mut iotpot_store::sqlite::SqliteSink::open(db)?, events)?;
    } else {
        println!("reusing {} ({have} events)", db.display());
    }
    // Open it as `iotpot run` would (migrations, indexes), bring the
    // rollups up to date, then read.
    let conn = iotpot_store::sqlite::open(db)?;
    let t = Instant::now();
    let n = iotpot_store::rollup::update(&conn)?;
    if n > 0 {
        println!(
            "rolled up {n} events in {:.1} s ({:.0} events/s: the catch-up for a store an older iotpot wrote; the writer counts each batch as it stores it)",
            t.elapsed().as_secs_f64(),
            n as f64 / t.elapsed().as_secs_f64()
        );
    }
    time_report(&conn)
}

/// Each section alone, with the dashboard's refresh of it (the section
/// built and drawn as an HTML fragment, through the same request handling
/// as `iotpot dashboard`, without the socket); the live sessions; the
/// whole HTML report.
fn time_report(db: &dyn iotpot_store::sql::Db) -> anyhow::Result<()> {
    let window = iotpot_report::Window::default();
    let dashboard = iotpot_report::dashboard::Dashboard::new("bench".repeat(4), 5, false);
    let refresh = |path: &str| -> anyhow::Result<f64> {
        let head = format!(
            "GET {path} HTTP/1.1\r\nAuthorization: Bearer {}\r\n\r\n",
            "bench".repeat(4)
        );
        let Ok(Some((req, _))) = iotpot_wire::http::parse_head(head.as_bytes()) else {
            anyhow::bail!("the bench's own request does not parse");
        };
        let t = Instant::now();
        let r = dashboard.answer(db, &req);
        anyhow::ensure!(
            r.status == 200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    println!("section          ms   dashboard refresh ms");
    let mut total = 0.0;
    for (name, build) in iotpot_report::section::ALL {
        let t = Instant::now();
        build(db, &window)?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        total += ms;
        let live = refresh(&format!("/fragment/section/{name}"))?;
        println!("{name:<14} {ms:>6.0}   {live:>6.0}");
    }
    println!(
        "{:<14} {:>6}   {:>6.0}",
        "live sessions",
        "-",
        refresh("/fragment/sessions")?
    );
    let t = Instant::now();
    let report = iotpot_report::build(db, &window)?;
    let html = iotpot_report::html::render(&report);
    let s = t.elapsed().as_secs_f64();
    println!(
        "sections together {:.0} ms; the whole HTML report ({} KiB) {s:.2} s   (targets: <= 10 s for the report, <= 200 ms per section)",
        total,
        html.len() / 1024
    );
    Ok(())
}

/// The same over PostgreSQL (`[store] postgres`): the store made once
/// through its writer, then timed as above.
pub fn run_postgres(events: u64, conninfo: &str) -> anyhow::Result<()> {
    use iotpot_store::sql::Db;
    let pg = iotpot_store::postgres::Pg::connect(conninfo)?;
    let have = pg
        .one("SELECT COALESCE(MAX(id), 0) FROM events", &[])?
        .and_then(|v| v.as_i64())
        .unwrap_or(0) as u64;
    if have < events {
        anyhow::ensure!(
            have == 0,
            "the database holds {have} events already, fewer than {events}: give an empty one"
        );
        println!("writing {events} events to PostgreSQL (once)...");
        drop(pg);
        generate(
            &mut iotpot_store::postgres::PostgresSink::open(conninfo)?,
            events,
        )?;
        return run_postgres(events, conninfo);
    }
    println!("reusing the PostgreSQL store ({have} events)");
    time_report(&pg)
}

fn count(db: &Path) -> u64 {
    iotpot_store::sqlite::open_read(db)
        .ok()
        .and_then(|c| {
            c.query_row("SELECT MAX(id) FROM events", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .ok()
            .flatten()
        })
        .unwrap_or(0) as u64
}

/// A year of attacks: sessions from 200,000 addresses (a few of them very
/// busy), 500 credential pairs, commands, downloads of 2,000 samples, and
/// one event in ten a 53413 datagram.
fn generate(sink: &mut dyn Sink, events: u64) -> anyhow::Result<()> {
    let t = Instant::now();
    let mut rng = fastrand::Rng::with_seed(2016);
    let start = time::macros::datetime!(2026-01-01 00:00 UTC);
    let span = 365 * 86_400i64;
    let users = ["root", "admin", "guest", "support", "user", "default"];
    let mut batch = Vec::with_capacity(10_000);
    let mut written = 0u64;
    let dst: SocketAddr = "198.51.100.2:23".parse()?;
    while written < events {
        // Busy addresses: the square skews towards low numbers.
        let n = (rng.f64().powi(2) * 200_000.0) as u32;
        let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n * 7));
        let at = start + time::Duration::seconds((written as i64 * span) / events as i64);
        let sensor = ["tokyo-1", "osaka-2", "kyoto-3"][rng.usize(..3)];
        if rng.u8(..10) == 0 {
            let info = SessionInfo::new(
                SocketAddr::new(ip, rng.u16(1024..)),
                "198.51.100.2:53413".parse()?,
                sensor.into(),
                "netis",
            );
            let mut e = info.event(EventKind::NetisDatagram {
                length: 18,
                kind: ["scan-18", "probe", "login", "command"][rng.usize(..4)].into(),
                payload: String::new(),
                reply_length: 16,
            });
            e.timestamp = at;
            batch.push(e);
        } else {
            let info = SessionInfo::new(
                SocketAddr::new(ip, rng.u16(1024..)),
                dst,
                sensor.into(),
                "telnet",
            );
            let mut kinds = vec![
                EventKind::SessionConnect {},
                EventKind::SessionParams {
                    profile: "dvr-xiongmai".into(),
                    arch: "armv7l".into(),
                    device_type: "dvr".into(),
                },
            ];
            let pair = rng.usize(..500);
            let (user, pass) = (users[pair % users.len()], format!("pw{pair}"));
            for _ in 0..rng.u8(..3) {
                kinds.push(EventKind::LoginFailed {
                    username: user.into(),
                    password: format!("{pass}x"),
                });
            }
            if rng.u8(..10) < 8 {
                kinds.push(EventKind::LoginSuccess {
                    username: user.into(),
                    password: pass,
                });
                for c in 0..rng.u8(..5) {
                    kinds.push(EventKind::CommandInput {
                        input: format!("/bin/busybox ECCHI{c}"),
                        known: true,
                        output: format!("ECCHI{c}: applet not found\n"),
                        output_size: 24 + c.to_string().len() as u64,
                    });
                }
                if rng.u8(..10) == 0 {
                    let sample = rng.u16(..2000);
                    let url = format!("http://203.0.113.{}/bins/x{sample}.arm7", sample % 200);
                    kinds.push(EventKind::DownloadRequested {
                        url: url.clone(),
                        tool: "wget".into(),
                        outfile: "/tmp/x".into(),
                    });
                    kinds.push(EventKind::DownloadSuccess {
                        url: url.clone(),
                        final_url: url,
                        outfile: "/tmp/x".into(),
                        shasum: format!("{sample:064x}"),
                        size: 40_000,
                        duplicate: false,
                        remote: "203.0.113.1:80".into(),
                        parent: None,
                    });
                }
            }
            kinds.push(EventKind::SessionClosed {
                duration: 5.0,
                reason: "client".into(),
                bytes_in: 100,
                bytes_out: 400,
            });
            for (i, k) in kinds.into_iter().enumerate() {
                let mut e = info.event(k);
                e.timestamp = at + time::Duration::milliseconds(i as i64 * 300);
                batch.push(e);
            }
        }
        if batch.len() >= 10_000 {
            written += batch.len() as u64;
            flush(sink, &mut batch)?;
        }
    }
    written += batch.len() as u64;
    flush(sink, &mut batch)?;
    println!("{written} events in {:.0} s", t.elapsed().as_secs_f64());
    Ok(())
}

fn flush(sink: &mut dyn Sink, batch: &mut Vec<iotpot_core::Event>) -> anyhow::Result<()> {
    let json: Vec<String> = batch.iter().map(|e| e.to_json()).collect();
    sink.write(batch, &json)?;
    batch.clear();
    Ok(())
}
