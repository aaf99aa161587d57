//! `iotpot bench profiler`: the scan-back of many attackers at once, and
//! what it costs the honeypot's Telnet throughput.
//!
//! In a network namespace of its own (`unshare -rn`, re-executing itself),
//! a block of addresses is made local (`ip route add local ...`) and fake
//! devices answer on every profiler port of every one of them (BusyBox
//! telnetd, FTP, SSH, a web login, TLS closing at once, RTSP). Then twice,
//! on a fresh honeypot each time: the Mirai-style closed loop alone (the
//! profiler off), and the same loop while HOSTS attackers log in once each
//! and are scanned back (the profiler on, its default concurrency). Nothing
//! leaves the namespace.

use super::bench::{free_port, wait_listening};
use iotpot_loadgen::client::Scenario;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The attackers' addresses: 10.77.0.1 and up (private: the scan-back is
/// allowed to them by the benchmark's config only).
const BLOCK: &str = "10.77.0.0/20";
const PORTS: &[u16] = &[21, 22, 23, 80, 443, 554, 7547, 8080];
const INSIDE: &str = "IOTPOT_BENCH_NETNS";

pub fn run(hosts: usize, seconds: f64, concurrency: usize, pace: u32) -> anyhow::Result<()> {
    if std::env::var_os(INSIDE).is_none() {
        let status = Command::new("unshare")
            .arg("-rn")
            .arg(std::env::current_exe()?)
            .args(std::env::args_os().skip(1))
            .env(INSIDE, "1")
            .status()
            .map_err(|e| anyhow::anyhow!("unshare (util-linux) is needed: {e}"))?;
        anyhow::ensure!(status.success(), "the benchmark failed");
        return Ok(());
    }
    anyhow::ensure!(hosts > 0 && hosts < 4000, "--hosts must be 1 to 3999");
    for args in [
        &["link", "set", "lo", "up"][..],
        &["route", "add", "local", BLOCK, "dev", "lo"][..],
    ] {
        let ok = Command::new("ip").args(args).status()?.success();
        anyhow::ensure!(ok, "ip {} failed", args.join(" "));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        for port in PORTS {
            let l = tokio::net::TcpListener::bind(("0.0.0.0", *port)).await?;
            tokio::spawn(fake_device(l, *port));
        }
        let off = round(false, hosts, seconds, concurrency, pace).await?;
        let on = round(true, hosts, seconds, concurrency, pace).await?;
        println!(
            "{:<13} {:>12} {:>9} {:>9}",
            "profiler", "sessions/s", "p50 ms", "p99 ms"
        );
        for (name, r) in [("off", &off), ("on", &on)] {
            println!(
                "{name:<13} {:>12.0} {:>9.2} {:>9.2}",
                r.load.sessions_per_sec, r.load.p50_ms, r.load.p99_ms
            );
        }
        println!(
            "with the scan-back running: {:.0}% of the Telnet sessions/s without it   (target >= 90%)",
            100.0 * on.load.sessions_per_sec / off.load.sessions_per_sec.max(1e-9)
        );
        if let Some((scanned, took, grabs)) = on.scanned {
            println!(
                "scan-back ({pace} hosts/minute at most): {scanned} of {hosts} attackers x {} ports scanned in {took:.1} s ({:.0} grabs/s, {:.1} hosts/s)",
                PORTS.len(),
                grabs as f64 / took,
                scanned as f64 / took
            );
        }
        anyhow::Ok(())
    })
}

struct Round {
    load: iotpot_loadgen::client::LoadResult,
    /// Hosts scanned, seconds, grabs.
    scanned: Option<(usize, f64, usize)>,
}

async fn round(
    profiler: bool,
    hosts: usize,
    seconds: f64,
    c: usize,
    pace: u32,
) -> anyhow::Result<Round> {
    let dir = std::env::temp_dir().join(format!(
        "iotpot-bench-profiler-{}-{profiler}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let config = super::bench::bench_config(
        &dir,
        port,
        &format!(
            "[capture]\nenabled = false\n[iotbox]\nenabled = false\n[profiler]\nenabled = {profiler}\nallow = [\"{BLOCK}\"]\nports = {PORTS:?}\nhosts_per_minute = {pace}\n"
        ),
    )?;
    let iotpot = super::bench::spawn_run(&config)?;
    let target: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    wait_listening(target).await?;
    let started = Instant::now();
    if profiler {
        eprintln!("profiler on: {hosts} attackers log in once each");
        attack(target, hosts).await;
    } else {
        eprintln!("profiler off");
    }
    let sc = Scenario {
        target,
        username: "root".into(),
        password: "xc3511".into(),
        expect_busybox: true,
    };
    eprintln!("closed loop, concurrency {c}, {seconds} s");
    let load = sc.closed_loop(c, Duration::from_secs_f64(seconds)).await;
    let mut scanned = None;
    if profiler {
        let db = dir.join("data").join("iotpot.db");
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let (n, grabs) = count(&db);
            if n >= hosts || Instant::now() > deadline {
                scanned = Some((n, started.elapsed().as_secs_f64(), grabs));
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    super::bench::terminate(iotpot);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Round { load, scanned })
}

/// Verdicts and grabs in the store so far.
fn count(db: &std::path::Path) -> (usize, usize) {
    let Ok(conn) = iotpot_store::sqlite::open_read(db) else {
        return (0, 0);
    };
    let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap_or(0) as usize;
    (
        q("SELECT count(*) FROM events WHERE eventid = 'iotpot.profiler.verdict'"),
        q("SELECT count(*) FROM events WHERE eventid = 'iotpot.profiler.grab'"),
    )
}

/// One failed Telnet login from each of `hosts` addresses, 64 at a time.
async fn attack(target: SocketAddr, hosts: usize) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..hosts {
        let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 77, 0, 1)) + i as u32);
        let slot = slots.clone().acquire_owned().await;
        tasks.spawn(async move {
            let _slot = slot;
            let _ =
                tokio::time::timeout(Duration::from_secs(10), login(IpAddr::V4(ip), target)).await;
        });
    }
    while tasks.join_next().await.is_some() {}
}

async fn login(src: IpAddr, target: SocketAddr) -> std::io::Result<()> {
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.bind(SocketAddr::new(src, 0))?;
    let mut s = sock.connect(target).await?;
    let mut buf = Vec::new();
    for (wait, send) in [(&b"ogin"[..], &b"root\r\n"[..]), (b"assword", b"nope\r\n")] {
        while !buf.windows(wait.len()).any(|w| w == wait) {
            let mut chunk = [0u8; 1024];
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        s.write_all(send).await?;
    }
    let mut chunk = [0u8; 256];
    let _ = s.read(&mut chunk).await;
    Ok(())
}

/// Every address of the block answers on `port` as a cheap DVR would.
async fn fake_device(l: tokio::net::TcpListener, port: u16) {
    loop {
        let Ok((mut s, _)) = l.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let greeting: &[u8] = match port {
                21 => b"220 DVR FTP server ready.\r\n",
                22 => b"SSH-2.0-dropbear_2019.78\r\n",
                23 => b"\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03\r\nIMDVRS login: ",
                443 => return,
                _ => b"",
            };
            if !greeting.is_empty() {
                let _ = s.write_all(greeting).await;
                let mut sink = [0u8; 512];
                let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut sink)).await;
                return;
            }
            let mut req = Vec::new();
            let mut chunk = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => req.extend_from_slice(&chunk[..n]),
                    _ => return,
                }
            }
            let answer: &[u8] = if port == 554 {
                b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Hipcam RealServer/V1.0\r\n\r\n"
            } else {
                b"HTTP/1.0 401 Unauthorized\r\nServer: Hikvision-Webs\r\nWWW-Authenticate: Basic realm=\"DVR\"\r\nContent-Length: 0\r\n\r\n"
            };
            let _ = s.write_all(answer).await;
        });
    }
}
