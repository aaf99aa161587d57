//! `test EXPR` / `[ EXPR ]`: file tests, string and integer comparisons,
//! `!`, `-a`, `-o`.

use super::lossy;
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut args: Vec<&[u8]> = argv[1..].iter().map(|a| a.as_slice()).collect();
    if argv[0].as_slice() == b"[" || argv[0].as_slice() == b"[[" {
        let close: &[u8] = if argv[0].as_slice() == b"[" {
            b"]"
        } else {
            b"]]"
        };
        if args.last() != Some(&close) {
            sh.err(io, format!("{}: missing ]\n", lossy(&argv[0])).as_bytes());
            return 2;
        }
        args.pop();
    }
    i32::from(!or_expr(sh, &args))
}

fn or_expr(sh: &Shell, args: &[&[u8]]) -> bool {
    if let Some(i) = args.iter().position(|a| *a == b"-o") {
        return and_expr(sh, &args[..i]) || or_expr(sh, &args[i + 1..]);
    }
    and_expr(sh, args)
}

fn and_expr(sh: &Shell, args: &[&[u8]]) -> bool {
    if let Some(i) = args.iter().position(|a| *a == b"-a") {
        if i > 0 {
            return primary(sh, &args[..i]) && and_expr(sh, &args[i + 1..]);
        }
    }
    primary(sh, args)
}

fn primary(sh: &Shell, args: &[&[u8]]) -> bool {
    match args {
        [] => false,
        [b"!", rest @ ..] => !primary(sh, rest),
        [s] => !s.is_empty(),
        [op, x] => {
            let path = sh.abs(x);
            let st = sh.vfs.stat(&path).ok().map(|(_, e)| e.clone());
            match *op {
                b"-n" => !x.is_empty(),
                b"-z" => x.is_empty(),
                b"-e" | b"-a" => st.is_some(),
                b"-f" => st.is_some_and(|e| matches!(e.node, crate::vfs::Node::File(_))),
                b"-d" => st.is_some_and(|e| e.is_dir()),
                b"-x" => st.is_some_and(|e| e.mode & 0o111 != 0),
                b"-r" | b"-w" => st.is_some(),
                b"-s" => st.is_some_and(|e| e.size() > 0),
                b"-c" => st.is_some_and(|e| matches!(e.node, crate::vfs::Node::Device)),
                b"-L" | b"-h" => sh
                    .vfs
                    .lstat(&path)
                    .is_some_and(|e| matches!(e.node, crate::vfs::Node::Link(_))),
                _ => false,
            }
        }
        [a, op, b] => {
            let n = |v: &[u8]| lossy(v).trim().parse::<i64>().unwrap_or(0);
            match *op {
                b"=" | b"==" => a == b,
                b"!=" => a != b,
                b"-eq" => n(a) == n(b),
                b"-ne" => n(a) != n(b),
                b"-lt" => n(a) < n(b),
                b"-le" => n(a) <= n(b),
                b"-gt" => n(a) > n(b),
                b"-ge" => n(a) >= n(b),
                _ => false,
            }
        }
        _ => false,
    }
}
