//! What the honeypot learned that other tools want, gathered once for
//! every export format: the samples (hash, size, kind, CPU, families,
//! first and last seen), the URLs they came from, and the names and
//! addresses samples contacted in IoTBOX sandboxes.

use crate::Window;
use rusqlite::Connection;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// Contacts per analysed sample at most: a scanning bot touches thousands
/// of addresses (all of them are in the report).
const CONTACTS_PER_SAMPLE: usize = 50;

pub struct Sample {
    pub sha256: String,
    pub size: i64,
    pub kind: Option<String>,
    pub arch: Option<String>,
    pub families: Vec<String>,
    pub first: String,
    pub last: String,
}

pub struct Download {
    pub url: String,
    pub first: String,
    pub sha256s: Vec<String>,
}

/// A name or address a sample contacted in a sandbox.
pub struct Contact {
    /// `domain-name`, `ipv4-addr` or `ipv6-addr`.
    pub kind: &'static str,
    pub value: String,
    /// The sample that contacted it, and when it was analysed.
    pub sha256: String,
    pub at: String,
}

pub struct Intel {
    pub samples: Vec<Sample>,
    pub downloads: Vec<Download>,
    pub contacts: Vec<Contact>,
}

impl Intel {
    /// The families of a sample (none if unknown).
    pub fn families(&self, sha256: &str) -> &[String] {
        self.samples
            .iter()
            .find(|s| s.sha256 == sha256)
            .map_or(&[], |s| &s.families)
    }
}

/// A UUID (version 4 layout) derived from `kind` and `key`: the same thing
/// exported twice has the same id.
pub fn uuid(kind: &str, key: &str) -> String {
    let h = Sha256::digest(format!("iotpot/{kind}/{key}"));
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

pub fn gather(conn: &Connection, window: &Window) -> anyhow::Result<Intel> {
    let (from, to) = window.bounds();
    let mut stmt = conn.prepare(
        "SELECT sha256, size, kind, arch, tags, first_seen, last_seen FROM samples
         WHERE last_seen >= ?1 AND first_seen < ?2 ORDER BY first_seen",
    )?;
    let samples = stmt
        .query_map([&from, &to], |r| {
            let tags: String = r.get(4)?;
            Ok(Sample {
                sha256: r.get::<_, String>(0)?.to_lowercase(),
                size: r.get(1)?,
                kind: r.get(2)?,
                arch: r.get(3)?,
                families: serde_json::from_str(&tags).unwrap_or_default(),
                first: r.get(5)?,
                last: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|s| s.sha256.len() == 64 && s.sha256.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    let mut stmt = conn.prepare(
        "SELECT source, MIN(timestamp), group_concat(DISTINCT sha256) FROM sample_sources
         WHERE timestamp >= ?1 AND timestamp < ?2
           AND (source LIKE 'http%' OR source LIKE 'tftp%' OR source LIKE 'ftp%')
         GROUP BY source ORDER BY source",
    )?;
    let downloads = stmt
        .query_map([&from, &to], |r| {
            let shas: String = r.get(2)?;
            Ok(Download {
                url: r.get(0)?,
                first: r.get(1)?,
                sha256s: shas.split(',').map(str::to_lowercase).collect(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare(
        "SELECT json_extract(data, '$.shasum'), timestamp, data FROM events
         WHERE eventid = 'iotpot.analysis.report' AND timestamp >= ?1 AND timestamp < ?2
         ORDER BY timestamp",
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
    let mut contacts = Vec::new();
    let mut seen = BTreeSet::new();
    for (sha, at, data) in analyses {
        let sha = sha.unwrap_or_default().to_lowercase();
        let data: Value = serde_json::from_str(&data).unwrap_or_default();
        let names = data["dns"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .map(|n| ("domain-name", n.clone()));
        let addrs = data["tcp"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .filter_map(|d| d.parse::<std::net::SocketAddr>().ok())
            .map(|a| {
                let kind = if a.is_ipv4() {
                    "ipv4-addr"
                } else {
                    "ipv6-addr"
                };
                (kind, a.ip().to_string())
            });
        for (kind, value) in names.chain(addrs).take(CONTACTS_PER_SAMPLE) {
            if seen.insert((kind, value.clone())) {
                contacts.push(Contact {
                    kind,
                    value,
                    sha256: sha.clone(),
                    at: at.clone(),
                });
            }
        }
    }
    Ok(Intel {
        samples,
        downloads,
        contacts,
    })
}
