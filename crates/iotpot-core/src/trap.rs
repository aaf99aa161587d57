//! Exploit traps: the known holes of a device's web interface, as profile
//! data (`[[http.traps]]`, documented for users in `docs/profiles.md`).
//!
//! A trap says which requests reach the hole (method, path, what must be
//! present), where the attacker's command sits in them, and what the
//! device answers. The matching and the answer are in `iotpot-session`
//! (`http::trap`); the command runs in the persona's shell there, as on
//! Telnet.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest `sleep` a trap honours, in seconds, whatever a profile says.
pub const MAX_SLEEP: u32 = 30;

/// One hole of a device web server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Trap {
    /// Unique in the profile: `jaws-shell`, `hg532-upnp-upgrade`.
    pub id: String,
    /// What it is, for people: `MVPower DVR JAWS /shell command execution`.
    pub name: String,
    /// The CVEs it answers (none for holes that never got one).
    pub cves: Vec<String>,
    /// Methods it answers (`["POST"]`); empty: any.
    pub method: Vec<String>,
    /// The path, exact (query ignored).
    pub path: String,
    /// Or the start of the path (`/cgi-bin/;`).
    pub path_prefix: String,
    /// Or a regular expression the whole path must match.
    pub path_regex: String,
    /// A regular expression the raw query must contain a match of
    /// (`images/` for the GPON authentication bypass).
    pub query_regex: String,
    /// Headers that must be present, by name (any case), each with a
    /// regular expression its value must contain a match of (`"."`: any).
    /// Cookies are the `Cookie` header.
    pub require_headers: BTreeMap<String, String>,
    /// The profile's Basic credentials are needed (401 without them).
    pub auth: bool,
    /// A request that reaches the path without the `require_headers`
    /// gets 401 with this `WWW-Authenticate` value (the HG532's Digest
    /// challenge; `{nonce}` is 32 fresh hex digits each time), and nothing
    /// runs. Empty: it goes on to the pages.
    pub challenge: String,
    /// Where the injected command is: `query` (the whole query), `path`
    /// (what follows `path_prefix`), `body` (the whole body), or
    /// `query:NAME`, `form:NAME`, `json:NAME`, `xml:NAME` (an element's
    /// text), `header:NAME`, `cookie:NAME`. Empty: the trap runs nothing.
    /// The value, decoded as it travelled, runs in the device's shell.
    pub inject: String,
    /// A file of the device the command's output goes to (as the firmware
    /// writes its diagnostics), for a later request to read back.
    pub save: String,
    /// A file of the device whose content the answer shows as `{file}`:
    /// `{path}` is the request's path with `..` resolved. The trap answers
    /// only when the file exists (the server's 404 otherwise).
    pub read: String,
    /// The most seconds of `sleep` in the command the answer waits
    /// (timing checkers), at most [`MAX_SLEEP`]. 0: answers at once.
    pub sleep_max: u32,
    /// The answer's status.
    pub status: u16,
    /// The answer's `Content-Type`.
    #[serde(rename = "type")]
    pub content_type: String,
    /// The answer's own header lines.
    pub headers: Vec<String>,
    /// The answer's body. `{output}` is what the command printed,
    /// `{output_js}` the same escaped for a JavaScript or JSON string,
    /// `{output_xml}` escaped for XML text; `{file}`, `{file_js}` the file
    /// of `read`; profile placeholders (`{hostname}`, `{mac}`) as anywhere.
    pub body: String,
}

impl Default for Trap {
    fn default() -> Self {
        Trap {
            id: String::new(),
            name: String::new(),
            cves: Vec::new(),
            method: Vec::new(),
            path: String::new(),
            path_prefix: String::new(),
            path_regex: String::new(),
            query_regex: String::new(),
            require_headers: BTreeMap::new(),
            auth: false,
            challenge: String::new(),
            inject: String::new(),
            save: String::new(),
            read: String::new(),
            sleep_max: 0,
            status: 200,
            content_type: "text/html".into(),
            headers: Vec::new(),
            body: String::new(),
        }
    }
}

impl Trap {
    /// Whether the trap's fields make sense; the reason when not.
    pub fn check(&self) -> Result<(), String> {
        if self.id.is_empty() {
            return Err("a trap needs an id".into());
        }
        let paths = [&self.path, &self.path_prefix, &self.path_regex]
            .iter()
            .filter(|p| !p.is_empty())
            .count();
        if paths != 1 {
            return Err(format!(
                "trap {:?}: give exactly one of path, path_prefix, path_regex",
                self.id
            ));
        }
        for re in [&self.path_regex, &self.query_regex]
            .into_iter()
            .chain(self.require_headers.values())
        {
            regex::Regex::new(re).map_err(|e| format!("trap {:?}: {e}", self.id))?;
        }
        let (kind, name) = self.inject.split_once(':').unwrap_or((&self.inject, ""));
        let named = matches!(
            kind,
            "query" | "form" | "json" | "xml" | "header" | "cookie"
        );
        let whole = matches!(kind, "" | "query" | "path" | "body");
        if !(named && !name.is_empty() || whole && name.is_empty()) {
            return Err(format!(
                "trap {:?}: inject {:?} is not query, path, body or query:/form:/json:/xml:/header:/cookie:NAME",
                self.id, self.inject
            ));
        }
        if kind == "path" && self.path_prefix.is_empty() {
            return Err(format!(
                "trap {:?}: inject = \"path\" needs a path_prefix",
                self.id
            ));
        }
        if !(100..=599).contains(&self.status) {
            return Err(format!("trap {:?}: bad status {}", self.id, self.status));
        }
        if self.sleep_max > MAX_SLEEP {
            return Err(format!(
                "trap {:?}: sleep_max is at most {MAX_SLEEP}",
                self.id
            ));
        }
        Ok(())
    }
}
