//! `docs/events.md` documents every event of the catalogue, with exactly
//! its fields.

use iotpot_core::event::COMMON_FIELDS;
use iotpot_core::{EventKind, SessionInfo};
use std::collections::{BTreeMap, BTreeSet};
use strum::IntoEnumIterator;

fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/events.md"))
            .expect("docs/events.md");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(id) = line.strip_prefix("### `").and_then(|l| l.strip_suffix('`')) {
            out.insert(id.to_string(), BTreeSet::new());
            current = Some(id.to_string());
        } else if let (Some(id), Some(rest)) = (&current, line.strip_prefix("- `")) {
            // `- `a`, `b`: ...` documents several fields at once.
            let head = rest.split(':').next().unwrap_or_default();
            for f in head.split(", ") {
                let f = f.trim_matches('`');
                if !f.is_empty() {
                    out.get_mut(id).unwrap().insert(f.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn every_event_is_documented_with_its_fields() {
    let docs = documented();
    let info = SessionInfo::default();
    let mut seen = BTreeSet::new();
    for kind in EventKind::iter() {
        let id = kind.eventid().to_string();
        let v: serde_json::Value = serde_json::from_str(&info.event(kind).to_json()).unwrap();
        let fields: BTreeSet<String> = v
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !COMMON_FIELDS.contains(&k.as_str()))
            .cloned()
            .collect();
        let doc = docs
            .get(&id)
            .unwrap_or_else(|| panic!("{id} is not documented in docs/events.md"));
        assert_eq!(
            &fields, doc,
            "fields of {id}: code (left) vs docs/events.md (right)"
        );
        seen.insert(id);
    }
    for id in docs.keys() {
        assert!(
            seen.contains(id),
            "docs/events.md documents {id}, which the code does not have"
        );
    }
}
