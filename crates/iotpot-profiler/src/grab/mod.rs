//! One grab: one connection to one port of a host that attacked, one benign
//! request, what came back.
//!
//! Web ports are asked `GET /` at once and TLS ports get a ClientHello;
//! on the others the protocol is found from what the device says, as nmap's
//! NULL probe does: a device that speaks first is Telnet (negotiation or a
//! bare banner), FTP (`220`) or SSH (`SSH-`); one that waits 2 s is asked
//! `GET /`. RTSP ports are asked `OPTIONS` at once. Never a credential,
//! never a second try.
//! Every grab is bounded: connect time, total time, bytes read.

pub mod parse;
pub mod telnet;
pub mod tls;

pub use iotpot_core::profiler::{Grab, RAW_KEPT};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a device is given to speak first.
const SPEAK_FIRST: Duration = Duration::from_millis(2000);
/// Quiet after a prompt (or a banner) before the grab ends.
const SETTLE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct Limits {
    pub connect: Duration,
    /// The whole grab, reading included.
    pub total: Duration,
    pub max_bytes: usize,
    pub user_agent: String,
}

/// Grab one port.
pub async fn grab(addr: SocketAddr, limits: &Limits) -> Grab {
    let start = Instant::now();
    let mut g = Grab {
        port: addr.port(),
        ..Grab::default()
    };
    match tokio::time::timeout(limits.connect, TcpStream::connect(addr)).await {
        Err(_) => g.state = "filtered".into(),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            g.state = "closed".into()
        }
        Ok(Err(e)) => {
            g.state = "error".into();
            g.error = Some(e.to_string());
        }
        Ok(Ok(stream)) => {
            g.state = "open".into();
            let deadline = start + limits.total;
            let mut conn = Conn::new(stream, deadline, limits.max_bytes);
            converse(&mut conn, &mut g, limits, addr).await;
            g.bytes = conn.buf.len() as u64;
            g.raw = hex::encode(&conn.buf[..conn.buf.len().min(RAW_KEPT)]);
            g.cut = conn.cut;
        }
    }
    g.duration = start.elapsed().as_secs_f64();
    g
}

/// One open connection with its bounds.
struct Conn<S = TcpStream> {
    stream: S,
    deadline: Instant,
    max: usize,
    buf: Vec<u8>,
    cut: Option<String>,
    closed: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn new(stream: S, deadline: Instant, max: usize) -> Conn<S> {
        Conn {
            stream,
            deadline,
            max,
            buf: Vec::new(),
            cut: None,
            closed: false,
        }
    }

    /// Read once, waiting at most `wait` (and never past the deadline).
    /// Returns the bytes that arrived (none on quiet, close or a limit).
    async fn read(&mut self, wait: Duration) -> Vec<u8> {
        if self.closed || self.cut.is_some() {
            return Vec::new();
        }
        let now = Instant::now();
        if now >= self.deadline {
            self.cut = Some("timeout".into());
            return Vec::new();
        }
        let wait = wait.min(self.deadline - now);
        // Read straight into the grab's buffer, no more than the cap allows.
        let room = (self.max - self.buf.len()).min(16 << 10);
        let before = self.buf.len();
        self.buf.reserve(room);
        let read = {
            let mut limited = (&mut self.stream).take(room as u64);
            tokio::time::timeout(wait, limited.read_buf(&mut self.buf)).await
        };
        match read {
            Err(_) => {
                if Instant::now() >= self.deadline {
                    self.cut = Some("timeout".into());
                }
                Vec::new()
            }
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.closed = true;
                Vec::new()
            }
            Ok(Ok(_)) => {
                if self.buf.len() >= self.max {
                    self.cut = Some("max_bytes".into());
                }
                self.buf[before..].to_vec()
            }
        }
    }

    fn done(&self) -> bool {
        self.closed || self.cut.is_some()
    }

    async fn send(&mut self, data: &[u8]) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, self.stream.write_all(data))
            .await
            .map_or(true, |r| r.is_err())
        {
            self.closed = true;
        }
    }
}

/// A plain or a TLS connection.
type Stream = tokio_util::either::Either<TcpStream, tokio_rustls::client::TlsStream<TcpStream>>;

/// Ports where a web server speaks TLS.
pub const TLS_PORTS: &[u16] = &[443, 4443, 7443, 8443];

/// Ports where an RTSP server (a camera's) is asked `OPTIONS` at once.
pub const RTSP_PORTS: &[u16] = &[554, 8554];

/// Ports where only a web server is expected (TR-069's 7547 included): it
/// is asked at once, without waiting for it to speak first.
pub const HTTP_PORTS: &[u16] = &[80, 81, 5000, 7547, 8000, 8080, 8081, 8888];

async fn converse(conn: &mut Conn, g: &mut Grab, limits: &Limits, addr: SocketAddr) {
    if TLS_PORTS.contains(&g.port) {
        return tls_certificate(conn, g, limits, addr).await;
    }
    if HTTP_PORTS.contains(&g.port) {
        return http(conn, g, limits, host(addr), false).await;
    }
    if RTSP_PORTS.contains(&g.port) {
        return rtsp(conn, g, host(addr)).await;
    }
    let first = conn.read(SPEAK_FIRST).await;
    if first.is_empty() {
        if conn.done() {
            return;
        }
        // A device that waits to be asked.
        return http(conn, g, limits, host(addr), false).await;
    }
    if first.starts_with(b"220") {
        g.service = "ftp".into();
        while !parse::ftp_done(&conn.buf) && !conn.done() {
            conn.read(SETTLE * 4).await;
        }
        if let Some(b) = parse::ftp_banner(&conn.buf) {
            g.fields.push(("ftp.banner".into(), b));
        }
    } else if first.starts_with(b"SSH-") {
        g.service = "ssh".into();
        while !conn.buf.contains(&b'\n') && !conn.done() {
            conn.read(SETTLE * 4).await;
        }
        if let Some(b) = parse::ssh_banner(&conn.buf) {
            g.fields.push(("ssh.banner".into(), b));
        }
    } else {
        telnet(conn, g, first).await;
    }
}

/// Send a ClientHello and read the server's first flight, up to its
/// certificate (see [`tls`]).
async fn tls_certificate(conn: &mut Conn, g: &mut Grab, limits: &Limits, addr: SocketAddr) {
    let mut random = [0u8; 32];
    fastrand::fill(&mut random);
    conn.send(&tls::client_hello(random)).await;
    let mut f = tls::flight(&conn.buf);
    while !f.done && !conn.done() {
        if conn.read(SETTLE * 4).await.is_empty() && !conn.done() {
            break;
        }
        f = tls::flight(&conn.buf);
    }
    if conn.buf.is_empty() {
        // Closed on a TLS 1.2 hello: maybe a TLS 1.3-only server.
        return https(g, limits, conn.deadline, addr).await;
    }
    g.service = "tls".into();
    g.error = f.problem.clone();
    let old = matches!(
        f.version.as_deref(),
        Some("SSL 3.0" | "TLS 1.0" | "TLS 1.1")
    );
    if let Some(der) = f.certificate {
        keep_certificate(g, tls::certificate(&der, f.version, f.cipher));
    }
    // The page too, over a real TLS session, where rustls can have one
    // (TLS 1.2 and 1.3: not the old devices, whose certificate is enough).
    if !old && f.problem.as_deref() != Some("not TLS") {
        https(g, limits, conn.deadline, addr).await;
    }
}

fn keep_certificate(g: &mut Grab, c: iotpot_core::profiler::Certificate) {
    g.fields.retain(|(k, _)| !k.starts_with("x509."));
    g.fields.push(("x509.subject".into(), c.subject.clone()));
    g.fields.push(("x509.issuer".into(), c.issuer.clone()));
    g.certificate = Some(c);
}

/// A TCP connection within the grab's limits, and TLS over it when asked.
async fn open(
    addr: SocketAddr,
    tls: bool,
    limits: &Limits,
    deadline: Instant,
) -> Result<Stream, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    let tcp = tokio::time::timeout(limits.connect.min(left), TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    if !tls {
        return Ok(Stream::Left(tcp));
    }
    let config = iotpot_core::tls::any_certificate_config()?;
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let left = deadline.saturating_duration_since(Instant::now());
    let session = tokio::time::timeout(
        left,
        tokio_rustls::TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .map_err(|_| "TLS handshake timed out".to_string())?
    .map_err(|e| format!("TLS: {e}"))?;
    Ok(Stream::Right(session))
}

/// `GET /` over TLS: the page as on a plain web port; the certificate from
/// the session when the first flight hid it (TLS 1.3).
async fn https(g: &mut Grab, limits: &Limits, deadline: Instant, addr: SocketAddr) {
    let stream = match open(addr, true, limits, deadline).await {
        Ok(s) => s,
        Err(e) => {
            g.error.get_or_insert(e);
            return;
        }
    };
    if g.service.is_empty() {
        g.service = "tls".into();
    }
    if g.certificate.is_none() {
        if let Stream::Right(session) = &stream {
            let (_, c) = session.get_ref();
            let version = c.protocol_version().map(|v| match v {
                rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
                rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
                other => format!("{other:?}"),
            });
            let suite = c.negotiated_cipher_suite().map(|s| u16::from(s.suite()));
            if let Some(der) = c.peer_certificates().and_then(|certs| certs.first()) {
                keep_certificate(g, tls::certificate(der, version, suite));
                g.error = None;
            }
        }
    }
    let mut conn = Conn::new(stream, deadline, limits.max_bytes);
    http(&mut conn, g, limits, host(addr), true).await;
    if g.service == "http" {
        g.service = "https".into();
    }
}

/// `ip:port` as a Host header and an RTSP URL write it.
fn host(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => v4.to_string(),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    }
}

/// A Telnet device: answer its negotiation, read until it shows a prompt
/// and goes quiet, or a limit.
async fn telnet(conn: &mut Conn, g: &mut Grab, first: Vec<u8>) {
    g.service = "telnet".into();
    let mut client = telnet::Client::default();
    let mut data = first;
    loop {
        let reply = client.feed(&data);
        if !reply.is_empty() {
            conn.send(&reply).await;
        }
        if conn.done() {
            break;
        }
        let wait = if parse::ends_in_prompt(&client.text) {
            SETTLE
        } else {
            SETTLE * 4
        };
        data = conn.read(wait).await;
        if data.is_empty() {
            break;
        }
    }
    g.negotiation = client
        .commands
        .iter()
        .map(|&(v, o)| telnet::command_text(v, o))
        .collect();
    let text = String::from_utf8_lossy(&client.text);
    let banner = text.trim();
    if !banner.is_empty() {
        g.prompt = Some(parse::last_line(&client.text));
        g.fields.push(("telnet.banner".into(), banner.to_string()));
    }
}

/// Read an HTTP/RTSP answer to its end: `Content-Length` bytes of body,
/// the last chunk, the connection's close, or a limit.
async fn read_answer<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut Conn<S>) {
    loop {
        if let Some(h) = parse::head(&conn.buf) {
            let head_done = conn.buf.windows(4).any(|w| w == b"\r\n\r\n")
                || conn.buf.windows(2).any(|w| w == b"\n\n");
            if head_done {
                let length = h
                    .header("Content-Length")
                    .and_then(|l| l.parse::<usize>().ok());
                match length {
                    Some(n) if h.body.len() >= n => return,
                    None if h.version.starts_with("RTSP/") => return,
                    None if h
                        .header("Transfer-Encoding")
                        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
                        && h.body.ends_with(b"0\r\n\r\n") =>
                    {
                        return
                    }
                    _ => {}
                }
            }
        }
        if conn.done() {
            return;
        }
        if conn.read(SETTLE * 4).await.is_empty() && !conn.done() {
            // Quiet for 2 s with the answer unfinished: that is all.
            return;
        }
    }
}

fn keep_head(g: &mut Grab, h: &parse::Head) {
    g.status = Some(h.status);
    g.status_line = Some(
        format!("{} {} {}", h.version, h.status, h.reason)
            .trim_end()
            .to_string(),
    );
    g.headers = h.headers.clone();
}

async fn http<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    g: &mut Grab,
    limits: &Limits,
    host: String,
    tls: bool,
) {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nConnection: close\r\n\r\n",
        limits.user_agent
    );
    conn.send(request.as_bytes()).await;
    read_answer(conn).await;
    let Some(h) = parse::head(&conn.buf) else {
        return;
    };
    g.service = "http".into();
    keep_head(g, &h);
    for (field, header) in [
        ("http_header.server", "Server"),
        ("http_header.wwwauth", "WWW-Authenticate"),
        ("http_header.cookie", "Set-Cookie"),
        ("http_header.x_powered_by", "X-Powered-By"),
    ] {
        if let Some(v) = h.header(header) {
            g.fields.push((field.into(), v.to_string()));
        }
    }
    if let Some(t) = parse::title(&h.body) {
        g.fields.push(("html_title".into(), t));
    }
    g.body_sha256 = Some(iotpot_core::sample::sha256_hex(&h.body));
    favicon(g, limits, conn.deadline, &host, tls).await;
}

/// `GET /favicon.ico` on a second connection (web servers of devices
/// rarely keep one open), within what is left of the grab's time: its MD5
/// (what Recog's favicon file matches) and Shodan's hash.
async fn favicon(g: &mut Grab, limits: &Limits, deadline: Instant, host: &str, tls: bool) {
    let Ok(addr) = host.parse::<SocketAddr>() else {
        return;
    };
    let Ok(stream) = open(addr, tls, limits, deadline).await else {
        return;
    };
    let mut conn = Conn::new(stream, deadline, limits.max_bytes);
    let request = format!(
        "GET /favicon.ico HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nAccept: image/avif,image/webp,*/*\r\nConnection: close\r\n\r\n",
        limits.user_agent
    );
    conn.send(request.as_bytes()).await;
    read_answer(&mut conn).await;
    let Some(h) = parse::head(&conn.buf) else {
        return;
    };
    let chunked = h
        .header("Transfer-Encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    let icon = if chunked {
        parse::dechunk(&h.body)
    } else {
        h.body
    };
    if h.status != 200 || icon.is_empty() || conn.cut.is_some() {
        return;
    }
    use md5::Digest;
    g.fields
        .push(("favicon.md5".into(), hex::encode(md5::Md5::digest(&icon))));
    g.fields.push((
        "favicon.mmh3".into(),
        parse::favicon_mmh3(&icon).to_string(),
    ));
}

async fn rtsp(conn: &mut Conn, g: &mut Grab, host: String) {
    let request = format!("OPTIONS rtsp://{host}/ RTSP/1.0\r\nCSeq: 1\r\n\r\n");
    conn.send(request.as_bytes()).await;
    read_answer(conn).await;
    let Some(h) = parse::head(&conn.buf) else {
        return;
    };
    g.service = "rtsp".into();
    keep_head(g, &h);
    if let Some(v) = h.header("Server") {
        g.fields.push(("rtsp_header.server".into(), v.to_string()));
    }
}
