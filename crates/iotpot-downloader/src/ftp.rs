//! A passive-mode FTP client for `ftpget`: USER/PASS, TYPE I, PASV (or
//! EPSV), RETR. The data connection goes to the *control connection's*
//! address whatever the server's PASV reply says, so a hostile server cannot
//! point the downloader at another host.

use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::url::Url;
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub async fn get(f: &Fetcher, url: &Url) -> Result<Fetched, FetchError> {
    let addr = f.resolve(url).await?;
    let s = TcpStream::connect(addr)
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))?;
    let mut ctl = BufReader::new(s);
    expect(&mut ctl, 2).await?;
    let user = url.user.clone().unwrap_or_else(|| "anonymous".into());
    let pass = url.password.clone().unwrap_or_else(|| "anonymous".into());
    command(&mut ctl, &format!("USER {user}")).await?;
    let code = reply(&mut ctl).await?.0;
    if code / 100 == 3 {
        command(&mut ctl, &format!("PASS {pass}")).await?;
        expect(&mut ctl, 2).await?;
    } else if code / 100 != 2 {
        return Err(FetchError::Protocol(format!("login refused ({code})")));
    }
    command(&mut ctl, "TYPE I").await?;
    expect(&mut ctl, 2).await?;
    command(&mut ctl, "PASV").await?;
    let (code, text) = reply(&mut ctl).await?;
    if code != 227 {
        return Err(FetchError::Protocol(format!("PASV refused ({code})")));
    }
    let port = pasv_port(&text).ok_or_else(|| FetchError::Protocol("bad PASV reply".into()))?;
    let data_addr = SocketAddr::new(addr.ip(), port);
    let mut data = TcpStream::connect(data_addr)
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))?;
    let path = url.path.trim_start_matches('/');
    command(&mut ctl, &format!("RETR {path}")).await?;
    let (code, text) = reply(&mut ctl).await?;
    if code / 100 != 1 && code / 100 != 2 {
        return Err(FetchError::Protocol(format!("RETR: {code} {text}")));
    }
    let mut bytes = Vec::new();
    let mut buf = [0u8; 16 << 10];
    loop {
        let n = data
            .read(&mut buf)
            .await
            .map_err(|e| FetchError::Protocol(e.to_string()))?;
        if n == 0 {
            break;
        }
        if bytes.len() as u64 + n as u64 > f.limits.max_bytes {
            return Err(FetchError::TooLarge(f.limits.max_bytes));
        }
        bytes.extend_from_slice(&buf[..n]);
    }
    let _ = command(&mut ctl, "QUIT").await;
    Ok(Fetched {
        bytes,
        final_url: url.to_string(),
        remote: addr,
        status: None,
    })
}

async fn command(ctl: &mut BufReader<TcpStream>, line: &str) -> Result<(), FetchError> {
    if line.contains(['\r', '\n']) {
        return Err(FetchError::Url("line break in an FTP argument".into()));
    }
    ctl.get_mut()
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))
}

/// One reply (multi-line replies included): its code and last line's text.
async fn reply(ctl: &mut BufReader<TcpStream>) -> Result<(u16, String), FetchError> {
    let mut lines = 0;
    loop {
        let mut line = String::new();
        let n = (&mut *ctl)
            .take(4096)
            .read_line(&mut line)
            .await
            .map_err(|e| FetchError::Protocol(e.to_string()))?;
        if n == 0 {
            return Err(FetchError::Protocol("control connection closed".into()));
        }
        lines += 1;
        if lines > 200 {
            return Err(FetchError::Protocol("reply too long".into()));
        }
        let b = line.as_bytes();
        if b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' ' {
            let code = line[..3].parse().unwrap_or(0);
            return Ok((code, line[4..].trim_end().to_string()));
        }
    }
}

async fn expect(ctl: &mut BufReader<TcpStream>, class: u16) -> Result<(), FetchError> {
    let (code, text) = reply(ctl).await?;
    if code / 100 != class {
        return Err(FetchError::Protocol(format!("{code} {text}")));
    }
    Ok(())
}

/// The port of `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`.
fn pasv_port(text: &str) -> Option<u16> {
    let inside = text.split_once('(')?.1.split_once(')')?.0;
    let nums: Vec<u16> = inside
        .split(',')
        .map(|n| n.trim().parse().ok())
        .collect::<Option<_>>()?;
    if nums.len() != 6 || nums.iter().any(|n| *n > 255) {
        return None;
    }
    Some(nums[4] * 256 + nums[5])
}

#[cfg(test)]
mod tests {
    #[test]
    fn pasv() {
        assert_eq!(
            super::pasv_port("Entering Passive Mode (127,0,0,1,4,1)."),
            Some(1025)
        );
        assert_eq!(
            super::pasv_port("Entering Passive Mode (127,0,0,1,4)"),
            None
        );
        assert_eq!(super::pasv_port("nonsense"), None);
    }
}
