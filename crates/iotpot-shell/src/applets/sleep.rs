//! `sleep N` and `usleep N`: nothing waits (a line runs at once); the time
//! asked for is added up for callers that answer timing checkers
//! ([`crate::Outcome::slept_ms`]).

use super::lossy;
use crate::exec::Io;
use crate::Shell;

/// `sleep SECONDS...`: BusyBox adds its operands; a fraction or a suffix
/// (`s`, `m`, `h`, `d`) is read as the newer BusyBox reads it.
pub(crate) fn sleep(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    if argv.len() < 2 {
        return sh.usage(io, "sleep");
    }
    let mut total = 0u64;
    for a in &argv[1..] {
        match seconds_ms(&lossy(a)) {
            Some(ms) => total = total.saturating_add(ms),
            None => {
                let msg = format!("sleep: invalid number '{}'\n", lossy(a));
                sh.err(io, msg.as_bytes());
                return 1;
            }
        }
    }
    sh.run.slept_ms = sh.run.slept_ms.saturating_add(total);
    0
}

/// `usleep MICROSECONDS`.
pub(crate) fn usleep(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let Some(a) = argv.get(1) else {
        return sh.usage(io, "usleep");
    };
    match lossy(a).parse::<u64>() {
        Ok(us) => {
            sh.run.slept_ms = sh.run.slept_ms.saturating_add(us / 1000);
            0
        }
        Err(_) => {
            let msg = format!("usleep: invalid number '{}'\n", lossy(a));
            sh.err(io, msg.as_bytes());
            1
        }
    }
}

/// `5`, `0.5`, `2m` in milliseconds.
fn seconds_ms(s: &str) -> Option<u64> {
    let (num, unit) = match s.char_indices().last()? {
        (i, 's') => (&s[..i], 1),
        (i, 'm') => (&s[..i], 60),
        (i, 'h') => (&s[..i], 3600),
        (i, 'd') => (&s[..i], 86400),
        _ => (s, 1),
    };
    let v: f64 = num
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
    if !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    Some((v * unit as f64 * 1000.0).min(u64::MAX as f64) as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::seconds_ms("5"), Some(5000));
        assert_eq!(super::seconds_ms("0.5"), Some(500));
        assert_eq!(super::seconds_ms("2m"), Some(120_000));
        assert_eq!(super::seconds_ms("-1"), None);
        assert_eq!(super::seconds_ms("inf"), None);
        assert_eq!(super::seconds_ms("x"), None);
    }
}
