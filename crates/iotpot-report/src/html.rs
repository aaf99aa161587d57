//! A report as one self-contained HTML file: each section's charts as
//! inline SVG and its tables, a stylesheet for print and for dark screens,
//! no script, and a Content-Security-Policy that lets the page load
//! nothing at all. Every string is escaped, its control characters shown.

use crate::{Report, Section, Table};
use serde_json::Value;
use std::fmt::Write;

/// The stylesheet: light on paper, dark on a dark screen.
pub const STYLE: &str = "
:root { color-scheme: light dark; --fg: #1d2330; --bg: #ffffff; --muted: #5c6370; --rule: #d0d4da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7ec; --bg: #161a21; --muted: #9aa3ad; --rule: #3a414c; } }
body { font-family: system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2em auto; max-width: 60em; padding: 0 1em; }
h1 { font-size: 1.6em; } h3 { font-size: 1em; margin: 1.5em 0 0; } h2 { margin-top: 2em; border-bottom: 1px solid var(--rule); }
.meta, .empty { color: var(--muted); }
svg.chart { display: block; max-width: 100%; height: auto; color: var(--fg); margin: 1em 0; }
svg.chart text { fill: currentColor; }
svg.chart line.grid { stroke: var(--rule); stroke-width: 1; }
.s0 { fill: #3b7dd8; } .s1 { fill: #e0803a; } .s2 { fill: #3fa66a; } .s3 { fill: #c8465a; }
.s4 { fill: #8a63c8; } .s5 { fill: #2aa3a6; } .s6 { fill: #b58a2a; } .s7 { fill: #7a8594; }
.l0 { stroke: #3b7dd8; } .l1 { stroke: #e0803a; } .l2 { stroke: #3fa66a; } .l3 { stroke: #c8465a; }
.l4 { stroke: #8a63c8; } .l5 { stroke: #2aa3a6; } .l6 { stroke: #b58a2a; } .l7 { stroke: #7a8594; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border-bottom: 1px solid var(--rule); padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td { word-break: break-all; max-width: 28em; }
caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
div.tree ul { margin: 0.2em 0; padding-left: 1.4em; } div.tree li { word-break: break-all; }
summary { cursor: pointer; font-weight: 600; margin: 0.5em 0; }
@media print { details { display: block; } }
@media print { body { max-width: none; } h2 { break-after: avoid; } svg.chart { break-inside: avoid; } }
";

/// The Content-Security-Policy of the page: nothing loaded, nothing run.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let period = &r.period;
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>iotpot report</title><style>{STYLE}</style></head><body>\
         <h1>iotpot report</h1><p class=\"meta\">{} — made {}</p>",
        escape(period),
        escape(&r.generated)
    );
    for (i, s) in r.sections.iter().enumerate() {
        let _ = write!(out, "<section id=\"{}\">", escape(s.id));
        section(&mut out, i + 1, s);
        out.push_str("</section>");
    }
    out.push_str("</body></html>\n");
    out
}

/// One section's content (its heading numbered `n`, notes, charts, trees,
/// tables): what the report's `<section>` and the dashboard's live one hold.
pub fn section(out: &mut String, n: usize, s: &Section) {
    let _ = write!(out, "<h2>{n}. {}</h2>", escape(s.title));
    for note in &s.notes {
        let _ = write!(out, "<p>{}</p>", escape(note));
    }
    for c in &s.charts {
        let _ = write!(out, "<h3>{}</h3>", escape(&c.title));
        out.push_str(&crate::svg::render(c));
    }
    for t in &s.trees {
        tree(out, t);
    }
    for t in &s.tables {
        table(out, t);
    }
}

/// A tree as nested lists (none: nothing drawn).
fn tree(out: &mut String, t: &crate::Tree) {
    fn nodes(out: &mut String, ns: &[crate::Node]) {
        out.push_str("<ul>");
        for n in ns {
            let _ = write!(out, "<li>{}", escape(&n.label));
            if !n.children.is_empty() {
                nodes(out, &n.children);
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    if t.roots.is_empty() {
        return;
    }
    let _ = write!(out, "<div class=\"tree\"><h3>{}</h3>", escape(&t.title));
    nodes(out, &t.roots);
    out.push_str("</div>");
}

/// Tables longer than this are folded (`<details>`, no script needed).
const FOLD: usize = 15;

pub fn table(out: &mut String, t: &Table) {
    let fold = t.rows.len() > FOLD;
    if fold {
        let _ = write!(
            out,
            "<details><summary>{} ({} rows)</summary>",
            escape(&t.title),
            t.rows.len()
        );
    }
    let _ = write!(
        out,
        "<table><caption>{}</caption><thead><tr>",
        escape(&t.title)
    );
    for c in &t.columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr></thead><tbody>");
    if t.rows.is_empty() {
        let _ = write!(
            out,
            "<tr><td class=\"empty\" colspan=\"{}\">none</td></tr>",
            t.columns.len().max(1)
        );
    }
    for r in &t.rows {
        out.push_str("<tr>");
        for v in r {
            match v {
                Value::Number(n) => {
                    let _ = write!(out, "<td class=\"n\">{n}</td>");
                }
                Value::Null => out.push_str("<td>-</td>"),
                Value::Bool(b) => {
                    let _ = write!(out, "<td>{}</td>", if *b { "yes" } else { "no" });
                }
                Value::String(s) => {
                    let _ = write!(out, "<td>{}</td>", escape(s));
                }
                other => {
                    let _ = write!(out, "<td>{}</td>", escape(&other.to_string()));
                }
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    if fold {
        out.push_str("</details>");
    }
}

/// `s` as HTML text (or an attribute value): control characters shown as
/// escapes, then `& < > " '` escaped.
pub fn escape(s: &str) -> String {
    let shown = iotpot_core::escape::str_for_terminal(s);
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attacker_strings_are_text() {
        assert_eq!(
            escape("\"><img src=x onerror=alert(1)>\x1b[31m"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\\x1b[31m"
        );
        assert_eq!(escape("javascript:'x'"), "javascript:&#39;x&#39;");
    }
}
