//! URLs as attackers write them, parsed the way the fetching tools (and the
//! C library's `inet_aton`) read them, so the guard sees the address that
//! would really be contacted: `http://2130706433/`, `http://0x7f.1/`,
//! `http://017700000001/`, `http://127.1/`, `http://[::ffff:127.0.0.1]/`,
//! `http://%31%32%37.0.0.1/` are all 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
    Ftp,
    Tftp,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
            Scheme::Ftp => 21,
            Scheme::Tftp => 69,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Ftp => "ftp",
            Scheme::Tftp => "tftp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    /// A DNS name, lower case, without a trailing dot.
    Name(String),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: Scheme,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Host,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// `host:port` as it goes in an HTTP `Host:` header.
    pub fn host_header(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.to_string()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The last path component, or `index.html`.
    pub fn file_name(&self) -> String {
        let p = self.path.split(['?', '#']).next().unwrap_or("");
        match p.rsplit('/').next() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => "index.html".into(),
        }
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.name(),
            self.host_header(),
            self.path
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    Scheme(String),
    NoHost,
    Port(String),
    TooLong,
}

impl std::fmt::Display for UrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlError::Scheme(s) => write!(f, "unsupported scheme {s:?}"),
            UrlError::NoHost => f.write_str("no host"),
            UrlError::Port(p) => write!(f, "bad port {p:?}"),
            UrlError::TooLong => f.write_str("URL too long"),
        }
    }
}

/// Longest URL accepted.
pub const MAX_URL: usize = 4096;

pub fn parse(input: &str) -> Result<Url, UrlError> {
    if input.len() > MAX_URL {
        return Err(UrlError::TooLong);
    }
    let input = input.trim();
    let (scheme, rest) = match input.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), input),
    };
    let scheme = match scheme.as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        "ftp" => Scheme::Ftp,
        "tftp" => Scheme::Tftp,
        other => return Err(UrlError::Scheme(other.to_string())),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let path: String = path.split('#').next().unwrap_or("/").to_string();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Some(percent_decode(a)), Some(percent_decode(b))),
            None => (Some(percent_decode(u)), None),
        },
        None => (None, None),
    };
    let (host_text, port_text) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or(UrlError::NoHost)?;
        (h.to_string(), after.strip_prefix(':').map(str::to_string))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.to_string())),
            None => (hostport.to_string(), None),
        }
    };
    let port = match port_text.as_deref() {
        None | Some("") => scheme.default_port(),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| UrlError::Port(p.to_string()))?,
    };
    let host = parse_host(&host_text).ok_or(UrlError::NoHost)?;
    Ok(Url {
        scheme,
        user,
        password,
        host,
        port,
        path,
    })
}

/// A host as the C library would read it.
pub fn parse_host(text: &str) -> Option<Host> {
    let decoded = percent_decode(text);
    let h = decoded.trim_end_matches('.').to_ascii_lowercase();
    if h.is_empty() {
        return None;
    }
    // IPv6, with an optional zone (`fe80::1%eth0`).
    let no_zone = h.split('%').next().unwrap_or(&h);
    if let Ok(v6) = no_zone.parse::<Ipv6Addr>() {
        return Some(Host::Ip(IpAddr::V6(v6)));
    }
    if let Some(v4) = inet_aton(&h) {
        return Some(Host::Ip(IpAddr::V4(v4)));
    }
    if h.bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_')
        && h.len() <= 253
    {
        return Some(Host::Name(h));
    }
    None
}

/// `inet_aton`: 1 to 4 parts, each decimal, octal (`0` prefix) or hex
/// (`0x`); the last part fills the remaining bytes.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        let v = if let Some(hex) = p.strip_prefix("0x") {
            if hex.is_empty() {
                0
            } else {
                u64::from_str_radix(hex, 16).ok()?
            }
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else {
            if p.is_empty() {
                return None;
            }
            p.parse::<u64>().ok()?
        };
        nums.push(v);
    }
    let last = *nums.last()?;
    let head = &nums[..nums.len() - 1];
    if head.iter().any(|&n| n > 255) {
        return None;
    }
    let last_bits = 8 * (4 - head.len() as u32);
    if last_bits < 64 && last >= (1u64 << last_bits) {
        return None;
    }
    let mut v: u32 = 0;
    for (i, &n) in head.iter().enumerate() {
        v |= (n as u32) << (24 - 8 * i);
    }
    v |= last as u32;
    Some(Ipv4Addr::from(v))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(u: &str) -> Host {
        parse(u).unwrap().host
    }

    #[test]
    fn every_spelling_of_loopback() {
        let lo = Host::Ip("127.0.0.1".parse().unwrap());
        for u in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://127.1/",
            "http://127.0.1/",
            "http://0x7F000001/",
            "http://0177.0.0.01/",
            "http://%31%32%37.0.0.1/",
            "http://127.0.0.1./",
            "HTTP://user:pw@127.0.0.1:80/x",
        ] {
            assert_eq!(host(u), lo, "{u}");
        }
        assert_eq!(
            host("http://[::ffff:127.0.0.1]/"),
            Host::Ip("::ffff:127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            host("http://[fe80::1%25eth0]:8080/"),
            Host::Ip("fe80::1".parse().unwrap())
        );
    }

    #[test]
    fn urls() {
        let u = parse("ftp://anonymous:pa%40ss@198.51.100.9:2121/bins/x.sh").unwrap();
        assert_eq!(u.scheme, Scheme::Ftp);
        assert_eq!(u.password.as_deref(), Some("pa@ss"));
        assert_eq!(u.port, 2121);
        assert_eq!(u.path, "/bins/x.sh");
        assert_eq!(u.file_name(), "x.sh");
        let u = parse("evil.example.COM./a?b=1#frag").unwrap();
        assert_eq!(
            (u.scheme, u.host.clone(), u.path.as_str()),
            (
                Scheme::Http,
                Host::Name("evil.example.com".into()),
                "/a?b=1"
            )
        );
        assert_eq!(u.to_string(), "http://evil.example.com/a?b=1");
        assert!(matches!(parse("gopher://x/"), Err(UrlError::Scheme(_))));
        assert!(matches!(parse("http://x:99999/"), Err(UrlError::Port(_))));
        assert!(parse("http:///x").is_err());
        assert_eq!(inet_aton("256.1.1.1"), None);
        assert_eq!(inet_aton("1.2.3.4.5"), None);
        assert_eq!(inet_aton("4294967296"), None);
        assert_eq!(
            inet_aton("1.16777215"),
            Some("1.255.255.255".parse().unwrap())
        );
        assert!(
            parse("http://%é1/").is_err(),
            "multi-byte after % must not panic"
        );
    }
}
