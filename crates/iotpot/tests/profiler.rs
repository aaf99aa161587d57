//! The profiler's command line: `iotpot profiler selftest` over the vendored
//! Recog files (what CI runs) and over an operator's own directory, and
//! `iotpot bench recog`.

mod common;
use common::*;
use std::process::Command;

#[test]
fn selftest_passes_every_example_of_the_vendored_files() {
    let out = run_ok(Command::new(BIN).args(["profiler", "selftest"]));
    let last = out.lines().last().unwrap_or("");
    // "selftest: N of N examples pass in 6 files"
    let words: Vec<&str> = last.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"selftest:"), "{out}");
    let (passed, total): (usize, usize) = (words[1].parse().unwrap(), words[3].parse().unwrap());
    assert_eq!(passed, total, "{out}");
    assert!(total >= 2000, "{out}");
    for file in [
        "telnet_banners.xml",
        "ftp_banners.xml",
        "http_servers.xml",
        "http_wwwauth.xml",
        "html_title.xml",
        "worm_marks.xml",
    ] {
        assert!(out.contains(file), "{file} not checked:\n{out}");
    }
}

const OWN_SSH: &str = r#"<?xml version="1.0"?>
<fingerprints matches="ssh.banner" protocol="ssh" preference="0.9">
  <fingerprint pattern="^dropbear_(\d{4}\.\d+)$">
    <description>Dropbear</description>
    <example service.version="2019.78">dropbear_2019.78</example>
    <param pos="0" name="service.product" value="Dropbear SSH"/>
    <param pos="1" name="service.version"/>
  </fingerprint>
  <fingerprint pattern="^OpenSSH_(\S+)$">
    <description>OpenSSH, with a wrong expectation</description>
    <example service.version="7.4">OpenSSH_7.4p1</example>
    <param pos="0" name="service.product" value="OpenSSH"/>
    <param pos="1" name="service.version"/>
  </fingerprint>
</fingerprints>"#;

#[test]
fn selftest_of_an_operators_directory_names_what_fails() {
    let dir = TempDir::new("recog-own");
    std::fs::write(dir.0.join("ssh_banners.xml"), OWN_SSH).unwrap();
    let out = Command::new(BIN)
        .args(["profiler", "selftest"])
        .arg(&dir.0)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a failing example fails the run:\n{text}"
    );
    assert!(text.contains("ssh_banners.xml"), "{text}");
    assert!(text.contains("selftest: 1 of 2 examples pass"), "{text}");
    assert!(
        text.contains("service.version is Some(\"7.4p1\"), expected \"7.4\""),
        "the failure says what differs:\n{text}"
    );

    // A broken file is an error that names it, not a panic.
    std::fs::write(dir.0.join("broken.xml"), "<fingerprints><fingerprint").unwrap();
    let out = Command::new(BIN)
        .args(["profiler", "selftest"])
        .arg(&dir.0)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("broken"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bench_recog_reports_banners_per_second() {
    let out = run_ok(Command::new(BIN).args(["bench", "recog", "--seconds", "0.2"]));
    for corpus in ["known", "unknown"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(corpus))
            .unwrap_or_else(|| panic!("no {corpus} line:\n{out}"));
        let rate: f64 = line
            .split("banners:")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("no rate in {line:?}"));
        assert!(rate > 0.0, "{line}");
    }
    assert!(
        out.contains("(100% matched)"),
        "every example matches:\n{out}"
    );
    assert!(
        out.contains("(0% matched)"),
        "no made-up banner matches:\n{out}"
    );
}
