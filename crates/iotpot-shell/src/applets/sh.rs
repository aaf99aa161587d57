//! `sh`, `.`/`source`, `exec`, `eval`, `type`: running scripts *inside the
//! emulation*. A script the attacker dropped is parsed and interpreted here,
//! so its downloads are seen; nothing runs on the host.

use super::lossy;
use crate::exec::Io;
use crate::{Effect, Shell};

pub(crate) fn sh(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    match argv.get(1).map(|a| a.as_slice()) {
        // A new interactive shell: nothing to see.
        None | Some(b"-i") | Some(b"-l") | Some(b"-") => 0,
        Some(b"-c") => {
            let Some(cmd) = argv.get(2) else {
                sh.err(io, b"sh: -c requires an argument\n");
                return 2;
            };
            let mut args = vec![argv.get(3).cloned().unwrap_or_else(|| b"sh".to_vec())];
            args.extend(argv.iter().skip(4).cloned());
            let cmd = cmd.clone();
            sh.run_script(&cmd, &args, io)
        }
        Some(_) => {
            let file = argv
                .iter()
                .skip(1)
                .find(|a| !a.starts_with(b"-"))
                .cloned()
                .unwrap_or_default();
            run_file(sh, &file, &argv[1..], io, "sh")
        }
    }
}

pub(crate) fn source(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let Some(file) = argv.get(1).cloned() else {
        return 0;
    };
    run_file(sh, &file, &argv[1..], io, ".")
}

fn run_file(sh: &mut Shell, file: &[u8], args: &[Vec<u8>], io: &mut Io, how: &str) -> i32 {
    let path = sh.abs(file);
    match sh.vfs.read(&path) {
        Ok(text) => {
            sh.report_file(&path);
            sh.effect(Effect::Executed {
                path: path.clone(),
                args: args[1..]
                    .iter()
                    .map(|a| lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
                bytes: Some(text.clone()),
            });
            sh.run_script(&text, args, io)
        }
        Err(e) => {
            let msg = if how == "." {
                format!(
                    "{}: .: line 1: can't open '{}': {}\n",
                    sh.shell_name(),
                    lossy(file),
                    e.text()
                )
            } else {
                format!("sh: can't open '{}': {}\n", lossy(file), e.text())
            };
            sh.err(io, msg.as_bytes());
            if how == "." {
                2
            } else {
                127
            }
        }
    }
}

pub(crate) fn exec(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    if argv.len() < 2 {
        return 0;
    }
    sh.run_argv(&argv[1..], io)
}

pub(crate) fn eval(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let text = argv[1..].join(&b' ');
    let args = vec![b"eval".to_vec()];
    // Not a file: keep positional parameters.
    let saved = sh.args.clone();
    let status = sh.run_script(&text, if saved.is_empty() { &args } else { &saved }, io);
    sh.args = saved;
    status
}

pub(crate) fn type_(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut status = 0;
    let mut out = String::new();
    for a in argv[1..].iter().filter(|a| !a.starts_with(b"-")) {
        let name = lossy(a).into_owned();
        if matches!(
            name.as_str(),
            "cd" | "echo"
                | "printf"
                | "read"
                | "test"
                | "["
                | "kill"
                | "export"
                | "exit"
                | "eval"
                | "exec"
                | "."
                | "pwd"
                | "true"
                | "false"
        ) {
            out.push_str(&format!("{name} is a shell builtin\n"));
            continue;
        }
        match ["/bin", "/sbin", "/usr/bin", "/usr/sbin"]
            .iter()
            .map(|d| crate::vfs::join(d, &name))
            .find(|p| sh.vfs.lstat(p).is_some())
        {
            Some(p) => out.push_str(&format!("{name} is {p}\n")),
            None => {
                out.push_str(&format!("{name}: not found\n"));
                status = 127;
            }
        }
    }
    sh.out(io, out.as_bytes());
    status
}
