//! The Recog engine against Recog's own examples, and the semantics the
//! examples do not pin down.

use iotpot_profiler::recog::{self, selftest, Library};

#[test]
fn every_example_of_every_builtin_file_passes() {
    let lib = Library::builtin().unwrap();
    let mut total = 0;
    let mut failures = Vec::new();
    for db in lib.databases() {
        let r = selftest::check(db);
        eprintln!(
            "{}: {} fingerprints, {} examples, {} passed, {} shadowed, {} skipped",
            r.file,
            r.fingerprints,
            r.examples,
            r.passed,
            r.shadowed,
            r.skipped.len()
        );
        total += r.examples;
        failures.extend(r.failures.iter().map(|f| format!("{}: {f}", r.file)));
        failures.extend(r.skipped.iter().map(|f| format!("{}: skipped {f}", r.file)));
    }
    assert!(total > 1500, "only {total} examples");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The whole-file search names the same fingerprint as trying each one
/// alone in file order, on every example (their own file's, and every other
/// file's: many match nothing, some match an earlier fingerprint) and on
/// examples cut short, UTF-8 and not.
#[test]
fn the_file_search_names_the_first_fingerprint_in_file_order() {
    let lib = Library::builtin().unwrap();
    let mut texts: Vec<Vec<u8>> = Vec::new();
    for db in lib.databases() {
        for fp in &db.fingerprints {
            for ex in &fp.examples {
                texts.push(ex.text.clone());
                texts.push(ex.text[..ex.text.len() / 2].to_vec());
                let mut odd = ex.text.clone();
                odd.extend_from_slice(b"\xc3\xa9\xff");
                texts.push(odd);
            }
        }
    }
    let (mut checked, mut matched) = (0, 0);
    for db in lib.databases() {
        for text in &texts {
            let by_hand = db
                .fingerprints
                .iter()
                .find_map(|fp| fp.apply(db, text))
                .map(|m| m.fingerprint);
            let found = db.find(text).map(|m| m.fingerprint);
            assert_eq!(
                found,
                by_hand,
                "{}: {:?}",
                db.file,
                String::from_utf8_lossy(text)
            );
            checked += 1;
            matched += found.is_some() as usize;
        }
    }
    assert!(
        checked > 30_000 && matched > 2_000,
        "{checked} checked, {matched} matched"
    );
}

const OWN: &str = r#"<?xml version="1.0"?>
<fingerprints protocol="telnet" preference="0.5">
  <fingerprint pattern="^(\S+) Router (\S+)?\s*$" flags="REG_ICASE">
    <description>a router</description>
    <example hw.vendor="Acme" hw.product="Acme R1">Acme router R1</example>
    <param pos="1" name="hw.vendor"/>
    <param pos="2" name="hw.model"/>
    <param pos="0" name="hw.product" value="{hw.vendor} R1"/>
    <param pos="0" name="os.cpe23" value="cpe:/o:{hw.vendor}:{hw.model}"/>
  </fingerprint>
  <fingerprint pattern="^Welcome.login:" flags="REG_DOT_NEWLINE">
    <description>dot crosses lines</description>
    <example _encoding="base64">V2VsY29tZQpsb2dpbjo=</example>
    <param pos="0" name="hw.device" value="DVR"/>
  </fingerprint>
</fingerprints>"#;

#[test]
fn params_flags_and_interpolation_follow_recog() {
    let db = recog::parse("own_telnet", OWN).unwrap();
    assert_eq!(db.matches, "own_telnet", "no `matches`: the file's name");
    let r = selftest::check(&db);
    assert_eq!((r.examples, r.passed), (2, 2), "{:?}", r.failures);

    // REG_ICASE; a group that did not take part gives no param, and a value
    // that interpolates a missing param is dropped, as in Recog.
    let m = db.find(b"ACME ROUTER ").unwrap();
    assert_eq!(m.get("hw.vendor"), Some("ACME"));
    assert_eq!(m.get("hw.product"), Some("ACME R1"));
    assert_eq!(m.get("hw.model"), None);
    assert_eq!(m.get("os.cpe23"), None);
    assert_eq!(
        m.get("service.protocol"),
        Some("telnet"),
        "the file's protocol"
    );
    let m = db.find(b"acme router X9").unwrap();
    assert_eq!(m.get("os.cpe23"), Some("cpe:/o:acme:X9"));

    // `^` is a line start (Ruby), `.` crosses a newline only with the flag.
    assert!(db.find(b"garbage\nWelcome\nlogin:").is_some());
    assert!(db.find(b"Welcome login:").is_some());
    // Without REG_ICASE, case matters.
    let plain = recog::parse(
        "p",
        r#"<fingerprints><fingerprint pattern="^Hello$"><description>d</description><param pos="0" name="a" value="b"/></fingerprint></fingerprints>"#,
    )
    .unwrap();
    assert!(plain.find(b"hello").is_none());
    assert!(plain.find(b"x\nHello\ny").is_some());
}

#[test]
fn a_dot_is_one_utf8_character_or_one_byte() {
    let db = recog::parse(
        "t",
        r#"<fingerprints><fingerprint pattern="^Sign in . Portal$"><description>d</description><param pos="0" name="a" value="b"/></fingerprint></fingerprints>"#,
    )
    .unwrap();
    assert!(
        db.find("Sign in · Portal".as_bytes()).is_some(),
        "UTF-8 middle dot"
    );
    assert!(db.find(b"Sign in \xb7 Portal").is_some(), "Latin-1 byte");
    assert!(db.find(b"Sign in - Portal").is_some());
}

#[test]
fn fields_are_found_by_their_recog_names_and_ordered_by_preference() {
    let lib = Library::builtin().unwrap();
    assert!(
        lib.knows("telnet.banner"),
        "telnet_banners.xml has no `matches`"
    );
    assert!(lib.knows("http_header.server"));
    // The worm marks (0.95) come before Recog's telnet file (0.80).
    let dbs: Vec<_> = lib
        .for_field("telnet.banner")
        .map(|d| d.file.as_str())
        .collect();
    assert_eq!(dbs, ["worm_marks", "telnet_banners"]);
    let wifatch = b"Telnet has been closed to avoid further infection of this device.\r\n";
    let m = lib.matches("telnet.banner", wifatch);
    assert_eq!(m[0].get("iotpot.infected"), Some("Linux.Wifatch"));
    let m = lib.matches("http_header.server", b"GoAhead-Webs");
    assert_eq!(m[0].get("service.product"), Some("GoAhead Webserver"));
}

#[test]
fn hostile_files_and_values_are_refused_or_bounded() {
    assert!(recog::parse("x", "<fingerprints>").is_err(), "broken XML");
    assert!(recog::parse("x", "<html/>").is_err(), "not a database");
    assert!(
        recog::parse("x", r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><fingerprints/>"#).is_err(),
        "no DTDs (entity expansion)"
    );
    // A pattern that backtracks forever elsewhere is linear here.
    let db = recog::parse(
        "x",
        r#"<fingerprints><fingerprint pattern="^(a+)+$"><description>d</description><param pos="0" name="a" value="b"/></fingerprint></fingerprints>"#,
    )
    .unwrap();
    let evil = [b"a".repeat(8000), b"!".to_vec()].concat();
    let t = std::time::Instant::now();
    assert!(db.find(&evil).is_none());
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
    // Only the first MAX_FIELD bytes are read: what comes after is not seen.
    let long = [b"a".repeat(recog::MAX_FIELD), b"!".to_vec()].concat();
    assert!(db.find(&long).is_some());
    // A pattern this engine cannot run is skipped, the file still loads.
    let db = recog::parse(
        "x",
        r#"<fingerprints><fingerprint pattern="^(?=a)a$"><description>look-ahead</description><param pos="0" name="a" value="b"/></fingerprint><fingerprint pattern="^b$"><description>ok</description><param pos="0" name="a" value="c"/></fingerprint></fingerprints>"#,
    )
    .unwrap();
    assert_eq!(db.skipped.len(), 1);
    assert_eq!(db.find(b"b").unwrap().get("a"), Some("c"));
}

#[test]
fn a_param_reading_a_missing_group_leaves_its_fingerprint_out() {
    let db = recog::parse(
        "x",
        r#"<fingerprints><fingerprint pattern="^a(b)$"><description>bad</description><param pos="2" name="v"/></fingerprint><fingerprint pattern="^a"><description>ok</description><param pos="0" name="v" value="ok"/></fingerprint></fingerprints>"#,
    )
    .unwrap();
    assert_eq!(db.skipped.len(), 1, "{:?}", db.skipped);
    assert_eq!(db.fingerprints.len(), 1);
    assert_eq!(db.find(b"ab").unwrap().get("v"), Some("ok"));
}
