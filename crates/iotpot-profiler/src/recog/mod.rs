//! Rapid7 Recog fingerprint databases, loaded as they are.
//!
//! A database is one XML file: the field it applies to (`matches`, or the
//! file's base name), its `protocol`, its `preference`, and fingerprints in
//! order, each a regex with `flags`, params (`pos` 0: a fixed value that may
//! interpolate others, `{hw.product}`; `pos` N: capture group N) and
//! examples (plain or base64, with the params they must yield). Matching is
//! Recog's: the first fingerprint of the file that matches wins.
//!
//! Every pattern is compiled by the `regex` crate (linear time, no
//! backtracking), and each file's patterns also as one lazy DFA
//! ([`first`]), so a banner is run through a whole file at once; the
//! fingerprint that matched is then run alone for its groups, if it reads
//! any. Fields are
//! capped at [`MAX_FIELD`] bytes before matching.
//!
//! A pattern with a `.` is compiled twice: as it is for ASCII banners, and
//! with a `.` that takes a whole UTF-8 character for the others (as Ruby
//! does); on ASCII the two agree, and the first is 2-3 times as fast.

mod first;
mod load;
pub mod selftest;

use first::FirstOf;
pub use load::{parse, MAX_FILE};
use regex::bytes::Regex;
use std::path::Path;
use std::sync::OnceLock;

/// The most bytes of one field that are matched.
pub const MAX_FIELD: usize = 8 << 10;

/// The fields the profiler's grabs fill, each with the other names Recog
/// files use for it (a file with no `matches` attribute is named after
/// itself: `telnet_banners.xml` applies to `telnet_banners`).
pub const FIELDS: &[(&str, &[&str])] = &[
    ("telnet.banner", &["telnet_banners"]),
    ("ftp.banner", &["ftp_banners"]),
    ("ssh.banner", &["ssh_banners"]),
    ("http_header.server", &["http_servers"]),
    ("http_header.wwwauth", &["http_wwwauth"]),
    ("http_header.cookie", &["http_cookies"]),
    ("http_header.x_powered_by", &["x_powered_by"]),
    ("html_title", &["html_titles"]),
    ("favicon.md5", &["favicons"]),
    ("favicon.mmh3", &[]),
    ("x509.subject", &["x509_subjects"]),
    ("x509.issuer", &["x509_issuers"]),
    ("rtsp_header.server", &["rtsp_servers"]),
];

/// One fingerprint database (one file).
#[derive(Debug)]
pub struct Database {
    /// The file's base name.
    pub file: String,
    /// The field it applies to.
    pub matches: String,
    pub protocol: Option<String>,
    pub database_type: Option<String>,
    pub preference: f32,
    pub fingerprints: Vec<Fingerprint>,
    /// Fingerprints left out, and why (a pattern this engine cannot run).
    pub skipped: Vec<String>,
    /// The file's patterns as one search for the first that matches: for
    /// ASCII, and for other banners.
    first: Option<FirstOf>,
    first_utf8: Option<FirstOf>,
}

#[derive(Debug)]
pub struct Fingerprint {
    /// Its place in the file (0 for the first).
    pub index: usize,
    pub description: String,
    pub pattern: String,
    pub flags: String,
    pub certainty: Option<String>,
    pub params: Vec<Param>,
    pub examples: Vec<Example>,
    /// The pattern as compiled for ASCII banners and, when it has a `.`,
    /// with UTF-8 dots: checked at load, then compiled again on first use
    /// (most fingerprints of a file never match a given deployment's
    /// banners, and a compiled regex is ~35 KiB: all of them at once were
    /// 48 MiB more RSS).
    source: String,
    source_utf8: Option<String>,
    regex: OnceLock<Option<Regex>>,
    regex_utf8: OnceLock<Option<Regex>>,
    /// Whether a param reads a group (else a match of the set is enough).
    groups: bool,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub pos: usize,
    pub value: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Example {
    pub text: Vec<u8>,
    /// The params it must yield.
    pub expect: Vec<(String, String)>,
    /// `_filename`: the example's text is in a file beside the database.
    pub external: Option<String>,
}

/// What a fingerprint said about a field's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The database's `matches` and file name.
    pub database: String,
    pub file: String,
    pub fingerprint: usize,
    pub description: String,
    pub certainty: Option<String>,
    /// Recog's result: `hw.device`, `os.vendor`, `service.product`...
    pub params: Vec<(String, String)>,
}

impl Match {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Database {
    /// Recog's match: the first fingerprint (in file order) that matches.
    pub fn find(&self, data: &[u8]) -> Option<Match> {
        let data = &data[..data.len().min(MAX_FIELD)];
        let search = if data.is_ascii() {
            &self.first
        } else {
            &self.first_utf8
        };
        let first = search.as_ref()?.find(data)?;
        self.fingerprints[first].yields(self, data)
    }
}

impl Fingerprint {
    /// Whether this fingerprint alone matches, and what it yields.
    pub fn apply(&self, db: &Database, data: &[u8]) -> Option<Match> {
        if !self.groups && !self.regex_for(data)?.is_match(data) {
            return None;
        }
        self.yields(db, data)
    }

    /// The compiled pattern for this banner (see `source`).
    fn regex_for(&self, data: &[u8]) -> Option<&Regex> {
        let (cell, source) = match &self.source_utf8 {
            Some(s) if !data.is_ascii() => (&self.regex_utf8, s),
            _ => (&self.regex, &self.source),
        };
        cell.get_or_init(|| load::build(source).ok()).as_ref()
    }

    /// What this fingerprint yields on `data`, which it matches (known from
    /// the set, or checked by `apply`).
    fn yields(&self, db: &Database, data: &[u8]) -> Option<Match> {
        let caps = if self.groups {
            Some(self.regex_for(data)?.captures(data)?)
        } else {
            None
        };
        let mut params: Vec<(String, String)> = Vec::with_capacity(self.params.len() + 1);
        let mut templated = Vec::new();
        for p in &self.params {
            let value = if p.pos == 0 {
                match &p.value {
                    Some(v) => {
                        if v.contains('{') {
                            templated.push(p.name.as_str());
                        }
                        v.clone()
                    }
                    None => continue,
                }
            } else {
                match caps.as_ref().and_then(|c| c.get(p.pos)) {
                    Some(m) => String::from_utf8_lossy(m.as_bytes()).into_owned(),
                    None => continue,
                }
            };
            set(&mut params, &p.name, value);
        }
        if let Some(proto) = &db.protocol {
            if !params.iter().any(|(k, _)| k == "service.protocol") {
                params.push(("service.protocol".into(), proto.clone()));
            }
        }
        for name in templated {
            interpolate(&mut params, name);
        }
        Some(Match {
            database: db.matches.clone(),
            file: db.file.clone(),
            fingerprint: self.index,
            description: self.description.clone(),
            certainty: self.certainty.clone(),
            params,
        })
    }
}

fn set(params: &mut Vec<(String, String)>, name: &str, value: String) {
    match params.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value,
        None => params.push((name.to_string(), value)),
    }
}

/// `{other.param}` in a fixed value becomes that param's value; a value
/// naming a param the match did not yield is dropped (as Recog does).
fn interpolate(params: &mut Vec<(String, String)>, name: &str) {
    let Some(i) = params.iter().position(|(k, _)| k == name) else {
        return;
    };
    let template = params[i].1.clone();
    let mut out = String::with_capacity(template.len());
    let mut rest = template.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && !after[..close].contains(|c: char| c.is_whitespace() || c == '{') =>
            {
                let key = &after[..close];
                match params.iter().find(|(k, _)| k == key) {
                    Some((_, v)) if key != name => out.push_str(v),
                    _ => {
                        params.remove(i);
                        return;
                    }
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    params[i].1 = out;
}

/// Every database the profiler uses, in Recog's order (higher preference
/// first; files of equal preference in the order they were added).
#[derive(Debug, Default)]
pub struct Library {
    dbs: Vec<Database>,
}

/// The Recog files shipped with iotpot, and iotpot's own (worm marks).
const BUILTIN: &[(&str, &str)] = &[
    (
        "telnet_banners",
        include_str!("../../fingerprints/recog/telnet_banners.xml"),
    ),
    (
        "ftp_banners",
        include_str!("../../fingerprints/recog/ftp_banners.xml"),
    ),
    (
        "http_servers",
        include_str!("../../fingerprints/recog/http_servers.xml"),
    ),
    (
        "http_wwwauth",
        include_str!("../../fingerprints/recog/http_wwwauth.xml"),
    ),
    (
        "html_title",
        include_str!("../../fingerprints/recog/html_title.xml"),
    ),
    (
        "worm_marks",
        include_str!("../../fingerprints/iotpot/worm_marks.xml"),
    ),
];

impl Library {
    /// The built-in databases.
    pub fn builtin() -> anyhow::Result<Library> {
        let mut lib = Library::default();
        for (name, xml) in BUILTIN {
            lib.add(parse(name, xml)?);
        }
        Ok(lib)
    }

    /// The built-in databases and every `*.xml` in `dir` (an operator's).
    pub fn with_dir(dir: Option<&Path>) -> anyhow::Result<Library> {
        let mut lib = Library::builtin()?;
        if let Some(dir) = dir {
            for db in load_dir(dir)? {
                lib.add(db);
            }
        }
        Ok(lib)
    }

    pub fn add(&mut self, db: Database) {
        for s in &db.skipped {
            tracing::warn!(file = %db.file, "recog fingerprint not used: {s}");
        }
        let at = self
            .dbs
            .iter()
            .position(|d| d.preference < db.preference)
            .unwrap_or(self.dbs.len());
        self.dbs.insert(at, db);
    }

    pub fn databases(&self) -> &[Database] {
        &self.dbs
    }

    pub fn into_databases(self) -> Vec<Database> {
        self.dbs
    }

    /// The databases that apply to `field` (a name in [`FIELDS`], or any
    /// other `matches` an operator's file names).
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Database> + 'a {
        let aliases: &[&str] = FIELDS
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, a)| *a)
            .unwrap_or(&[]);
        self.dbs
            .iter()
            .filter(move |d| d.matches == field || aliases.contains(&d.matches.as_str()))
    }

    /// Every match for one field's value: one per database that applies, in
    /// preference order.
    pub fn matches(&self, field: &str, data: &[u8]) -> Vec<Match> {
        self.for_field(field).filter_map(|d| d.find(data)).collect()
    }

    /// Whether some database applies to `field`.
    pub fn knows(&self, field: &str) -> bool {
        self.for_field(field).next().is_some()
    }
}

/// Every `*.xml` file of a directory, in name order.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<Database>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let size = std::fs::metadata(&p)?.len();
        if size > MAX_FILE as u64 {
            anyhow::bail!("{}: larger than {} MiB", p.display(), MAX_FILE >> 20);
        }
        let xml =
            std::fs::read_to_string(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(parse(&name, &xml)?);
    }
    Ok(out)
}
