//! The Mirai-style load generator.

use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How long one step may wait for its prompt before the session fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Scenario {
    pub target: SocketAddr,
    pub username: String,
    pub password: String,
    /// Require `ECCHI: applet not found` (off for the bare reference).
    pub expect_busybox: bool,
}

/// Results of a closed-loop run.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    pub concurrency: usize,
    pub seconds: f64,
    pub sessions: u64,
    pub failed: u64,
    pub sessions_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The server process's CPU time (user + system, all its threads) per
    /// completed session, in microseconds: the figure that least depends on
    /// how fast the machine happened to be during the run. `None` without a
    /// process id.
    pub server_cpu_us_per_session: Option<f64>,
    /// Every completed session's latency, sorted: what [`LoadResult::merge`]
    /// pools (not written out).
    #[serde(skip)]
    pub latencies: Vec<Duration>,
}

impl LoadResult {
    /// Pool another run at the same concurrency into this one: sessions,
    /// failures and seconds add up, the percentiles are those of every
    /// latency of both, and the server's CPU per session is weighted by
    /// the sessions of each.
    pub fn merge(&mut self, other: LoadResult) {
        self.server_cpu_us_per_session = match (
            self.server_cpu_us_per_session,
            other.server_cpu_us_per_session,
        ) {
            (Some(a), Some(b)) => {
                let (na, nb) = (self.sessions as f64, other.sessions as f64);
                Some(if na + nb > 0.0 {
                    (a * na + b * nb) / (na + nb)
                } else {
                    0.0
                })
            }
            (a, b) => a.or(b),
        };
        self.seconds += other.seconds;
        self.failed += other.failed;
        self.latencies.extend(other.latencies);
        self.latencies.sort_unstable();
        self.sessions = self.latencies.len() as u64;
        self.sessions_per_sec = self.sessions as f64 / self.seconds.max(1e-9);
        self.p50_ms = percentile_ms(&self.latencies, 0.50);
        self.p99_ms = percentile_ms(&self.latencies, 0.99);
    }
}

/// The `p` percentile (nearest rank) of sorted latencies, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// Mirai's prompt test: the last non-blank byte is one of `: > $ # %`.
fn is_prompt(buf: &[u8]) -> bool {
    buf.iter()
        .rev()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0))
        .is_some_and(|b| matches!(b, b':' | b'>' | b'$' | b'#' | b'%'))
}

/// Answer Telnet negotiation the way Mirai's scanner does, and strip it.
/// Returns the application data.
fn negotiate(input: &[u8], reply: &mut Vec<u8>) -> Vec<u8> {
    let mut data = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == 0xff && i + 1 < input.len() {
            match input[i + 1] {
                0xfd if i + 2 < input.len() => {
                    let opt = input[i + 2];
                    if opt == 31 {
                        reply.extend_from_slice(&[
                            0xff, 0xfb, 31, 0xff, 0xfa, 31, 0, 80, 0, 24, 0xff, 0xf0,
                        ]);
                    } else {
                        reply.extend_from_slice(&[0xff, 0xfc, opt]);
                    }
                    i += 3;
                }
                0xfb if i + 2 < input.len() => {
                    reply.extend_from_slice(&[0xff, 0xfd, input[i + 2]]);
                    i += 3;
                }
                0xfc | 0xfe if i + 2 < input.len() => i += 3,
                0xff => {
                    data.push(0xff);
                    i += 2;
                }
                _ => i += 2,
            }
        } else {
            data.push(input[i]);
            i += 1;
        }
    }
    data
}

struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn connect(target: SocketAddr) -> anyhow::Result<Conn> {
        let sock = if target.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // Close with RST: a load generator must not fill the port range
        // with TIME_WAIT sockets.
        sock.set_zero_linger()?;
        let s = sock.connect(target).await?;
        s.set_nodelay(true)?;
        Ok(Conn {
            s,
            buf: Vec::with_capacity(4096),
        })
    }

    /// Read until a prompt (and `must`, if given) has arrived.
    async fn until_prompt(&mut self, must: Option<&[u8]>) -> anyhow::Result<()> {
        self.buf.clear();
        let mut chunk = [0u8; 8192];
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let n = tokio::time::timeout(left, self.s.read(&mut chunk)).await??;
            if n == 0 {
                anyhow::bail!("connection closed");
            }
            let mut reply = Vec::new();
            let data = negotiate(&chunk[..n], &mut reply);
            if !reply.is_empty() {
                self.s.write_all(&reply).await?;
            }
            self.buf.extend_from_slice(&data);
            if self.buf.windows(8).any(|w| w == b"ncorrect") {
                anyhow::bail!("login refused");
            }
            let found = must.is_none_or(|m| self.buf.windows(m.len()).any(|w| w == m));
            if found && is_prompt(&self.buf) {
                return Ok(());
            }
        }
    }

    async fn send(&mut self, line: &str) -> anyhow::Result<()> {
        self.s.write_all(line.as_bytes()).await?;
        self.s.write_all(b"\r\n").await?;
        Ok(())
    }
}

impl Scenario {
    /// Connect and log in; the connection is left at the shell prompt.
    async fn login(&self) -> anyhow::Result<Conn> {
        let mut c = Conn::connect(self.target).await?;
        c.until_prompt(None).await?;
        c.send(&self.username).await?;
        c.until_prompt(None).await?;
        c.send(&self.password).await?;
        c.until_prompt(None).await?;
        Ok(c)
    }

    /// One whole session, as Mirai's scanner and loader start it.
    pub async fn session(&self) -> anyhow::Result<()> {
        let mut c = self.login().await?;
        c.send("enable").await?;
        c.until_prompt(None).await?;
        c.send("/bin/busybox ECCHI").await?;
        let token: &[u8] = b"ECCHI: applet not found";
        c.until_prompt(self.expect_busybox.then_some(token)).await?;
        c.send("cat /proc/cpuinfo").await?;
        c.until_prompt(None).await?;
        Ok(())
    }

    /// Closed loop: `concurrency` clients each running sessions back to back
    /// for `duration`.
    pub async fn closed_loop(&self, concurrency: usize, duration: Duration) -> LoadResult {
        let start = Instant::now();
        let deadline = start + duration;
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let sc = self.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut failed = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match sc.session().await {
                        Ok(()) => lat.push(t.elapsed()),
                        Err(_) => failed += 1,
                    }
                }
                (lat, failed)
            }));
        }
        let mut lat = Vec::new();
        let mut failed = 0;
        for t in tasks {
            if let Ok((l, f)) = t.await {
                lat.extend(l);
                failed += f;
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        lat.sort_unstable();
        LoadResult {
            concurrency,
            seconds,
            sessions: lat.len() as u64,
            failed,
            sessions_per_sec: lat.len() as f64 / seconds,
            p50_ms: percentile_ms(&lat, 0.50),
            p99_ms: percentile_ms(&lat, 0.99),
            server_cpu_us_per_session: None,
            latencies: lat,
        }
    }

    /// Open `n` logged-in sessions and keep them. Returns the connections
    /// (drop them to close) and how many failed.
    pub async fn idle_sessions(&self, n: usize) -> (Vec<impl Sized>, usize) {
        let mut conns = Vec::with_capacity(n);
        let mut failed = 0;
        let mut pending = Vec::new();
        for i in 0..n {
            let sc = self.clone();
            pending.push(tokio::spawn(async move { sc.login().await }));
            // Open in waves so the listen backlog never overflows.
            if pending.len() == 200 || i + 1 == n {
                for p in pending.drain(..) {
                    match p.await {
                        Ok(Ok(c)) => conns.push(c),
                        _ => failed += 1,
                    }
                }
            }
        }
        (conns, failed)
    }
}

/// Resident set size of a process, in KiB (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time a process has used so far, user and system, all threads
/// (Linux `/proc/PID/stat`, in clock ticks of 1/100 s).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, field 2, may hold spaces and parentheses: count
    // the fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_ascii_whitespace();
    // `rest` starts at field 3 (state); utime and stime are fields 14, 15.
    let utime: u64 = f.nth(11)?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    // USER_HZ is 100 on every architecture Linux exports it for.
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_cpu_time() {
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let t = cpu_time(std::process::id()).expect("/proc/self/stat");
        assert!(t >= Duration::from_millis(20), "{t:?}");
    }

    fn run(ms: &[u64], seconds: f64, cpu: Option<f64>) -> LoadResult {
        let latencies: Vec<Duration> = ms.iter().map(|&m| Duration::from_millis(m)).collect();
        LoadResult {
            concurrency: 2,
            seconds,
            sessions: latencies.len() as u64,
            failed: 1,
            sessions_per_sec: latencies.len() as f64 / seconds,
            p50_ms: percentile_ms(&latencies, 0.5),
            p99_ms: percentile_ms(&latencies, 0.99),
            server_cpu_us_per_session: cpu,
            latencies,
        }
    }

    #[test]
    fn merged_runs_pool_their_sessions_and_latencies() {
        // One fast round and one slow: the pooled median falls between,
        // the pooled p99 is the slow round's tail, the rate is the sum
        // over the time of both, the CPU weighted by sessions.
        let mut a = run(&[1, 2, 3, 4], 1.0, Some(100.0));
        a.merge(run(&[10, 20, 30, 40, 50, 60], 2.0, Some(200.0)));
        assert_eq!(a.sessions, 10);
        assert_eq!(a.failed, 2);
        assert_eq!(a.seconds, 3.0);
        assert!((a.sessions_per_sec - 10.0 / 3.0).abs() < 1e-9);
        assert_eq!(a.p50_ms, 10.0);
        assert_eq!(a.p99_ms, 60.0);
        assert_eq!(a.server_cpu_us_per_session, Some(160.0));
        let mut b = run(&[5], 1.0, None);
        b.merge(run(&[7], 1.0, Some(50.0)));
        assert_eq!(b.server_cpu_us_per_session, Some(50.0));
    }

    #[test]
    fn mirai_prompt_rule() {
        assert!(is_prompt(b"\r\nlogin: "));
        assert!(is_prompt(b"root@x:~# \0"));
        assert!(!is_prompt(b"enable\r\n"));
    }

    #[test]
    fn answers_like_mirai() {
        let mut reply = Vec::new();
        let data = negotiate(b"\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x03login: ", &mut reply);
        assert_eq!(data, b"login: ");
        assert_eq!(
            reply,
            b"\xff\xfc\x01\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0\xff\xfd\x03"
        );
    }
}
