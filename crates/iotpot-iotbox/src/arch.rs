//! The sandbox architectures: which Debian packages make their image, and
//! how QEMU runs them (measured in `shared/iotbox-notes.md`).

use crate::source::Recipe;
use iotpot_core::Arch;

/// One architecture IoTBOX can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxArch {
    /// The architecture (as in profiles and triage); its name is the
    /// sandbox's: `mipsel`, `arm64`...
    pub arch: Arch,
    /// Debian's architecture name.
    pub debian: &'static str,
    /// The kernel metapackage (it depends on the versioned kernel).
    pub kernel_package: &'static str,
    /// The QEMU system emulator.
    pub qemu: &'static str,
    /// Machine and CPU arguments.
    pub machine: &'static [&'static str],
    /// The serial console's device in the guest.
    pub console: &'static str,
    /// Guest RAM in MiB.
    pub mem_mib: u32,
    /// Not in Debian 12: cross-built from source (`box build --from-source`).
    pub source: Option<&'static Recipe>,
    /// QEMU can restore this machine from a saved state. Where it cannot
    /// (a restored `ppce500` or `sun4u` guest never runs again), a reset
    /// is a cold boot: the pool's spare hides it from attackers.
    pub snapshot: bool,
    /// Userland runs under the 32-bit personality (`linux32`): a 64-bit
    /// kernel that must look like the 32-bit system malware expects
    /// (`uname -m` = `sparc`, not `sparc64`).
    pub linux32: bool,
    /// The PCI bus the analysis NIC goes on, where QEMU's default has no
    /// free slot (`sun4u`: the `pciB` bridge).
    pub nic_bus: Option<&'static str>,
    /// Firmware files QEMU loads from its data directory for this machine
    /// (`iotpot box status` checks them; [`firmware_package`] names where
    /// they come from). The NIC needs none: its option ROM is turned off.
    pub firmware: &'static [&'static str],
}

/// Architectures IoT malware is built for that IoTBOX cannot offer yet,
/// and why (`box build` says so rather than "unknown").
pub const UNAVAILABLE: &[(&str, &str)] = &[(
    "sh4",
    "Debian 12's SH4 cross compiler (gcc-sh4-linux-gnu 12.2.0-13cross1) miscompiles: \
     from -O1 up it drops the comparison of a value loaded from memory before a \
     conditional branch (`int e(int *p) { return *p ? 7 : 5; }` compiles to a bare `bt`), \
     so no kernel or BusyBox built with it runs (the kernel hangs in its decompressor); \
     SH4 devices stay emulated and SH4 samples are triaged but not run",
)];

/// The oldest QEMU the sandboxes run on: templates are saved and restored
/// through the `file:` migration URI (8.2), analysis NICs use the `stream`
/// netdev (7.2).
pub const MIN_QEMU: (u32, u32) = (8, 2);

/// What most machines share; each entry of [`ARCHES`] says what differs.
const USUAL: BoxArch = BoxArch {
    arch: Arch::Mipsel,
    debian: "",
    kernel_package: "",
    qemu: "",
    machine: &[],
    console: "ttyS0",
    mem_mib: 128,
    source: None,
    snapshot: true,
    linux32: false,
    nic_bus: None,
    firmware: &[],
};

pub const ARCHES: &[BoxArch] = &[
    BoxArch {
        arch: Arch::Mipsel,
        debian: "mipsel",
        kernel_package: "linux-image-4kc-malta",
        qemu: "qemu-system-mipsel",
        machine: &["-M", "malta"],
        ..USUAL
    },
    BoxArch {
        arch: Arch::Mips64el,
        debian: "mips64el",
        kernel_package: "linux-image-5kc-malta",
        qemu: "qemu-system-mips64el",
        machine: &["-M", "malta", "-cpu", "5KEf"],
        ..USUAL
    },
    BoxArch {
        arch: Arch::Armhf,
        debian: "armhf",
        kernel_package: "linux-image-armmp",
        qemu: "qemu-system-arm",
        machine: &["-M", "virt,highmem=off", "-cpu", "cortex-a15"],
        console: "ttyAMA0",
        ..USUAL
    },
    // ARMv5 EABI userland on the ARMv7 multiplatform kernel.
    BoxArch {
        arch: Arch::Armel,
        debian: "armel",
        kernel_package: "linux-image-armmp:armhf",
        qemu: "qemu-system-arm",
        machine: &["-M", "virt,highmem=off", "-cpu", "cortex-a15"],
        console: "ttyAMA0",
        ..USUAL
    },
    BoxArch {
        arch: Arch::Arm64,
        debian: "arm64",
        kernel_package: "linux-image-cloud-arm64",
        qemu: "qemu-system-aarch64",
        machine: &["-M", "virt", "-cpu", "cortex-a53"],
        console: "ttyAMA0",
        ..USUAL
    },
    BoxArch {
        arch: Arch::I686,
        debian: "i386",
        kernel_package: "linux-image-686",
        qemu: "qemu-system-i386",
        machine: &["-M", "pc"],
        // SeaBIOS, and the option ROMs that boot `-kernel` on a PC.
        firmware: &["bios-256k.bin", "linuxboot_dma.bin", "kvmvapic.bin"],
        ..USUAL
    },
    BoxArch {
        arch: Arch::Ppc64el,
        debian: "ppc64el",
        kernel_package: "linux-image-powerpc64le",
        qemu: "qemu-system-ppc64",
        machine: &[
            "-M",
            "pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off",
            "-cpu",
            "power9",
        ],
        console: "hvc0",
        mem_mib: 256,
        // x-vof=on: QEMU's small Virtual Open Firmware instead of SLOF.
        firmware: &["vof.bin"],
        ..USUAL
    },
    // Big-endian MIPS: Debian dropped it after buster.
    BoxArch {
        arch: Arch::Mips,
        debian: "mips",
        kernel_package: "",
        qemu: "qemu-system-mips",
        machine: &["-M", "malta"],
        source: Some(&crate::source::MIPS),
        ..USUAL
    },
    // 32-bit big-endian PowerPC: a ports architecture in Debian.
    BoxArch {
        arch: Arch::Ppc,
        debian: "powerpc",
        kernel_package: "",
        qemu: "qemu-system-ppc",
        machine: &["-M", "ppce500", "-cpu", "e500mc"],
        source: Some(&crate::source::PPC),
        snapshot: false,
        ..USUAL
    },
    // SPARC: a ports architecture in Debian (sparc64).
    BoxArch {
        arch: Arch::Sparc,
        debian: "sparc64",
        kernel_package: "",
        qemu: "qemu-system-sparc64",
        machine: &["-M", "sun4u"],
        source: Some(&crate::source::SPARC),
        snapshot: false,
        linux32: true,
        nic_bus: Some("pciB"),
        firmware: &["openbios-sparc64"],
        ..USUAL
    },
];

/// The Debian package that brings a firmware file QEMU loads.
pub fn firmware_package(file: &str) -> &'static str {
    if file.starts_with("bios") || file.starts_with("vgabios") {
        "seabios"
    } else if file.starts_with("efi-") || file.starts_with("pxe-") {
        "ipxe-qemu"
    } else {
        "qemu-system-data"
    }
}

impl BoxArch {
    /// Its name (as in profiles): `mipsel`, `arm64`...
    pub fn name(&self) -> &'static str {
        self.arch.name()
    }

    /// The sandbox for binaries of `arch`, if there is one.
    pub fn for_arch(arch: Arch) -> Option<&'static BoxArch> {
        ARCHES.iter().find(|a| a.arch == arch)
    }

    /// The Debian package of [`BoxArch::qemu`] (from bookworm-backports:
    /// Debian 12's own QEMU 7.2 is too old, see [`MIN_QEMU`]).
    pub fn qemu_package(&self) -> &'static str {
        match self.qemu {
            "qemu-system-mips" | "qemu-system-mipsel" | "qemu-system-mips64el" => {
                "qemu-system-mips"
            }
            "qemu-system-arm" | "qemu-system-aarch64" => "qemu-system-arm",
            "qemu-system-i386" | "qemu-system-x86_64" => "qemu-system-x86",
            "qemu-system-ppc" | "qemu-system-ppc64" => "qemu-system-ppc",
            "qemu-system-sparc" | "qemu-system-sparc64" => "qemu-system-sparc",
            _ => "qemu-system",
        }
    }

    pub fn by_name(name: &str) -> Option<&'static BoxArch> {
        ARCHES.iter().find(|a| a.name() == name || a.debian == name)
    }

    /// The Debian architecture the kernel comes from (armel borrows armhf's).
    pub fn kernel_arch(&self) -> &'static str {
        match self.kernel_package.split_once(':') {
            Some((_, a)) => a,
            None => self.debian,
        }
    }

    pub fn kernel_meta(&self) -> &'static str {
        self.kernel_package
            .split(':')
            .next()
            .unwrap_or(self.kernel_package)
    }
}
