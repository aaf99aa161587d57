//! The sample store: `data_dir/samples/<sha256>`, mode 0400, never
//! executable, one file per distinct content.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub struct SampleStore {
    dir: PathBuf,
}

/// The result of storing one sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
    /// The store already had this content.
    pub duplicate: bool,
    pub path: PathBuf,
}

impl SampleStore {
    pub fn open(dir: &Path) -> std::io::Result<SampleStore> {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        Ok(SampleStore {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Store `bytes` under their SHA-256 (written to a temporary name, then
    /// linked in place, so a reader never sees half a sample).
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<Stored> {
        let sha256 = iotpot_core::sample::sha256_hex(bytes);
        let path = self.dir.join(&sha256);
        let stored = |duplicate: bool, path: PathBuf, sha256: String| Stored {
            sha256,
            size: bytes.len() as u64,
            duplicate,
            path,
        };
        if path.exists() {
            return Ok(stored(true, path, sha256));
        }
        // A unique temporary name: the same content may arrive twice at once.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!(".{sha256}.{}.{n}.tmp", std::process::id()));
        {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o400))?;
        // Another writer may store the same content at the same time: the
        // link is atomic and fails for all but the first, so exactly one
        // writer reports it new (and it is triaged once).
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(stored(false, path, sha256)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok(stored(true, path, sha256))
            }
            Err(e) => Err(e),
        }
    }

    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        if sha256.len() != 64 || !sha256.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a SHA-256",
            ));
        }
        std::fs::read(self.dir.join(sha256.to_ascii_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_read_only_and_deduplicated() {
        let dir = std::env::temp_dir().join(format!("iotpot-samples-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = SampleStore::open(&dir).unwrap();
        let a = s.put(b"\x7fELF sample").unwrap();
        assert!(!a.duplicate);
        let mode = std::fs::metadata(&a.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o400, "never writable, never executable");
        let b = s.put(b"\x7fELF sample").unwrap();
        assert!(b.duplicate);
        assert_eq!(s.get(&a.sha256).unwrap(), b"\x7fELF sample");
        assert!(s.get("../../etc/passwd").is_err());
        // Many writers of the same new content at once: one stores it.
        let fresh: Vec<Stored> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..8)
                .map(|_| sc.spawn(|| s.put(b"concurrent").unwrap()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(fresh.iter().filter(|x| !x.duplicate).count(), 1);
        assert_eq!(s.get(&fresh[0].sha256).unwrap(), b"concurrent");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
