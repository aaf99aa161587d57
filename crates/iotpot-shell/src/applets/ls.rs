//! `ls [-lad1A] [FILE...]`, BusyBox's long format.

use super::{flags, lossy};
use crate::exec::Io;
use crate::vfs::{self, Entry, Node};
use crate::Shell;
use time::OffsetDateTime;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    let (f, ops) = flags(&argv[1..], "lad1AhRFe");
    let long = f.contains('l');
    let all = f.contains('a');
    let almost = f.contains('A');
    let dir_only = f.contains('d');
    let targets: Vec<Vec<u8>> = if ops.is_empty() {
        vec![b".".to_vec()]
    } else {
        ops.iter().map(|o| o.to_vec()).collect()
    };
    let mut status = 0;
    let mut out = String::new();
    let many = targets.len() > 1;
    for (n, t) in targets.iter().enumerate() {
        let path = sh.abs(t);
        let entry = match sh.vfs.lstat(&path).cloned() {
            Some(e) => e,
            None => {
                let msg = format!("ls: {}: No such file or directory\n", lossy(t));
                sh.err(io, msg.as_bytes());
                status = 1;
                continue;
            }
        };
        let resolved_dir = sh.vfs.stat(&path).map(|(_, e)| e.is_dir()).unwrap_or(false);
        if !resolved_dir || dir_only {
            out.push_str(&line(sh, &lossy(t), &entry, long));
            continue;
        }
        if many {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(&format!("{}:\n", lossy(t)));
        }
        let mut names = sh.vfs.list(&path).unwrap_or_default();
        if all {
            names.insert(0, "..".into());
            names.insert(0, ".".into());
        }
        let names: Vec<String> = names
            .into_iter()
            .filter(|n| all || almost || !n.starts_with('.') || n == "." || n == "..")
            .collect();
        if long {
            out.push_str(&format!("total {}\n", names.len() * 4));
        }
        let mut short = Vec::new();
        for name in names {
            let child = if name == "." {
                path.clone()
            } else if name == ".." {
                vfs::parent(&path)
            } else {
                vfs::join(&path, &name)
            };
            let Some(e) = sh.vfs.lstat(&child).cloned() else {
                continue;
            };
            if long || f.contains('1') {
                out.push_str(&line(sh, &name, &e, long));
            } else {
                short.push(name);
            }
        }
        if !short.is_empty() {
            out.push_str(&short.join("  "));
            out.push('\n');
        }
    }
    sh.out(io, out.as_bytes());
    status
}

fn line(sh: &Shell, name: &str, e: &Entry, long: bool) -> String {
    if !long {
        return format!("{name}\n");
    }
    let (kind, size, suffix) = match &e.node {
        Node::Dir => ('d', 0, String::new()),
        Node::File(d) => ('-', d.len(), String::new()),
        Node::Link(t) => ('l', t.len(), format!(" -> {t}")),
        Node::Device => ('c', 0, String::new()),
    };
    let user = if sh.user == "root" { "root" } else { &sh.user };
    format!(
        "{kind}{} {:>4} {:<8} {:<8} {:>9} {} {name}{suffix}\n",
        perms(e.mode),
        if e.is_dir() { 2 } else { 1 },
        user,
        user,
        if matches!(e.node, Node::Device) {
            "1,   3".to_string()
        } else {
            size.to_string()
        },
        ls_date(e.mtime, sh.now())
    )
}

fn perms(mode: u32) -> String {
    let mut s = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let m = (mode >> shift) & 7;
        s.push(if m & 4 != 0 { 'r' } else { '-' });
        s.push(if m & 2 != 0 { 'w' } else { '-' });
        s.push(if m & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// `Mar 12 10:22` within six months, `Mar 12  2014` otherwise.
fn ls_date(t: i64, now: i64) -> String {
    let Ok(d) = OffsetDateTime::from_unix_timestamp(t) else {
        return "Jan  1  1970".into();
    };
    let mon = &[
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][d.month() as usize - 1];
    if (now - t).abs() < 182 * 86_400 {
        format!("{mon} {:>2} {:02}:{:02}", d.day(), d.hour(), d.minute())
    } else {
        format!("{mon} {:>2}  {}", d.day(), d.year())
    }
}
