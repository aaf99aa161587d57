//! The live dashboard's pages, sans-I/O: a request head in, a response out.
//! `iotpot dashboard` (the binary) owns the socket, TLS and the store's
//! connection; this module decides what each address shows.
//!
//! - `/` — every report section, the live session list and a period form;
//!   `dashboard.js` refetches each part (`data-src`) every few seconds and
//!   swaps it in place, so the page updates without a reload;
//! - `/session/ID` — one session's transcript (what was typed, what the
//!   device answered, downloads linked to their sample's metadata);
//! - `/sample/SHA256` — a sample's metadata, never its bytes;
//! - `/fragment/...` — the parts the script swaps in; `/api/...` — the same
//!   numbers as JSON (`iotpot report --json`'s shape).
//!
//! Every request needs the token `iotpot dashboard` printed: `?token=` once
//! (answered with a cookie and a redirect that drops it from the address),
//! then the cookie; or `Authorization: Bearer TOKEN` for scripts. Every
//! attacker string is escaped where it is written ([`crate::html::escape`]),
//! and the Content-Security-Policy runs only the dashboard's own script file:
//! no inline script, no handler attribute, nothing from elsewhere.

mod transcript;

use crate::{html, section, Window};
use iotpot_store::sql::Db;
use iotpot_wire::http::Request;
use std::fmt::Write;

/// What every answer of the dashboard is allowed to load and run.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The cookie that carries the token after the first visit.
const COOKIE: &str = "iotpot_dashboard";

const SCRIPT: &str = include_str!("dashboard.js");
const STYLE_EXTRA: &str = include_str!("dashboard.css");

/// How many sessions the live list shows.
const LIVE: usize = 50;

/// The dashboard of one store.
pub struct Dashboard {
    token: String,
    /// Seconds between the page's refetches.
    refresh: u32,
    /// Served over TLS: the cookie is `Secure`.
    tls: bool,
}

/// An answer: status, content type, extra headers, body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    fn html(body: String) -> Response {
        Response::new(200, "text/html; charset=utf-8", body)
    }

    fn json(v: &impl serde::Serialize) -> Response {
        match serde_json::to_vec(v) {
            Ok(b) => Response::new(200, "application/json", b),
            Err(e) => Response::plain(500, &format!("cannot write JSON: {e}")),
        }
    }

    /// A short text answer (errors, redirects).
    pub fn plain(status: u16, message: &str) -> Response {
        Response::new(
            status,
            "text/plain; charset=utf-8",
            format!("{message}\n").into_bytes(),
        )
    }

    /// The reason phrase of the status.
    pub fn reason(&self) -> &'static str {
        match self.status {
            200 => "OK",
            303 => "See Other",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            _ => "Internal Server Error",
        }
    }

    /// The whole answer as bytes on the wire (`head_only`: for `HEAD`).
    pub fn to_bytes(&self, keep_alive: bool, head_only: bool) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Content-Security-Policy: {CSP}\r\nX-Content-Type-Options: nosniff\r\n\
             Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n\
             Cache-Control: no-store\r\nConnection: {}\r\n",
            self.status,
            self.reason(),
            self.content_type,
            self.body.len(),
            if keep_alive { "keep-alive" } else { "close" }
        );
        for (k, v) in &self.headers {
            let _ = write!(head, "{k}: {v}\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

impl Dashboard {
    pub fn new(token: String, refresh: u32, tls: bool) -> Dashboard {
        Dashboard {
            token,
            refresh: refresh.max(1),
            tls,
        }
    }

    /// The answer to `req`, reading `conn`.
    pub fn answer(&self, conn: &dyn Db, req: &Request) -> Response {
        if req.method != "GET" && req.method != "HEAD" {
            let mut r = Response::plain(405, "read-only: GET only");
            r.headers.push(("Allow", "GET, HEAD".into()));
            return r;
        }
        let query = Query::parse(req.query());
        let path = req.path();
        // The token in the address: remember it in a cookie and show the
        // page without it (no token in the history or on the screen).
        if let Some(t) = query.get("token") {
            if !same(t, &self.token) {
                return self.refused();
            }
            if path == "/" || path.is_empty() {
                let mut r = Response::plain(303, "see /");
                r.headers.push(("Location", "/".into()));
                r.headers.push((
                    "Set-Cookie",
                    format!(
                        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{}",
                        self.token,
                        if self.tls { "; Secure" } else { "" }
                    ),
                ));
                return r;
            }
        } else if !self.authorized(req) {
            return self.refused();
        }
        match self.route(conn, path, &query) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(path = %iotpot_core::escape::str_for_terminal(path), error = %e, "dashboard: a page failed");
                Response::plain(500, &format!("this page failed: {e}"))
            }
        }
    }

    fn refused(&self) -> Response {
        let mut r = Response::plain(
            401,
            "this dashboard needs its token: open the address `iotpot dashboard` printed \
             (…/?token=…), or send `Authorization: Bearer TOKEN`",
        );
        r.headers
            .push(("WWW-Authenticate", "Bearer realm=\"iotpot\"".into()));
        r
    }

    /// The request carries the token in the cookie or as a bearer token.
    fn authorized(&self, req: &Request) -> bool {
        let bearer = req
            .header("authorization")
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().strip_prefix("Bearer "))
            .is_some_and(|t| same(t.trim(), &self.token));
        let cookie = req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .any(|(k, v)| k == COOKIE && same(v, &self.token));
        bearer || cookie
    }

    fn route(&self, conn: &dyn Db, path: &str, q: &Query) -> anyhow::Result<Response> {
        let window = match q.window() {
            Ok(w) => w,
            Err(e) => return Ok(Response::plain(400, &e.to_string())),
        };
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        Ok(match parts.as_slice() {
            [""] => Response::html(self.index(&window, q)),
            ["static", "dashboard.js"] => {
                Response::new(200, "text/javascript; charset=utf-8", SCRIPT)
            }
            ["static", "dashboard.css"] => Response::new(
                200,
                "text/css; charset=utf-8",
                format!("{}{STYLE_EXTRA}", html::STYLE),
            ),
            ["fragment", "sessions"] => Response::html(transcript::live(conn, LIVE)?),
            ["fragment", "section", id] => match build_section(conn, &window, id)? {
                Some((n, s)) => {
                    let mut out = String::new();
                    html::section(&mut out, n, &s);
                    Response::html(out)
                }
                None => not_found(),
            },
            ["fragment", "session", id] => match transcript::fragment(conn, &decode(id))? {
                Some(body) => Response::html(body),
                None => not_found(),
            },
            ["session", id] => match transcript::fragment(conn, &decode(id))? {
                Some(body) => Response::html(page(
                    "session",
                    self.refresh,
                    &format!(
                        "<p><a href=\"/\">← dashboard</a></p><div data-src=\"/fragment/session/{}\">{body}</div>",
                        encode(&decode(id))
                    ),
                )),
                None => not_found(),
            },
            ["sample", sha] => match transcript::sample(conn, sha)? {
                Some(body) => Response::html(page(
                    "sample",
                    self.refresh,
                    &format!("<p><a href=\"/\">← dashboard</a></p>{body}"),
                )),
                None => not_found(),
            },
            ["api", "report"] => Response::json(&crate::build(conn, &window)?),
            ["api", "section", id] => match build_section(conn, &window, id)? {
                Some((_, s)) => Response::json(&s),
                None => not_found(),
            },
            ["api", "sessions"] => Response::json(&iotpot_store::query::sessions(conn, None, LIVE)?),
            ["api", "session", id] => {
                let rows = iotpot_store::query::events(
                    conn,
                    &iotpot_store::query::EventFilter {
                        session: Some(decode(id)),
                        limit: transcript::MAX_EVENTS,
                        ..Default::default()
                    },
                )?;
                Response::json(&rows.into_iter().map(|r| r.data).collect::<Vec<_>>())
            }
            _ => not_found(),
        })
    }

    /// The main page: the period, the live sessions, every section (each
    /// filled in by the script).
    fn index(&self, w: &Window, q: &Query) -> String {
        let mut suffix = String::new();
        for (k, v) in [("since", w.since), ("until", w.until)] {
            if let Some(d) = v {
                let _ = write!(
                    suffix,
                    "{}{k}={d}",
                    if suffix.is_empty() { "?" } else { "&" }
                );
            }
        }
        let mut body = format!(
            "<h1>iotpot dashboard</h1>\
             <form class=\"period\" method=\"get\" action=\"/\">\
             <label>since <input type=\"date\" name=\"since\" value=\"{}\"></label> \
             <label>until <input type=\"date\" name=\"until\" value=\"{}\"></label> \
             <button type=\"submit\">show</button> \
             <span class=\"meta\">{} · <span id=\"updated\">loading…</span></span></form><nav>",
            html::escape(q.get("since").unwrap_or("")),
            html::escape(q.get("until").unwrap_or("")),
            html::escape(&w.describe()),
        );
        body.push_str("<a href=\"#live\">live sessions</a>");
        for (id, _) in section::ALL {
            let _ = write!(body, " · <a href=\"#{id}\">{id}</a>");
        }
        body.push_str(
            "</nav><section id=\"live\"><h2>Live sessions</h2>\
             <div data-src=\"/fragment/sessions\"><p class=\"empty\">loading…</p></div></section>",
        );
        for (id, _) in section::ALL {
            let _ = write!(
                body,
                "<section id=\"{id}\" data-src=\"/fragment/section/{id}{suffix}\">\
                 <p class=\"empty\">loading {id}…</p></section>"
            );
        }
        page("dashboard", self.refresh, &body)
    }
}

/// A whole page around `body`: the stylesheet and the script as files.
fn page(title: &str, refresh: u32, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>iotpot {title}</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"/static/dashboard.css\">\
         <script src=\"/static/dashboard.js\" defer></script></head>\
         <body data-refresh=\"{refresh}\">{body}</body></html>\n"
    )
}

fn not_found() -> Response {
    Response::plain(404, "nothing here")
}

/// A section by id, with its number in the report.
fn build_section(
    conn: &dyn Db,
    w: &Window,
    id: &str,
) -> anyhow::Result<Option<(usize, crate::Section)>> {
    match section::ALL.iter().position(|(i, _)| *i == id) {
        Some(n) => Ok(Some((n + 1, (section::ALL[n].1)(conn, w)?))),
        None => Ok(None),
    }
}

/// Two secrets compared in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// A query string's `key=value` pairs (percent-decoded).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: &str) -> Query {
        Query(
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// The first value of `key`, if not empty.
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    fn window(&self) -> anyhow::Result<Window> {
        Ok(Window {
            since: self.get("since").map(Window::parse_date).transpose()?,
            until: self.get("until").map(Window::parse_date).transpose()?,
        })
    }
}

/// Percent-decoding (`+` as a space, as forms send it).
fn decode(s: &str) -> String {
    iotpot_wire::http::percent_decode(s, true)
}

/// A path segment: everything but unreserved characters percent-encoded.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_coding_round_trips_and_survives_junk() {
        for s in [
            "abc",
            "a b",
            "<script>",
            "é\u{1b}[31m",
            "%",
            "%%",
            "%4",
            "%zz",
            "a/b?c",
            "%+1",
        ] {
            assert_eq!(decode(&encode(s)), s);
        }
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(
            decode("%+1"),
            "% 1",
            "not a hex digit: `+` stays a form's space"
        );
        assert_eq!(decode("a+b%20c"), "a b c");
        assert_eq!(decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abcd", "abcd"));
        assert!(!same("abcd", "abce"));
        assert!(!same("abc", "abcd"));
        assert!(!same("", "abcd"));
    }
}
