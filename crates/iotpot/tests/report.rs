//! `iotpot report` over a store filled by real sessions (Debian's telnet
//! client, bots with hostile strings, a 53413 datagram) and by a generated
//! history of three months written through the store's own writer: every
//! number the report gives is checked against a count made here, from the
//! events themselves; a date window narrows it; the HTML file is one page
//! with a chart per section that has data, no script, and the attackers'
//! strings as text.

mod common;
use common::history::history;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const HOSTILE: &str = "<script>alert(1)</script>";
const FORMULA: &str = "=cmd|' /C calc'!A0";

/// The events as the test counts them: (eventid, session, src_ip,
/// timestamp, data).
fn all_events(db: &rusqlite::Connection) -> Vec<(String, String, String, String, Value)> {
    let mut stmt = db
        .prepare("SELECT eventid, session, src_ip, timestamp, data FROM events")
        .unwrap();
    stmt.query_map([], |r| {
        let data: String = r.get(4)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            serde_json::from_str(&data).unwrap(),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn section<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no section {id}"))
}

/// A table of a section by title: rows keyed by their first cell.
fn table<'a>(s: &'a Value, title: &str) -> BTreeMap<String, &'a Vec<Value>> {
    let t = s["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("no table {title:?} in {}", s["id"]));
    t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            (
                r[0].as_str().map(String::from).unwrap_or(r[0].to_string()),
                r,
            )
        })
        .collect()
}

/// What the test counts from the events, for the events whose day is in
/// `[from, to]`.
struct Counts {
    connections: i64,
    attempts: i64,
    logins: i64,
    commands: i64,
    pairs: usize,
    /// Month -> (new, seen before) distinct addresses.
    months: BTreeMap<String, (i64, i64)>,
    sensors: BTreeMap<String, i64>,
    netis: BTreeMap<String, i64>,
}

fn count(events: &[(String, String, String, String, Value)], from: &str, to: &str) -> Counts {
    let inside = |t: &str| &t[..10] >= from && &t[..10] <= to;
    let mut c = Counts {
        connections: 0,
        attempts: 0,
        logins: 0,
        commands: 0,
        pairs: 0,
        months: BTreeMap::new(),
        sensors: BTreeMap::new(),
        netis: BTreeMap::new(),
    };
    let mut logged_in = BTreeSet::new();
    let mut pairs = BTreeSet::new();
    // Every attacker's first month ever, and who was seen in each month.
    let mut first: HashMap<&str, &str> = HashMap::new();
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut sorted: Vec<_> = events.iter().collect();
    sorted.sort_by(|a, b| a.3.cmp(&b.3));
    for (id, session, src, t, data) in sorted {
        let attacker = id == "iotpot.session.connect" || id == "iotpot.netis.datagram";
        if attacker {
            first.entry(src).or_insert(&t[..7]);
        }
        if !inside(t) {
            continue;
        }
        match id.as_str() {
            "iotpot.session.connect" => {
                c.connections += 1;
                *c.sensors
                    .entry(data["sensor"].as_str().unwrap().into())
                    .or_default() += 1;
            }
            "iotpot.login.success" | "iotpot.login.failed" => {
                c.attempts += 1;
                pairs.insert((data["username"].to_string(), data["password"].to_string()));
                if id == "iotpot.login.success" {
                    logged_in.insert(session.clone());
                }
            }
            "iotpot.command.input" => c.commands += 1,
            "iotpot.netis.datagram" => {
                *c.netis
                    .entry(data["kind"].as_str().unwrap().into())
                    .or_default() += 1
            }
            _ => {}
        }
        if attacker {
            seen.entry(&t[..7]).or_default().insert(src);
        }
    }
    for (month, who) in seen {
        let new = who.iter().filter(|s| first[*s] == month).count() as i64;
        c.months.insert(month.into(), (new, who.len() as i64 - new));
    }
    c.logins = logged_in.len() as i64;
    c.pairs = pairs.len();
    c
}

fn check(report: &Value, c: &Counts) {
    let funnel = table(section(report, "funnel"), "Funnel");
    let n = |k: &str| funnel[k][1].as_i64().unwrap();
    assert_eq!(n("connections"), c.connections);
    assert_eq!(n("login attempts"), c.attempts);
    assert_eq!(n("logins"), c.logins);
    assert_eq!(n("commands"), c.commands);
    let months = table(
        section(report, "attackers"),
        "Unique attacking addresses per month",
    );
    let got: BTreeMap<String, (i64, i64)> = months
        .iter()
        .map(|(m, r)| {
            // Columns: month, then the series in order of appearance.
            let cols = section(report, "attackers")["tables"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["title"] == "Unique attacking addresses per month")
                .unwrap()["columns"]
                .clone();
            let at = |name: &str| {
                cols.as_array()
                    .unwrap()
                    .iter()
                    .position(|c| c == name)
                    .map(|i| r[i].as_i64().unwrap())
                    .unwrap_or(0)
            };
            (m.clone(), (at("new"), at("seen before")))
        })
        .collect();
    assert_eq!(got, c.months);
    let notes = section(report, "credentials")["notes"][0].as_str().unwrap();
    assert!(
        notes.starts_with(&format!("{} distinct", c.pairs)),
        "{notes} (counted {})",
        c.pairs
    );
    let sensors = table(
        section(report, "sensors"),
        "Sessions per sensor, by profile",
    );
    let got: BTreeMap<String, i64> = sensors
        .iter()
        .map(|(s, r)| {
            (
                s.clone(),
                r[1..].iter().map(|v| v.as_i64().unwrap()).sum::<i64>(),
            )
        })
        .collect();
    assert_eq!(got, c.sensors);
    let netis = section(report, "netis");
    let days = table(netis, "53413/udp datagrams per day, by kind");
    let cols = netis["tables"][0]["columns"].as_array().unwrap().clone();
    let mut got: BTreeMap<String, i64> = BTreeMap::new();
    for r in days.values() {
        for (i, col) in cols.iter().enumerate().skip(1) {
            *got.entry(col.as_str().unwrap().into()).or_default() += r[i].as_i64().unwrap();
        }
    }
    got.retain(|_, v| *v > 0);
    assert_eq!(got, c.netis);
}

/// The page as headless Chromium opens it: the browser logs nothing to its
/// console (a blocked request, a script, a CSP violation would be there),
/// its DOM has a chart with marks in it per chart drawn, and a screenshot
/// is taken (copied to `IOTPOT_REPORT_SCREENSHOT` when set, for the docs).
fn browser(page: &std::path::Path, dir: &std::path::Path) {
    let url = format!("file://{}", page.display());
    let chromium = |args: &[&str]| {
        let out = std::process::Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .args(args)
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(console.is_empty(), "the browser's console: {console:#?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dom = chromium(&["--dump-dom"]);
    let charts = dom.matches("<svg class=\"chart\"").count();
    assert!(charts >= 8, "{charts} charts in the DOM");
    for svg in dom.split("<svg class=\"chart\"").skip(1) {
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert!(
            svg.contains("<rect") || svg.contains("<polyline"),
            "an empty chart: {svg}"
        );
    }
    let shot = dir.join("report.png");
    chromium(&[
        "--hide-scrollbars",
        "--window-size=1100,9000",
        &format!("--screenshot={}", shot.display()),
    ]);
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 30_000,
        "{} bytes",
        png.len()
    );
    if let Ok(to) = std::env::var("IOTPOT_REPORT_SCREENSHOT") {
        std::fs::copy(&shot, to).unwrap();
    }
}

#[test]
fn the_report_counts_what_happened() {
    require("telnet");
    require("chromium");
    let validators = std::process::Command::new("python3")
        .args(["-c", "import stix2validator, pymisp"])
        .status();
    assert!(
        validators.is_ok_and(|s| s.success()),
        "OASIS's stix2-validator or PyMISP (pip) is missing: run the README's test command (scripts/test)"
    );
    let netis = free_port();
    let mut hp = Honeypot::start(
        "report",
        "dvr-xiongmai",
        &listen("netis", netis, "router-netis"),
    );
    // Debian's telnet client: a login, a command.
    let mut t = Terminal::telnet(&[&hp.addr.ip().to_string(), &hp.addr.port().to_string()]);
    t.expect("login: ");
    t.type_line("root");
    t.expect("Password: ");
    t.type_line("xc3511");
    t.expect("# ");
    t.type_line("echo fo''ur");
    t.expect("\nfour");
    t.type_line("exit");
    t.wait_end();
    // A bot whose credentials are hostile to a report's reader (this
    // device takes any), tried often enough to be among the pairs tried
    // most.
    for _ in 0..12 {
        let mut bot = Bot::connect(hp.addr);
        bot.login(HOSTILE, "\"><img src=x onerror=alert(2)>\x1b[31m");
    }
    // A formula for whoever opens the CSV export in a spreadsheet.
    let mut bot = Bot::connect(hp.addr);
    bot.login(FORMULA, "x");
    drop(bot);
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "xc3511");
    bot.run("echo javascript:alert(3)");
    drop(bot);
    // A 53413 probe.
    netis_probe(netis);
    hp.wait_closed(15);
    hp.stop();
    history(&mut iotpot_store::sqlite::SqliteSink::open(&hp.data().join("iotpot.db")).unwrap());

    let db = hp.db();
    let events = all_events(&db);
    assert!(events.len() > 1000, "{}", events.len());

    // Everything.
    let report: Value = serde_json::from_str(&hp.cli(&["report", "--json"])).unwrap();
    let c = count(&events, "0000", "9999");
    assert!(
        c.connections > 200 && c.months.len() >= 4,
        "{}",
        c.connections
    );
    check(&report, &c);
    // The sample of September.
    let malware = section(&report, "malware");
    let arch = table(malware, "New samples per month, by CPU architecture");
    assert_eq!(arch["2026-09"][1], 1, "{arch:?}");
    let hosts = table(malware, "Download hosts");
    assert_eq!(hosts["203.0.113.99"][1], 2, "the dropper and the bot");
    let tree = &malware["trees"][0]["roots"][0];
    assert_eq!(tree["label"], format!("dropper {}", "cd".repeat(32)));
    assert_eq!(
        tree["children"][0]["label"],
        format!("http://203.0.113.99/bins/mirai.arm7 → {}", "ab".repeat(32))
    );

    // September only.
    let report: Value = serde_json::from_str(&hp.cli(&[
        "report",
        "--since",
        "2026-09-01",
        "--until",
        "2026-09-30",
        "--json",
    ]))
    .unwrap();
    let c = count(&events, "2026-09-01", "2026-09-30");
    assert_eq!(c.months.len(), 1);
    check(&report, &c);

    // The HTML page: a chart per section with data, tables, no script, the
    // hostile strings as text.
    let html_file = hp.dir.0.join("report.html");
    hp.cli(&["report", "--html", html_file.to_str().unwrap()]);
    let html = std::fs::read_to_string(&html_file).unwrap();
    assert!(html.contains("Content-Security-Policy"));
    assert!(
        !html.to_lowercase().contains("<script"),
        "a script in the page"
    );
    assert!(!html.contains("<img"), "an image tag in the page");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("\\x1b[31m"), "the escape byte shown");
    assert!(html.contains(&format!(
        "<li>dropper {}<ul><li>http://203.0.113.99/bins/mirai.arm7 → {}</li></ul></li>",
        "cd".repeat(32),
        "ab".repeat(32)
    )));
    for id in [
        "funnel",
        "attackers",
        "credentials",
        "malware",
        "netis",
        "sensors",
    ] {
        let at = html.find(&format!("<section id=\"{id}\">")).unwrap();
        let end = html[at..].find("</section>").unwrap() + at;
        assert!(
            html[at..end].contains("<svg"),
            "no chart in the {id} section"
        );
    }
    browser(&html_file, &hp.dir.0);
    // CSV as Python's csv module reads it: a row per session, the
    // attacker's strings intact but for the formula, defused.
    let sessions_csv = hp.dir.0.join("sessions.csv");
    hp.cli(&[
        "export",
        "csv",
        "sessions",
        "-o",
        sessions_csv.to_str().unwrap(),
    ]);
    let read = run_ok(std::process::Command::new("python3").args([
        "-c",
        "import csv, json, sys\nrows = list(csv.DictReader(open(sys.argv[1], newline='')))\nprint(json.dumps(rows))",
        sessions_csv.to_str().unwrap(),
    ]));
    let rows: Vec<BTreeMap<String, String>> = serde_json::from_str(&read).unwrap();
    let sessions: i64 = db
        .query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows.len() as i64, sessions);
    let users: BTreeSet<&str> = rows.iter().map(|r| r["username"].as_str()).collect();
    assert!(users.contains(HOSTILE), "{users:?}");
    assert!(users.contains(format!("'{FORMULA}").as_str()), "{users:?}");
    assert!(rows
        .iter()
        .any(|r| r["password"] == "\"><img src=x onerror=alert(2)>\x1b[31m"));
    // STIX 2.1, as OASIS's validator reads it: valid, with the sample's
    // hash, its download URL, the family, and the links between them.
    let stix = hp.dir.0.join("bundle.json");
    hp.cli(&["export", "stix", "-o", stix.to_str().unwrap()]);
    let verdict = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom stix2validator import validate_file, print_results\n\
             r = validate_file(sys.argv[1])\nprint_results(r)\nsys.exit(0 if r.is_valid else 1)",
            stix.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        verdict.status.success(),
        "stix2-validator: {}{}",
        String::from_utf8_lossy(&verdict.stdout),
        String::from_utf8_lossy(&verdict.stderr)
    );
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&stix).unwrap()).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let of = |t: &'static str| objects.iter().filter(move |o| o["type"] == t);
    let patterns: Vec<&str> = of("indicator")
        .map(|o| o["pattern"].as_str().unwrap())
        .collect();
    assert!(
        patterns.contains(&format!("[file:hashes.'SHA-256' = '{}']", "ab".repeat(32)).as_str()),
        "{patterns:?}"
    );
    assert!(
        patterns.contains(&"[url:value = 'http://203.0.113.99/bins/mirai.arm7']"),
        "{patterns:?}"
    );
    let mirai = of("malware")
        .find(|m| m["name"] == "mirai")
        .expect("the mirai family");
    assert_eq!(
        mirai["architecture_execution_envs"],
        serde_json::json!(["arm"])
    );
    let links = of("relationship")
        .filter(|r| r["target_ref"] == mirai["id"])
        .count();
    assert_eq!(links, 2, "the hash and the URL indicate mirai");
    // MISP, as PyMISP loads an event (it refuses unknown attribute types).
    let misp = hp.dir.0.join("misp.json");
    hp.cli(&["export", "misp", "-o", misp.to_str().unwrap()]);
    let loaded = run_ok(std::process::Command::new("python3").args([
        "-c",
        "import sys, json\nfrom pymisp import MISPEvent\ne = MISPEvent()\ne.load_file(sys.argv[1])\n\
         print(json.dumps({'attributes': [[a.type, a.value, a.to_ids] for a in e.attributes], \
         'tags': [t.name for t in e.tags]}))",
        misp.to_str().unwrap(),
    ]));
    let loaded: Value = serde_json::from_str(&loaded).unwrap();
    let attrs = loaded["attributes"].as_array().unwrap();
    let has =
        |t: &str, v: &str, ids: bool| attrs.iter().any(|a| a[0] == t && a[1] == v && a[2] == ids);
    assert!(has("sha256", &"ab".repeat(32), true), "{attrs:?}");
    assert!(has("url", "http://203.0.113.99/bins/mirai.arm7", true));
    assert!(
        has("ip-src", "127.0.0.1", false),
        "the real sessions' source"
    );
    assert!(has("ip-src", "203.0.113.1", false));
    assert_eq!(
        loaded["tags"],
        serde_json::json!(["iotpot:family=\"mirai\""])
    );
    // Text: the escape byte never reaches the terminal.
    let text = hp.cli(&["report"]);
    assert!(!text.contains('\x1b'));
    assert!(text.contains("1. Attack funnel"), "{text}");
}
