//! `grep [-ivcqnw] PATTERN [FILE...]` with fixed-string matching (bots grep
//! `/proc/cpuinfo` and `/proc/mounts` for words, not regexes).

use super::{flags, lossy};
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (f, ops) = flags(&argv[1..], "ivcqnwEFlo");
    let Some(pattern) = ops.first() else {
        sh.usage(io, "grep");
        return 2;
    };
    let icase = f.contains('i');
    let pat: Vec<u8> = if icase {
        pattern.to_ascii_lowercase()
    } else {
        pattern.to_vec()
    };
    let mut data = Vec::new();
    if ops.len() == 1 {
        data = io.stdin.take_all().to_vec();
    } else {
        for file in &ops[1..] {
            let path = sh.abs(file);
            match sh.vfs.read(&path) {
                Ok(d) => data.extend_from_slice(&d),
                Err(e) => {
                    let msg = format!("grep: {}: {}\n", lossy(file), e.text());
                    sh.err(io, msg.as_bytes());
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut count = 0;
    for (n, line) in data.split(|c| *c == b'\n').enumerate() {
        if line.is_empty() && n > 0 && data.ends_with(b"\n") {
            continue;
        }
        let hay = if icase {
            line.to_ascii_lowercase()
        } else {
            line.to_vec()
        };
        let hit = pat.is_empty() || hay.windows(pat.len()).any(|w| w == pat.as_slice());
        if hit != f.contains('v') {
            count += 1;
            if f.contains('n') {
                out.extend_from_slice(format!("{}:", n + 1).as_bytes());
            }
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    if f.contains('c') {
        out = format!("{count}\n").into_bytes();
    }
    if !f.contains('q') {
        sh.out(io, &out);
    }
    i32::from(count == 0)
}
