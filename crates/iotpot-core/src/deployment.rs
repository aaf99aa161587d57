//! Per-deployment randomness.
//!
//! A fixed string shared by every installation is a honeypot signature. So
//! each deployment draws one secret seed the first time it runs, keeps it in
//! `data_dir/deployment.toml`, and derives from it every value a real device
//! would vary (hostname suffix, MAC, serial, the default profile). Values are
//! stable across restarts of the same deployment and differ between two.

use sha2::{Digest, Sha256};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    seed: [u8; 32],
}

impl Deployment {
    pub fn from_seed(seed: [u8; 32]) -> Deployment {
        Deployment { seed }
    }

    /// The seed in hex: what a central gives its sensors, so that a sensor
    /// answering on its own (degraded mode) shows the same devices.
    pub fn seed_hex(&self) -> String {
        hex::encode(self.seed)
    }

    pub fn from_hex(text: &str) -> Option<Deployment> {
        let bytes = hex::decode(text).ok()?;
        Some(Deployment {
            seed: bytes.try_into().ok()?,
        })
    }

    /// Load `dir/deployment.toml`, creating it with a fresh random seed the
    /// first time.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Deployment> {
        let path = dir.join("deployment.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let hex_seed = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("seed"))
                    .map(|rest| rest.trim_start_matches([' ', '=']).trim().trim_matches('"'))
                    .unwrap_or_default();
                let bytes = hex::decode(hex_seed)
                    .ok()
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!(
                                "{}: no valid `seed = \"<64 hex digits>\"` line",
                                path.display()
                            ),
                        )
                    })?;
                let mut seed = [0; 32];
                seed.copy_from_slice(&bytes);
                Ok(Deployment { seed })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).map_err(|e| std::io::Error::other(e.to_string()))?;
                std::fs::create_dir_all(dir)?;
                std::fs::write(
                    &path,
                    format!(
                        "# This deployment's secret seed: per-device values (hostnames, MACs,\n\
                         # serials, honeytokens) derive from it. Keep it to keep them stable;\n\
                         # never share it between deployments.\nseed = \"{}\"\n",
                        hex::encode(seed)
                    ),
                )?;
                Ok(Deployment { seed })
            }
            Err(e) => Err(e),
        }
    }

    /// A stable pseudo-random value for (`scope`, `key`).
    pub fn derive(&self, scope: &str, key: &str) -> u64 {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(scope.as_bytes());
        h.update([0]);
        h.update(key.as_bytes());
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        u64::from_be_bytes(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_kept() {
        let dir = std::env::temp_dir().join(format!("iotpot-dep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = Deployment::load_or_create(&dir).unwrap();
        let b = Deployment::load_or_create(&dir).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.derive("p", "mac"), a.derive("p", "serial"));
        std::fs::write(dir.join("deployment.toml"), "seed = \"zz\"").unwrap();
        assert!(Deployment::load_or_create(&dir).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
