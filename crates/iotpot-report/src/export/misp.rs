//! `iotpot export misp`: one MISP event (the JSON MISP imports, "Add
//! Event" → "Populate from JSON") for a period: a `sha256` attribute per
//! sample, a `url` per download URL, a `domain` or `ip-dst` per name or
//! address a sample contacted in a sandbox, and an `ip-src` per attacking
//! address (the busiest first), each with its first and last time; the
//! families as tags. Attributes that mark something malicious are
//! `to_ids`; attacking addresses are not (many are infected devices of
//! bystanders).

use super::intel::{gather, uuid};
use crate::Window;
use rusqlite::Connection;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Attacking addresses listed at most (the busiest).
const SOURCES: usize = 1000;

/// A store timestamp as MISP reads `first_seen`/`last_seen` (ISO 8601,
/// microseconds, `+00:00`).
fn seen(t: &str) -> String {
    t.strip_suffix('Z')
        .map(|t| format!("{t}+00:00"))
        .unwrap_or_else(|| t.to_string())
}

pub fn event(conn: &Connection, window: &Window) -> anyhow::Result<Value> {
    let intel = gather(conn, window)?;
    let mut attributes = Vec::new();
    let mut attribute = |kind: &str,
                         category: &str,
                         value: &str,
                         to_ids: bool,
                         first: &str,
                         last: &str,
                         comment: String| {
        attributes.push(json!({
            "uuid": uuid("misp-attribute", &format!("{kind}/{value}")),
            "type": kind, "category": category, "value": value, "to_ids": to_ids,
            "first_seen": seen(first), "last_seen": seen(last), "comment": comment,
        }));
    };
    for s in &intel.samples {
        attribute(
            "sha256",
            "Payload delivery",
            &s.sha256,
            true,
            &s.first,
            &s.last,
            format!(
                "{}{}, {} bytes{}",
                s.kind.as_deref().unwrap_or("file"),
                s.arch
                    .as_deref()
                    .map(|a| format!(" for {a}"))
                    .unwrap_or_default(),
                s.size,
                if s.families.is_empty() {
                    String::new()
                } else {
                    format!("; {}", s.families.join(", "))
                }
            ),
        );
    }
    for d in &intel.downloads {
        attribute(
            "url",
            "Payload delivery",
            &d.url,
            true,
            &d.first,
            &d.first,
            format!("served SHA-256 {}", d.sha256s.join(", ")),
        );
    }
    for c in &intel.contacts {
        let kind = if c.kind == "domain-name" {
            "domain"
        } else {
            "ip-dst"
        };
        attribute(
            kind,
            "Network activity",
            &c.value,
            true,
            &c.at,
            &c.at,
            format!("contacted by sample {} in an IoTBOX sandbox", c.sha256),
        );
    }
    let (from, to) = window.bounds();
    let mut stmt = conn.prepare(&format!(
        "SELECT src_ip, COUNT(*) AS n, MIN(start), MAX(start) FROM sessions
         WHERE start >= ?1 AND start < ?2 GROUP BY src_ip ORDER BY n DESC, src_ip LIMIT {SOURCES}"
    ))?;
    let sources = stmt
        .query_map([&from, &to], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (ip, n, first, last) in &sources {
        attribute(
            "ip-src",
            "Network activity",
            ip,
            false,
            first,
            last,
            format!("{n} sessions with the honeypot"),
        );
    }
    let families: BTreeSet<&str> = intel
        .samples
        .iter()
        .flat_map(|s| s.families.iter().map(String::as_str))
        .collect();
    let today = time::OffsetDateTime::now_utc().date();
    let date = window.until.unwrap_or(today).to_string();
    let period = window.describe();
    Ok(json!({ "Event": {
        "uuid": uuid("misp-event", &format!("{from}/{to}")),
        "info": format!("iotpot honeypot: IoT attacks and malware, {period}"),
        "date": date,
        "threat_level_id": "3",
        "analysis": "2",
        "distribution": "0",
        "Tag": families.iter().map(|f| json!({ "name": format!("iotpot:family=\"{f}\"") })).collect::<Vec<_>>(),
        "Attribute": attributes,
    }}))
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_as_misp_reads_them() {
        assert_eq!(
            super::seen("2026-12-02T03:53:59.445863Z"),
            "2026-12-02T03:53:59.445863+00:00"
        );
    }
}
