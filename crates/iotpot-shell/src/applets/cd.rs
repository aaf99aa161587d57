//! `cd` and `pwd` (ash builtins).

use super::lossy;
use crate::exec::Io;
use crate::{vfs, Shell};

pub(crate) fn cd(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let target = match argv.get(1) {
        None => sh
            .vars
            .get("HOME")
            .map(|v| lossy(v).into_owned())
            .unwrap_or_else(|| sh.home().to_string()),
        Some(a) if a.as_slice() == b"-" => sh
            .vars
            .get("OLDPWD")
            .map(|v| lossy(v).into_owned())
            .unwrap_or_else(|| sh.cwd.clone()),
        Some(a) => sh.abs(a),
    };
    match sh.vfs.stat(&target) {
        Ok((_, e)) if e.is_dir() => {
            let old = std::mem::replace(&mut sh.cwd, vfs::normalize("/", &target));
            sh.set_var("OLDPWD", old.into_bytes());
            0
        }
        Ok(_) => {
            let msg = format!(
                "cd: can't cd to {}: Not a directory",
                lossy(argv.get(1).map(|a| a.as_slice()).unwrap_or(b""))
            );
            sh.sh_error(io, &msg);
            2
        }
        Err(e) => {
            let msg = format!(
                "cd: can't cd to {}: {}",
                lossy(argv.get(1).map(|a| a.as_slice()).unwrap_or(b"")),
                e.text()
            );
            sh.sh_error(io, &msg);
            2
        }
    }
}

pub(crate) fn pwd(sh: &mut Shell, _argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let line = format!("{}\n", sh.cwd);
    sh.out(io, line.as_bytes());
    0
}
