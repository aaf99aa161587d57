//! `echo [-neE] ARG...`: the heart of the echo dropper. `-e` escapes are
//! decoded byte-exact (`\xHH`, `\0NNN`, `\NNN`, `\n`, `\c`...).

use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut newline = true;
    let mut escapes = false;
    let mut i = 1;
    while let Some(a) = argv.get(i) {
        if a.len() < 2 || a[0] != b'-' || !a[1..].iter().all(|c| b"neE".contains(c)) {
            break;
        }
        for &c in &a[1..] {
            match c {
                b'n' => newline = false,
                b'e' => escapes = true,
                _ => escapes = false,
            }
        }
        i += 1;
    }
    let mut out = Vec::new();
    for (n, a) in argv[i..].iter().enumerate() {
        if n > 0 {
            out.push(b' ');
        }
        if escapes {
            if unescape(a, &mut out, true) {
                sh.out(io, &out);
                return 0;
            }
        } else {
            out.extend_from_slice(a);
        }
    }
    if newline {
        out.push(b'\n');
    }
    sh.out(io, &out);
    0
}

/// Decode backslash escapes into `out`. Returns true at `\c` (stop output).
/// `echo_octal`: echo's `\0NNN` form; printf uses `\NNN`.
pub(crate) fn unescape(s: &[u8], out: &mut Vec<u8>, echo_octal: bool) -> bool {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' || i + 1 >= s.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = s[i + 1];
        i += 2;
        match e {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'e' | b'E' => out.push(0x1b),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'c' => return true,
            b'x' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < s.len() && s[i].is_ascii_hexdigit() {
                    v = v * 16 + (s[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                if n == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    out.push(v as u8);
                }
            }
            b'0'..=b'7' => {
                // echo: \0NNN (the 0 is a prefix); printf: \NNN.
                let mut v = 0u32;
                let mut n = 0;
                let max = if echo_octal && e == b'0' { 3 } else { 2 };
                if !(echo_octal && e == b'0') {
                    v = (e - b'0') as u32;
                }
                while n < max && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    v = v * 8 + (s[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                if echo_octal && e != b'0' {
                    // echo -e only knows \0NNN; \1 is literal.
                    out.push(b'\\');
                    out.push(e);
                    i -= n;
                } else {
                    out.push(v as u8);
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    false
}
