//! The configuration file (`iotpot.toml`) and its defaults.
//!
//! Without a file, [`Config::default`] applies: Telnet on 2323 and 23, data in
//! `./iotpot-data`. `iotpot config default` prints [`DEFAULT_TOML`], the same
//! defaults with every key commented; a test keeps the two equal.
//!
//! Key names are an interface (scripts and later releases rely on them):
//! `data_dir`, `[[listen]]` with `service`, `address`, `profile`.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Name of this sensor in every event (empty: the machine's hostname);
    /// or, on a central, its `[[sensor]]` tables (TOML has one key
    /// `sensor`: a central with sensors is named by its hostname).
    pub sensor: SensorKey,
    pub listen: Vec<Listen>,
    pub limits: Limits,
    pub store: StoreConfig,
    pub downloader: DownloaderConfig,
    pub capture: CaptureConfig,
    pub iotbox: IotboxConfig,
    pub profiler: ProfilerConfig,
    pub log: LogConfig,
}

/// IoTBOX, the QEMU sandboxes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IotboxConfig {
    /// Use the sandboxes when images are built (off: the emulation alone).
    pub enabled: bool,
    /// Where `iotpot box build` puts the images; empty: `data_dir/images`.
    pub images: String,
    /// Sandboxes running at once, in all (spares included).
    pub max_vms: usize,
    /// Restored sandboxes kept ready per architecture.
    pub spares: usize,
    /// A session's sandbox is reset after this many commands...
    pub max_commands: u32,
    /// ... or this many minutes (a fraction is allowed: 0.5).
    pub max_minutes: f64,
    /// Seconds a command may run in a sandbox.
    pub command_timeout: u64,
    /// New answers one session may have learned (each costs a clean
    /// sandbox to check); past it, its unknown commands are relayed only.
    pub max_learn: u32,
    /// Applets never forwarded (they reveal the sandbox, stop it, or never
    /// end); the emulation answers them.
    pub never: Vec<String>,
}

impl Default for IotboxConfig {
    fn default() -> Self {
        IotboxConfig {
            enabled: true,
            images: String::new(),
            max_vms: 4,
            spares: 1,
            max_commands: 50,
            max_minutes: 10.0,
            command_timeout: 5,
            max_learn: 10,
            never: [
                "dmesg", "reboot", "halt", "poweroff", "init", "top", "vi", "yes", "telnetd",
                "getty", "login", "crond", "syslogd", "klogd", "udhcpc", "passwd",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }
    }
}

/// Packet capture of the honeypot's own ports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// Capture to `data_dir/pcap/` (needs CAP_NET_RAW; without it iotpot
    /// warns and runs on).
    pub enabled: bool,
    /// One interface by name; empty: every interface.
    pub interface: String,
    /// A new file when the current one reaches this many bytes...
    pub max_file_bytes: u64,
    /// ... or is this many seconds old.
    pub rotate_seconds: u64,
    /// Files kept; the oldest are deleted.
    pub keep_files: usize,
    /// `iotpot.packet.anomaly` events per second at most (the rest are
    /// counted in the log).
    pub max_events_per_second: u32,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            enabled: true,
            interface: String::new(),
            max_file_bytes: 100 << 20,
            rotate_seconds: 3600,
            keep_files: 48,
            max_events_per_second: 100,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Telnet,
    Http,
    Netis,
    /// The central's QUIC endpoint for its sensors (UDP).
    Sensors,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Telnet => "telnet",
            Service::Http => "http",
            Service::Netis => "netis",
            Service::Sensors => "sensors",
        }
    }

    /// A face of a device (not the sensors' link).
    pub fn is_device(self) -> bool {
        self != Service::Sensors
    }
}

/// The top-level `sensor` key: this node's name, or a central's sensors.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SensorKey {
    Name(String),
    Sensors(Vec<SensorSpec>),
}

/// A string or `[[sensor]]` tables, with the tables' own errors (an
/// untagged enum would only say that neither matched).
impl<'de> Deserialize<'de> for SensorKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => Ok(SensorKey::Name(s)),
            v @ toml::Value::Array(_) => Vec::<SensorSpec>::deserialize(v)
                .map(SensorKey::Sensors)
                .map_err(|e| D::Error::custom(format!("[[sensor]]: {}", e.message()))),
            _ => Err(D::Error::custom(
                "sensor: a name (sensor = \"...\") or [[sensor]] tables",
            )),
        }
    }
}

impl Default for SensorKey {
    fn default() -> Self {
        SensorKey::Name(String::new())
    }
}

/// One sensor of a central: its name (its certificate's, from `iotpot pki
/// sensor NAME`) and the listeners the central gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorSpec {
    pub name: String,
    #[serde(default)]
    pub listen: Vec<Listen>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    pub service: Service,
    /// `IP:PORT`.
    pub address: SocketAddr,
    /// A built-in profile name or a path to a profile TOML file. Unset: the
    /// service's default (for telnet, one built-in profile chosen once per
    /// deployment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Connections start with a PROXY protocol header (v1 or v2, as HAProxy,
    /// go-mmproxy or a load balancer sends it): the session's addresses are
    /// the header's. TCP listeners only; a connection without a valid header
    /// is closed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub proxy_protocol: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_sessions: usize,
    pub max_sessions_per_ip: usize,
    /// Seconds to log in before the device hangs up.
    pub login_timeout: u64,
    /// Seconds without input before the device hangs up.
    pub idle_timeout: u64,
    /// Seconds a session may last at most.
    pub session_timeout: u64,
    /// Longest input line kept, in bytes.
    pub max_line: usize,
    /// Bytes a session may send in all.
    pub max_input_bytes: u64,
    /// Bytes of files a session may create in its virtual filesystem.
    pub max_vfs_bytes: usize,
    /// UDP datagrams (the 53413 backdoor) answered per second from one
    /// source address (bursts of twice that); the rest are dropped.
    pub datagrams_per_ip_per_second: u32,
    /// ... and from all sources together.
    pub datagrams_per_second: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Write `events.jsonl` in `data_dir`.
    pub jsonl: bool,
    /// Write `iotpot.db` (SQLite, WAL) in `data_dir`.
    pub sqlite: bool,
    /// Also write to this PostgreSQL database (a libpq connection string or
    /// `postgresql://` URL); empty: no PostgreSQL. `iotpot report` and
    /// `iotpot dashboard` read it when it is set.
    pub postgres: String,
    /// Events queued for the writer before sessions wait for it.
    pub queue: usize,
    /// Most events written in one transaction.
    pub batch: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DownloaderConfig {
    /// Fetch what attackers download (off: tools answer as if offline).
    pub enabled: bool,
    /// CIDRs the downloader may reach although they are loopback, private,
    /// link-local... (labs and tests: `["127.0.0.0/8"]`).
    pub allow: Vec<String>,
    /// CIDRs it must never reach (wins over `allow`).
    pub deny: Vec<String>,
    /// Largest file fetched, in bytes.
    pub max_bytes: u64,
    /// Seconds one fetch may take.
    pub timeout: u64,
    pub max_redirects: u32,
    /// Fetches one session may cause.
    pub max_per_session: u32,
    /// Fetches running at once, in all.
    pub max_concurrent: usize,
    /// Fetches from one remote host per minute, in all sessions.
    pub per_host_per_minute: u32,
    /// A directory of YARA rules (`*.yar`) used with the built-in ones to tag
    /// samples with their family. Empty: the built-in rules only.
    pub rules: String,
}

impl Default for DownloaderConfig {
    fn default() -> Self {
        DownloaderConfig {
            enabled: true,
            allow: Vec::new(),
            deny: Vec::new(),
            max_bytes: 16 << 20,
            timeout: 60,
            max_redirects: 5,
            max_per_session: 64,
            max_concurrent: 16,
            per_host_per_minute: 60,
            rules: String::new(),
        }
    }
}

/// The profiler: scanning back the addresses that attacked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfilerConfig {
    pub enabled: bool,
    /// Ports tried on each host (one connection each).
    pub ports: Vec<u16>,
    /// New hosts started per minute.
    pub hosts_per_minute: u32,
    /// Connections open at once, all hosts together.
    pub concurrency: usize,
    /// A host is scanned at most once per this many hours.
    pub revisit_hours: u64,
    /// Seconds to connect.
    pub connect_timeout: u64,
    /// Seconds one grab may take in all (reading included).
    pub read_timeout: u64,
    /// Bytes read from one port at most.
    pub max_bytes: usize,
    /// CIDRs never contacted (loopback, private, link-local, multicast and
    /// reserved ranges never are...)
    pub exclude: Vec<String>,
    /// ... unless listed here (a lab, a test network).
    pub allow: Vec<String>,
    /// The `User-Agent` of HTTP grabs.
    pub user_agent: String,
    /// A directory of Recog XML files used with the built-in ones.
    pub fingerprints: String,
}

/// A common browser's, so a device answers as it answers people.
pub const BROWSER_USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

impl Default for ProfilerConfig {
    fn default() -> Self {
        ProfilerConfig {
            enabled: false,
            ports: vec![21, 22, 23, 80, 443, 554, 7547, 8080],
            hosts_per_minute: 60,
            concurrency: 32,
            revisit_hours: 24,
            connect_timeout: 5,
            read_timeout: 10,
            max_bytes: 256 << 10,
            exclude: Vec::new(),
            allow: Vec::new(),
            user_agent: BROWSER_USER_AGENT.to_string(),
            fingerprints: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug` or `trace`, or a tracing filter
    /// (`iotpot_frontend=debug`). The `RUST_LOG` variable overrides it.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./iotpot-data"),
            sensor: SensorKey::default(),
            listen: vec![
                Listen {
                    service: Service::Telnet,
                    address: "0.0.0.0:2323".parse().expect("literal address"),
                    profile: None,
                    proxy_protocol: false,
                },
                Listen {
                    service: Service::Telnet,
                    address: "0.0.0.0:23".parse().expect("literal address"),
                    profile: None,
                    proxy_protocol: false,
                },
                Listen {
                    service: Service::Http,
                    address: "0.0.0.0:8080".parse().expect("literal address"),
                    profile: None,
                    proxy_protocol: false,
                },
            ],
            limits: Limits::default(),
            store: StoreConfig::default(),
            downloader: DownloaderConfig::default(),
            capture: CaptureConfig::default(),
            iotbox: IotboxConfig::default(),
            profiler: ProfilerConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 20_000,
            max_sessions_per_ip: 32,
            login_timeout: 60,
            idle_timeout: 300,
            session_timeout: 3600,
            max_line: 8192,
            max_input_bytes: 8 << 20,
            max_vfs_bytes: 16 << 20,
            datagrams_per_ip_per_second: 20,
            datagrams_per_second: 2000,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            jsonl: true,
            sqlite: true,
            postgres: String::new(),
            queue: 65_536,
            batch: 4096,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// The default configuration, every key commented. `iotpot config default`.
pub const DEFAULT_TOML: &str = r#"# iotpot configuration. Every key is optional: what is left out keeps the
# value shown here. Run `iotpot run --config this-file.toml`.

# Where iotpot keeps its data: iotpot.db (SQLite, WAL), events.jsonl,
# deployment.toml (this deployment's random seed; keep it).
data_dir = "./iotpot-data"

# Name of this sensor in every event. Empty: the machine's hostname.
sensor = ""

# One [[listen]] table per listener.
#   service: "telnet"; "http" (a device web server: profiles dvr,
#            camera-basic, camera-open, router-web); or "netis" (the
#            Netis/Netcore router backdoor, UDP; its usual port is 53413;
#            profile router-netis)
#   address: "IP:PORT". Ports below 1024 need CAP_NET_BIND_SERVICE (see the
#            README); when that is missing iotpot warns and runs on the others.
#   profile: a built-in profile (`iotpot profiles list`) or a path to a
#            profile TOML file. Unset: the device of its address.
#   proxy_protocol: true when a proxy (HAProxy send-proxy / send-proxy-v2,
#            go-mmproxy, a load balancer) forwards to this listener and sends
#            the PROXY protocol header first: events get the client's
#            address. TCP listeners only. Default false.
# One address, one device: the listeners of one address (0.0.0.0 is every
# address) are faces of one device. Those that name no profile take the
# device another listener of the address names, or one chosen once per
# deployment among the built-ins with those faces, and kept; a listener
# whose service that device lacks is not opened (a DVR has no 53413
# backdoor). `iotpot config check` warns about an address given two devices.
# For the Netis/Netcore backdoor, give a Netis router its own address:
#   [[listen]]
#   service = "netis"
#   address = "192.0.2.10:53413"    # a second address of this host
#   profile = "router-netis"
# A central with sensors (see the README, "Sensors"): where sensors connect
# (QUIC, UDP; keys from `iotpot pki init`), and each sensor's listeners,
# which the central serves and the sensor opens on its own addresses:
#   [[listen]]
#   service = "sensors"
#   address = "0.0.0.0:4433"
#   [[sensor]]                       # replaces `sensor = "..."` above: a
#   name = "tokyo-1"                 # central is named by its hostname
#   [[sensor.listen]]
#   service = "telnet"               # telnet, http or netis
#   address = "0.0.0.0:23"           # on the sensor
#   profile = "dvr-xiongmai"
[[listen]]
service = "telnet"
address = "0.0.0.0:2323"

[[listen]]
service = "telnet"
address = "0.0.0.0:23"

[[listen]]
service = "http"
address = "0.0.0.0:8080"

[limits]
# Concurrent sessions, in all and from one source address. Connections over
# either limit are closed at once (and counted in iotpot.session.rejected).
max_sessions = 20000
max_sessions_per_ip = 32
# Seconds to log in, seconds without input, seconds a session may last.
login_timeout = 60
idle_timeout = 300
session_timeout = 3600
# Longest input line kept (bytes); the rest of the line is dropped.
max_line = 8192
# Bytes one session may send in all before it is closed.
max_input_bytes = 8388608
# Bytes of files one session may create in its virtual filesystem.
max_vfs_bytes = 16777216
# UDP datagrams (53413/udp) handled per second from one source address and
# from all together (bursts of twice that); the rest are dropped unanswered
# (and counted in the log), so spoofed floods cannot use the honeypot.
datagrams_per_ip_per_second = 20
datagrams_per_second = 2000

[store]
# Write events.jsonl (cowrie-compatible JSON lines) in data_dir.
jsonl = true
# Write iotpot.db (SQLite) in data_dir: what `iotpot events` and
# `iotpot sessions` read.
sqlite = true
# Also write every event to PostgreSQL (a fleet's central store), e.g.
# "host=db.example user=iotpot dbname=iotpot" or
# "postgresql://iotpot@db.example/iotpot". The tables are created on first
# use. When set, `iotpot report` and `iotpot dashboard` read PostgreSQL
# instead of iotpot.db.
postgres = ""
# Events queued for the writer; when it is full, sessions wait (no event is
# ever dropped).
queue = 65536
# Most events written in one transaction.
batch = 4096

[downloader]
# Fetch what attackers download (wget, curl, tftp, ftpget) into
# data_dir/samples/<sha256> (mode 0400, never executable). Off: the tools
# answer as if the device were offline.
enabled = true
# Loopback, private (RFC 1918, RFC 6598), link-local, multicast, broadcast,
# unspecified, IPv4-mapped IPv6 and NAT64 of those are never fetched, in any
# spelling, after redirects too, unless listed here (for labs and tests):
allow = []
# Never fetched, even if in `allow`:
deny = []
# Largest file (bytes), seconds per fetch, redirects followed.
max_bytes = 16777216
timeout = 60
max_redirects = 5
# Fetches one session may cause, fetches running at once in all, and
# fetches from one remote host per minute.
max_per_session = 64
max_concurrent = 16
per_host_per_minute = 60
# A directory of your own YARA rules (*.yar), used with the built-in ones
# (Mirai, Gafgyt, Moose, Tsunami, Hajime, Wifatch, dropper scripts) to tag samples.
rules = ""

[capture]
# Record the traffic of the honeypot's own ports to rotating pcap files in
# data_dir/pcap/ (Linux "cooked" captures: tcpdump, Wireshark and
# `iotpot pcap check` read them), and raise an iotpot.packet.anomaly event
# for each IPv4/UDP packet whose length fields lie. Needs CAP_NET_RAW (root,
# or `setcap cap_net_raw+ep`); without it iotpot warns and runs on.
enabled = true
# One interface ("eth0"); empty: every interface.
interface = ""
# A new file when the current one reaches max_file_bytes or rotate_seconds;
# only the newest keep_files files are kept.
max_file_bytes = 104857600
rotate_seconds = 3600
keep_files = 48
# Anomaly events per second at most (the rest are counted in the log).
max_events_per_second = 100

[iotbox]
# The QEMU sandboxes (`iotpot box build` makes their images). When images
# are built, BusyBox applets the emulation does not implement are run in a
# sandbox of the profile's architecture and the answer relayed and learned.
enabled = true
# Where the images are; empty: data_dir/images.
images = ""
# Sandboxes running at once in all, and restored spares kept per architecture.
max_vms = 4
spares = 1
# A session's sandbox is reset after max_commands commands or max_minutes
# (fractions allowed).
max_commands = 50
max_minutes = 10
# Seconds one command may run in a sandbox.
command_timeout = 5
# New answers one session may have learned (each is checked in a clean
# sandbox: 0.3-0.6 s of a core); past that its unknown commands are relayed.
max_learn = 10
# Never forwarded (they would reveal the sandbox, stop it, or never end).
never = ["dmesg", "reboot", "halt", "poweroff", "init", "top", "vi", "yes", "telnetd", "getty", "login", "crond", "syslogd", "klogd", "udhcpc", "passwd"]

[profiler]
# Scan back the addresses that attacked (a Telnet login attempt, a 53413
# datagram, an HTTP request to a device), once per revisit_hours: one
# connection per port, one benign request per protocol (banners, web pages,
# certificates), never a credential; the grabs are matched against Recog
# fingerprints (`iotpot devices` shows what the attackers are).
enabled = false
ports = [21, 22, 23, 80, 443, 554, 7547, 8080]
# New hosts started per minute, and connections open at once in all.
hosts_per_minute = 60
concurrency = 32
# A host is scanned at most once per this many hours.
revisit_hours = 24
# Seconds to connect, seconds one grab may take, bytes read per port.
connect_timeout = 5
read_timeout = 10
max_bytes = 262144
# CIDRs never contacted. Loopback, private, link-local, multicast, reserved
# and the honeypot's own addresses never are, unless listed in allow (labs).
exclude = []
allow = []
# The User-Agent of HTTP grabs (a common browser's).
user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
# A directory of Recog XML files of your own, used with the built-in ones.
fingerprints = ""

[log]
# error, warn, info, debug, trace, or a tracing filter. RUST_LOG overrides it.
level = "info"
"#;

/// Longest timeout accepted, in seconds.
pub const MAX_TIMEOUT: u64 = 365 * 86_400;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// The file's configuration, or the defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml(&text).map_err(|message| ConfigError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn from_toml(text: &str) -> Result<Config, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), String> {
        let c = &self.capture;
        if c.max_file_bytes < 4096 || c.rotate_seconds == 0 || c.keep_files == 0 {
            return Err(
                "capture: max_file_bytes must be at least 4096, rotate_seconds and keep_files at least 1"
                    .into(),
            );
        }
        let l = &self.limits;
        for (name, v) in [
            ("limits.max_sessions", l.max_sessions as u64),
            ("limits.max_sessions_per_ip", l.max_sessions_per_ip as u64),
            ("limits.login_timeout", l.login_timeout),
            ("limits.idle_timeout", l.idle_timeout),
            ("limits.session_timeout", l.session_timeout),
            ("limits.max_line", l.max_line as u64),
            ("limits.max_input_bytes", l.max_input_bytes),
            (
                "limits.datagrams_per_ip_per_second",
                l.datagrams_per_ip_per_second as u64,
            ),
            ("limits.datagrams_per_second", l.datagrams_per_second as u64),
            ("store.queue", self.store.queue as u64),
            ("store.batch", self.store.batch as u64),
            ("downloader.max_bytes", self.downloader.max_bytes),
            ("downloader.timeout", self.downloader.timeout),
            (
                "downloader.max_concurrent",
                self.downloader.max_concurrent as u64,
            ),
            (
                "profiler.hosts_per_minute",
                self.profiler.hosts_per_minute as u64,
            ),
            ("profiler.concurrency", self.profiler.concurrency as u64),
            ("profiler.connect_timeout", self.profiler.connect_timeout),
            ("profiler.read_timeout", self.profiler.read_timeout),
            ("profiler.max_bytes", self.profiler.max_bytes as u64),
        ] {
            if v == 0 {
                return Err(format!("{name} must be greater than 0"));
            }
        }
        for (name, v) in [
            ("limits.login_timeout", l.login_timeout),
            ("limits.idle_timeout", l.idle_timeout),
            ("limits.session_timeout", l.session_timeout),
            ("downloader.timeout", self.downloader.timeout),
            ("profiler.connect_timeout", self.profiler.connect_timeout),
            ("profiler.read_timeout", self.profiler.read_timeout),
        ] {
            if v > MAX_TIMEOUT {
                return Err(format!(
                    "{name} must be at most {MAX_TIMEOUT} seconds (one year)"
                ));
            }
        }
        for spec in self.sensors() {
            if let Some(l) = spec
                .listen
                .iter()
                .find(|l| l.proxy_protocol || l.service == Service::Sensors)
            {
                return Err(format!(
                    "sensor {:?}: listen {}: a sensor relays telnet, http and netis listeners, without proxy_protocol",
                    spec.name, l.address
                ));
            }
        }
        if !self.sensors().is_empty() && !self.listen.iter().any(|l| l.service == Service::Sensors)
        {
            return Err("[[sensor]] tables need a [[listen]] with service = \"sensors\" (where sensors connect)".into());
        }
        if let Some(l) = self
            .listen
            .iter()
            .find(|l| l.proxy_protocol && matches!(l.service, Service::Netis | Service::Sensors))
        {
            return Err(format!(
                "listen {}: proxy_protocol is for TCP listeners (telnet, http), not {}",
                l.address,
                l.service.name()
            ));
        }
        crate::guard::Guard::new(&self.profiler.allow, &self.profiler.exclude)
            .map_err(|e| format!("profiler.allow / profiler.exclude: {e}"))?;
        let m = self.iotbox.max_minutes;
        if !(m.is_finite() && (0.0..=MAX_TIMEOUT as f64 / 60.0).contains(&m)) {
            return Err("iotbox.max_minutes must be a number of minutes, at most a year".into());
        }
        Ok(())
    }

    /// A central's sensors (`[[sensor]]`).
    pub fn sensors(&self) -> &[SensorSpec] {
        match &self.sensor {
            SensorKey::Sensors(s) => s,
            SensorKey::Name(_) => &[],
        }
    }

    /// The sensor name: `sensor`, or the machine's hostname.
    pub fn sensor_name(&self) -> String {
        if let SensorKey::Name(n) = &self.sensor {
            if !n.is_empty() {
                return n.clone();
            }
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "iotpot".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_default_equals_default() {
        assert_eq!(Config::from_toml(DEFAULT_TOML).unwrap(), Config::default());
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn listeners_and_errors() {
        let c = Config::from_toml(
            "data_dir = \"/tmp/x\"\n[[listen]]\nservice = \"telnet\"\naddress = \"127.0.0.1:2323\"\nprofile = \"router-tplink\"\n",
        )
        .unwrap();
        assert_eq!(c.listen.len(), 1);
        assert_eq!(c.listen[0].profile.as_deref(), Some("router-tplink"));
        assert!(
            Config::from_toml("[[listen]]\nservice = \"ssh\"\naddress = \"1.2.3.4:22\"").is_err()
        );
        assert!(Config::from_toml("dta_dir = \"x\"")
            .unwrap_err()
            .contains("dta_dir"));
        assert!(Config::from_toml("[limits]\nmax_line = 0").is_err());
        assert!(Config::from_toml("[limits]\nidle_timeout = 18446744073709551615").is_err());
        assert_eq!(
            Config::from_toml("[iotbox]\nmax_minutes = 0.5")
                .unwrap()
                .iotbox
                .max_minutes,
            0.5
        );
        assert!(Config::from_toml("[iotbox]\nmax_minutes = -1").is_err());
        assert!(Config::from_toml("[iotbox]\nmax_minutes = nan").is_err());
    }

    #[test]
    fn a_central_names_its_sensors_and_their_listeners() {
        let central = "[[listen]]\nservice = \"sensors\"\naddress = \"0.0.0.0:4433\"\n\
                       [[sensor]]\nname = \"tokyo-1\"\n[[sensor.listen]]\nservice = \"telnet\"\n\
                       address = \"0.0.0.0:23\"\nprofile = \"dvr-xiongmai\"\n";
        let c = Config::from_toml(central).unwrap();
        assert_eq!(c.sensors().len(), 1);
        assert_eq!(c.sensors()[0].name, "tokyo-1");
        assert_eq!(c.sensors()[0].listen[0].address.port(), 23);
        assert_eq!(
            Config::from_toml("sensor = \"b\"").unwrap().sensor_name(),
            "b"
        );
        // A mistyped key is named, not "no variant matched".
        let e = Config::from_toml(
            &central.replace("address = \"0.0.0.0:23\"", "adress = \"0.0.0.0:23\""),
        )
        .unwrap_err();
        assert!(e.contains("adress"), "{e}");
        // Sensors need a place to connect; a sensor has no link listener.
        assert!(Config::from_toml(
            &central.replace("service = \"sensors\"", "service = \"telnet\"")
        )
        .is_err());
        assert!(Config::from_toml(
            &central.replace("service = \"telnet\"", "service = \"sensors\"")
        )
        .is_err());
    }
}
