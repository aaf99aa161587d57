//! The fetchers against real servers on loopback (allow-listed): Python's
//! http.server, tftpd-hpa and pyftpdlib from Debian; and the SSRF guard
//! against every spelling of a forbidden address, with a listener that must
//! see no connection.

use iotpot_downloader::fetch::{FetchError, Fetcher, Limits, Tool};
use iotpot_downloader::guard::Guard;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

/// Start a server quietly; it is killed when dropped.
fn quiet(cmd: &mut Command) -> Server {
    Server(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}")),
    )
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require(path: &str) {
    assert!(
        std::path::Path::new(path).exists(),
        "{path} is missing: run the README's test command (scripts/test), which installs it"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_tcp(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server on {port} never came up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("iotpot-fetch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    let mut v = b"\x7fELF\x01\x01\x01\x00".to_vec();
    v.extend((0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

fn loopback_fetcher() -> Fetcher {
    Fetcher {
        guard: Guard::new(&["127.0.0.0/8".into()], &[]).unwrap(),
        limits: Limits {
            timeout: Duration::from_secs(20),
            ..Limits::default()
        },
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn http_from_python_http_server() {
    require("/usr/bin/python3");
    let d = dir("http");
    let body = payload(70_000, 1);
    std::fs::create_dir_all(d.join("bins")).unwrap();
    std::fs::write(d.join("bins/mirai.arm"), &body).unwrap();
    let port = free_port();
    let _srv = quiet(
        Command::new("/usr/bin/python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(&d),
    );
    wait_tcp(port);
    let f = loopback_fetcher();
    let got = rt()
        .block_on(f.fetch(
            &format!("http://127.0.0.1:{port}/bins/mirai.arm"),
            Tool::Wget,
        ))
        .unwrap();
    assert_eq!(got.bytes, body);
    assert_eq!(got.status, Some(200));
    // http.server redirects /bins to /bins/: followed.
    let listing = rt()
        .block_on(f.fetch(&format!("http://127.0.0.1:{port}/bins"), Tool::Curl))
        .unwrap();
    assert!(String::from_utf8_lossy(&listing.bytes).contains("mirai.arm"));
    assert!(listing.final_url.ends_with("/bins/"));
    let missing = rt()
        .block_on(f.fetch(&format!("http://127.0.0.1:{port}/nope"), Tool::Wget))
        .unwrap_err();
    assert!(matches!(missing, FetchError::Status(404, _)), "{missing:?}");
    let small = Fetcher {
        limits: Limits {
            max_bytes: 1000,
            ..Limits::default()
        },
        ..loopback_fetcher()
    };
    assert!(matches!(
        rt().block_on(small.fetch(
            &format!("http://127.0.0.1:{port}/bins/mirai.arm"),
            Tool::Wget
        )),
        Err(FetchError::TooLarge(1000))
    ));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn tftp_from_tftpd_hpa() {
    require("/usr/sbin/in.tftpd");
    let d = dir("tftp");
    let files = [
        ("a.x86", payload(1500, 2)),
        ("exact.bin", payload(1024 - 8, 3)),
        ("empty", Vec::new()),
    ];
    for (n, b) in &files {
        std::fs::write(d.join(n), b).unwrap();
    }
    // World-readable: tftpd drops privileges.
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&d)
        .status()
        .unwrap();
    let port = free_port();
    let _srv = quiet(
        Command::new("/usr/sbin/in.tftpd")
            .args(["-L", "-a", &format!("127.0.0.1:{port}"), "-s"])
            .arg(&d),
    );
    std::thread::sleep(Duration::from_millis(300));
    let f = loopback_fetcher();
    for (n, b) in &files {
        let got = rt()
            .block_on(f.fetch(&format!("tftp://127.0.0.1:{port}/{n}"), Tool::Tftp))
            .unwrap_or_else(|e| panic!("{n}: {e:?}"));
        assert_eq!(&got.bytes, b, "{n}");
    }
    let err = rt()
        .block_on(f.fetch(&format!("tftp://127.0.0.1:{port}/missing"), Tool::Tftp))
        .unwrap_err();
    assert!(matches!(err, FetchError::Protocol(_)), "{err:?}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn ftp_from_pyftpdlib() {
    require("/usr/bin/python3");
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import pyftpdlib"])
        .status()
        .unwrap()
        .success();
    assert!(ok, "python3-pyftpdlib is missing: run the README's test command (scripts/test), which installs it");
    let d = dir("ftp");
    let body = payload(40_000, 4);
    std::fs::write(d.join("ftp1.sh"), &body).unwrap();
    let port = free_port();
    let _srv = quiet(
        Command::new("/usr/bin/python3")
            .args([
                "-m",
                "pyftpdlib",
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-d",
            ])
            .arg(&d),
    );
    wait_tcp(port);
    let f = loopback_fetcher();
    let got = rt()
        .block_on(f.fetch(
            &format!("ftp://anonymous:anonymous@127.0.0.1:{port}/ftp1.sh"),
            Tool::Ftpget,
        ))
        .unwrap();
    assert_eq!(got.bytes, body);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn every_spelling_of_a_forbidden_address_is_refused_without_a_packet() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let p = listener.local_addr().unwrap().port();
    let f = Fetcher::default();
    let urls = [
        format!("http://127.0.0.1:{p}/"),
        format!("http://2130706433:{p}/"),
        format!("http://0x7f.1:{p}/"),
        format!("http://017700000001:{p}/"),
        format!("http://127.1:{p}/"),
        format!("http://0x7F000001:{p}/"),
        format!("http://%31%32%37.0.0.1:{p}/"),
        format!("http://[::ffff:127.0.0.1]:{p}/"),
        format!("http://[::1]:{p}/"),
        format!("http://localhost:{p}/"),
        format!("tftp://127.0.0.1:{p}/x"),
        format!("ftp://127.0.0.1:{p}/x"),
        "http://10.0.0.1/".into(),
        "http://192.168.1.1/".into(),
        "http://100.64.0.1/".into(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://[fe80::1]/".into(),
        "http://0.0.0.0/".into(),
        "http://255.255.255.255/".into(),
        "http://224.0.0.1/".into(),
        "http://[64:ff9b::7f00:1]/".into(),
    ];
    for u in &urls {
        let r = rt().block_on(f.fetch(u, Tool::Wget));
        assert!(matches!(r, Err(FetchError::Refused { .. })), "{u}: {r:?}");
    }
    // A redirect from an allowed server to a forbidden one is refused too.
    let redirector = TcpListener::bind("127.0.0.2:0").unwrap();
    let rport = redirector.local_addr().unwrap().port();
    let target = format!("http://127.0.0.1:{p}/");
    // The redirecting server answers once and says what it was asked.
    let asked = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = redirector.accept().ok()?;
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).ok()?;
        s.write_all(
            format!("HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        )
        .ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    });
    let only_2 = Fetcher {
        guard: Guard::new(&["127.0.0.2".into()], &[]).unwrap(),
        ..Fetcher::default()
    };
    let r = rt().block_on(only_2.fetch(&format!("http://127.0.0.2:{rport}/x.sh"), Tool::Wget));
    match &r {
        Err(FetchError::Refused { addr, .. }) => assert_eq!(addr.to_string(), "127.0.0.1"),
        other => panic!("the redirect was not refused: {other:?}"),
    }
    // It was the redirect that was refused: the first server was asked.
    let request = asked
        .join()
        .unwrap()
        .expect("the redirecting server was never contacted");
    assert!(request.starts_with("GET /x.sh HTTP/1.1\r\n"), "{request}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        listener.accept().is_err(),
        "the forbidden listener saw a connection"
    );
}

#[test]
fn https_from_python_with_a_self_signed_certificate() {
    require("/usr/bin/python3");
    require("/usr/bin/openssl");
    let d = dir("https");
    let ok = Command::new("/usr/bin/openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=evil.example",
            "-keyout",
        ])
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl could not make a test certificate");
    let body = payload(50_000, 5);
    std::fs::write(d.join("x.arm"), &body).unwrap();
    let port = free_port();
    let server = format!(
        "import http.server, ssl\n\
         ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n\
         ctx.load_cert_chain('cert.pem', 'key.pem')\n\
         httpd = http.server.HTTPServer(('127.0.0.1', {port}), http.server.SimpleHTTPRequestHandler)\n\
         httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)\n\
         httpd.serve_forever()\n"
    );
    let _srv = quiet(
        Command::new("/usr/bin/python3")
            .args(["-c", &server])
            .current_dir(&d),
    );
    wait_tcp(port);
    let got = rt()
        .block_on(loopback_fetcher().fetch(&format!("https://127.0.0.1:{port}/x.arm"), Tool::Wget))
        .unwrap();
    assert_eq!(got.bytes, body);
    let _ = std::fs::remove_dir_all(&d);
}
