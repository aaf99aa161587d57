//! The access manager's sinkhole: the whole network an analysis sandbox
//! sees. QEMU hands every Ethernet frame of the guest's NIC to iotpot over
//! a unix socket (`-netdev stream`); nothing is ever forwarded anywhere.
//! A user-space TCP/IP stack (smoltcp) plays every host on the Internet:
//!
//! - it answers ARP for the gateway (10.0.2.2) and the resolver (10.0.2.3);
//! - every DNS question gets an answer: each distinct name its own address
//!   in 198.18.0.0/15 (reserved for benchmarks, never routed), so the
//!   connections that follow can be tied back to the name;
//! - every TCP connection, to any address and port, is accepted and what
//!   the sample sends first is kept (a bot's C&C hello, a login attempt);
//! - an HTTP GET is answered from the sample store (what the downloader
//!   fetched on the host, never anything from the Internet), 404 otherwise;
//! - UDP other than DNS and ICMP other than echo are only recorded.
//!
//! [`Sinkhole`] is sans-I/O: frames in, frames out, a clock; [`serve`]
//! runs it on the socket. Every frame in both directions is written to
//! the analysis pcap.

pub use iotpot_core::event::Contact;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::Ipv4Addr;

/// The gateway's MAC (what QEMU's own user network uses).
pub const GATEWAY_MAC: [u8; 6] = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02];
/// Largest frame accepted from the guest (a virtio NIC without offloads
/// sends at most 1514 bytes; anything larger is a broken stream).
pub const MAX_FRAME: usize = 65_535;
/// Connections open at once, and recorded in all.
const MAX_SOCKETS: usize = 256;
const MAX_CONTACTS: usize = 1000;
/// Bytes of what the guest sends that a contact keeps.
const KEEP_BYTES: usize = 1024;
/// Distinct names given an address.
const MAX_NAMES: usize = 4096;
/// Largest file served.
const MAX_FILE: usize = 16 << 20;
/// How long a half-open connection keeps its socket.
const HALF_OPEN_MS: i64 = 5000;
/// Frames queued each way (towards the guest, the oldest are dropped; from
/// it, the newest).
const MAX_QUEUE: usize = 4096;

/// What a sinkhole serves over HTTP: the sample store, looked up by URL.
pub trait Files: Send + Sync {
    /// The bytes stored for `url` (`http://host[:port]/path`).
    fn get(&self, url: &str) -> Option<Vec<u8>>;
}

/// Serves nothing (every GET is a 404).
pub struct NoFiles;

impl Files for NoFiles {
    fn get(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

/// The device between smoltcp and the socket: two queues.
#[derive(Default)]
struct Queues {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        if self.0.len() >= MAX_QUEUE {
            self.0.pop_front();
        }
        self.0.push_back(buf);
        r
    }
}

impl Device for Queues {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((Rx(frame), Tx(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = 1514;
        c.checksum = ChecksumCapabilities::default();
        c
    }
}

/// A connection in progress.
struct Conn {
    /// When it started listening (ms).
    since: i64,
    contact: Option<usize>,
    head: Vec<u8>,
    /// The HTTP answer still to send, and how much of it went.
    reply: Option<(Vec<u8>, usize)>,
}

/// The sinkhole's state: the stack, its sockets and what was seen.
pub struct Sinkhole {
    iface: Interface,
    dev: Queues,
    sockets: SocketSet<'static>,
    dns: SocketHandle,
    conns: HashMap<SocketHandle, Conn>,
    /// Name -> the address it was given, and back.
    names: BTreeMap<String, Ipv4Addr>,
    by_addr: HashMap<Ipv4Addr, String>,
    pub contacts: Vec<Contact>,
    /// Contacts that went unrecorded (over the bound).
    pub contacts_dropped: u64,
    /// Off while the sample is uploaded: those connections are not the
    /// sample's.
    pub recording: bool,
}

fn tcp_socket() -> tcp::Socket<'static> {
    let mut s = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; 8192]),
        tcp::SocketBuffer::new(vec![0; 16384]),
    );
    s.set_timeout(Some(smoltcp::time::Duration::from_secs(60)));
    s
}

impl Sinkhole {
    pub fn new(now_ms: i64) -> Sinkhole {
        let mut dev = Queues::default();
        let config = Config::new(EthernetAddress(GATEWAY_MAC).into());
        let mut iface = Interface::new(config, &mut dev, Instant::from_millis(now_ms));
        iface.update_ip_addrs(|a| {
            // Two addresses fit the interface's table.
            let _ = a.push(IpCidr::new(IpAddress::v4(10, 0, 2, 2), 24));
            let _ = a.push(IpCidr::new(IpAddress::v4(10, 0, 2, 3), 24));
        });
        // Every address off the guest's subnet is ours (AnyIP through a
        // default route whose gateway is our own address).
        let _ = iface
            .routes_mut()
            .add_default_ipv4_route(Ipv4Address::new(10, 0, 2, 2));
        iface.set_any_ip(true);
        let mut sockets = SocketSet::new(vec![]);
        let mut dns = udp::Socket::new(
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 64], vec![0; 32768]),
            udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; 64], vec![0; 32768]),
        );
        let _ = dns.bind(53);
        let dns = sockets.add(dns);
        Sinkhole {
            iface,
            dev,
            sockets,
            dns,
            conns: HashMap::new(),
            names: BTreeMap::new(),
            by_addr: HashMap::new(),
            contacts: Vec::new(),
            contacts_dropped: 0,
            recording: true,
        }
    }

    /// The names the guest resolved and the addresses they were given.
    pub fn resolved(&self) -> BTreeMap<String, String> {
        self.names
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    }

    /// A frame from the guest (hostile bytes: anything may come).
    pub fn input(&mut self, frame: &[u8], now_ms: i64) {
        if frame.len() > MAX_FRAME || self.dev.rx.len() >= MAX_QUEUE {
            return;
        }
        if let Some(port) = tcp_syn_port(frame) {
            self.listen(port, now_ms);
        }
        self.dev.rx.push_back(frame.to_vec());
    }

    /// Make sure a socket listens on `port` for the SYN about to arrive.
    fn listen(&mut self, port: u16, now_ms: i64) {
        let listening = self.conns.keys().any(|h| {
            let s = self.sockets.get::<tcp::Socket>(*h);
            s.state() == tcp::State::Listen && s.listen_endpoint().port == port
        });
        if listening || self.conns.len() >= MAX_SOCKETS {
            return;
        }
        let mut s = tcp_socket();
        if s.listen(port).is_ok() {
            let h = self.sockets.add(s);
            self.conns.insert(
                h,
                Conn {
                    since: now_ms,
                    contact: None,
                    head: Vec::new(),
                    reply: None,
                },
            );
        }
    }

    /// Run the stack and the services; the frames for the guest.
    pub fn poll(&mut self, now_ms: i64, files: &dyn Files) -> Vec<Vec<u8>> {
        let now = Instant::from_millis(now_ms);
        for _ in 0..4 {
            self.iface.poll(now, &mut self.dev, &mut self.sockets);
            let busy = self.answer_dns() | self.serve_tcp(now_ms, files);
            if !busy {
                break;
            }
        }
        self.iface.poll(now, &mut self.dev, &mut self.sockets);
        self.dev.tx.drain(..).collect()
    }

    /// When the stack next wants to run, in ms from `now_ms`.
    pub fn delay_ms(&mut self, now_ms: i64) -> Option<u64> {
        self.iface
            .poll_delay(Instant::from_millis(now_ms), &self.sockets)
            .map(|d| d.total_millis())
    }

    fn address_for(&mut self, name: &str) -> Option<Ipv4Addr> {
        if let Some(a) = self.names.get(name) {
            return Some(*a);
        }
        if self.names.len() >= MAX_NAMES {
            return None;
        }
        // 198.18.0.1, 198.18.0.2, ...
        let n = self.names.len() as u32 + 1;
        let a = Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + n);
        self.names.insert(name.to_string(), a);
        self.by_addr.insert(a, name.to_string());
        Some(a)
    }

    fn answer_dns(&mut self) -> bool {
        let mut busy = false;
        loop {
            let s = self.sockets.get_mut::<udp::Socket>(self.dns);
            let Ok((query, meta)) = s.recv() else {
                break;
            };
            busy = true;
            let query = query.to_vec();
            let Some(q) = crate::dns::Question::parse(&query) else {
                continue;
            };
            let addr = if q.qtype == 1 {
                self.address_for(&q.name)
            } else {
                None
            };
            let reply = q.answer(addr.map(|a| a.octets()));
            let s = self.sockets.get_mut::<udp::Socket>(self.dns);
            let _ = s.send_slice(&reply, meta);
        }
        busy
    }

    fn serve_tcp(&mut self, now_ms: i64, files: &dyn Files) -> bool {
        let mut busy = false;
        let mut closed = Vec::new();
        let handles: Vec<SocketHandle> = self.conns.keys().copied().collect();
        for h in handles {
            let s = self.sockets.get_mut::<tcp::Socket>(h);
            let Some(conn) = self.conns.get_mut(&h) else {
                continue;
            };
            if s.state() == tcp::State::SynReceived && now_ms - conn.since > HALF_OPEN_MS {
                // A SYN scan never completes the handshake: free the socket.
                s.abort();
                closed.push(h);
                continue;
            }
            if s.state() == tcp::State::Listen || s.state() == tcp::State::SynReceived {
                continue;
            }
            if !s.is_open() {
                closed.push(h);
                continue;
            }
            if conn.contact.is_none() {
                let dst = dst_of(s);
                let name = s.local_endpoint().and_then(|e| match e.addr {
                    IpAddress::Ipv4(a) => self.by_addr.get(&a).cloned(),
                    #[allow(unreachable_patterns)]
                    _ => None,
                });
                if !self.recording {
                    conn.contact = Some(usize::MAX);
                } else if self.contacts.len() < MAX_CONTACTS {
                    self.contacts.push(Contact {
                        dst,
                        name,
                        sent: 0,
                        first_bytes: String::new(),
                        http: None,
                        served: None,
                    });
                    conn.contact = Some(self.contacts.len() - 1);
                } else {
                    self.contacts_dropped += 1;
                    conn.contact = Some(usize::MAX);
                }
            }
            let mut buf = [0u8; 4096];
            let mut got = false;
            while s.can_recv() {
                let Ok(n) = s.recv_slice(&mut buf) else {
                    break;
                };
                if n == 0 {
                    break;
                }
                busy = true;
                got = true;
                if let Some(c) = conn.contact.and_then(|i| self.contacts.get_mut(i)) {
                    c.sent += n as u64;
                }
                if conn.head.len() < KEEP_BYTES {
                    let take = n.min(KEEP_BYTES - conn.head.len());
                    conn.head.extend_from_slice(&buf[..take]);
                }
            }
            let mut contact = conn.contact.and_then(|i| self.contacts.get_mut(i));
            if conn.reply.is_none() && got {
                if let Ok(Some((req, _))) = iotpot_wire::http::parse_head(&conn.head) {
                    let url = if req.target.starts_with("http://") {
                        req.target.clone()
                    } else {
                        let host = req
                            .header("host")
                            .map_or_else(|| dst_of(s), |h| String::from_utf8_lossy(h).into_owned());
                        format!("http://{host}{}", req.target)
                    };
                    let (reply, served) = http_reply(&req.method, files.get(&url));
                    if let Some(c) = contact.as_deref_mut() {
                        c.http = Some(url);
                        c.served = Some(served);
                    }
                    conn.reply = Some((reply, 0));
                }
            }
            if let Some(c) = contact.filter(|_| got) {
                c.first_bytes = hex::encode(&conn.head);
            }
            if let Some((reply, sent)) = &mut conn.reply {
                while *sent < reply.len() && s.can_send() {
                    match s.send_slice(&reply[*sent..]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            *sent += n;
                            busy = true;
                        }
                    }
                }
                if *sent >= reply.len() {
                    s.close();
                }
            } else if !s.may_recv() {
                // The guest closed its side: so do we.
                s.close();
            }
        }
        for h in closed {
            self.conns.remove(&h);
            self.sockets.remove(h);
        }
        busy
    }
}

/// `ip:port` the guest connected to.
fn dst_of(s: &tcp::Socket) -> String {
    s.local_endpoint()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

/// The answer to an HTTP request for a stored file (or not), and what the
/// contact records as served.
fn http_reply(method: &str, file: Option<Vec<u8>>) -> (Vec<u8>, String) {
    match file.filter(|f| f.len() <= MAX_FILE) {
        Some(body) => {
            let sha = iotpot_core::sample::sha256_hex(&body);
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            if method != "HEAD" {
                r.extend_from_slice(&body);
            }
            (r, sha)
        }
        None => (
            b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            "404".to_string(),
        ),
    }
}

/// The destination port of a TCP SYN (without ACK) in an Ethernet frame.
fn tcp_syn_port(f: &[u8]) -> Option<u16> {
    if f.len() < 14 + 20 + 14 || f[12..14] != [8, 0] {
        return None;
    }
    let ip = &f[14..];
    let ihl = (ip[0] & 0x0f) as usize * 4;
    if ip[0] >> 4 != 4 || ip[9] != 6 || ihl < 20 || ip.len() < ihl + 14 {
        return None;
    }
    let t = &ip[ihl..];
    (t[13] & 0x12 == 0x02).then(|| u16::from_be_bytes([t[2], t[3]]))
}

/// Bytes of pcap written at most for one run; later frames are still
/// served, only not written.
pub const MAX_PCAP: u64 = 64 << 20;

/// What one run through [`serve`] saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub contacts: Vec<Contact>,
    pub contacts_dropped: u64,
    pub resolved: BTreeMap<String, String>,
    /// Frames from the guest and to it.
    pub frames_in: u64,
    pub frames_out: u64,
    /// The pcap reached [`MAX_PCAP`].
    pub pcap_truncated: bool,
}

/// Run the sinkhole on QEMU's stream socket (each frame preceded by its
/// length, 4 bytes big-endian) until `stop` fires or QEMU hangs up; while
/// `recording` says so, every frame goes to the pcap at `pcap` and the
/// connections are the sample's.
pub async fn serve(
    mut stream: tokio::net::UnixStream,
    files: std::sync::Arc<dyn Files>,
    pcap: &std::path::Path,
    recording: tokio::sync::watch::Receiver<bool>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> anyhow::Result<Seen> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let file = std::io::BufWriter::new(std::fs::File::create(pcap)?);
    let header = pcap_file::pcap::PcapHeader {
        datalink: pcap_file::DataLink::ETHERNET,
        ..Default::default()
    };
    let mut writer = pcap_file::pcap::PcapWriter::with_header(file, header)?;
    let mut written: u64 = 24;
    let mut seen = Seen::default();
    let mut record = |frame: &[u8], seen: &mut Seen| {
        if !*recording.borrow() {
            return;
        }
        if written + 16 + frame.len() as u64 > MAX_PCAP {
            seen.pcap_truncated = true;
            return;
        }
        written += 16 + frame.len() as u64;
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let _ = writer.write_packet(&pcap_file::pcap::PcapPacket::new(
            ts,
            frame.len() as u32,
            frame,
        ));
    };
    let started = std::time::Instant::now();
    let now = || started.elapsed().as_millis() as i64;
    let mut sink = Sinkhole::new(now());
    let mut buf: Vec<u8> = Vec::new();
    let mut tmp = vec![0u8; 65536];
    loop {
        sink.recording = *recording.borrow();
        let wait = sink.delay_ms(now()).unwrap_or(1000).clamp(1, 1000);
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(std::time::Duration::from_millis(wait)) => {}
            n = stream.read(&mut tmp) => {
                let n = n?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&tmp[..n]);
                let mut at = 0;
                while buf.len() - at >= 4 {
                    let len = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
                    if len > MAX_FRAME {
                        anyhow::bail!("the guest's network stream is broken (a {len}-byte frame)");
                    }
                    if buf.len() - at - 4 < len {
                        break;
                    }
                    let frame = &buf[at + 4..at + 4 + len];
                    seen.frames_in += 1;
                    record(frame, &mut seen);
                    sink.input(frame, now());
                    at += 4 + len;
                }
                buf.drain(..at);
            }
        }
        let out = sink.poll(now(), files.as_ref());
        if !out.is_empty() {
            let mut bytes = Vec::new();
            for f in &out {
                seen.frames_out += 1;
                record(f, &mut seen);
                bytes.extend_from_slice(&(f.len() as u32).to_be_bytes());
                bytes.extend_from_slice(f);
            }
            // A guest that stopped reading loses frames, not the sinkhole.
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(1), stream.write_all(&bytes))
                    .await;
        }
    }
    writer
        .into_writer()
        .into_inner()
        .map_err(|e| e.into_error())?;
    seen.contacts = std::mem::take(&mut sink.contacts);
    seen.contacts_dropped = sink.contacts_dropped;
    seen.resolved = sink.resolved();
    Ok(seen)
}
