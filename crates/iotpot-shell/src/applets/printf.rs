//! `printf FORMAT [ARG...]`: `%s %b %c %d %i %u %x %X %o %%`, widths, and
//! escapes in the format (`\xHH`, `\NNN`). The format is reused while
//! arguments remain, as POSIX says.

use super::echo::unescape;
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let Some(fmt) = argv.get(1) else {
        sh.usage(io, "printf");
        return 1;
    };
    let mut fmt_bytes = Vec::new();
    unescape(fmt, &mut fmt_bytes, false);
    let args = &argv[2..];
    let mut next = 0;
    let mut out = Vec::new();
    loop {
        let consumed_before = next;
        format_once(&fmt_bytes, args, &mut next, &mut out);
        if next >= args.len() || next == consumed_before {
            break;
        }
        if out.len() > 1 << 20 {
            break;
        }
    }
    sh.out(io, &out);
    0
}

fn format_once(fmt: &[u8], args: &[Vec<u8>], next: &mut usize, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            out.push(fmt[i]);
            i += 1;
            continue;
        }
        i += 1;
        let spec_start = i;
        while i < fmt.len() && b"-+ #0123456789.".contains(&fmt[i]) {
            i += 1;
        }
        let spec = String::from_utf8_lossy(&fmt[spec_start..i]).into_owned();
        let Some(&conv) = fmt.get(i) else {
            out.push(b'%');
            break;
        };
        i += 1;
        if conv == b'%' {
            out.push(b'%');
            continue;
        }
        let arg = args.get(*next).cloned().unwrap_or_default();
        *next += 1;
        let left = spec.starts_with('-');
        let width: usize = spec
            .trim_start_matches(['-', '+', ' ', '#', '0'])
            .split('.')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0)
            .min(4096);
        let zero = spec.starts_with('0');
        let body: Vec<u8> = match conv {
            b's' => arg,
            b'b' => {
                let mut v = Vec::new();
                unescape(&arg, &mut v, true);
                v
            }
            b'c' => arg.first().map(|c| vec![*c]).unwrap_or_default(),
            b'd' | b'i' | b'u' | b'x' | b'X' | b'o' => {
                let n = parse_int(&arg);
                match conv {
                    b'x' => format!("{:x}", n),
                    b'X' => format!("{:X}", n),
                    b'o' => format!("{:o}", n),
                    _ => n.to_string(),
                }
                .into_bytes()
            }
            other => {
                out.push(b'%');
                out.extend_from_slice(spec.as_bytes());
                out.push(other);
                continue;
            }
        };
        let pad = width.saturating_sub(body.len());
        if left {
            out.extend_from_slice(&body);
            out.extend(std::iter::repeat_n(b' ', pad));
        } else {
            out.extend(std::iter::repeat_n(if zero { b'0' } else { b' ' }, pad));
            out.extend_from_slice(&body);
        }
    }
}

fn parse_int(a: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(a);
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).unwrap_or(0);
    }
    if let Some(c) = s.strip_prefix('\'') {
        return c.chars().next().map(|c| c as i64).unwrap_or(0);
    }
    s.parse().unwrap_or(0)
}
