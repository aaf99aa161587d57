//! A small HTTP/1.1 GET client (HTTP and HTTPS) that sends what the
//! imitated tool sends (BusyBox wget or curl), follows redirects through the
//! guard, and stops at the size limit. Written on tokio + httparse: a general client would
//! resolve names itself and could be pointed anywhere by a redirect.

use crate::fetch::{FetchError, Fetched, Fetcher, Tool};
use crate::url::{self, Scheme, Url};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest response head accepted.
const MAX_HEAD: usize = 32 << 10;

pub async fn get(f: &Fetcher, mut url: Url, tool: Tool) -> Result<Fetched, FetchError> {
    let mut redirects = 0;
    loop {
        let addr = f.resolve(&url).await?;
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| FetchError::Connect(e.to_string()))?;
        let step = if url.scheme == Scheme::Https {
            let mut tls = crate::tls::connect(tcp, &url).await?;
            exchange(&mut tls, f, &url, tool).await?
        } else {
            let mut tcp = tcp;
            exchange(&mut tcp, f, &url, tool).await?
        };
        match step {
            Step::Redirect(next) => {
                redirects += 1;
                if redirects > f.limits.max_redirects {
                    return Err(FetchError::TooManyRedirects(f.limits.max_redirects));
                }
                url = next;
            }
            Step::Done(bytes, status) => {
                return Ok(Fetched {
                    bytes,
                    final_url: url.to_string(),
                    remote: addr,
                    status: Some(status),
                })
            }
        }
    }
}

enum Step {
    Redirect(Url),
    Done(Vec<u8>, u16),
}

/// One request and its response, over plain TCP or TLS.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    f: &Fetcher,
    url: &Url,
    tool: Tool,
) -> Result<Step, FetchError> {
    s.write_all(request(url, tool).as_bytes())
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))?;
    let (status, reason, headers, mut body) = read_head(s).await?;
    if (300..400).contains(&status) {
        if let Some(loc) = header(&headers, "location") {
            return Ok(Step::Redirect(resolve_location(url, &loc)?));
        }
    }
    if status != 200 {
        return Err(FetchError::Status(status, reason));
    }
    let max = f.limits.max_bytes;
    let chunked = header(&headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length: Option<u64> =
        header(&headers, "content-length").and_then(|v| v.trim().parse().ok());
    if length.is_some_and(|l| l > max) {
        return Err(FetchError::TooLarge(max));
    }
    let mut buf = [0u8; 16 << 10];
    loop {
        if let Some(l) = length {
            if body.len() as u64 >= l {
                body.truncate(l as usize);
                break;
            }
        }
        if body.len() as u64 > max + 64 {
            return Err(FetchError::TooLarge(max));
        }
        let n = match s.read(&mut buf).await {
            Ok(n) => n,
            // Servers that close without close_notify: the body is what came.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(FetchError::Protocol(e.to_string())),
        };
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    let bytes = if chunked { dechunk(&body)? } else { body };
    if bytes.len() as u64 > max {
        return Err(FetchError::TooLarge(max));
    }
    if let Some(l) = length {
        if (bytes.len() as u64) < l {
            return Err(FetchError::Protocol(format!(
                "connection closed after {} of {l} bytes",
                bytes.len()
            )));
        }
    }
    Ok(Step::Done(bytes, status))
}

/// The request line and headers, in the imitated tool's order and spelling.
pub fn request(url: &Url, tool: Tool) -> String {
    let host = url.host_header();
    let path = &url.path;
    match tool {
        Tool::Curl => format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/7.64.0\r\nAccept: */*\r\n\r\n"
        ),
        _ => format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Wget\r\nConnection: close\r\n\r\n"
        ),
    }
}

type Head = (u16, String, Vec<(String, String)>, Vec<u8>);

async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Result<Head, FetchError> {
    let mut data = Vec::with_capacity(4096);
    let mut buf = [0u8; 4096];
    loop {
        let n = s
            .read(&mut buf)
            .await
            .map_err(|e| FetchError::Protocol(e.to_string()))?;
        if n == 0 {
            return Err(FetchError::Protocol(
                "connection closed before the response".into(),
            ));
        }
        data.extend_from_slice(&buf[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&data) {
            Ok(httparse::Status::Complete(len)) => {
                let status = resp.code.unwrap_or(0);
                let reason = resp.reason.unwrap_or("").to_string();
                let hs = resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_ascii_lowercase(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                return Ok((status, reason, hs, data[len..].to_vec()));
            }
            Ok(httparse::Status::Partial) if data.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                return Err(FetchError::Protocol("response head too long".into()))
            }
            Err(e) => return Err(FetchError::Protocol(format!("bad response: {e}"))),
        }
    }
}

fn header(h: &[(String, String)], name: &str) -> Option<String> {
    h.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// A `Location` header, absolute or relative to `base`.
fn resolve_location(base: &Url, loc: &str) -> Result<Url, FetchError> {
    let loc = loc.trim();
    if loc.contains("://") {
        return url::parse(loc).map_err(|e| FetchError::Url(e.to_string()));
    }
    let mut u = base.clone();
    if let Some(abs) = loc.strip_prefix("//") {
        return url::parse(&format!("{}://{abs}", base.scheme.name()))
            .map_err(|e| FetchError::Url(e.to_string()));
    }
    u.path = if loc.starts_with('/') {
        loc.to_string()
    } else {
        let dir = base.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        format!("{dir}/{loc}")
    };
    Ok(u)
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, FetchError> {
    let mut out = Vec::with_capacity(b.len());
    loop {
        let line_end = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| FetchError::Protocol("bad chunk".into()))?;
        let size_text = String::from_utf8_lossy(&b[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| FetchError::Protocol("bad chunk size".into()))?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size {
            return Err(FetchError::Protocol("truncated chunk".into()));
        }
        out.extend_from_slice(&b[..size]);
        b = b.get(size + 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busybox_wget_request() {
        let u = url::parse("http://198.51.100.7:8080/bins/x.arm?a=1").unwrap();
        assert_eq!(
            request(&u, Tool::Wget),
            "GET /bins/x.arm?a=1 HTTP/1.1\r\nHost: 198.51.100.7:8080\r\nUser-Agent: Wget\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn chunks_and_locations() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\n\r\n").unwrap(),
            b"Wikipedia"
        );
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"ffffff\r\nab").is_err());
        let base = url::parse("http://h/a/b.sh").unwrap();
        assert_eq!(
            resolve_location(&base, "c.sh").unwrap().to_string(),
            "http://h/a/c.sh"
        );
        assert_eq!(
            resolve_location(&base, "/x").unwrap().to_string(),
            "http://h/x"
        );
        assert_eq!(
            resolve_location(&base, "http://127.0.0.1/")
                .unwrap()
                .host
                .to_string(),
            "127.0.0.1"
        );
    }
}
