//! What this host needs to run an architecture's sandboxes, checked the
//! way QEMU itself would (`iotpot box status`): the emulator binary and its
//! version, the firmware files of the machine in QEMU's data directories,
//! and a dry start of the image's own command line (paused before the
//! first instruction), whose failure is QEMU's own message. Each missing
//! piece names the Debian package that brings it.

use crate::arch::{firmware_package, BoxArch, MIN_QEMU};
use crate::image::Image;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One firmware file the machine loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firmware {
    pub file: &'static str,
    /// Where QEMU finds it, if it does.
    pub found: Option<PathBuf>,
    /// The Debian package that brings it.
    pub package: &'static str,
}

/// The QEMU of an architecture on this host.
#[derive(Debug, Clone)]
pub struct Qemu {
    /// The binary and its version ("qemu-system-mipsel 10.0.2 (Debian
    /// ...)"), or why it cannot be used.
    pub version: Result<String, String>,
    pub firmware: Vec<Firmware>,
}

/// `(major, minor)` of "QEMU emulator version 10.0.2 (Debian ...)".
pub fn parse_version(line: &str) -> Option<(u32, u32)> {
    let v = line.split("version ").nth(1)?.split_whitespace().next()?;
    let mut it = v.split('.').map(|n| n.parse::<u32>().ok());
    Some((it.next()??, it.next().flatten().unwrap_or(0)))
}

/// The directories QEMU reads firmware from (`-L help`).
fn data_dirs(qemu: &str) -> Vec<PathBuf> {
    Command::new(qemu)
        .args(["-L", "help"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.starts_with('/'))
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Check the binary, its version and the machine's firmware files.
pub fn check(arch: &BoxArch) -> Qemu {
    let version = match Command::new(arch.qemu).arg("--version").output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{} missing: install {} from bookworm-backports (apt-get install -t bookworm-backports {})",
            arch.qemu,
            arch.qemu_package(),
            arch.qemu_package()
        )),
        Err(e) => Err(format!("{}: {e}", arch.qemu)),
        Ok(o) => {
            let line = String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            match parse_version(&line) {
                Some(v) if v >= MIN_QEMU => Ok(format!(
                    "{} {}",
                    arch.qemu,
                    line.trim_start_matches("QEMU emulator version ")
                )),
                Some((major, minor)) => Err(format!(
                    "{} is QEMU {major}.{minor}: the sandboxes need {}.{} or later (apt-get install -t bookworm-backports {})",
                    arch.qemu,
                    MIN_QEMU.0,
                    MIN_QEMU.1,
                    arch.qemu_package()
                )),
                None => Err(format!("{}: no version in {line:?}", arch.qemu)),
            }
        }
    };
    // Without a working QEMU there is nothing to look in.
    let dirs = if version.is_ok() {
        data_dirs(arch.qemu)
    } else {
        Vec::new()
    };
    let firmware = arch
        .firmware
        .iter()
        .filter(|_| version.is_ok())
        .map(|file| Firmware {
            file,
            found: dirs.iter().map(|d| d.join(file)).find(|p| p.exists()),
            package: firmware_package(file),
        })
        .collect();
    Qemu { version, firmware }
}

/// Start `image`'s QEMU with the command line of an analysis sandbox (its
/// NIC included) but paused, and stop it as soon as the machine is made:
/// every device, ROM and firmware file was accepted. The error is QEMU's.
pub async fn dry_start(image: &Image, run_dir: &Path) -> anyhow::Result<()> {
    crate::vm::dry_start(image, run_dir).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)"),
            Some((10, 0))
        );
        assert_eq!(
            parse_version("QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)"),
            Some((7, 2))
        );
        assert!(parse_version("QEMU emulator version 7.2.19").unwrap() < MIN_QEMU);
        assert_eq!(parse_version("something else"), None);
    }

    #[test]
    fn firmware_packages() {
        assert_eq!(firmware_package("bios-256k.bin"), "seabios");
        assert_eq!(firmware_package("efi-virtio.rom"), "ipxe-qemu");
        assert_eq!(firmware_package("vof.bin"), "qemu-system-data");
    }
}
