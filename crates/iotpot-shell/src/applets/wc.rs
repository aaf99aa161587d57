//! `wc [-lwc] [FILE...]`.

use super::{flags, lossy};
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (f, ops) = flags(&argv[1..], "lwcm");
    let (data, name) = match ops.first() {
        None => (io.stdin.take_all().to_vec(), String::new()),
        Some(file) => {
            let path = sh.abs(file);
            match sh.vfs.read(&path) {
                Ok(d) => (d.to_vec(), format!(" {}", lossy(file))),
                Err(e) => {
                    let msg = format!("wc: can't open '{}': {}\n", lossy(file), e.text());
                    sh.err(io, msg.as_bytes());
                    return 1;
                }
            }
        }
    };
    let lines = data.iter().filter(|c| **c == b'\n').count();
    let words = data
        .split(|c| c.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .count();
    let bytes = data.len();
    let mut cols = Vec::new();
    if f.is_empty() || f.contains('l') {
        cols.push(lines);
    }
    if f.is_empty() || f.contains('w') {
        cols.push(words);
    }
    if f.is_empty() || f.contains('c') || f.contains('m') {
        cols.push(bytes);
    }
    let line = if cols.len() == 1 {
        format!("{}{name}\n", cols[0])
    } else {
        format!(
            "{}{name}\n",
            cols.iter().map(|c| format!("{c:>9}")).collect::<String>()
        )
    };
    sh.out(io, line.as_bytes());
    0
}
