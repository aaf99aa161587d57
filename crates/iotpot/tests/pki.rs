//! `iotpot pki`: the deployment's CA, the central's certificate and a
//! sensor's config, checked by openssl, and revocation.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn keys_made_by_iotpot_are_what_openssl_expects() {
    require("openssl");
    let dir = TempDir::new("pki");
    let cfg = dir.0.join("iotpot.toml");
    std::fs::write(
        &cfg,
        format!("data_dir = \"{}\"\n", dir.0.join("data").display()),
    )
    .unwrap();
    let iotpot = |args: &[&str]| {
        let mut c = Command::new(BIN);
        c.arg("--config").arg(&cfg).args(args);
        c
    };
    run_ok(&mut iotpot(&["pki", "init", "--central", "127.0.0.1:4433"]));
    let pki = dir.0.join("data/pki");
    for key in ["ca.key", "central.key"] {
        let mode = std::fs::metadata(pki.join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let out = iotpot(&["pki", "init", "--central", "127.0.0.1:4433"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a second CA in one deployment");

    // The sensor's config, as `pki sensor NAME > NAME.toml` writes it.
    let sensor = run_ok(&mut iotpot(&["pki", "sensor", "tokyo-1"]));
    let t: toml::Table = toml::from_str(&sensor).unwrap();
    let central = t["central"].as_table().unwrap();
    assert_eq!(central["address"].as_str(), Some("127.0.0.1:4433"));
    for (name, field) in [
        ("ca.pem", "ca"),
        ("cert.pem", "certificate"),
        ("key.pem", "key"),
    ] {
        std::fs::write(dir.0.join(name), central[field].as_str().unwrap()).unwrap();
    }
    let ssl = |args: &[&str]| run_ok(Command::new("openssl").args(args).current_dir(&dir.0));
    // The sensor's certificate: signed by the deployment's CA, for TLS
    // clients, named by its common name; its key is the certificate's.
    assert!(ssl(&[
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        "ca.pem",
        "cert.pem"
    ])
    .contains("cert.pem: OK"));
    let text = ssl(&[
        "x509",
        "-in",
        "cert.pem",
        "-noout",
        "-subject",
        "-ext",
        "extendedKeyUsage,basicConstraints",
    ]);
    assert!(text.contains("CN = tokyo-1"), "{text}");
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    assert_eq!(
        ssl(&["x509", "-in", "cert.pem", "-noout", "-pubkey"]),
        ssl(&["pkey", "-in", "key.pem", "-pubout"]),
        "the key is not the certificate's"
    );
    assert_eq!(
        std::fs::read_to_string(dir.0.join("ca.pem")).unwrap(),
        std::fs::read_to_string(pki.join("ca.crt")).unwrap()
    );
    // The central's: a TLS server certificate for the address sensors use.
    let ca = pki.join("ca.crt").display().to_string();
    let central_crt = pki.join("central.crt").display().to_string();
    assert!(ssl(&[
        "verify",
        "-purpose",
        "sslserver",
        "-CAfile",
        &ca,
        &central_crt
    ])
    .contains(": OK"));
    let san = ssl(&[
        "x509",
        "-in",
        &central_crt,
        "-noout",
        "-ext",
        "subjectAltName",
    ]);
    assert!(san.contains("IP Address:127.0.0.1"), "{san}");
    assert!(
        ssl(&["x509", "-in", &central_crt, "-noout", "-checkend", "86400"])
            .contains("will not expire")
    );

    // Revoked: listed as such, and the name is not certified again.
    run_ok(&mut iotpot(&["pki", "revoke", "tokyo-1"]));
    let list = run_ok(&mut iotpot(&["pki", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("tokyo-1") && l.contains("revoked")),
        "{list}"
    );
    assert!(!iotpot(&["pki", "sensor", "tokyo-1"])
        .output()
        .unwrap()
        .status
        .success());
    assert!(!iotpot(&["pki", "sensor", "../evil"])
        .output()
        .unwrap()
        .status
        .success());
}
