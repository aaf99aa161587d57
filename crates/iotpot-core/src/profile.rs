//! Device profiles: the data that makes a listener look like one real device.
//!
//! A profile is a TOML file (schema: [`Profile`], documented for users in
//! `docs/profiles.md`). The built-in ones are compiled in from `profiles/`.
//! Strings may hold placeholders filled once per deployment
//! ([`crate::deployment::Deployment`]) so that two honeypots never share a
//! fixed hostname, MAC or serial:
//!
//! | placeholder | value |
//! |---|---|
//! | `{hostname}` | the resolved `system.hostname` |
//! | `{suffix}` | 4 hex digits (`a3f0`) |
//! | `{SUFFIX}` | the same, upper case |
//! | `{mac}` | `system.oui` + 3 random bytes, `00:12:16:a3:f0:11` |
//! | `{MAC}` / `{mac_plain}` | upper case with colons / lower case without |
//! | `{serial}` | `system.serial`, each `#` a random digit, `?` a hex digit |
//! | `{ip}` | the device's LAN address, `192.168.1.x` style |
//! | `{busybox}` | `system.busybox`, the BusyBox banner (`BusyBox v1.01 (2013.12.13-06:08+0000)`) |
//!
//! [`Profile::instantiate`] turns a profile into a [`Persona`]: the same data
//! with every placeholder resolved, shared read-only by all its sessions.

use crate::arch::Arch;
use crate::deployment::Deployment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The built-in profiles, `(name, TOML)`.
pub const BUILTIN: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/builtin_profiles.rs"));

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Identifier used in `[[listen]] profile = "..."`.
    pub name: String,
    /// The real device family it imitates.
    pub description: String,
    /// The device it is a face of: the profile its `extends` chain starts
    /// from (`dvr` extends `dvr-xiongmai`: one device), or its own name.
    #[serde(skip)]
    pub device: String,
    /// `DVR`, `NVR`, `IP Camera`, `Router`, `Modem`, `Set-Top-Box`, `CPE`, `Gateway`...
    pub device_type: String,
    pub arch: Arch,
    #[serde(default)]
    pub telnet: TelnetProfile,
    #[serde(default)]
    pub auth: AuthPolicy,
    #[serde(default)]
    pub system: SystemProfile,
    /// Extra directories and files over the standard embedded tree.
    #[serde(default)]
    pub fs: FsOverlay,
    /// Fixed answers: an exact command line -> its output.
    #[serde(default)]
    pub commands: BTreeMap<String, String>,
    /// How the 53413/UDP backdoor answers (service `netis`).
    #[serde(default)]
    pub netis: NetisProfile,
    /// The device's web server (service `http`).
    #[serde(default)]
    pub http: HttpProfile,
}

/// A device web server: exact status lines, header order and spelling,
/// pages, error pages, Basic auth, and a camera's video.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpProfile {
    /// The version in status lines: `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    /// The header lines of every response, in order, as spelled. `{date}`,
    /// `{type}` and `{length}` are filled per response (a line with
    /// `{length}` is left out of streams); `{extra}` stands for the
    /// response's own headers (`WWW-Authenticate`, `Location`), which go
    /// last when it is absent.
    pub headers: Vec<String>,
    /// `imf` (`Sun, 06 Nov 1994 08:49:37 GMT`) or `asctime`
    /// (`Sun Nov  6 08:49:37 1994`).
    pub date_format: DateFormat,
    /// Whether HTTP/1.1 clients may send several requests on a connection.
    pub keep_alive: bool,
    /// The `WWW-Authenticate` value sent with 401 (`Basic realm="..."`).
    pub www_authenticate: String,
    /// Basic credentials the pages with `auth = true` accept, `user:password`
    /// (`{ht.NAME.user}:{ht.NAME.password}` accepts a bait).
    pub credentials: Vec<String>,
    /// Reason phrases that differ from the standard ones, e.g. `401 = "N/A"`.
    pub reasons: BTreeMap<String, String>,
    /// Paths served (exact match on the path, query ignored).
    pub pages: BTreeMap<String, Page>,
    /// Bodies of error responses by status (`"401"`, `"404"`, `"400"`...).
    pub errors: BTreeMap<String, String>,
    /// The `Content-Type` of error pages.
    pub error_type: String,
    /// A camera's picture.
    pub video: VideoProfile,
    /// The known holes of this web server (`[[http.traps]]`): requests
    /// that reach one run their command in the device's shell.
    pub traps: Vec<crate::trap::Trap>,
    /// Where the web server's commands run (its working directory and
    /// `$HOME`): `/` unless the firmware starts it elsewhere.
    pub cwd: String,
}

impl Default for HttpProfile {
    fn default() -> Self {
        HttpProfile {
            version: "HTTP/1.1".into(),
            headers: vec![
                "Server: Boa/0.94.13".into(),
                "Date: {date}".into(),
                "Content-Type: {type}".into(),
                "Content-Length: {length}".into(),
                "Connection: close".into(),
                "{extra}".into(),
            ],
            date_format: DateFormat::Imf,
            keep_alive: false,
            www_authenticate: "Basic realm=\"{hostname}\"".into(),
            credentials: Vec::new(),
            reasons: BTreeMap::new(),
            pages: BTreeMap::new(),
            errors: BTreeMap::new(),
            error_type: "text/html".into(),
            video: VideoProfile::default(),
            traps: Vec::new(),
            cwd: "/".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateFormat {
    #[default]
    Imf,
    Asctime,
}

/// One path of a device web server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Page {
    /// `static` (the body), `leak` (the body with the deployment's bait
    /// credentials: serving it is remembered for `honeytoken.used`),
    /// `mjpeg` (the live stream), `snapshot` (one JPEG frame).
    pub kind: PageKind,
    /// `Content-Type` (for `mjpeg`, the boundary is added).
    #[serde(rename = "type")]
    pub content_type: String,
    pub body: String,
    /// Basic auth required.
    pub auth: bool,
    pub status: u16,
    /// Extra header lines (`Location: /index.asp`).
    pub headers: Vec<String>,
    /// Serve another page of this profile here, byte for byte (one file
    /// under several paths, as `/DVR.cfg` and `/dvr.cfg`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub same_as: String,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            kind: PageKind::Static,
            content_type: "text/html".into(),
            body: String::new(),
            auth: false,
            status: 200,
            headers: Vec::new(),
            same_as: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    #[default]
    Static,
    Leak,
    Mjpeg,
    Snapshot,
}

/// What a camera shows: a generated room with the camera's timestamp
/// overlay and, as bait, a note with credentials on the wall.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VideoProfile {
    pub width: u32,
    pub height: u32,
    /// Frames per second of the MJPEG stream (1 to 15).
    pub fps: u32,
    /// The overlay's camera name (bottom left).
    pub title: String,
    /// The note's lines (`{ht.video.user}`, `{ht.video.password}`).
    pub note: Vec<String>,
    /// The multipart boundary of the stream.
    pub boundary: String,
}

impl Default for VideoProfile {
    fn default() -> Self {
        VideoProfile {
            width: 640,
            height: 480,
            fps: 5,
            title: "CAM 01".into(),
            note: vec![
                "WiFi cam login".into(),
                "user: {ht.video.user}".into(),
                "pass: {ht.video.password}".into(),
            ],
            boundary: "myboundary".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetisProfile {
    /// The firmware has the 53413/UDP backdoor (Netis/Netcore routers): a
    /// listener that names no profile shows it only on such a device.
    pub backdoor: bool,
    /// What the reply to the 8-byte zero probe ends with.
    pub probe_reply: ProbeReply,
}

/// The two known answers to the backdoor's probe (scanners accept either).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeReply {
    /// `...\xD0\xA5Login:`
    #[default]
    Login,
    /// `... 00 00 00 05 00 01 00 00 00 00 01 00 00`
    Status,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelnetProfile {
    /// Hex of the bytes sent on connect, before anything else. Starting with
    /// `ff` (IAC) matters: Mirai's scanner ignores servers that open with text.
    pub negotiation: String,
    /// Text after the negotiation, before the first login prompt.
    pub banner: String,
    pub login_prompt: String,
    pub password_prompt: String,
    /// Printed after a wrong password, before the next login prompt.
    pub login_incorrect: String,
    /// Printed after a successful login.
    pub motd: String,
    /// The shell prompt.
    pub prompt: String,
    /// Failed logins before the device hangs up.
    pub max_attempts: u32,
    /// Options we agree to enable on our side (WILL).
    pub local_options: Vec<u8>,
    /// Options we let the client enable (DO).
    pub remote_options: Vec<u8>,
}

impl Default for TelnetProfile {
    fn default() -> Self {
        TelnetProfile {
            // BusyBox telnetd: DO ECHO, DO NAWS, DO LFLOW, WILL ECHO, WILL SGA.
            negotiation: "fffd01fffd1ffffd21fffb01fffb03".into(),
            banner: "".into(),
            login_prompt: "\r\n{hostname} login: ".into(),
            password_prompt: "Password: ".into(),
            login_incorrect: "Login incorrect\r\n".into(),
            motd: "\r\n\r\n{busybox} built-in shell (ash)\r\nEnter 'help' for a list of built-in commands.\r\n\r\n".into(),
            prompt: "# ".into(),
            max_attempts: 3,
            local_options: vec![1, 3],
            remote_options: vec![3, 24, 31],
        }
    }
}

/// Which credentials log in.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, tag = "policy", rename_all = "snake_case")]
pub enum AuthPolicy {
    /// Any user name and password.
    #[default]
    Any,
    /// Only the listed `user:password` pairs.
    List { credentials: Vec<String> },
    /// Refuse the first `count` attempts of a session whatever they are, then
    /// accept anything (looks less like a honeypot than accepting at once).
    RejectFirst { count: u32 },
    /// Per user name: the passwords that work (`*` for any). Unlisted users
    /// are refused.
    PerUser {
        users: BTreeMap<String, Vec<String>>,
    },
}

impl AuthPolicy {
    /// Whether this login succeeds; `attempt` counts from 0 in the session.
    pub fn accepts(&self, user: &str, password: &str, attempt: u32) -> bool {
        match self {
            AuthPolicy::Any => true,
            AuthPolicy::List { credentials } => credentials.iter().any(|c| {
                c.split_once(':')
                    .is_some_and(|(u, p)| u == user && p == password)
            }),
            AuthPolicy::RejectFirst { count } => attempt >= *count,
            AuthPolicy::PerUser { users } => users
                .get(user)
                .is_some_and(|pw| pw.iter().any(|p| p == "*" || p == password)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SystemProfile {
    pub hostname: String,
    /// `uname -r`.
    pub kernel_release: String,
    /// `uname -v`.
    pub kernel_version: String,
    /// The first line `busybox` prints, without "multi-call binary.".
    pub busybox: String,
    /// Applets this BusyBox has; empty means the built-in default list.
    pub applets: Vec<String>,
    /// How the shell names itself in errors: `-sh` for a login shell.
    pub shell_name: String,
    /// `/proc/mounts`; empty means a generic embedded layout.
    pub mounts: String,
    /// `/proc/cpuinfo`; empty means the architecture's default.
    pub cpuinfo: String,
    /// The compiler `/proc/version` names ("gcc version 4.3.3 (GCC) ");
    /// empty means the architecture's usual toolchain.
    pub compiler: String,
    /// Who built the kernel, as `/proc/version` says ("root@localhost").
    pub kernel_builder: String,
    /// Process list: one `PID USER VSZ STAT COMMAND` line per process,
    /// whitespace-separated, command last.
    pub processes: Vec<String>,
    /// First three bytes of the MAC (the vendor's OUI), `00:12:16`.
    pub oui: String,
    /// Pattern of the serial number (`#` digit, `?` hex digit).
    pub serial: String,
    /// Total memory in KiB, for `free` and `/proc/meminfo`.
    pub mem_kib: u64,
    /// The user a login shell runs as when the login name is not in /etc/passwd.
    pub default_user: String,
}

impl Default for SystemProfile {
    fn default() -> Self {
        SystemProfile {
            hostname: "(none)".into(),
            kernel_release: "3.10.14".into(),
            kernel_version: "#1 Mon Jan 5 10:21:03 CST 2015".into(),
            busybox: "BusyBox v1.19.4 (2014-03-12 10:22:08 CST)".into(),
            applets: Vec::new(),
            shell_name: "-sh".into(),
            mounts: String::new(),
            cpuinfo: String::new(),
            compiler: String::new(),
            kernel_builder: "root@localhost".into(),
            processes: Vec::new(),
            oui: "00:12:16".into(),
            serial: "############".into(),
            mem_kib: 61_440,
            default_user: "root".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FsOverlay {
    pub dirs: Vec<String>,
    pub files: BTreeMap<String, String>,
    /// `path = "target"` symbolic links.
    pub links: BTreeMap<String, String>,
}

/// A profile with every per-deployment placeholder resolved.
#[derive(Debug, Clone)]
pub struct Persona {
    pub profile: Profile,
    /// The raw opening bytes (decoded from `telnet.negotiation`).
    pub negotiation: Vec<u8>,
    pub mac: String,
    pub serial: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("unknown profile {0:?} (built-in: {1})")]
    Unknown(String, String),
    #[error("reading profile {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("profile {name}: {message}")]
    Invalid { name: String, message: String },
}

impl Profile {
    pub fn from_toml(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let invalid = |message: String| ProfileError::Invalid {
            name: origin.to_string(),
            message,
        };
        let (value, root) = extended(toml::from_str(text).map_err(|e| invalid(e.to_string()))?, 0)?;
        let mut p: Profile = value.try_into().map_err(|e| invalid(e.to_string()))?;
        p.device = root.unwrap_or_else(|| p.name.clone());
        p.validate()?;
        // Pages served under several paths are one page.
        let pages = p.http.pages.clone();
        for page in p.http.pages.values_mut() {
            if let Some(target) = pages.get(&page.same_as) {
                *page = target.clone();
            }
        }
        Ok(p)
    }

    /// The faces this device shows: always Telnet; a web server when it has
    /// pages; the 53413/UDP backdoor when its firmware has it.
    pub fn has_face(&self, service: crate::config::Service) -> bool {
        use crate::config::Service;
        match service {
            Service::Telnet => true,
            Service::Http => !self.http.pages.is_empty() || !self.http.traps.is_empty(),
            Service::Netis => self.netis.backdoor,
            Service::Sensors => false,
        }
    }

    /// A built-in profile by name, or a TOML file when `spec` is a path
    /// (contains `/` or ends in `.toml`).
    pub fn load(spec: &str) -> Result<Profile, ProfileError> {
        if spec.contains('/') || spec.ends_with(".toml") {
            let text =
                std::fs::read_to_string(Path::new(spec)).map_err(|source| ProfileError::Io {
                    path: spec.to_string(),
                    source,
                })?;
            return Profile::from_toml(&text, spec);
        }
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == spec).ok_or_else(|| {
            ProfileError::Unknown(
                spec.to_string(),
                BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })?;
        Profile::from_toml(text, spec)
    }

    /// Every built-in profile, parsed.
    pub fn builtins() -> Vec<Profile> {
        BUILTIN
            .iter()
            .filter_map(|(name, text)| Profile::from_toml(text, name).ok())
            .collect()
    }

    fn validate(&self) -> Result<(), ProfileError> {
        let bad = |message: String| ProfileError::Invalid {
            name: self.name.clone(),
            message,
        };
        hex::decode(&self.telnet.negotiation)
            .map_err(|e| bad(format!("telnet.negotiation is not hex: {e}")))?;
        if self.telnet.max_attempts == 0 {
            return Err(bad("telnet.max_attempts must be at least 1".into()));
        }
        if self.system.oui.split(':').count() != 3 {
            return Err(bad(format!(
                "system.oui {:?} is not like 00:12:16",
                self.system.oui
            )));
        }
        let v = &self.http.video;
        if !(16..=1920).contains(&v.width) || !(16..=1080).contains(&v.height) {
            return Err(bad(
                "http.video width/height must be 16..1920 x 16..1080".into()
            ));
        }
        if !(1..=15).contains(&v.fps) {
            return Err(bad("http.video.fps must be 1 to 15".into()));
        }
        if !matches!(self.http.version.as_str(), "HTTP/1.0" | "HTTP/1.1") {
            return Err(bad("http.version must be HTTP/1.0 or HTTP/1.1".into()));
        }
        for (path, page) in &self.http.pages {
            if !path.starts_with('/') {
                return Err(bad(format!("http page {path:?} must start with /")));
            }
            if !page.same_as.is_empty()
                && self
                    .http
                    .pages
                    .get(&page.same_as)
                    .is_none_or(|t| !t.same_as.is_empty())
            {
                return Err(bad(format!(
                    "http page {path:?}: same_as {:?} is not a page of this profile",
                    page.same_as
                )));
            }
            if !(100..=599).contains(&page.status) {
                return Err(bad(format!(
                    "http page {path:?}: bad status {}",
                    page.status
                )));
            }
        }
        if !self.http.cwd.starts_with('/') {
            return Err(bad("http.cwd must be absolute".into()));
        }
        let mut ids = std::collections::BTreeSet::new();
        for t in &self.http.traps {
            t.check().map_err(&bad)?;
            if !ids.insert(&t.id) {
                return Err(bad(format!("two traps named {:?}", t.id)));
            }
        }
        for p in &self.system.processes {
            if p.split_whitespace().count() < 5 {
                return Err(bad(format!(
                    "process line {p:?} needs PID USER VSZ STAT COMMAND"
                )));
            }
        }
        for path in self
            .fs
            .files
            .keys()
            .chain(&self.fs.dirs)
            .chain(self.fs.links.keys())
        {
            if !path.starts_with('/') {
                return Err(bad(format!("fs path {path:?} must be absolute")));
            }
        }
        Ok(())
    }

    /// Resolve placeholders with this deployment's values.
    pub fn instantiate(&self, deployment: &Deployment) -> Persona {
        let d = |key: &str| deployment.derive(&self.name, key);
        let suffix = format!("{:04x}", d("suffix") & 0xffff);
        let m = d("mac").to_be_bytes();
        let mac = format!(
            "{}:{:02x}:{:02x}:{:02x}",
            self.system.oui.to_lowercase(),
            m[5],
            m[6],
            m[7]
        );
        let mut serial = String::new();
        let mut r = d("serial");
        for c in self.system.serial.chars() {
            let (digit, radix) = match c {
                '#' => (true, 10),
                '?' => (true, 16),
                _ => (false, 0),
            };
            if digit {
                if r < 16 {
                    r = r
                        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                        .wrapping_add(d("serial2"));
                }
                let v = (r % radix) as u32;
                r /= radix;
                serial.push(
                    std::char::from_digit(v, radix as u32)
                        .unwrap_or('0')
                        .to_ascii_uppercase(),
                );
            } else {
                serial.push(c);
            }
        }
        let ip = format!(
            "192.168.{}.{}",
            [0, 1, 1, 1, 2, 10][(d("net") % 6) as usize],
            2 + d("host") % 250
        );
        let basic = Vars {
            hostname: String::new(),
            busybox: self.system.busybox.clone(),
            suffix: suffix.clone(),
            mac: mac.clone(),
            serial: serial.clone(),
            ip,
        };
        let hostname = basic.fill(&self.system.hostname);
        let vars = Vars { hostname, ..basic };
        let mut p = self.clone();
        vars.fill_profile(&mut p);
        let negotiation = hex::decode(&p.telnet.negotiation).unwrap_or_default();
        Persona {
            profile: p,
            negotiation,
            mac,
            serial,
        }
    }
}

/// How many `extends` a profile may chain.
const MAX_EXTENDS: usize = 4;

/// A profile's TOML with its `extends` resolved: the named built-in
/// profile's tables, overridden key by key by this one's (tables merge,
/// other values replace); and the name the chain starts from, if any.
fn extended(
    mut v: toml::Value,
    depth: usize,
) -> Result<(toml::Value, Option<String>), ProfileError> {
    let Some(base) = v.as_table_mut().and_then(|t| t.remove("extends")) else {
        return Ok((v, None));
    };
    let name = base.as_str().unwrap_or_default().to_string();
    let (_, text) =
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ProfileError::Invalid {
                name: name.clone(),
                message: format!("extends {name:?}, which is not a built-in profile"),
            })?;
    if depth >= MAX_EXTENDS {
        return Err(ProfileError::Invalid {
            name,
            message: format!("more than {MAX_EXTENDS} profiles extend each other"),
        });
    }
    let parsed = toml::from_str(text).map_err(|e| ProfileError::Invalid {
        name: name.clone(),
        message: e.to_string(),
    })?;
    let (mut base, root) = extended(parsed, depth + 1)?;
    merge(&mut base, v);
    Ok((base, Some(root.unwrap_or(name))))
}

/// `over` laid over `base`, table by table.
fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_table() && v.is_table() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

struct Vars {
    hostname: String,
    busybox: String,
    suffix: String,
    mac: String,
    serial: String,
    ip: String,
}

impl Vars {
    fn fill(&self, s: &str) -> String {
        if !s.contains('{') {
            return s.to_string();
        }
        s.replace("{hostname}", &self.hostname)
            .replace("{suffix}", &self.suffix)
            .replace("{SUFFIX}", &self.suffix.to_uppercase())
            .replace("{mac}", &self.mac)
            .replace("{MAC}", &self.mac.to_uppercase())
            .replace("{mac_plain}", &self.mac.replace(':', ""))
            .replace("{serial}", &self.serial)
            .replace("{ip}", &self.ip)
            .replace("{busybox}", &self.busybox)
    }

    fn fill_profile(&self, p: &mut Profile) {
        let t = &mut p.telnet;
        for s in [
            &mut t.banner,
            &mut t.login_prompt,
            &mut t.password_prompt,
            &mut t.login_incorrect,
            &mut t.motd,
            &mut t.prompt,
        ] {
            *s = self.fill(s);
        }
        let s = &mut p.system;
        s.hostname = self.hostname.clone();
        for v in [&mut s.mounts, &mut s.cpuinfo, &mut s.kernel_version] {
            *v = self.fill(v);
        }
        for v in &mut s.processes {
            *v = self.fill(v);
        }
        for v in p.fs.files.values_mut() {
            *v = self.fill(v);
        }
        for v in p.commands.values_mut() {
            *v = self.fill(v);
        }
        let h = &mut p.http;
        h.www_authenticate = self.fill(&h.www_authenticate);
        h.video.title = self.fill(&h.video.title);
        for v in h.headers.iter_mut().chain(h.errors.values_mut()) {
            *v = self.fill(v);
        }
        for page in h.pages.values_mut() {
            page.body = self.fill(&page.body);
        }
        for t in &mut h.traps {
            t.body = self.fill(&t.body);
            for v in &mut t.headers {
                *v = self.fill(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn builtins_parse_and_cover_the_mission() {
        let mut names = BTreeSet::new();
        for (name, text) in BUILTIN {
            let p = Profile::from_toml(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&p.name, name, "file name and profile name differ");
            assert!(names.insert(p.name.clone()));
            let neg = hex::decode(&p.telnet.negotiation).unwrap();
            assert_eq!(
                neg.first(),
                Some(&0xff),
                "{name}: must open with IAC for Mirai"
            );
            assert_ne!(
                neg,
                vec![0xff, 0xfd, 0x1f],
                "{name}: a lone DO NAWS is cowrie's nmap signature"
            );
        }
        // Every file in profiles/ is built in, and the README's count holds.
        let files: BTreeSet<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles"))
                .unwrap()
                .filter_map(|e| {
                    let name = e.unwrap().file_name().to_string_lossy().into_owned();
                    name.strip_suffix(".toml").map(str::to_string)
                })
                .collect();
        assert_eq!(names, files);
        assert_eq!(names.len(), 45, "the README says 45 built-in profiles");
        let profiles = Profile::builtins();
        let arches: BTreeSet<_> = profiles.iter().map(|p| p.arch.name()).collect();
        for a in ["armel", "mips", "mipsel", "ppc", "i686", "sh4"] {
            assert!(arches.contains(a), "no built-in profile for {a}");
        }
        let types: BTreeSet<_> = profiles.iter().map(|p| p.device_type.as_str()).collect();
        for t in [
            "DVR",
            "Router",
            "IP Camera",
            "Set-Top-Box",
            "Modem",
            "NVR",
            "CPE",
            "Gateway",
        ] {
            assert!(types.contains(t), "no built-in {t} profile");
        }
    }

    #[test]
    fn deployments_differ_but_are_stable() {
        let p = Profile::load("dvr-xiongmai").unwrap();
        let a = Deployment::from_seed([1; 32]);
        let b = Deployment::from_seed([2; 32]);
        let pa = p.instantiate(&a);
        let pa2 = p.instantiate(&a);
        let pb = p.instantiate(&b);
        assert_eq!(pa.mac, pa2.mac);
        assert_eq!(pa.serial, pa2.serial);
        assert_ne!(pa.mac, pb.mac);
        assert!(!pa.profile.telnet.login_prompt.contains('{'));
        assert!(pa.mac.starts_with(&p.system.oui.to_lowercase()));
        assert_eq!(pa.serial.len(), p.system.serial.len());
    }

    #[test]
    fn auth_policies() {
        let any = AuthPolicy::Any;
        assert!(any.accepts("x", "y", 0));
        let list = AuthPolicy::List {
            credentials: vec!["root:xc3511".into()],
        };
        assert!(list.accepts("root", "xc3511", 5));
        assert!(!list.accepts("root", "admin", 0));
        let rf = AuthPolicy::RejectFirst { count: 2 };
        assert!(!rf.accepts("a", "b", 1));
        assert!(rf.accepts("a", "b", 2));
        let mut users = BTreeMap::new();
        users.insert("admin".to_string(), vec!["*".to_string()]);
        users.insert("root".to_string(), vec!["vizxv".to_string()]);
        let pu = AuthPolicy::PerUser { users };
        assert!(pu.accepts("admin", "whatever", 0));
        assert!(pu.accepts("root", "vizxv", 0));
        assert!(!pu.accepts("root", "root", 0));
        assert!(!pu.accepts("guest", "guest", 0));
    }

    #[test]
    fn file_profiles_load_and_errors_are_clear() {
        let dir = std::env::temp_dir().join(format!("iotpot-prof-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mine.toml");
        std::fs::write(
            &path,
            "name = \"mine\"\ndescription = \"x\"\ndevice_type = \"Router\"\narch = \"mips\"\n",
        )
        .unwrap();
        let p = Profile::load(path.to_str().unwrap()).unwrap();
        assert_eq!(p.name, "mine");
        let err = Profile::load("no-such-profile").unwrap_err().to_string();
        assert!(err.contains("dvr-xiongmai"), "{err}");
        std::fs::write(&path, "name = 1").unwrap();
        assert!(Profile::load(path.to_str().unwrap()).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
