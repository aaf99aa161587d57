//! `rm [-rf] FILE...` and `rmdir DIR...`. Bots clean up after themselves;
//! a dropped file deleted before the session ends is still reported.

use super::{flags, lossy};
use crate::exec::Io;
use crate::vfs::FsError;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (f, ops) = flags(&argv[1..], "rRfi");
    let recursive = f.contains('r') || f.contains('R');
    let force = f.contains('f');
    if ops.is_empty() && !force {
        return sh.usage(io, "rm");
    }
    let mut status = 0;
    for op in ops {
        let path = sh.abs(op);
        // Report what is about to disappear.
        let dirty: Vec<String> = sh
            .dirty
            .iter()
            .filter(|d| **d == path || d.starts_with(&format!("{path}/")))
            .cloned()
            .collect();
        for d in dirty {
            sh.report_file(&d);
        }
        match sh.vfs.remove(&path, recursive) {
            Ok(()) => {}
            Err(FsError::NotFound) if force => {}
            Err(FsError::IsDir) => {
                let msg = format!("rm: '{}' is a directory\n", lossy(op));
                sh.err(io, msg.as_bytes());
                status = 1;
            }
            Err(e) => {
                let msg = format!("rm: can't remove '{}': {}\n", lossy(op), e.text());
                sh.err(io, msg.as_bytes());
                status = 1;
            }
        }
    }
    status
}

pub(crate) fn rmdir(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut status = 0;
    for op in &argv[1..] {
        let path = sh.abs(op);
        let res = match sh.vfs.stat(&path) {
            Ok((_, e)) if !e.is_dir() => Err(FsError::NotDir),
            Ok(_) => match sh.vfs.list(&path) {
                Ok(l) if !l.is_empty() => {
                    let msg = format!("rmdir: '{}': Directory not empty\n", lossy(op));
                    sh.err(io, msg.as_bytes());
                    status = 1;
                    continue;
                }
                _ => sh.vfs.remove(&path, true),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = res {
            let msg = format!("rmdir: '{}': {}\n", lossy(op), e.text());
            sh.err(io, msg.as_bytes());
            status = 1;
        }
    }
    status
}
