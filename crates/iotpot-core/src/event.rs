//! The event catalogue: everything an attacker does becomes one of these.
//!
//! Field names follow cowrie's JSON log (`eventid`, `timestamp`, `session`,
//! `src_ip`, `username`, `input`, `url`, `shasum`, `outfile`, `duration`...) so
//! existing log pipelines read iotpot's `events.jsonl` unchanged; event ids are
//! `iotpot.<area>.<what>`. `docs/events.md` documents every variant and a test
//! keeps the two in sync: add a variant, document it.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use strum::{EnumIter, IntoStaticStr};
use time::OffsetDateTime;

/// One event: who/where/when, then what ([`EventKind`], flattened into the
/// same JSON object).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    #[serde(with = "timestamp")]
    pub timestamp: OffsetDateTime,
    /// Session id: 12 hex digits, unique per connection.
    pub session: String,
    #[serde(serialize_with = "ip_text::serialize")]
    pub src_ip: IpAddr,
    pub src_port: u16,
    #[serde(serialize_with = "ip_text::serialize")]
    pub dst_ip: IpAddr,
    pub dst_port: u16,
    /// Name of the sensor (the machine or site) that saw it.
    pub sensor: String,
    /// `telnet` or `netis` (more services later).
    pub protocol: String,
    /// Set only on an event a sensor recorded on its own while its central
    /// was away (degraded mode): random, unique, and the key that makes
    /// its replay to the central store it exactly once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spool_id: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The most of a command's answer an `iotpot.command.input` event keeps
/// (a session's transcript; a download's bytes are a sample, not output).
pub const MAX_OUTPUT_IN_EVENT: usize = 4096;

/// The fields every event carries (the rest are its kind's own).
pub const COMMON_FIELDS: &[&str] = &[
    "eventid",
    "timestamp",
    "session",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "sensor",
    "protocol",
];

/// What happened. Serialized with its id in `eventid`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, EnumIter, IntoStaticStr)]
#[serde(tag = "eventid")]
pub enum EventKind {
    /// A connection was accepted and a session started.
    #[serde(rename = "iotpot.session.connect")]
    #[strum(serialize = "iotpot.session.connect")]
    SessionConnect {},

    /// Which persona answered this session.
    #[serde(rename = "iotpot.session.params")]
    #[strum(serialize = "iotpot.session.params")]
    SessionParams {
        profile: String,
        arch: String,
        device_type: String,
    },

    /// The session ended.
    #[serde(rename = "iotpot.session.closed")]
    #[strum(serialize = "iotpot.session.closed")]
    SessionClosed {
        /// Seconds since the connection was accepted.
        duration: f64,
        /// `client` (the peer closed), `exit`, `idle_timeout`, `login_timeout`,
        /// `session_timeout`, `login_failed`, `input_limit`, `shutdown`, `error`.
        reason: String,
        bytes_in: u64,
        bytes_out: u64,
    },

    /// A connection refused by a limit before any session started. Emitted
    /// at most once per source and limit per minute, with a count.
    #[serde(rename = "iotpot.session.rejected")]
    #[strum(serialize = "iotpot.session.rejected")]
    SessionRejected {
        /// `max_sessions` or `max_sessions_per_ip`.
        reason: String,
        /// Connections refused for this reason since the last such event.
        count: u64,
    },

    /// A session hit a resource limit (line length, input bytes, filesystem).
    #[serde(rename = "iotpot.session.limit")]
    #[strum(serialize = "iotpot.session.limit")]
    SessionLimit { limit: String, detail: String },

    /// The client's Telnet negotiation, once per session.
    #[serde(rename = "iotpot.telnet.negotiation")]
    #[strum(serialize = "iotpot.telnet.negotiation")]
    TelnetNegotiation {
        /// What the client sent, in order, e.g. `["WILL NAWS", "DONT ECHO"]`.
        options: Vec<String>,
        width: Option<u16>,
        height: Option<u16>,
        ttype: Option<String>,
    },

    /// A datagram to the 53413/UDP router backdoor (protocol `netis`).
    #[serde(rename = "iotpot.netis.datagram")]
    #[strum(serialize = "iotpot.netis.datagram")]
    NetisDatagram {
        /// Bytes received.
        length: u64,
        /// `probe`, `login`, `command`, `scan-18` or `other`.
        kind: String,
        /// Hex of the first 256 bytes.
        payload: String,
        /// Bytes sent back (at most 3x the datagram's size, or 16 bytes).
        reply_length: u64,
    },

    #[serde(rename = "iotpot.login.success")]
    #[strum(serialize = "iotpot.login.success")]
    LoginSuccess { username: String, password: String },

    #[serde(rename = "iotpot.login.failed")]
    #[strum(serialize = "iotpot.login.failed")]
    LoginFailed { username: String, password: String },

    /// One line typed at the shell. `known` is false when any command in it
    /// was unknown to the emulation.
    #[serde(rename = "iotpot.command.input")]
    #[strum(serialize = "iotpot.command.input")]
    CommandInput {
        input: String,
        known: bool,
        /// What the device answered (the terminal's text, LF line ends,
        /// bytes that are not UTF-8 as `\xNN`): the first
        /// [`MAX_OUTPUT_IN_EVENT`] bytes of it.
        #[serde(default)]
        output: String,
        /// How many bytes the answer had in all.
        #[serde(default)]
        output_size: u64,
    },

    /// A command the shell emulation does not know (what IoTBOX will answer).
    #[serde(rename = "iotpot.command.unknown")]
    #[strum(serialize = "iotpot.command.unknown")]
    CommandUnknown { input: String },

    /// A download command: `wget`, `curl`, `tftp`, `ftpget`...
    #[serde(rename = "iotpot.download.requested")]
    #[strum(serialize = "iotpot.download.requested")]
    DownloadRequested {
        url: String,
        /// The tool the attacker used.
        tool: String,
        /// Where the attacker asked the file to go (`-` for stdout).
        outfile: String,
    },

    /// A download was fetched and stored as a sample.
    #[serde(rename = "iotpot.download.success")]
    #[strum(serialize = "iotpot.download.success")]
    DownloadSuccess {
        url: String,
        /// The URL the bytes came from, after redirects.
        final_url: String,
        outfile: String,
        shasum: String,
        size: u64,
        /// The sample store already had this content.
        duplicate: bool,
        /// The address the bytes came from (`ip:port`).
        remote: String,
        /// When the downloader followed a script on its own: the script's
        /// SHA-256 (the URL was found in it, not typed by the attacker).
        parent: Option<String>,
    },

    /// A download could not be fetched (or was refused by the guard).
    #[serde(rename = "iotpot.download.failed")]
    #[strum(serialize = "iotpot.download.failed")]
    DownloadFailed { url: String, reason: String },

    /// A new sample was triaged.
    #[serde(rename = "iotpot.sample.triaged")]
    #[strum(serialize = "iotpot.sample.triaged")]
    SampleTriaged {
        shasum: String,
        size: u64,
        /// `elf`, `script` or `data`.
        kind: String,
        /// `arm`, `arm7`, `mips`, `mipsel`, `ppc`, `sh4`, `x86`... for ELF.
        arch: Option<String>,
        /// Families from the YARA rules (`mirai`, `gafgyt`...).
        tags: Vec<String>,
        /// Where it came from: a URL, or `echo:<path>` for files built in
        /// the session.
        source: String,
        /// Everything triage learned (bits, endianness, linking, UPX,
        /// indicators), as an object.
        triage: serde_json::Value,
    },

    /// A file the attacker built or changed in the virtual filesystem
    /// (`echo -ne` droppers, `>` redirections). Emitted once the file is done:
    /// when it is executed, made executable, moved, or the session ends.
    #[serde(rename = "iotpot.file.written")]
    #[strum(serialize = "iotpot.file.written")]
    FileWritten {
        outfile: String,
        shasum: String,
        size: u64,
        /// `elf`, `script` or `data`, from the first bytes.
        kind: String,
        /// Hex of the whole file when it is at most 64 KiB; larger files are
        /// kept only by the sample store of a later release.
        content: Option<String>,
    },

    /// A command the emulation does not implement, answered by the backend:
    /// a sandbox of the profile's architecture (`iotbox`), the table of
    /// answers learned from sandboxes (`learned`), or nobody (`unavailable`:
    /// no image, pool exhausted, sandbox failure; the emulation answered).
    #[serde(rename = "iotpot.iotbox.answer")]
    #[strum(serialize = "iotpot.iotbox.answer")]
    IotboxAnswer {
        /// The profile whose device answered (the learned table's key).
        profile: String,
        command: String,
        /// SHA-256 of what the command read on stdin, if anything.
        stdin_sha256: Option<String>,
        source: String,
        arch: String,
        status: i64,
        /// Hex of the answer (at most 64 KiB).
        output: String,
        /// Learned now: the next identical command is answered from the
        /// table.
        learned: bool,
        /// Answered differently when asked again or by a clean sandbox:
        /// never replayed.
        volatile: bool,
        /// Milliseconds to the answer.
        elapsed_ms: f64,
        /// The sandbox that ran it (`mipsel/vm3`: a reset shows as a new
        /// one); none for a learned or unavailable answer.
        sandbox: Option<String>,
        /// Why no sandbox answered (`unavailable`): no image, a template or
        /// sandbox QEMU could not start (in QEMU's words), max_vms reached.
        reason: Option<String>,
    },

    /// A sample ran in an IoTBOX sandbox (`iotpot box analyze`; protocol
    /// `iotbox`, addresses unspecified): what it tried on the network.
    #[serde(rename = "iotpot.analysis.report")]
    #[strum(serialize = "iotpot.analysis.report")]
    AnalysisReport {
        shasum: String,
        arch: String,
        seconds: f64,
        /// Names looked up -> count.
        dns: std::collections::BTreeMap<String, u64>,
        /// `ip:port` of TCP connection attempts -> count.
        tcp: std::collections::BTreeMap<String, u64>,
        /// `ip:port` of UDP destinations -> count.
        udp: std::collections::BTreeMap<String, u64>,
        /// Destination port -> distinct addresses.
        ports: std::collections::BTreeMap<u16, u64>,
        /// Distinct destinations per /24 and per /16.
        per_24: std::collections::BTreeMap<String, u64>,
        per_16: std::collections::BTreeMap<String, u64>,
        packets: u64,
        packets_per_second: f64,
        /// Names resolved through the sinkhole -> the address each got.
        resolved: std::collections::BTreeMap<String, String>,
        /// TCP connections the sinkhole accepted.
        contacts: Vec<Contact>,
        /// The capture of everything the sandbox sent and received.
        pcap: String,
    },

    /// A captured IPv4/UDP packet to the honeypot whose IP total length or
    /// UDP length disagrees with its real length (protocol `udp`): the mark
    /// of the scanners of infected devices the IoTPOT paper found.
    #[serde(rename = "iotpot.packet.anomaly")]
    #[strum(serialize = "iotpot.packet.anomaly")]
    PacketAnomaly {
        /// `ip_total_length` and/or `udp_length`.
        anomalies: Vec<String>,
        /// Bytes of the IP packet as received.
        real_length: u64,
        ip_total_length: u64,
        udp_length: u64,
        /// Hex of the first 64 bytes of the UDP payload.
        payload: String,
    },

    /// One HTTP request to a device web service (protocol `http`).
    #[serde(rename = "iotpot.http.request")]
    #[strum(serialize = "iotpot.http.request")]
    HttpRequest {
        method: String,
        /// The path, without the query.
        path: String,
        query: String,
        /// `HTTP/1.0` or `HTTP/1.1`.
        version: String,
        /// Header names and values, in the order and spelling sent.
        headers: Vec<(String, String)>,
        user_agent: Option<String>,
        /// HTTP Basic credentials, if the request had some.
        username: Option<String>,
        password: Option<String>,
        /// Body: size announced, SHA-256 and hex of the first 256 bytes of
        /// what was read (at most 64 KiB are read).
        body_length: u64,
        body_sha256: Option<String>,
        body: Option<String>,
        /// The status the device answered.
        status: u16,
    },

    /// A request reached one of the profile's exploit traps (a known hole
    /// of the device's web server). Its command then runs in the device's
    /// shell: the usual command, download and sample events follow.
    #[serde(rename = "iotpot.exploit.hit")]
    #[strum(serialize = "iotpot.exploit.hit")]
    ExploitHit {
        /// The trap's id in the profile (`jaws-shell`).
        trap: String,
        /// The CVEs the trap answers (empty for holes without one).
        cves: Vec<String>,
        /// The profile whose trap it is.
        profile: String,
        /// The injected value as decoded from its transport (at most 4 KiB);
        /// for a trap that only reads (a path traversal), the file read.
        raw: String,
        /// The command as a shell reads it, one command per line.
        command: String,
    },

    /// A web request that carries a shell command with a download (an
    /// exploit's dropper) in its path, query, form, body or a header; its
    /// URLs go to the downloader. One event per part that carries one.
    #[serde(rename = "iotpot.http.suspicious")]
    #[strum(serialize = "iotpot.http.suspicious")]
    HttpSuspicious {
        /// `path`, `query`, `query:NAME`, `form:NAME`, `header:NAME`, `body`.
        location: String,
        /// The part as decoded from its transport (at most 4 KiB).
        raw: String,
        /// Its command lines as a shell would run them (`${IFS}`,
        /// backticks and `$(...)` undone), one per line.
        command: String,
        /// What the commands would fetch, as the device's shell reads them.
        urls: Vec<String>,
    },

    /// Bytes on an HTTP port that are not a request head (TLS, binary
    /// probes, broken lines, heads over 16 KiB).
    #[serde(rename = "iotpot.http.malformed")]
    #[strum(serialize = "iotpot.http.malformed")]
    HttpMalformed {
        reason: String,
        /// Hex of the first 256 bytes.
        payload: String,
        /// The status answered (0: the connection was closed).
        status: u16,
    },

    /// A camera's live video started (an MJPEG stream request was answered).
    #[serde(rename = "iotpot.video.started")]
    #[strum(serialize = "iotpot.video.started")]
    VideoStarted { path: String },

    /// A viewer stopped watching: how long, how many frames.
    #[serde(rename = "iotpot.video.stopped")]
    #[strum(serialize = "iotpot.video.stopped")]
    VideoStopped {
        path: String,
        /// Seconds from the first to the last frame sent.
        duration: f64,
        frames: u64,
        bytes: u64,
    },

    /// Bait credentials were used: leaked by a DVR's config file
    /// (`source` `dvr.cfg`) or shown in a camera's video (`source` `video`:
    /// a human was watching). Links back to the session that received them.
    #[serde(rename = "iotpot.honeytoken.used")]
    #[strum(serialize = "iotpot.honeytoken.used")]
    HoneytokenUsed {
        /// Which bait: `dvr`, `pppoe`, `ftp`, `mail`, `video`.
        token: String,
        /// Where it was shown: `dvr.cfg` or `video`.
        source: String,
        /// How it was used: `http-basic`, `telnet-login`, `netis`, `command`.
        via: String,
        username: String,
        password: String,
        /// True for the credentials shown in a camera's picture.
        human_watching: bool,
        /// The session that received the bait (from this source address if
        /// it did, else the latest one), if it is still remembered.
        leaked_session: Option<String>,
        leaked_src: Option<String>,
        leaked_at: Option<String>,
    },

    /// One port of a host that attacked, scanned back by the profiler: what
    /// it answered. `src_ip` and `src_port` are the host and port scanned.
    #[serde(rename = "iotpot.profiler.grab")]
    #[strum(serialize = "iotpot.profiler.grab")]
    ProfilerGrab {
        #[serde(flatten)]
        grab: crate::profiler::Grab,
    },

    /// What the profiler concluded about a host from all its ports' grabs.
    #[serde(rename = "iotpot.profiler.verdict")]
    #[strum(serialize = "iotpot.profiler.verdict")]
    ProfilerVerdict {
        #[serde(flatten)]
        verdict: crate::profiler::Verdict,
    },

    /// The attacker ran a file (`./x`, `sh x`): never executed, only recorded.
    #[serde(rename = "iotpot.file.executed")]
    #[strum(serialize = "iotpot.file.executed")]
    FileExecuted {
        outfile: String,
        shasum: Option<String>,
        args: String,
    },
}

impl EventKind {
    /// The `eventid` string.
    pub fn eventid(&self) -> &'static str {
        self.into()
    }
}

impl Event {
    /// One line of a sensor's spool: an event with its `spool_id` (at most
    /// 64 characters), or why not.
    pub fn from_spool_line(line: &str) -> Result<Event, String> {
        let e: Event = serde_json::from_str(line).map_err(|e| e.to_string())?;
        match &e.spool_id {
            Some(id) if !id.is_empty() && id.len() <= 64 => Ok(e),
            _ => Err("no spool id".into()),
        }
    }

    /// JSON as written to `events.jsonl`: one object, no newline; the
    /// same text as `serde_json::to_string(self)` (a test checks).
    ///
    /// Written by hand around the kind's own JSON, into one buffer sized
    /// for a typical event: the writer thread serializes every event, and
    /// serde's flattening (a map serializer for the whole object) with a
    /// buffer grown from empty was about a quarter of its instructions per
    /// event under `bench telnet` (docs/performance.md).
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(384);
        out.extend_from_slice(b"{\"timestamp\":\"");
        out.extend_from_slice(&timestamp::ascii(&self.timestamp));
        out.extend_from_slice(b"\",\"session\":");
        json_str(&mut out, &self.session);
        out.extend_from_slice(b",\"src_ip\":\"");
        out.extend_from_slice(ip_text::format(&self.src_ip).as_bytes());
        out.extend_from_slice(b"\",\"src_port\":");
        push_port(&mut out, self.src_port);
        out.extend_from_slice(b",\"dst_ip\":\"");
        out.extend_from_slice(ip_text::format(&self.dst_ip).as_bytes());
        out.extend_from_slice(b"\",\"dst_port\":");
        push_port(&mut out, self.dst_port);
        out.extend_from_slice(b",\"sensor\":");
        json_str(&mut out, &self.sensor);
        out.extend_from_slice(b",\"protocol\":");
        json_str(&mut out, &self.protocol);
        if let Some(id) = &self.spool_id {
            out.extend_from_slice(b",\"spool_id\":");
            json_str(&mut out, id);
        }
        // The kind is an object of its own (`{"eventid":...}`, internally
        // tagged): its opening brace becomes the comma after the common
        // fields, and its closing brace closes the event.
        let at = out.len();
        // Serializing a kind cannot fail: no maps with non-string keys, no
        // floats other than finite durations.
        match serde_json::to_writer(&mut out, &self.kind) {
            Ok(()) if out.get(at) == Some(&b'{') => out[at] = b',',
            _ => {
                out.truncate(at);
                out.extend_from_slice(b",\"eventid\":\"iotpot.internal.error\"}");
            }
        }
        // Only whole UTF-8 strings and ASCII went in.
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// A port's digits.
fn push_port(out: &mut Vec<u8>, mut port: u16) {
    let mut b = [0u8; 5];
    let mut i = b.len();
    loop {
        i -= 1;
        b[i] = b'0' + (port % 10) as u8;
        port /= 10;
        if port == 0 {
            break;
        }
    }
    out.extend_from_slice(&b[i..]);
}

/// A JSON string, escaped as serde_json escapes it (controls, `"` and `\`;
/// everything else as it is), with no work for a string that needs none.
fn json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Where and from whom a session came. Carried by every event of it.
/// One TCP connection a sample opened in an analysis sandbox, accepted by
/// the sinkhole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contact {
    /// `ip:port` the sample connected to.
    pub dst: String,
    /// The name it resolved to that address through the sinkhole, if any.
    pub name: Option<String>,
    /// Bytes it sent in all, and the first of them (at most 1 KiB, hex).
    pub sent: u64,
    pub first_bytes: String,
    /// An HTTP request's URL, and what answered it: the served sample's
    /// SHA-256, or `404`.
    pub http: Option<String>,
    pub served: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub session: String,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub sensor: std::sync::Arc<str>,
    pub protocol: &'static str,
}

impl SessionInfo {
    pub fn new(
        src: SocketAddr,
        dst: SocketAddr,
        sensor: std::sync::Arc<str>,
        protocol: &'static str,
    ) -> Self {
        SessionInfo {
            session: new_session_id(),
            src,
            dst,
            sensor,
            protocol,
        }
    }

    pub fn event(&self, kind: EventKind) -> Event {
        Event {
            timestamp: OffsetDateTime::now_utc(),
            session: self.session.clone(),
            src_ip: self.src.ip(),
            src_port: self.src.port(),
            dst_ip: self.dst.ip(),
            dst_port: self.dst.port(),
            sensor: self.sensor.to_string(),
            protocol: self.protocol.to_string(),
            spool_id: None,
            kind,
        }
    }
}

/// A fresh session id: 12 lowercase hex digits, like cowrie's.
///
/// Consecutive from a random start (per process): unique within a run,
/// and between runs and sensors unless two random starts fall within a few
/// million of each other (about one chance in 10^7 for two runs). In order,
/// they go at the end of the database's session indexes instead of all over
/// them, which saves the store most of the pages it writes per commit.
pub fn new_session_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static START: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let start = *START.get_or_init(|| fastrand::u64(..));
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:012x}", start.wrapping_add(n) & 0xffff_ffff_ffff)
}

impl Default for SessionInfo {
    fn default() -> Self {
        let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
        SessionInfo::new(a, a, "iotpot".into(), "telnet")
    }
}

/// An address as text, IPv4 without `core::fmt` (every event carries two:
/// this is on the store writer's hot path).
pub mod ip_text {
    use serde::Serializer;
    use std::net::IpAddr;

    pub fn format(ip: &IpAddr) -> String {
        let IpAddr::V4(v4) = ip else {
            return ip.to_string();
        };
        let mut out = String::with_capacity(15);
        for (i, o) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            if o >= 100 {
                out.push((b'0' + o / 100) as char);
            }
            if o >= 10 {
                out.push((b'0' + o / 10 % 10) as char);
            }
            out.push((b'0' + o % 10) as char);
        }
        out
    }

    pub fn serialize<S: Serializer>(ip: &IpAddr, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(ip))
    }
}

/// cowrie's timestamp format: RFC 3339 UTC with microseconds and `Z`.
pub mod timestamp {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    pub fn format(t: &OffsetDateTime) -> String {
        std::str::from_utf8(&ascii(t)).map_or_else(|_| String::new(), str::to_owned)
    }

    /// The same, as the ASCII bytes it is.
    pub fn ascii(t: &OffsetDateTime) -> [u8; 27] {
        // Digits written by hand: this runs twice for every event (JSONL
        // and SQLite), and `format!` with padding cost ~20 times as much.
        let t = t.to_offset(time::UtcOffset::UTC);
        let mut b = *b"0000-00-00T00:00:00.000000Z";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, t.year().clamp(0, 9999) as u32);
        put(5, 2, t.month() as u32);
        put(8, 2, t.day() as u32);
        put(11, 2, t.hour() as u32);
        put(14, 2, t.minute() as u32);
        put(17, 2, t.second() as u32);
        put(20, 6, t.microsecond());
        b
    }

    pub fn parse(s: &str) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(s, &Rfc3339).ok()
    }

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad timestamp {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn session_ids_are_cowrie_shaped_unique_and_consecutive() {
        let ids: Vec<String> = (0..1000).map(|_| new_session_id()).collect();
        for id in &ids {
            assert_eq!(id.len(), 12, "{id}");
            assert!(
                id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
                "{id}"
            );
        }
        let n: Vec<u64> = ids
            .iter()
            .map(|i| u64::from_str_radix(i, 16).unwrap())
            .collect();
        for w in n.windows(2) {
            // In order (mod 2^48; other tests of this process may take ids
            // in between): appended to the indexes, never equal.
            let step = w[1].wrapping_sub(w[0]) & 0xffff_ffff_ffff;
            assert!((1..1_000_000).contains(&step), "{w:?}");
        }
    }

    #[test]
    fn json_is_flat_and_cowrie_shaped() {
        let info = SessionInfo::new(
            "203.0.113.9:40000".parse().unwrap(),
            "192.0.2.1:23".parse().unwrap(),
            "s1".into(),
            "telnet",
        );
        let ev = info.event(EventKind::LoginSuccess {
            username: "root".into(),
            password: "xc3511".into(),
        });
        let v: serde_json::Value = serde_json::from_str(&ev.to_json()).unwrap();
        assert_eq!(v["eventid"], "iotpot.login.success");
        assert_eq!(v["src_ip"], "203.0.113.9");
        assert_eq!(v["dst_port"], 23);
        assert_eq!(v["username"], "root");
        assert_eq!(v["session"].as_str().unwrap().len(), 12);
        let ts = v["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.len() == 27, "{ts}");
        let back: Event = serde_json::from_str(&ev.to_json()).unwrap();
        assert_eq!(back.kind, ev.kind);
    }

    #[test]
    fn hand_written_json_is_serdes_to_the_byte() {
        // Every kind (strum's defaults), with and without a spool id, on
        // IPv4 and IPv6, with strings that need escaping and some that do
        // not; and a kind with its own strings escaped.
        let mut events = Vec::new();
        for (src, sensor) in [
            ("203.0.113.9:40000", "s1"),
            ("[2001:db8::7]:5", "quo\"te\\back\u{1}\tñ€\u{7f}"),
        ] {
            let info = SessionInfo::new(
                src.parse().unwrap(),
                "192.0.2.1:65535".parse().unwrap(),
                sensor.into(),
                "telnet",
            );
            for kind in EventKind::iter() {
                let mut e = info.event(kind);
                events.push(e.clone());
                e.spool_id = Some("id\"1".into());
                events.push(e);
            }
            events.push(info.event(EventKind::CommandInput {
                input: "echo \"\u{0}\r\n\\x41\"".into(),
                known: true,
                output: "ünïcode\u{1b}[0m\n".into(),
                output_size: 12,
            }));
            events.push(info.event(EventKind::SessionClosed {
                duration: 0.000689816,
                reason: "client".into(),
                bytes_in: 0,
                bytes_out: u64::MAX,
            }));
        }
        for e in &events {
            assert_eq!(e.to_json(), serde_json::to_string(e).unwrap());
        }
    }

    #[test]
    fn addresses_as_text() {
        for ip in [
            "0.0.0.0",
            "9.10.99.100",
            "255.255.255.255",
            "203.0.113.7",
            "::1",
            "2001:db8::7",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text::format(&parsed), ip);
        }
    }

    #[test]
    fn timestamps_are_cowrie_shaped_and_round_trip() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(timestamp::format(&t), "2023-11-14T22:13:20.123456Z");
        let back = timestamp::parse(&timestamp::format(&t)).unwrap();
        assert_eq!(back.unix_timestamp(), t.unix_timestamp());
    }

    #[test]
    fn every_event_has_a_namespaced_id() {
        for kind in EventKind::iter() {
            assert!(kind.eventid().starts_with("iotpot."), "{}", kind.eventid());
        }
    }
}
