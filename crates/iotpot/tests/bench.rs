//! `iotpot bench telnet`, the project's benchmark harness, works end to end:
//! it starts the bare reference server and iotpot, plays Mirai-style
//! sessions against both (each session checks the BusyBox answer), and
//! reports figures for both, pooled from rounds in which the two take
//! turns. A test of the harness, not of performance.

mod common;
use common::*;
use std::process::Command;

#[test]
fn bench_telnet_measures_iotpot_against_the_reference() {
    let dir = TempDir::new("bench");
    let json = dir.0.join("bench.json");
    let out = run_ok(
        Command::new(BIN)
            .args([
                "bench",
                "telnet",
                "--concurrency",
                "1,8",
                "--seconds",
                "1",
                "--idle",
                "200",
                "--rounds",
                "2",
                "--json",
            ])
            .arg(&json),
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let servers: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(servers, ["reference", "iotpot"]);
    for r in results.as_array().unwrap() {
        // Two rounds of half a second per level, pooled.
        assert_eq!(r["rounds"], 2, "{r}");
        let load = r["load"].as_array().unwrap();
        assert_eq!(load.len(), 2, "{r}");
        for l in load {
            let seconds = l["seconds"].as_f64().unwrap();
            assert!((0.95..2.0).contains(&seconds), "{seconds} s pooled: {r}");
            assert!(l["sessions"].as_u64().unwrap() > 0, "{r}");
            assert_eq!(l["failed"], 0, "{r}");
            assert!(
                l["p99_ms"].as_f64().unwrap() >= l["p50_ms"].as_f64().unwrap(),
                "{r}"
            );
        }
        // The server's own CPU per session (from /proc): there for every
        // level, and the sessions cost it something.
        let cpu: Vec<f64> = load
            .iter()
            .map(|l| {
                l["server_cpu_us_per_session"]
                    .as_f64()
                    .unwrap_or_else(|| panic!("no CPU figure: {r}"))
            })
            .collect();
        assert!(
            cpu.iter().all(|us| us.is_finite() && *us >= 0.0) && cpu.iter().sum::<f64>() > 0.0,
            "{r}"
        );
        assert_eq!(r["idle_failed"], 0, "{r}");
        // Measured from the server's RSS, before any load (so no freed
        // memory is reused or handed back meanwhile).
        let kib = r["rss_per_idle_session_kib"]
            .as_f64()
            .unwrap_or_else(|| panic!("no memory figure: {r}"));
        assert!(
            (0.0..64.0).contains(&kib),
            "{kib} KiB per idle session: {r}"
        );
    }
    // The table a person reads says the same, with the ratios.
    assert!(
        out.lines()
            .any(|l| l.starts_with("iotpot ") && l.contains("% of sessions/s, p99 x")),
        "{out}"
    );
    assert!(out.contains("CPU µs/ses"), "{out}");
    assert!(out.contains("measured in 2 rounds"), "{out}");
}

/// `iotpot bench sensor`: a central and a sensor of it, started by the
/// harness, the same sessions straight and relayed, none failed.
#[test]
fn bench_sensor_measures_the_relay_against_direct() {
    let dir = TempDir::new("bench-sensor");
    let json = dir.0.join("bench.json");
    let out = run_ok(
        Command::new(BIN)
            .args([
                "bench",
                "sensor",
                "--concurrency",
                "4",
                "--seconds",
                "1",
                "--idle",
                "100",
                "--udp-rates",
                "500",
                "--json",
            ])
            .arg(&json),
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["name"], "direct");
    assert_eq!(results[1]["name"], "sensor");
    for r in results {
        let l = &r["load"][0];
        assert!(l["sessions"].as_u64().unwrap() > 0, "{r}");
        assert_eq!(l["failed"], 0, "{r}");
        assert_eq!(r["idle_failed"], 0, "{r}");
    }
    assert!(out.contains("the relay adds per session"), "{out}");
    assert!(out.contains("sensor RSS per idle relayed session"), "{out}");
    // 500 probes through the sensor's backdoor face, every one answered.
    assert!(
        out.contains("500 probes sent") && out.contains("500 answered, 0 lost"),
        "{out}"
    );
}
