//! Honeytokens: bait credentials a device leaks, and the alarm when they
//! come back.
//!
//! The IoTPOT paper's DVR served a `DVR.cfg` holding credentials, and its
//! camera showed a user name and password in the picture; attackers later
//! logged in with them. Here every bait is generated per deployment (from
//! [`Deployment`], so two honeypots never share them and a restart keeps
//! them), shown by the services that leak it (`{ht.dvr.password}`-style
//! placeholders in a profile's pages and video caption), and checked on
//! every login and command of every service. A match is an
//! [`EventKind::HoneytokenUsed`] that names the session which received the
//! bait.

use crate::deployment::Deployment;
use crate::event::{timestamp, EventKind};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use time::OffsetDateTime;

/// One bait credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// `dvr`, `pppoe`, `ftp`, `mail`, `video`.
    pub name: &'static str,
    /// Where it is shown: `dvr.cfg` or `video`.
    pub source: &'static str,
    pub user: String,
    pub password: String,
}

/// A session that received a bait.
#[derive(Debug, Clone)]
struct Leak {
    session: String,
    src: IpAddr,
    at: OffsetDateTime,
}

/// Leaks remembered per source of bait.
const MAX_LEAKS: usize = 256;

/// The deployment's bait credentials and who received them.
#[derive(Debug)]
pub struct Honeytokens {
    tokens: Vec<Token>,
    leaks: Mutex<HashMap<&'static str, VecDeque<Leak>>>,
}

/// Letters that read unambiguously in a camera picture: no i/l/1, o/0, g/q.
const CLEAR: &[u8] = b"abcdefhjkmnprstuvwxyz23456789";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn word(d: &Deployment, key: &str, alphabet: &[u8], len: usize) -> String {
    let mut out = String::new();
    let mut i = 0u32;
    while out.len() < len {
        let mut r = d.derive("honeytoken", &format!("{key}/{i}"));
        for _ in 0..8 {
            if out.len() == len {
                break;
            }
            out.push(alphabet[(r % alphabet.len() as u64) as usize] as char);
            r /= alphabet.len() as u64;
        }
        i += 1;
    }
    out
}

impl Honeytokens {
    pub fn new(d: &Deployment) -> Honeytokens {
        let n = |key: &str, m: u64| d.derive("honeytoken", key) % m;
        let tokens = vec![
            Token {
                name: "dvr",
                source: "dvr.cfg",
                user: "admin".into(),
                password: word(d, "dvr", ALNUM, 10),
            },
            Token {
                name: "pppoe",
                source: "dvr.cfg",
                user: format!("ad{:08}", n("pppoe-user", 100_000_000)),
                password: word(d, "pppoe", ALNUM, 10),
            },
            Token {
                name: "ftp",
                source: "dvr.cfg",
                user: format!("dvrftp{:02}", n("ftp-user", 100)),
                password: word(d, "ftp", ALNUM, 10),
            },
            Token {
                name: "mail",
                source: "dvr.cfg",
                user: format!("dvralarm{:03}", n("mail-user", 1000)),
                password: word(d, "mail", ALNUM, 10),
            },
            Token {
                name: "video",
                source: "video",
                user: "admin".into(),
                password: word(d, "video", CLEAR, 9),
            },
        ];
        Honeytokens {
            tokens,
            leaks: Mutex::new(HashMap::new()),
        }
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    pub fn get(&self, name: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.name == name)
    }

    /// Fill `{ht.NAME.user}` and `{ht.NAME.password}` placeholders.
    pub fn fill(&self, template: &str) -> String {
        if !template.contains("{ht.") {
            return template.to_string();
        }
        let mut s = template.to_string();
        for t in &self.tokens {
            s = s
                .replace(&format!("{{ht.{}.user}}", t.name), &t.user)
                .replace(&format!("{{ht.{}.password}}", t.name), &t.password);
        }
        s
    }

    /// A session received the bait of `source` (`dvr.cfg`, `video`).
    pub fn leaked(&self, source: &'static str, session: &str, src: IpAddr) {
        let mut leaks = self.leaks.lock().unwrap_or_else(|e| e.into_inner());
        let q = leaks.entry(source).or_default();
        if q.len() >= MAX_LEAKS {
            q.pop_front();
        }
        q.push_back(Leak {
            session: session.to_string(),
            src,
            at: OffsetDateTime::now_utc(),
        });
    }

    /// A login attempt (any service): the alarm if the password is a bait.
    pub fn check_login(
        &self,
        user: &str,
        password: &str,
        via: &str,
        src: IpAddr,
    ) -> Option<EventKind> {
        let t = self.bait_password(password)?;
        Some(self.used(t, user, password, via, src))
    }

    fn bait_password(&self, password: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.password == password)
    }

    /// A command line or payload: the alarm if it holds a bait password.
    pub fn check_text(&self, text: &[u8], via: &str, src: IpAddr) -> Option<EventKind> {
        let (t, user) = self.bait_in(text)?;
        Some(self.used(t, &user, &t.password, via, src))
    }

    /// The bait a text holds, and its user name if the text holds that too.
    fn bait_in(&self, text: &[u8]) -> Option<(&Token, String)> {
        let t = self.tokens.iter().find(|t| {
            text.windows(t.password.len())
                .any(|w| w == t.password.as_bytes())
        })?;
        let user = if text.windows(t.user.len()).any(|w| w == t.user.as_bytes()) {
            t.user.clone()
        } else {
            String::new()
        };
        Some((t, user))
    }

    /// The alarms raised by a session's events: logins (`PROTOCOL-login`)
    /// and command lines (`PROTOCOL-command`) that use a bait. (The
    /// service's name is put together only for an alarm: this runs for
    /// every line of every Telnet session.)
    pub fn scan(&self, events: &[EventKind], protocol: &str, src: IpAddr) -> Vec<EventKind> {
        events
            .iter()
            .filter_map(|e| match e {
                EventKind::LoginSuccess { username, password }
                | EventKind::LoginFailed { username, password } => {
                    let t = self.bait_password(password)?;
                    let via = [protocol, "-login"].concat();
                    Some(self.used(t, username, password, &via, src))
                }
                EventKind::CommandInput { input, .. } => {
                    let (t, user) = self.bait_in(input.as_bytes())?;
                    let via = [protocol, "-command"].concat();
                    Some(self.used(t, &user, &t.password, &via, src))
                }
                _ => None,
            })
            .collect()
    }

    fn used(&self, t: &Token, user: &str, password: &str, via: &str, src: IpAddr) -> EventKind {
        let leak = {
            let leaks = self.leaks.lock().unwrap_or_else(|e| e.into_inner());
            leaks.get(t.source).and_then(|q| {
                q.iter()
                    .rev()
                    .find(|l| l.src == src)
                    .or_else(|| q.back())
                    .cloned()
            })
        };
        EventKind::HoneytokenUsed {
            token: t.name.to_string(),
            source: t.source.to_string(),
            via: via.to_string(),
            username: user.to_string(),
            password: password.to_string(),
            human_watching: t.source == "video",
            leaked_session: leak.as_ref().map(|l| l.session.clone()),
            leaked_src: leak.as_ref().map(|l| l.src.to_string()),
            leaked_at: leak.as_ref().map(|l| timestamp::format(&l.at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baits_differ_per_deployment_and_are_found_again() {
        let a = Honeytokens::new(&Deployment::from_seed([1; 32]));
        let b = Honeytokens::new(&Deployment::from_seed([2; 32]));
        assert_ne!(a.get("dvr"), b.get("dvr"));
        assert_eq!(
            a.get("dvr"),
            Honeytokens::new(&Deployment::from_seed([1; 32])).get("dvr")
        );
        let dvr = a.get("dvr").unwrap().clone();
        let filled = a.fill("user={ht.dvr.user} pass={ht.dvr.password}");
        assert_eq!(filled, format!("user=admin pass={}", dvr.password));
        let src: IpAddr = "203.0.113.5".parse().unwrap();
        assert!(a
            .check_login("admin", "admin", "telnet-login", src)
            .is_none());
        a.leaked("dvr.cfg", "s1", "198.51.100.1".parse().unwrap());
        a.leaked("dvr.cfg", "s2", src);
        a.leaked("dvr.cfg", "s3", "198.51.100.3".parse().unwrap());
        let Some(EventKind::HoneytokenUsed {
            token,
            leaked_session,
            human_watching,
            ..
        }) = a.check_login("admin", &dvr.password, "http-basic", src)
        else {
            panic!("not found")
        };
        assert_eq!(token, "dvr");
        assert_eq!(leaked_session.as_deref(), Some("s2"), "same source first");
        assert!(!human_watching);
        let video = a.get("video").unwrap().password.clone();
        let line = format!("ftpget -u admin -p {video} 1.2.3.4 x");
        let Some(EventKind::HoneytokenUsed {
            human_watching,
            leaked_session,
            username,
            ..
        }) = a.check_text(line.as_bytes(), "command", src)
        else {
            panic!("not found")
        };
        assert!(human_watching);
        assert_eq!(leaked_session, None);
        assert_eq!(username, "admin");
    }
}
