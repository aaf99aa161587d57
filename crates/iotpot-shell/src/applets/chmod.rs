//! `chmod MODE FILE...`: octal or symbolic (`+x`, `u+rwx`, `a-w`). Making a
//! dropped file executable reports it (it is usually complete by then).

use super::{flags, lossy};
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    // A mode like `-x` is not an option; keep only -R -f -v as flags.
    let args: Vec<Vec<u8>> = argv[1..].to_vec();
    let (_, ops) = flags(&args, "Rfv");
    let mut ops: Vec<&[u8]> = ops;
    if let Some(pos) = args.iter().position(|a| {
        a.starts_with(b"-") && a.len() > 1 && !a[1..].iter().all(|c| b"Rfv".contains(c))
    }) {
        ops.insert(0, &args[pos]);
    }
    if ops.len() < 2 {
        return sh.usage(io, "chmod");
    }
    let mode_arg = lossy(ops[0]).into_owned();
    let mut status = 0;
    for f in &ops[1..] {
        let path = sh.abs(f);
        let current = match sh.vfs.stat(&path) {
            Ok((_, e)) => e.mode,
            Err(e) => {
                let msg = format!("chmod: {}: {}\n", lossy(f), e.text());
                sh.err(io, msg.as_bytes());
                status = 1;
                continue;
            }
        };
        let Some(mode) = parse_mode(&mode_arg, current) else {
            let msg = format!("chmod: invalid mode '{mode_arg}'\n");
            sh.err(io, msg.as_bytes());
            return 1;
        };
        if let Ok(real) = sh.vfs.chmod(&path, mode) {
            if mode & 0o111 != 0 {
                sh.report_file(&real);
            }
        }
    }
    status
}

pub(crate) fn parse_mode(s: &str, current: u32) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        return u32::from_str_radix(s, 8).ok().filter(|m| *m <= 0o7777);
    }
    let mut mode = current;
    for clause in s.split(',') {
        let op_pos = clause.find(['+', '-', '='])?;
        let who = &clause[..op_pos];
        let op = clause.as_bytes()[op_pos];
        let perms = &clause[op_pos + 1..];
        let mut who_mask = 0;
        for c in who.chars() {
            who_mask |= match c {
                'u' => 0o700,
                'g' => 0o070,
                'o' => 0o007,
                'a' => 0o777,
                _ => return None,
            };
        }
        if who_mask == 0 {
            who_mask = 0o777;
        }
        let mut bits = 0;
        for c in perms.chars() {
            bits |= match c {
                'r' => 0o444,
                'w' => 0o222,
                'x' => 0o111,
                's' | 't' | 'X' => 0,
                _ => return None,
            };
        }
        let bits = bits & who_mask;
        mode = match op {
            b'+' => mode | bits,
            b'-' => mode & !bits,
            _ => (mode & !who_mask) | bits,
        };
    }
    Some(mode)
}
