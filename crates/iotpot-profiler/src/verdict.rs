//! A host's verdict: what its ports' grabs say together.

use crate::grab::Grab;
use crate::recog::{Library, Match};
pub use iotpot_core::profiler::{Evidence, Verdict};

/// Match every field of every grab; the verdict takes each attribute from
/// the first evidence that has it, evidence ordered by the database's
/// preference and then by port. A fingerprint whose `hw.certainty` (or
/// `certainty`) is 0 asserts nothing (Recog's "bare login:" entries).
pub fn judge(lib: &Library, grabs: &[Grab]) -> Verdict {
    let mut v = Verdict {
        reachable: grabs.iter().any(|g| g.state == "open"),
        ..Verdict::default()
    };
    let mut found: Vec<(f32, Evidence)> = Vec::new();
    for g in grabs {
        for (field, value) in &g.fields {
            for m in lib.matches(field, value.as_bytes()) {
                let pref = lib
                    .databases()
                    .iter()
                    .find(|d| d.file == m.file)
                    .map_or(0.0, |d| d.preference);
                found.push((pref, evidence(g.port, field, m)));
            }
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, e) in &found {
        let get = |k: &str| {
            e.params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        if let Some(w) = get("iotpot.infected") {
            v.infected.get_or_insert(w);
        }
        if asserts_nothing(e) {
            continue;
        }
        fill(&mut v.device, get("hw.device"));
        fill(&mut v.vendor, get("hw.vendor").or_else(|| get("os.vendor")));
        fill(
            &mut v.product,
            get("hw.product").or_else(|| get("service.product")),
        );
        fill(&mut v.os, get("os.product").or_else(|| get("os.family")));
    }
    v.evidence = found.into_iter().map(|(_, e)| e).collect();
    v
}

fn fill(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn asserts_nothing(e: &Evidence) -> bool {
    let zero = |k: &str| {
        e.params
            .iter()
            .any(|(n, v)| n == k && v.parse::<f32>().is_ok_and(|c| c == 0.0))
    };
    zero("hw.certainty") && zero("service.certainty")
        || e.certainty.as_deref().and_then(|c| c.parse::<f32>().ok()) == Some(0.0)
}

fn evidence(port: u16, field: &str, m: Match) -> Evidence {
    Evidence {
        port,
        field: field.to_string(),
        file: m.file,
        fingerprint: m.description,
        certainty: m.certainty,
        params: m.params,
    }
}
