//! A TFTP read-request client (RFC 1350, octet mode): what `tftp -g` does.
//! No crate fits, and this one is small: RRQ, DATA/ACK in lock-step with
//! the server's transfer port, retransmission on timeout, a size limit.

use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::url::Url;
use std::time::Duration;
use tokio::net::UdpSocket;

const RRQ: u16 = 1;
const DATA: u16 = 3;
const ACK: u16 = 4;
const ERROR: u16 = 5;
const BLOCK: usize = 512;
const RETRIES: u32 = 4;
const PACKET_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn get(f: &Fetcher, url: &Url) -> Result<Fetched, FetchError> {
    let server = f.resolve(url).await?;
    let bind = if server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = UdpSocket::bind(bind)
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))?;
    let file = url.path.trim_start_matches('/');
    if file.is_empty() || file.len() > 255 {
        return Err(FetchError::Url("no file name".into()));
    }
    let mut rrq = Vec::with_capacity(file.len() + 10);
    rrq.extend_from_slice(&RRQ.to_be_bytes());
    rrq.extend_from_slice(file.as_bytes());
    rrq.push(0);
    rrq.extend_from_slice(b"octet\0");
    let mut last_sent = rrq;
    let mut dest = server;
    let mut peer = None;
    let mut expected: u16 = 1;
    let mut data = Vec::new();
    let mut buf = [0u8; 4 + BLOCK + 64];
    sock.send_to(&last_sent, dest)
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))?;
    let mut tries = 0;
    loop {
        let (n, from) = match tokio::time::timeout(PACKET_TIMEOUT, sock.recv_from(&mut buf)).await {
            Ok(r) => r.map_err(|e| FetchError::Connect(e.to_string()))?,
            Err(_) => {
                tries += 1;
                if tries > RETRIES {
                    return Err(FetchError::Timeout);
                }
                sock.send_to(&last_sent, dest)
                    .await
                    .map_err(|e| FetchError::Connect(e.to_string()))?;
                continue;
            }
        };
        // Only the server's address, and once chosen only its transfer port.
        if from.ip() != server.ip() || peer.is_some_and(|p| p != from) {
            continue;
        }
        let pkt = &buf[..n];
        if pkt.len() < 4 {
            continue;
        }
        let op = u16::from_be_bytes([pkt[0], pkt[1]]);
        match op {
            DATA => {
                peer.get_or_insert(from);
                dest = from;
                let block = u16::from_be_bytes([pkt[2], pkt[3]]);
                let payload = &pkt[4..];
                if block == expected {
                    if data.len() as u64 + payload.len() as u64 > f.limits.max_bytes {
                        let _ = sock.send_to(&error_packet(3, "Disk full"), dest).await;
                        return Err(FetchError::TooLarge(f.limits.max_bytes));
                    }
                    data.extend_from_slice(payload);
                    expected = expected.wrapping_add(1);
                    tries = 0;
                }
                let mut ack = ACK.to_be_bytes().to_vec();
                ack.extend_from_slice(&block.to_be_bytes());
                sock.send_to(&ack, dest)
                    .await
                    .map_err(|e| FetchError::Connect(e.to_string()))?;
                last_sent = ack;
                if block == expected.wrapping_sub(1) && payload.len() < BLOCK {
                    return Ok(Fetched {
                        bytes: data,
                        final_url: url.to_string(),
                        remote: from,
                        status: None,
                    });
                }
            }
            ERROR => {
                let msg = String::from_utf8_lossy(&pkt[4..])
                    .trim_end_matches('\0')
                    .to_string();
                return Err(FetchError::Protocol(format!("server error: {msg}")));
            }
            _ => {}
        }
    }
}

fn error_packet(code: u16, msg: &str) -> Vec<u8> {
    let mut p = ERROR.to_be_bytes().to_vec();
    p.extend_from_slice(&code.to_be_bytes());
    p.extend_from_slice(msg.as_bytes());
    p.push(0);
    p
}
