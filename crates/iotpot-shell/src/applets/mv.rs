//! `mv SRC... DEST`. A moved dropped file is reported under its new name.

use super::{flags, lossy};
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (_, ops) = flags(&argv[1..], "fin");
    if ops.len() < 2 {
        return sh.usage(io, "mv");
    }
    let mut status = 0;
    for (src, src_path, target) in super::copy_targets(sh, &ops) {
        match sh.vfs.rename(&src_path, &target) {
            Ok(()) => {
                if sh.dirty.remove(&src_path) {
                    sh.mark_dirty(target.clone());
                    sh.report_file(&target);
                }
            }
            Err(e) => {
                let msg = format!("mv: can't rename '{}': {}\n", lossy(src), e.text());
                sh.err(io, msg.as_bytes());
                status = 1;
            }
        }
    }
    status
}
