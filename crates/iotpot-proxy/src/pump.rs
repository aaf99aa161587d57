//! Moving one connection's bytes between a TCP socket and a QUIC stream,
//! both ways, half-closes carried, without a buffer per connection: bytes
//! from TCP are read into the worker thread's buffer when the socket is
//! readable and handed to QUIC; QUIC's own chunks are written to TCP. An
//! idle relayed connection holds no buffer at all (a generic copy holds
//! two of 8 KiB).

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The largest QUIC chunk taken at once.
const CHUNK: usize = 64 << 10;

/// Pump until both directions have ended; the bytes moved (TCP to QUIC,
/// QUIC to TCP).
pub async fn pump(
    tcp: TcpStream,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
) -> (u64, u64) {
    let (tcp_r, mut tcp_w) = tcp.into_split();
    let (mut up_bytes, mut down_bytes) = (0u64, 0u64);
    let up = async {
        loop {
            if tcp_r.readable().await.is_err() {
                let _ = send.reset(0u32.into());
                return;
            }
            match read_some(&tcp_r) {
                Ok(Some(b)) => {
                    up_bytes += b.len() as u64;
                    if send.write_chunk(b).await.is_err() {
                        return;
                    }
                }
                // The attacker half-closed: so does the stream.
                Ok(None) => {
                    let _ = send.finish();
                    return;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    let _ = send.reset(0u32.into());
                    return;
                }
            }
        }
    };
    let down = async {
        loop {
            match recv.read_chunk(CHUNK, true).await {
                Ok(Some(c)) => {
                    down_bytes += c.bytes.len() as u64;
                    if tcp_w.write_all(&c.bytes).await.is_err() {
                        let _ = recv.stop(0u32.into());
                        return;
                    }
                }
                // The far end half-closed: so does the socket.
                Ok(None) => {
                    let _ = tcp_w.shutdown().await;
                    return;
                }
                // Reset (the attacker's connection was reset, or the far
                // end gave up): the socket is closed on its side too, or
                // the session behind it would wait for input until its
                // idle timeout.
                Err(_) => {
                    let _ = tcp_w.shutdown().await;
                    return;
                }
            }
        }
    };
    tokio::join!(up, down);
    (up_bytes, down_bytes)
}

/// What the socket has now, copied out of the thread's buffer; `None` at
/// its end.
fn read_some(tcp: &tokio::net::tcp::OwnedReadHalf) -> std::io::Result<Option<Bytes>> {
    thread_local! {
        static BUF: std::cell::RefCell<Box<[u8]>> = std::cell::RefCell::new(vec![0u8; 16 << 10].into());
    }
    BUF.with_borrow_mut(|buf| {
        let n = iotpot_frontend::conn::try_read_all_there(tcp.as_ref(), buf)?;
        Ok((n > 0).then(|| Bytes::copy_from_slice(&buf[..n])))
    })
}
