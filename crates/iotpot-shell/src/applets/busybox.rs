//! `busybox [APPLET [ARGS]]`: Mirai's `/bin/busybox ECCHI` check expects
//! `ECCHI: applet not found`.

use super::lossy;
use crate::exec::Io;
use crate::Shell;

pub(crate) fn run(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    match argv.get(1).map(|a| lossy(a).into_owned()) {
        None => {
            let text = usage(sh);
            sh.out(io, text.as_bytes());
            0
        }
        Some(a) if a == "--help" => {
            let text = usage(sh);
            sh.out(io, text.as_bytes());
            0
        }
        Some(a) if a == "--list" => {
            let list: String = sh.sys.applets.iter().map(|a| format!("{a}\n")).collect();
            sh.out(io, list.as_bytes());
            0
        }
        Some(applet) => {
            let applet = crate::vfs::basename(&applet).to_string();
            sh.run_applet(&applet, &argv[1..], io)
        }
    }
}

/// `busybox` with no arguments: the help of this device's BusyBox
/// generation (see [`crate::usage`]), then its applets.
fn usage(sh: &Shell) -> String {
    use crate::usage::Version;
    let v = Version::of_banner(&sh.sys.persona.profile.system.busybox);
    let first = crate::usage::first_line(&sh.sys);
    let blurb = |end: &str| {
        format!(
            "\tBusyBox is a multi-call binary that combines many common Unix\n\tutilities into a single executable.  Most people will create a\n\tlink to busybox for each function they wish to use and BusyBox\n\twill act like whatever it was invoked as{end}\n\n"
        )
    };
    let mut s = if v < Version(1, 10) {
        format!(
            "{first}\n\nUsage: busybox [function] [arguments]...\n   or: [function] [arguments]...\n\n{}",
            blurb("!")
        )
    } else if v < Version(1, 20) {
        // The copyright runs to the year of that release.
        let year = match v {
            Version(1, 10..=13) => 2008,
            Version(1, 14..=15) => 2009,
            Version(1, 16..=17) => 2010,
            _ => 2011,
        };
        let list = if v >= Version(1, 18) {
            "   or: busybox --list\n"
        } else {
            ""
        };
        format!(
            "{first}\nCopyright (C) 1998-{year} Erik Andersen, Rob Landley, Denys Vlasenko\nand others. Licensed under GPLv2.\nSee source distribution for full notice.\n\nUsage: busybox [function] [arguments]...\n{list}   or: function [arguments]...\n\n{}",
            blurb(".")
        )
    } else {
        let year = match v {
            Version(1, 20) => 2012,
            Version(1, 21) => 2013,
            Version(1, 22) => 2014,
            _ => 2015,
        };
        format!(
            "{first}\nBusyBox is copyrighted by many authors between 1998-{year}.\nLicensed under GPLv2. See source distribution for detailed\ncopyright notices.\n\nUsage: busybox [function [arguments]...]\n   or: busybox --list[-full]\n   or: function [arguments]...\n\n{}",
            blurb(".")
        )
    };
    s.push_str("Currently defined functions:\n");
    let mut line = String::from("\t");
    let n = sh.sys.applets.len();
    for (i, a) in sh.sys.applets.iter().enumerate() {
        let item = if i + 1 < n {
            format!("{a}, ")
        } else {
            a.clone()
        };
        if line.len() + item.len() > 78 {
            s.push_str(line.trim_end());
            s.push('\n');
            line = String::from("\t");
        }
        line.push_str(&item);
    }
    s.push_str(&line);
    s.push_str("\n\n");
    s
}
