//! `read [-r] VAR...` (ash builtin): `while read i; do echo $i; done < .s`.

use super::lossy;
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let raw = argv.iter().any(|a| a.as_slice() == b"-r");
    let names: Vec<String> = argv[1..]
        .iter()
        .filter(|a| !a.starts_with(b"-"))
        .map(|a| lossy(a).into_owned())
        .collect();
    let Some(mut line) = io.stdin.read_line() else {
        return 1;
    };
    if !raw {
        // Backslash escapes the next character.
        let mut v = Vec::with_capacity(line.len());
        let mut it = line.iter().copied();
        while let Some(c) = it.next() {
            if c == b'\\' {
                if let Some(n) = it.next() {
                    v.push(n);
                }
            } else {
                v.push(c);
            }
        }
        line = v;
    }
    let names = if names.is_empty() {
        vec!["REPLY".to_string()]
    } else {
        names
    };
    let is_ifs = |c: &u8| *c == b' ' || *c == b'\t';
    let mut rest: &[u8] = &line;
    for (i, name) in names.iter().enumerate() {
        while rest.first().is_some_and(is_ifs) {
            rest = &rest[1..];
        }
        let value = if i + 1 == names.len() {
            let mut v = rest;
            while v.last().is_some_and(is_ifs) {
                v = &v[..v.len() - 1];
            }
            v.to_vec()
        } else {
            let end = rest.iter().position(is_ifs).unwrap_or(rest.len());
            let v = rest[..end].to_vec();
            rest = &rest[end..];
            v
        };
        sh.set_var(name, value);
    }
    0
}
