//! CPU architectures that IoT devices (and so IoT malware) run on.
//!
//! An architecture decides what a persona's `uname -m` says, what its
//! `/proc/cpuinfo` looks like by default, and the ELF header of every binary in
//! its virtual filesystem: Mirai's loader reads `/bin/echo` and picks the
//! binary to deliver from its `e_ident` and `e_machine`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// ARMv5 little-endian, EABI soft-float (HiSilicon Hi3518, many cameras).
    Armel,
    /// ARMv7 little-endian, EABI hard-float (Hi3520D DVRs, newer routers).
    Armhf,
    /// AArch64 little-endian.
    Arm64,
    /// MIPS32 big-endian (Atheros/Qualcomm, Broadcom BCM63xx routers).
    Mips,
    /// MIPS32 little-endian (Ralink/MediaTek routers, Ingenic cameras).
    Mipsel,
    /// MIPS64 little-endian (Cavium/Octeon-class gateways).
    Mips64el,
    /// PowerPC 32-bit big-endian (Freescale MPC83xx/85xx gateways, NAS).
    Ppc,
    /// PowerPC 64-bit little-endian (POWER8 and later; IoTBOX has it).
    Ppc64el,
    /// x86 32-bit (Atom-based NVRs, thin clients).
    I686,
    /// x86-64.
    X86_64,
    /// SuperH SH-4 little-endian (STMicro STi7xxx set-top boxes).
    Sh4,
    /// SPARC 32-bit big-endian.
    Sparc,
    /// Motorola 68k big-endian.
    M68k,
}

/// Everything about an architecture that a persona shows.
#[derive(Debug, Clone, Copy)]
pub struct ArchInfo {
    /// Name used in profiles and events (`armel`, `mips`, ...).
    pub name: &'static str,
    /// What `uname -m` prints.
    pub machine: &'static str,
    /// ELF class: 1 = 32-bit, 2 = 64-bit.
    pub elf_class: u8,
    /// ELF data encoding: 1 = little-endian, 2 = big-endian.
    pub elf_data: u8,
    pub e_machine: u16,
    pub e_flags: u32,
    /// What `file` would say, for humans.
    pub description: &'static str,
    /// A default `/proc/cpuinfo` (profiles usually bring their own).
    pub cpuinfo: &'static str,
    /// The kernel's compiler in `/proc/version` ("gcc version 4.3.3 (GCC)
    /// "), a toolchain such devices were built with; a profile may name
    /// its own.
    pub compiler: &'static str,
}

impl Arch {
    pub const ALL: [Arch; 13] = [
        Arch::Armel,
        Arch::Armhf,
        Arch::Arm64,
        Arch::Mips,
        Arch::Mipsel,
        Arch::Mips64el,
        Arch::Ppc,
        Arch::Ppc64el,
        Arch::I686,
        Arch::X86_64,
        Arch::Sh4,
        Arch::Sparc,
        Arch::M68k,
    ];

    pub fn info(self) -> ArchInfo {
        match self {
            Arch::Armel => ArchInfo {
                name: "armel",
                machine: "armv5tejl",
                elf_class: 1,
                elf_data: 1,
                e_machine: 40,
                e_flags: 0x0500_0200,
                description: "ELF 32-bit LSB executable, ARM, EABI5 version 1 (SYSV)",
                cpuinfo: CPUINFO_ARMV5,
                compiler: "gcc version 4.4.1 (Hisilicon_v100(gcc4.4-290+uclibc_0.9.32.1+eabi+linuxpthread)) ",
            },
            Arch::Armhf => ArchInfo {
                name: "armhf",
                machine: "armv7l",
                elf_class: 1,
                elf_data: 1,
                e_machine: 40,
                e_flags: 0x0500_0400,
                description: "ELF 32-bit LSB executable, ARM, EABI5 version 1 (SYSV)",
                cpuinfo: CPUINFO_ARMV7,
                compiler: "gcc version 4.8.3 20131202 (prerelease) (Hisilicon_v300) ",
            },
            Arch::Arm64 => ArchInfo {
                name: "arm64",
                machine: "aarch64",
                elf_class: 2,
                elf_data: 1,
                e_machine: 183,
                e_flags: 0,
                description: "ELF 64-bit LSB executable, ARM aarch64, version 1 (SYSV)",
                cpuinfo: CPUINFO_ARM64,
                compiler: "gcc version 6.3.1 20170404 (Linaro GCC 6.3-2017.05) ",
            },
            Arch::Mips => ArchInfo {
                name: "mips",
                machine: "mips",
                elf_class: 1,
                elf_data: 2,
                e_machine: 8,
                e_flags: 0x7000_1007,
                description: "ELF 32-bit MSB executable, MIPS, MIPS32 rel2 version 1 (SYSV)",
                cpuinfo: CPUINFO_MIPS,
                compiler: "gcc version 4.3.3 (GCC) ",
            },
            Arch::Mipsel => ArchInfo {
                name: "mipsel",
                machine: "mips",
                elf_class: 1,
                elf_data: 1,
                e_machine: 8,
                e_flags: 0x7000_1007,
                description: "ELF 32-bit LSB executable, MIPS, MIPS32 rel2 version 1 (SYSV)",
                cpuinfo: CPUINFO_MIPSEL,
                compiler: "gcc version 3.4.2 ",
            },
            Arch::Mips64el => ArchInfo {
                name: "mips64el",
                machine: "mips64",
                elf_class: 2,
                elf_data: 1,
                e_machine: 8,
                e_flags: 0x8000_0007,
                description: "ELF 64-bit LSB executable, MIPS, MIPS64 rel2 version 1 (SYSV)",
                cpuinfo: CPUINFO_MIPS64,
                compiler: "gcc version 4.7.0 (Cavium Inc. Version: SDK_3_1_0 build 131) ",
            },
            Arch::Ppc => ArchInfo {
                name: "ppc",
                machine: "ppc",
                elf_class: 1,
                elf_data: 2,
                e_machine: 20,
                e_flags: 0,
                description: "ELF 32-bit MSB executable, PowerPC or cisco 4500, version 1 (SYSV)",
                cpuinfo: CPUINFO_PPC,
                compiler: "gcc version 4.2.2 ",
            },
            Arch::I686 => ArchInfo {
                name: "i686",
                machine: "i686",
                elf_class: 1,
                elf_data: 1,
                e_machine: 3,
                e_flags: 0,
                description: "ELF 32-bit LSB executable, Intel 80386, version 1 (SYSV)",
                cpuinfo: CPUINFO_X86,
                compiler: "gcc version 4.4.3 (Ubuntu 4.4.3-4ubuntu5) ",
            },
            Arch::X86_64 => ArchInfo {
                name: "x86_64",
                machine: "x86_64",
                elf_class: 2,
                elf_data: 1,
                e_machine: 62,
                e_flags: 0,
                description: "ELF 64-bit LSB executable, x86-64, version 1 (SYSV)",
                cpuinfo: CPUINFO_X86_64,
                compiler: "gcc version 4.8.4 (Ubuntu 4.8.4-2ubuntu1~14.04.3) ",
            },
            Arch::Sh4 => ArchInfo {
                name: "sh4",
                machine: "sh4",
                elf_class: 1,
                elf_data: 1,
                e_machine: 42,
                e_flags: 0x9,
                description: "ELF 32-bit LSB executable, Renesas SH, version 1 (SYSV)",
                cpuinfo: CPUINFO_SH4,
                compiler: "gcc version 4.3.4 (stm-target-gcc-4.3.4-73) ",
            },
            Arch::Sparc => ArchInfo {
                name: "sparc",
                machine: "sparc",
                elf_class: 1,
                elf_data: 2,
                e_machine: 2,
                e_flags: 0,
                description: "ELF 32-bit MSB executable, SPARC, version 1 (SYSV)",
                cpuinfo: CPUINFO_SPARC,
                compiler: "gcc version 4.2.4 ",
            },
            Arch::Ppc64el => ArchInfo {
                name: "ppc64el",
                machine: "ppc64le",
                elf_class: 2,
                elf_data: 1,
                e_machine: 21,
                e_flags: 2,
                description: "ELF 64-bit LSB executable, 64-bit PowerPC or cisco 7500, OpenPOWER ELF V2 ABI, version 1 (SYSV)",
                cpuinfo: CPUINFO_PPC64EL,
                compiler: "gcc version 6.3.0 20170516 (Debian 6.3.0-18) ",
            },
            Arch::M68k => ArchInfo {
                name: "m68k",
                machine: "m68k",
                elf_class: 1,
                elf_data: 2,
                e_machine: 4,
                e_flags: 0,
                description: "ELF 32-bit MSB executable, Motorola m68k, 68020, version 1 (SYSV)",
                cpuinfo: CPUINFO_M68K,
                compiler: "gcc version 3.4.0 ",
            },
        }
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The name IoT malware gives this architecture in its file names and
    /// loaders (`mirai.arm7`, `x86`...).
    pub fn malware_name(self) -> &'static str {
        match self {
            Arch::Armel => "arm",
            Arch::Armhf => "arm7",
            Arch::Arm64 => "aarch64",
            Arch::I686 => "x86",
            other => other.name(),
        }
    }

    /// The architecture an ELF header describes (`e_machine`, class,
    /// endianness, `e_flags`), if it is one of these. 64-bit SPARC counts
    /// as SPARC: the same devices, the same sandbox.
    pub fn from_elf(e_machine: u16, bits: u8, little_endian: bool, e_flags: u32) -> Option<Arch> {
        Some(match (e_machine, bits, little_endian) {
            // ARM hard-float (EF_ARM_ABI_FLOAT_HARD) is armhf: Mirai's arm7.
            (40, 32, true) if e_flags & 0x400 != 0 => Arch::Armhf,
            (40, 32, true) => Arch::Armel,
            (183, 64, true) => Arch::Arm64,
            (8, 32, false) | (10, 32, false) => Arch::Mips,
            (8, 32, true) | (10, 32, true) => Arch::Mipsel,
            (8, 64, true) => Arch::Mips64el,
            (20, 32, false) => Arch::Ppc,
            (21, 64, true) => Arch::Ppc64el,
            (3, 32, true) => Arch::I686,
            (62, 64, true) => Arch::X86_64,
            (42, 32, true) => Arch::Sh4,
            (2 | 18 | 43, _, false) => Arch::Sparc,
            (4, 32, false) => Arch::M68k,
            _ => return None,
        })
    }

    /// The first `len` bytes of an executable for this architecture: a valid
    /// ELF header and one PT_LOAD program header, then zeros. Enough for any
    /// loader that sniffs the architecture from `cat /bin/echo`.
    pub fn elf_header(self) -> Vec<u8> {
        let a = self.info();
        let is64 = a.elf_class == 2;
        let le = a.elf_data == 1;
        let mut h = Vec::with_capacity(128);
        h.extend_from_slice(&[0x7f, b'E', b'L', b'F', a.elf_class, a.elf_data, 1, 0]);
        h.extend_from_slice(&[0; 8]);
        let u16b = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let u32b = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let u64b = |v: u64| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let base: u64 = match self {
            Arch::Mips | Arch::Mipsel | Arch::Mips64el => 0x0040_0000,
            Arch::I686 => 0x0804_8000,
            Arch::Ppc => 0x1000_0000,
            Arch::Sh4 => 0x0040_0000,
            _ => 0x0001_0000,
        };
        let ehsize: u16 = if is64 { 64 } else { 52 };
        let phentsize: u16 = if is64 { 56 } else { 32 };
        h.extend_from_slice(&u16b(2)); // ET_EXEC
        h.extend_from_slice(&u16b(a.e_machine));
        h.extend_from_slice(&u32b(1)); // EV_CURRENT
        let entry = base + 0x1a0;
        if is64 {
            h.extend_from_slice(&u64b(entry));
            h.extend_from_slice(&u64b(ehsize as u64)); // phoff
            h.extend_from_slice(&u64b(0)); // shoff: stripped, no sections
        } else {
            h.extend_from_slice(&u32b(entry as u32));
            h.extend_from_slice(&u32b(ehsize as u32));
            h.extend_from_slice(&u32b(0));
        }
        h.extend_from_slice(&u32b(a.e_flags));
        h.extend_from_slice(&u16b(ehsize));
        h.extend_from_slice(&u16b(phentsize));
        h.extend_from_slice(&u16b(1)); // phnum
        h.extend_from_slice(&u16b(if is64 { 64 } else { 40 })); // shentsize
        h.extend_from_slice(&u16b(0)); // shnum
        h.extend_from_slice(&u16b(0)); // shstrndx
                                       // One PT_LOAD, R+X.
        let filesz: u64 = 0x5_c000;
        if is64 {
            h.extend_from_slice(&u32b(1));
            h.extend_from_slice(&u32b(5));
            h.extend_from_slice(&u64b(0));
            h.extend_from_slice(&u64b(base));
            h.extend_from_slice(&u64b(base));
            h.extend_from_slice(&u64b(filesz));
            h.extend_from_slice(&u64b(filesz));
            h.extend_from_slice(&u64b(0x10000));
        } else {
            for v in [
                1,
                0,
                base as u32,
                base as u32,
                filesz as u32,
                filesz as u32,
                5,
                0x10000,
            ] {
                h.extend_from_slice(&u32b(v));
            }
        }
        h
    }
}

#[cfg(test)]
mod elf_tests {
    use super::*;

    #[test]
    fn every_header_reads_back_as_its_architecture() {
        for a in Arch::ALL {
            let h = a.elf_header();
            let le = h[5] == 1;
            let u16at = |i: usize| {
                if le {
                    u16::from_le_bytes([h[i], h[i + 1]])
                } else {
                    u16::from_be_bytes([h[i], h[i + 1]])
                }
            };
            let flags_at = if h[4] == 2 { 48 } else { 36 };
            let f = [
                h[flags_at],
                h[flags_at + 1],
                h[flags_at + 2],
                h[flags_at + 3],
            ];
            let flags = if le {
                u32::from_le_bytes(f)
            } else {
                u32::from_be_bytes(f)
            };
            let bits = if h[4] == 2 { 64 } else { 32 };
            assert_eq!(Arch::from_elf(u16at(18), bits, le, flags), Some(a), "{a}");
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Arch {
    type Err = String;
    fn from_str(s: &str) -> Result<Arch, String> {
        Arch::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown architecture {s:?}"))
    }
}

const CPUINFO_ARMV5: &str = "Processor\t: ARM926EJ-S rev 5 (v5l)
BogoMIPS\t: 218.72
Features\t: swp half thumb fastmult edsp java 
CPU implementer\t: 0x41
CPU architecture: 5TEJ
CPU variant\t: 0x0
CPU part\t: 0x926
CPU revision\t: 5

Hardware\t: hi3518
Revision\t: 0000
Serial\t\t: 0000000000000000
";

const CPUINFO_ARMV7: &str = "Processor\t: ARMv7 Processor rev 1 (v7l)
processor\t: 0
BogoMIPS\t: 1196.85

Features\t: swp half thumb fastmult vfp edsp neon vfpv3 tls 
CPU implementer\t: 0x41
CPU architecture: 7
CPU variant\t: 0x3
CPU part\t: 0xc09
CPU revision\t: 1

Hardware\t: hi3520d
Revision\t: 0000
Serial\t\t: 0000000000000000
";

const CPUINFO_ARM64: &str = "processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd03
CPU revision\t: 4

processor\t: 1
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd03
CPU revision\t: 4

";

const CPUINFO_MIPS: &str = "system type\t\t: Atheros AR9344 rev 2
machine\t\t\t: Unknown
processor\t\t: 0
cpu model\t\t: MIPS 74Kc V4.12
BogoMIPS\t\t: 278.93
wait instruction\t: yes
microsecond timers\t: yes
tlb_entries\t\t: 32
extra interrupt vector\t: yes
hardware watchpoint\t: yes, count: 4, address/irw mask: [0x0000, 0x0ff8, 0x0ff8, 0x0ff8]
isa\t\t\t: mips1 mips2 mips32r1 mips32r2
ASEs implemented\t: mips16 dsp dsp2
shadow register sets\t: 1
kscratch registers\t: 0
core\t\t\t: 0
VCED exceptions\t\t: not available
VCEI exceptions\t\t: not available

";

const CPUINFO_MIPSEL: &str = "system type\t\t: Ralink RT3052 id:1 rev:3
machine\t\t\t: Unknown
processor\t\t: 0
cpu model\t\t: MIPS 24KEc V4.12
BogoMIPS\t\t: 255.48
wait instruction\t: yes
microsecond timers\t: yes
tlb_entries\t\t: 32
extra interrupt vector\t: yes
hardware watchpoint\t: yes, count: 4, address/irw mask: [0x0ffc, 0x0ffc, 0x0ffb, 0x0ffb]
isa\t\t\t: mips1 mips2 mips32r1 mips32r2
ASEs implemented\t: mips16 dsp
shadow register sets\t: 1
kscratch registers\t: 0
core\t\t\t: 0
VCED exceptions\t\t: not available
VCEI exceptions\t\t: not available

";

const CPUINFO_MIPS64: &str = "system type\t\t: UBNT_E100
machine\t\t\t: Unknown
processor\t\t: 0
cpu model\t\t: Cavium Octeon+ V0.1
BogoMIPS\t\t: 1000.00
wait instruction\t: yes
microsecond timers\t: yes
tlb_entries\t\t: 32
extra interrupt vector\t: yes
hardware watchpoint\t: yes, count: 2, address/irw mask: [0x0ffc, 0x0ffb]
isa\t\t\t: mips2 mips3 mips4 mips5 mips64r2
ASEs implemented\t:
shadow register sets\t: 1
kscratch registers\t: 0
core\t\t\t: 0
VCED exceptions\t\t: not available
VCEI exceptions\t\t: not available

";

const CPUINFO_PPC: &str = "processor\t: 0
cpu\t\t: e300c1
clock\t\t: 400.000000MHz
revision\t: 1.1 (pvr 8083 0011)
bogomips\t: 66.66
timebase\t: 33333333
platform\t: MPC83xx
model\t\t: MPC8349EMITXGP
Memory\t\t: 256 MB
";

const CPUINFO_PPC64EL: &str = "processor\t: 0
cpu\t\t: POWER8E (raw), altivec supported
clock\t\t: 2926.000000MHz
revision\t: 2.1 (pvr 004b 0201)

timebase\t: 512000000
platform\t: pSeries
model\t\t: IBM pSeries (emulated by qemu)
machine\t\t: CHRP IBM pSeries (emulated by qemu)
";

const CPUINFO_X86: &str = "processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 28
model name\t: Intel(R) Atom(TM) CPU D525   @ 1.80GHz
stepping\t: 10
cpu MHz\t\t: 1799.823
cache size\t: 512 KB
fdiv_bug\t: no
hlt_bug\t\t: no
f00f_bug\t: no
coma_bug\t: no
fpu\t\t: yes
fpu_exception\t: yes
cpuid level\t: 10
wp\t\t: yes
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe nx lm constant_tsc arch_perfmon pebs bts aperfmperf pni dtes64 monitor ds_cpl tm2 ssse3 cx16 xtpr pdcm movbe lahf_lm dts
bogomips\t: 3599.64
clflush size\t: 64
cache_alignment\t: 64
address sizes\t: 36 bits physical, 48 bits virtual
power management:

";

const CPUINFO_X86_64: &str = "processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 55
model name\t: Intel(R) Celeron(R) CPU  J1900  @ 1.99GHz
stepping\t: 8
cpu MHz\t\t: 1999.000
cache size\t: 1024 KB
physical id\t: 0
siblings\t: 4
core id\t\t: 0
cpu cores\t: 4
fpu\t\t: yes
fpu_exception\t: yes
cpuid level\t: 11
wp\t\t: yes
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx rdtscp lm constant_tsc arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 cx16 xtpr pdcm sse4_1 sse4_2 movbe popcnt tsc_deadline_timer rdrand lahf_lm 3dnowprefetch
bogomips\t: 3998.00
clflush size\t: 64
cache_alignment\t: 64
address sizes\t: 36 bits physical, 48 bits virtual
power management:

";

const CPUINFO_SH4: &str = "machine\t\t: STb7100 Reference board
processor\t: 0
cpu family\t: sh4
cpu type\t: STb7100
cut\t\t: 3.x
cpu flags\t: fpu
cache type\t: split (harvard)
icache size\t: 16KiB (2-way)
dcache size\t: 32KiB (2-way)
bogomips\t: 264.19
master_clk\t: 264.00MHz
module_clk\t: 66.00MHz
bus_clk\t\t: 132.00MHz
cpu_clk\t\t: 264.00MHz
tmu0_clk\t: 16.50MHz
";

const CPUINFO_SPARC: &str = "cpu\t\t: Fujitsu  MB86904
fpu\t\t: Lsi Logic/Meiko L64804 or compatible
promlib\t\t: Version 0 Revision 0
prom\t\t: 2.25
type\t\t: sun4m
ncpus probed\t: 1
ncpus active\t: 1
Cpu0Bogo\t: 109.36
MMU type\t: Fujitsu Swift
";

const CPUINFO_M68K: &str = "CPU:\t\t68020
MMU:\t\t68851
FPU:\t\t68881
Clocking:\t16.7MHz
BogoMips:\t4.17
Calibration:\t20864 loops
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elf_headers_are_well_formed() {
        for arch in Arch::ALL {
            let h = arch.elf_header();
            let a = arch.info();
            assert_eq!(&h[..4], b"\x7fELF");
            assert_eq!(h[4], a.elf_class);
            assert_eq!(h[5], a.elf_data);
            let machine = if a.elf_data == 1 {
                u16::from_le_bytes([h[18], h[19]])
            } else {
                u16::from_be_bytes([h[18], h[19]])
            };
            assert_eq!(machine, a.e_machine, "{arch}");
            let expected = if a.elf_class == 2 { 64 + 56 } else { 52 + 32 };
            assert_eq!(h.len(), expected, "{arch}");
            assert_eq!(arch.name().parse::<Arch>(), Ok(arch));
        }
    }
}
