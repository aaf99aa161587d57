//! `cat [FILE...]`: Mirai reads `/proc/mounts`, its `.nippon` check file and
//! `/bin/echo` (whose ELF header tells it the CPU) with it.

use super::lossy;
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let files: Vec<&Vec<u8>> = argv[1..]
        .iter()
        .filter(|a| a.as_slice() == b"-" || !a.starts_with(b"-"))
        .collect();
    if files.is_empty() {
        let data = io.stdin.take_all().to_vec();
        sh.out(io, &data);
        return 0;
    }
    let mut status = 0;
    for f in files {
        if f.as_slice() == b"-" {
            let data = io.stdin.take_all().to_vec();
            sh.out(io, &data);
            continue;
        }
        let path = sh.abs(f);
        match sh.vfs.read(&path) {
            Ok(data) => sh.out(io, &data),
            Err(e) => {
                let msg = format!("cat: can't open '{}': {}\n", lossy(f), e.text());
                sh.err(io, msg.as_bytes());
                status = 1;
            }
        }
    }
    status
}
