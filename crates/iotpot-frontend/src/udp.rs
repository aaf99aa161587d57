//! A UDP socket that knows each datagram's destination: bound to
//! `0.0.0.0`, it still says which of the host's addresses the attacker
//! wrote to (IP_PKTINFO, through quinn-udp), and answers from that
//! address. The 53413 backdoor's events name the address reached, and a
//! reply never leaves from another one (a scanner drops those).

use quinn_udp::{RecvMeta, Transmit, UdpSocketState};
use std::collections::VecDeque;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Room for what one read may bring (the kernel may coalesce several
/// datagrams of one sender, GRO).
const READ: usize = 64 << 10;

/// The receive and send buffers asked of every UDP socket of the honeypot
/// and of the sensor link (faces, relay backdoors, QUIC): a burst of
/// datagrams waits in the kernel while the thread that reads them is off
/// the CPU, instead of being dropped (at 20,000 datagrams/s the default
/// 208 KiB lasted about 10 ms). The kernel caps it at
/// `net.core.rmem_max`/`wmem_max`; the memory is used only when datagrams
/// wait.
pub const BUFFER: usize = 4 << 20;

/// Ask [`BUFFER`]-sized buffers of `sock` (best effort: a refusal leaves
/// the kernel's default).
pub fn roomy(sock: &impl std::os::fd::AsFd) {
    let s = socket2::SockRef::from(sock);
    if let Err(e) = s
        .set_recv_buffer_size(BUFFER)
        .and_then(|_| s.set_send_buffer_size(BUFFER))
    {
        tracing::debug!(error = %e, "UDP socket buffers left at the kernel's default");
    }
}

pub struct Udp {
    sock: UdpSocket,
    state: UdpSocketState,
    local: SocketAddr,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    buf: Vec<u8>,
    /// Datagrams read together and not handed out yet: (bytes, from, to).
    pending: VecDeque<(Vec<u8>, SocketAddr, SocketAddr)>,
}

impl Udp {
    pub fn new(sock: UdpSocket) -> io::Result<Udp> {
        roomy(&sock);
        let state = UdpSocketState::new((&sock).into())?;
        let local = sock.local_addr()?;
        Ok(Udp {
            sock,
            state,
            local,
            inner: Mutex::new(Inner {
                buf: vec![0; READ],
                pending: VecDeque::new(),
            }),
        })
    }

    pub async fn bind(addr: SocketAddr) -> io::Result<Udp> {
        Udp::new(UdpSocket::bind(addr).await?)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next datagram, in `buf` (cut to its length): its length, who
    /// sent it, and the address and port it was sent to.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, SocketAddr)> {
        loop {
            if let Some((d, from, to)) = self.lock().pending.pop_front() {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                return Ok((n, from, to));
            }
            let read = self
                .sock
                .async_io(Interest::READABLE, || {
                    let mut inner = self.lock();
                    let mut meta = [RecvMeta::default()];
                    let Inner { buf, pending } = &mut *inner;
                    let n = self.state.recv(
                        (&self.sock).into(),
                        &mut [IoSliceMut::new(buf)],
                        &mut meta,
                    )?;
                    if n == 0 {
                        return Ok(());
                    }
                    let m = meta[0];
                    let to = SocketAddr::new(
                        canonical(m.dst_ip.unwrap_or(self.local.ip())),
                        self.local.port(),
                    );
                    let from = SocketAddr::new(canonical(m.addr.ip()), m.addr.port());
                    if m.len == 0 {
                        // An empty datagram is one too (scanners send them).
                        pending.push_back((Vec::new(), from, to));
                    }
                    for d in buf[..m.len].chunks(m.stride.max(1)) {
                        pending.push_back((d.to_vec(), from, to));
                    }
                    Ok(())
                })
                .await;
            read?;
        }
    }

    /// Send `payload` to `to`, from the address `from` (one of this
    /// socket's; unspecified: the one the kernel picks).
    pub async fn send(&self, payload: &[u8], to: SocketAddr, from: IpAddr) -> io::Result<()> {
        let transmit = Transmit {
            destination: to,
            ecn: None,
            contents: payload,
            segment_size: None,
            src_ip: (!from.is_unspecified()).then_some(from),
        };
        self.sock
            .async_io(Interest::WRITABLE, || {
                self.state.send((&self.sock).into(), &transmit)
            })
            .await
    }
}

/// `::ffff:a.b.c.d` is `a.b.c.d`.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bound to every address, a datagram to 127.0.0.7 says so, and the
    /// answer comes from 127.0.0.7.
    #[tokio::test]
    async fn the_address_reached_and_the_answer_from_it() {
        let face = Udp::bind("0.0.0.0:0".parse().unwrap()).await.unwrap();
        let port = face.local_addr().port();
        let client = UdpSocket::bind("127.0.0.8:0").await.unwrap();
        let reached: SocketAddr = format!("127.0.0.7:{port}").parse().unwrap();
        for d in [&b"hello"[..], b"", b"hello"] {
            client.send_to(d, reached).await.unwrap();
        }
        let mut buf = [0u8; 64];
        for d in [&b"hello"[..], b"", b"hello"] {
            let (n, from, to) = face.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], d);
            assert_eq!(from, client.local_addr().unwrap());
            assert_eq!(to, reached);
        }
        face.send(b"back", client.local_addr().unwrap(), reached.ip())
            .await
            .unwrap();
        let (n, from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"back"[..], reached));
    }
}
