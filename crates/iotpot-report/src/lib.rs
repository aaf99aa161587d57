//! Reports: what an operator or researcher wants from the honeypot, drawn
//! from its own store — the IoTPOT papers' tables and figures (unique
//! attackers over time, credentials, the attackers' device types, malware
//! by CPU and family, the 53413/UDP scans, the bait, the sandboxes) for
//! their own deployment.
//!
//! Every section ([`section`]) is a query over the store that returns the
//! same shape, a [`Section`]: charts (the numbers behind them) and tables.
//! The renderers only draw that shape: [`text`] (tables for a terminal),
//! JSON (the [`Report`] serialized) and [`html`] (one self-contained file,
//! charts as inline SVG, no script and nothing fetched). Every string in a
//! report may come from an attacker: the renderers escape it for where it
//! goes.
//!
//! [`export`] writes what the store holds for other tools (CSV, STIX 2.1,
//! MISP); [`import`] reads other honeypots' logs (cowrie's) as events.
//!
//! [`dashboard`] answers the live dashboard's requests (the same sections,
//! the live session list, transcripts) without doing I/O itself.
//!
//! Not for: writing the store (`iotpot-store`), the dashboard's socket and
//! TLS (the binary).

pub mod dashboard;
pub mod export;
pub mod html;
pub mod import;
pub mod section;
pub mod svg;
pub mod text;

use serde::Serialize;

/// The dates a report covers (inclusive, UTC, `YYYY-MM-DD`); open ends
/// cover everything.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub since: Option<time::Date>,
    pub until: Option<time::Date>,
}

impl Window {
    /// A date as the command line gives it.
    pub fn parse_date(s: &str) -> anyhow::Result<time::Date> {
        let f = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(s, &f)
            .map_err(|e| anyhow::anyhow!("{s:?} is not a date (YYYY-MM-DD): {e}"))
    }

    /// The period in words: `2026-09-01 to now`, `everything in the store`.
    pub fn describe(&self) -> String {
        match (self.since, self.until) {
            (None, None) => "everything in the store".to_string(),
            (s, u) => format!(
                "{} to {}",
                s.map_or("the start".into(), |d| d.to_string()),
                u.map_or("now".into(), |d| d.to_string())
            ),
        }
    }

    /// The bounds as timestamps compare in the store: `[from, to)`.
    pub fn bounds(&self) -> (String, String) {
        let from = self
            .since
            .map(|d| d.to_string())
            .unwrap_or_else(|| "0000".into());
        let to = self
            .until
            .and_then(|d| d.next_day())
            .map(|d| d.to_string())
            .unwrap_or_else(|| "9999".into());
        (from, to)
    }
}

/// A whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// When it was made (UTC, RFC 3339).
    pub generated: String,
    pub since: Option<String>,
    pub until: Option<String>,
    /// The period in words.
    pub period: String,
    pub sections: Vec<Section>,
}

/// One section: a title, its charts and its tables.
#[derive(Debug, Serialize)]
pub struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub charts: Vec<Chart>,
    pub tables: Vec<Table>,
    /// Hierarchies (droppers and what they fetched).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trees: Vec<Tree>,
    /// Sentences that say what the numbers mean (or that there are none).
    pub notes: Vec<String>,
}

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Horizontal bars, one per label (one series).
    Bars,
    /// Vertical bars per label, series stacked.
    Stacked,
    /// One line per series over the labels.
    Lines,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub title: String,
    pub kind: Kind,
    /// The labels along the axis (dates, names...).
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub values: Vec<i64>,
}

/// A titled forest: each node a label and what hangs from it.
#[derive(Debug, Clone, Serialize)]
pub struct Tree {
    pub title: String,
    pub roots: Vec<Node>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub label: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// Build every section over `conn` for `window`.
pub fn build(conn: &dyn iotpot_store::sql::Db, window: &Window) -> anyhow::Result<Report> {
    let generated = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let sections = section::ALL
        .iter()
        .map(|(_, f)| f(conn, window))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Report {
        generated,
        since: window.since.map(|d| d.to_string()),
        until: window.until.map(|d| d.to_string()),
        period: window.describe(),
        sections,
    })
}
