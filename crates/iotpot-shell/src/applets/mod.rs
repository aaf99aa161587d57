//! One file per BusyBox applet or ash builtin.
//!
//! An applet is `fn(&mut Shell, &[Vec<u8>], &mut Io) -> i32`: it gets its
//! whole argv (argv[0] included), writes through [`Shell::out`] /
//! [`Shell::err`], and returns the exit status. Messages copy BusyBox's own
//! wording, because bots match on them.

use crate::exec::Io;
use crate::Shell;

pub(crate) mod busybox;
mod cat;
mod cd;
mod chmod;
mod cp;
mod dd;
mod download;
mod echo;
mod grep;
mod head;
mod info;
mod kill;
mod ls;
mod mkdir;
mod mv;
mod printf;
mod ps;
mod read;
mod rm;
mod sh;
mod sleep;
mod test;
mod touch;
mod uname;
mod vars;
mod wc;

type Applet = fn(&mut Shell, &[Vec<u8>], &mut Io) -> i32;

/// ash builtins: found before `$PATH`.
pub(crate) fn builtin(sh: &mut Shell, name: &str, argv: &[Vec<u8>], io: &mut Io) -> Option<i32> {
    let f: Applet = match name {
        "cd" | "chdir" => cd::cd,
        "pwd" => cd::pwd,
        "echo" => echo::run,
        "printf" => printf::run,
        "read" => read::run,
        "true" | ":" => |_, _, _| 0,
        "false" => |_, _, _| 1,
        "test" | "[" | "[[" => test::run,
        "kill" => kill::run,
        "export" | "unset" | "local" | "readonly" => vars::run,
        "exit" | "logout" => vars::exit,
        "." | "source" => sh::source,
        "exec" => sh::exec,
        "eval" => sh::eval,
        "type" | "command" => sh::type_,
        "wait" | "umask" | "ulimit" | "trap" | "set" | "shift" | "hash" | "alias" | "jobs" => {
            |_, _, _| 0
        }
        _ => return None,
    };
    Some(f(sh, argv, io))
}

/// BusyBox applets this emulation knows. `None`: part of the BusyBox build
/// but not emulated (the caller reports it as unknown).
pub(crate) fn applet(sh: &mut Shell, name: &str, argv: &[Vec<u8>], io: &mut Io) -> Option<i32> {
    let f: Applet = match name {
        "sh" | "ash" => sh::sh,
        "echo" => echo::run,
        "printf" => printf::run,
        "cat" => cat::run,
        "cp" => cp::run,
        "mv" => mv::run,
        "rm" => rm::run,
        "rmdir" => rm::rmdir,
        "chmod" => chmod::run,
        "mkdir" => mkdir::run,
        "ln" => mkdir::ln,
        "touch" => touch::run,
        "ls" => ls::run,
        "ps" => ps::run,
        "kill" => kill::run,
        "killall" | "pkill" => kill::killall,
        "uname" => uname::run,
        "dd" => dd::run,
        "head" => head::head,
        "tail" => head::tail,
        "grep" | "egrep" | "fgrep" => grep::run,
        "wc" => wc::run,
        "wget" => download::wget,
        "tftp" => download::tftp,
        "ftpget" => download::ftpget,
        "curl" => download::curl,
        "nc" | "netcat" => download::nc,
        "pwd" => cd::pwd,
        "true" => |_, _, _| 0,
        "false" => |_, _, _| 1,
        "test" | "[" | "[[" => test::run,
        "hostname" => info::hostname,
        "id" => info::id,
        "whoami" => info::whoami,
        "free" => info::free,
        "uptime" => info::uptime,
        "date" => info::date,
        "which" => info::which,
        "sleep" => sleep::sleep,
        "usleep" => sleep::usleep,
        "sync" => |_, _, _| 0,
        _ => return None,
    };
    Some(f(sh, argv, io))
}

/// A command that is not on the device. Download tools are still recorded:
/// what the attacker wanted to fetch is the point of the honeypot.
pub(crate) fn record_intent(sh: &mut Shell, name: &str, argv: &[Vec<u8>]) {
    download::record_intent(sh, name, argv);
}

/// Short options, BusyBox getopt style: `-rf` = `-r -f`, `--` ends options.
/// Returns the flags seen and the operands.
pub(crate) fn flags<'a>(args: &'a [Vec<u8>], known: &str) -> (String, Vec<&'a [u8]>) {
    let mut seen = String::new();
    let mut operands = Vec::new();
    let mut done = false;
    for a in args {
        if !done && a.as_slice() == b"--" {
            done = true;
        } else if !done && a.len() > 1 && a[0] == b'-' {
            for &c in &a[1..] {
                let c = c as char;
                if known.contains(c) && !seen.contains(c) {
                    seen.push(c);
                }
            }
        } else {
            operands.push(a.as_slice());
        }
    }
    (seen, operands)
}

pub(crate) fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// `SRC... DEST` operands of `cp`/`mv`: each source's absolute path and its
/// target (inside DEST when DEST is a directory).
pub(crate) fn copy_targets<'a>(sh: &Shell, ops: &[&'a [u8]]) -> Vec<(&'a [u8], String, String)> {
    let (srcs, dest) = ops.split_at(ops.len() - 1);
    let dest_path = sh.abs(dest[0]);
    let dest_is_dir = sh
        .vfs
        .stat(&dest_path)
        .map(|(_, e)| e.is_dir())
        .unwrap_or(false);
    srcs.iter()
        .map(|src| {
            let src_path = sh.abs(src);
            let target = if dest_is_dir {
                crate::vfs::join(&dest_path, crate::vfs::basename(&src_path))
            } else {
                dest_path.clone()
            };
            (*src, src_path, target)
        })
        .collect()
}
