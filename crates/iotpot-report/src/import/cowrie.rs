//! One line of cowrie's JSON log (`cowrie.json`) as iotpot's event, sans
//! I/O. Every line comes from a file an attacker wrote into (user names,
//! commands, URLs): a line that does not read is skipped with the reason,
//! never a panic.
//!
//! | cowrie | iotpot |
//! |---|---|
//! | `cowrie.session.connect` | `iotpot.session.connect` |
//! | `cowrie.session.params` | `iotpot.session.params` (profile `cowrie`, its `arch`) |
//! | `cowrie.login.success` / `.failed` | `iotpot.login.success` / `.failed` |
//! | `cowrie.command.input` | `iotpot.command.input` |
//! | `cowrie.command.failed` | `iotpot.command.unknown` |
//! | `cowrie.session.file_download` | `iotpot.download.requested` and `iotpot.download.success` |
//! | `cowrie.session.file_download.failed` | `iotpot.download.requested` and `iotpot.download.failed` |
//! | `cowrie.session.closed` | `iotpot.session.closed` (reason `client`) |
//!
//! Other cowrie events (client versions, key exchanges, TTY logs...) have
//! no iotpot counterpart and are skipped. Sessions keep cowrie's ids.

use iotpot_core::{Event, EventKind};
use serde_json::Value;
use std::net::IpAddr;

/// Why a line is not imported.
#[derive(Debug, PartialEq, Eq)]
pub enum Skip {
    /// Not a JSON object with cowrie's envelope (what is missing or wrong).
    Invalid(String),
    /// A cowrie event with no iotpot counterpart.
    Unmapped(String),
}

/// The iotpot events of one cowrie log line (one, or two for a download).
/// Each carries an import key derived from the line (as a replayed
/// sensor's spool does): a file imported twice is stored once.
pub fn events(line: &str) -> Result<Vec<Event>, Skip> {
    use sha2::Digest;
    let key = hex::encode(&sha2::Sha256::digest(line.as_bytes())[..12]);
    let v: Value =
        serde_json::from_str(line).map_err(|e| Skip::Invalid(format!("not JSON: {e}")))?;
    let text = |k: &str| -> Result<String, Skip> {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Skip::Invalid(format!("no {k:?}")))
    };
    let opt = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let eventid = text("eventid")?;
    let timestamp = time::OffsetDateTime::parse(
        &text("timestamp")?,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|e| Skip::Invalid(format!("timestamp: {e}")))?;
    let ip = |k: &str| -> Result<IpAddr, Skip> {
        text(k)?
            .parse()
            .map_err(|_| Skip::Invalid(format!("{k} is not an address")))
    };
    let port = |k: &str| {
        v.get(k)
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0)
    };
    let mut kinds = Vec::new();
    match eventid.as_str() {
        "cowrie.session.connect" => kinds.push(EventKind::SessionConnect {}),
        "cowrie.session.params" => kinds.push(EventKind::SessionParams {
            profile: "cowrie".into(),
            arch: opt("arch"),
            device_type: String::new(),
        }),
        "cowrie.login.success" => kinds.push(EventKind::LoginSuccess {
            username: opt("username"),
            password: opt("password"),
        }),
        "cowrie.login.failed" => kinds.push(EventKind::LoginFailed {
            username: opt("username"),
            password: opt("password"),
        }),
        "cowrie.command.input" => kinds.push(EventKind::CommandInput {
            input: opt("input"),
            known: true,
            // cowrie keeps what it answered in its TTY logs, not its JSON.
            output: String::new(),
            output_size: 0,
        }),
        "cowrie.command.failed" => kinds.push(EventKind::CommandUnknown {
            input: opt("input"),
        }),
        "cowrie.session.file_download" => {
            let url = opt("url");
            kinds.push(EventKind::DownloadRequested {
                url: url.clone(),
                tool: "cowrie".into(),
                outfile: opt("outfile"),
            });
            let shasum = text("shasum")?.to_lowercase();
            if shasum.len() != 64 || !shasum.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Skip::Invalid("shasum is not a SHA-256".into()));
            }
            kinds.push(EventKind::DownloadSuccess {
                final_url: url.clone(),
                url,
                outfile: opt("outfile"),
                shasum,
                size: v.get("size").and_then(Value::as_u64).unwrap_or(0),
                duplicate: false,
                remote: String::new(),
                parent: None,
            });
        }
        "cowrie.session.file_download.failed" => {
            let url = opt("url");
            kinds.push(EventKind::DownloadRequested {
                url: url.clone(),
                tool: "cowrie".into(),
                outfile: String::new(),
            });
            kinds.push(EventKind::DownloadFailed {
                url,
                reason: opt("message"),
            });
        }
        "cowrie.session.closed" => {
            let duration = v
                .get("duration")
                .and_then(Value::as_f64)
                .or_else(|| {
                    v.get("duration_ms")
                        .and_then(Value::as_f64)
                        .map(|ms| ms / 1000.0)
                })
                .filter(|d| d.is_finite() && *d >= 0.0)
                .unwrap_or(0.0);
            kinds.push(EventKind::SessionClosed {
                duration,
                reason: "client".into(),
                bytes_in: 0,
                bytes_out: 0,
            });
        }
        other => return Err(Skip::Unmapped(other.to_string())),
    }
    let session = text("session")?;
    if session.is_empty() || session.len() > 64 {
        return Err(Skip::Invalid("session id empty or over 64 bytes".into()));
    }
    let (src_ip, dst_ip) = (
        ip("src_ip")?,
        ip("dst_ip").unwrap_or(IpAddr::from([0, 0, 0, 0])),
    );
    let protocol = match v.get("protocol").and_then(Value::as_str) {
        Some("ssh") => "ssh",
        _ => "telnet",
    };
    Ok(kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Event {
            timestamp,
            session: session.clone(),
            src_ip,
            src_port: port("src_port"),
            dst_ip,
            dst_port: port("dst_port"),
            sensor: opt("sensor"),
            protocol: protocol.into(),
            spool_id: Some(format!("cowrie-{key}-{i}")),
            kind,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGIN: &str = r#"{"session":"0f873fa098e4","protocol":"telnet","src_ip":"127.0.0.1","src_port":41332,"dst_ip":"127.0.0.1","dst_port":34195,"username":"root","password":"xc3511","eventid":"cowrie.login.success","sensor":"vm","timestamp":"2026-12-02T04:28:32.254123Z"}"#;

    #[test]
    fn a_cowrie_login_is_an_iotpot_login() {
        let e = events(LOGIN).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind.eventid(), "iotpot.login.success");
        assert_eq!(e[0].session, "0f873fa098e4");
        assert_eq!(e[0].sensor, "vm");
        assert_eq!(e[0].src_port, 41332);
    }

    #[test]
    fn what_does_not_read_is_skipped() {
        assert!(matches!(events("{"), Err(Skip::Invalid(_))));
        assert!(matches!(events("[]"), Err(Skip::Invalid(_))));
        assert_eq!(
            events(&LOGIN.replace("cowrie.login.success", "cowrie.client.version")),
            Err(Skip::Unmapped("cowrie.client.version".into()))
        );
        assert!(matches!(
            events(&LOGIN.replace("127.0.0.1\",\"src_port", "x\",\"src_port")),
            Err(Skip::Invalid(_))
        ));
    }
}
