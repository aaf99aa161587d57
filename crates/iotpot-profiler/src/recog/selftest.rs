//! `iotpot profiler selftest`: every `<example>` of every fingerprint must
//! match its own fingerprint and yield the params it names, as Recog's
//! `recog_verify` checks them.

use super::Database;

/// One file's result.
#[derive(Debug, Default)]
pub struct Report {
    pub file: String,
    pub fingerprints: usize,
    pub examples: usize,
    pub passed: usize,
    /// Examples that an earlier fingerprint of the file matches first:
    /// they pass (their own fingerprint matches) but a real banner like
    /// them gets the earlier fingerprint's verdict. Recog warns of these.
    pub shadowed: usize,
    /// Examples kept in a file beside the database (not checked).
    pub external: usize,
    /// What failed, one line each.
    pub failures: Vec<String>,
    /// Fingerprints this engine left out.
    pub skipped: Vec<String>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.failures.len()
    }
}

pub fn check(db: &Database) -> Report {
    let mut r = Report {
        file: db.file.clone(),
        fingerprints: db.fingerprints.len(),
        skipped: db.skipped.clone(),
        ..Report::default()
    };
    for fp in &db.fingerprints {
        for ex in &fp.examples {
            if ex.external.is_some() {
                r.external += 1;
                continue;
            }
            r.examples += 1;
            let shown = String::from_utf8_lossy(&ex.text);
            let Some(m) = fp.apply(db, &ex.text) else {
                r.failures.push(format!(
                    "{} {:?}: example {shown:?} does not match {:?}",
                    fp.index, fp.description, fp.pattern
                ));
                continue;
            };
            let mut ok = true;
            for (k, want) in &ex.expect {
                let got = m.get(k);
                if got != Some(want.as_str()) {
                    ok = false;
                    r.failures.push(format!(
                        "{} {:?}: example {shown:?}: {k} is {got:?}, expected {want:?}",
                        fp.index, fp.description
                    ));
                }
            }
            if ok {
                r.passed += 1;
                if db
                    .find(&ex.text)
                    .is_some_and(|first| first.fingerprint < fp.index)
                {
                    r.shadowed += 1;
                }
            }
        }
    }
    r
}
