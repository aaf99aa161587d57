//! `uname [-asnrvmpio]`.

use super::flags;
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (f, _) = flags(&argv[1..], "asnrvmpio");
    let s = &sh.sys.persona.profile.system;
    let machine = sh.sys.arch.info().machine;
    let all = f.contains('a');
    // BusyBox 0.x's -a ends with the processor ("unknown"), later ones
    // with the operating system.
    let old = crate::usage::Version::of_banner(&s.busybox) < crate::usage::Version(1, 0);
    let mut parts: Vec<&str> = Vec::new();
    if all || f.contains('s') || f.is_empty() {
        parts.push("Linux");
    }
    if all || f.contains('n') {
        parts.push(&s.hostname);
    }
    if all || f.contains('r') {
        parts.push(&s.kernel_release);
    }
    if all || f.contains('v') {
        parts.push(&s.kernel_version);
    }
    if all || f.contains('m') {
        parts.push(machine);
    }
    if (all && old) || (!all && f.contains('p')) {
        parts.push("unknown");
    }
    if !all && f.contains('i') {
        parts.push("unknown");
    }
    if (all && !old) || f.contains('o') {
        parts.push("GNU/Linux");
    }
    let line = format!("{}\n", parts.join(" "));
    sh.out(io, line.as_bytes());
    0
}
