//! The bare reference Telnet server: the least a server can do for the
//! benchmark's session. Not a honeypot; only a yardstick.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// BusyBox telnetd's opening, as the honeypot's default profile sends it.
const OPENING: &[u8] = b"\xff\xfd\x01\xff\xfd\x1f\xff\xfd\x21\xff\xfb\x01\xff\xfb\x03\r\nlogin: ";

/// Serve forever on `listener`.
pub async fn serve(listener: TcpListener) -> anyhow::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        tokio::spawn(session(stream));
    }
}

async fn session(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    if s.write_all(OPENING).await.is_err() {
        return;
    }
    let mut lines = 0u32;
    let mut buf = [0u8; 1024];
    loop {
        let n = match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if b == b'\n' {
                lines += 1;
                let reply: &[u8] = match lines {
                    1 => b"Password: ",
                    _ => b"\r\n# ",
                };
                if s.write_all(reply).await.is_err() {
                    return;
                }
            }
        }
    }
}
