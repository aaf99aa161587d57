//! A relayed connection as the central's services see it: the QUIC stream
//! a sensor opened for one attacker, read and written by the Telnet or
//! HTTP driver directly (no loopback socket in between). QUIC's own chunks
//! are handed over as they come: an idle session holds no buffer. When a
//! capture runs, what crosses the stream is reported to it
//! ([`iotpot_capture::tap`]), which writes it as the attacker's TCP
//! connection.

use crate::status::Counters;
use bytes::{Buf, Bytes};
use iotpot_capture::tap::Flow;
use iotpot_frontend::Conn;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The largest QUIC chunk taken at once.
const CHUNK: usize = 64 << 10;

pub struct Relayed {
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    /// What arrived and was not read yet.
    pending: Bytes,
    /// The attacker's side ended (finished, reset, or the link lost).
    ended: bool,
    /// The sensor's byte counts, added to when the connection ends.
    counters: Arc<Counters>,
    bytes_in: u64,
    bytes_out: u64,
    /// The capture's report of this connection, when a capture runs.
    tap: Option<Flow>,
}

impl Relayed {
    pub fn new(
        send: quinn::SendStream,
        recv: quinn::RecvStream,
        counters: Arc<Counters>,
        tap: Option<Flow>,
    ) -> Self {
        counters.connections.fetch_add(1, Ordering::Relaxed);
        Relayed {
            send,
            recv,
            pending: Bytes::new(),
            ended: false,
            counters,
            bytes_in: 0,
            bytes_out: 0,
            tap,
        }
    }
}

impl Drop for Relayed {
    fn drop(&mut self) {
        // Dropping the streams finishes the sending half and stops the
        // receiving one: the sensor closes the attacker's connection.
        self.counters
            .bytes_in
            .fetch_add(self.bytes_in, Ordering::Relaxed);
        self.counters
            .bytes_out
            .fetch_add(self.bytes_out, Ordering::Relaxed);
    }
}

impl Conn for Relayed {
    async fn readable(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() || self.ended {
            return Ok(());
        }
        // Cancel-safe: quinn's read_chunk takes nothing until it returns.
        match self.recv.read_chunk(CHUNK, true).await {
            Ok(Some(c)) => {
                self.bytes_in += c.bytes.len() as u64;
                if let Some(t) = &self.tap {
                    t.data(true, c.bytes.clone());
                }
                self.pending = c.bytes;
            }
            // Finished (the attacker half-closed), reset (their connection
            // was reset) or the link lost: the end of the input, as a TCP
            // socket's reset reads to the drivers.
            Ok(None) | Err(_) => {
                self.ended = true;
                if let Some(t) = &self.tap {
                    t.fin(true);
                }
            }
        }
        Ok(())
    }

    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            return if self.ended {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.advance(n);
        Ok(n)
    }

    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.send.write_all(bytes).await.map_err(io::Error::other)?;
        self.bytes_out += bytes.len() as u64;
        if let Some(t) = &self.tap {
            t.data(false, Bytes::copy_from_slice(bytes));
        }
        Ok(())
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.send.finish().map_err(io::Error::other)
    }
}
