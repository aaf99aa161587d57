//! `export`, `unset`, `local`, `readonly` and `exit` (ash builtins).

use super::lossy;
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], _io: &mut Io) -> i32 {
    let unset = argv[0].as_slice() == b"unset";
    for a in &argv[1..] {
        if a.starts_with(b"-") {
            continue;
        }
        if unset {
            sh.vars.remove(lossy(a).as_ref());
        } else if let Some(eq) = a.iter().position(|c| *c == b'=') {
            sh.set_var(&lossy(&a[..eq]), a[eq + 1..].to_vec());
        }
    }
    0
}

pub(crate) fn exit(sh: &mut Shell, argv: &[Vec<u8>], _io: &mut Io) -> i32 {
    let status = argv
        .get(1)
        .and_then(|a| lossy(a).parse().ok())
        .unwrap_or(sh.status);
    sh.exit();
    status
}
