//! `iotpot profiles generate ADDR`: a device profile from a scanned host's
//! grabs, so the honeypot can wear what its attackers are.
//!
//! Taken from the host, byte for byte: its Telnet negotiation (the commands
//! in the order it sent them), banner and login prompt, the options it
//! offered and asked for; its web server's status-line version, header
//! lines in its order and spelling (date, type and length as placeholders
//! filled per response), login realm, the page at `/` (or, behind a login,
//! its 401 page) and its reason phrases. The rest (the shell's files,
//! processes, BusyBox version) comes from the built-in profile of the same
//! device type and architecture, the architecture guessed from the vendor.

use crate::grab::{telnet, Grab};
use iotpot_core::profile::{Page, Profile};
use iotpot_core::profiler::Verdict;
use iotpot_core::Arch;
use iotpot_wire::telnet::{DO, IAC, WILL};

/// Architectures of the SoCs a vendor's devices are known to use (the
/// built-in profiles' own choices); the device type decides otherwise.
const VENDOR_ARCH: &[(&str, Arch)] = &[
    ("hikvision", Arch::Armel),
    ("dahua", Arch::Armel),
    ("xiongmai", Arch::Armhf),
    ("hisilicon", Arch::Armhf),
    ("axis", Arch::Mipsel),
    ("tp-link", Arch::Mips),
    ("tplink", Arch::Mips),
    ("d-link", Arch::Mips),
    ("netgear", Arch::Mips),
    ("zte", Arch::Mips),
    ("huawei", Arch::Mips),
    ("mikrotik", Arch::Mipsel),
    ("ubiquiti", Arch::Mips),
    ("zyxel", Arch::Mips),
];

/// The architecture a host most likely runs.
pub fn guess_arch(v: &Verdict) -> Arch {
    let text = format!(
        "{} {}",
        v.vendor.as_deref().unwrap_or(""),
        v.product.as_deref().unwrap_or("")
    )
    .to_ascii_lowercase();
    if let Some((_, a)) = VENDOR_ARCH.iter().find(|(name, _)| text.contains(name)) {
        return *a;
    }
    match v.device.as_deref() {
        Some(d) if d.contains("Router") || d.contains("WAP") || d.contains("Modem") => Arch::Mipsel,
        _ => Arch::Armhf,
    }
}

/// A profile named `name` from a host's grabs and verdict.
pub fn profile(name: &str, addr: &str, grabs: &[Grab], v: &Verdict) -> Profile {
    let arch = guess_arch(v);
    let device_type = v.device.clone().unwrap_or_else(|| "Device".into());
    let builtins = Profile::builtins();
    let base = builtins
        .iter()
        .find(|p| p.device_type == device_type && p.arch == arch)
        .or_else(|| builtins.iter().find(|p| p.device_type == device_type))
        .or_else(|| builtins.iter().find(|p| p.arch == arch))
        .or(builtins.first())
        .cloned();
    let mut p = base.unwrap_or_else(|| {
        Profile::from_toml(
            "name = \"x\"\ndescription = \"\"\ndevice_type = \"Device\"\narch = \"armhf\"\n",
            "generated",
        )
        .expect("a minimal profile")
    });
    let what: Vec<&str> = [&v.vendor, &v.product]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    p.name = name.to_string();
    p.description = format!(
        "{} seen at {addr}{}",
        device_type,
        if what.is_empty() {
            String::new()
        } else {
            format!(" ({})", what.join(" "))
        }
    );
    p.device_type = device_type;
    p.arch = arch;
    if let Some(g) = grabs.iter().find(|g| g.service == "telnet") {
        wear_telnet(&mut p, g);
    }
    if let Some(g) = grabs.iter().find(|g| g.service == "http") {
        wear_http(&mut p, g);
    } else {
        p.http.pages.clear();
    }
    p
}

fn wear_telnet(p: &mut Profile, g: &Grab) {
    // The exact text again (the field is trimmed), from the raw bytes.
    let mut client = telnet::Client::default();
    client.feed(&g.raw_bytes());
    let commands = &client.commands;
    p.telnet.negotiation = hex::encode(
        commands
            .iter()
            .flat_map(|&(verb, opt)| [IAC, verb, opt])
            .collect::<Vec<u8>>(),
    );
    p.telnet.local_options = commands
        .iter()
        .filter(|c| c.0 == WILL)
        .map(|c| c.1)
        .collect();
    p.telnet.remote_options = commands.iter().filter(|c| c.0 == DO).map(|c| c.1).collect();
    let text = String::from_utf8_lossy(&client.text).into_owned();
    // The prompt is the last line as sent (its line break before it, its
    // trailing space); the banner everything before.
    let cut = text
        .trim_end()
        .rfind('\n')
        .map(|i| if text[..i].ends_with('\r') { i - 1 } else { i })
        .unwrap_or(0);
    p.telnet.banner = text[..cut].to_string();
    p.telnet.login_prompt = text[cut..].to_string();
    // The host name a BusyBox prompt carries (`IMDVRS login:`).
    if let Some(host) = text
        .trim()
        .rsplit('\n')
        .next()
        .and_then(|l| l.trim().strip_suffix("login:"))
    {
        let host = host.trim();
        if !host.is_empty() && !host.contains(char::is_whitespace) {
            p.system.hostname = host.to_string();
        }
    }
}

fn wear_http(p: &mut Profile, g: &Grab) {
    let h = &mut p.http;
    let line = g.status_line.clone().unwrap_or_default();
    let mut parts = line.splitn(3, ' ');
    h.version = parts.next().unwrap_or("HTTP/1.1").to_string();
    let status = g.status.unwrap_or(200);
    let reason = parts.nth(1).unwrap_or("").to_string();
    h.reasons.clear();
    if !reason.is_empty() && reason != standard_reason(status) {
        h.reasons.insert(status.to_string(), reason);
    }
    h.headers.clear();
    h.www_authenticate.clear();
    let mut content_type = "text/html".to_string();
    for (name, value) in &g.headers {
        let line = match name.to_ascii_lowercase().as_str() {
            "date" => {
                h.date_format = if value.contains(',') {
                    iotpot_core::profile::DateFormat::Imf
                } else {
                    iotpot_core::profile::DateFormat::Asctime
                };
                format!("{name}: {{date}}")
            }
            "content-type" => {
                content_type = value.clone();
                format!("{name}: {{type}}")
            }
            "content-length" => format!("{name}: {{length}}"),
            "www-authenticate" => {
                h.www_authenticate = value.clone();
                "{extra}".to_string()
            }
            "transfer-encoding" => continue,
            _ => format!("{name}: {value}"),
        };
        h.headers.push(line);
    }
    if !h.headers.iter().any(|l| l == "{extra}") {
        h.headers.push("{extra}".into());
    }
    let body = String::from_utf8_lossy(&http_body(g)).into_owned();
    h.pages.clear();
    let page = |status, body: String, auth| Page {
        content_type: content_type.clone(),
        body,
        auth,
        status,
        ..Page::default()
    };
    if status == 401 {
        // Behind a login: the 401 page is what anyone sees; after a login,
        // an empty page of the same type.
        h.errors.insert("401".into(), body);
        h.pages.insert("/".into(), page(200, String::new(), true));
    } else {
        h.pages.insert("/".into(), page(status, body, false));
    }
}

/// The body as read (after the head), at most 64 KiB.
fn http_body(g: &Grab) -> Vec<u8> {
    let raw = g.raw_bytes();
    let start = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .unwrap_or(raw.len());
    raw[start..raw.len().min(start + (64 << 10))].to_vec()
}

fn standard_reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "",
    }
}
