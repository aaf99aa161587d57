//! `iotpot export stix`: a STIX 2.1 bundle of what the honeypot learned,
//! for a TIP or a SIEM: an indicator per sample hash, per download URL and
//! per address or name a sample contacted in an IoTBOX sandbox; a malware
//! object per family (from the YARA tags), and `indicates` relationships
//! from each indicator to the families it points at. Every object is
//! created by one identity, the honeypot. Identifiers are derived from
//! what they describe, so exporting the same period twice gives the same
//! ids (a TIP deduplicates them).

use crate::Window;
use rusqlite::Connection;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A STIX identifier: `type--uuid`, the UUID derived from the type and
/// `key`.
fn id(kind: &str, key: &str) -> String {
    format!("{kind}--{}", super::intel::uuid(kind, key))
}

/// A string inside a STIX pattern's single quotes.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A store timestamp as STIX writes them (UTC, `Z`, milliseconds).
fn stamp(t: &str) -> String {
    // `2026-12-02T03:53:59.445863Z` -> `2026-12-02T03:53:59.445Z`.
    match (t.get(..19), t.get(19..23)) {
        (Some(s), Some(frac)) if frac.starts_with('.') => format!("{s}{frac}Z"),
        (Some(s), _) => format!("{s}.000Z"),
        _ => "1970-01-01T00:00:00.000Z".into(),
    }
}

/// CPU names of triage as STIX's processor-architecture vocabulary says
/// them (`None`: none of it).
fn stix_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86" | "i386" | "i686" => "x86",
        "x86_64" | "amd64" => "x86-64",
        a if a.starts_with("arm") => "arm",
        "aarch64" | "arm64" => "arm",
        a if a.starts_with("mips") => "mips",
        a if a.starts_with("ppc") || a.starts_with("powerpc") => "powerpc",
        a if a.starts_with("sparc") => "sparc",
        _ => return None,
    })
}

/// The bundle for `window`.
pub fn bundle(conn: &Connection, window: &Window) -> anyhow::Result<Value> {
    let intel = super::intel::gather(conn, window)?;
    let now = stamp(
        &time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    );
    let me = id("identity", "iotpot");
    let mut objects = vec![json!({
        "type": "identity", "spec_version": "2.1", "id": me,
        "created": "2016-01-01T00:00:00.000Z", "modified": "2016-01-01T00:00:00.000Z",
        "name": "iotpot honeypot", "identity_class": "system",
        "description": "An IoT honeypot and sandbox (iotpot): what attackers dropped on its emulated devices.",
    })];
    let mut relationships: BTreeSet<(String, String)> = BTreeSet::new();
    let indicator = |objects: &mut Vec<Value>,
                     key: &str,
                     name: &str,
                     pattern: String,
                     first: &str,
                     description: String| {
        let i = id("indicator", key);
        objects.push(json!({
            "type": "indicator", "spec_version": "2.1", "id": i,
            "created_by_ref": me, "created": stamp(first), "modified": now,
            "name": name, "description": description,
            "indicator_types": ["malicious-activity"],
            "pattern": pattern, "pattern_type": "stix", "valid_from": stamp(first),
        }));
        i
    };
    let mut link = |from: &str, families: &[String]| {
        for f in families {
            relationships.insert((from.to_string(), id("malware", f)));
        }
    };
    for s in &intel.samples {
        let i = indicator(
            &mut objects,
            &format!("file/{}", s.sha256),
            "IoT malware sample",
            format!("[file:hashes.'SHA-256' = {}]", quoted(&s.sha256)),
            &s.first,
            format!(
                "Dropped on the honeypot: {}{}, {} bytes; seen {} to {}.",
                s.kind.as_deref().unwrap_or("a file"),
                s.arch
                    .as_deref()
                    .map(|a| format!(" for {a}"))
                    .unwrap_or_default(),
                s.size,
                s.first,
                s.last
            ),
        );
        link(&i, &s.families);
    }
    for d in &intel.downloads {
        let i = indicator(
            &mut objects,
            &format!("url/{}", d.url),
            "IoT malware download URL",
            format!("[url:value = {}]", quoted(&d.url)),
            &d.first,
            format!(
                "An attacker made the honeypot download from this URL (SHA-256 {}).",
                d.sha256s.join(", ")
            ),
        );
        for sha in &d.sha256s {
            link(&i, intel.families(sha));
        }
    }
    for c in &intel.contacts {
        let i = indicator(
            &mut objects,
            &format!("{}/{}", c.kind, c.value),
            "Contacted by IoT malware in a sandbox",
            format!("[{}:value = {}]", c.kind, quoted(&c.value)),
            &c.at,
            format!(
                "Sample {} contacted it when run in an IoTBOX sandbox.",
                c.sha256
            ),
        );
        link(&i, intel.families(&c.sha256));
    }
    // A family per YARA tag, with the CPUs its samples were built for.
    let mut families: BTreeMap<&str, (&str, BTreeSet<&'static str>)> = BTreeMap::new();
    for s in &intel.samples {
        for f in &s.families {
            let e = families.entry(f).or_insert((&s.first, BTreeSet::new()));
            if let Some(a) = s.arch.as_deref().and_then(stix_arch) {
                e.1.insert(a);
            }
        }
    }
    for (name, (first, archs)) in &families {
        let mut m = json!({
            "type": "malware", "spec_version": "2.1", "id": id("malware", name),
            "created_by_ref": me, "created": stamp(first), "modified": now,
            "name": name, "is_family": true, "malware_types": ["bot"],
        });
        if !archs.is_empty() {
            m["architecture_execution_envs"] = json!(archs);
        }
        objects.push(m);
    }
    for (from_ref, to_ref) in &relationships {
        objects.push(json!({
            "type": "relationship", "spec_version": "2.1",
            "id": id("relationship", &format!("{from_ref}/{to_ref}")),
            "created_by_ref": me, "created": now, "modified": now,
            "relationship_type": "indicates", "source_ref": from_ref, "target_ref": to_ref,
        }));
    }
    let (from, to) = window.bounds();
    Ok(
        json!({ "type": "bundle", "id": id("bundle", &format!("{from}/{to}/{now}")), "objects": objects }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_patterns() {
        let a = id("indicator", "x");
        assert_eq!(a, id("indicator", "x"), "stable");
        assert_eq!(a.len(), "indicator--".len() + 36);
        assert_eq!(&a[11 + 14..11 + 15], "4", "version 4 layout: {a}");
        assert_eq!(quoted("it's a \\ test"), "'it\\'s a \\\\ test'");
        assert_eq!(
            stamp("2026-12-02T03:53:59.445863Z"),
            "2026-12-02T03:53:59.445Z"
        );
        assert_eq!(stamp("2026-12-02T03:53:59Z"), "2026-12-02T03:53:59.000Z");
    }
}
