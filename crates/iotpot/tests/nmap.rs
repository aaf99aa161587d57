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

/// Each HTTP profile is named as the product it imitates.
#[test]
fn nmap_names_the_http_devices() {
    require("nmap");
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let profiles = ["dvr", "camera-basic", "camera-open", "router-web"];
    let listen: String = profiles
        .iter()
        .zip(&ports)
        .map(|(p, port)| {
            format!("[[listen]]\nservice = \"http\"\naddress = \"127.0.0.1:{port}\"\nprofile = \"{p}\"\n")
        })
        .collect();
    let hp = Honeypot::start("nmap-http", "", &listen);
    let list: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
    let out = Command::new("nmap")
        .args([
            "-sV",
            "-Pn",
            "-n",
            "--version-light",
            "-p",
            &list.join(","),
            "127.0.0.1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.to_lowercase().contains("honeypot"), "{text}");
    let expected = [
        "uc-httpd 1.0.0",
        "Panasonic BB-SP104W webcam http config",
        "AXIS 205 network camera web interface 4.05",
        "TP-LINK WR841N WAP http config",
    ];
    for (port, want) in ports.iter().zip(expected) {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{port}/tcp")))
            .unwrap_or_default();
        assert!(line.contains(want), "port {port}: want {want:?}\n{text}");
    }
    drop(hp);
}
