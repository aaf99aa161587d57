//! `ps`: the persona's process list plus this session's shell.

use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, _argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut out = String::from("  PID USER       VSZ STAT COMMAND\n");
    let last = sh.sys.processes.last().map(|p| p.0).unwrap_or(300);
    for (pid, user, vsz, stat, cmd) in &sh.sys.processes {
        out.push_str(&format!("{pid:>5} {user:<8} {vsz:>6} {stat:<4} {cmd}\n"));
    }
    out.push_str(&format!(
        "{:>5} {:<8} {:>6} {:<4} ps\n",
        last + 7,
        sh.user,
        1492,
        "R"
    ));
    sh.out(io, out.as_bytes());
    0
}
