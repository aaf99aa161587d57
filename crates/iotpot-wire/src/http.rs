//! HTTP/1.x request heads as attackers send them, sans-I/O.
//!
//! [`parse_head`] reads one request head from the front of a buffer with
//! `httparse` and keeps everything exactly as it arrived (header names'
//! case and order, the raw target, odd methods): a honeypot must record
//! what the client sent, not a normalised version of it. Also:
//! [`basic_auth`] decodes `Authorization: Basic` credentials.

use base64::Engine;

/// Largest request head accepted; a longer one is malformed.
pub const MAX_HEAD: usize = 16 * 1024;
/// Most headers in one request.
pub const MAX_HEADERS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Header names and values in arrival order, values as raw bytes.
    pub headers: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// Not HTTP, or broken (`httparse`'s reason).
    Malformed(&'static str),
    /// Longer than [`MAX_HEAD`] or more than [`MAX_HEADERS`] headers.
    TooLarge,
}

/// One request head from the front of `buf`: the request and how many bytes
/// it took, `Ok(None)` if more bytes are needed.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize)>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            let request = Request {
                method: req.method.unwrap_or("").to_string(),
                target: req.path.unwrap_or("").to_string(),
                minor_version: req.version.unwrap_or(0),
                headers: req
                    .headers
                    .iter()
                    .map(|h| (h.name.to_string(), h.value.to_vec()))
                    .collect(),
            };
            Ok(Some((request, n)))
        }
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => Err(HeadError::TooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(HeadError::TooLarge),
        Err(e) => Err(HeadError::Malformed(error_name(e))),
    }
}

fn error_name(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid HTTP version",
    }
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query string, without `?` (empty if none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The body length announced by `Content-Length` (`None`: absent or
    /// not a number).
    pub fn content_length(&self) -> Option<u64> {
        let v = self.header("content-length")?;
        std::str::from_utf8(v).ok()?.trim().parse().ok()
    }

    /// Whether the client asks to keep the connection open.
    pub fn keep_alive(&self) -> bool {
        let conn = self
            .header("connection")
            .map(|v| v.to_ascii_lowercase())
            .unwrap_or_default();
        if self.minor_version == 0 {
            conn == b"keep-alive"
        } else {
            conn != b"close"
        }
    }
}

/// Percent-decoding of a URL part (`plus`: `+` is a space, as in queries
/// and forms); a `%` not followed by two hex digits stays as it is, bytes
/// that are not UTF-8 are replaced.
pub fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => match b
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => {
                    out.push(v);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The user and password of an `Authorization: Basic ...` value (bytes
/// kept as sent, invalid UTF-8 replaced).
pub fn basic_auth(value: &[u8]) -> Option<(String, String)> {
    let v = std::str::from_utf8(value).ok()?.trim();
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// The `Authorization: Basic` value for `user:pass`.
pub fn basic_value(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_kept_as_sent() {
        let raw = b"GET /DVR.cfg?x=1 HTTP/1.1\r\nhOsT: a\r\nX-Odd:  v \r\n\r\nBODY";
        let (r, n) = parse_head(raw).unwrap().unwrap();
        assert_eq!(n, raw.len() - 4);
        assert_eq!(r.method, "GET");
        assert_eq!(r.path(), "/DVR.cfg");
        assert_eq!(r.query(), "x=1");
        assert_eq!(r.headers[0].0, "hOsT");
        assert_eq!(r.header("host"), Some(&b"a"[..]));
        assert!(r.keep_alive());
        assert_eq!(parse_head(b"GET / HTTP/1.0\r\nHost"), Ok(None));
        assert!(matches!(
            parse_head(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
            Err(HeadError::Malformed(_))
        ));
        let long = vec![b'a'; MAX_HEAD + 1];
        let mut req = b"GET /".to_vec();
        req.extend_from_slice(&long);
        assert_eq!(parse_head(&req), Err(HeadError::TooLarge));
    }

    #[test]
    fn basic_credentials() {
        let v = basic_value("admin", "12:345");
        assert_eq!(
            basic_auth(v.as_bytes()),
            Some(("admin".into(), "12:345".into()))
        );
        assert_eq!(basic_auth(b"Digest x"), None);
        assert_eq!(basic_auth(b"Basic !!!"), None);
    }
}
