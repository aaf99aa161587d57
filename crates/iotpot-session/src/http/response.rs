//! Response heads as the imitated server writes them.

use iotpot_core::profile::{DateFormat, HttpProfile};
use time::OffsetDateTime;

/// What varies between responses.
pub struct Head<'a> {
    pub status: u16,
    pub content_type: &'a str,
    /// `None` for streams: the `{length}` line is left out.
    pub length: Option<usize>,
    /// Response-specific header lines (`WWW-Authenticate: ...`).
    pub extra: Vec<String>,
}

pub fn reason(p: &HttpProfile, status: u16) -> String {
    if let Some(r) = p.reasons.get(&status.to_string()) {
        return r.clone();
    }
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
    .to_string()
}

pub fn date(f: DateFormat, t: OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let day = DAYS[t.weekday().number_days_from_monday() as usize];
    let month = MONTHS[t.month() as usize - 1];
    match f {
        DateFormat::Imf => format!(
            "{day}, {:02} {month} {} {:02}:{:02}:{:02} GMT",
            t.day(),
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        DateFormat::Asctime => format!(
            "{day} {month} {:2} {:02}:{:02}:{:02} {}",
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.year()
        ),
    }
}

/// The status line and headers, ending with the blank line.
pub fn head(p: &HttpProfile, h: &Head, now: OffsetDateTime) -> Vec<u8> {
    let mut out = format!("{} {} {}\r\n", p.version, h.status, reason(p, h.status));
    let mut extra_done = false;
    for line in &p.headers {
        if line == "{extra}" {
            for e in &h.extra {
                out.push_str(e);
                out.push_str("\r\n");
            }
            extra_done = true;
            continue;
        }
        if line.contains("{length}") && h.length.is_none() {
            continue;
        }
        let mut l = line.clone();
        if l.contains("{date}") {
            l = l.replace("{date}", &date(p.date_format, now));
        }
        l = l.replace("{type}", h.content_type);
        if let Some(n) = h.length {
            l = l.replace("{length}", &n.to_string());
        }
        out.push_str(&l);
        out.push_str("\r\n");
    }
    if !extra_done {
        for e in &h.extra {
            out.push_str(e);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Whether the profile's heads say where the body ends (keep-alive is
/// possible only then).
pub fn has_length(p: &HttpProfile) -> bool {
    p.headers.iter().any(|l| l.contains("{length}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_follow_the_template() {
        let p = iotpot_core::Profile::load("router-web").unwrap().http;
        let t = OffsetDateTime::from_unix_timestamp(784_111_777).unwrap();
        let h = head(
            &p,
            &Head {
                status: 401,
                content_type: "text/html",
                length: Some(5),
                extra: vec!["WWW-Authenticate: Basic realm=\"x\"".into()],
            },
            t,
        );
        assert_eq!(
            String::from_utf8(h).unwrap(),
            "HTTP/1.1 401 N/A\r\nServer: Router Webserver\r\nConnection: close\r\nContent-Type: text/html\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 5\r\n\r\n"
        );
        assert_eq!(date(DateFormat::Imf, t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(date(DateFormat::Asctime, t), "Sun Nov  6 08:49:37 1994");
    }
}
