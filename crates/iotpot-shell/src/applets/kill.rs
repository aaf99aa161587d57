//! `kill [-SIG] PID...` and `killall NAME...`. Bots kill competing malware
//! and the watchdog; nothing really dies, but the answers are the device's.

use super::lossy;
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let pids: Vec<&Vec<u8>> = argv[1..].iter().filter(|a| !a.starts_with(b"-")).collect();
    if pids.is_empty() {
        return sh.usage(io, "kill");
    }
    let mut status = 0;
    for p in pids {
        let known = lossy(p)
            .parse::<u32>()
            .ok()
            .is_some_and(|pid| sh.sys.processes.iter().any(|x| x.0 == pid));
        if !known {
            let msg = format!("kill: can't kill pid {}: No such process", lossy(p));
            sh.sh_error(io, &msg);
            status = 1;
        }
    }
    status
}

pub(crate) fn killall(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut status = 0;
    for name in argv[1..].iter().filter(|a| !a.starts_with(b"-")) {
        let n = lossy(name);
        let known = sh.sys.processes.iter().any(|p| {
            p.4.split_whitespace()
                .next()
                .is_some_and(|c| c.rsplit('/').next() == Some(&n))
        });
        if !known {
            let msg = format!("killall: {n}: no process killed\n");
            sh.err(io, msg.as_bytes());
            status = 1;
        }
    }
    status
}
