//! `head` and `tail` (`-n N`, `-N`, `-c N`).

use super::lossy;
use crate::exec::Io;
use crate::Shell;

struct Opts {
    lines: usize,
    bytes: Option<usize>,
    files: Vec<Vec<u8>>,
}

fn opts(argv: &[Vec<u8>]) -> Opts {
    let mut o = Opts {
        lines: 10,
        bytes: None,
        files: Vec::new(),
    };
    let mut i = 1;
    while i < argv.len() {
        let a = lossy(&argv[i]).into_owned();
        if a == "-n" || a == "-c" {
            let v = argv
                .get(i + 1)
                .map(|v| {
                    lossy(v)
                        .trim_start_matches(['-', '+'])
                        .parse()
                        .unwrap_or(10)
                })
                .unwrap_or(10);
            if a == "-n" {
                o.lines = v;
            } else {
                o.bytes = Some(v);
            }
            i += 2;
            continue;
        }
        if let Some(n) = a
            .strip_prefix("-n")
            .or_else(|| a.strip_prefix('-'))
            .and_then(|n| n.parse().ok())
        {
            o.lines = n;
        } else if !a.starts_with('-') {
            o.files.push(argv[i].clone());
        }
        i += 1;
    }
    o
}

fn inputs(sh: &mut Shell, o: &Opts, io: &mut Io, name: &str) -> Option<Vec<u8>> {
    if o.files.is_empty() {
        return Some(io.stdin.take_all().to_vec());
    }
    let mut all = Vec::new();
    for f in &o.files {
        let path = sh.abs(f);
        match sh.vfs.read(&path) {
            Ok(d) => all.extend_from_slice(&d),
            Err(e) => {
                let msg = format!("{name}: can't open '{}': {}\n", lossy(f), e.text());
                sh.err(io, msg.as_bytes());
                return None;
            }
        }
    }
    Some(all)
}

pub(crate) fn head(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let o = opts(argv);
    let Some(data) = inputs(sh, &o, io, "head") else {
        return 1;
    };
    let end = match o.bytes {
        Some(b) => b.min(data.len()),
        None => data
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == b'\n')
            .nth(o.lines.saturating_sub(1))
            .map(|(i, _)| i + 1)
            .unwrap_or(data.len()),
    };
    let end = if o.lines == 0 && o.bytes.is_none() {
        0
    } else {
        end
    };
    sh.out(io, &data[..end]);
    0
}

pub(crate) fn tail(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let o = opts(argv);
    let Some(data) = inputs(sh, &o, io, "tail") else {
        return 1;
    };
    let start = match o.bytes {
        Some(b) => data.len().saturating_sub(b),
        None => {
            let body = data.strip_suffix(b"\n").unwrap_or(&data);
            body.iter()
                .enumerate()
                .rev()
                .filter(|(_, c)| **c == b'\n')
                .nth(o.lines.saturating_sub(1))
                .map(|(i, _)| i + 1)
                .unwrap_or(0)
        }
    };
    sh.out(io, &data[start..]);
    0
}
