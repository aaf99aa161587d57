//! nmap -sV must not recognise iotpot as a honeypot (it names cowrie on
//! sight by its lone `IAC DO NAWS`): every built-in Telnet profile is named
//! as the telnetd it imitates, every HTTP profile as its product.

mod common;
use common::*;
use std::process::Command;

#[test]
fn nmap_sees_devices_not_a_honeypot() {
    require("nmap");
    // Every built-in profile on its own Telnet port, scanned in one run.
    let profiles: Vec<String> = iotpot_core::Profile::builtins()
        .into_iter()
        .map(|p| p.name)
        .collect();
    let ports: Vec<u16> = profiles.iter().map(|_| free_port()).collect();
    let listen: String = profiles
        .iter()
        .zip(&ports)
        .map(|(p, port)| {
            format!("[[listen]]\nservice = \"telnet\"\naddress = \"127.0.0.1:{port}\"\nprofile = \"{p}\"\n")
        })
        .collect();
    let hp = Honeypot::start("nmap", "router-tplink", &listen);
    let list: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
    let out = Command::new("nmap")
        .args(["-sV", "-Pn", "-n", "--version-light", "-p"])
        .arg(format!("{},{}", hp.addr.port(), list.join(",")))
        .arg("127.0.0.1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.to_lowercase().contains("cowrie"), "{text}");
    assert!(!text.to_lowercase().contains("honeypot"), "{text}");
    for (name, port) in profiles.iter().zip(&ports) {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{port}/tcp")))
            .unwrap_or_default();
        // What each imitates: BusyBox's telnetd (DD-WRT's own banner is
        // recognised as DD-WRT).
        let want = if name == "router-ddwrt" {
            "DD-WRT telnetd"
        } else {
            "BusyBox telnetd"
        };
        assert!(
            line.contains("open") && line.contains(" telnet ") && line.contains(want),
            "{name} on {port}: want {want:?}\n{text}"
        );
    }
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
