//! `cp [-rfp] SRC... DEST`: Mirai copies `/bin/echo` to get an executable
//! file it can overwrite (`cp /bin/echo dvrHelper; >dvrHelper`).

use super::{flags, lossy};
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (_, ops) = flags(&argv[1..], "rRfpadv");
    if ops.len() < 2 {
        return sh.usage(io, "cp");
    }
    let dest = ops[ops.len() - 1];
    let mut status = 0;
    for (src, src_path, target) in super::copy_targets(sh, &ops) {
        let (data, mode) = match sh.vfs.stat(&src_path) {
            Ok((_, e)) if e.is_dir() => {
                let msg = format!("cp: omitting directory '{}'\n", lossy(src));
                sh.err(io, msg.as_bytes());
                status = 1;
                continue;
            }
            Ok((real, e)) => (sh.vfs.read(&real).unwrap_or_default(), e.mode),
            Err(e) => {
                let msg = format!("cp: can't stat '{}': {}\n", lossy(src), e.text());
                sh.err(io, msg.as_bytes());
                status = 1;
                continue;
            }
        };
        match sh.vfs.put_file(&target, data, mode, sh.now()) {
            Ok(real) => sh.mark_dirty(real),
            Err(e) => {
                let msg = format!("cp: can't create '{}': {}\n", lossy(dest), e.text());
                sh.err(io, msg.as_bytes());
                status = 1;
            }
        }
    }
    status
}
