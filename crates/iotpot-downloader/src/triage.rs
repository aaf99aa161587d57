//! Offline triage of a sample: what it is, for which CPU, and what it
//! points at. Hostile input: every field is bounds-checked, nothing is run.

use iotpot_core::sample::kind;
use serde::Serialize;

/// What triage learned about one sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Triage {
    /// `elf`, `script` or `data`.
    pub kind: String,
    /// The architecture name IoT malware uses (`arm`, `arm7`, `mips`,
    /// `mipsel`, `ppc`, `sh4`, `x86`, `x86_64`...), for ELF files.
    pub arch: Option<String>,
    /// The same, as iotpot's architecture (profiles and sandboxes), when it
    /// is one of those.
    pub cpu: Option<iotpot_core::Arch>,
    /// `32` or `64`.
    pub bits: Option<u8>,
    /// `le` or `be`.
    pub endian: Option<String>,
    pub e_machine: Option<u16>,
    /// ARM EABI version from `e_flags`.
    pub arm_eabi: Option<u8>,
    pub static_linked: Option<bool>,
    pub stripped: Option<bool>,
    pub interpreter: Option<String>,
    pub entry: Option<u64>,
    pub upx: bool,
    /// Families and kinds from the YARA rules (filled by the downloader).
    pub tags: Vec<String>,
    /// Printable strings that look like IPv4 addresses (with ports).
    pub ips: Vec<String>,
    pub urls: Vec<String>,
    pub domains: Vec<String>,
    /// For small ELF stubs: `sockaddr_in` structures holding a public
    /// address and port (`1.2.3.4:5555`), the address a tiny loader connects
    /// to for the real binary.
    pub stub_addresses: Vec<String>,
}

impl Triage {
    /// A shell script (whose downloads are followed).
    pub fn is_script(&self) -> bool {
        self.kind == "script"
    }

    /// The `iotpot.sample.triaged` event of the sample `sha256` (`size`
    /// bytes) that came from `source` (a URL, or `echo:<path>`).
    pub fn event(&self, sha256: &str, size: u64, source: &str) -> iotpot_core::EventKind {
        iotpot_core::EventKind::SampleTriaged {
            shasum: sha256.to_string(),
            size,
            kind: self.kind.clone(),
            arch: self.arch.clone(),
            tags: self.tags.clone(),
            source: source.to_string(),
            triage: serde_json::to_value(self).unwrap_or_default(),
        }
    }
}

/// Most indicators of each kind kept.
const MAX_INDICATORS: usize = 64;
/// ELF files up to this size are scanned for hard-coded `sockaddr_in`s.
const MAX_STUB: usize = 16 << 10;

pub fn triage(bytes: &[u8]) -> Triage {
    let mut t = Triage {
        kind: kind(bytes).to_string(),
        upx: find(bytes, b"UPX!") || find(bytes, b"This file is packed with the UPX"),
        ..Triage::default()
    };
    if t.kind == "elf" {
        elf_header(bytes, &mut t);
        // goblin gives the sections and segments; a malformed file just
        // leaves those fields unknown. Its parser is guarded against panics
        // as a second line of defence.
        let parsed = std::panic::catch_unwind(|| {
            goblin::elf::Elf::parse(bytes).ok().map(|e| {
                (
                    e.interpreter.map(str::to_string),
                    e.dynamic.is_some(),
                    e.syms.is_empty(),
                )
            })
        });
        if let Ok(Some((interp, dynamic, no_syms))) = parsed {
            t.interpreter = interp;
            t.static_linked = Some(!dynamic && t.interpreter.is_none());
            t.stripped = Some(no_syms);
        }
        if bytes.len() <= MAX_STUB {
            t.stub_addresses = sockaddrs(bytes, t.endian.as_deref() == Some("le"));
        }
    }
    indicators(bytes, &mut t);
    t
}

/// The ELF identification and header, read by hand (bounds-checked).
fn elf_header(b: &[u8], t: &mut Triage) {
    if b.len() < 0x34 {
        return;
    }
    let bits = match b[4] {
        1 => 32,
        2 => 64,
        _ => return,
    };
    let le = match b[5] {
        1 => true,
        2 => false,
        _ => return,
    };
    let u16at = |o: usize| -> u16 {
        let x = [b[o], b[o + 1]];
        if le {
            u16::from_le_bytes(x)
        } else {
            u16::from_be_bytes(x)
        }
    };
    let u32at = |o: usize| -> u32 {
        let x = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if le {
            u32::from_le_bytes(x)
        } else {
            u32::from_be_bytes(x)
        }
    };
    let machine = u16at(18);
    let (entry, flags) = if bits == 64 {
        if b.len() < 0x40 {
            return;
        }
        let lo = u32at(24) as u64;
        let hi = u32at(28) as u64;
        let entry = if le { lo | (hi << 32) } else { (lo << 32) | hi };
        (entry, u32at(48))
    } else {
        (u32at(24) as u64, u32at(36))
    };
    t.bits = Some(bits);
    t.endian = Some(if le { "le" } else { "be" }.into());
    t.e_machine = Some(machine);
    t.entry = Some(entry);
    let eabi = (flags >> 24) as u8;
    t.cpu = iotpot_core::Arch::from_elf(machine, bits, le, flags);
    t.arch = Some(
        match (machine, bits, le) {
            (40, _, _) => {
                t.arm_eabi = Some(eabi);
                // Mirai's naming: arm (v4/v5 EABI soft-float), arm7 (hard-float).
                if flags & 0x400 != 0 {
                    "arm7"
                } else {
                    "arm"
                }
            }
            (183, _, _) => "aarch64",
            (8, 32, false) => "mips",
            (8, 32, true) => "mipsel",
            (8, 64, false) => "mips64",
            (8, 64, true) => "mips64el",
            (10, _, _) => "mips",
            (20, _, _) => "ppc",
            (21, _, true) => "ppc64el",
            (21, _, false) => "ppc64",
            (2, _, _) | (18, _, _) => "sparc",
            (43, _, _) => "sparc64",
            (42, _, _) => "sh4",
            (4, _, _) => "m68k",
            (3, _, _) => "x86",
            (62, _, _) => "x86_64",
            (93, _, _) => "arc",
            (195, _, _) => "arcv2",
            (22, _, _) => "s390x",
            (243, _, _) => "riscv",
            (92, _, _) => "openrisc",
            _ => "unknown",
        }
        .to_string(),
    );
}

/// `sockaddr_in { sin_family = AF_INET (host order), sin_port, sin_addr }`
/// with a public address and a non-zero port.
fn sockaddrs(b: &[u8], le: bool) -> Vec<String> {
    let family: [u8; 2] = if le { [2, 0] } else { [0, 2] };
    let guard = crate::guard::Guard::default();
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(7) {
        if b[i..i + 2] != family {
            continue;
        }
        let port = u16::from_be_bytes([b[i + 2], b[i + 3]]);
        let ip = std::net::Ipv4Addr::new(b[i + 4], b[i + 5], b[i + 6], b[i + 7]);
        let o = ip.octets();
        if port == 0 || o[3] == 0 || o[3] == 255 || guard.check(ip.into()).is_err() {
            continue;
        }
        let s = format!("{ip}:{port}");
        if !out.contains(&s) {
            out.push(s);
            if out.len() == 8 {
                break;
            }
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// IPs, URLs and domain names among the printable strings.
fn indicators(bytes: &[u8], t: &mut Triage) {
    let push = |v: &mut Vec<String>, s: String| {
        if v.len() < MAX_INDICATORS && !v.contains(&s) {
            v.push(s);
        }
    };
    for run in bytes
        .split(|c| !(0x20..0x7f).contains(c))
        .filter(|r| r.len() >= 4)
    {
        let s = String::from_utf8_lossy(run);
        for tok in s.split(|c: char| c.is_whitespace() || "\"'<>;|`()".contains(c)) {
            if tok.starts_with("http://")
                || tok.starts_with("https://")
                || tok.starts_with("ftp://")
                || tok.starts_with("tftp://")
            {
                push(&mut t.urls, tok.to_string());
            } else if is_ipv4ish(tok) {
                push(&mut t.ips, tok.to_string());
            } else if is_domain(tok) {
                push(&mut t.domains, tok.to_ascii_lowercase());
            }
        }
    }
}

fn is_ipv4ish(tok: &str) -> bool {
    let (ip, port) = match tok.split_once(':') {
        Some((i, p)) => (i, Some(p)),
        None => (tok, None),
    };
    port.is_none_or(|p| p.parse::<u16>().is_ok()) && ip.parse::<std::net::Ipv4Addr>().is_ok()
}

fn is_domain(tok: &str) -> bool {
    const TLDS: &[&str] = &[
        "com", "net", "org", "info", "biz", "ru", "cn", "xyz", "top", "io", "cc", "tk", "pw", "me",
        "de", "eu", "us", "club", "online", "site", "su", "uk", "jp", "in",
    ];
    let tok = tok.trim_end_matches('.');
    let labels: Vec<&str> = tok.split('.').collect();
    labels.len() >= 2
        && tok.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| TLDS.contains(&tld.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_every_persona_arch() {
        use iotpot_core::Arch;
        let expect = [
            (Arch::Armel, "arm"),
            (Arch::Armhf, "arm7"),
            (Arch::Arm64, "aarch64"),
            (Arch::Mips, "mips"),
            (Arch::Mipsel, "mipsel"),
            (Arch::Mips64el, "mips64el"),
            (Arch::Ppc, "ppc"),
            (Arch::I686, "x86"),
            (Arch::X86_64, "x86_64"),
            (Arch::Sh4, "sh4"),
            (Arch::Sparc, "sparc"),
            (Arch::M68k, "m68k"),
        ];
        for (arch, name) in expect {
            let mut bin = arch.elf_header();
            bin.extend_from_slice(b"\0\0GET /bins/mirai.x86 HTTP/1.0\0 203.0.113.50:23 cnc.evil-domain.xyz \0http://198.51.100.4/x.sh\0");
            let t = triage(&bin);
            assert_eq!(t.kind, "elf");
            assert_eq!(t.arch.as_deref(), Some(name), "{arch}");
            assert_eq!(t.arch.as_deref(), Some(arch.malware_name()), "{arch}");
            assert_eq!(t.cpu, Some(arch), "{arch}");
            assert_eq!(t.ips, ["203.0.113.50:23"]);
            assert_eq!(t.urls, ["http://198.51.100.4/x.sh"]);
            assert_eq!(t.domains, ["cnc.evil-domain.xyz"]);
        }
    }

    #[test]
    fn loader_stub_addresses() {
        use iotpot_core::Arch;
        // A tiny MIPS (big-endian) stub holding sockaddr_in{AF_INET, 6667, 203.0.113.9}.
        let mut stub = Arch::Mips.elf_header();
        stub.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0x1a, 0x0b, 203, 0, 113, 9, 0, 0]);
        let t = triage(&stub);
        assert_eq!(t.stub_addresses, ["203.0.113.9:6667"]);
        // Little-endian ARM stub; private addresses are not candidates.
        let mut stub = Arch::Armel.elf_header();
        stub.extend_from_slice(&[
            2, 0, 0x00, 0x50, 198, 51, 100, 4, 2, 0, 0x00, 0x50, 192, 168, 1, 5,
        ]);
        assert_eq!(triage(&stub).stub_addresses, ["198.51.100.4:80"]);
    }

    #[test]
    fn hostile_input_never_panics() {
        for len in 0..200 {
            let mut b = b"\x7fELF\x02\x02\x01".to_vec();
            b.resize(len.max(7), 0xff);
            let _ = triage(&b);
        }
        assert_eq!(triage(b"#!/bin/sh\nwget x").kind, "script");
        assert_eq!(triage(b"\x00\x01").kind, "data");
        assert!(triage(b"....UPX!....").upx);
    }
}
