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
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// A STIX identifier: `type--uuid`, the UUID (version 4 layout) from a
/// hash of the type and `key`.
fn id(kind: &str, key: &str) -> String {
    let h = Sha256::digest(format!("iotpot/{kind}/{key}"));
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{kind}--{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
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
    let (from, to) = window.bounds();
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
    // Families, with the architectures their samples were built for.
    let mut families: BTreeMap<String, (String, BTreeSet<&'static str>)> = BTreeMap::new();
    let mut relationships: BTreeSet<(String, String)> = BTreeSet::new();
    let indicator = |objects: &mut Vec<Value>,
                     key: &str,
                     name: String,
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
    // Samples.
    let mut sample_families: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT sha256, size, kind, arch, tags, first_seen, last_seen FROM samples
         WHERE last_seen >= ?1 AND first_seen < ?2 ORDER BY first_seen",
    )?;
    let samples = stmt
        .query_map([&from, &to], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (sha, size, kind, arch, tags, first, last) in &samples {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let tags: Vec<String> = serde_json::from_str(tags).unwrap_or_default();
        let i = indicator(
            &mut objects,
            &format!("file/{sha}"),
            format!(
                "IoT malware sample ({}{})",
                kind.as_deref().unwrap_or("file"),
                arch.as_deref()
                    .map(|a| format!(", {a}"))
                    .unwrap_or_default()
            ),
            format!("[file:hashes.'SHA-256' = {}]", quoted(&sha.to_lowercase())),
            first,
            format!("Dropped on the honeypot; {size} bytes; seen {first} to {last}."),
        );
        for t in &tags {
            let f = families
                .entry(t.clone())
                .or_insert_with(|| (first.clone(), BTreeSet::new()));
            if let Some(a) = arch.as_deref().and_then(stix_arch) {
                f.1.insert(a);
            }
            relationships.insert((i.clone(), id("malware", t)));
        }
        sample_families.insert(sha.clone(), tags);
    }
    // Download URLs: the families of what each served.
    let mut stmt = conn.prepare(
        "SELECT source, MIN(timestamp), group_concat(DISTINCT sha256) FROM sample_sources
         WHERE timestamp >= ?1 AND timestamp < ?2 AND (source LIKE 'http%' OR source LIKE 'tftp%' OR source LIKE 'ftp%')
         GROUP BY source ORDER BY source",
    )?;
    let urls = stmt
        .query_map([&from, &to], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (url, first, shas) in &urls {
        let i = indicator(
            &mut objects,
            &format!("url/{url}"),
            "IoT malware download URL".into(),
            format!("[url:value = {}]", quoted(url)),
            first,
            format!("An attacker made the honeypot download from this URL (SHA-256 {shas})."),
        );
        for sha in shas.split(',') {
            for t in sample_families.get(sha).into_iter().flatten() {
                relationships.insert((i.clone(), id("malware", t)));
            }
        }
    }
    // What samples contacted in the sandbox.
    let mut stmt = conn.prepare(
        "SELECT json_extract(data, '$.shasum'), timestamp, data FROM events
         WHERE eventid = 'iotpot.analysis.report' AND timestamp >= ?1 AND timestamp < ?2",
    )?;
    let analyses = stmt
        .query_map([&from, &to], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut seen = BTreeSet::new();
    for (sha, at, data) in &analyses {
        let sha = sha.clone().unwrap_or_default();
        let data: Value = serde_json::from_str(data).unwrap_or_default();
        let fams = sample_families.get(&sha).cloned().unwrap_or_default();
        let mut contacted: Vec<(String, String)> = Vec::new();
        for name in data["dns"].as_object().into_iter().flat_map(|m| m.keys()) {
            contacted.push((
                format!("domain-name/{name}"),
                format!("[domain-name:value = {}]", quoted(name)),
            ));
        }
        for dest in data["tcp"].as_object().into_iter().flat_map(|m| m.keys()) {
            let Ok(addr) = dest.parse::<std::net::SocketAddr>() else {
                continue;
            };
            let kind = if addr.is_ipv4() {
                "ipv4-addr"
            } else {
                "ipv6-addr"
            };
            contacted.push((
                format!("{kind}/{}", addr.ip()),
                format!("[{kind}:value = {}]", quoted(&addr.ip().to_string())),
            ));
        }
        // The sandbox's own scans touch thousands of addresses: only the
        // first few per sample are indicators (the rest are in the report).
        for (key, pattern) in contacted.into_iter().take(50) {
            if !seen.insert(key.clone()) {
                continue;
            }
            let i = indicator(
                &mut objects,
                &key,
                "Contacted by IoT malware in a sandbox".into(),
                pattern,
                at,
                format!("Sample {sha} contacted it when run in an IoTBOX sandbox."),
            );
            for t in &fams {
                relationships.insert((i.clone(), id("malware", t)));
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
    let key = format!("{from}/{to}/{now}");
    Ok(json!({ "type": "bundle", "id": id("bundle", &key), "objects": objects }))
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
