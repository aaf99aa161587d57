//! A session's byte stream, whatever carries it: a TCP socket the
//! honeypot accepted, or a stream relayed from a sensor (a QUIC stream
//! that `iotpot-proxy` hands to a [`crate::RelayFace`]). The drivers are
//! written against this trait, so a relayed session is served with no
//! loopback hop in between.

use std::future::Future;
use std::io;
use tokio::io::AsyncWriteExt;
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
        TcpStream::try_read(self, buf)
    }

    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        AsyncWriteExt::write_all(self, bytes).await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        AsyncWriteExt::shutdown(self).await
    }
}
