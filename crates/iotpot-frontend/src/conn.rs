//! A session's byte stream, whatever carries it: a TCP socket the
//! honeypot accepted, or a stream relayed from a sensor (a QUIC stream
//! that `iotpot-proxy` hands to a [`crate::RelayFace`]). The drivers are
//! written against this trait, so a relayed session is served with no
//! loopback hop in between.

use std::future::Future;
use std::io;
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;

/// What a driver needs from its connection: wait for input, take what is
/// there without waiting, write, close.
pub trait Conn: Send + 'static {
    /// Called first, in the session's own task: small writes go out at
    /// once (Nagle off; a TCP socket's system call, kept out of the accept
    /// loop).
    fn no_delay(&self) {}
    /// Ready when there is input, or its end (cancel-safe).
    fn readable(&mut self) -> impl Future<Output = io::Result<()>> + Send;
    /// What has arrived, into `buf`: `Ok(0)` at the end of the input,
    /// `WouldBlock` when nothing is there.
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Write all of `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> impl Future<Output = io::Result<()>> + Send;
    /// Close the writing half (the peer reads the end of the stream).
    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + Send;
}

impl Conn for TcpStream {
    fn no_delay(&self) {
        let _ = self.set_nodelay(true);
    }

    async fn readable(&mut self) -> io::Result<()> {
        TcpStream::readable(self).await
    }

    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        try_read_all_there(self, buf)
    }

    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        AsyncWriteExt::write_all(self, bytes).await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        AsyncWriteExt::shutdown(self).await
    }
}

/// [`TcpStream::try_read`], and when the read took less than `buf` holds
/// (the socket had no more), the stream is no longer taken for readable:
/// the next wait sleeps until new input comes, instead of returning at
/// once to a read that fails with `WouldBlock` (a system call per input,
/// a fifth of a Mirai session's). What tokio's own `AsyncRead` does; the
/// readiness is cleared as it was seen before the read, so input that
/// arrives meanwhile wakes the next wait all the same.
pub fn try_read_all_there(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    let room = buf.len();
    let mut took = 0;
    let r = stream.try_io(Interest::READABLE, || {
        took = stream.try_read(buf)?;
        if took > 0 && took < room {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(took)
        }
    });
    match r {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock && took > 0 => Ok(took),
        r => r,
    }
}
