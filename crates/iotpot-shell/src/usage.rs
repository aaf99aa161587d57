//! What a device's BusyBox says of itself: the version line and the usage
//! texts, in the format of that BusyBox generation, so that every answer
//! names the persona's own BusyBox (`[system] busybox` of the profile) and
//! none contradicts the banner. A v1.01 router and a v1.22 camera print
//! their usage differently:
//!
//! | BusyBox | first line | usage body |
//! |---|---|---|
//! | up to 1.15 | `BusyBox v1.13.2 (date) multi-call binary` | old wording, an `Options:` heading |
//! | 1.16 to 1.19 | `... multi-call binary.` (a period) | new wording, an `Options:` heading |
//! | 1.20 and later | `... multi-call binary.` | new wording, no heading |
//!
//! (From the outputs of real devices of each generation; the texts are those
//! of a build with verbose usage, as most firmware has.)

use crate::system::System;

/// A BusyBox version, from the persona's banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32);

impl Version {
    /// From "BusyBox v1.19.4 (2013-02-17 20:12:47 CET)"; an unreadable
    /// banner counts as a recent BusyBox.
    pub fn of_banner(banner: &str) -> Version {
        let v = banner
            .split_whitespace()
            .find_map(|w| w.strip_prefix('v'))
            .unwrap_or("");
        let mut nums = v
            .split(|c: char| !c.is_ascii_digit())
            .map(|n| n.parse::<u32>().ok());
        match (nums.next().flatten(), nums.next().flatten()) {
            (Some(major), Some(minor)) => Version(major, minor),
            _ => Version(1, 20),
        }
    }

    /// "multi-call binary." carries a period from 1.16.
    fn period(self) -> bool {
        self >= Version(1, 16)
    }
}

/// The first line a usage text (and `busybox` itself) prints:
/// `BusyBox v1.13.2 (2010-03-09 12:55:33 CET) multi-call binary`.
pub fn first_line(sys: &System) -> String {
    version_line(&sys.persona.profile.system.busybox)
}

/// [`first_line`] of the BusyBox whose banner is `banner`.
pub fn version_line(banner: &str) -> String {
    let dot = if Version::of_banner(banner).period() {
        "."
    } else {
        ""
    };
    format!("{banner} multi-call binary{dot}")
}

/// `(applet, old text, new text)`: the synopsis and help after
/// `Usage: APPLET `. Old texts are those of BusyBox up to 1.15; new ones
/// are written without the `Options:` heading that 1.16 to 1.19 print.
const USAGES: &[(&str, &str, &str)] = &[
    (
        "rm",
        "[OPTION]... FILE...\n\nRemove (unlink) the FILE(s). Use '--' to\nindicate that all following arguments are non-options.\n\nOptions:\n\t-i\tAlways prompt before removing\n\t-f\tNever prompt\n\t-r,-R\tRemove directories recursively",
        "[-irf] FILE...\n\nRemove (unlink) FILEs\n\n\t-i\tAlways prompt before removing\n\t-f\tNever prompt\n\t-R,-r\tRecurse",
    ),
    (
        "cp",
        "[OPTION]... SOURCE DEST\n\nCopy SOURCE to DEST, or multiple SOURCE(s) to DIRECTORY\n\nOptions:\n\t-a\tSame as -dpR\n\t-d,-P\tPreserve links\n\t-H,-L\tDereference all symlinks (default)\n\t-p\tPreserve file attributes if possible\n\t-f\tForce overwrite\n\t-i\tPrompt before overwrite\n\t-R,-r\tRecurse directories\n\t-l,-s\tCreate (sym)links",
        "[OPTIONS] SOURCE... DEST\n\nCopy SOURCE(s) to DEST\n\n\t-a\tSame as -dpR\n\t-R,-r\tRecurse\n\t-d,-P\tPreserve symlinks (default if -R)\n\t-L\tFollow all symlinks\n\t-H\tFollow symlinks on command line\n\t-p\tPreserve file attributes if possible\n\t-f\tOverwrite\n\t-i\tPrompt before overwrite\n\t-l,-s\tCreate (sym)links",
    ),
    (
        "mv",
        "[OPTION]... SOURCE DEST\nor: mv [OPTION]... SOURCE... DIRECTORY\n\nRename SOURCE to DEST, or move SOURCE(s) to DIRECTORY\n\nOptions:\n\t-f\tDon't prompt before overwriting\n\t-i\tInteractive, prompt before overwrite",
        "[-fin] SOURCE DEST\nor: mv [-fin] SOURCE... DIRECTORY\n\nRename SOURCE to DEST, or move SOURCE(s) to DIRECTORY\n\n\t-f\tDon't prompt before overwriting\n\t-i\tInteractive, prompt before overwrite\n\t-n\tDon't overwrite an existing file",
    ),
    (
        "chmod",
        "[-R] MODE[,MODE]... FILE...\n\nEach MODE is one or more of the letters ugoa, one of the\nsymbols +-= and one or more of the letters rwxst\n\nOptions:\n\t-R\tChange files and directories recursively",
        "[-Rcvf] MODE[,MODE]... FILE...\n\nEach MODE is one or more of the letters ugoa, one of the\nsymbols +-= and one or more of the letters rwxst\n\n\t-R\tRecurse\n\t-c\tList changed files\n\t-v\tList all files\n\t-f\tHide errors",
    ),
    (
        "ln",
        "[OPTION] TARGET... LINK_NAME|DIRECTORY\n\nCreate a link named LINK_NAME or DIRECTORY to the specified TARGET.\nUse '--' to indicate that all following arguments are non-options.\n\nOptions:\n\t-s\tMake symlinks instead of hardlinks\n\t-f\tRemove existing destination files\n\t-n\tNo dereferencing symlinks - treat like normal file\n\t-b\tMake a backup of the target (if exists) before link operation\n\t-S suf\tUse suffix instead of ~ when making backup files",
        "[OPTIONS] TARGET... LINK|DIR\n\nCreate a link LINK or DIR/TARGET to the specified TARGET(s)\n\n\t-s\tMake symlinks instead of hardlinks\n\t-f\tRemove existing destinations\n\t-n\tDon't dereference symlinks - treat like normal file\n\t-b\tMake a backup of the target (if exists) before link operation\n\t-S suf\tUse suffix instead of ~ when making backup files\n\t-T\t2nd arg must be a DIR\n\t-v\tVerbose",
    ),
    (
        "mkdir",
        "[OPTION] DIRECTORY...\n\nCreate the DIRECTORY(ies) if they do not already exist\n\nOptions:\n\t-m\tSet permission mode (as in chmod), not rwxrwxrwx - umask\n\t-p\tNo error if existing, make parent directories as needed",
        "[OPTIONS] DIRECTORY...\n\nCreate DIRECTORY\n\n\t-m MODE\tMode\n\t-p\tNo error if exists; make parent directories as needed",
    ),
    (
        "grep",
        "[-ihHnqvs] PATTERN [FILEs...]\n\nSearch for PATTERN in each FILE or standard input\n\nOptions:\n\t-H\tPrefix output lines with filename where match was found\n\t-h\tSuppress the prefixing filename on output\n\t-i\tIgnore case distinctions\n\t-l\tList names of files that match\n\t-n\tPrint line number with output lines\n\t-q\tBe quiet\n\t-s\tSuppress file open/read error messages\n\t-v\tSelect non-matching lines",
        "[-HhnlLoqvsriwFE] [-m N] [-A/B/C N] PATTERN/-e PATTERN.../-f FILE [FILE]...\n\nSearch for PATTERN in FILEs (or stdin)\n\n\t-H\tAdd 'filename:' prefix\n\t-h\tDo not add 'filename:' prefix\n\t-n\tAdd 'line_no:' prefix\n\t-l\tShow only names of files that match\n\t-L\tShow only names of files that don't match\n\t-c\tShow only count of matching lines\n\t-o\tShow only the matching part of line\n\t-q\tQuiet. Return 0 if PATTERN is found, 1 otherwise\n\t-v\tSelect non-matching lines\n\t-s\tSuppress open and read errors\n\t-r\tRecurse\n\t-i\tIgnore case\n\t-w\tMatch whole words only\n\t-F\tPATTERN is a literal (not regexp)\n\t-E\tPATTERN is an extended regexp\n\t-m N\tMatch up to N times per file\n\t-A N\tPrint N lines of trailing context\n\t-B N\tPrint N lines of leading context\n\t-C N\tSame as '-A N -B N'\n\t-e PTRN\tPattern to match\n\t-f FILE\tRead pattern from file",
    ),
    (
        "wget",
        "[-c|--continue] [-s|--spider] [-q|--quiet] [-O|--output-document file]\n\t\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n\t\t[-U|--user-agent agent] url\n\nRetrieve files via HTTP or FTP\n\nOptions:\n\t-s\tSpider mode - only check file existence\n\t-c\tContinue retrieval of aborted transfer\n\t-q\tQuiet\n\t-P\tSet directory prefix to DIR\n\t-O\tSave to filename ('-' for stdout)\n\t-U\tAdjust 'User-Agent' field\n\t-Y\tUse proxy ('on' or 'off')",
        "[-c|--continue] [-s|--spider] [-q|--quiet] [-O|--output-document FILE]\n\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n\t[--no-check-certificate] [-U|--user-agent AGENT] [-T SEC] URL...\n\nRetrieve files via HTTP or FTP\n\n\t-s\tSpider mode - only check file existence\n\t-c\tContinue retrieval of aborted transfer\n\t-q\tQuiet\n\t-P DIR\tSave to DIR (default .)\n\t-T SEC\tNetwork read timeout is SEC seconds\n\t-O FILE\tSave to FILE ('-' for stdout)\n\t-U STR\tUse STR for User-Agent header\n\t-Y\tUse proxy ('on' or 'off')",
    ),
    (
        "tftp",
        "[OPTION]... HOST [PORT]\n\nTransfer a file from/to tftp server\n\nOptions:\n\t-l FILE\tLocal FILE\n\t-r FILE\tRemote FILE\n\t-g\tGet file\n\t-p\tPut file\n\t-b SIZE\tTransfer blocks of SIZE octets",
        "[OPTIONS] HOST [PORT]\n\nTransfer a file from/to tftp server\n\n\t-l FILE\tLocal FILE\n\t-r FILE\tRemote FILE\n\t-g\tGet file\n\t-p\tPut file\n\t-b SIZE\tTransfer blocks of SIZE octets",
    ),
    (
        "ftpget",
        "[options] remote-host local-file remote-file\n\nRetrieve a remote file via FTP\n\nOptions:\n\t-c, --continue\tContinue a previous transfer\n\t-v, --verbose\tVerbose\n\t-u, --username\tUsername to be used\n\t-p, --password\tPassword to be used\n\t-P, --port\tPort number to be used",
        "[OPTIONS] HOST [LOCAL_FILE] REMOTE_FILE\n\nDownload a file via FTP\n\n\t-c\tContinue previous transfer\n\t-v\tVerbose\n\t-u USER\tUsername\n\t-p PASS\tPassword\n\t-P NUM\tPort",
    ),
    (
        "nc",
        "[OPTIONS] [IP] [port]\n\nNetcat opens a pipe to IP:port\n\nOptions:\n\t-l\tListen mode, for inbound connects\n\t-p PORT\tLocal port number\n\t-i SECS\tDelay interval for lines sent\n\t-w SECS\tTimeout for connects and final net reads\n\t-e PROG\tRun PROG after connect",
        "[-iN] [-wN] [-l] [-p PORT] [-f FILE|IPADDR PORT] [-e PROG]\n\nOpen a pipe to IP:PORT or FILE\n\n\t-l\tListen mode, for inbound connects\n\t\t(use -ll with -e for persistent server)\n\t-p PORT\tLocal port\n\t-w SEC\tConnect timeout\n\t-i SEC\tDelay interval for lines sent\n\t-f FILE\tUse file (ala /dev/ttyS0) instead of network\n\t-e PROG\tRun PROG after connect",
    ),
    (
        "kill",
        "[-l] [-signal] process-id [process-id ...]\n\nSend a signal (default is TERM) to the specified process(es)\n\nOptions:\n\t-l\tList all signal names and numbers",
        "[-l] [-SIG] PID...\n\nSend a signal (default: TERM) to given PIDs\n\n\t-l\tList all signal names and numbers",
    ),
    (
        "printf",
        "FORMAT [ARGUMENT]...\n\nFormat and print ARGUMENT(s) according to FORMAT,\nwhere FORMAT controls the output exactly as in C printf",
        "FORMAT [ARG]...\n\nFormat and print ARG(s) according to FORMAT (a-la C printf)",
    ),
];

/// The applets [`usage`] knows.
pub fn applets() -> impl Iterator<Item = &'static str> {
    USAGES.iter().map(|(name, _, _)| *name)
}

/// What `applet` prints (on stderr) when called wrongly, as this device's
/// BusyBox prints it; `None` for an applet without a text here.
pub fn usage(sys: &System, applet: &str) -> Option<Vec<u8>> {
    let (_, old, new) = USAGES.iter().find(|(name, _, _)| *name == applet)?;
    let version = Version::of_banner(&sys.persona.profile.system.busybox);
    let body = if version < Version(1, 16) {
        old.to_string()
    } else if version < Version(1, 20) {
        with_options_heading(new)
    } else {
        new.to_string()
    };
    Some(format!("{}\n\nUsage: {applet} {body}\n\n", first_line(sys)).into_bytes())
}

/// BusyBox 1.16 to 1.19 head the option list with `Options:`.
fn with_options_heading(text: &str) -> String {
    match text.find("\n\n\t-") {
        Some(i) => format!("{}\n\nOptions:\n{}", &text[..i], &text[i + 2..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_banners() {
        assert_eq!(
            Version::of_banner("BusyBox v1.19.4 (2013-02-17 20:12:47 CET)"),
            Version(1, 19)
        );
        assert_eq!(
            Version::of_banner("BusyBox v1.15.0.svn (2009-07-25 18:23:53 GMT-8)"),
            Version(1, 15)
        );
        assert_eq!(
            Version::of_banner("BusyBox v0.60.5 (2004.09.27-09:01+0000)"),
            Version(0, 60)
        );
        assert!(Version(1, 2) < Version(1, 16));
        assert_eq!(Version::of_banner("nonsense"), Version(1, 20));
    }

    #[test]
    fn the_options_heading_goes_before_the_first_option() {
        assert_eq!(
            with_options_heading("[-f] FILE\n\nDo it\n\n\t-f\tForce"),
            "[-f] FILE\n\nDo it\n\nOptions:\n\t-f\tForce"
        );
    }
}
