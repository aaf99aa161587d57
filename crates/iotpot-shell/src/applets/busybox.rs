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

fn usage(sh: &Shell) -> String {
    let mut s = format!(
        "{} multi-call binary.\nCopyright (C) 1998-2011 Erik Andersen, Rob Landley, Denys Vlasenko\nand others. Licensed under GPLv2.\nSee source distribution for full notice.\n\nUsage: busybox [function] [arguments]...\n   or: busybox --list\n   or: function [arguments]...\n\n\tBusyBox is a multi-call binary that combines many common Unix\n\tutilities into a single executable.  Most people will create a\n\tlink to busybox for each function they wish to use and BusyBox\n\twill act like whatever it was invoked as.\n\nCurrently defined functions:\n",
        sh.sys.persona.profile.system.busybox
    );
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
