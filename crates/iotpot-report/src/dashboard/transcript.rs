//! Sessions for the dashboard: the live list, one session's transcript (its
//! events in order: logins, each line typed and what the device answered,
//! downloads with links to their sample's metadata), and a sample's
//! metadata page. Every value shown came from an attacker: all of it goes
//! through [`escape`]; the only links are the dashboard's own pages.

use super::encode;
use crate::html::escape;
use iotpot_store::query::{self, EventFilter};
use iotpot_store::sql::{Db, Param};
use serde_json::Value;
use std::fmt::Write;

/// The most events one transcript shows.
pub const MAX_EVENTS: usize = 5000;

/// The most recent `n` sessions, newest first, open ones marked.
pub fn live(conn: &dyn Db, n: usize) -> anyhow::Result<String> {
    let open = conn
        .one("SELECT count(*) FROM sessions WHERE \"end\" IS NULL", &[])?
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    let mut rows = query::sessions(conn, None, n)?;
    rows.reverse();
    let mut out = format!(
        "<p class=\"meta\"><span id=\"open-sessions\">{open}</span> open now; the {} most recent:</p>\
         <table class=\"sessions\"><thead><tr><th>state</th><th>start (UTC)</th><th>session</th>\
         <th>source</th><th>port</th><th>sensor</th><th>profile</th><th>login</th><th>cmds</th>\
         <th>dls</th><th>seconds</th><th>end</th></tr></thead><tbody>",
        rows.len()
    );
    if rows.is_empty() {
        out.push_str("<tr><td class=\"empty\" colspan=\"12\">no session yet</td></tr>");
    }
    for r in &rows {
        let login = match (&r.username, &r.password) {
            (Some(u), Some(p)) => format!(
                "<span class=\"{}\">{}</span> / {}",
                if r.login_ok { "ok" } else { "failed" },
                escape(u),
                escape(p)
            ),
            _ => "-".into(),
        };
        let _ = write!(
            out,
            "<tr class=\"{state}\"><td>{state}</td><td>{}</td><td><a href=\"/session/{}\">{}</a></td>\
             <td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{login}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&r.start.get(..19).unwrap_or(&r.start).replace('T', " ")),
            encode(&r.session),
            escape(&r.session),
            escape(&r.src_ip),
            r.dst_port,
            escape(&r.sensor),
            escape(r.profile.as_deref().unwrap_or("-")),
            r.commands,
            r.downloads,
            r.duration.map(|d| format!("{d:.1}")).unwrap_or_default(),
            escape(r.close_reason.as_deref().unwrap_or("-")),
            state = if r.end.is_some() { "closed" } else { "open" },
        );
    }
    out.push_str("</tbody></table>");
    Ok(out)
}

/// One session's facts and transcript; `None` if the store has no such
/// session.
pub fn fragment(conn: &dyn Db, id: &str) -> anyhow::Result<Option<String>> {
    let events = query::events(
        conn,
        &EventFilter {
            session: Some(id.to_string()),
            limit: MAX_EVENTS,
            ..Default::default()
        },
    )?;
    let Some(first) = events.first() else {
        return Ok(None);
    };
    let start = parse_time(&first.timestamp);
    let d = &first.data;
    let mut out = format!(
        "<h1>Session {}</h1><dl class=\"facts\"><dt>from</dt><dd>{}:{}</dd><dt>to</dt><dd>{}:{} ({})</dd>\
         <dt>sensor</dt><dd>{}</dd><dt>started</dt><dd>{}</dd></dl>",
        escape(id),
        escape(&first.src_ip),
        field(d, "src_port"),
        field(d, "dst_ip"),
        field(d, "dst_port"),
        field(d, "protocol"),
        field(d, "sensor"),
        escape(&first.timestamp),
    );
    if events.len() >= MAX_EVENTS {
        let _ = write!(
            out,
            "<p class=\"meta\">the last {MAX_EVENTS} events of this session:</p>"
        );
    }
    out.push_str("<ol class=\"transcript\">");
    for e in &events {
        let at = match (start, parse_time(&e.timestamp)) {
            (Some(s), Some(t)) => format!("+{:.2} s", (t - s).as_seconds_f64()),
            _ => escape(&e.timestamp),
        };
        let kind = e.eventid.strip_prefix("iotpot.").unwrap_or(&e.eventid);
        let _ = write!(
            out,
            "<li class=\"{}\"><span class=\"at\">{at}</span> <span class=\"kind\">{}</span> ",
            escape(&kind.replace('.', "-")),
            escape(kind)
        );
        event(conn, &mut out, &e.eventid, &e.data)?;
        out.push_str("</li>");
    }
    out.push_str("</ol>");
    Ok(Some(out))
}

/// What one event says, by kind; kinds without their own view show their
/// fields.
fn event(conn: &dyn Db, out: &mut String, id: &str, d: &Value) -> anyhow::Result<()> {
    match id {
        "iotpot.login.success" | "iotpot.login.failed" => {
            let _ = write!(
                out,
                "<code>{}</code> / <code>{}</code>",
                field(d, "username"),
                field(d, "password")
            );
        }
        "iotpot.command.input" => {
            let _ = write!(out, "<pre class=\"in\">{}</pre>", field(d, "input"));
            let output = d.get("output").and_then(Value::as_str).unwrap_or("");
            if !output.is_empty() {
                let _ = write!(out, "<pre class=\"out\">{}</pre>", escape_pre(output));
            }
            let size = d.get("output_size").and_then(Value::as_u64).unwrap_or(0);
            if size as usize > output.len() {
                let _ = write!(
                    out,
                    "<p class=\"meta\">(the answer had {size} bytes; the first 4,096 are kept)</p>"
                );
            }
        }
        "iotpot.download.success" => {
            let _ = write!(out, "<code>{}</code> ", field(d, "url"));
            sample_link(conn, out, d.get("shasum").and_then(Value::as_str))?;
            let _ = write!(
                out,
                " {} bytes from {}",
                field(d, "size"),
                field(d, "remote")
            );
        }
        "iotpot.file.written" | "iotpot.file.executed" | "iotpot.sample.triaged" => {
            let _ = write!(out, "<code>{}</code> ", field(d, "outfile"));
            sample_link(conn, out, d.get("shasum").and_then(Value::as_str))?;
            rest(out, d, &["outfile", "shasum", "content", "triage"]);
        }
        "iotpot.iotbox.answer" => {
            let _ = write!(
                out,
                "<code>{}</code> answered by {}",
                field(d, "command"),
                field(d, "source")
            );
            if let Some(bytes) = d
                .get("output")
                .and_then(Value::as_str)
                .and_then(|h| hex::decode(h).ok())
                .filter(|b| !b.is_empty())
            {
                let shown = iotpot_core::escape::for_terminal(&bytes);
                let _ = write!(out, "<pre class=\"out\">{}</pre>", escape_pre(&shown));
            }
        }
        "iotpot.http.request" => {
            let _ = write!(
                out,
                "<code>{} {}{}{}</code> → {}",
                field(d, "method"),
                field(d, "path"),
                if d.get("query")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
                {
                    ""
                } else {
                    "?"
                },
                field(d, "query"),
                field(d, "status")
            );
            rest(
                out,
                d,
                &["method", "path", "query", "status", "headers", "body"],
            );
        }
        _ => rest(out, d, &[]),
    }
    Ok(())
}

/// A link to a sample's page when the store holds that sample, else its
/// hash as text.
fn sample_link(conn: &dyn Db, out: &mut String, sha: Option<&str>) -> anyhow::Result<()> {
    let Some(sha) = sha else { return Ok(()) };
    let stored = sha.len() == 64
        && sha.bytes().all(|b| b.is_ascii_hexdigit())
        && conn
            .one(
                "SELECT 1 FROM samples WHERE sha256 = ?1",
                &[Param::Text(&sha.to_ascii_lowercase())],
            )?
            .is_some();
    if stored {
        let _ = write!(
            out,
            "<a class=\"sample\" href=\"/sample/{}\">{}</a>",
            sha.to_ascii_lowercase(),
            &sha[..16]
        );
    } else {
        let _ = write!(out, "<code>{}</code>", escape(sha));
    }
    Ok(())
}

/// The event's own fields (not the ones every event has, not `skip`), as
/// `name value` pairs.
fn rest(out: &mut String, d: &Value, skip: &[&str]) {
    let Some(map) = d.as_object() else { return };
    for (k, v) in map {
        if iotpot_core::event::COMMON_FIELDS.contains(&k.as_str())
            || skip.contains(&k.as_str())
            || k == "spool_id"
            || v.is_null()
        {
            continue;
        }
        let _ = write!(
            out,
            " <span class=\"field\">{}</span> {}",
            escape(k),
            match v {
                Value::String(s) => format!("<code>{}</code>", escape(s)),
                other => escape(&other.to_string()),
            }
        );
    }
}

/// A sample's metadata (never its bytes); `None` if not stored.
pub fn sample(conn: &dyn Db, sha: &str) -> anyhow::Result<Option<String>> {
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(s) = query::samples(conn, Some(sha), 1)?.pop() else {
        return Ok(None);
    };
    let mut out = format!(
        "<h1>Sample {}</h1><p class=\"meta\">metadata only: the dashboard never serves a sample's bytes \
         (<code>iotpot samples show {}</code> on the honeypot's machine)</p><dl class=\"facts\">\
         <dt>size</dt><dd>{} bytes</dd><dt>kind</dt><dd>{}</dd><dt>architecture</dt><dd>{}</dd>\
         <dt>families</dt><dd>{}</dd><dt>first seen</dt><dd>{}</dd><dt>last seen</dt><dd>{}</dd>\
         <dt>sessions</dt><dd>{}</dd></dl><h3>Came from</h3><ul>",
        escape(&s.sha256),
        escape(&s.sha256),
        s.size,
        escape(s.kind.as_deref().unwrap_or("-")),
        escape(s.arch.as_deref().unwrap_or("-")),
        escape(&match &s.tags {
            Value::Array(t) if !t.is_empty() => t
                .iter()
                .map(|v| v.as_str().unwrap_or("?").to_string())
                .collect::<Vec<_>>()
                .join(", "),
            _ => "-".into(),
        }),
        escape(&s.first_seen),
        escape(&s.last_seen),
        s.sessions
    );
    for src in &s.sources {
        let _ = write!(out, "<li><code>{}</code></li>", escape(src));
    }
    let _ = write!(
        out,
        "</ul><h3>Triage</h3><pre class=\"out\">{}</pre>",
        escape_pre(&serde_json::to_string_pretty(&s.triage)?)
    );
    Ok(Some(out))
}

/// A field of the event as escaped text.
fn field(d: &Value, name: &str) -> String {
    match d.get(name) {
        Some(Value::String(s)) => escape(s),
        Some(Value::Null) | None => "-".into(),
        Some(other) => escape(&other.to_string()),
    }
}

/// Text for a `<pre>`: line ends kept, every other control character
/// shown, then escaped.
fn escape_pre(s: &str) -> String {
    s.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}
