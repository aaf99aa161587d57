//! What a device's first bytes say, per protocol: no I/O, so each is
//! fuzzed and tested on its own. Every function takes whatever arrived,
//! however hostile, and returns what it could read.

/// An HTTP or RTSP response head: status line, headers in the order sent,
/// and what came after the head.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Head {
    /// `HTTP/1.1`, `RTSP/1.0`...
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Names as the device spelled them, in its order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Head {
    /// The first header of this name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Most header lines read.
const MAX_HEADERS: usize = 100;

/// A response head (`HTTP/x`, `RTSP/x`), if the bytes start with one.
/// Lines may end in CRLF or LF; a head cut short by the byte cap keeps the
/// headers that arrived whole.
pub fn head(raw: &[u8]) -> Option<Head> {
    let end = find(raw, b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| find(raw, b"\n\n").map(|i| (i, i + 2)));
    let (head_end, body_start) = end.unwrap_or((raw.len(), raw.len()));
    let text = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?;
    if !(version.starts_with("HTTP/") || version.starts_with("RTSP/")) {
        return None;
    }
    let status = parts.next()?.trim().parse().ok()?;
    let reason = parts.next().unwrap_or("").trim().to_string();
    let mut headers = Vec::new();
    let complete = end.is_some();
    let lines: Vec<&str> = lines.collect();
    let whole = if complete {
        lines.len()
    } else {
        lines.len().saturating_sub(1)
    };
    for line in lines.into_iter().take(whole).take(MAX_HEADERS) {
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Some(Head {
        version: version.to_string(),
        status,
        reason,
        headers,
        body: raw[body_start..].to_vec(),
    })
}

/// A page's `<title>`: its text with runs of whitespace made one space,
/// the common entities decoded; at most 1 KiB of it.
pub fn title(body: &[u8]) -> Option<String> {
    let lower: Vec<u8> = body.iter().map(u8::to_ascii_lowercase).collect();
    let open = find(&lower, b"<title")?;
    let start = open + lower[open..].iter().position(|&b| b == b'>')? + 1;
    let end = start + find(&lower[start..], b"</title").unwrap_or(lower.len() - start);
    let raw = String::from_utf8_lossy(&body[start..end.min(start + 1024)]);
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(iotpot_core::escape::unescape_entities(&text))
}

/// An FTP greeting's text: every `220` line without its code, one per line.
pub fn ftp_banner(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter_map(|l| l.strip_prefix("220"))
        .map(|l| l.strip_prefix(['-', ' ']).unwrap_or(l).trim())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Whether an FTP greeting is complete (its last line is `220 ...`).
pub fn ftp_done(raw: &[u8]) -> bool {
    raw.split(|&b| b == b'\n')
        .any(|l| l.starts_with(b"220 ") && raw.ends_with(b"\n"))
}

/// An SSH identification line without `SSH-2.0-` (Recog's SSH files match
/// the software part, `OpenSSH_8.4p1 Debian-5`).
pub fn ssh_banner(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let line = text.split('\n').find(|l| l.starts_with("SSH-"))?;
    let line = line.trim_end_matches('\r');
    let software = line.splitn(3, '-').nth(2).unwrap_or("");
    Some(software.to_string())
}

/// The line a login prompt is on: the last non-empty line of the text.
pub fn last_line(text: &[u8]) -> String {
    let s = String::from_utf8_lossy(text);
    s.split(['\n', '\r'])
        .map(str::trim_end)
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

/// Whether text ends as a prompt does (`login:`, `Password:`, `>`, `#`,
/// `$`), so a grab need not wait for more.
pub fn ends_in_prompt(text: &[u8]) -> bool {
    let t = text.trim_ascii_end();
    matches!(t.last(), Some(b':' | b'>' | b'#' | b'$'))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_titles_and_banners() {
        let h = head(b"HTTP/1.0 401 Unauthorized\r\nServer: GoAhead-Webs\r\nWWW-Authenticate: Basic realm=\"DVR\"\r\n\r\n<html><TITLE> Web\n  Client &amp; Co</title>").unwrap();
        assert_eq!((h.status, h.reason.as_str()), (401, "Unauthorized"));
        assert_eq!(h.header("server"), Some("GoAhead-Webs"));
        assert_eq!(title(&h.body).as_deref(), Some("Web Client & Co"));
        let r = head(b"RTSP/1.0 200 OK\nCSeq: 1\nServer: Hipcam RealServer/V1.0\n\n").unwrap();
        assert_eq!(r.header("Server"), Some("Hipcam RealServer/V1.0"));
        // Cut short: the partial last line is not a header.
        let c = head(b"HTTP/1.1 200 OK\r\nServer: a\r\nX-Po").unwrap();
        assert_eq!(c.headers, [("Server".to_string(), "a".to_string())]);
        assert!(head(b"SSH-2.0-x").is_none());
        assert_eq!(
            ftp_banner(b"220-Welcome\r\n220 ProFTPD 1.3.5 Server\r\n").as_deref(),
            Some("Welcome\nProFTPD 1.3.5 Server")
        );
        assert!(ftp_done(b"220-Welcome\r\n220 ok\r\n") && !ftp_done(b"220-Welcome\r\n"));
        assert_eq!(
            ssh_banner(b"SSH-2.0-dropbear_2019.78\r\n").as_deref(),
            Some("dropbear_2019.78")
        );
        assert_eq!(
            last_line(b"\r\nBusyBox v1.01\r\n(none) login: "),
            "(none) login:"
        );
        assert!(ends_in_prompt(b"login: ") && !ends_in_prompt(b"Welcome\r\n"));
    }
}

/// A chunked body's bytes (`Transfer-Encoding: chunked`), as far as the
/// chunks are whole.
pub fn dechunk(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(eol) = find(rest, b"\r\n") {
        let size = std::str::from_utf8(&rest[..eol])
            .ok()
            .and_then(|l| usize::from_str_radix(l.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size.filter(|&s| s > 0) else {
            break;
        };
        let start = eol + 2;
        let end = start.saturating_add(size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        rest = rest.get(end + 2..).unwrap_or(&[]);
    }
    out
}

/// The hash Shodan gives a favicon: MurmurHash3 (x86, 32 bits, seed 0) of
/// its base64 with a newline every 76 characters and at the end (Python's
/// `base64.encodebytes`), as a signed number.
pub fn favicon_mmh3(icon: &[u8]) -> i32 {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(icon);
    let mut text = Vec::with_capacity(b64.len() + b64.len() / 76 + 1);
    for line in b64.as_bytes().chunks(76) {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    murmur3_32(&text, 0) as i32
}

fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut blocks = data.chunks_exact(4);
    for b in &mut blocks {
        let k = u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            .wrapping_mul(C1)
            .rotate_left(15)
            .wrapping_mul(C2);
        h = (h ^ k)
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &b) in tail.iter().enumerate() {
            k |= (b as u32) << (8 * i);
        }
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod hash_tests {
    use super::*;

    #[test]
    fn murmur3_matches_the_reference_vectors() {
        // Python's mmh3.hash(...) (signed): "" 0, "hello" 613153351,
        // "foo" -156908512.
        assert_eq!(murmur3_32(b"", 0) as i32, 0);
        assert_eq!(murmur3_32(b"hello", 0) as i32, 613153351);
        assert_eq!(murmur3_32(b"foo", 0) as i32, -156908512);
    }

    #[test]
    fn favicon_hash_is_shodans() {
        // python3: mmh3.hash(base64.encodebytes(bytes(range(256)) * 3))
        let icon: Vec<u8> = (0..3).flat_map(|_| 0..=255u8).collect();
        assert_eq!(favicon_mmh3(&icon), 1836528006);
    }

    #[test]
    fn chunks_are_joined() {
        assert_eq!(dechunk(b"4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\n\r\n"), b"abcdef");
        assert_eq!(dechunk(b"zz\r\n"), b"");
        assert_eq!(dechunk(b"10\r\nabc"), b"abc");
    }
}
