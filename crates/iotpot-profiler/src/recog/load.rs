//! Reading a Recog XML fingerprint database, as Recog's own loader does.

use super::first::FirstOf;
use super::{Database, Example, Fingerprint, Param};
use base64::Engine;
use regex::bytes::{Regex, RegexBuilder};
use std::sync::OnceLock;

/// Recog's default preference for a database that names none.
const DEFAULT_PREFERENCE: f32 = 0.10;
/// Compiled-program limits for one fingerprint and for a file's set: Recog
/// patterns are small; these stop a hostile operator file, not a real one.
const REGEX_SIZE: usize = 16 << 20;
const SET_SIZE: usize = 64 << 20;
/// The biggest file read (Recog's largest is under 1 MiB).
pub const MAX_FILE: usize = 16 << 20;

/// Parse one file. `name` (its base file name without `.xml`) is the
/// database's `matches` when the file names none, as in Recog.
///
/// A fingerprint whose pattern this engine cannot compile is left out and
/// reported in [`Database::skipped`]; the rest of the file is used.
pub fn parse(name: &str, xml: &str) -> anyhow::Result<Database> {
    if xml.len() > MAX_FILE {
        anyhow::bail!("{name}: larger than {} MiB", MAX_FILE >> 20);
    }
    let doc = roxmltree::Document::parse_with_options(
        xml,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 1 << 20,
        },
    )
    .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "fingerprints" {
        anyhow::bail!(
            "{name}: the root element is <{}>, not <fingerprints>",
            root.tag_name().name()
        );
    }
    let preference = match root.attribute("preference") {
        Some(p) => p
            .trim()
            .parse::<f32>()
            .map_err(|_| anyhow::anyhow!("{name}: preference {p:?} is not a number"))?,
        None => DEFAULT_PREFERENCE,
    };
    let mut db = Database {
        file: name.to_string(),
        matches: root.attribute("matches").unwrap_or(name).to_string(),
        protocol: root.attribute("protocol").map(str::to_string),
        database_type: root.attribute("database_type").map(str::to_string),
        preference,
        fingerprints: Vec::new(),
        skipped: Vec::new(),
        first: None,
        first_utf8: None,
    };
    let (mut sources, mut sources_utf8) = (Vec::new(), Vec::new());
    for (index, node) in root
        .children()
        .filter(|n| n.has_tag_name("fingerprint"))
        .enumerate()
    {
        let pattern = node
            .attribute("pattern")
            .ok_or_else(|| anyhow::anyhow!("{name}: fingerprint {index} has no pattern"))?;
        let flags = node.attribute("flags").unwrap_or("");
        let (icase, dot_newline) = flags_of(flags);
        let compiled = compile(pattern, icase, dot_newline, false).and_then(|plain| {
            let dots = utf8_dots(pattern, dot_newline);
            let utf8 = if dots == pattern {
                None
            } else {
                Some(compile(&dots, icase, dot_newline, true)?)
            };
            Ok((plain, utf8.map(|(_, s)| s)))
        });
        let ((groups, source), source_utf8) = match compiled {
            Ok(r) => r,
            Err(e) => {
                db.skipped
                    .push(format!("fingerprint {index} {pattern:?}: {e}"));
                continue;
            }
        };
        let description = node
            .children()
            .find(|n| n.has_tag_name("description"))
            .and_then(|n| n.text())
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        let mut params = Vec::new();
        for p in node.children().filter(|n| n.has_tag_name("param")) {
            let pname = p
                .attribute("name")
                .ok_or_else(|| anyhow::anyhow!("{name}: {description:?}: a param has no name"))?;
            let pos = p
                .attribute("pos")
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| {
                    anyhow::anyhow!("{name}: {description:?}: param {pname} has no valid pos")
                })?;
            params.push(Param {
                name: pname.to_string(),
                pos,
                value: p.attribute("value").map(str::to_string),
            });
        }
        // A param that reads a group the pattern lacks: the fingerprint is
        // broken (Recog's verifier says so too), and left out like one that
        // does not compile.
        if let Some(p) = params.iter().find(|p| p.pos > groups) {
            db.skipped.push(format!(
                "fingerprint {index} {description:?}: param {} reads group {}, the pattern has {groups}",
                p.name, p.pos
            ));
            continue;
        }
        let mut examples = Vec::new();
        for e in node.children().filter(|n| n.has_tag_name("example")) {
            examples.push(example(name, &description, e)?);
        }
        sources_utf8.push(source_utf8.as_ref().unwrap_or(&source).clone());
        sources.push(source.clone());
        db.fingerprints.push(Fingerprint {
            index,
            description,
            pattern: pattern.to_string(),
            flags: flags.to_string(),
            certainty: node.attribute("certainty").map(str::to_string),
            groups: params.iter().any(|p| p.pos > 0),
            source,
            source_utf8,
            regex: OnceLock::new(),
            regex_utf8: OnceLock::new(),
            params,
            examples,
        });
    }
    let first = |sources: &[String]| {
        FirstOf::new(sources, SET_SIZE)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{name}: the file's patterns as one search: {e}"))
    };
    db.first = first(&sources)?;
    db.first_utf8 = first(&sources_utf8)?;
    Ok(db)
}

/// Recog's flags: each of `REG_DOT_NEWLINE`, `REG_MULTILINE` and
/// `REG_LINE_ANY_CRLF` is Ruby's `MULTILINE`, where `.` matches a newline.
fn flags_of(flags: &str) -> (bool, bool) {
    let has = |f: &str| flags.split([',', '|', ' ']).any(|x| x.trim() == f);
    let icase = has("REG_ICASE");
    let dot_newline = has("REG_DOT_NEWLINE") || has("REG_MULTILINE") || has("REG_LINE_ANY_CRLF");
    (icase, dot_newline)
}

/// One pattern with Ruby's semantics as inline flags: its number of groups
/// and that source (compiled once to check it, and kept for the file's set
/// and for a later compile): `^` and `$` always match at line ends in Ruby (hence
/// `\A` in Recog's multi-line patterns); bytes with ASCII classes, as
/// Ruby's `\d`, `\w` and `\s` are and as banners are not always UTF-8.
/// A pattern that needs Unicode (`\p{..}`) gets it, except a `utf8` one
/// (its dots are spelled in bytes, which Unicode mode would misread).
fn compile(
    pattern: &str,
    icase: bool,
    dot_newline: bool,
    utf8: bool,
) -> Result<(usize, String), regex::Error> {
    let inline = |unicode: bool| {
        format!(
            "(?m{}{}{})",
            if icase { "i" } else { "" },
            if dot_newline { "s" } else { "" },
            if unicode { "u" } else { "-u" }
        )
    };
    let checked = |source: String| build(&source).map(|r| (r.captures_len() - 1, source));
    let ascii = checked(inline(false) + pattern);
    if utf8 {
        return ascii;
    }
    ascii.or_else(|_| checked(inline(true) + pattern))
}

/// Compile one fingerprint's source (as [`compile`] made it).
pub(super) fn build(source: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(source)
        .size_limit(REGEX_SIZE)
        .dfa_size_limit(REGEX_SIZE)
        .build()
}

/// A `.` outside a class, as Ruby runs it on a UTF-8 banner: one whole
/// character when the bytes are UTF-8, else one byte (the engine works on
/// bytes with ASCII classes, see [`compile`]). Escapes and classes are
/// copied as they are.
fn utf8_dots(pattern: &str, dot_newline: bool) -> String {
    let byte = if dot_newline {
        r"[\x00-\xFF]"
    } else {
        r"[^\n]"
    };
    let dot = format!(
        r"(?:[\xC2-\xDF][\x80-\xBF]|[\xE0-\xEF][\x80-\xBF]{{2}}|[\xF0-\xF4][\x80-\xBF]{{3}}|{byte})"
    );
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    let mut depth = 0usize; // nesting of `[...]`
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '[' => {
                out.push(c);
                depth += 1;
                // `[]` and `[^]` open a class whose first member is `]`.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if depth == 1 && chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if depth > 0 => {
                out.push(c);
                depth -= 1;
            }
            '.' if depth == 0 => out.push_str(&dot),
            _ => out.push(c),
        }
    }
    out
}

fn example(
    file: &str,
    description: &str,
    node: roxmltree::Node<'_, '_>,
) -> anyhow::Result<Example> {
    let text = node.text().unwrap_or("");
    let mut expect = Vec::new();
    let mut base64 = false;
    let mut external = None;
    for a in node.attributes() {
        match a.name() {
            "_encoding" if a.value() == "base64" => base64 = true,
            "_filename" => external = Some(a.value().to_string()),
            "_encoding" => anyhow::bail!(
                "{file}: {description:?}: unknown example encoding {:?}",
                a.value()
            ),
            n if n.starts_with('_') => {}
            n => expect.push((n.to_string(), a.value().to_string())),
        }
    }
    let bytes = if base64 {
        let compact: String = text.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| anyhow::anyhow!("{file}: {description:?}: bad base64 example: {e}"))?
    } else {
        text.as_bytes().to_vec()
    };
    Ok(Example {
        text: bytes,
        expect,
        external,
    })
}
