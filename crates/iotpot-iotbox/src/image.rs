//! Images: a Debian kernel and an initramfs holding only Debian's
//! `busybox-static` of the same architecture, built from Debian packages
//! (no root needed: a private apt state downloads them, `dpkg-deb`
//! extracts them, the initramfs is written here).
//!
//! `images/<arch>/` holds `kernel`, `initramfs.cpio` and `manifest.toml`
//! (package versions and SHA-256 of both files, checked before use).

use crate::arch::BoxArch;
use crate::cpio::Cpio;
use anyhow::{bail, Context};
use iotpot_core::sample::sha256_hex;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian release images come from.
pub const SUITE: &str = "bookworm";
pub const MIRROR: &str = "http://deb.debian.org/debian";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub arch: String,
    pub kernel_package: String,
    pub kernel_version: String,
    pub busybox_version: String,
    pub kernel_sha256: String,
    pub initramfs_sha256: String,
}

/// A built image, ready to boot.
#[derive(Debug, Clone)]
pub struct Image {
    pub arch: &'static BoxArch,
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Image {
    pub fn kernel(&self) -> PathBuf {
        self.dir.join("kernel")
    }
    pub fn initramfs(&self) -> PathBuf {
        self.dir.join("initramfs.cpio")
    }

    /// The image of `arch` in `images`, if built; `verify` rehashes its files.
    pub fn load(images: &Path, arch: &'static BoxArch, verify: bool) -> anyhow::Result<Image> {
        let dir = images.join(arch.name());
        let text = std::fs::read_to_string(dir.join("manifest.toml")).with_context(|| {
            format!(
                "no {} image in {} (iotpot box build)",
                arch.name(),
                images.display()
            )
        })?;
        let manifest: Manifest = toml::from_str(&text)?;
        let image = Image {
            arch,
            dir,
            manifest,
        };
        if verify {
            for (path, want) in [
                (image.kernel(), &image.manifest.kernel_sha256),
                (image.initramfs(), &image.manifest.initramfs_sha256),
            ] {
                if sha256_file(&path)? != *want {
                    bail!(
                        "{}: does not match its manifest (rebuild with iotpot box build)",
                        path.display()
                    );
                }
            }
        }
        Ok(image)
    }
}

pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    Ok(sha256_hex(&bytes))
}

/// Steps of a build, for a progress display.
pub trait Progress {
    fn step(&self, arch: &str, what: &str);
}

impl Progress for () {
    fn step(&self, _: &str, _: &str) {}
}

/// apt with a private state directory: package lists for one foreign
/// architecture, downloads into the current directory; no root, and the
/// host's apt is untouched.
pub(crate) struct Apt {
    root: PathBuf,
    arch: String,
}

impl Apt {
    fn new(cache: &Path, arch: &str) -> anyhow::Result<Apt> {
        Apt::create(cache, arch, arch, false)
    }

    /// An apt that also knows the source packages (state in
    /// `cache/apt-<name>`).
    pub(crate) fn with_sources(cache: &Path, name: &str, arch: &str) -> anyhow::Result<Apt> {
        Apt::create(cache, name, arch, true)
    }

    fn create(cache: &Path, name: &str, arch: &str, sources: bool) -> anyhow::Result<Apt> {
        let root = cache.join(format!("apt-{name}"));
        for d in ["lists/partial", "cache/archives/partial", "etc"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        // The release (point releases carry the security fixes): one
        // index, reproducible builds.
        let mut list = format!("deb {MIRROR} {SUITE} main\n");
        if sources {
            list.push_str(&format!("deb-src {MIRROR} {SUITE} main\n"));
        }
        std::fs::write(root.join("etc/sources.list"), list)?;
        let status = root.join("status");
        if !status.exists() {
            std::fs::write(&status, "")?;
        }
        Ok(Apt {
            root,
            arch: arch.to_string(),
        })
    }

    pub(crate) fn cmd(&self, tool: &str) -> Command {
        let r = self.root.display();
        let mut c = Command::new(tool);
        c.arg("-q");
        for o in [
            format!("Dir::State={r}"),
            format!("Dir::State::Lists={r}/lists"),
            format!("Dir::State::status={r}/status"),
            format!("Dir::Cache={r}/cache"),
            format!("Dir::Etc::SourceList={r}/etc/sources.list"),
            "Dir::Etc::SourceParts=/dev/null".to_string(),
            format!("APT::Architecture={}", self.arch),
            format!("APT::Architectures::={}", self.arch),
            "Debug::NoLocking=1".to_string(),
            "APT::Sandbox::User=root".to_string(),
        ] {
            c.arg("-o").arg(o);
        }
        c
    }

    pub(crate) fn update(&self) -> anyhow::Result<()> {
        run(self.cmd("apt-get").arg("update"), "apt-get update")
    }

    /// The first dependency of a metapackage, and a package's version.
    pub(crate) fn depends(&self, package: &str) -> anyhow::Result<String> {
        let out = output(self.cmd("apt-cache").args(["depends", package]))?;
        out.lines()
            .find_map(|l| l.trim().strip_prefix("Depends: "))
            .map(|s| s.trim().to_string())
            .with_context(|| format!("{package} has no dependency"))
    }

    pub(crate) fn version(&self, package: &str) -> anyhow::Result<String> {
        let out = output(self.cmd("apt-cache").args(["policy", package]))?;
        out.lines()
            .find_map(|l| l.trim().strip_prefix("Candidate: "))
            .map(|s| s.trim().to_string())
            .with_context(|| format!("no version of {package}"))
    }

    /// The version of a source package.
    pub(crate) fn source_version(&self, package: &str) -> anyhow::Result<String> {
        let out = output(self.cmd("apt-cache").args(["showsrc", package]))?;
        out.lines()
            .find_map(|l| l.strip_prefix("Version: "))
            .map(|s| s.trim().to_string())
            .with_context(|| format!("no source package {package}"))
    }

    /// Download a package into `dir`; its path.
    pub(crate) fn download(&self, package: &str, dir: &Path) -> anyhow::Result<PathBuf> {
        run(
            self.cmd("apt-get")
                .arg("download")
                .arg(package)
                .current_dir(dir),
            "apt-get download",
        )?;
        let name = package.split(':').next().unwrap_or(package);
        std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{name}_")) && n.ends_with(".deb"))
            })
            .with_context(|| format!("{package}: downloaded file not found"))
    }
}

pub(crate) fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let out = cmd
        .stdout(std::process::Stdio::null())
        .output()
        .with_context(|| format!("{what}: cannot run (is it installed?)"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

pub(crate) fn output(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.output()?;
    if !out.status.success() {
        bail!(
            "{:?} failed: {}",
            cmd,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Extract the members of a .deb whose path matches `pattern` (tar
/// wildcards) into `into`.
pub(crate) fn extract(deb: &Path, pattern: &str, into: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(into)?;
    let script = "dpkg-deb --fsys-tarfile \"$1\" | tar -x -C \"$2\" --wildcards \"$3\"";
    run(
        Command::new("sh")
            .args(["-c", script, "sh"])
            .arg(deb)
            .arg(into)
            .arg(pattern),
        "dpkg-deb | tar",
    )
}

/// Build (or rebuild) the image of `arch` into `images/<arch>/`. `cache`
/// keeps apt's lists and the downloaded packages between builds.
pub fn build(
    images: &Path,
    cache: &Path,
    arch: &'static BoxArch,
    progress: &dyn Progress,
) -> anyhow::Result<Image> {
    if arch.source.is_some() {
        bail!(
            "{} is not in Debian 12: it is built from source",
            arch.name()
        );
    }
    let work = cache.join(format!("work-{}", arch.name()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;

    progress.step(arch.name(), "package lists");
    let apt = Apt::new(cache, arch.debian)?;
    apt.update()?;
    let kapt = if arch.kernel_arch() == arch.debian {
        None
    } else {
        let k = Apt::new(cache, arch.kernel_arch())?;
        k.update()?;
        Some(k)
    };
    let kapt = kapt.as_ref().unwrap_or(&apt);

    progress.step(arch.name(), "busybox-static");
    let busybox_version = apt.version("busybox-static")?;
    let bb = apt.download("busybox-static", &work)?;
    extract(&bb, "./bin/busybox", &work.join("bb"))?;
    let busybox = std::fs::read(work.join("bb/bin/busybox"))?;

    progress.step(arch.name(), "kernel");
    let kernel_package = kapt.depends(arch.kernel_meta())?;
    let kernel_version = kapt.version(&kernel_package)?;
    let deb = kapt.download(&kernel_package, &work)?;
    extract(&deb, "./boot/vmlinu*", &work.join("k"))?;
    // The network drivers, for analysis runs (modules on most kernels).
    let _ = extract(&deb, "./lib/modules/*/kernel/*virtio*", &work.join("m"));
    let _ = extract(&deb, "./lib/modules/*/kernel/*failover*", &work.join("m"));
    let modules: Vec<(String, Vec<u8>)> = NET_MODULES
        .iter()
        .filter_map(|name| {
            find_file(&work.join("m"), &format!("{name}.ko"))
                .and_then(|p| std::fs::read(p).ok())
                .map(|b| (name.to_string(), b))
        })
        .collect();
    let kernel_file = std::fs::read_dir(work.join("k/boot"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .next()
        .context("no kernel in the package")?;

    progress.step(arch.name(), "initramfs");
    let img = install(
        images,
        arch,
        &kernel_file,
        &busybox,
        &modules,
        kernel_package,
        kernel_version,
        busybox_version,
    )?;
    let _ = std::fs::remove_dir_all(&work);
    progress.step(arch.name(), "done");
    Ok(img)
}

/// Write `images/<arch>/`: the kernel, the initramfs made around
/// `busybox` (and the network modules, if the kernel needs them) and the
/// manifest that names and hashes both.
#[allow(clippy::too_many_arguments)]
pub(crate) fn install(
    images: &Path,
    arch: &'static BoxArch,
    kernel: &Path,
    busybox: &[u8],
    modules: &[(String, Vec<u8>)],
    kernel_package: String,
    kernel_version: String,
    busybox_version: String,
) -> anyhow::Result<Image> {
    let initramfs = initramfs(busybox, modules, arch.linux32);
    let dir = images.join(arch.name());
    std::fs::create_dir_all(&dir)?;
    // The templates of the previous image never load again.
    for e in std::fs::read_dir(&dir)?.flatten() {
        if e.file_name().to_string_lossy().starts_with("template-") {
            let _ = std::fs::remove_file(e.path());
        }
    }
    std::fs::copy(kernel, dir.join("kernel"))?;
    std::fs::write(dir.join("initramfs.cpio"), &initramfs)?;
    let manifest = Manifest {
        arch: arch.name().to_string(),
        kernel_package,
        kernel_version,
        busybox_version,
        kernel_sha256: sha256_file(&dir.join("kernel"))?,
        initramfs_sha256: sha256_hex(&initramfs),
    };
    std::fs::write(dir.join("manifest.toml"), toml::to_string(&manifest)?)?;
    Ok(Image {
        arch,
        dir,
        manifest,
    })
}

/// The virtio network driver and what it needs, in load order (those built
/// into a kernel are simply absent).
const NET_MODULES: &[&str] = &[
    "virtio",
    "virtio_ring",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "failover",
    "net_failover",
    "virtio_net",
];

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find_file(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

/// BusyBox's applets (the same list for every architecture of a Debian
/// build). Each becomes a link to /bin/busybox.
const APPLETS: &str = include_str!("applets.txt");

/// The boot script: mount the usual file systems, quiet the kernel, then
/// hand over to init (the last line, written by [`initramfs`]).
const INIT: &str = "#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o size=16m tmpfs /tmp
mount -t tmpfs -o size=4m tmpfs /var
mkdir -p /var/run /var/tmp /var/log
dmesg -n 1
hostname '(none)'
if grep -q iotbox.net=1 /proc/cmdline; then
  for m in $(cat /lib/modules/iotbox/order); do insmod /lib/modules/iotbox/$m.ko 2>/dev/null; done
  ifconfig lo 127.0.0.1 up
  ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up 2>/dev/null
  route add default gw 10.0.2.2 2>/dev/null
  echo nameserver 10.0.2.3 > /etc/resolv.conf
fi
";

/// init respawns the control shell on the console.
const INITTAB: &str = "::respawn:/bin/cttyhack /sbin/iotbox-shell\n::ctrlaltdel:/bin/true\n";

/// The control shell: no echo, no CR added to output, no prompt; READY
/// says a (new) shell is there. A shell that exits is replaced at once
/// (init's own respawn is slow in a restored machine: ~18 s seen on mipsel);
/// without job control (`+m`) it stays in the console's foreground group,
/// and ^C reaches the command it runs.
const SHELL: &str = "#!/bin/sh
stty -echo -onlcr -ixon -ixoff 2>/dev/null
export PS1= PS2= PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
cd /root
trap : INT
while :; do
echo IOTBOX-READY
/bin/sh +m
done
";

/// The initramfs of an IoT-like device: BusyBox and nothing else.
pub fn initramfs(busybox: &[u8], net_modules: &[(String, Vec<u8>)], linux32: bool) -> Vec<u8> {
    let mut c = Cpio::default();
    for d in [
        "/bin",
        "/sbin",
        "/usr",
        "/usr/bin",
        "/usr/sbin",
        "/etc",
        "/etc/init.d",
        "/proc",
        "/sys",
        "/dev",
        "/tmp",
        "/var",
        "/root",
        "/mnt",
        "/lib",
        "/home",
    ] {
        c.dir(d);
    }
    c.char_device("/dev/console", 0o600, 5, 1);
    c.char_device("/dev/null", 0o666, 1, 3);
    c.file("/bin/busybox", 0o755, busybox);
    for line in APPLETS.lines() {
        let path = format!("/{}", line.trim().trim_start_matches('/'));
        if path.len() > 1 && path != "/bin/busybox" {
            c.symlink(&path, "/bin/busybox");
        }
    }
    c.dir("/lib/modules");
    c.dir("/lib/modules/iotbox");
    let mut order = String::new();
    for (name, bytes) in net_modules {
        c.file(&format!("/lib/modules/iotbox/{name}.ko"), 0o644, bytes);
        order.push_str(name);
        order.push('\n');
    }
    c.file("/lib/modules/iotbox/order", 0o644, order.as_bytes());
    let init = if linux32 {
        "exec linux32 /sbin/init\n"
    } else {
        "exec /sbin/init\n"
    };
    c.file("/init", 0o755, format!("{INIT}{init}").as_bytes());
    c.file("/sbin/iotbox-shell", 0o755, SHELL.as_bytes());
    c.file("/etc/inittab", 0o644, INITTAB.as_bytes());
    c.file("/etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n");
    c.file("/etc/group", 0o644, b"root:x:0:\n");
    c.file("/etc/hosts", 0o644, b"127.0.0.1\tlocalhost\n");
    c.file("/etc/hostname", 0o644, b"(none)\n");
    c.finish()
}
