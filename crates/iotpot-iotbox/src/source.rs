//! Images for the architectures Debian 12 lacks (`iotpot box build
//! --from-source`): the kernel and BusyBox cross-built from Debian 12's
//! own source packages (`linux-source-6.1`, `busybox`) with Debian's cross
//! compilers. The kernel starts from `allnoconfig` and gets exactly what a
//! sandbox uses (serial console, initramfs, the system calls glibc and
//! BusyBox need, IPv4/IPv6, one virtio NIC for analysis): a small kernel,
//! like a device's, and a build of a few minutes rather than a quarter of
//! an hour. No modules, no SMP (most routers have one core).
//!
//! The compiled kernel is kept in the build cache with a stamp (source
//! version + recipe): rebuilding the image does not recompile it.

use crate::arch::BoxArch;
use crate::image::{self, output, run, Apt, Progress};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to cross-build one architecture.
#[derive(Debug, PartialEq, Eq)]
pub struct Recipe {
    /// The cross toolchain's prefix, without the trailing `-`.
    pub cross: &'static str,
    /// Debian packages that provide the toolchain (for the error message).
    pub packages: &'static str,
    /// The kernel's `ARCH=`.
    pub kernel_arch: &'static str,
    /// The board's options (`CONFIG_...=y` lines), added to [`COMMON`].
    pub board: &'static str,
    /// The make target, and the file it leaves in the tree.
    pub target: &'static str,
    pub output: &'static str,
}

/// What every sandbox kernel has (over `allnoconfig`).
const COMMON: &str = "\
CONFIG_PRINTK=y
CONFIG_BUG=y
CONFIG_MULTIUSER=y
CONFIG_SYSVIPC=y
CONFIG_POSIX_MQUEUE=y
CONFIG_POSIX_TIMERS=y
CONFIG_COMPAT_32BIT_TIME=y
CONFIG_FUTEX=y
CONFIG_EPOLL=y
CONFIG_SIGNALFD=y
CONFIG_TIMERFD=y
CONFIG_EVENTFD=y
CONFIG_AIO=y
CONFIG_FILE_LOCKING=y
CONFIG_ADVISE_SYSCALLS=y
CONFIG_MEMBARRIER=y
CONFIG_CROSS_MEMORY_ATTACH=y
CONFIG_HIGH_RES_TIMERS=y
CONFIG_NO_HZ_IDLE=y
CONFIG_NO_HZ=y
CONFIG_HZ_100=y
CONFIG_TTY=y
CONFIG_UNIX98_PTYS=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_PROC_FS=y
CONFIG_PROC_SYSCTL=y
CONFIG_SYSFS=y
CONFIG_DEVTMPFS=y
CONFIG_TMPFS=y
CONFIG_SHMEM=y
CONFIG_NET=y
CONFIG_UNIX=y
CONFIG_INET=y
CONFIG_IP_MULTICAST=y
CONFIG_SYN_COOKIES=y
CONFIG_IPV6=y
CONFIG_PACKET=y
CONFIG_PCI=y
CONFIG_NETDEVICES=y
CONFIG_NET_CORE=y
CONFIG_VIRTIO_MENU=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_NET=y
CONFIG_MODULES=n
CONFIG_SMP=n
";

/// MIPS big-endian on QEMU's Malta board (the 32-bit MIPS most IoT
/// malware targets after ARM).
pub const MIPS: Recipe = Recipe {
    cross: "mips-linux-gnu",
    packages: "gcc-mips-linux-gnu libc6-dev-mips-cross",
    kernel_arch: "mips",
    board: "\
CONFIG_MIPS_MALTA=y
CONFIG_CPU_MIPS32_R2=y
CONFIG_CPU_BIG_ENDIAN=y
CONFIG_CPU_LITTLE_ENDIAN=n
CONFIG_MIPS_FP_SUPPORT=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
",
    target: "vmlinux",
    output: "vmlinux",
};

/// 32-bit big-endian PowerPC on QEMU's generic e500 board with an e500mc
/// core (Freescale QorIQ, as in many gateways and NAS; it has the classic
/// FPU Debian's `powerpc` userland uses).
pub const PPC: Recipe = Recipe {
    cross: "powerpc-linux-gnu",
    packages: "gcc-powerpc-linux-gnu libc6-dev-powerpc-cross",
    kernel_arch: "powerpc",
    board: "\
CONFIG_PPC_85xx=y
CONFIG_PPC_E500MC=y
CONFIG_E500MC_CPU=y
CONFIG_PHYS_64BIT=y
CONFIG_FSL_SOC_BOOKE=y
CONFIG_PPC_QEMU_E500=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_SERIAL_OF_PLATFORM=y
",
    target: "vmlinux",
    output: "vmlinux",
};

/// 64-bit SPARC on QEMU's `sun4u` (an UltraSPARC IIi workstation with
/// OpenBIOS): a sparc64 kernel runs the 32-bit SPARC binaries IoT malware
/// is built as (`COMPAT`), and the shell runs under `linux32`, so `uname
/// -m` says `sparc` as a 32-bit system would.
pub const SPARC: Recipe = Recipe {
    cross: "sparc64-linux-gnu",
    packages: "gcc-sparc64-linux-gnu libc6-dev-sparc64-cross",
    kernel_arch: "sparc64",
    board: "\
CONFIG_64BIT=y
CONFIG_SPARC64=y
CONFIG_COMPAT=y
CONFIG_SERIAL_SUNSU=y
CONFIG_SERIAL_SUNSU_CONSOLE=y
",
    target: "vmlinux",
    output: "vmlinux",
};

/// The build date the binaries show (`uname -v`, BusyBox's banner): a
/// plausible firmware's, never the day of the build.
const BUILD_DATE: &str = "Tue Mar 12 10:21:07 UTC 2019";
const BUILD_EPOCH: u64 = 1_552_386_067;

/// What the host must have besides the cross compiler.
const HOST_TOOLS: &[&str] = &["make", "flex", "bison", "bc", "dpkg-source", "xz", "perl"];

/// Is every tool the recipe needs installed? The error names the packages.
pub fn check_tools(r: &Recipe) -> anyhow::Result<()> {
    let mut missing: Vec<String> = HOST_TOOLS
        .iter()
        .filter(|t| !on_path(t))
        .map(|t| t.to_string())
        .collect();
    let gcc = format!("{}-gcc", r.cross);
    if !on_path(&gcc) {
        missing.push(gcc);
    }
    if !missing.is_empty() {
        bail!(
            "missing {}: apt-get install {} make flex bison bc dpkg-dev xz-utils perl",
            missing.join(", "),
            r.packages
        );
    }
    Ok(())
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// The sources, downloaded once into `cache/src/` by an apt of our own
/// (with a `deb-src` line; the host's apt is untouched).
struct Sources {
    busybox: PathBuf,
    busybox_version: String,
    kernel_tar: PathBuf,
    kernel_package: String,
    kernel_version: String,
}

fn sources(cache: &Path, progress: &dyn Progress, arch: &str) -> anyhow::Result<Sources> {
    let dir = cache.join("src");
    std::fs::create_dir_all(&dir)?;
    let host = output(Command::new("dpkg").arg("--print-architecture"))?;
    let apt = Apt::with_sources(cache, "src", host.trim())?;
    progress.step(arch, "source package lists");
    apt.update()?;

    progress.step(arch, "busybox source");
    let busybox_version = apt.source_version("busybox")?;
    let upstream = busybox_version
        .split_once(':')
        .map_or(busybox_version.as_str(), |(_, v)| v);
    let busybox = dir.join(format!("busybox-{upstream}"));
    if !busybox.join("Makefile").exists() {
        run(
            apt.cmd("apt-get")
                .args(["source", "--download-only", "busybox"])
                .current_dir(&dir),
            "apt-get source busybox",
        )?;
        // apt checked the files against the signed index; dpkg-source
        // need not look for the uploader's key.
        let dsc = dir.join(format!("busybox_{upstream}.dsc"));
        let _ = std::fs::remove_dir_all(&busybox);
        run(
            Command::new("dpkg-source")
                .args(["--no-check", "-x"])
                .arg(&dsc)
                .arg(&busybox),
            "dpkg-source -x busybox",
        )?;
    }

    progress.step(arch, "linux source");
    let kernel_package = apt.depends("linux-source")?;
    let kernel_version = apt.version(&kernel_package)?;
    let kernel_tar = dir.join(format!("{kernel_package}_{kernel_version}.tar.xz"));
    if !kernel_tar.exists() {
        let deb = apt.download(&kernel_package, &dir)?;
        let x = dir.join("x");
        image::extract(&deb, "./usr/src/*.tar.xz", &x)?;
        let tar = find_in(&x.join("usr/src"), "linux-source", ".tar.xz")?;
        std::fs::rename(&tar, &kernel_tar)?;
        let _ = std::fs::remove_dir_all(&x);
        let _ = std::fs::remove_file(&deb);
    }
    Ok(Sources {
        busybox,
        busybox_version,
        kernel_tar,
        kernel_package,
        kernel_version,
    })
}

fn find_in(dir: &Path, prefix: &str, suffix: &str) -> anyhow::Result<PathBuf> {
    std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .with_context(|| format!("no {prefix}*{suffix} in {}", dir.display()))
}

fn jobs() -> String {
    format!(
        "-j{}",
        std::thread::available_parallelism().map_or(2, |n| n.get())
    )
}

/// A long step's output goes to a log; a failure shows its end.
fn logged(cmd: &mut Command, log: &Path, what: &str) -> anyhow::Result<()> {
    let file = std::fs::File::create(log)?;
    let status = cmd
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("{what}: cannot run"))?;
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        bail!(
            "{what} failed (log {}):\n{}",
            log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(())
}

/// BusyBox with Debian's static configuration (that of `busybox-static`).
fn busybox(src: &Path, work: &Path, r: &Recipe) -> anyhow::Result<Vec<u8>> {
    let b = work.join("busybox");
    std::fs::create_dir_all(&b)?;
    std::fs::copy(src.join("debian/config/pkg/static"), b.join(".config"))?;
    let make = |target: &str| {
        let mut c = Command::new("make");
        c.arg("-C")
            .arg(src)
            .arg(format!("O={}", b.display()))
            .arg(format!("CROSS_COMPILE={}-", r.cross))
            .arg(jobs())
            .arg(target)
            // The build date in its banner: the kernel's, not today.
            .env("SOURCE_DATE_EPOCH", BUILD_EPOCH.to_string());
        c
    };
    let log = work.join("busybox.log");
    logged(
        make("oldconfig").stdin(std::process::Stdio::null()),
        &log,
        "busybox oldconfig",
    )?;
    logged(&mut make("busybox"), &log, "busybox build")?;
    Ok(std::fs::read(b.join("busybox"))?)
}

/// The kernel, from the cache when its stamp matches.
fn kernel(
    src: &Sources,
    cache: &Path,
    work: &Path,
    arch: &BoxArch,
    r: &Recipe,
    progress: &dyn Progress,
) -> anyhow::Result<PathBuf> {
    let built = cache.join(format!("kernel-{}", arch.name()));
    let stamp = format!(
        "{} {}\n{COMMON}{r:?}\n",
        src.kernel_package, src.kernel_version
    );
    let stamp_file = cache.join(format!("kernel-{}.stamp", arch.name()));
    if built.exists() && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(&stamp) {
        return Ok(built);
    }
    progress.step(arch.name(), "unpacking linux source");
    let tree = work.join("linux");
    std::fs::create_dir_all(&tree)?;
    run(
        Command::new("tar")
            .arg("-xJf")
            .arg(&src.kernel_tar)
            .arg("--strip-components=1")
            .arg("-C")
            .arg(&tree),
        "tar linux source",
    )?;
    let make = |target: &str| {
        let mut c = Command::new("make");
        c.arg("-C")
            .arg(&tree)
            .arg(format!("ARCH={}", r.kernel_arch))
            .arg(format!("CROSS_COMPILE={}-", r.cross))
            // What `uname -v` shows: a plain build, not this host's.
            .env("KBUILD_BUILD_TIMESTAMP", BUILD_DATE)
            .env("KBUILD_BUILD_USER", "root")
            .env("KBUILD_BUILD_HOST", "buildserver")
            .arg(target);
        c
    };
    let log = work.join("kernel.log");
    progress.step(arch.name(), "configuring the kernel");
    let fragment = work.join("sandbox.config");
    std::fs::write(&fragment, format!("{COMMON}{}", r.board))?;
    let mut cfg = make("allnoconfig");
    cfg.arg(format!("KCONFIG_ALLCONFIG={}", fragment.display()));
    logged(&mut cfg, &log, "kernel allnoconfig")?;
    check_config(&tree.join(".config"), &fragment)?;
    progress.step(arch.name(), "compiling the kernel (about 5 min on 2 cores)");
    let mut m = make(r.target);
    m.arg(jobs());
    logged(&mut m, &log, "kernel build")?;
    // An ELF is stripped (the symbols are of no use to a sandbox); a
    // boot image is taken as it is.
    let out = tree.join(r.output);
    if std::fs::read(&out)?.starts_with(b"\x7fELF") {
        run(
            Command::new(format!("{}-strip", r.cross))
                .arg("-o")
                .arg(&built)
                .arg(&out),
            "strip",
        )?;
    } else {
        std::fs::copy(&out, &built)?;
    }
    std::fs::write(&stamp_file, stamp)?;
    Ok(built)
}

/// Every option the fragment asks for is in the configuration (an option
/// whose dependencies are missing is silently dropped by Kconfig).
fn check_config(config: &Path, fragment: &Path) -> anyhow::Result<()> {
    let got = std::fs::read_to_string(config)?;
    let want = std::fs::read_to_string(fragment)?;
    let missing: Vec<&str> = want
        .lines()
        .filter(|l| l.ends_with("=y") && !got.lines().any(|g| g == *l))
        .collect();
    if !missing.is_empty() {
        bail!("the kernel configuration lacks {}", missing.join(", "));
    }
    Ok(())
}

/// Build the image of a from-source architecture into `images/<arch>/`.
pub fn build(
    images: &Path,
    cache: &Path,
    arch: &'static BoxArch,
    progress: &dyn Progress,
) -> anyhow::Result<image::Image> {
    let Some(r) = arch.source else {
        bail!(
            "{} is built from Debian packages, not from source",
            arch.name()
        );
    };
    check_tools(r)?;
    let src = sources(cache, progress, arch.name())?;
    let work = cache.join(format!("work-{}", arch.name()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;

    progress.step(arch.name(), "cross-building busybox");
    let bb = busybox(&src.busybox, &work, r)?;
    let kernel = kernel(&src, cache, &work, arch, r, progress)?;

    progress.step(arch.name(), "initramfs");
    let img = image::install(
        images,
        arch,
        &kernel,
        &bb,
        &[],
        format!("{} (cross-built for {})", src.kernel_package, arch.qemu),
        src.kernel_version.clone(),
        src.busybox_version.clone(),
    )?;
    let _ = std::fs::remove_dir_all(&work);
    progress.step(arch.name(), "done");
    Ok(img)
}
