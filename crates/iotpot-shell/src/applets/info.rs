//! Small applets that print facts about the device: `hostname`, `id`,
//! `whoami`, `free`, `uptime`, `date`, `which`.

use super::lossy;
use crate::exec::Io;
use crate::Shell;
use time::OffsetDateTime;

pub(crate) fn hostname(sh: &mut Shell, _argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let line = format!("{}\n", sh.sys.hostname());
    sh.out(io, line.as_bytes());
    0
}

pub(crate) fn id(sh: &mut Shell, _argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let line = if sh.user == "root" {
        "uid=0(root) gid=0(root)\n".to_string()
    } else {
        format!("uid=0({u}) gid=0(root) groups=0(root)\n", u = sh.user)
    };
    sh.out(io, line.as_bytes());
    0
}

pub(crate) fn whoami(sh: &mut Shell, _argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let line = format!("{}\n", sh.user);
    sh.out(io, line.as_bytes());
    0
}

pub(crate) fn free(sh: &mut Shell, _argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let total = sh.sys.persona.profile.system.mem_kib;
    let free = total / 3;
    let used = total - free;
    let text = format!(
        "             total       used       free     shared    buffers\n  Mem:  {total:>10} {used:>10} {free:>10} {:>10} {:>10}\n -/+ buffers:      {:>10} {:>10}\n  Swap:          0          0          0\n",
        0,
        total / 40,
        used - total / 40,
        free + total / 40
    );
    sh.out(io, text.as_bytes());
    0
}

pub(crate) fn uptime(sh: &mut Shell, _argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let now = sh.now();
    let up = (now - sh.sys.boot_time).max(0);
    let t = OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let days = up / 86_400;
    let hm = (up % 86_400) / 60;
    let line = format!(
        " {:02}:{:02}:{:02} up {days} day{}, {:2}:{:02},  load average: 0.{:02}, 0.{:02}, 0.{:02}\n",
        t.hour(),
        t.minute(),
        t.second(),
        if days == 1 { "" } else { "s" },
        hm / 60,
        hm % 60,
        (now % 37) + 8,
        (now % 23) + 11,
        (now % 19) + 9
    );
    sh.out(io, line.as_bytes());
    0
}

pub(crate) fn date(sh: &mut Shell, _argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let t = OffsetDateTime::from_unix_timestamp(sh.now()).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let line = format!(
        "{} {} {:>2} {:02}:{:02}:{:02} UTC {}\n",
        DAYS[t.weekday().number_days_from_monday() as usize],
        MONS[t.month() as usize - 1],
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    );
    sh.out(io, line.as_bytes());
    0
}

pub(crate) fn which(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut status = 0;
    let mut out = String::new();
    for a in argv[1..].iter().filter(|a| !a.starts_with(b"-")) {
        let name = lossy(a);
        match ["/bin", "/sbin", "/usr/bin", "/usr/sbin"]
            .iter()
            .map(|d| crate::vfs::join(d, &name))
            .find(|p| sh.vfs.lstat(p).is_some())
        {
            Some(p) => out.push_str(&format!("{p}\n")),
            None => status = 1,
        }
    }
    sh.out(io, out.as_bytes());
    status
}
