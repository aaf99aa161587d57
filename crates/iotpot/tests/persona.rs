//! One device, one story: on every built-in profile, the probing commands
//! bots and people run (`busybox`, each applet's usage, `uname`,
//! `/proc/version`, `/proc/cpuinfo`, hostnames, an unknown applet) must
//! agree with each other and with the banner. A v1.01 router that answers
//! `rm` with a v1.19.4 usage text is not a v1.01 router.

mod common;
use common::*;
use std::process::Command;

/// The `[system]` facts of a built-in profile, from `iotpot profiles show`.
struct Facts {
    busybox: String,
    shell_name: String,
}

fn facts(profile: &str) -> Facts {
    let text = run_ok(Command::new(BIN).args(["profiles", "show", profile]));
    let v: toml::Value = toml::from_str(&text).unwrap();
    let s = &v["system"];
    Facts {
        busybox: s["busybox"].as_str().unwrap().to_string(),
        shell_name: s
            .get("shell_name")
            .and_then(|n| n.as_str())
            .unwrap_or("-sh")
            .to_string(),
    }
}

/// The usage texts the emulation prints, for applets a device may have
/// (`kill` and `printf` are ash builtins: always there).
const USAGE_PROBES: &[&str] = &[
    "rm", "cp", "mv", "chmod", "ln", "mkdir", "grep", "wget", "tftp", "ftpget", "nc", "kill",
    "printf",
];

#[test]
fn every_profile_tells_one_story() {
    let profiles: Vec<String> = iotpot_core::Profile::builtins()
        .into_iter()
        .map(|p| p.name)
        .collect();
    let ports: Vec<u16> = profiles.iter().map(|_| free_port()).collect();
    let config: String = profiles
        .iter()
        .zip(&ports)
        .map(|(p, port)| listen("telnet", *port, p))
        .collect();
    let hp = Honeypot::start("persona", "router-tplink", &config);
    let mut problems = Vec::new();
    for (name, port) in profiles.iter().zip(&ports) {
        let f = facts(name);
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut bot = Bot::break_in(addr, &profile_logins(name));
        let mut check = |ok: bool, what: String| {
            if !ok {
                problems.push(format!("{name}: {what}"));
            }
        };
        // The version line: `busybox`, every usage text and the binary.
        let help = bot.run("busybox");
        let first = help.lines().next().unwrap_or_default().to_string();
        check(
            first.starts_with(&format!("{} multi-call binary", f.busybox)),
            format!("`busybox` says {first:?}, the banner is {:?}", f.busybox),
        );
        let list = bot.run("busybox --list");
        let applets: Vec<&str> = list.lines().collect();
        for applet in USAGE_PROBES {
            if !applets.contains(applet) && !["kill", "printf"].contains(applet) {
                continue;
            }
            let usage = bot.run(applet);
            let line = usage.lines().next().unwrap_or_default();
            check(
                line == first && usage.contains(&format!("\nUsage: {applet} ")),
                format!("`{applet}` says {usage:?} where `busybox` says {first:?}"),
            );
        }
        let binary = bot.run("cat /bin/busybox");
        check(
            binary.contains(&format!("{first}\0")),
            format!("/bin/busybox does not carry {first:?}"),
        );
        // Shells and unknown applets.
        let unknown = bot.run("busybox iotpotprobe");
        check(
            unknown == "iotpotprobe: applet not found\n",
            format!("`busybox iotpotprobe` says {unknown:?}"),
        );
        let missing = bot.run("iotpotprobe");
        check(
            missing == format!("{}: iotpotprobe: not found\n", f.shell_name),
            format!("`iotpotprobe` says {missing:?}"),
        );
        // The kernel: uname and /proc/version agree.
        let one = |bot: &mut Bot, cmd: &str| bot.run(cmd).trim_end_matches('\n').to_string();
        let (n, r, v, m) = (
            one(&mut bot, "uname -n"),
            one(&mut bot, "uname -r"),
            one(&mut bot, "uname -v"),
            one(&mut bot, "uname -m"),
        );
        let a = one(&mut bot, "uname -a");
        let tail = if f.busybox.starts_with("BusyBox v0.") {
            "unknown"
        } else {
            "GNU/Linux"
        };
        check(
            a == format!("Linux {n} {r} {v} {m} {tail}"),
            format!("`uname -a` says {a:?}"),
        );
        let version = one(&mut bot, "cat /proc/version");
        check(
            version.starts_with(&format!("Linux version {r} (")) && version.ends_with(&v),
            format!("/proc/version {version:?} against uname -r {r:?} -v {v:?}"),
        );
        check(
            !version.contains("Hisilicon") || m.starts_with("arm"),
            format!("a HiSilicon ARM compiler on a {m} kernel: {version:?}"),
        );
        // The CPU: /proc/cpuinfo is of the machine uname names (each family
        // has its own layout: MIPS's "cpu model", ARM's "CPU architecture",
        // x86's "vendor_id", PowerPC's processor version register...).
        let cpu = bot.run("cat /proc/cpuinfo");
        let family = if m.starts_with("mips") {
            "cpu model"
        } else if m.starts_with("arm") || m == "aarch64" {
            "CPU architecture"
        } else if m == "i686" || m == "x86_64" {
            "vendor_id"
        } else if m.starts_with("ppc") {
            "(pvr "
        } else if m.starts_with("sh") {
            "sh4"
        } else {
            "cpu"
        };
        check(
            cpu.contains(family),
            format!("/proc/cpuinfo of a {m} machine lacks {family:?}: {cpu:?}"),
        );
        // The name: everywhere the same.
        for cmd in [
            "hostname",
            "cat /proc/sys/kernel/hostname",
            "cat /etc/hostname",
        ] {
            let said = one(&mut bot, cmd);
            check(said == n, format!("`{cmd}` says {said:?}, uname -n {n:?}"));
        }
        // A BusyBox banner in the login's message names the same BusyBox.
        let motd = String::from_utf8_lossy(&bot.seen).into_owned();
        if let Some(i) = motd.find("BusyBox v") {
            let said = &motd[i..];
            check(
                said.starts_with(&f.busybox),
                format!(
                    "the login says {:?}, the profile {:?}",
                    said.lines().next(),
                    f.busybox
                ),
            );
        }
        bot.send("exit");
    }
    drop(hp);
    assert!(
        problems.is_empty(),
        "{} contradictions:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
