//! What one persona's device looks like from its shell: the base filesystem
//! (BusyBox and its applet links, `/proc`, `/etc`, `/dev`, the profile's own
//! files) and the facts applets print. Built once per listener and shared by
//! all its sessions.

use crate::vfs::{BaseFs, Entry, Node};
use iotpot_core::{Arch, Persona};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Applets of a typical embedded BusyBox 1.1x-1.2x build (used when the
/// profile lists none).
pub const DEFAULT_APPLETS: &[&str] = &[
    "[", "[[", "arp", "ash", "awk", "basename", "cat", "chmod", "chown", "clear", "cp", "crond",
    "cut", "date", "dd", "df", "dirname", "dmesg", "du", "echo", "egrep", "env", "expr", "false",
    "fgrep", "free", "ftpget", "ftpput", "getty", "grep", "gunzip", "gzip", "halt", "head",
    "hexdump", "hostname", "id", "ifconfig", "init", "insmod", "kill", "killall", "klogd", "ln",
    "login", "logread", "ls", "lsmod", "md5sum", "mdev", "mkdir", "mknod", "mount", "mv", "nc",
    "netstat", "nohup", "nslookup", "passwd", "pidof", "ping", "poweroff", "printf", "ps", "pwd",
    "reboot", "rm", "rmdir", "rmmod", "route", "sed", "sh", "sleep", "sort", "sync", "sysctl",
    "syslogd", "tail", "tar", "tee", "telnet", "telnetd", "test", "tftp", "top", "touch", "tr",
    "true", "udhcpc", "umount", "uname", "uniq", "uptime", "usleep", "vi", "wc", "wget", "which",
    "whoami", "xargs", "yes", "zcat",
];

/// Where applet links live (default `/bin`).
fn applet_dir(name: &str) -> &'static str {
    match name {
        "arp" | "getty" | "halt" | "ifconfig" | "init" | "insmod" | "klogd" | "lsmod" | "mdev"
        | "poweroff" | "reboot" | "rmmod" | "route" | "sysctl" | "syslogd" | "udhcpc" => "/sbin",
        "[" | "[[" | "awk" | "basename" | "clear" | "cut" | "dirname" | "du" | "env" | "expr"
        | "free" | "ftpget" | "ftpput" | "head" | "hexdump" | "id" | "killall" | "logread"
        | "md5sum" | "nc" | "nohup" | "nslookup" | "sort" | "tail" | "tee" | "telnet" | "test"
        | "tftp" | "top" | "tr" | "uniq" | "uptime" | "wc" | "wget" | "which" | "whoami"
        | "xargs" | "yes" | "crond" => "/usr/bin",
        "telnetd" => "/usr/sbin",
        _ => "/bin",
    }
}

/// One persona's device, shared by every session of it.
#[derive(Debug)]
pub struct System {
    pub persona: Persona,
    pub arch: Arch,
    pub base: Arc<BaseFs>,
    pub applets: BTreeSet<String>,
    /// Exact simple-command lines with fixed answers.
    pub commands: BTreeMap<String, String>,
    /// Unix time the device "booted".
    pub boot_time: i64,
    /// `(pid, user, vsz, stat, command)`.
    pub processes: Vec<(u32, String, u64, String, String)>,
}

impl System {
    /// Build the device for `persona`; `now` is the current Unix time.
    pub fn new(persona: Persona, now: i64) -> Arc<System> {
        let p = &persona.profile;
        let s = &p.system;
        let arch = p.arch;
        let applets: BTreeSet<String> = if s.applets.is_empty() {
            DEFAULT_APPLETS.iter().map(|a| a.to_string()).collect()
        } else {
            s.applets.iter().cloned().collect()
        };
        // A device that has been up for 3 to 40 days.
        let uptime = 3 * 86_400
            + (persona.mac.bytes().map(|b| b as i64).sum::<i64>() * 7919) % (37 * 86_400);
        let boot_time = now - uptime;
        let build_time = boot_time - 400 * 86_400;
        let mut fs = BaseFs::default();
        let dir = |mode| Entry {
            node: Node::Dir,
            mode,
            mtime: build_time,
        };
        let file = |data: Vec<u8>, mode| Entry {
            node: Node::File(Arc::new(data)),
            mode,
            mtime: build_time,
        };
        let link = |target: &str| Entry {
            node: Node::Link(target.to_string()),
            mode: 0o777,
            mtime: build_time,
        };
        for d in [
            "/bin",
            "/sbin",
            "/usr/bin",
            "/usr/sbin",
            "/usr/lib",
            "/lib",
            "/etc",
            "/dev",
            "/proc",
            "/sys",
            "/mnt",
            "/root",
            "/home",
            "/var/log",
            "/var/lock",
        ] {
            fs.insert(d, dir(0o755));
        }
        for d in ["/tmp", "/var/run", "/var/tmp"] {
            fs.insert(d, dir(0o777));
        }
        fs.insert(
            "/bin/busybox",
            file(busybox_image(arch, &s.busybox, &applets), 0o755),
        );
        for a in &applets {
            let path = format!("{}/{}", applet_dir(a), a);
            let target = if applet_dir(a) == "/bin" {
                "busybox".to_string()
            } else {
                "/bin/busybox".to_string()
            };
            fs.insert(&path, link(&target));
        }
        fs.insert("/bin/sh", link("busybox"));
        for d in [
            "/dev/null",
            "/dev/zero",
            "/dev/urandom",
            "/dev/random",
            "/dev/watchdog",
            "/dev/misc/watchdog",
            "/dev/console",
            "/dev/ttyS0",
            "/dev/mtd0",
            "/dev/mtdblock0",
        ] {
            fs.insert(
                d,
                Entry {
                    node: Node::Device,
                    mode: 0o666,
                    mtime: boot_time,
                },
            );
        }
        fs.insert("/lib/ld-uClibc.so.0", link("ld-uClibc-0.9.33.2.so"));
        fs.insert("/lib/libc.so.0", link("libuClibc-0.9.33.2.so"));
        let mut lib_image = arch.elf_header();
        lib_image.resize(4096, 0);
        fs.insert("/lib/libuClibc-0.9.33.2.so", file(lib_image.clone(), 0o755));
        fs.insert("/lib/ld-uClibc-0.9.33.2.so", file(lib_image, 0o755));

        let uname_v = &s.kernel_version;
        let etc: [(&str, String); 8] = [
            ("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n".to_string()),
            ("/etc/group", "root:x:0:\n".to_string()),
            (
                "/etc/shadow",
                "root:$1$$zdlNHiCDxYDfeF4MZL.H3/:10933:0:99999:7:::\n".to_string(),
            ),
            ("/etc/hostname", format!("{}\n", s.hostname)),
            (
                "/etc/hosts",
                format!("127.0.0.1\tlocalhost\n127.0.1.1\t{}\n", s.hostname),
            ),
            ("/etc/resolv.conf", "nameserver 192.168.1.1\n".to_string()),
            (
                "/etc/inittab",
                "::sysinit:/etc/init.d/rcS\n::respawn:-/bin/sh\n::ctrlaltdel:/sbin/reboot\n"
                    .to_string(),
            ),
            (
                "/etc/profile",
                "export PATH=/bin:/sbin:/usr/bin:/usr/sbin\nexport PS1='# '\n".to_string(),
            ),
        ];
        for (path, text) in etc {
            fs.insert(path, file(text.into_bytes(), 0o644));
        }
        let cpuinfo = if s.cpuinfo.is_empty() {
            arch.info().cpuinfo.to_string()
        } else {
            s.cpuinfo.clone()
        };
        let mounts = if s.mounts.is_empty() {
            DEFAULT_MOUNTS.to_string()
        } else {
            s.mounts.clone()
        };
        let compiler = if s.compiler.is_empty() {
            arch.info().compiler
        } else {
            &s.compiler
        };
        let mem = s.mem_kib;
        let free = mem / 3;
        let proc_files = [
            ("/proc/cpuinfo", cpuinfo),
            ("/proc/mounts", mounts),
            (
                "/proc/version",
                format!(
                    "Linux version {} ({}) ({compiler}) {uname_v}\n",
                    s.kernel_release, s.kernel_builder
                ),
            ),
            (
                "/proc/meminfo",
                format!(
                    "MemTotal:       {mem:>8} kB\nMemFree:        {free:>8} kB\nBuffers:        {:>8} kB\nCached:         {:>8} kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n",
                    mem / 40,
                    mem / 6
                ),
            ),
            ("/proc/sys/kernel/hostname", format!("{}\n", s.hostname)),
            ("/proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n".to_string()),
            ("/proc/1/cmdline", "init\0".to_string()),
        ];
        for (path, text) in proc_files {
            fs.insert(path, file(text.into_bytes(), 0o444));
        }
        fs.insert("/proc/self", link("/proc/1"));
        fs.insert("/proc/1/exe", link("/bin/busybox"));
        for d in &p.fs.dirs {
            fs.insert(d, dir(0o755));
        }
        for (path, text) in &p.fs.files {
            fs.insert(path, file(text.clone().into_bytes(), 0o644));
        }
        for (path, target) in &p.fs.links {
            fs.insert(path, link(target));
        }
        let mut processes: Vec<(u32, String, u64, String, String)> = s
            .processes
            .iter()
            .filter_map(|line| {
                let mut it = line.split_whitespace();
                let pid = it.next()?.parse().ok()?;
                let user = it.next()?.to_string();
                let vsz = it.next()?.parse().ok()?;
                let stat = it.next()?.to_string();
                let cmd = it.collect::<Vec<_>>().join(" ");
                Some((pid, user, vsz, stat, cmd))
            })
            .collect();
        if processes.is_empty() {
            processes = vec![
                (1, "root".into(), 1496, "S".into(), "init".into()),
                (2, "root".into(), 0, "SW".into(), "[kthreadd]".into()),
                (3, "root".into(), 0, "SW".into(), "[ksoftirqd/0]".into()),
                (314, "root".into(), 1492, "S".into(), "telnetd".into()),
                (331, "root".into(), 1500, "S".into(), "-sh".into()),
            ];
        }
        Arc::new(System {
            commands: p.commands.clone(),
            persona,
            arch,
            base: Arc::new(fs),
            applets,
            boot_time,
            processes,
        })
    }

    pub fn hostname(&self) -> &str {
        &self.persona.profile.system.hostname
    }
}

const DEFAULT_MOUNTS: &str = "rootfs / rootfs rw 0 0
/dev/root / squashfs ro,relatime 0 0
proc /proc proc rw,relatime 0 0
sysfs /sys sysfs rw,relatime 0 0
tmpfs /dev tmpfs rw,relatime 0 0
devpts /dev/pts devpts rw,relatime,mode=600 0 0
tmpfs /tmp tmpfs rw,relatime 0 0
tmpfs /var tmpfs rw,relatime 0 0
/dev/mtdblock3 /mnt jffs2 rw,relatime 0 0
";

/// The bytes of `/bin/busybox`: an ELF header for the architecture, then
/// the strings a real BusyBox carries. Loaders that `cat /bin/echo` to learn
/// the CPU read the header; `strings` shows a believable binary.
fn busybox_image(arch: Arch, version: &str, applets: &BTreeSet<String>) -> Vec<u8> {
    let mut img = arch.elf_header();
    img.resize(1024, 0);
    // Some code-like filler so the file is not mostly zeros.
    let mut x: u32 = 0x9e37_79b9 ^ arch.info().e_machine as u32;
    while img.len() < 6144 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        img.extend_from_slice(&x.to_le_bytes());
    }
    img.extend_from_slice(crate::usage::version_line(version).as_bytes());
    img.push(0);
    img.extend_from_slice(b"/bin/sh\0/etc/passwd\0/proc/self/exe\0applet not found\0");
    for a in applets {
        img.extend_from_slice(a.as_bytes());
        img.push(0);
    }
    while !img.len().is_multiple_of(16) {
        img.push(0);
    }
    img
}
