//! nmap -sV must not recognise iotpot as a honeypot (it names cowrie on
//! sight by its lone `IAC DO NAWS`), and should see a telnet service.

mod common;
use common::*;
use std::process::Command;

#[test]
fn nmap_sees_a_device_not_a_honeypot() {
    require("nmap");
    let hp = Honeypot::start("nmap", "router-tplink", "");
    let out = Command::new("nmap")
        .args(["-sV", "-Pn", "-n", "--version-light", "-p"])
        .arg(hp.addr.port().to_string())
        .arg("127.0.0.1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.to_lowercase().contains("cowrie"), "{text}");
    assert!(!text.to_lowercase().contains("honeypot"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("/tcp"))
        .unwrap_or_default()
        .to_string();
    assert!(line.contains("open") && line.contains("telnet"), "{text}");
    // The BusyBox telnetd negotiation is recognised for what it imitates.
    assert!(line.contains("BusyBox telnetd"), "{text}");
    eprintln!("nmap: {line}");
}
