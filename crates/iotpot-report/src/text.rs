//! A report as text tables, for a terminal: every table of every section
//! (the charts' numbers are among them), attacker strings with their
//! control bytes shown (`iotpot_core::escape`), long cells cut.

use crate::{Report, Table};
use iotpot_core::escape::str_for_terminal as visible;
use serde_json::Value;
use std::fmt::Write;

/// The widest a cell is shown.
const MAX_CELL: usize = 48;

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let period = &r.period;
    let _ = writeln!(out, "iotpot report: {period} (made {})", r.generated);
    for (i, s) in r.sections.iter().enumerate() {
        let _ = writeln!(out, "\n{}. {}", i + 1, s.title);
        let _ = writeln!(out, "{}", "=".repeat(s.title.chars().count() + 4));
        for n in &s.notes {
            let _ = writeln!(out, "{}", visible(n));
        }
        for t in s.trees.iter().filter(|t| !t.roots.is_empty()) {
            let _ = writeln!(out, "\n{}", visible(&t.title));
            tree(&mut out, &t.roots, 1);
        }
        for t in &s.tables {
            table(&mut out, t);
        }
    }
    out
}

fn tree(out: &mut String, nodes: &[crate::Node], depth: usize) {
    for n in nodes {
        let _ = writeln!(out, "{}- {}", "  ".repeat(depth), visible(&n.label));
        tree(out, &n.children, depth + 1);
    }
}

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "\n{}", visible(&t.title));
    if t.rows.is_empty() {
        let _ = writeln!(out, "  (none)");
        return;
    }
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(cell).collect())
        .collect();
    let widths: Vec<usize> = (0..t.columns.len())
        .map(|i| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .chain(t.columns.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |out: &mut String, row: &[String], numeric: &[bool]| {
        let mut l = String::from(" ");
        for (i, c) in row.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if numeric.get(i).copied().unwrap_or(false) {
                let _ = write!(l, " {c:>w$}");
            } else {
                let _ = write!(l, " {c:<w$}");
            }
        }
        let _ = writeln!(out, "{}", l.trim_end());
    };
    let numeric: Vec<bool> = (0..t.columns.len())
        .map(|i| {
            t.rows
                .iter()
                .all(|r| r.get(i).is_some_and(Value::is_number))
        })
        .collect();
    let header: Vec<String> = t.columns.iter().map(|c| visible(c)).collect();
    line(out, &header, &numeric);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(out, &rule, &[]);
    for r in &cells {
        line(out, r, &numeric);
    }
}

/// A cell as text: control bytes shown, cut at [`MAX_CELL`] characters.
fn cell(v: &Value) -> String {
    let s = match v {
        Value::String(s) => visible(s),
        Value::Null => "-".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        other => other.to_string(),
    };
    if s.chars().count() > MAX_CELL {
        s.chars().take(MAX_CELL - 1).collect::<String>() + "…"
    } else {
        s
    }
}
