//! `iotpot pcap check`: on a pcap with crafted lying headers (written with
//! the pcap-file crate, as Wireshark reads it) and on a real tcpdump capture
//! of loopback UDP traffic, which must show no anomaly.

mod common;
use common::*;
use iotpot_wire::ipcheck::udp_frame;
use std::process::{Command, Stdio};
use std::time::Duration;

fn check(file: &std::path::Path) -> Vec<serde_json::Value> {
    run_ok(
        Command::new(BIN)
            .args(["pcap", "check", "--json"])
            .arg(file),
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

#[test]
fn lying_length_fields_are_found() {
    let dir = TempDir::new("pcap");
    let path = dir.0.join("crafted.pcap");
    {
        let f = std::fs::File::create(&path).unwrap();
        let mut w = pcap_file::pcap::PcapWriter::new(f).unwrap();
        let a = |s: &str| s.parse().unwrap();
        let frames = [
            udp_frame(
                a("203.0.113.5"),
                a("192.0.2.1"),
                40000,
                53413,
                &[7; 18],
                None,
                None,
            ),
            udp_frame(
                a("203.0.113.6"),
                a("192.0.2.1"),
                40001,
                53413,
                &[7; 18],
                None,
                Some(16),
            ),
            udp_frame(
                a("203.0.113.7"),
                a("192.0.2.1"),
                40002,
                53413,
                &[9; 100],
                Some(46),
                Some(26),
            ),
        ];
        for (i, fr) in frames.iter().enumerate() {
            let p = pcap_file::pcap::PcapPacket::new(
                Duration::from_secs(1_700_000_000 + i as u64),
                fr.len() as u32,
                fr,
            );
            w.write_packet(&p).unwrap();
        }
    }
    let rows = check(&path);
    let summary = rows.last().unwrap();
    assert_eq!(summary["packets"], 3);
    assert_eq!(summary["udp"], 3);
    assert_eq!(summary["anomalous"], 2);
    assert_eq!(summary["anomalous_by_dst_port"]["53413"], 2);
    assert_eq!(rows[0]["src_ip"], "203.0.113.6");
    assert_eq!(rows[0]["anomalies"], serde_json::json!(["udp_length"]));
    assert_eq!(
        rows[1]["anomalies"],
        serde_json::json!(["ip_total_length", "udp_length"])
    );
    // Not a pcap: a clear error, not a panic.
    std::fs::write(dir.0.join("x.pcap"), b"nonsense").unwrap();
    let out = Command::new(BIN)
        .args(["pcap", "check"])
        .arg(dir.0.join("x.pcap"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pcap file"));
}

#[test]
fn a_real_tcpdump_capture_has_no_anomaly() {
    require("tcpdump");
    let dir = TempDir::new("tcpdump");
    let path = dir.0.join("lo.pcap");
    let port = free_port();
    let mut dump = Command::new("tcpdump")
        .args(["-i", "lo", "-U", "-w"])
        .arg(&path)
        .args(["udp", "and", "port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let rx = std::net::UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for n in [0usize, 1, 18, 100, 1400] {
        tx.send_to(&vec![0x41; n], ("127.0.0.1", port)).unwrap();
    }
    let _ = rx;
    std::thread::sleep(Duration::from_millis(800));
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(dump.id().to_string())
        .status();
    let _ = dump.wait();
    let rows = check(&path);
    let summary = rows.last().unwrap();
    assert_eq!(summary["udp"], 5, "{summary}");
    assert_eq!(summary["anomalous"], 0, "{rows:?}");
}
