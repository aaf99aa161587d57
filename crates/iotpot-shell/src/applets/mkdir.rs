//! `mkdir [-p] DIR...` and `ln -s TARGET LINK`.

use super::{flags, lossy};
use crate::exec::Io;
use crate::vfs::{self, FsError};
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (f, ops) = flags(&argv[1..], "pm");
    if ops.is_empty() {
        return sh.usage(io, "mkdir");
    }
    let parents = f.contains('p');
    let mut status = 0;
    for op in ops {
        let path = sh.abs(op);
        let res = if parents {
            let mut cur = String::new();
            let mut r = Ok(());
            for comp in path.split('/').filter(|c| !c.is_empty()) {
                cur = vfs::join(if cur.is_empty() { "/" } else { &cur }, comp);
                match sh.vfs.mkdir(&cur, sh.now()) {
                    Ok(()) | Err(FsError::Exists) => {}
                    Err(e) => {
                        r = Err(e);
                        break;
                    }
                }
            }
            r
        } else {
            sh.vfs.mkdir(&path, sh.now())
        };
        if let Err(e) = res {
            let msg = format!(
                "mkdir: can't create directory '{}': {}\n",
                lossy(op),
                e.text()
            );
            sh.err(io, msg.as_bytes());
            status = 1;
        }
    }
    status
}

pub(crate) fn ln(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (f, ops) = flags(&argv[1..], "sfn");
    if ops.len() != 2 {
        return sh.usage(io, "ln");
    }
    let link = sh.abs(ops[1]);
    if f.contains('f') {
        let _ = sh.vfs.remove(&link, false);
    }
    let res = if f.contains('s') {
        sh.vfs.symlink(&lossy(ops[0]), &link, sh.now())
    } else {
        let src = sh.abs(ops[0]);
        match sh.vfs.stat(&src) {
            Ok((real, e)) => {
                let mode = e.mode;
                let data = sh.vfs.read(&real).unwrap_or_default();
                sh.vfs.put_file(&link, data, mode, sh.now()).map(|_| ())
            }
            Err(e) => Err(e),
        }
    };
    if let Err(e) = res {
        let msg = format!("ln: {}: {}\n", lossy(ops[1]), e.text());
        sh.err(io, msg.as_bytes());
        return 1;
    }
    0
}
