//! `iotpot dashboard` in a real headless Chromium (Debian's `chromium`,
//! driven over the DevTools protocol): it refuses a visitor without the
//! token, shows the report's sections, follows a new session without a
//! reload, and shows a session's transcript — typed lines and the device's
//! answers, downloads linked to their sample's metadata — with every
//! hostile string as text and none of its scripts run. Over TLS with curl.

mod common;

use common::browser::Browser;
use common::*;
use serde_json::Value;
use sha2::Digest;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

const USER: &str = "<script>window.pwned=1</script>";
const PASS: &str = "\"><img src=x onerror=\"window.pwned=2\">";
const ECHO: &str = "echo '<script>window.pwned=3</script>'";
const LINK: &str = "javascript:window.pwned=4";

/// `iotpot dashboard ARGS` against the honeypot's config: the process and
/// the address it printed (with its token).
fn dashboard(hp: &Honeypot, args: &[&str]) -> (Daemon, String) {
    let mut child = Command::new(BIN)
        .arg("dashboard")
        .args(args)
        .arg("--config")
        .arg(hp.dir.0.join("iotpot.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    capture(child.stderr.take().unwrap(), log.clone());
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let d = Daemon { child, log };
    let url = line
        .trim()
        .strip_prefix("iotpot dashboard: ")
        .unwrap_or_else(|| panic!("no address printed: {line:?} {}", d.log()))
        .to_string();
    (d, url)
}

/// One raw HTTP/1.1 request: the status line and headers, and the body.
fn get(port: u16, request: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").unwrap_or((&all, ""));
    (head.to_string(), body.to_string())
}

#[test]
fn the_dashboard_follows_sessions_and_shows_attackers_strings_as_text() {
    require("chromium");
    require("curl");
    require("openssl");
    let files = TempDir::new("dashboard-files");
    let dropped = b"#!/bin/sh\necho dropped-by-the-bot\n";
    std::fs::write(files.0.join("bot.sh"), dropped).unwrap();
    let web = free_port();
    let _server = http_server(&files.0, web);
    let hp = Honeypot::start(
        "dashboard",
        "dvr-xiongmai",
        "[downloader]\nallow = [\"127.0.0.1/32\"]\n",
    );
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "xc3511");
    bot.run("uname -a");
    drop(bot);
    hp.wait_closed(1);

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let (_d, url) = dashboard(&hp, &["--listen", &listen, "--refresh", "1"]);
    let token = url.split("token=").nth(1).unwrap().to_string();
    assert_eq!(url, format!("http://{listen}/?token={token}"));
    assert_eq!(token.len(), 32, "128 random bits");

    // No token, a wrong one, or a write: refused.
    for req in [
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(),
        "GET /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
        format!(
            "GET /?token={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "0".repeat(32)
        ),
        "GET /static/dashboard.js HTTP/1.1\r\nCookie: iotpot_dashboard=nope\r\nConnection: close\r\n\r\n"
            .into(),
    ] {
        let (head, body) = get(port, &req);
        assert!(head.starts_with("HTTP/1.1 401"), "{req:?}: {head}");
        assert!(!body.contains("<html"), "{body}");
    }
    let (head, _) = get(
        port,
        &format!("POST /api/sessions HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    );
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    let (head, body) = get(
        port,
        &format!("GET /api/sessions HTTP/1.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Content-Security-Policy: default-src 'none'; script-src 'self'"));
    let sessions: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{body}");

    // A browser without the token sees the refusal, and nothing else.
    let mut stranger = Browser::start();
    stranger.goto(&format!("http://{listen}/"));
    let text = stranger.eval("document.body.innerText");
    assert!(text.as_str().unwrap().contains("needs its token"), "{text}");
    drop(stranger);

    // With the token: redirected to `/` (the token leaves the address bar),
    // every section drawn, the session list filled in.
    let mut b = Browser::start();
    b.goto(&url);
    assert_eq!(b.eval("location.href"), format!("http://{listen}/"));
    b.until("every section and the session list loaded", |b| {
        b.eval("document.querySelectorAll('section[data-src] h2').length") == 10
            && b.eval("document.querySelectorAll('#live tbody tr').length") == 1
    });
    let charts = b.eval("document.querySelectorAll('section svg.chart').length");
    assert!(charts.as_i64().unwrap() >= 3, "{charts} charts");
    assert_eq!(
        b.eval("document.querySelectorAll('#live tbody tr').length"),
        1
    );
    let funnel = b.eval("document.getElementById('funnel').textContent");
    assert!(funnel.as_str().unwrap().contains("login"), "{funnel}");

    // Two new sessions from an attacker whose every string is hostile: a
    // login refused, then a login and commands; the page follows them
    // without a reload.
    b.eval("window.stillTheSamePage = 42");
    let mut bot = Bot::connect(hp.addr);
    let refused = bot.login(USER, PASS);
    assert!(refused.contains("incorrect"), "{refused}");
    drop(bot);
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "xc3511");
    assert!(bot.run(ECHO).contains("<script>window.pwned=3</script>"));
    // (The terminal's echo of the typed line leaves the escape byte out.)
    let red = bot.cmd("echo \"\x1b[31mred\x1b[0m\"");
    assert!(red.contains("\r\n\x1b[31mred\x1b[0m\r\n"), "{red:?}");
    bot.run(&format!("wget http://127.0.0.1:{web}/bot.sh"));
    bot.run(&format!("wget '{LINK}'"));
    assert_eq!(bot.run("/bin/busybox ECCHI"), "ECCHI: applet not found\n");
    drop(bot);
    hp.wait_closed(3);
    // The store holds them raw: only the dashboard's escaping keeps them
    // inert.
    let raw = column(
        &hp.db(),
        "SELECT data FROM events WHERE eventid = 'iotpot.login.failed'",
    );
    assert!(raw
        .iter()
        .any(|d| d.contains("<script>window.pwned=1</script>")));
    b.until("the new sessions in the live list", |b| {
        b.eval("document.querySelectorAll('#live tbody tr').length") == 3
    });
    assert_eq!(b.eval("window.stillTheSamePage"), 42, "the page reloaded");
    let live = b.eval("document.getElementById('live').textContent");
    assert!(live.as_str().unwrap().contains(USER), "{live}");
    assert!(live.as_str().unwrap().contains(PASS), "{live}");
    // What the page's parts became: nothing of theirs is an element.
    let injected = "document.querySelectorAll('img, iframe, object, embed, [onerror], [onload], a[href^=javascript]').length";
    assert_eq!(b.eval(injected), 0);

    // The refused login's transcript.
    let href = |b: &mut Browser, row: &str| -> String {
        let h = b.eval(&format!(
            "document.querySelector('#live tbody tr{row} a').getAttribute('href')"
        ));
        let h = h.as_str().unwrap().to_string();
        assert!(h.starts_with("/session/"), "{h}");
        h
    };
    let refused = href(&mut b, ":nth-child(2)");
    let commands = href(&mut b, ":first-child");
    b.goto(&format!("http://{listen}{refused}"));
    let text = b.eval("document.body.textContent");
    for shown in [USER, PASS, "login.failed"] {
        assert!(
            text.as_str().unwrap().contains(shown),
            "{shown:?} not shown in {text}"
        );
    }
    assert_eq!(b.eval(injected), 0);

    // The other one's: each line typed and what the device answered.
    b.goto(&format!("http://{listen}{commands}"));
    let text = b.eval("document.body.textContent");
    let text = text.as_str().unwrap();
    for shown in [
        ECHO,
        "\\x1b[31mred\\x1b[0m",
        LINK,
        "/bin/busybox ECCHI",
        "login.success",
    ] {
        assert!(text.contains(shown), "{shown:?} not shown in {text}");
    }
    let answers =
        b.eval("[...document.querySelectorAll('pre.out')].map(p => p.textContent).join('\\n')");
    let answers = answers.as_str().unwrap();
    for answer in [
        "ECCHI: applet not found",
        "<script>window.pwned=3</script>",
        "\\x1b[31mred\\x1b[0m",
    ] {
        assert!(
            answers.contains(answer),
            "{answer:?} not among the answers: {answers}"
        );
    }
    assert_eq!(b.eval(injected), 0);
    assert_eq!(b.eval("document.querySelectorAll('svg').length"), 0);
    assert_eq!(
        b.eval("[...document.scripts].map(s => s.getAttribute('src')).join(',')"),
        "/static/dashboard.js"
    );
    assert_eq!(b.eval("typeof window.pwned"), "undefined");

    // The download links to its sample's metadata, never to its bytes.
    let sha = hex::encode(sha2::Sha256::digest(dropped));
    let sample = b.eval("document.querySelector('a.sample').getAttribute('href')");
    assert_eq!(sample, format!("/sample/{sha}"));
    b.goto(&format!("http://{listen}/sample/{sha}"));
    let text = b.eval("document.body.textContent");
    let text = text.as_str().unwrap();
    assert!(text.contains(&sha) && text.contains(&format!("http://127.0.0.1:{web}/bot.sh")));
    assert!(text.contains("never serves"), "{text}");
    assert!(
        !text.contains("echo dropped-by-the-bot"),
        "the sample's bytes: {text}"
    );
    let complaints = b.complaints();
    assert!(complaints.is_empty(), "{complaints:#?}");
    if let Ok(to) = std::env::var("IOTPOT_DASHBOARD_SCREENSHOT") {
        b.goto(&format!("http://{listen}{commands}"));
        b.call("Emulation.setDeviceMetricsOverride", serde_json::json!({"width": 1100, "height": 900, "deviceScaleFactor": 1, "mobile": false}));
        let shot = b.call(
            "Page.captureScreenshot",
            serde_json::json!({"format": "png"}),
        );
        let b64 = hp.dir.0.join("shot.b64");
        std::fs::write(&b64, shot["data"].as_str().unwrap()).unwrap();
        let out = Command::new("base64").arg("-d").arg(&b64).output().unwrap();
        assert!(out.status.success() && out.stdout.starts_with(b"\x89PNG"));
        std::fs::write(to, out.stdout).unwrap();
    }
    drop(b);

    // Anywhere but loopback: TLS, or an explicit flag for clear text.
    let refused = Command::new(BIN)
        .args(["dashboard", "--listen", "0.0.0.0:1", "--config"])
        .arg(hp.dir.0.join("iotpot.toml"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--tls-cert"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let (cert, key) = (hp.dir.0.join("cert.pem"), hp.dir.0.join("key.pem"));
    run_ok(
        Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "2", "-subj", "/CN=iotpot dashboard"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    let tls_port = free_port();
    let (_t, tls_url) = dashboard(
        &hp,
        &[
            "--listen",
            &format!("127.0.0.1:{tls_port}"),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(tls_url.starts_with(&format!("https://127.0.0.1:{tls_port}/?token=")));
    // curl checks the certificate against the one made here.
    let head = run_ok(
        Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-D", "-", "--cacert"])
            .arg(&cert)
            .arg(&tls_url),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    assert!(head.contains("HttpOnly; SameSite=Strict; Secure"), "{head}");
}
