//! `iotpot bench sensor`: the same Mirai-style Telnet sessions straight to
//! a central and through a sensor of it, on loopback: what the relay adds
//! to each session's latency, the relayed sessions/s against direct, and
//! the sensor's memory per idle relayed session.

use super::bench::{
    free_port, measure, print_results, terminate, wait_listening, KillOnDrop, TelnetArgs,
};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

/// Request/answer exchanges in one benchmark session (the banner, user,
/// password, `enable`, `/bin/busybox ECCHI`, `cat /proc/cpuinfo`).
const ROUND_TRIPS: f64 = 6.0;

pub async fn run(a: TelnetArgs, udp_rates: Vec<u64>) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("iotpot-bench-sensor-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (link, direct, relayed, udp) = (free_port()?, free_port()?, free_port()?, free_port()?);
    let config = dir.join("central.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n\
             [[listen]]\nservice = \"sensors\"\naddress = \"127.0.0.1:{link}\"\n\
             [[listen]]\nservice = \"telnet\"\naddress = \"127.0.0.1:{direct}\"\nprofile = \"dvr-xiongmai\"\n\
             [[sensor]]\nname = \"bench\"\n\
             [[sensor.listen]]\nservice = \"telnet\"\naddress = \"127.0.0.2:{relayed}\"\nprofile = \"dvr-xiongmai\"\n\
             [[sensor.listen]]\nservice = \"netis\"\naddress = \"127.0.0.3:{udp}\"\nprofile = \"router-netis\"\n\
             [limits]\nmax_sessions = 200000\nmax_sessions_per_ip = 200000\n\
             datagrams_per_ip_per_second = 1000000\ndatagrams_per_second = 1000000\n[log]\nlevel = \"warn\"\n",
            dir.join("data")
        ),
    )?;
    let mut pki =
        iotpot_proxy::pki::Pki::init(&dir.join("data/pki"), &format!("127.0.0.1:{link}"))?;
    let sensor_config = dir.join("bench.toml");
    std::fs::write(
        &sensor_config,
        pki.issue_sensor("bench", 1)?.to_toml("bench"),
    )?;
    let exe = std::env::current_exe()?;
    let central = super::bench::spawn_run(&config)?;
    let direct: SocketAddr = format!("127.0.0.1:{direct}").parse()?;
    wait_listening(direct).await?;
    let sensor = KillOnDrop(
        Command::new(&exe)
            .args(["sensor", "--config"])
            .arg(&sensor_config)
            // Its spool (degraded mode) in the bench's directory.
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let relayed: SocketAddr = format!("127.0.0.2:{relayed}").parse()?;
    wait_listening(relayed).await?;
    // Direct first (named as the baseline), then through the sensor, whose
    // own memory is the idle figure.
    let results = vec![
        measure("direct", direct, Some(central.0.id()), true, &a).await,
        measure("sensor", relayed, Some(sensor.0.id()), true, &a).await,
    ];
    let face: SocketAddr = format!("127.0.0.3:{udp}").parse()?;
    let mut udp_results = Vec::new();
    for rate in udp_rates.iter().copied().filter(|r| *r > 0) {
        eprintln!("sensor: 53413 probes at {rate}/s for {} s", a.seconds);
        udp_results.push((rate, datagrams(face, rate, a.seconds).await?));
    }
    terminate(sensor);
    terminate(central);
    let _ = std::fs::remove_dir_all(&dir);
    print_results(&results, "direct");
    for (d, s) in results[0].load.iter().zip(&results[1].load) {
        println!(
            "c={:<4} the relay adds per session p50 {:+.2} ms, p99 {:+.2} ms ({} round trips: {:+.2} / {:+.2} ms each)   (targets: <= 1 ms p50, <= 5 ms p99 per round trip at c=50; >= 70% of direct sessions/s at c=200)",
            d.concurrency,
            s.p50_ms - d.p50_ms,
            s.p99_ms - d.p99_ms,
            ROUND_TRIPS,
            (s.p50_ms - d.p50_ms) / ROUND_TRIPS,
            (s.p99_ms - d.p99_ms) / ROUND_TRIPS,
        );
    }
    if let Some(kib) = results[1].rss_per_idle_session_kib {
        println!("sensor RSS per idle relayed session: {kib:.2} KiB   (target <= 4 KiB)");
    }
    for (rate, (sent, answered, secs)) in &udp_results {
        println!(
            "53413/udp through the sensor at {rate}/s: {sent} probes sent in {secs:.1} s ({:.0}/s), {answered} answered, {} lost ({:.2}%)   (target: >= 20000/s, none lost)",
            *sent as f64 / secs,
            sent - answered,
            100.0 * (*sent - *answered) as f64 / (*sent).max(1) as f64
        );
    }
    if let Some(path) = &a.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)? + "\n")?;
    }
    Ok(())
}

/// Send the 8-byte probe to `face` at `rate` per second for `seconds`; the
/// probes sent, the answers received (a second after the last), the
/// seconds the sending took.
async fn datagrams(face: SocketAddr, rate: u64, seconds: f64) -> anyhow::Result<(u64, u64, f64)> {
    let sock = std::sync::Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await?);
    sock.connect(face).await?;
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (r, count) = (sock.clone(), answered.clone());
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while r.recv(&mut buf).await.is_ok() {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let start = std::time::Instant::now();
    let total = (rate as f64 * seconds) as u64;
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(1));
    while sent < total {
        tick.tick().await;
        // As many as the clock says are due (the loop catches up after a
        // late tick).
        let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        while sent < due {
            if sock.send(&[0u8; 8]).await.is_ok() {
                sent += 1;
            }
        }
    }
    let took = start.elapsed().as_secs_f64();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    reader.abort();
    Ok((
        sent,
        answered.load(std::sync::atomic::Ordering::Relaxed),
        took,
    ))
}
