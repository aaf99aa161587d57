//! nmap -sV must not recognise iotpot as a honeypot (it names cowrie on
//! sight by its lone `IAC DO NAWS`): every built-in Telnet profile is named
//! as the telnetd it imitates, every HTTP profile as its product.

mod common;
use common::*;
use std::process::Command;

/// One `service` listener per profile, each on its own port.
fn listeners(service: &str, profiles: &[String]) -> (String, Vec<u16>) {
    let ports: Vec<u16> = profiles.iter().map(|_| free_port()).collect();
    let config = profiles
        .iter()
        .zip(&ports)
        .map(|(p, port)| listen(service, *port, p))
        .collect();
    (config, ports)
}

/// `nmap -sV` of these loopback ports: what it says of each. It never says
/// cowrie or honeypot.
fn scan(ports: &[u16]) -> impl Fn(u16) -> String {
    require("nmap");
    let list: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
    let out = Command::new("nmap")
        .args(["-sV", "-Pn", "-n", "--version-light", "-p"])
        .arg(list.join(","))
        .arg("127.0.0.1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(!text.to_lowercase().contains("cowrie"), "{text}");
    assert!(!text.to_lowercase().contains("honeypot"), "{text}");
    move |port| {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{port}/tcp")))
            .unwrap_or_default();
        format!("{line}\n(all of it:\n{text})")
    }
}

#[test]
fn nmap_sees_devices_not_a_honeypot() {
    // Every built-in profile on its own Telnet port, scanned in one run.
    let profiles: Vec<String> = iotpot_core::Profile::builtins()
        .into_iter()
        .map(|p| p.name)
        .collect();
    let (config, mut ports) = listeners("telnet", &profiles);
    let hp = Honeypot::start("nmap", "router-tplink", &config);
    ports.push(hp.addr.port());
    let said = scan(&ports);
    for (name, port) in profiles.iter().zip(&ports) {
        // What each imitates: BusyBox's telnetd (DD-WRT's own banner is
        // recognised as DD-WRT).
        let want = if name == "router-ddwrt" {
            "DD-WRT telnetd"
        } else {
            "BusyBox telnetd"
        };
        let line = said(*port);
        let first = line.lines().next().unwrap_or_default();
        assert!(
            first.contains("open") && first.contains(" telnet ") && first.contains(want),
            "{name} on {port}: want {want:?}: {line}"
        );
    }
}

/// Each HTTP profile is named as the product it imitates.
#[test]
fn nmap_names_the_http_devices() {
    let profiles = ["dvr", "camera-basic", "camera-open", "router-web"].map(String::from);
    let (config, ports) = listeners("http", &profiles);
    let _hp = Honeypot::start("nmap-http", "", &config);
    let said = scan(&ports);
    let expected = [
        "uc-httpd 1.0.0",
        "Panasonic BB-SP104W webcam http config",
        "AXIS 205 network camera web interface 4.05",
        "TP-LINK WR841N WAP http config",
    ];
    for (port, want) in ports.iter().zip(expected) {
        let line = said(*port);
        let first = line.lines().next().unwrap_or_default();
        assert!(first.contains(want), "port {port}: want {want:?}: {line}");
    }
}
