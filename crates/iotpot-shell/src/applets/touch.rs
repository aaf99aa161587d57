//! `touch FILE...`.

use super::{flags, lossy};
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (_, ops) = flags(&argv[1..], "cam");
    let mut status = 0;
    for op in ops {
        let path = sh.abs(op);
        let res = if sh.vfs.stat(&path).is_ok() {
            sh.vfs.set_mtime(&path, sh.now())
        } else {
            sh.vfs.write(&path, b"", false, sh.now()).map(|_| ())
        };
        if let Err(e) = res {
            let msg = format!("touch: {}: {}\n", lossy(op), e.text());
            sh.err(io, msg.as_bytes());
            status = 1;
        }
    }
    status
}
