//! `dd if= of= bs= count= skip=`: Mirai variants read the ELF header with
//! `dd bs=52 count=1 if=.s`.

use super::lossy;
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut input = None;
    let mut output = None;
    let mut bs: usize = 512;
    let mut count: Option<usize> = None;
    let mut skip = 0usize;
    for a in &argv[1..] {
        let a = lossy(a);
        let Some((k, v)) = a.split_once('=') else {
            let msg = format!("dd: invalid argument '{a}'\n");
            sh.err(io, msg.as_bytes());
            return 1;
        };
        match k {
            "if" => input = Some(v.to_string()),
            "of" => output = Some(v.to_string()),
            "bs" | "ibs" | "obs" => bs = parse_size(v).unwrap_or(512).clamp(1, 1 << 20),
            "count" => count = parse_size(v),
            "skip" => skip = parse_size(v).unwrap_or(0),
            _ => {}
        }
    }
    let data: Vec<u8> = match &input {
        Some(p) => {
            let path = sh.abs(p.as_bytes());
            match sh.vfs.read(&path) {
                Ok(d) => d.to_vec(),
                Err(e) => {
                    let msg = format!("dd: can't open '{p}': {}\n", e.text());
                    sh.err(io, msg.as_bytes());
                    return 1;
                }
            }
        }
        None => io.stdin.take_all().to_vec(),
    };
    let start = skip.saturating_mul(bs).min(data.len());
    let avail = &data[start..];
    let len = match count {
        Some(c) => avail.len().min(c.saturating_mul(bs)),
        None => avail.len(),
    };
    let chunk = &avail[..len];
    let (full, part) = (len / bs, usize::from(len % bs != 0));
    match &output {
        Some(p) if p != "/dev/null" => {
            let path = sh.abs(p.as_bytes());
            match sh.vfs.write(&path, chunk, false, sh.now()) {
                Ok(real) => sh.mark_dirty(real),
                Err(e) => {
                    let msg = format!("dd: can't open '{p}': {}\n", e.text());
                    sh.err(io, msg.as_bytes());
                    return 1;
                }
            }
        }
        Some(_) => {}
        None => sh.out(io, chunk),
    }
    let secs = 0.000_05 + len as f64 / 80e6;
    let msg = format!(
        "{full}+{part} records in\n{full}+{part} records out\n{len} bytes ({}) copied, {secs:.6} seconds, {}/s\n",
        human(len as f64),
        human(len as f64 / secs)
    );
    sh.err(io, msg.as_bytes());
    0
}

fn parse_size(v: &str) -> Option<usize> {
    let (num, mult) = match v.as_bytes().last()? {
        b'k' | b'K' => (&v[..v.len() - 1], 1024),
        b'M' => (&v[..v.len() - 1], 1 << 20),
        b'b' => (&v[..v.len() - 1], 512),
        _ => (v, 1),
    };
    num.parse::<usize>().ok().map(|n| n.saturating_mul(mult))
}

/// BusyBox's `52B`, `1.2KB`, `3.4MB`.
fn human(v: f64) -> String {
    if v < 1024.0 {
        format!("{}B", v as u64)
    } else if v < 1024.0 * 1024.0 {
        format!("{:.1}KB", v / 1024.0)
    } else {
        format!("{:.1}MB", v / 1048576.0)
    }
}
