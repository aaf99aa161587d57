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

pub async fn run(a: TelnetArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("iotpot-bench-sensor-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (link, direct, relayed) = (free_port()?, free_port()?, free_port()?);
    let config = dir.join("central.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n\
             [[listen]]\nservice = \"sensors\"\naddress = \"127.0.0.1:{link}\"\n\
             [[listen]]\nservice = \"telnet\"\naddress = \"127.0.0.1:{direct}\"\nprofile = \"dvr-xiongmai\"\n\
             [[sensor]]\nname = \"bench\"\n\
             [[sensor.listen]]\nservice = \"telnet\"\naddress = \"127.0.0.2:{relayed}\"\nprofile = \"dvr-xiongmai\"\n\
             [limits]\nmax_sessions = 200000\nmax_sessions_per_ip = 200000\n[log]\nlevel = \"warn\"\n",
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
    if let Some(path) = &a.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)? + "\n")?;
    }
    Ok(())
}
