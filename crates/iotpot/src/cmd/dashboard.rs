//! `iotpot dashboard`: the report's sections, the live session list and
//! every session's transcript in a browser, from the store. The pages are
//! `iotpot_report::dashboard`'s; this file holds the socket, TLS, the token
//! and the store's connections.

use iotpot_report::dashboard::{Dashboard, Response};
use iotpot_store::sql::Db;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

#[derive(clap::Args)]
pub struct DashboardArgs {
    /// Where to listen. Loopback by default; any other address also needs
    /// `--tls-cert`/`--tls-key` or `--insecure-http`.
    #[arg(long, default_value = "127.0.0.1:8088")]
    listen: SocketAddr,
    /// Seconds between the page's refreshes.
    #[arg(long, default_value_t = 5)]
    refresh: u32,
    /// Serve HTTPS with this certificate chain (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (the token and every page
    /// cross the network readable: only behind a TLS proxy or on a trusted
    /// network).
    #[arg(long)]
    insecure_http: bool,
}

/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 64;
/// Time to send a whole request head (the next one's included), and to
/// finish a TLS handshake.
const HEAD_TIMEOUT: Duration = Duration::from_secs(15);
/// Requests on one connection before it is closed.
const MAX_REQUESTS: usize = 1000;

pub fn run(a: DashboardArgs, path: Option<&Path>) -> anyhow::Result<()> {
    let config = super::load_config(path)?;
    super::run::init_logging(&config.log.level);
    if !a.listen.ip().is_loopback() && a.tls_cert.is_none() && !a.insecure_http {
        anyhow::bail!(
            "{} is not a loopback address: give --tls-cert and --tls-key, or --insecure-http \
             to send the token and the pages in clear",
            a.listen
        );
    }
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some(tls_acceptor(c, k)?),
        _ => None,
    };
    // The rollups the sections read, brought up to date now (a store an
    // older iotpot wrote); from then on `iotpot run`'s writer keeps them.
    let db = Arc::new(Store {
        path: config.data_dir.join("iotpot.db"),
        postgres: config.store.postgres.clone(),
        idle: std::sync::Mutex::new(Vec::new()),
    });
    if config.store.postgres.is_empty() {
        drop(super::report::open_rolled_up(path)?);
    } else {
        // Its writer keeps PostgreSQL's rollups from the first event; this
        // checks the server answers before the dashboard says it runs.
        db.give_back(db.take()?);
    }
    let token = token()?;
    let dashboard = Arc::new(Dashboard::new(token.clone(), a.refresh, tls.is_some()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .map_err(|e| anyhow::anyhow!("listening on {}: {e}", a.listen))?;
        let local = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("iotpot dashboard: {scheme}://{local}/?token={token}");
        use std::io::Write;
        std::io::stdout().flush()?;
        tracing::info!(address = %local, "dashboard listening (Ctrl-C or SIGTERM to stop)");
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        loop {
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => p?,
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
            };
            let (stream, peer) = tokio::select! {
                _ = term.recv() => break,
                r = listener.accept() => match r {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "dashboard: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = tokio::signal::ctrl_c() => break,
            };
            let (dashboard, db, tls) = (dashboard.clone(), db.clone(), tls.clone());
            tokio::spawn(async move {
                let served = match tls {
                    Some(acceptor) => {
                        match tokio::time::timeout(HEAD_TIMEOUT, acceptor.accept(stream)).await {
                            Ok(Ok(s)) => serve(s, &dashboard, &db).await,
                            Ok(Err(e)) => Err(e),
                            Err(_) => Ok(()),
                        }
                    }
                    None => serve(stream, &dashboard, &db).await,
                };
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "dashboard: connection ended");
                }
                drop(permit);
            });
        }
        anyhow::Ok(())
    })
}

/// Requests on one connection, answered in turn until it closes, idles or
/// sends something that is not a request.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    dashboard: &Arc<Dashboard>,
    db: &Arc<Store>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    for _ in 0..MAX_REQUESTS {
        // The whole head within the time, however slowly it trickles.
        let deadline = tokio::time::Instant::now() + HEAD_TIMEOUT;
        let (req, used) = loop {
            match iotpot_wire::http::parse_head(&buf) {
                Ok(Some(r)) => break r,
                Ok(None) => {}
                Err(e) => {
                    let r = Response::plain(400, &format!("not a request: {e:?}"));
                    s.write_all(&r.to_bytes(false, false)).await?;
                    return Ok(());
                }
            }
            let mut chunk = [0u8; 4096];
            let n = match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
                Ok(r) => r?,
                Err(_) => return Ok(()),
            };
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        buf.drain(..used);
        // A GET has no body; one that announces one is not read.
        let body =
            req.content_length().unwrap_or(0) > 0 || req.header("transfer-encoding").is_some();
        let keep = req.keep_alive() && !body;
        let head_only = req.method == "HEAD";
        let (d, db) = (dashboard.clone(), db.clone());
        let r = tokio::task::spawn_blocking(move || match db.take() {
            Ok(conn) => {
                let r = d.answer(&*conn, &req);
                db.give_back(conn);
                r
            }
            Err(e) => Response::plain(500, &format!("cannot read the store: {e}")),
        })
        .await
        .unwrap_or_else(|e| Response::plain(500, &format!("the page failed: {e}")));
        s.write_all(&r.to_bytes(keep, head_only)).await?;
        if !keep {
            break;
        }
    }
    s.shutdown().await
}

/// The store's read connections (`iotpot.db`, or `[store] postgres` when
/// set), kept between requests (each keeps its prepared statements: a
/// refresh does not connect and parse again), at most [`IDLE_CONNECTIONS`]
/// of them idle.
struct Store {
    path: PathBuf,
    postgres: String,
    idle: std::sync::Mutex<Vec<Box<dyn Db + Send>>>,
}

const IDLE_CONNECTIONS: usize = 4;

impl Store {
    fn take(&self) -> anyhow::Result<Box<dyn Db + Send>> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        match idle {
            Some(c) => Ok(c),
            None if self.postgres.is_empty() => {
                Ok(Box::new(iotpot_store::sqlite::open_read(&self.path)?))
            }
            None => super::postgres_reader(&self.postgres),
        }
    }

    fn give_back(&self, conn: Box<dyn Db + Send>) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_CONNECTIONS {
                idle.push(conn);
            }
        }
    }
}

/// The token every request needs: `IOTPOT_DASHBOARD_TOKEN` when set (at
/// least 16 characters), else 128 random bits.
fn token() -> anyhow::Result<String> {
    if let Ok(t) = std::env::var("IOTPOT_DASHBOARD_TOKEN") {
        if t.len() < 16
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            anyhow::bail!("IOTPOT_DASHBOARD_TOKEN must be at least 16 letters, digits, - or _");
        }
        return Ok(t);
    }
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness for the token: {e}"))?;
    Ok(hex::encode(b))
}

fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("reading the certificate {}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("reading the key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| anyhow::anyhow!("the certificate and key do not make a TLS server: {e}"))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
