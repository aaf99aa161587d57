//! Templates: a booted machine's saved state, from which fresh sandboxes are
//! restored (`-incoming`) in a fraction of a second — the clean reset.
//!
//! A template only loads into an identical machine: it is keyed by a hash
//! of QEMU's version, the command line and the image's files, and made
//! again whenever one of them changes.

use crate::image::Image;
use crate::vm::Vm;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The template file for `image` under the QEMU found on this host.
pub fn path(image: &Image) -> anyhow::Result<PathBuf> {
    let version = std::process::Command::new(image.arch.qemu)
        .arg("--version")
        .output()?;
    let mut h = Sha256::new();
    h.update(&version.stdout);
    for a in crate::vm::qemu_args(image, Path::new("qmp")) {
        h.update(a.as_bytes());
        h.update([0]);
    }
    h.update(image.manifest.kernel_sha256.as_bytes());
    h.update(image.manifest.initramfs_sha256.as_bytes());
    let key = hex::encode(&h.finalize()[..8]);
    Ok(image.dir.join(format!("template-{key}.mig")))
}

/// The template of `image`, made now (a cold boot) if missing; `None` for
/// a machine QEMU cannot restore (its sandboxes boot cold).
pub async fn ensure(image: &Image, run_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    if !image.arch.snapshot {
        return Ok(None);
    }
    let path = path(image)?;
    if path.exists() {
        return Ok(Some(path));
    }
    let mut vm = Vm::start(image, &run_dir.join("template"), None).await?;
    // One command first: the shell is reading its input when restored.
    vm.run(b"true", Duration::from_secs(30)).await?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    vm.save(&tmp).await?;
    vm.kill().await;
    std::fs::rename(&tmp, &path)?;
    Ok(Some(path))
}
