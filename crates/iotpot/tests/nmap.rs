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

/// Each HTTP profile is named as the product it imitates; the devices with
/// exploit traps still are, as nmap names the real ones (the rest, whose
/// servers nmap has no entry for, are left out: it names no real one).
#[test]
fn nmap_names_the_http_devices() {
    let cases = [
        ("dvr", "uc-httpd 1.0.0"),
        ("camera-basic", "Panasonic BB-SP104W webcam http config"),
        ("camera-open", "AXIS 205 network camera web interface 4.05"),
        ("router-web", "TP-LINK WR841N WAP http config"),
        ("router-dir645", "D-Link DIR-645 WAP http config 1.03"),
        ("router-linksys-e1200", "Linksys E1200 WAP http config"),
        ("camera-avtech", "Avtech IP camera httpd 1.0"),
        ("camera-hikvision-g0", "Hikvision IP camera httpd"),
        ("nas-dns320", "lighttpd 1.4.28"),
        ("router-fourfaith", "DD-WRT milli_httpd"),
        ("modem-zyxel", "Boa HTTPd 0.93.15"),
        ("gpon-netlink", "Boa 0.93.15"),
        ("gpon-dasan", "GoAhead WebServer"),
        ("gateway-hg532", "open  upnp"),
    ];
    let profiles: Vec<String> = cases.iter().map(|(p, _)| p.to_string()).collect();
    let (config, ports) = listeners("http", &profiles);
    let _hp = Honeypot::start("nmap-http", "", &config);
    let said = scan(&ports);
    for (port, (profile, want)) in ports.iter().zip(cases) {
        let line = said(*port);
        let first = line.lines().next().unwrap_or_default();
        assert!(
            first.contains(want),
            "{profile} on {port}: want {want:?}: {line}"
        );
    }
}
